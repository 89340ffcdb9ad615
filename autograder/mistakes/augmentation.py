"""Known mistakes of unit 04, ``augmentation``: wrong variants with the signature of the function
they imitate. The hints are decided by the spec from the student's outputs, so the descriptions
are the spec's. Each is recognised by the tests (tests/test_hints.py). Those that raise on the
grader's inputs (``_raising``) are the reference with one edit, and give their own hints.
"""

import numpy as np

from ..specs import augmentation as spec


def _flip(images, *, p=0.5, rng, how):
    N = images.shape[0]
    if how == "batch":
        flip = np.full(N, rng.random() < p)
    elif how == "keep":
        flip = rng.random(N) >= p
    else:
        flip = rng.random(N) < p
    source = images[:, :, ::-1, :] if how == "rows" else images[:, :, :, ::-1]
    return np.where(flip[:, None, None, None], source, images)


def _crop(images, *, size, padding=0, rng, how):
    N, C, H, W = images.shape
    if how == "no_pad":
        padded, Hp, Wp = images, H, W
    else:
        padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        Hp, Wp = H + 2 * padding, W + 2 * padding
    extra = 0 if how == "off_by_one" else 1
    tops = rng.integers(0, Hp - size + extra, N)
    lefts = rng.integers(0, (Hp if how == "square" else Wp) - size + extra, N)
    if how == "shared":
        tops, lefts = np.full(N, tops[0]), np.full(N, lefts[0])
    return np.stack([padded[n, :, i:i + size, j:j + size] for n, i, j in zip(range(N), tops,
                                                                               lefts)])


def _jitter(images, *, brightness=0.0, contrast=0.0, saturation=0.0, rng, how):
    N = images.shape[0]

    def factors(v):
        if how == "batch":
            return np.full((N, 1, 1, 1), rng.uniform(1 - v, 1 + v))
        if how == "range":
            return rng.uniform(1, 1 + v, N).reshape(N, 1, 1, 1)
        return rng.uniform(1 - v, 1 + v, N).reshape(N, 1, 1, 1)

    b, c, s = factors(brightness), factors(contrast), factors(saturation)
    out = images + (b - 1) if how == "additive" else b * images
    axes = (2, 3) if how == "channel_mean" else (1, 2, 3)
    m = (images if how == "mean_first" else out).mean(axis=axes, keepdims=True)
    out = m + c * (out - m)
    grey_of = {"grey_first": images, "grey_between": b * images}.get(how, out)
    g = grey_of.mean(axis=1, keepdims=True)
    out = g + s * (out - g)
    return np.clip(out, 0, 1) if how == "clipped" else out


def _cutout(images, *, size, rng, how):
    N, C, H, W = images.shape
    out = images.copy()
    for n in range(N):
        if how == "inside":
            cy = rng.integers(size // 2, H - size + size // 2 + 1)
            cx = rng.integers(size // 2, W - size + size // 2 + 1)
        elif how == "off_by_one":
            cy, cx = rng.integers(0, H - 1), rng.integers(0, W - 1)
        elif how == "square":
            cy, cx = rng.integers(0, H), rng.integers(0, H)
        else:
            cy, cx = rng.integers(0, H), rng.integers(0, W)
        top = cy if how == "corner" else cy - size // 2
        left = cx if how == "corner" else cx - size // 2
        channels = slice(0, 1) if how == "one_channel" else slice(None)
        if how == "negative":  # no clipping: a negative start wraps around
            out[n, channels, top:top + size, left:left + size] = 0
            continue
        out[n, channels, max(top, 0):max(top + size, 0), max(left, 0):max(left + size, 0)] = 0
    return out


def _mixup(images, targets, *, alpha, rng, how):
    N = images.shape[0]
    if how == "per_example":
        lam = rng.beta(alpha, alpha, N).reshape(N, *([1] * (images.ndim - 1)))
        perm = rng.permutation(N)
        return lam * images + (1 - lam) * images[perm], \
            lam[:, :, 0, 0] * targets + (1 - lam[:, :, 0, 0]) * targets[perm]
    lam = rng.random() if how == "uniform" else rng.beta(alpha, alpha)
    if how == "folded":
        lam = max(lam, 1 - lam)
    if how == "reversed":
        perm = np.arange(N)[::-1]
    else:
        perm = rng.integers(0, N, N) if how == "replacement" else rng.permutation(N)
    mixed_targets = targets.copy() if how == "targets" else lam * targets + (1 - lam) * \
        targets[perm]
    return lam * images + (1 - lam) * images[perm], mixed_targets


def _with(function, how):
    return lambda *a, **k: function(*a, **k, how=how)


MISTAKES = {
    "augmentation.random_horizontal_flip": [
        (spec.FLIP_ROWS, _with(_flip, "rows")),
        (spec.FLIP_BATCH, _with(_flip, "batch")),
        (spec.FLIP_P, _with(_flip, "keep")),
    ],
    "augmentation.random_crop": [
        (spec.CROP_OFF_BY_ONE, _with(_crop, "off_by_one")),
        (spec.CROP_NO_PAD, _with(_crop, "no_pad")),
        (spec.CROP_SQUARE, _with(_crop, "square")),
        (spec.CROP_SHARED, _with(_crop, "shared")),
    ],
    "augmentation.color_jitter": [
        (spec.JITTER_CHANNEL_MEAN, _with(_jitter, "channel_mean")),
        (spec.JITTER_ADDITIVE, _with(_jitter, "additive")),
        (spec.JITTER_BATCH, _with(_jitter, "batch")),
        (spec.JITTER_RANGE, _with(_jitter, "range")),
        (spec.JITTER_CLIPPED, _with(_jitter, "clipped")),
        (spec.JITTER_MEAN_FIRST, _with(_jitter, "mean_first")),
        (spec.JITTER_GREY_FIRST, _with(_jitter, "grey_first")),
        (spec.JITTER_GREY_BETWEEN, _with(_jitter, "grey_between")),
    ],
    "augmentation.cutout": [
        (spec.CUTOUT_OFF_BY_ONE, _with(_cutout, "off_by_one")),
        (spec.CUTOUT_INSIDE, _with(_cutout, "inside")),
        (spec.CUTOUT_CORNER, _with(_cutout, "corner")),
        (spec.CUTOUT_CHANNELS, _with(_cutout, "one_channel")),
        (spec.CUTOUT_NEGATIVE, _with(_cutout, "negative")),
        (spec.CUTOUT_SQUARE, _with(_cutout, "square")),
    ],
    "augmentation.mixup": [
        (spec.MIXUP_PER_EXAMPLE, _with(_mixup, "per_example")),
        (spec.MIXUP_TARGETS, _with(_mixup, "targets")),
        (spec.MIXUP_PERMUTATION, _with(_mixup, "replacement")),
        (spec.MIXUP_BETA, _with(_mixup, "uniform")),
        (spec.MIXUP_FIXED, _with(_mixup, "reversed")),
        (spec.MIXUP_FOLDED, _with(_mixup, "folded")),
    ],
}


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``: the reference with one edit), as
    the student writes them: a student's call raising the same error gets the hint."""
    from ._edited import edited

    per_image = ("a value per image of shape (N,), a factor drawn with rng.uniform(low, high, N) "
                 "or an image's mean taken without keepdims=True, meets the last axis (W) of "
                 "the (N, C, H, W) images: NumPy broadcasts from the last axis. Give it the "
                 "shape (N, 1, 1, 1) (a reshape, or keepdims=True)")
    return {
        "augmentation.random_horizontal_flip": [(
            "the choice per image has shape (N,), and NumPy broadcasts from the last axis, so it "
            "meets the columns (W) of the (N, C, H, W) images: give it the shape (N, 1, 1, 1) "
            "before choosing between the flipped and the unchanged images",
            edited("augmentation.random_horizontal_flip",
                   ("flip[:, None, None, None]", "flip")))],
        "augmentation.random_crop": [(
            "np.pad with a single number pads every axis, the batch and the channels too: pad "
            "only the last two, with one (before, after) pair per axis, (0, 0) for N and C",
            edited("augmentation.random_crop", (
                "xp.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
                "xp.pad(images, padding)")))],
        # a factor drawn without its reshape raises the very same error: one mistake, one hint
        # for both
        "augmentation.color_jitter": [(per_image, edited("augmentation.color_jitter", (
            "m = out.mean(axis=(1, 2, 3), keepdims=True)", "m = out.mean(axis=(1, 2, 3))")))],
        "augmentation.cutout": [(
            "the square's mask is (N, H, W) and the images (N, C, H, W): NumPy broadcasts from "
            "the last axis, so the batch axis of the mask meets the channels. Give the mask a "
            "channel axis of size 1, (N, 1, H, W), so that it blanks every channel",
            edited("augmentation.cutout", ("square[:, None]", "square")))],
        "augmentation.mixup": [(
            MIXUP_PER_EXAMPLE_RAISES,
            edited("augmentation.mixup", ("lam = float(rng.beta(alpha, alpha))",
                                          "lam = rng.beta(alpha, alpha, images.shape[0])")))],
    }


MIXUP_PER_EXAMPLE_RAISES = (spec.MIXUP_PER_EXAMPLE + ": rng.beta(alpha, alpha) with no size is "
                            "one number, while a size of N gives one lam per example, of shape "
                            "(N,), which does not broadcast against the (N, C, H, W) images")

for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs


def _even_sizes():
    """Mistakes that agree with the reference for an odd size only (``_edited``)."""
    from ._edited import edited

    return {"augmentation.cutout": [(
        spec.CUTOUT_EVEN,
        edited("augmentation.cutout",
               ("top = xp.asarray(rng.integers(0, H, N) - size // 2)",
                "top = xp.asarray(rng.integers(0, H, N) - (size - 1) // 2)"),
               ("left = xp.asarray(rng.integers(0, W, N) - size // 2)",
                "left = xp.asarray(rng.integers(0, W, N) - (size - 1) // 2)")))]}


for _key, _pairs in _even_sizes().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
