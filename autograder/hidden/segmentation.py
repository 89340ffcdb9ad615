"""Hidden cases of unit 07, ``segmentation`` (not in the student release)."""

import numpy as np

from ..spec import Case

# Logits around +1000 in the first image and -1000 in the second: only a maximum taken per
# pixel (over the classes) keeps both images' exponentials finite and non-zero.
APART = np.array([1000.0, -1000.0]).reshape(2, 1, 1, 1)


def far_above(inputs, k=1, gap=725.0):
    """Class ``k``'s logits ``gap`` above the others at every pixel: subtracting each pixel's
    maximum keeps every exponent <= 0 and the smallest probability, about 1e-317, above 0
    (design.md's stability rule); subtracting its minimum, or its mean over 64 classes (63/64
    of 725 below the maximum), overflows exp."""
    (logits, target), kwargs = inputs
    logits[:, k] += gap
    return (logits, target), kwargs


def transpose_cases(transpose_case):
    return [
        transpose_case("N=3, C=2, 4x4 input, F=3, 3x3 filters, stride 2, pad 1, "
                       "output_padding 1 (exactly twice the size)", 101, 3, 2, 4, 4, 3, 3, 3,
                       2, 1, 1),
        transpose_case("N=1, C=3, 2x5 input, F=2, 2x4 filters, stride 3, pad 0", 102, 1, 3, 2,
                       5, 2, 2, 4, 3, 0),
        transpose_case("N=2, C=1, 5x3 input, F=1, 5x5 filters, stride 1, pad 2 (same size)",
                       103, 2, 1, 5, 3, 1, 5, 5, 1, 2),
        transpose_case("large biases", 104, 2, 2, 3, 3, 2, 3, 3, 2, 0, bias=100.0),
        transpose_case("N=2, C=3, 4x3 input, F=2, 3x2 filters, stride 2, pad 0, "
                       "output_padding 1 (past every copy)", 105, 2, 3, 4, 3, 2, 3, 2, 2, 0, 1),
        # non-square filters with pad > output_padding: the crop starts inside the copies, and
        # a height taken from the width (or the other way round) falls short of the last copy
        transpose_case("N=2, C=2, 3x4 input, F=2, 3x2 filters, stride 2, pad 1", 106, 2, 2, 3,
                       4, 2, 3, 2, 2, 1),
        transpose_case("N=1, C=3, 4x3 input, F=2, 2x4 filters, stride 2, pad 1", 107, 1, 3, 4,
                       3, 2, 2, 4, 2, 1),
    ]


def dilated_cases(dilated_case):
    return [
        dilated_case("N=3, C=2, 11x9 input, F=4, 3x3 filters, dilation 3, stride 2, pad 3",
                     101, 3, 2, 11, 9, 4, 3, 3, 3, 2, 3),
        dilated_case("N=1, C=3, 7x10 input, F=2, 2x3 filters, dilation 2, stride 1, pad 0",
                     102, 1, 3, 7, 10, 2, 2, 3, 2, 1, 0),
        dilated_case("large biases", 103, 2, 1, 6, 6, 2, 2, 2, 2, 1, 1, bias=100.0),
    ]


def pool_cases(pool_case):
    return [
        pool_case("N=3, C=2, 9x9 input, 3x3 windows, stride 2", 101, 3, 2, 9, 9, 3, 2),
        pool_case("N=1, C=3, 5x7 input, 3x3 windows, stride 1", 102, 1, 3, 5, 7, 3, 1),
        pool_case("N=2, C=1, 8x8 input, 4x4 windows, stride 4", 103, 2, 1, 8, 8, 4, 4),
    ]


def unpool_cases(unpool_case):
    return [
        unpool_case("N=3, C=2, 9x9 map, 3x3 windows, stride 2", 101, 3, 2, 9, 9, 3, 2),
        unpool_case("N=1, C=3, 5x7 map, 3x3 windows, stride 1", 102, 1, 3, 5, 7, 3, 1),
        unpool_case("N=2, C=1, 8x12 map, 4x4 windows, stride 4", 103, 2, 1, 8, 12, 4, 4),
    ]


def nearest_cases(nearest_inputs):
    return [Case("N=3, C=2, 5x2 input, scale 2", *nearest_inputs(101, 3, 2, 5, 2, 2)),
            Case("N=1, C=4, 3x3 input, scale 5", *nearest_inputs(102, 1, 4, 3, 3, 5))]


def bilinear_cases(bilinear_inputs):
    return [Case("N=2, C=2, 5x7 input to 16x9", *bilinear_inputs(101, 2, 2, 5, 7, (16, 9))),
            Case("N=1, C=1, 9x4 input to 2x11", *bilinear_inputs(102, 1, 1, 9, 4, (2, 11))),
            Case("N=1, C=3, 2x2 input to 1x1", *bilinear_inputs(103, 1, 3, 2, 2, (1, 1)))]


def single_pixel_classes(label_inputs):
    """Maps of classes 0..2 with three rare classes on one pixel each: 3 true and predicted
    there, 4 predicted once and never true, 5 true once and never predicted (a union of one
    pixel, and a Dice denominator of 1 for 4 and 5)."""
    (pred, target), kwargs = label_inputs(104, (2, 4, 5), 6, absent=(3, 4, 5))
    pred[0, 0, 0] = target[0, 0, 0] = 3
    pred[0, 2, 3] = 4
    target[1, 3, 4] = 5
    return (pred, target), kwargs


def metric_cases(label_inputs):
    return [
        Case("K=7, (2, 6, 6) maps, classes 2 and 6 absent, 5 never predicted, 15% ignored",
             *label_inputs(101, (2, 6, 6), 7, absent=(2, 6), never_predicted=(5,), ignore=99,
                           ignored=0.15)),
        Case("K=3, (4, 8) maps, mostly wrong", *label_inputs(102, (4, 8), 3, correct=0.1)),
        Case("K=4, (1, 5, 5) maps, class 0 never true",
             *label_inputs(103, (1, 5, 5), 4, never_true=(0,))),
        Case("K=6, (2, 4, 5) maps, three classes on a single pixel each: one found, one only "
             "predicted, one only true", *single_pixel_classes(label_inputs)),
        # K=1: (1, 1) and (1,) results, which a squeeze() turns into numbers
        Case("K=1 (a single class), (2, 3, 4) maps, 25% ignored",
             *label_inputs(105, (2, 3, 4), 1, ignore=255, ignored=0.25)),
    ]


def ce_cases(loss_inputs):
    return [
        Case("N=3, K=3, 4x2, weights and ignore_index 7",
             *loss_inputs(101, 3, 3, 4, 2, class_weights=[3.0, 0.5, 1.0], ignore=7,
                          ignored=0.25)),
        Case("N=2, K=6, 2x2, logits around -1000", *loss_inputs(102, 2, 6, 2, 2,
                                                                 offset=-1000.0)),
        Case("widely spread logits, weights", *loss_inputs(103, 2, 3, 3, 3, scale=30.0,
                                                            class_weights=[1.0, 2.0, 4.0])),
        Case("N=2, K=3, 3x4, logits around +1000 in the first image and -1000 in the second",
             *loss_inputs(104, 2, 3, 3, 4, offset=APART, class_weights=[1.0, 2.0, 0.5])),
        Case("N=1, K=64, 3x3, class 1 logits 725 above the others",
             *far_above(loss_inputs(105, 1, 64, 3, 3, scale=0.5))),
        # a size-1 axis: a squeeze() of (N, 1, W) lets (N, W) broadcast against (N, 1, W)
        Case("N=3, K=4, 1x5 (a single row of pixels), class weights, ignore_index 255",
             *loss_inputs(106, 3, 4, 1, 5, class_weights=[0.5, 2.0, 1.0, 3.0], ignore=255,
                          ignored=0.2)),
    ]


def focal_cases(loss_inputs):
    return [
        Case("N=3, K=3, 4x2, gamma 1, alpha", *loss_inputs(101, 3, 3, 4, 2, gamma=1.0,
                                                            alpha=[1.0, 0.3, 2.0])),
        Case("N=2, K=6, 2x2, gamma 5", *loss_inputs(102, 2, 6, 2, 2, gamma=5.0)),
        Case("widely spread logits, gamma 2", *loss_inputs(103, 2, 3, 3, 3, scale=10.0,
                                                            gamma=2.0)),
        Case("N=2, K=3, 3x4, gamma 2, logits around +1000 in the first image and -1000 in the "
             "second", *loss_inputs(104, 2, 3, 3, 4, offset=APART, gamma=2.0)),
        Case("N=1, K=64, 3x3, gamma 2, class 1 logits 725 above the others",
             *far_above(loss_inputs(105, 1, 64, 3, 3, scale=0.5, gamma=2.0))),
        Case("N=2, K=3, 4x1 (a single column of pixels), gamma 2, alpha",
             *loss_inputs(106, 2, 3, 4, 1, gamma=2.0, alpha=[0.5, 1.0, 2.0])),
    ]


def dice_cases(loss_inputs):
    return [
        Case("N=3, K=3, 4x2, smooth 1", *loss_inputs(101, 3, 3, 4, 2, smooth=1.0)),
        Case("N=2, K=6, 2x2, smooth 0.1, classes 0 and 3 absent",
             *loss_inputs(102, 2, 6, 2, 2, smooth=0.1, missing=(0, 3))),
        Case("N=2, K=3, 3x4, smooth 1, logits around +1000 in the first image and -1000 in the "
             "second", *loss_inputs(104, 2, 3, 3, 4, offset=APART, smooth=1.0)),
        Case("N=1, K=64, 3x3, smooth 1, class 1 logits 725 above the others",
             *far_above(loss_inputs(105, 1, 64, 3, 3, scale=0.5, smooth=1.0))),
        Case("N=3, K=3, 1x4 (a single row of pixels), smooth 1",
             *loss_inputs(106, 3, 3, 1, 4, smooth=1.0)),
    ]
