"""Hidden cases of unit 04, augmentation (not in the student release)."""

from ..spec import Case


def flip_cases(distinct_images):
    return [Case("images (500, 3, 2, 5), p=0.8", (distinct_images(101, (500, 3, 2, 5)),),
                 {"p": 0.8})]


def crop_cases(distinct_images):
    return [Case("images (900, 1, 6, 4), size=4, padding=2",
                 (distinct_images(111, (900, 1, 6, 4)),), {"size": 4, "padding": 2})]


def jitter_cases(distinct_images):
    return [Case("brightness=0.1, contrast=0.2, saturation=0.9, images (500, 2, 2, 5)",
                 (distinct_images(121, (500, 2, 2, 5), 0.2, 0.8),),
                 {"brightness": 0.1, "contrast": 0.2, "saturation": 0.9})]


def cutout_cases(distinct_images):
    return [Case("images (1400, 2, 7, 4), size=5", (distinct_images(131, (1400, 2, 7, 4)),),
                 {"size": 5})]


def mixup_cases(mixup_inputs):
    return [Case("images (12, 3, 2, 2), targets (12, 5), alpha=1",
                 mixup_inputs(141, (12, 3, 2, 2), 5), {"alpha": 1.0})]
