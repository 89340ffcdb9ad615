"""Tests of unit 07, ``coursework/segmentation.py``: upsampling layers, metrics and losses.

Every case says what is special about it. The layers' first cases have N > 1, pad > 0,
stride > 1, non-square inputs and kernels, C != F and non-zero biases, so every known mistake shows
in them. Max-pooling inputs are permutations of distinct values (the choice among tied maxima is
never graded). Metrics cases include classes absent from both maps (NaN), classes predicted but
never true and the reverse, and ignored pixels; a NaN is compared as "undefined", position by
position, before the values. Loss cases include class weights, ignored pixels and logits around
+1000 (stability).

Vectorization: the layers may loop over the kernel (window) offsets only (two nested loops at
most, read from the source); unpooling, upsampling, metrics and losses have no Python loop.
"""

import numpy as np

from ..compare import Failed
from ..spec import Case, Spec
from .conv import POOL_AXES, at_most_two_nested_loops, pool_of_size
from .loop_growth import no_hidden_code, no_loop_over
from .toolkit import Layer

SPEC = Spec("segmentation")
MODULE = "segmentation"


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def transpose_inputs(seed, N, C, H, W, F, HH, WW, stride, pad, output_padding=0, *, bias=1.0):
    """x (N, C, H, W), w (C, F, HH, WW), b (F,), dout; kwargs stride, pad, output_padding."""
    rng = np.random.default_rng(seed)
    H_out = (H - 1) * stride - 2 * pad + HH + output_padding
    W_out = (W - 1) * stride - 2 * pad + WW + output_padding
    assert H_out >= 1 and W_out >= 1 and output_padding < stride
    args = (rng.standard_normal((N, C, H, W)), rng.standard_normal((C, F, HH, WW)),
            bias * rng.standard_normal(F), rng.standard_normal((N, F, H_out, W_out)))
    return args, {"stride": stride, "pad": pad, "output_padding": output_padding}


def transpose_case(label, *args, **kwargs):
    return Case(label, *transpose_inputs(*args, **kwargs))


def transpose_cases(t):
    cases = [
        transpose_case("N=2, C=3, 3x4 input, F=2, 3x2 filters, stride 2, pad 1, "
                       "output_padding 1", 1, 2, 3, 3, 4, 2, 3, 2, 2, 1, 1),
        transpose_case("N=1, C=1, 2x2 input, a 3x3 filter, stride 1, pad 0", 2, 1, 1, 2, 2, 1,
                       3, 3, 1, 0),
        transpose_case("N=2, C=4, 4x3 input, F=2, 2x2 filters, stride 2, pad 0 (U-Net's "
                       "upsampling: exactly twice the size)", 3, 2, 4, 4, 3, 2, 2, 2, 2, 0),
        transpose_case("N=1, C=2, 3x3 input, F=3, 4x4 filters, stride 3, pad 2, "
                       "output_padding 2", 4, 1, 2, 3, 3, 3, 4, 4, 3, 2, 2),
        transpose_case("N=3, C=1, 3x5 input, F=2, 3x3 filters, stride 1, pad 1 (same size)",
                       5, 3, 1, 3, 5, 2, 3, 3, 1, 1),
        transpose_case("N=2, C=2, 3x2 input, F=1, 3x3 filters, stride 2, pad 1 (overlapping "
                       "copies)", 6, 2, 2, 3, 2, 1, 3, 3, 2, 1),
        transpose_case("N=2, C=2, 3x4 input, F=3, 2x3 filters, stride 3, pad 1, "
                       "output_padding 2 (more than pad: the last row and column lie past "
                       "every copy, bias only)", 7, 2, 2, 3, 4, 3, 2, 3, 3, 1, 2),
    ]
    return cases + t.hidden(MODULE, "transpose_cases", transpose_case)


def dilated_inputs(seed, N, C, H, W, F, HH, WW, dilation, stride, pad, *, bias=1.0):
    """x, w (F, C, HH, WW), b, dout; kwargs dilation, stride, pad (the effective kernel fits)."""
    rng = np.random.default_rng(seed)
    sizes = []
    for n, k in ((H, HH), (W, WW)):
        span = n + 2 * pad - (dilation * (k - 1) + 1)
        assert span >= 0 and span % stride == 0, (n, k, dilation, stride, pad)
        sizes.append(span // stride + 1)
    args = (rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)),
            bias * rng.standard_normal(F), rng.standard_normal((N, F) + tuple(sizes)))
    return args, {"dilation": dilation, "stride": stride, "pad": pad}


def dilated_case(label, *args, **kwargs):
    return Case(label, *dilated_inputs(*args, **kwargs))


def dilated_cases(t):
    cases = [
        dilated_case("N=2, C=3, 9x10 input, F=2, 3x2 filters, dilation 2, stride 1, pad 1",
                     11, 2, 3, 9, 10, 2, 3, 2, 2, 1, 1),
        dilated_case("N=1, C=1, 9x9 input, a 3x3 filter, dilation 3, stride 2, pad 2",
                     12, 1, 1, 9, 9, 1, 3, 3, 3, 2, 2),
        dilated_case("N=2, C=2, 6x7 input, F=3, 3x3 filters, dilation 1 (an ordinary "
                     "convolution), pad 0", 13, 2, 2, 6, 7, 3, 3, 3, 1, 1, 0),
        dilated_case("N=2, C=2, 8x8 input, F=2, 3x3 filters, dilation 2, pad 2 (same size)",
                     14, 2, 2, 8, 8, 2, 3, 3, 2, 1, 2),
        dilated_case("N=3, C=2, 5x9 input, F=1, 1x3 filters, dilation 3, stride 1, pad 0",
                     15, 3, 2, 5, 9, 1, 1, 3, 3, 1, 0),
    ]
    return cases + t.hidden(MODULE, "dilated_cases", dilated_case)


def distinct(rng, shape, scale=3.0):
    """Values that are all different (a shuffled grid), so max pooling has no ties."""
    size = int(np.prod(shape))
    return scale * (rng.permutation(size).reshape(shape) / size - 0.5)


def pool_indices(x, pool_size, stride):
    """(out, flat indices) of max pooling, computed here (first maximum on ties)."""
    N, C, H, W = x.shape
    view = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))
    view = view[:, :, ::stride, ::stride].reshape(N, C, -1, pool_size * pool_size)
    best = view.argmax(axis=-1)
    Ho, Wo = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    best = best.reshape(N, C, Ho, Wo)
    rows = np.arange(Ho)[:, None] * stride + best // pool_size
    cols = np.arange(Wo)[None, :] * stride + best % pool_size
    out = np.take_along_axis(view.reshape(N, C, Ho, Wo, -1), best[..., None], axis=-1)[..., 0]
    return out, (rows * W + cols).astype(np.int64)


def pool_inputs(seed, N, C, H, W, pool_size, stride):
    rng = np.random.default_rng(seed)
    return (distinct(rng, (N, C, H, W)),), {"pool_size": pool_size, "stride": stride}


def pool_case(label, *args):
    return Case(label, *pool_inputs(*args))


def pool_cases(t):
    cases = [
        pool_case("N=2, C=3, 7x9 input, overlapping 3x3 windows, stride 2", 21, 2, 3, 7, 9, 3, 2),
        pool_case("N=1, C=1, 4x4 input, 2x2 windows, stride 2", 22, 1, 1, 4, 4, 2, 2),
        pool_case("N=2, C=2, 6x8 input, 2x2 windows, stride 2", 23, 2, 2, 6, 8, 2, 2),
        pool_case("N=1, C=2, 8x5 input, 2x2 windows, stride 3 (gaps between windows)", 24, 1, 2,
                  8, 5, 2, 3),
        pool_case("N=2, C=1, 5x4 input, 2x2 windows, stride 1 (heavy overlap)", 25, 2, 1, 5, 4,
                  2, 1),
        pool_case("N=2, C=3, 7x9 input, overlapping 3x3 windows, stride 2, as the first case but "
                  "other values (nothing may be remembered between calls)", 26, 2, 3, 7, 9, 3, 2),
    ]
    return cases + t.hidden(MODULE, "pool_cases", pool_case)


def unpool_inputs(seed, N, C, H, W, pool_size, stride):
    """x (N, C, H', W') of new values, indices of max pooling a (N, C, H, W) map, dout (N, C,
    H, W); kwargs output_size."""
    rng = np.random.default_rng(seed)
    _, indices = pool_indices(distinct(rng, (N, C, H, W)), pool_size, stride)
    values = rng.standard_normal(indices.shape)
    return (values, indices, rng.standard_normal((N, C, H, W))), {"output_size": (H, W)}


def unpool_case(label, *args):
    return Case(label, *unpool_inputs(*args))


def unpool_cases(t):
    cases = [
        unpool_case("N=2, C=3, 7x9 map, overlapping 3x3 windows, stride 2 (some windows share "
                    "their maximum: those values add up)", 31, 2, 3, 7, 9, 3, 2),
        unpool_case("N=1, C=1, 4x4 map, 2x2 windows, stride 2", 32, 1, 1, 4, 4, 2, 2),
        unpool_case("N=2, C=2, 6x10 map, 2x2 windows, stride 2", 33, 2, 2, 6, 10, 2, 2),
        unpool_case("N=1, C=2, 8x5 map, 2x2 windows, stride 3 (positions no window covers)",
                    34, 1, 2, 8, 5, 2, 3),
        unpool_case("N=2, C=1, 5x4 map, 2x2 windows, stride 1 (heavy overlap)", 35, 2, 1, 5, 4,
                    2, 1),
    ]
    return cases + t.hidden(MODULE, "unpool_cases", unpool_case)


def nearest_inputs(seed, N, C, H, W, scale):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((N, C, H, W)),
             rng.standard_normal((N, C, H * scale, W * scale))), {"scale": scale})


def nearest_cases(t):
    cases = [Case("N=2, C=3, 3x4 input, scale 2", *nearest_inputs(41, 2, 3, 3, 4, 2)),
             Case("N=1, C=1, 2x3 input, scale 3", *nearest_inputs(42, 1, 1, 2, 3, 3)),
             Case("N=2, C=2, 4x1 input, scale 1 (a copy)", *nearest_inputs(43, 2, 2, 4, 1, 1)),
             Case("N=1, C=2, 1x1 input, scale 4", *nearest_inputs(44, 1, 2, 1, 1, 4))]
    return cases + t.hidden(MODULE, "nearest_cases", nearest_inputs)


def bilinear_inputs(seed, N, C, H, W, size):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, C, H, W)),), {"size": size}


def bilinear_cases(t):
    cases = [Case("N=2, C=3, 4x5 input to 8x10 (x2)", *bilinear_inputs(51, 2, 3, 4, 5, (8, 10))),
             Case("N=1, C=1, 3x3 input to 7x5", *bilinear_inputs(52, 1, 1, 3, 3, (7, 5))),
             Case("N=1, C=2, 8x6 input to 3x4 (downsampling)",
                  *bilinear_inputs(53, 1, 2, 8, 6, (3, 4))),
             Case("N=2, C=1, 1x2 input to 3x3", *bilinear_inputs(54, 2, 1, 1, 2, (3, 3))),
             Case("N=1, C=1, 5x5 input to 5x5 (unchanged)", *bilinear_inputs(55, 1, 1, 5, 5, 5)),
             Case("N=2, C=3, 4x5 input to 8x10, as the first case but other values (nothing may "
                  "be remembered between calls)", *bilinear_inputs(56, 2, 3, 4, 5, (8, 10)))]
    return cases + t.hidden(MODULE, "bilinear_cases", bilinear_inputs)


def label_inputs(seed, shape, K, *, absent=(), never_predicted=(), never_true=(), ignore=None,
                 ignored=0.0, correct=0.6, dtype=np.int64):
    """pred and target label maps of ``dtype`` with classes 0..K-1.

    ``absent`` classes appear in neither map, ``never_predicted`` only in target, ``never_true``
    only in pred; a fraction ``ignored`` of the target is ``ignore``; about ``correct`` of the
    other pixels are predicted right.
    """
    rng = np.random.default_rng(seed)
    allowed = [k for k in range(K) if k not in absent]
    true_classes = [k for k in allowed if k not in never_true]
    pred_classes = [k for k in allowed if k not in never_predicted]
    target = rng.choice(true_classes, shape)
    guess = rng.choice(pred_classes, shape)
    right = (rng.random(shape) < correct) & np.isin(target, pred_classes)
    pred = np.where(right, target, guess)
    # make sure every listed class really is there
    flat_t, flat_p = target.reshape(-1), pred.reshape(-1)
    for i, k in enumerate(true_classes):
        flat_t[i] = k
    for i, k in enumerate(pred_classes):
        flat_p[-1 - i] = k
    if ignore is not None:
        mask = rng.random(shape) < ignored
        mask.reshape(-1)[:len(true_classes)] = False  # keep the listed true classes
        target = np.where(mask, ignore, target)
    kwargs = {"num_classes": K}
    if ignore is not None:
        kwargs["ignore_index"] = ignore
    return (pred.astype(dtype), target.astype(dtype)), kwargs


def all_ignored_inputs(seed, shape, K, ignore):
    """pred with classes 0..K-1 and a target that is ``ignore`` everywhere: no pixel counted."""
    rng = np.random.default_rng(seed)
    pred = rng.integers(0, K, shape).astype(np.int64)
    return (pred, np.full(shape, ignore, dtype=np.int64)), {"num_classes": K,
                                                            "ignore_index": ignore}


def metric_cases(t):
    cases = [
        Case("K=5, (2, 5, 6) maps: class 3 absent from both, class 1 never predicted, class 4 "
             "never true, 10% of the pixels ignored (255)",
             *label_inputs(61, (2, 5, 6), 5, absent=(3,), never_predicted=(1,), never_true=(4,),
                           ignore=255, ignored=0.1)),
        Case("K=3, (1, 4, 7) maps", *label_inputs(62, (1, 4, 7), 3)),
        Case("K=4, (3, 4, 4) maps, ignore_index=-1 on 25% of the pixels",
             *label_inputs(63, (3, 4, 4), 4, ignore=-1, ignored=0.25)),
        Case("K=2, 1-D maps of 9 pixels, all correct",
             *label_inputs(64, (9,), 2, correct=1.0)),
        Case("K=6, (2, 3, 8) maps: classes 0 and 5 absent",
             *label_inputs(65, (2, 3, 8), 6, absent=(0, 5))),
        Case("K=3, (2, 4, 5) maps, ignore_index=0 (an index like any other: the target's 0 "
             "pixels are skipped)", *label_inputs(66, (2, 4, 5), 3, ignore=0, ignored=0.2)),
        Case("K=5, (2, 5, 6) maps, 10% ignored (255), as the first case but other labels "
             "(nothing may be remembered between calls)",
             *label_inputs(67, (2, 5, 6), 5, never_predicted=(2,), ignore=255, ignored=0.1,
                           correct=0.3)),
        Case("K=4, (3, 4, 4) maps, every pixel ignored (-1): no pixel counted",
             *all_ignored_inputs(68, (3, 4, 4), 4, -1)),
        # small integer dtypes: target * K + pred overflows unless counted in int64
        Case("K=21 (VOC), (2, 6, 7) uint8 maps, 10% ignored (255)",
             *label_inputs(69, (2, 6, 7), 21, ignore=255, ignored=0.1, dtype=np.uint8)),
        Case("K=200, (2, 10, 12) int16 maps",
             *label_inputs(70, (2, 10, 12), 200, dtype=np.int16)),
        Case("K=4, (2, 3, 5) int32 maps, ignore_index=-1 on 20% of the pixels",
             *label_inputs(71, (2, 3, 5), 4, ignore=-1, ignored=0.2, dtype=np.int32)),
    ]
    return cases + t.hidden(MODULE, "metric_cases", label_inputs)


def loss_inputs(seed, N, K, H, W, *, offset=0.0, scale=2.0, ignore=None, ignored=0.0,
                missing=(), **kwargs):
    """logits (N, K, H, W), target (N, H, W) (classes in ``missing`` never appear); kwargs as
    given (class_weights/alpha as lists become arrays)."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((N, K, H, W)) + offset
    classes = [k for k in range(K) if k not in missing]
    target = rng.choice(classes, (N, H, W)).astype(np.int64)
    if ignore is not None:
        target = np.where(rng.random(target.shape) < ignored, ignore, target)
        kwargs["ignore_index"] = ignore
    kwargs = {k: (np.asarray(v, dtype=np.float64) if isinstance(v, list) else v)
              for k, v in kwargs.items()}
    return (logits, target), kwargs


def certain_inputs(seed, N, K, H, W, **kwargs):
    """loss_inputs with the true class's logit 100 above the others (the others 0) on about a
    third of the pixels: p_y is exactly 1 in float64 there, so 1 - p_y = 0."""
    (logits, target), kwargs = loss_inputs(seed, N, K, H, W, **kwargs)
    rng = np.random.default_rng(seed + 1)
    sure = (rng.random(target.shape) < 1 / 3)[:, None]
    onehot = np.arange(K).reshape(1, K, 1, 1) == target[:, None]
    return (np.where(sure, 100.0 * onehot, logits), target), kwargs


def ce_cases(t):
    cases = [
        Case("N=2, K=4, 3x5, class weights, 20% of the pixels ignored (255)",
             *loss_inputs(71, 2, 4, 3, 5, class_weights=[0.5, 2.0, 1.0, 3.0], ignore=255,
                          ignored=0.2)),
        Case("N=1, K=3, 4x4, no weights", *loss_inputs(72, 1, 3, 4, 4)),
        Case("N=2, K=3, 2x3, class weights", *loss_inputs(73, 2, 3, 2, 3,
                                                          class_weights=[0.2, 1.0, 5.0])),
        Case("N=2, K=2, 3x3, ignore_index=-1", *loss_inputs(74, 2, 2, 3, 3, ignore=-1,
                                                             ignored=0.3)),
        Case("N=1, K=5, 2x4, logits around +1000", *loss_inputs(75, 1, 5, 2, 4, offset=1000.0)),
        Case("N=2, K=3, 3x4, class weights, ignore_index=0 (an index like any other)",
             *loss_inputs(76, 2, 3, 3, 4, class_weights=[2.0, 0.5, 1.0], ignore=0,
                          ignored=0.25)),
        Case("N=1, K=3, 2x3, every pixel ignored (255): no pixel counted",
             *loss_inputs(77, 1, 3, 2, 3, ignore=255, ignored=1.0)),
        Case("N=1, K=3, 2x3, the counted pixels all of class 0, whose weight is 0 (the others "
             "ignored, 255): their weights sum to 0",
             *loss_inputs(78, 1, 3, 2, 3, class_weights=[0.0, 1.0, 2.0], ignore=255,
                          ignored=0.5, missing=(1, 2))),
        Case("N=2, K=4, 3x5, class weights, 20% ignored (255), as the first case but other "
             "logits and labels (nothing may be remembered between calls)",
             *loss_inputs(79, 2, 4, 3, 5, class_weights=[0.5, 2.0, 1.0, 3.0], ignore=255,
                          ignored=0.2)),
    ]
    return cases + t.hidden(MODULE, "ce_cases", loss_inputs)


def focal_cases(t):
    cases = [
        Case("N=2, K=4, 3x5, gamma 2, alpha per class",
             *loss_inputs(81, 2, 4, 3, 5, gamma=2.0, alpha=[0.25, 1.0, 2.0, 0.5])),
        Case("N=1, K=3, 4x4, gamma 2, no alpha", *loss_inputs(82, 1, 3, 4, 4, gamma=2.0)),
        Case("N=2, K=3, 2x3, gamma 0 (cross entropy)", *loss_inputs(83, 2, 3, 2, 3, gamma=0.0)),
        Case("N=2, K=2, 3x3, gamma 0.5, alpha", *loss_inputs(84, 2, 2, 3, 3, gamma=0.5,
                                                              alpha=[0.75, 0.25])),
        Case("N=1, K=5, 2x4, gamma 3, logits around +1000",
             *loss_inputs(85, 1, 5, 2, 4, offset=1000.0, gamma=3.0)),
        Case("N=2, K=2, 3x3, gamma 0.5, logits [100, 0] on a third of the pixels (p_y = 1 "
             "exactly there)", *certain_inputs(86, 2, 2, 3, 3, gamma=0.5)),
        Case("N=1, K=3, 2x4, gamma 0, logits 100 above the others on a third of the pixels "
             "(p_y = 1 exactly there)", *certain_inputs(87, 1, 3, 2, 4, gamma=0.0)),
        Case("N=2, K=4, 3x5, gamma 2, as the first case but other logits, labels and alpha "
             "(nothing may be remembered between calls; 0.3 and 0.6 are not exact in float32)",
             *loss_inputs(88, 2, 4, 3, 5, gamma=2.0, alpha=[0.3, 1.0, 2.0, 0.6])),
    ]
    return cases + t.hidden(MODULE, "focal_cases", loss_inputs)


def dice_cases(t):
    cases = [
        Case("N=2, K=4, 3x5, smooth 1", *loss_inputs(91, 2, 4, 3, 5, smooth=1.0)),
        Case("N=1, K=3, 4x4, smooth 0.5, class 2 absent from the target",
             *loss_inputs(92, 1, 3, 4, 4, smooth=0.5, missing=(2,))),
        Case("N=3, K=2, 2x3, smooth 2", *loss_inputs(93, 3, 2, 2, 3, smooth=2.0)),
        Case("N=1, K=5, 2x4, logits around +1000, smooth 1",
             *loss_inputs(94, 1, 5, 2, 4, offset=1000.0, smooth=1.0)),
        Case("N=2, K=4, 3x5, smooth 1, as the first case but other logits and labels (nothing "
             "may be remembered between calls)", *loss_inputs(95, 2, 4, 3, 5, smooth=1.0)),
    ]
    return cases + t.hidden(MODULE, "dice_cases", loss_inputs)


def check_exact_dtype(name, label, output, got, dtype):
    """Failed unless ``got`` is an array of exactly ``dtype``, as the docstring fixes it (the
    comparison of values accepts any integer dtype for integers and any for booleans)."""
    if isinstance(got, np.ndarray) and got.dtype != np.dtype(dtype):
        cast = "bool" if dtype == "bool" else f"np.{dtype}"
        raise Failed(f"{name}({label}): {output} has dtype {got.dtype} but the docstring fixes "
                     f"{dtype}: the values are right, return them as {dtype} "
                     f"(.astype({cast}))", kind="dtype")


def check_python_float(name, label, output, got):
    """Failed unless ``got`` is a Python float (NumPy's float64 scalar is one), as the
    docstring promises ("a Python float", "loss: a Python float"): a 0-d array or a float32 scalar
    has the right value but is not what a caller may format, store in JSON or add to a list of
    floats. The wire keeps them apart (``wire.encode``: a float stays a float, a NumPy scalar
    of another dtype comes as that scalar, a 0-d array as an array)."""
    if isinstance(got, float):
        return
    from ..compare import describe

    raise Failed(f"{name}({label}): {output} is {describe(got)}, but the docstring promises a "
                 f"Python float: the value is right, return float({output})", kind="type")


# ---------------------------------------------------------------------------------------------
# The layers (spec toolkit)
# ---------------------------------------------------------------------------------------------

CONV_ARGS, CONV_GRADS = ("x", "w", "b"), ("dx", "dw", "db")
CONV_TRANSPOSE = Layer(SPEC, "conv_transpose", argnames=CONV_ARGS, grads=CONV_GRADS,
                       cases=transpose_cases)
DILATED_CONV = Layer(SPEC, "dilated_conv", argnames=CONV_ARGS, grads=CONV_GRADS,
                     cases=dilated_cases)
MAX_UNPOOL = Layer(SPEC, "max_unpool", argnames=("x", "indices"), grads=("dx",),
                   cases=unpool_cases)
UPSAMPLE_NEAREST = Layer(SPEC, "upsample_nearest", forward="upsample_nearest",
                         backward="upsample_nearest_backward", argnames=("x",), grads=("dx",),
                         cases=nearest_cases)


SEG_AXES = {"N": "examples", "C": "input channels", "F": "output channels",
            "H": "input rows", "W": "input columns"}
IMAGE_AXES = {"N": "examples", "C": "channels", "H": "rows", "W": "columns"}
MAP_AXES = {"N": "examples", "H": "rows", "W": "columns"}  # label maps (N, H, W)
SHORT_LOOPS = "something that does not grow with the data (the classes, the two axes)"


def unpool_of_size(sizes, rng):
    """Values of a pooled (N, C, H, W) map and where their maxima were in 2x2 windows."""
    N, C, H, W = (sizes[k] for k in ("N", "C", "H", "W"))
    rows = 2 * np.arange(H)[:, None] + rng.integers(0, 2, (N, C, H, W))
    cols = 2 * np.arange(W)[None, :] + rng.integers(0, 2, (N, C, H, W))
    return ([rng.standard_normal((N, C, H, W)), (rows * 2 * W + cols).astype(np.int64)],
            {"output_size": (2 * H, 2 * W)})


def image_of_size(kwargs):
    def build(sizes, rng):
        N, C, H, W = (sizes[k] for k in ("N", "C", "H", "W"))
        return [rng.standard_normal((N, C, H, W))], kwargs(H, W)
    return build


def maps_of_size(with_classes=True):
    """Predicted and true label maps (N, H, W) of 3 classes."""
    def build(sizes, rng):
        shape = tuple(sizes[k] for k in ("N", "H", "W"))
        return ([rng.integers(0, 3, shape), rng.integers(0, 3, shape)],
                {"num_classes": 3} if with_classes else {})
    return build


def logits_of_size(sizes, rng):
    """Logits (N, 3, H, W) and true labels (N, H, W)."""
    N, H, W = (sizes[k] for k in ("N", "H", "W"))
    return [rng.standard_normal((N, 3, H, W)), rng.integers(0, 3, (N, H, W))], {}


def vectorized(t, target, of_size, axes, forward=None):
    """No hidden code, and no loop that grows with the data (examples, channels, pixels); a
    short loop over the classes or the two axes is the student's business."""
    no_hidden_code(t, target)
    no_loop_over(t, target, of_size, axes, forward=forward, allowed=SHORT_LOOPS)


def transpose_of_size(sizes, rng):
    """A transposed 3x3 convolution at stride 2, pad 1, output_padding 1, of the given sizes."""
    N, C, F, H, W = (sizes[k] for k in ("N", "C", "F", "H", "W"))
    args = [rng.standard_normal((N, C, H, W)), rng.standard_normal((C, F, 3, 3)),
            rng.standard_normal(F)]
    return args, {"stride": 2, "pad": 1, "output_padding": 1}


def dilated_of_size(sizes, rng):
    """A 3x3 convolution with dilation 2 and pad 2 (so H_out = H), of the given sizes."""
    N, C, F, H, W = (sizes[k] for k in ("N", "C", "F", "H", "W"))
    args = [rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, 3, 3)),
            rng.standard_normal(F)]
    return args, {"dilation": 2, "stride": 1, "pad": 2}


def _layer_tests(layer, points, rule, docs, of_size=None, after_forward=None):
    """The forward and backward tests of ``layer``: its cases, then ``after_forward`` (a check
    of the forward's docstring that the values cannot show), then ``rule`` on the code, then
    (with ``of_size``, the layer's inputs for given sizes) no loop that grows with the data."""
    forward_name, backward_name = (target.split(".", 1)[1]
                                   for target in (layer.forward, layer.backward))

    def forward(t):
        layer.forward_test(t)
        if after_forward is not None:
            after_forward(t)
        rule(t, layer.forward)
        if rule is _no_rule:
            vectorized(t, layer.forward, of_size, IMAGE_AXES)
        elif of_size is not None:
            no_loop_over(t, layer.forward, of_size, SEG_AXES)

    def backward(t):
        layer.backward_test(t)
        rule(t, layer.backward)
        if rule is _no_rule:
            vectorized(t, layer.backward, of_size, IMAGE_AXES, forward=layer.forward)
        elif of_size is not None:
            no_loop_over(t, layer.backward, of_size, SEG_AXES, forward=layer.forward)

    for function, name, score, doc in ((forward, forward_name, points[0], docs[0]),
                                       (backward, backward_name, points[1], docs[1])):
        function.__name__ = function.__qualname__ = name
        function.__doc__ = doc
        SPEC.test(name, points=score)(function)
    return forward, backward


def _no_rule(t, target):
    """No rule on how the code is written beyond ``vectorized`` (``of_size``)."""


conv_transpose_forward, conv_transpose_backward = _layer_tests(
    CONV_TRANSPOSE, (3, 3), at_most_two_nested_loops,
    ("Transposed convolution as conv_transpose2d: size, cropping, output_padding.",
     "dx, dw and db of the transposed convolution."), transpose_of_size)
dilated_conv_forward, dilated_conv_backward = _layer_tests(
    DILATED_CONV, (2, 3), at_most_two_nested_loops,
    ("Atrous convolution as conv2d(..., dilation=d).", "dx, dw and db of the dilated convolution."),
    dilated_of_size)
max_unpool_forward, max_unpool_backward = _layer_tests(
    MAX_UNPOOL, (2, 1), _no_rule,
    ("Values written back where their maxima came from (summed on shared indices).",
     "dx of max-unpooling: dout read back at the indices."), unpool_of_size)
def new_even_unchanged(t, target, args, kwargs, label, opaque=()):
    """The docstrings of upsample_nearest and upsample_bilinear promise a new array even where
    the values are x's own (scale 1, size (H, W)), as every layer returns: out must not be x
    itself or a view of it (a caller that changes out in place would change x)."""
    t.case(label)  # a public case again, after the hidden ones
    _, changes = t.student.call_full(target, *args, opaque=opaque, **kwargs)
    try:
        t.returns_new(target, changes, ("x",), label)
    except Failed as failure:
        raise Failed(failure.message.replace("result[0]", "out"), kind=failure.kind,
                     hint="return a new array even when no value changes (x.copy(), or the "
                          "repeat or interpolation itself, which makes one): the docstring "
                          "promises a new array at scale 1 and at the input's size too") from None


def _nearest_new(t):
    x = nearest_inputs(43, 2, 2, 4, 1, 1)[0][0]
    new_even_unchanged(t, f"{MODULE}.upsample_nearest", (x,), {"scale": 1},
                       "N=2, C=2, 4x1 input, scale 1 (a copy)", opaque=[1])


upsample_nearest, upsample_nearest_backward = _layer_tests(
    UPSAMPLE_NEAREST, (1, 1), _no_rule,
    ("Nearest-neighbour upsampling by an integer factor.",
     "dx of nearest upsampling: the sum over each block."),
    image_of_size(lambda H, W: {"scale": 2}), after_forward=_nearest_new)


@SPEC.test("max_pool_with_indices", points=2)
def max_pool_with_indices(t):
    """Max pooling and the flat row * W + col index of every maximum, as max_pool2d."""
    target = f"{MODULE}.max_pool_with_indices"
    for case in pool_cases(t):
        got = t.check(target, *case.args, label=case.label, names=("out", "indices"),
                      argnames=("x",), **case.kwargs)
        check_exact_dtype("max_pool_with_indices", case.label, "indices", got[1], "int64")
    at_most_two_nested_loops(t, target)
    no_loop_over(t, target, pool_of_size, POOL_AXES,
                 allowed="the offsets inside the window (k, l)")


@SPEC.test("upsample_bilinear", points=2)
def upsample_bilinear(t):
    """Bilinear resizing as interpolate(mode='bilinear', align_corners=False)."""
    target = f"{MODULE}.upsample_bilinear"
    for case in bilinear_cases(t):
        t.check(target, *case.args, label=case.label, names=("out",), argnames=("x",),
                **case.kwargs)
    new_even_unchanged(t, target, bilinear_inputs(55, 1, 1, 5, 5, 5)[0], {"size": 5},
                       "N=1, C=1, 5x5 input to 5x5 (unchanged)")
    vectorized(t, target, image_of_size(lambda H, W: {"size": (2 * H + 1, 2 * W - 1)}),
               IMAGE_AXES)


# ---------------------------------------------------------------------------------------------
# Metrics: NaN means "undefined", compared position by position before the values
# ---------------------------------------------------------------------------------------------

def _encode(value):
    """(where value is NaN, value with NaN as 0) for a float array; anything else unchanged."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.isnan(value), np.where(np.isnan(value), 0.0, value)
    return value


def _encode_all(value, parts):
    """_encode of a value, or of each of ``parts`` values, flattened into one tuple."""
    if parts == 1:
        return _encode(value)
    if isinstance(value, (tuple, list)) and len(value) == parts:
        out = []
        for v in value:
            encoded = _encode(v)
            out.extend(encoded if isinstance(encoded, tuple) else (encoded, None))
        return tuple(out)
    return value


# The metrics whose docstrings return float arrays with NaN entries, and how many arrays.
NAN_ARRAYS = {"iou_per_class": 1, "dice_per_class": 1, "precision_recall_per_class": 2}

# The float metrics are ratios of integer counts (and mean_iou a mean of a few of them): every
# float64 formula gives them to about 1e-16 (2 TP / (2 TP + FP + FN) or TP / (TP + (FP + FN) / 2),
# nanmean or a sum over a count), while a division in float32, which the docstring's float64
# result rules out, leaves about 6e-8, within the default 1e-6. They are compared within 1e-10,
# as the float64 losses are, and the verdict names float32.
METRIC_RTOL = 1e-10


def metric_encoded(cw, name, pred, target, **kwargs):
    """The reference metric ``name``, its float arrays as (NaN positions, values) where the
    docstring returns float arrays (the other metrics' results unchanged, a known mistake's
    too: a float confusion matrix is then compared as the float array it is)."""
    value = getattr(cw.segmentation, name)(pred, target, **kwargs)
    return _encode_all(value, NAN_ARRAYS[name]) if name in NAN_ARRAYS else value


# When each output is NaN: what the docstrings say, in the words of the verdict.
UNDEFINED_WHEN = {
    "iou": "TP + FP + FN = 0, a class in neither map",
    "dice": "TP + FP + FN = 0, a class in neither map",
    "precision": "TP + FP = 0, a class never predicted",
    "recall": "TP + FN = 0, a class in no pixel of the target",
}


def _undefined_verdict(failure, outputs, encoded, expected):
    """``failure`` itself, or, when what failed is where an output is NaN, the same failure
    said as values ("iou is wrong at [1]: got NaN, expected 0; ...") instead of as the encoded
    comparison of NaN positions ("iou (which entries are NaN) differs ...: got True,
    expected False"). The hint is kept."""
    for k, output in enumerate(outputs):
        marker = f"{output} (which entries are NaN) differs"
        if marker not in failure.message:
            continue
        got_nan, got_values = encoded[2 * k], encoded[2 * k + 1]
        nan, values = expected[2 * k], expected[2 * k + 1]
        wrong = got_nan != nan
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        where = "[" + ", ".join(map(str, index)) + "]"
        got = "NaN" if got_nan[index] else f"{float(got_values[index]):.6g}"
        should = "NaN" if nan[index] else f"{float(values[index]):.6g}"
        rule = UNDEFINED_WHEN.get(output, "the class has nothing to score")
        message = (f"{output} is wrong at {where}: got {got}, expected {should}; {output} is NaN "
                   f"exactly where {rule}, and a number everywhere else ({int(wrong.sum())} of "
                   f"{wrong.size} entries differ in being NaN)")
        prefix = failure.message[:failure.message.index(marker)]
        return Failed(prefix + message, failure.hint, kind=failure.kind, error=failure.error,
                      quantity=output)
    return failure


def _check_metric(t, name, outputs, *, with_classes=True, exact_dtype=None,
                  python_float=False):
    target = f"{MODULE}.{name}"
    for case in metric_cases(t):
        kwargs = dict(case.kwargs)
        if not with_classes:
            kwargs.pop("num_classes")
        with t.explaining_errors(target, metric_encoded, name, *case.args, **kwargs):
            got, modified = t.student.call_full(target, *case.args, **kwargs)
        t.no_input_modified(target, modified, ("pred", "target"), case.label)
        expected = t.ref.run(metric_encoded, name, *case.args, **kwargs)
        names = None
        if isinstance(expected, tuple):
            names = tuple(n for output in outputs
                          for n in (f"{output} (which entries are NaN)", output))
            expected = tuple(expected)
        # Only where the docstring returns float arrays is the student's answer encoded the same
        # way: anything else (a float confusion matrix, a 0-d array for a scalar) is compared as
        # it is, so that the verdict names the type or dtype actually returned.
        encoded = _encode_all(got, len(outputs)) if name in NAN_ARRAYS else got
        if isinstance(expected, tuple) and not (isinstance(encoded, tuple)
                                                and len(encoded) == len(expected)):
            raise Failed(f"{name}({case.label}): should return "
                         f"{' and '.join(outputs)}, float arrays of shape "
                         f"{expected[1].shape}, got {type(got).__name__} "
                         f"{getattr(got, 'dtype', '')}",
                         hint="start from xp.full(num_classes, xp.nan) and fill the classes "
                              "that are defined")
        try:
            t.compare(target, encoded, expected, names=names, label=case.label,
                      rtol=METRIC_RTOL, mistakes=lambda args=case.args, kw=kwargs: t.ref.mistakes(
                          target, metric_encoded, name, *args, **kw))
        except Failed as failure:
            raise _undefined_verdict(failure, outputs, encoded, expected) from None
        if exact_dtype is not None:
            check_exact_dtype(name, case.label, outputs[0], got, exact_dtype)
        if python_float:
            check_python_float(name, case.label, outputs[0], got)
    vectorized(t, target, maps_of_size(with_classes), MAP_AXES)


@SPEC.test("confusion_matrix", points=2)
def confusion_matrix(t):
    """Counts of (true, predicted) pairs, rows true; ignored pixels skipped."""
    _check_metric(t, "confusion_matrix", ("matrix",), exact_dtype="int64")


@SPEC.test("pixel_accuracy", points=1)
def pixel_accuracy(t):
    """The fraction of counted pixels predicted right."""
    _check_metric(t, "pixel_accuracy", ("accuracy",), with_classes=False, python_float=True)


@SPEC.test("iou_per_class", points=2)
def iou_per_class(t):
    """TP / (TP + FP + FN) per class, NaN for classes absent from both maps."""
    _check_metric(t, "iou_per_class", ("iou",))


@SPEC.test("mean_iou", points=1)
def mean_iou(t):
    """The mean IoU over the classes whose IoU is defined."""
    _check_metric(t, "mean_iou", ("mean_iou",), python_float=True)


@SPEC.test("dice_per_class", points=1)
def dice_per_class(t):
    """2 TP / (2 TP + FP + FN) per class, NaN where the IoU is."""
    _check_metric(t, "dice_per_class", ("dice",))


@SPEC.test("precision_recall_per_class", points=2)
def precision_recall_per_class(t):
    """TP / (TP + FP) and TP / (TP + FN) per class, NaN where undefined."""
    _check_metric(t, "precision_recall_per_class", ("precision", "recall"))


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

def _check_loss(t, name, cases):
    """The loss is computed from float64 logits (and float64 weights): it is also compared
    within 1e-10 (``float64_loss``), as units 01 and 02's losses are, so that float32 arithmetic
    in it (weights cast to float32) fails instead of hiding inside the default tolerance; and
    it is a Python float, as the docstrings say ("loss: a float")."""
    target = f"{MODULE}.{name}"
    for case in cases:
        got = t.check(target, *case.args, label=case.label, names=("loss", "dlogits"),
                      argnames=("logits", "target"), float64_loss=True, **case.kwargs)
        check_python_float(name, case.label, "loss", got[0])
    vectorized(t, target, logits_of_size, MAP_AXES)


@SPEC.test("pixel_cross_entropy", points=2)
def pixel_cross_entropy(t):
    """Per-pixel cross entropy, weighted mean with class weights, ignored pixels skipped."""
    _check_loss(t, "pixel_cross_entropy", ce_cases(t))


@SPEC.test("focal_loss", points=2)
def focal_loss(t):
    """-alpha[y] (1 - p_y)**gamma log p_y averaged over pixels, and its gradient."""
    _check_loss(t, "focal_loss", focal_cases(t))


@SPEC.test("soft_dice_loss", points=2)
def soft_dice_loss(t):
    """1 - mean over classes of the soft Dice over the whole batch, and its gradient."""
    _check_loss(t, "soft_dice_loss", dice_cases(t))
