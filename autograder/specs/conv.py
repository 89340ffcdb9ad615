"""Tests of unit 03, ``coursework/conv.py``: convolution and pooling, naive and fast.

Every case says what is special about it; between them they always cover pad 0, N=1, C=1,
non-square inputs and kernels, strides 1 to 3, pads 0 to 2, overlapping pooling windows (3x3 at
stride 2) and non-zero biases. Max-pooling inputs of the compared cases are permutations of
distinct values, so no window has tied maxima (which of the tied maxima takes the gradient is the
student's choice); ``check_ties`` then checks, on inputs with ties, only what the docstring fixes:
each window passes its gradient on to its maxima, once in all.

"Fast" functions must be vectorized. The rule, stated in their docstrings: a fast function may loop
over the offsets inside the window (at most two nested loops: ``for k in range(HH): for l in
range(WW)``), never over examples, channels, filters *and* output positions. It is checked on the
code that runs (``autograder.rules``: the function and whatever of the package it calls, aliases
or wraps, loops nested at most 2 deep) and, for the convolution, by a large layer that four nested
loops cannot finish within the worker's time limit, whose results are compared too; the forward
also gets a wide layer of one output position (``WIDE_CONV``), which two loops over examples and
filters cannot finish. A single loop over examples, filters, channels (pooling) or output rows
with a vectorized body passes both; it is found by counting the lines of the student's code that
run for 2, 11, 20, 130 and 260 examples (channels, filters, ...): ``loop_growth``.
"""

import functools

import re

import numpy as np

from ..compare import Failed, as_array, describe
from ..runner import StudentError, StudentTimeout
from ..spec import Case, Spec
from .loop_growth import no_loop_over, no_per_element_calls
from .toolkit import Layer, student_forward

SPEC = Spec("conv")


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def out_size(n, k, stride, pad):
    span = n + 2 * pad - k
    assert span >= 0 and span % stride == 0, (n, k, stride, pad)
    return span // stride + 1


def conv_inputs(seed, N, C, H, W, F, HH, WW, stride, pad, *, bias=1.0):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,), dout (N, F, H_out, W_out); kwargs stride, pad."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, HH, WW))
    b = bias * rng.standard_normal(F)
    dout = rng.standard_normal((N, F, out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)))
    return (x, w, b, dout), {"stride": stride, "pad": pad}


def conv_case(label, *args, **kwargs):
    a, kw = conv_inputs(*args, **kwargs)
    return Case(label, a, kw)


def conv_cases(t):
    cases = [
        # The first case has N > 1, pad > 0, an asymmetric non-square kernel and non-zero biases:
        # every known mistake shows in it.
        conv_case("N=2, C=3, 5x6 input, F=2, 3x2 filters, stride 1, pad 1",
                  1, 2, 3, 5, 6, 2, 3, 2, 1, 1),
        # The shapes of the first case with another stride and pad, right after it: indices
        # (im2col's) or sizes kept in a module-level dict by the shapes of x and w alone are
        # stale here.
        conv_case("N=2, C=3, 5x6 input, F=2, 3x2 filters, stride 2, pad 0: the first case's "
                  "shapes with another stride and pad (what is kept from an earlier call by "
                  "shapes alone is stale here)", 7, 2, 3, 5, 6, 2, 3, 2, 2, 0),
        conv_case("N=1, C=1, 7x7 input, a 3x3 filter, stride 2, pad 0", 2, 1, 1, 7, 7, 1, 3, 3,
                  2, 0),
        conv_case("N=3, C=2, 7x8 input, F=3, 2x3 filters, stride 3, pad 2",
                  3, 3, 2, 7, 8, 3, 2, 3, 3, 2),
        conv_case("N=2, C=4, 4x5 input, F=2, 1x1 filters, stride 1, pad 0", 4, 2, 4, 4, 5, 2, 1,
                  1, 1, 0),
        conv_case("N=2, C=2, 5x5 input, F=3, 5x5 filters (one output position), pad 0",
                  5, 2, 2, 5, 5, 3, 5, 5, 1, 0),
        conv_case("N=2, C=1, 4x6 input, F=2, 3x3 filters, stride 1, pad 2 (output larger than "
                  "the input)", 6, 2, 1, 4, 6, 2, 3, 3, 1, 2),
    ]
    return cases + t.hidden("conv", "conv_cases", conv_case)


def distinct(rng, shape, scale=3.0):
    """Values that are all different (a shuffled grid), so max pooling has no ties."""
    size = int(np.prod(shape))
    return scale * (rng.permutation(size).reshape(shape) / size - 0.5)


def pool_inputs(seed, N, C, H, W, pool_size, stride):
    rng = np.random.default_rng(seed)
    x = distinct(rng, (N, C, H, W))
    dout = rng.standard_normal((N, C, out_size(H, pool_size, stride, 0),
                                out_size(W, pool_size, stride, 0)))
    return (x, dout), {"pool_size": pool_size, "stride": stride}


def pool_case(label, *args):
    a, kw = pool_inputs(*args)
    return Case(label, a, kw)


def pool_cases(t):
    cases = [
        # First: overlapping windows, so that mistakes about overlaps show at once.
        pool_case("N=2, C=3, 7x9 input, overlapping 3x3 windows, stride 2", 1, 2, 3, 7, 9, 3, 2),
        # The first case's shape with another stride, right after it: window indices kept in a
        # module-level dict by the shape of x alone are stale here.
        pool_case("N=2, C=3, 7x9 input, 3x3 windows, stride 1: the first case's shape with "
                  "another stride (what is kept from an earlier call by shape alone is stale "
                  "here)", 7, 2, 3, 7, 9, 3, 1),
        pool_case("N=1, C=1, 4x4 input, 2x2 windows, stride 2", 2, 1, 1, 4, 4, 2, 2),
        pool_case("N=2, C=2, 6x8 input, 2x2 windows, stride 2", 3, 2, 2, 6, 8, 2, 2),
        pool_case("N=2, C=2, 5x4 input, 2x2 windows, stride 1 (heavy overlap)", 4, 2, 2, 5, 4, 2,
                  1),
        pool_case("N=1, C=2, 8x5 input, 2x2 windows, stride 3 (gaps between windows)", 5, 1, 2,
                  8, 5, 2, 3),
        pool_case("N=3, C=1, 3x6 input, 3x3 windows, stride 3", 6, 3, 1, 3, 6, 3, 3),
    ]
    return cases + t.hidden("conv", "pool_cases", pool_case)


def gap_inputs(seed, N, C, H, W):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)) + 0.5
    return (x, rng.standard_normal((N, C))), {}


def gap_cases(t):
    cases = [Case("N=2, C=3, 4x5 input", *gap_inputs(1, 2, 3, 4, 5)),
             Case("N=1, C=1, 7x3 input", *gap_inputs(2, 1, 1, 7, 3)),
             Case("N=3, C=2, 1x1 input", *gap_inputs(3, 3, 2, 1, 1))]
    return cases + t.hidden("conv", "gap_cases", gap_inputs)


# ---------------------------------------------------------------------------------------------
# The layers (spec toolkit): cases are (inputs..., dout) with the hyperparameters as kwargs
# ---------------------------------------------------------------------------------------------

CONV_ARGS, CONV_GRADS = ("x", "w", "b"), ("dx", "dw", "db")
CONV_NAIVE = Layer(SPEC, "conv_naive", forward="conv_forward_naive",
                   backward="conv_backward_naive", argnames=CONV_ARGS, grads=CONV_GRADS,
                   cases=conv_cases)
CONV = Layer(SPEC, "conv", argnames=CONV_ARGS, grads=CONV_GRADS, cases=conv_cases)
MAX_POOL_NAIVE = Layer(SPEC, "max_pool_naive", forward="max_pool_forward_naive",
                       backward="max_pool_backward_naive", argnames=("x",), grads=("dx",),
                       cases=pool_cases)
MAX_POOL = Layer(SPEC, "max_pool", argnames=("x",), grads=("dx",), cases=pool_cases)
AVG_POOL = Layer(SPEC, "avg_pool", argnames=("x",), grads=("dx",), cases=pool_cases)
GLOBAL_AVG_POOL = Layer(SPEC, "global_avg_pool", argnames=("x",), grads=("dx",),
                        cases=gap_cases)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def _name(target):
    return target.split(".", 1)[1]


def _out_and_cache(target, got, label):
    """(out, cache) from a forward pass, or Failed saying what came back instead."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failed(f"{_name(target)}({label}): should return a pair (out, cache), got "
                     f"{describe(got)}", hint="end the function with `return out, cache`")
    out, cache = got
    return out, cache




def at_most_two_nested_loops(t, target):
    """Fail when the code that runs for ``target`` (the function and what of the package it
    calls, aliases or wraps) nests loops more than two deep (window offsets k, l are allowed)."""
    t.no_case()
    finding = t.loops(target)
    if finding.dynamic:
        raise Failed(f"{_name(target)}: the grader cannot see which code runs: the package uses "
                     f"{finding.dynamic}; write the fast version as plain code")
    no_per_element_calls(target, finding)
    if finding.depth > 2:
        note = "; a recursive call counts as one loop" if "recursion" in finding.where else ""
        raise Failed(
            f"{_name(target)}: its loops, with those of the code it calls, are nested "
            f"{finding.depth} deep ({finding.where}{note}); the fast version may loop only over "
            "the offsets inside the window (two nested loops at most), never over examples, "
            "channels, filters and output positions",
            hint="copy the strided slice xpad[:, :, k::stride, l::stride] of the whole batch for "
                 "each kernel offset (k, l), then do one matrix product")


CONV_AXES = {"N": "examples", "C": "input channels", "F": "filters", "H_out": "output rows",
             "W_out": "output columns"}
POOL_AXES = {"N": "examples", "C": "channels", "H_out": "output rows", "W_out": "output columns"}


def conv_of_size(sizes, rng):
    """A 3x3 convolution, stride 1, pad 1 (so H_out = H), of the given sizes."""
    N, C, F, H, W = sizes["N"], sizes["C"], sizes["F"], sizes["H_out"], sizes["W_out"]
    args = [rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, 3, 3)),
            rng.standard_normal(F)]
    return args, {"stride": 1, "pad": 1}


def pool_of_size(sizes, rng):
    """Overlapping 3x3 windows at stride 2 (H = 2 H_out + 1), of the given sizes."""
    N, C, H, W = sizes["N"], sizes["C"], sizes["H_out"], sizes["W_out"]
    return [rng.standard_normal((N, C, 2 * H + 1, 2 * W + 1))], {"pool_size": 3, "stride": 2}


def _timed(t, target, *args, opaque=(), what, method=None, target_name=None, **kwargs):
    """A call of ``target`` (or of ``method`` of the handle args[0]) within the time limit."""
    try:
        if method is not None:
            return t.student.method(args[0], method, *args[1:], opaque=opaque, **kwargs)
        return t.student.call(target, *args, opaque=opaque, **kwargs)
    except StudentTimeout:
        target = target or target_name
        raise Failed(f"{_name(target)}: did not finish {what} within the time limit (the "
                     "reference needs well under a second): something is not vectorized",
                     hint="loop over the kernel offsets at most; gather all windows with "
                          "strided slices and use one matrix product (im2col)") from None


# A layer that the reference does in about 0.2 s on one core, and that four nested loops over
# examples, filters and output positions (8.4 million iterations) need tens of seconds for.
SPEED_CONV = (128, 3, 32, 32, 64, 3, 3, 1, 1)


SPEED_PROBE_SEED = 1234
_SPEED_EXPECTED = {}  # recipe name -> reference result: the inputs never change


@functools.lru_cache(maxsize=1)
def speed_inputs():
    """x, w, b of the large layer, the random vectors its results are projected on, the
    upstream gradient's (N, F) values (dout[n, f, i, j] = a[n, f]) and the layer's kwargs."""
    N, C, H, W, F, HH, WW, stride, pad = SPEED_CONV
    rng = np.random.default_rng(99)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, HH, WW)) * 0.1
    b = rng.standard_normal(F)
    H_out, W_out = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    probe = np.random.default_rng(SPEED_PROBE_SEED)
    r_out = probe.standard_normal(H_out * W_out)
    r_in = probe.standard_normal(H * W)
    a = probe.standard_normal((N, F))
    return x, w, b, r_out, r_in, a, {"stride": stride, "pad": pad}


# The large layer's results are checked through exact identities of the convolution (stride 1),
# each a sum over the 3x3 kernel offsets, so that the judge never redoes the whole layer; the
# tests check them against the reference layer itself.

def _window_sums(x, r, pad, HH, WW):
    """G[n, c, k, l] = sum_ij r[i, j] xpad[n, c, i + k, j + l] for r of the output's shape."""
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out, W_out = r.shape
    G = np.empty(x.shape[:2] + (HH, WW))
    for k in range(HH):
        for j in range(WW):
            G[:, :, k, j] = np.tensordot(xpad[:, :, k:k + H_out, j:j + W_out], r, axes=2)
    return G


def conv_speed_forward(cw, x, w, b, r_out, *, stride, pad):
    """sum_ij r[i, j] out[n, f, i, j] = sum_ckl w[f, c, k, l] G[n, c, k, l] + b[f] sum(r),
    where G[n, c, k, l] = sum_ij r[i, j] xpad[n, c, i + k, j + l]: (N, F)."""
    assert stride == 1
    HH, WW = w.shape[2], w.shape[3]
    H_out, W_out = x.shape[2] + 2 * pad - HH + 1, x.shape[3] + 2 * pad - WW + 1
    G = _window_sums(x, r_out.reshape(H_out, W_out), pad, HH, WW)
    return np.einsum("fckl,nckl->nf", w, G) + b * r_out.sum()


def conv_speed_backward(cw, x, w, b, a, r_in, *, stride, pad):
    """dx projected on r_in over the input positions (N, C), dw and db, for the upstream
    gradient dout[n, f, i, j] = a[n, f]:
    db[f] = H_out W_out sum_n a[n, f];  dw[f, c, k, l] = sum_n a[n, f] S[n, c, k, l] with
    S[n, c, k, l] = sum_ij xpad[n, c, i + k, j + l];  dx[n, c, h, w] = sum_f a[n, f]
    M[f, c, h, w] with M[f, c] = sum_kl w[f, c, k, l] (the input positions that offset (k, l)
    of some output position reaches)."""
    assert stride == 1
    N, C, H, W = np.shape(x)
    F, HH, WW = w.shape[0], w.shape[2], w.shape[3]
    H_out, W_out = H + 2 * pad - HH + 1, W + 2 * pad - WW + 1
    db = H_out * W_out * a.sum(axis=0)
    dw = np.einsum("nf,nckl->fckl", a, _window_sums(x, np.ones((H_out, W_out)), pad, HH, WW))
    M = np.zeros((F, C, H + 2 * pad, W + 2 * pad))
    for k in range(HH):
        for j in range(WW):
            M[:, :, k:k + H_out, j:j + W_out] += w[:, :, k:k + 1, j:j + 1]
    M = M[:, :, pad:pad + H, pad:pad + W]
    dx_projected = np.einsum("nf,fcp,p->nc", a, M.reshape(F, C, H * W), r_in)
    return dx_projected, dw, db


def _speed_expected(t, recipe, *args, **kwargs):
    """The reference result of a speed-test recipe, computed once per process (its inputs never
    change) by the live reference; a recording or recorded oracle is always asked."""
    live = getattr(t.ref, "recorded", None) is None and getattr(t.ref, "recording", 1) is None
    if not live or recipe.__name__ not in _SPEED_EXPECTED:
        result = t.ref.run(recipe, *args, **kwargs)
        if not live:
            return result
        _SPEED_EXPECTED[recipe.__name__] = result
    return _SPEED_EXPECTED[recipe.__name__]


def _remote_projection(t, target, handle, shape, r, what, *, keep=2):
    """``handle`` (an array kept in the worker) reshaped to (shape[0], ..., shape[keep - 1], -1)
    and multiplied by r, computed in the worker: a small result that depends on every entry."""
    try:
        got_shape = t.student.getattr(handle, "shape")
    except StudentError:
        got_shape = None
    if not isinstance(got_shape, (tuple, list)) or tuple(got_shape) != tuple(shape):
        raise Failed(f"{_name(target)}(large layer): {what} should be an array of shape "
                     f"{tuple(shape)}, got {got_shape!r:.80}", kind="shape")
    flat = _timed(t, None, handle, *shape[:keep], -1, method="reshape", opaque=[0],
                  what=f"reading {what}", target_name=target)
    return _timed(t, None, flat, r, method="dot", what=f"reading {what}", target_name=target)


def conv_speed(t, *, backward):
    """The large layer within the time limit, and its results compared (projected in the
    worker on a random vector, so that nothing large travels yet every entry counts)."""
    N, C, H, W, F, HH, WW, stride, pad = SPEED_CONV
    x, w, b, r_out, r_in, a, kw = speed_inputs()
    t.case("large layer")
    what = (f"a forward pass on x of shape {x.shape} with {F} filters of {HH}x{WW}, stride "
            f"{stride}, pad {pad}")
    handles = _timed(t, "conv.conv_forward", x, w, b, opaque=[0, 1], what=what, **kw)
    out, cache = _out_and_cache("conv.conv_forward", handles, "large layer")
    H_out, W_out = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    if not backward:
        got = _remote_projection(t, "conv.conv_forward", out, (N, F, H_out, W_out), r_out,
                                 "out")
        expected = _speed_expected(t, conv_speed_forward, x, w, b, r_out, **kw)
        t.compare("conv.conv_forward", got, expected, names=("out projected on a random "
                                                             "vector",), label="large layer")
        return
    # dout[n, f, i, j] = a[n, f], built in the worker from the forward's output in one step
    # (out clipped to [a, a]): nothing large travels
    a4 = a.reshape(N, F, 1, 1)
    dout = _timed(t, None, out, a4, a4, method="clip", opaque=[0], what="building dout",
                  target_name="conv.conv_backward")
    grads = _timed(t, "conv.conv_backward", dout, cache, opaque=[0, 1, 2],
                   what=f"the backward pass of {what}")
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        raise Failed(f"conv_backward(large layer): should return (dx, dw, db), got "
                     f"{describe(grads)}", kind="type")
    dx = _remote_projection(t, "conv.conv_backward", grads[0], x.shape, r_in, "dx")
    dw = _timed(t, None, grads[1], method="copy", what="reading dw",
                target_name="conv.conv_backward")
    db = _timed(t, None, grads[2], method="copy", what="reading db",
                target_name="conv.conv_backward")
    expected = _speed_expected(t, conv_speed_backward, x, w, b, a, r_in, **kw)
    t.compare("conv.conv_backward", (dx, dw, db), expected,
              names=("dx projected on a random vector", "dw", "db"), label="large layer")


# A wide layer with a single output position (3x3 inputs, 3x3 filters, C=1): the reference does
# it in about 0.1 s on one core (correct variants: sliding windows with tensordot or einsum, loops
# over the kernel offsets, in 0.6 s at most), while a loop over examples and filters (the nesting
# rule allows two loops) runs 16.8 million times: over 20 s with the cheapest body (a dot product
# of two 9-vectors, 1.3 us), about 2 minutes with tensordot or a windowed sum.
WIDE_CONV = (4096, 1, 3, 3, 4096, 3, 3, 1, 0)


@functools.lru_cache(maxsize=1)
def wide_inputs():
    """x, w, b of the wide layer and the random vector over the filters its output is
    projected on."""
    N, C, H, W, F, HH, WW, stride, pad = WIDE_CONV
    rng = np.random.default_rng(98)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, HH, WW)) * 0.3
    b = rng.standard_normal(F)
    r = np.random.default_rng(SPEED_PROBE_SEED + 1).standard_normal(F)
    return x, w, b, r, {"stride": stride, "pad": pad}


def conv_wide_forward(cw, x, w, b, r, *, stride, pad):
    """sum_f r[f] out[n, f, 0, 0] = x_flat[n] @ (w_flat.T @ r) + b @ r, for one output position
    (the filters cover the whole input): (N,)."""
    assert stride == 1 and pad == 0 and x.shape[2:] == w.shape[2:]
    N, F = x.shape[0], w.shape[0]
    return x.reshape(N, -1) @ (w.reshape(F, -1).T @ r) + b @ r


def conv_wide(t):
    """The wide layer within the time limit, its output projected in the worker on a random
    vector over the filters (one number per example)."""
    N, C, H, W, F, HH, WW, stride, pad = WIDE_CONV
    x, w, b, r, kw = wide_inputs()
    t.case("wide layer")
    what = (f"a forward pass on x of shape {x.shape} with {F} filters of {HH}x{WW} (one output "
            "position: loops over examples and filters run N*F = "
            f"{N * F / 1e6:.1f} million times)")
    handles = _timed(t, "conv.conv_forward", x, w, b, opaque=[0, 1], what=what, **kw)
    out, _ = _out_and_cache("conv.conv_forward", handles, "wide layer")
    got = _remote_projection(t, "conv.conv_forward", out, (N, F, 1, 1), r, "out", keep=1)
    expected = _speed_expected(t, conv_wide_forward, x, w, b, r, **kw)
    t.compare("conv.conv_forward", got, expected,
              names=("out projected on a random vector over the filters",), label="wide layer")


# ---------------------------------------------------------------------------------------------
# conv_output_size
# ---------------------------------------------------------------------------------------------

SIZES = [  # n, kernel, stride, pad, expected
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 1, 1, 7), (32, 5, 1, 0, 28), (227, 11, 4, 0, 55),
    (5, 5, 1, 0, 1), (1, 3, 1, 1, 1), (8, 2, 2, 0, 4), (11, 4, 3, 1, 4), (6, 1, 1, 2, 10),
]
NOT_FITTING = [  # n, kernel, stride, pad, why
    (7, 3, 3, 0, "(7 - 3) / 3 + 1 = 2.33: a 3-wide filter at stride 3 does not fit 7"),
    (12, 5, 2, 1, "(12 + 2 - 5) = 9 is not a multiple of the stride 2"),
    (4, 9, 1, 2, "the filter (9) is larger than the padded input (4 + 2*2 = 8)"),
    (3, 5, 1, 0, "the filter (5) is larger than the input (3)"),
]


@SPEC.test("conv_output_size", points=1)
def conv_output_size(t):
    """(n + 2*pad - kernel) // stride + 1; ValueError naming the numbers when it does not fit."""
    target = "conv.conv_output_size"
    sizes = SIZES + t.hidden("conv", "sizes")
    for n, k, s, p, expected in sizes:
        label = f"n={n}, kernel={k}, stride={s}, pad={p}"
        t._label(label)  # an error raised here names these arguments
        got = t.student.call(target, n, k, stride=s, pad=p)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Failed(f"conv_output_size({label}): should return an int, got "
                         f"{describe(got)} ({got!r})",
                         hint="use integer division // (sizes are whole numbers)")
        if int(got) != expected:
            t.compare(target, int(got), expected, label=label,
                      mistakes=lambda: t.ref.mistakes(target, target, n, k, stride=s, pad=p))
    t.no_case()  # the public cases of this loop come before its hidden ones again
    for n, k, s, p, why in NOT_FITTING + t.hidden("conv", "not_fitting"):
        label = f"n={n}, kernel={k}, stride={s}, pad={p}"
        try:
            got = t.student.call(target, n, k, stride=s, pad=p)
        except StudentError as error:
            kind = error.message.split(":", 1)[0]
            if kind != "ValueError":
                raise Failed(f"conv_output_size({label}): raised {kind}, but a window that does "
                             "not fit should raise ValueError", hint=None) from None
            text = error.message.split(":", 1)[1] if ":" in error.message else ""
            # the docstring: "The message names n, kernel, stride and pad" (each as a number
            # of its own: the 2 of 12 is not a stride of 2)
            missing = [f"{what} {v}" for what, v in (("input size", n), ("kernel", k),
                                                     ("stride", s), ("pad", p))
                       if not re.search(rf"(?<![\d.]){v}(?!\d|\.\d)", text)]
            if missing:
                raise Failed(f"conv_output_size({label}): the ValueError message "
                             f"{text.strip()!r} should name the numbers (input size {n}, "
                             f"kernel {k}, stride {s}, pad {p}); it lacks "
                             f"{', '.join(missing)}",
                             hint="name all four numbers in the message, as the docstring's "
                                  "example does: \"a filter of size 3 with stride 3 and pad 0 "
                                  "does not fit an input of size 7\"") from None
            continue
        raise Failed(f"conv_output_size({label}): should raise ValueError because {why}, but "
                     f"returned {got!r}",
                     hint="the window must fit exactly: raise ValueError when kernel > n + "
                          "2*pad or when (n + 2*pad - kernel) % stride != 0")


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------

@SPEC.test("conv_forward_naive", points=2)
def conv_forward_naive(t):
    """Cross-correlation with zero padding and stride, loops allowed."""
    CONV_NAIVE.forward_test(t)


@SPEC.test("conv_backward_naive", points=3)
def conv_backward_naive(t):
    """dx, dw, db of the convolution (with the student's own forward cache), loops allowed."""
    CONV_NAIVE.backward_test(t)


@SPEC.test("conv_forward", points=3)
def conv_forward(t):
    """Same results as the naive forward, vectorized (loops over kernel offsets at most), fast."""
    CONV.forward_test(t)
    at_most_two_nested_loops(t, "conv.conv_forward")
    no_loop_over(t, "conv.conv_forward", conv_of_size, CONV_AXES)
    conv_speed(t, backward=False)
    conv_wide(t)


@SPEC.test("conv_backward", points=4)
def conv_backward(t):
    """Same results as the naive backward, vectorized (loops over kernel offsets at most), fast."""
    CONV.backward_test(t)
    at_most_two_nested_loops(t, "conv.conv_backward")
    no_loop_over(t, "conv.conv_backward", conv_of_size, CONV_AXES, forward="conv.conv_forward")
    conv_speed(t, backward=True)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

def check_ties(t, forward, backward):
    """Max pooling of inputs with tied maxima (0/1 values, and windows of equal values):
    each window's gradient must reach the input through its maximum, in all once. The
    docstring lets either of tied maxima take it (or share it); giving the full gradient to
    every tied maximum counts it several times. Non-overlapping windows, so that each window's
    share of dx can be read off; then overlapping ones (``check_overlapping_ties``)."""
    t.no_case()  # public checks, after the hidden cases of the backward test
    for label, shape, size in (("0/1 values with ties, 2x2 windows, stride 2", (2, 2, 4, 6), 2),
                               ("0/1 values with ties, 3x3 windows, stride 3", (1, 2, 6, 3), 3)):
        rng = np.random.default_rng(size)
        x = rng.integers(0, 2, shape).astype(np.float64)
        x[0, 0, :size, :size] = 0.5  # one window whose values are all equal
        dout = rng.uniform(0.5, 1.5, (shape[0], shape[1], shape[2] // size, shape[3] // size))
        kwargs = {"pool_size": size, "stride": size}
        cache = student_forward(t, forward, [x], kwargs, label, ("x",))[1]
        t._label(label)
        dx = t.student.call(backward, dout, cache)
        dx = as_array("dx", dx, x)
        for n, c, i, j in np.ndindex(dout.shape):
            rows, cols = slice(i * size, (i + 1) * size), slice(j * size, (j + 1) * size)
            window, grad = x[n, c, rows, cols], dx[n, c, rows, cols]
            where = f"window [{n}, {c}, {i}, {j}] of {window.ravel().tolist()}"
            if np.any((grad != 0) & (window < window.max())):
                raise Failed(f"{_short(backward)}({label}): in {where} the gradient reaches a "
                             f"value that is not the maximum: {_values(grad)}")
            if not np.isclose(grad.sum(), dout[n, c, i, j], rtol=1e-9, atol=0):
                raise Failed(f"{_short(backward)}({label}): in {where} the gradient adds up "
                             f"to {grad.sum():.6g}, not dout = {dout[n, c, i, j]:.6g}: "
                             f"{_values(grad)}",
                             hint="on ties give the window's gradient to one maximum (the "
                                  "first, say), not in full to each: a mask `window == max` "
                                  "marks every tied maximum")
    check_overlapping_ties(t, forward, backward)


def check_overlapping_ties(t, forward, backward):
    """Ties in overlapping windows (3x3, stride 2): each window's share of dx cannot be read off
    one dx, so the backward runs once per window, with dout 1 there and 0 elsewhere (through
    the same cache): its dx must lie on the window's maxima and add up to 1."""
    label = "0/1 values with ties, overlapping 3x3 windows, stride 2"
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, (1, 2, 5, 7)).astype(np.float64)
    x[0, 0, :3, :3] = 0.5  # one window whose values are all equal
    kwargs = {"pool_size": 3, "stride": 2}
    cache = student_forward(t, forward, [x], kwargs, label, ("x",))[1]
    t._label(label)
    for n, c, i, j in np.ndindex(1, 2, 2, 3):
        dout = np.zeros((1, 2, 2, 3))
        dout[n, c, i, j] = 1.0
        dx = as_array("dx", t.student.call(backward, dout, cache), x)
        rows, cols = slice(2 * i, 2 * i + 3), slice(2 * j, 2 * j + 3)
        window = x[n, c, rows, cols]
        where = f"window [{n}, {c}, {i}, {j}] of {window.ravel().tolist()}"
        outside = dx.copy()
        outside[n, c, rows, cols] = 0
        grad = dx[n, c, rows, cols]
        if np.any(outside != 0) or np.any((grad != 0) & (window < window.max())):
            raise Failed(f"{_short(backward)}({label}): with dout 1 at {where} and 0 elsewhere, "
                         "the gradient reaches a value that is not that window's maximum")
        if not np.isclose(grad.sum(), 1.0, rtol=1e-9, atol=0):
            raise Failed(f"{_short(backward)}({label}): with dout 1 at {where} and 0 elsewhere, "
                         f"the gradient adds up to {grad.sum():.6g}, not 1: {_values(grad)}",
                         hint="on ties give the window's gradient to one maximum (the first, "
                              "say), not in full to each, also where windows overlap: a mask "
                              "`window == max` marks every tied maximum")


def _values(array):
    return np.round(array.ravel(), 4).tolist()


def _short(target):
    return target.split(".", 1)[1]


@SPEC.test("max_pool_forward_naive", points=1)
def max_pool_forward_naive(t):
    """Max over each window, windows may overlap; loops allowed."""
    MAX_POOL_NAIVE.forward_test(t)


@SPEC.test("max_pool_backward_naive", points=2)
def max_pool_backward_naive(t):
    """Each window's gradient goes to its maximum; overlapping windows add up; loops allowed."""
    MAX_POOL_NAIVE.backward_test(t)
    check_ties(t, MAX_POOL_NAIVE.forward, MAX_POOL_NAIVE.backward)


@SPEC.test("max_pool_forward", points=2)
def max_pool_forward(t):
    """Same results as the naive max pooling, looping over window offsets at most."""
    MAX_POOL.forward_test(t)
    at_most_two_nested_loops(t, "conv.max_pool_forward")
    no_loop_over(t, "conv.max_pool_forward", pool_of_size, POOL_AXES,
                 allowed="the offsets inside the window (k, l)")


@SPEC.test("max_pool_backward", points=2)
def max_pool_backward(t):
    """Same results as the naive max-pool backward, looping over window offsets at most."""
    MAX_POOL.backward_test(t)
    check_ties(t, MAX_POOL.forward, MAX_POOL.backward)
    at_most_two_nested_loops(t, "conv.max_pool_backward")
    no_loop_over(t, "conv.max_pool_backward", pool_of_size, POOL_AXES,
                 forward="conv.max_pool_forward", allowed="the offsets inside the window (k, l)")


@SPEC.test("avg_pool_forward", points=1)
def avg_pool_forward(t):
    """Mean over each window (pool_size**2 values), looping over window offsets at most."""
    AVG_POOL.forward_test(t)
    at_most_two_nested_loops(t, "conv.avg_pool_forward")
    no_loop_over(t, "conv.avg_pool_forward", pool_of_size, POOL_AXES,
                 allowed="the offsets inside the window (k, l)")


@SPEC.test("avg_pool_backward", points=2)
def avg_pool_backward(t):
    """dout / pool_size**2 to every input of the window, overlaps adding up."""
    AVG_POOL.backward_test(t)
    at_most_two_nested_loops(t, "conv.avg_pool_backward")
    no_loop_over(t, "conv.avg_pool_backward", pool_of_size, POOL_AXES,
                 forward="conv.avg_pool_forward", allowed="the offsets inside the window (k, l)")


@SPEC.test("global_avg_pool_forward", points=1)
def global_avg_pool_forward(t):
    """The mean of each feature map: (N, C, H, W) -> (N, C)."""
    GLOBAL_AVG_POOL.forward_test(t)


@SPEC.test("global_avg_pool_backward", points=1)
def global_avg_pool_backward(t):
    """dout[n, c] / (H * W) at every position of the feature map."""
    GLOBAL_AVG_POOL.backward_test(t)
