"""Hidden cases of unit 07, ``segnets`` (not in the student release): ``Case(label, (args,
kwargs, input_shape))`` as the public ones."""


def unet_cases(Case):
    return [Case("hidden: UNet(3, 5) defaults (base 16, depth 3) on (1, 3, 8, 16)",
                 ((3, 5), {}, (1, 3, 8, 16)))]
