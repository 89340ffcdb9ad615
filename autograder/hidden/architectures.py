"""Hidden cases of unit 06, ``architectures`` (not in the student release).

Each function takes the ``Case`` class and returns extra cases in the form of the public ones:
``Case(label, (args, kwargs, input_shape))``.
"""


def lenet5_cases(Case):
    return [Case("hidden: 2 classes, 2 input channels, N=3", ((), {"num_classes": 2,
                                                                  "in_channels": 2},
                                                             (3, 2, 32, 32)))]


def vgg_block_cases(Case):
    return [Case("hidden: 2 convolutions on a 7x10 input (floors)", ((2, 1, 3), {},
                                                                    (1, 1, 7, 10)))]


def vgg_cases(Case):
    return [Case("hidden: three blocks, input_size 17", (([(1, 2), (1, 3), (2, 3)],),
                                                       {"num_classes": 4, "in_channels": 1,
                                                        "input_size": 17, "fc_dim": 5,
                                                        "dropout": 0.0}, (1, 1, 17, 17)))]


def nin_cases(Case):
    return [Case("hidden: 11x11 stride 4 pad 2 (NiN's first block)", ((2, 3, 11, 4, 2), {},
                                                                      (1, 2, 33, 35)))]


def inception_cases(Case):
    return [Case("hidden: uneven branch widths, N=1", ((3, 1, (2, 5), (1, 2), 3), {},
                                                       (1, 3, 7, 9)))]


def residual_cases(Case):
    return [Case("hidden: stride 2, one channel to two", ((1, 2), {"stride": 2}, (2, 1, 8, 7))),
            # a one-image batch: an output squeeze()d to (C, H, W) has the wrong shape
            Case("hidden: a one-image batch, identity shortcut", ((3, 3), {}, (1, 3, 6, 5)))]


def bottleneck_cases(Case):
    return [Case("hidden: stride 2, same channels", ((5, 2, 5), {"stride": 2}, (1, 5, 9, 8)))]


def resnet_cases(Case):
    return [Case("hidden: 2 stages, one block each", (([1, 1],), {"num_classes": 3,
                                                                  "in_channels": 1,
                                                                  "widths": (3, 5)},
                                                      (2, 1, 9, 10))),
            # two stages of the same width: the second still starts with stride 2 (and a
            # projection shortcut, for the stride)
            Case("hidden: 3 stages, widths (4, 4, 6)", (([1, 1, 1],), {"num_classes": 2,
                                                                      "widths": (4, 4, 6)},
                                                        (1, 3, 12, 10)))]


def dense_cases(Case):
    return [Case("hidden: 1 unit, growth 3", ((1, 4, 3), {}, (1, 4, 6, 9)))]


def transition_cases(Case):
    return [Case("hidden: to more channels", ((3, 7), {}, (1, 3, 9, 8)))]


def se_cases(Case):
    return [Case("hidden: 17 channels, reduction 8", ((17,), {"reduction": 8}, (3, 17, 2, 3))),
            # 28 / 16 = 1.75: C // reduction is 1, round() would give 2
            Case("hidden: 28 channels, reduction 16", ((28,), {}, (2, 28, 3, 2)))]


def depthwise_cases(Case):
    return [Case("hidden: one input channel, stride 2", ((1, 3), {"stride": 2}, (2, 1, 9, 8))),
            # a one-image batch: an output squeeze()d to (C, H, W) has the wrong shape
            Case("hidden: a one-image batch", ((2, 4), {}, (1, 2, 7, 6)))]


def alexnet_cases(Case):
    # (parameter seed, image seed), eval mode
    return [Case("other parameters, another 227x227 image, eval mode", (17, 18))]


def freeze_cases():
    # prefixes of several parameters: plain string prefixes of the parameter names (the public
    # case "se.fc" matches se.fc1.* and se.fc2.*), not module names
    return [("stages",), ("se", "stem.0"), ("stages.0", "fc", "se.fc2")]
