"""Fair: correct but unusual implementations across units 01-10 keep full marks.

44 variants (54 functions), graded against the reference with the public and hidden cases,
the known mistakes and the static rules: unit 01, 4 (einsum and boolean one-hots,
np.logaddexp.reduce, math.fsum over Python floats, a walrus); unit 02, 8 (tensordot and a
dataclass cache, np.where and an int8 mask, sigmoid by tanh, expm1, take/put_along_axis,
np.subtract.at, softplus by logaddexp, np.nditer); unit 03, 6 (sliding_window_view and
tensordot, as_strided and argmax, np.ndindex, np.add.at over slices, np.add.reduce); unit 04,
4 (a @staticmethod namespace, an annotated local, a namedtuple cache, list(map(lambda ...)),
in-place ops on new arrays); unit 05, 3 (in-place moments on copies, a match statement
returning a NumPy float, PyTorch's clip form); unit 07, 8 (np.kron, np.add.reduceat, integer
index masks, a nested per-class function, np.add.at, keyed sorting over the classes, a genexp
over a written-out pair); unit 08, 4 (np.diff/np.prod areas, sorted with a key,
itertools.accumulate); unit 09, 3 (stacked RNN weights, one-hot embedding gradient,
logaddexp); units 06 and 10, 4 (torch.where BCE, F.mse_loss, parameter registration order).

The findings: three correct vectorized functions scored 0 as "calls a function once per
element": ``N, C, H, W = map(int, x.shape)`` in conv_forward and ``N, _ = map(int, X.shape)``
in svm_loss_vectorized (a map unpacked into names makes as many calls as names), and
``functools.reduce(np.maximum, parts)`` in max_pool_forward with ``parts`` a generator over the
window offsets (a comprehension is counted by the line counts and the static depth where it
stands). A ``key=`` lambda over the classes (dice_per_class) was refused too, although its
calls run student lines, which the line counts see. ``rules.py`` now bounds these; a key that
is NumPy's or a builtin, a map over a name, a list that may grow after it is made, a starred
unpacking and a decorated key are still refused, and a key lambda or a comprehension over the
examples still fails by the line counts.

Left as it is: SEBlock with ``fc2`` registered before ``fc1`` fails, since unit 06's module
docstring makes registration in forward order a convention the grader relies on.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program
from autograder.sandbox import Limits

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unusual-but-correct")

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)


def defined(code):
    import re

    return re.findall(r"^(?:def|class) ([A-Za-z]\w*)", code, re.M)


def graded(tmp_path_factory, units, append):
    keys = {f"{m[:-3]}.{n}" for m, code in append.items() for n in defined(code)}
    sub = make_submission(tmp_path_factory.mktemp("r26"), append=append)
    report = engine.grade(sub, units, keys=keys, limits=LIMITS)
    got = {k: (e["status"], e["score"], e["message"]) for u in report["units"].values()
           for k, e in u["functions"].items()}
    assert set(got) == keys
    return got


# ---------------------------------------------------------------- the variants

LINEAR = '''
import math


def svm_loss_vectorized(W, X, y, reg):
    _check_loss_inputs("svm_loss_vectorized", W, X, y, reg)
    N, _ = map(int, X.shape)                    # unpacking a map over the shape
    scores = np.einsum("nd,dc->nc", X, W)
    correct = np.take_along_axis(scores, y[:, None], axis=1)
    is_true = np.arange(W.shape[1])[None, :] == y[:, None]   # a boolean one-hot
    margins = np.where(is_true, 0.0, np.maximum(scores - correct + 1.0, 0.0))
    positive = np.count_nonzero(margins > 0, axis=1)
    coeff = (margins > 0) - is_true * positive[:, None]      # integer coefficients
    dW = np.einsum("nd,nc->dc", X, coeff) / N + 2 * reg * W
    return margins.sum() / N + reg * np.vdot(W, W), dW.astype(W.dtype, copy=False)


def softmax_loss_vectorized(W, X, y, reg):
    _check_loss_inputs("softmax_loss_vectorized", W, X, y, reg)
    scores = np.tensordot(X, W, axes=1)
    lse = np.logaddexp.reduce(scores, axis=1, keepdims=True)  # log-sum-exp without a max shift
    log_p = scores - lse
    n = len(y)
    one_hot = np.eye(W.shape[1], dtype=W.dtype)[y]
    loss = -(log_p * one_hot).sum() / n + reg * np.sum(np.square(W))
    dW = X.T.dot(np.exp(log_p) - one_hot) / n + 2 * reg * W
    return np.float64(loss), dW                  # a NumPy scalar, not a Python float


def softmax_loss_naive(W, X, y, reg):
    _check_loss_inputs("softmax_loss_naive", W, X, y, reg)
    dW = np.zeros_like(W)
    total = 0.0
    for i, (x_i, y_i) in enumerate(zip(X, y)):
        s = [float(v) for v in x_i @ W]
        top = max(s)
        z = math.fsum(math.exp(v - top) for v in s)
        total += math.log(z) - (s[y_i] - top)
        for j, v in enumerate(s):
            dW[:, j] += (math.exp(v - top) / z - (j == y_i)) * x_i
    n = X.shape[0]
    return total / n + reg * float(np.sum(W ** 2)), dW / n + 2 * reg * W


def svm_loss_naive(W, X, y, reg):
    _check_loss_inputs("svm_loss_naive", W, X, y, reg)
    dW = np.zeros(W.shape, dtype=W.dtype)
    loss = 0.0
    n, c = X.shape[0], W.shape[1]
    for i in range(n):
        s = X[i].dot(W)
        for j in range(c):
            if j != y[i] and (margin := s[j] - s[y[i]] + 1) > 0:   # walrus
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return float(loss / n + reg * (W ** 2).sum()), dW / n + 2 * reg * W
'''

LAYERS = '''
import numpy as np
from dataclasses import dataclass as _dataclass


@_dataclass(frozen=True)
class _AffineCache:
    x_shape: tuple
    x_flat: object
    w: object


def affine_forward(x, w, b):
    for what, value in (("x", x), ("w", w), ("b", b)):
        check_array("affine_forward", what, value)
    flat = x.reshape(len(x), -1)
    out = np.tensordot(flat, w, axes=([1], [0])) + b[None, :]
    return out, _AffineCache(tuple(s for s in x.shape), flat, w)


def affine_backward(dout, cache):
    dx = np.einsum("nm,dm->nd", dout, cache.w).reshape(cache.x_shape)
    dw = np.einsum("nd,nm->dm", cache.x_flat, dout)
    db = np.add.reduce(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    check_array("relu_forward", "x", x)
    return np.where(x > 0, x, 0), x > 0          # the mask is the cache


def relu_backward(dout, cache):
    return dout * cache.astype(np.int8)           # an integer mask


def sigmoid_forward(x):
    check_array("sigmoid_forward", "x", x)
    out = 0.5 * (1.0 + np.tanh(0.5 * x))          # no exp: no overflow
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def elu_forward(x, *, alpha=1.0):
    check_array("elu_forward", "x", x)
    neg = alpha * np.expm1(np.minimum(x, 0))
    return np.where(x > 0, x, neg), (x, neg, alpha)


def elu_backward(dout, cache):
    x, neg, alpha = cache
    return dout * np.where(x > 0, 1.0, neg + alpha)


def maxout_forward(x, w, b):
    for what, value in (("x", x), ("w", w), ("b", b)):
        check_array("maxout_forward", what, value)
    flat = x.reshape(x.shape[0], -1)
    z = np.einsum("nd,dmk->nmk", flat, w) + b
    k = np.argmax(z, axis=2)[..., None]
    return np.take_along_axis(z, k, axis=2)[..., 0], (x, w, k)


def maxout_backward(dout, cache):
    x, w, k = cache
    dz = np.zeros(dout.shape + (w.shape[2],), dtype=dout.dtype)
    np.put_along_axis(dz, k, dout[..., None], axis=2)
    flat = x.reshape(x.shape[0], -1)
    return (np.einsum("nmk,dmk->nd", dz, w).reshape(x.shape),
            np.einsum("nd,nmk->dmk", flat, dz), dz.sum(0))
'''

LOSSES = '''
import numpy as np
def softmax_loss(scores, y):
    _check_scores_labels("softmax_loss", scores, y)
    n = scores.shape[0]
    log_p = scores - np.logaddexp.reduce(scores, axis=1)[:, None]
    picked = np.take_along_axis(log_p, y.reshape(-1, 1), axis=1)
    d = np.exp(log_p)
    np.subtract.at(d, (np.arange(n), y), 1)
    return -picked.mean(), d / n


def bce_with_logits_loss(logits, target):
    _check_same_shape("bce_with_logits_loss", logits, target, ("logits", "target"))
    k = logits.size
    loss = np.mean(np.logaddexp(0.0, logits) - target * logits)   # softplus(x) - t x
    sig = np.exp(-np.logaddexp(0.0, -logits))                      # sigmoid via softplus
    return float(loss), (sig - target) / k
'''

GRADCHECK = '''
import numpy as np
def numerical_gradient(f, x, *, h=1e-5):
    check_real("numerical_gradient", "the step h", h, positive=True)
    _check_float_array("numerical_gradient", x)
    _check_scalar_output("numerical_gradient", f, x)
    grad = np.zeros_like(x)
    with np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]]) as it:
        for v in it:
            old = v.item()
            v[...] = old + h
            up = f(x)
            v[...] = old - h
            down = f(x)
            v[...] = old
            grad[it.multi_index] = (up - down) / (2 * h)
    return grad
'''

CONV = '''
import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view


def _windows(xpad, HH, WW, stride):
    """A strided view (N, C, H_out, W_out, HH, WW) of every receptive field."""
    return sliding_window_view(xpad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]


def conv_forward(x, w, b, *, stride=1, pad=0):
    stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
    N, C, H, W = map(int, x.shape)                # unpacking a map over the shape
    xpad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    win = _windows(xpad, w.shape[2], w.shape[3], stride)
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))   # (N, H_out, W_out, F)
    out = np.moveaxis(out, -1, 1) + b[:, None, None]
    return np.ascontiguousarray(out), (x, w, stride, pad)


def conv_backward(dout, cache):
    check_ndim("conv_backward", "dout", dout, 4, "(N, F, H_out, W_out)")
    x, w, stride, pad = cache
    xpad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    win = _windows(xpad, HH, WW, stride)
    dw = np.einsum("nfij,ncijkl->fckl", dout, win)
    db = dout.sum(axis=(0, 2, 3))
    dxpad = np.zeros_like(xpad)
    for k, l in np.ndindex(HH, WW):               # the kernel offsets, one loop
        dxpad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += \\
            np.einsum("nfij,fc->ncij", dout, w[:, :, k, l])
    return dxpad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db


def max_pool_forward(x, *, pool_size=2, stride=2):
    pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
    H_out = (x.shape[2] - pool_size) // stride + 1
    W_out = (x.shape[3] - pool_size) // stride + 1
    parts = (x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
             for k in range(pool_size) for l in range(pool_size))
    out = functools.reduce(np.maximum, parts)     # over the window offsets only
    return out, (x, pool_size, stride, out)


def max_pool_backward(dout, cache):
    check_ndim("max_pool_backward", "dout", dout, 4, "(N, C, H_out, W_out)")
    x, p, s, out = cache
    N, C, H_out, W_out = dout.shape
    sN, sC, sH, sW = x.strides
    win = as_strided(x, (N, C, H_out, W_out, p, p), (sN, sC, s * sH, s * sW, sH, sW),
                     writeable=False)
    first = win.reshape(N, C, H_out, W_out, p * p).argmax(axis=-1)   # first maximum, row-major
    dx = np.zeros_like(x)
    for k in range(p):
        for l in range(p):
            dx[:, :, k:k + s * H_out:s, l:l + s * W_out:s] += dout * (first == k * p + l)
    return dx


def avg_pool_forward(x, *, pool_size=2, stride=2):
    pool_size, stride = _check_pool("avg_pool_forward", x, pool_size, stride)
    win = sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))[:, :, ::stride, ::stride]
    return win.mean(axis=(-2, -1)), (x.shape, pool_size, stride)


def avg_pool_backward(dout, cache):
    check_ndim("avg_pool_backward", "dout", dout, 4, "(N, C, H_out, W_out)")
    shape, p, s = cache
    H_out, W_out = dout.shape[2:]
    dx = np.zeros(shape, dtype=dout.dtype)
    for k, l in ((k, l) for k in range(p) for l in range(p)):
        np.add.at(dx, (slice(None), slice(None), slice(k, k + s * H_out, s),
                       slice(l, l + s * W_out, s)), dout / p ** 2)
    return dx


def global_avg_pool_forward(x):
    check_ndim("global_avg_pool_forward", "x", x, 4, "(N, C, H, W)")
    return np.add.reduce(x.reshape(*x.shape[:2], -1), axis=-1) / (x.shape[2] * x.shape[3]), \\
        x.shape


def global_avg_pool_backward(dout, cache):
    N, C, H, W = cache
    return np.broadcast_to((dout / (H * W))[:, :, None, None], cache).copy()
'''

NORM = '''
from collections import namedtuple

_IN = namedtuple("_IN", "xhat std gamma")


class _BN:
    """Helpers as static methods (a class used as a namespace)."""

    @staticmethod
    def batch_sum(a):
        return np.add.reduce(a, axis=0)


def batchnorm_backward_alt(dout, cache):
    xhat, std, gamma = (cache[k] for k in ("xhat", "std", "gamma"))
    N: int = dout.shape[0]                       # an annotated local
    dbeta = _BN.batch_sum(dout)
    dgamma = _BN.batch_sum(dout * xhat)
    if not cache["train"]:
        return dout * gamma / std, dgamma, dbeta
    dx = gamma / (N * std) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def instancenorm_forward(x, gamma, beta, *, eps=1e-5):
    _check_affine_params("instancenorm_forward", x, gamma, beta, 4, "(N, C, H, W)")
    _check_eps("instancenorm_forward", eps)
    flat = x.reshape(*x.shape[:2], -1)
    mu = np.einsum("ncp->nc", flat) / flat.shape[-1]
    var = np.var(flat, axis=-1)                     # NumPy's two-pass variance
    std = np.sqrt(var + eps)[:, :, None, None]
    xhat = (x - mu[:, :, None, None]) / std
    return np.einsum("c,nchw->nchw", gamma, xhat) + beta[:, None, None], _IN(xhat, std, gamma)


def instancenorm_backward(dout, cache):
    xhat, std, gamma = cache.xhat, cache.std, cache.gamma
    dxhat = dout * gamma[:, None, None]
    m = np.mean(dxhat, axis=(2, 3), keepdims=True)
    mx = np.mean(dxhat * xhat, axis=(2, 3), keepdims=True)
    return (dxhat - m - xhat * mx) / std, np.einsum("nchw,nchw->c", dout, xhat), \\
        dout.sum((0, 2, 3))
'''

REG = '''
import math


def l2_penalty(weights, reg):
    _check_weights_reg("l2_penalty", weights, reg)
    penalty = 0.5 * reg * sum(np.vdot(w, w) for w in weights)      # a NumPy float
    return penalty, list(map(lambda w: reg * w, weights))


def l1_penalty(weights, reg):
    _check_weights_reg("l1_penalty", weights, reg)
    penalty = reg * math.fsum(float(np.abs(w).sum()) for w in weights)
    grads = []
    for w in weights:
        g = np.sign(w)
        g *= reg                                   # in place, on our own new array
        grads.append(g)
    return penalty, grads
'''

OPTIM = '''
import numpy as np


def adam(w, dw, config=None):
    _check_arrays("adam", w, dw)
    config = _settings("adam", config, ADAM_DEFAULTS)
    lr, b1, b2, eps = (config[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))
    wd = config["weight_decay"]
    g = dw if config["decoupled"] else dw + wd * w
    m = config["m"].copy() if "m" in config else np.zeros_like(w)
    v = config["v"].copy() if "v" in config else np.zeros_like(w)
    m *= b1                                        # in place, on our own copies
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * np.square(g)
    t = config.get("t", 0) + 1
    base = w * (1 - lr * wd) if config["decoupled"] else w
    step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return base - step, {**config, "m": m, "v": v, "t": t}


def cosine_annealing(step, *, lr0, total_steps, lr_min=0.0, warmup_steps=0):
    _check_step("cosine_annealing", step)
    _check_positive("cosine_annealing", "lr0", lr0)
    _check_positive("cosine_annealing", "total_steps", total_steps, integer=True)
    _check_positive("cosine_annealing", "lr_min", lr_min, allow_zero=True)
    _check_positive("cosine_annealing", "warmup_steps", warmup_steps, integer=True,
                    allow_zero=True)
    if lr_min > lr0:
        raise ValueError(f"cosine_annealing: lr_min={lr_min!r} is above lr0={lr0!r}")
    if warmup_steps >= total_steps:
        raise ValueError(f"cosine_annealing: warmup_steps={warmup_steps!r} must be below "
                         f"total_steps={total_steps!r}")
    match step:
        case s if s < warmup_steps:
            return lr0 * s / warmup_steps
        case s if s >= total_steps:
            return lr_min
        case s:
            frac = (s - warmup_steps) / (total_steps - warmup_steps)
            return lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * frac))   # np.float64


def clip_grad_norm(grads, max_norm):
    if not isinstance(grads, dict):
        raise TypeError(f"clip_grad_norm: grads must be a dict of arrays, got "
                        f"{type(grads).__name__}")
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a number > 0, got {max_norm!r}")
    flat = np.concatenate([g.ravel() for g in grads.values()]) if grads else np.zeros(0)
    total = np.linalg.norm(flat)
    coef = max_norm / (total + 1e-6)                # PyTorch's form (the docstring allows it)
    return {k: g * coef if coef < 1 else g.copy() for k, g in grads.items()}, total
'''

SEG = '''
import math
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def upsample_nearest(x, *, scale):
    name = "upsample_nearest"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    scale = _as_int(name, "scale", scale, 1)
    out = np.kron(x, np.ones((1, 1, scale, scale), dtype=x.dtype))
    return out, {"scale": scale, "shape": x.shape}


def upsample_nearest_backward(dout, cache):
    scale, (N, C, H, W) = cache["scale"], cache["shape"]
    _check_dout("upsample_nearest_backward", dout, (N, C, H * scale, W * scale))
    rows = np.add.reduceat(dout, np.arange(0, H * scale, scale), axis=2)
    return np.add.reduceat(rows, np.arange(0, W * scale, scale), axis=3)


def max_pool_with_indices(x, *, pool_size=2, stride=2):
    name = "max_pool_with_indices"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    p = _as_int(name, "pool_size", pool_size, 1)
    s = _as_int(name, "stride", stride, 1)
    _check_window(name, "pool", x.shape[2:], (p, p), s, 0)
    win = sliding_window_view(x, (p, p), axis=(2, 3))[:, :, ::s, ::s]
    flat = win.reshape(*win.shape[:4], p * p)
    arg = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    H_out, W_out = out.shape[2:]
    k, l = np.divmod(arg, p)
    rows = np.arange(H_out)[:, None] * s + k
    cols = np.arange(W_out)[None, :] * s + l
    return out, (rows * x.shape[3] + cols).astype(np.int64)


def iou_per_class(pred, target, *, num_classes, ignore_index=None):
    num_classes = _as_int("iou_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("iou_per_class", pred, target, num_classes, ignore_index)
    match ignore_index:
        case None:
            keep = np.ones(target.shape, dtype=bool)
        case _:
            keep = target != ignore_index
    p, t = pred[keep], target[keep]

    def score(c):                                  # a nested function, one class at a time
        inter = np.count_nonzero((p == c) & (t == c))
        union = np.count_nonzero((p == c) | (t == c))
        return inter / union if union else math.nan

    return np.array([score(c) for c in range(num_classes)], dtype=np.float64)


def mean_iou(pred, target, *, num_classes, ignore_index=None):
    iou = iou_per_class(pred, target, num_classes=num_classes, ignore_index=ignore_index)
    return float(np.nanmean(iou)) if not np.isnan(iou).all() else math.nan


def pixel_accuracy(pred, target, *, ignore_index=None):
    name = "pixel_accuracy"
    if tuple(getattr(pred, "shape", ())) != tuple(getattr(target, "shape", ())):
        raise ValueError(f"{name}: pred and target must have the same shape, got "
                         f"{tuple(getattr(pred, 'shape', ()))} and "
                         f"{tuple(getattr(target, 'shape', ()))}")
    _check_label_dtype(name, "pred", pred)
    _check_label_dtype(name, "target", target)
    if ignore_index is not None:
        ignore_index = _as_int(name, "ignore_index", ignore_index, -(2 ** 62))
    keep = np.flatnonzero(target.ravel() != ignore_index) if ignore_index is not None \\
        else np.arange(target.size)                # integer indices, not a boolean mask
    if keep.size == 0:
        return math.nan
    return np.mean(pred.ravel()[keep] == target.ravel()[keep])    # a NumPy float


def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
    name = "confusion_matrix"
    num_classes = _as_int(name, "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps(name, pred, target, num_classes, ignore_index)
    t, p = (a.astype(np.int64).ravel() for a in (target, pred))   # over a written-out pair
    if ignore_index is not None:
        keep = t != ignore_index
        t, p = t[keep], p[keep]
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm



def dice_per_class(pred, target, *, num_classes, ignore_index=None):
    num_classes = _as_int("dice_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("dice_per_class", pred, target, num_classes, ignore_index)
    cm = confusion_matrix(pred, target, num_classes=num_classes, ignore_index=ignore_index)
    per_class = {c: (2 * cm[c, c], cm[c].sum() + cm[:, c].sum()) for c in range(num_classes)}
    return np.array([2 * cm[c, c] / d if d else math.nan          # classes by a sort key
                     for c, (_, d) in sorted(per_class.items(), key=lambda kv: kv[0])])


def pixel_cross_entropy(logits, target, *, class_weights=None, ignore_index=None):
    name = "pixel_cross_entropy"
    ignore_index = _check_logits(name, logits, target, ignore_index)
    class_weights = _check_class_vector(name, "class_weights", class_weights, logits.shape[1])
    K = logits.shape[1]
    keep = target != ignore_index if ignore_index is not None else np.full(target.shape, True)
    y = np.where(keep, target, 0)
    log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    onehot = np.moveaxis(np.eye(K, dtype=logits.dtype)[y], -1, 1)     # (N, K, H, W)
    w = (np.ones(K) if class_weights is None else class_weights)[y] * keep
    total = w.sum()
    if total == 0:
        return 0.0, np.zeros_like(logits)
    loss = -np.einsum("nkhw,nkhw,nhw->", onehot, log_p, w) / total
    return float(loss), (np.exp(log_p) - onehot) * (w / total)[:, None]
'''

DET = '''
import itertools

import numpy as np


def box_area(boxes):
    _check_xyxy("box_area", boxes)
    return np.prod(np.diff(boxes.reshape(-1, 2, 2), axis=1)[:, 0], axis=1)


def box_iou(boxes1, boxes2):
    _check_xyxy("box_iou", boxes1, "boxes1")
    _check_xyxy("box_iou", boxes2, "boxes2")
    lt = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def nms(boxes, scores, *, iou_threshold=0.5):
    _check_xyxy("nms", boxes)
    _check_scores("nms", scores, boxes.shape[0])
    _check_threshold("nms", iou_threshold)
    order = sorted(range(len(scores)), key=lambda i: -scores[i])   # stable: ties by index
    iou = box_iou(boxes, boxes)
    keep = []
    for i in order:
        if all(iou[i, j] <= iou_threshold for j in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64).reshape(-1)


def precision_recall(scores, is_tp, num_gt):
    _check_scores("precision_recall", scores)
    _check_scores("precision_recall", is_tp, scores.shape[0], "is_tp")
    if is_tp.dtype != bool:
        raise TypeError(f"precision_recall: is_tp must be a bool array, got dtype {is_tp.dtype}")
    num_gt = check_int("precision_recall", "num_gt", num_gt, minimum=0)
    if int(is_tp.sum()) > num_gt:
        raise ValueError(f"precision_recall: {int(is_tp.sum())} true positives but only "
                         f"num_gt={num_gt} ground truths")
    order = np.argsort(-scores, kind="stable")
    hits = [bool(h) for h in is_tp[order]]
    tp = np.array(list(itertools.accumulate(hits)), dtype=np.float64).reshape(-1)
    k = np.arange(1, len(hits) + 1)
    return tp / k, (tp / num_gt if num_gt else np.zeros_like(tp))
'''

RNN = '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    _check_step("rnn_step_forward", x, h_prev, Wx, Wh, b, 1)
    xh = np.hstack([x, h_prev])                        # one product with stacked weights
    h = np.tanh(xh @ np.vstack([Wx, Wh]) + b)
    return h, (xh, Wx.shape[0], Wx, Wh, h)


def rnn_step_backward(dh_next, cache):
    xh, D, Wx, Wh, h = cache
    da = dh_next * (1 - h * h)
    dxh = da @ np.vstack([Wx, Wh]).T
    dW = xh.T @ da
    return dxh[:, :D], dxh[:, D:], dW[:D], dW[D:], da.sum(0)


def word_embedding_backward(dout, cache):
    x, shape = cache
    V, D = shape
    one_hot = np.eye(V, dtype=dout.dtype)[x.reshape(-1)]       # (N*T, V)
    return one_hot.T @ dout.reshape(-1, D)


def temporal_softmax_loss(scores, y, mask):
    name = "temporal_softmax_loss"
    _check_array(name, "scores", scores, 3)
    _check_array(name, "y", y, 2)
    _check_array(name, "mask", mask, 2)
    if y.shape != scores.shape[:2] or mask.shape != scores.shape[:2]:
        raise ValueError(f"{name}: expected scores (N, T, V), y (N, T) and mask (N, T), got "
                         f"scores{_shape(scores)}, y{_shape(y)} and mask{_shape(mask)}")
    if mask.dtype.kind != "b":
        raise TypeError(f"{name}: mask must be an array of booleans, got dtype {mask.dtype}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels y must be integers, got dtype {y.dtype}")
    V = scores.shape[2]
    kept = y[mask]
    if kept.size and (int(kept.min()) < 0 or int(kept.max()) >= V):
        raise ValueError(f"{name}: unmasked labels must lie in [0, {V}), got values from "
                         f"{int(kept.min())} to {int(kept.max())}")
    labels = np.where(mask, y, 0)
    log_p = scores - np.logaddexp.reduce(scores, axis=2, keepdims=True)
    picked = np.take_along_axis(log_p, labels[..., None], axis=2)[..., 0]
    K = np.count_nonzero(mask)
    if K == 0:
        return 0.0, np.zeros_like(scores)
    loss = -picked[mask].sum() / K
    d = np.exp(log_p)
    np.put_along_axis(d, labels[..., None],
                      np.take_along_axis(d, labels[..., None], axis=2) - 1, axis=2)
    return loss, d * (mask / K)[..., None]
'''

GEN = '''
import torch.nn.functional as _F


def _bce_logits(x, target_value):
    # max(x, 0) - x t + log(1 + exp(-|x|)), written with torch.where
    pos = torch.where(x > 0, x, torch.zeros_like(x))
    return pos - x * target_value + torch.log1p(torch.exp(-x.abs()))


def discriminator_loss(logits_real, logits_fake):
    _check_logits("discriminator_loss", ("logits_real", logits_real),
                  ("logits_fake", logits_fake))
    return _bce_logits(logits_real, 1.0).mean() + _bce_logits(logits_fake, 0.0).mean()


def generator_loss(logits_fake):
    _check_logits("generator_loss", ("logits_fake", logits_fake))
    return _F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def ls_generator_loss(scores_fake):
    _check_logits("ls_generator_loss", ("scores_fake", scores_fake))
    return 0.5 * _F.mse_loss(scores_fake, torch.ones_like(scores_fake))
'''

ARCH = '''
class SEBlock(nn.Module):
    def __init__(self, channels, *, reduction=16):
        super().__init__()
        channels = _check_int("SEBlock", "channels", channels)
        reduction = _check_int("SEBlock", "reduction", reduction)
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.fc2 = nn.Linear(hidden, channels)       # registered before fc1
        self.fc1 = nn.Linear(channels, hidden)

    def gates(self, x):
        _check_images("SEBlock", x, self.channels)
        s = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.sigmoid(nn.functional.linear(nn.functional.relu(self.fc1(s)),
                                                  self.fc2.weight, self.fc2.bias))

    def forward(self, x):
        _check_images("SEBlock", x, self.channels)
        return torch.einsum("nchw,nc->nchw", x, self.gates(x))
'''

# ---------------------------------------------------------------- graded: full marks

@pytest.fixture(scope="module")
def report_0103(tmp_path_factory):
    return graded(tmp_path_factory, ["01", "02", "03"],
                  {"linear.py": LINEAR, "layers.py": LAYERS, "losses.py": LOSSES,
                   "gradcheck.py": GRADCHECK, "conv.py": CONV})


@pytest.fixture(scope="module")
def report_0409(tmp_path_factory):
    return graded(tmp_path_factory, ["04", "05", "07", "08", "09"],
                  {"normalization.py": NORM, "regularization.py": REG, "optim.py": OPTIM,
                   "segmentation.py": SEG, "detection.py": DET, "rnn.py": RNN})


def test_units_01_to_03_written_otherwise_keep_full_marks(report_0103):
    assert len(report_0103) == 25
    assert {k: v for k, v in report_0103.items() if v[0] != "passed"} == {}


def test_units_04_to_09_written_otherwise_keep_full_marks(report_0409):
    assert len(report_0409) == 25
    assert {k: v for k, v in report_0409.items() if v[0] != "passed"} == {}


@pytest.mark.parametrize("key", ["linear.svm_loss_vectorized", "conv.conv_forward",
                                 "conv.max_pool_forward", "segmentation.dice_per_class"])
def test_the_round_26_findings_now_keep_full_marks(report_0103, report_0409, key):
    """Each scored 0, "calls a function once per element (map() / reduce() /
    sorted())", for a map unpacked into names, a reduce over a generator of window offsets and
    a sort of the classes with a key lambda."""
    status, score, message = {**report_0103, **report_0409}[key]
    assert status == "passed" and score > 0, message


def test_torch_units_written_otherwise(tmp_path_factory):
    pytest.importorskip("torch")
    got = graded(tmp_path_factory, ["06", "10"], {"generative.py": GEN, "architectures.py": ARCH})
    status, score, message = got.pop("architectures.SEBlock")
    # registered out of forward order: the unit's documented convention, which the grader
    # relies on to load the reference's parameters; the verdict says so
    assert status == "failed" and score == 0 and "in forward order" in message, message
    assert {k: v for k, v in got.items() if v[0] != "passed"} == {}


# ---------------------------------------------------------------- graded: still loops

SVM_KEY_PER_EXAMPLE = '''
def svm_loss_vectorized(W, X, y, reg):
    _check_loss_inputs("svm_loss_vectorized", W, X, y, reg)
    n = X.shape[0]
    # a key lambda called once per example (its value is ignored: the answer is right)
    sorted(range(n), key=lambda i: float(X[i] @ W[:, 0]))
    scores = X @ W
    correct = scores[np.arange(n), y][:, None]
    margins = np.maximum(0.0, scores - correct + 1.0)
    margins[np.arange(n), y] = 0.0
    coeff = (margins > 0).astype(X.dtype)
    coeff[np.arange(n), y] = -coeff.sum(axis=1)
    return float(margins.sum() / n + reg * (W * W).sum()), X.T @ coeff / n + 2 * reg * W
'''

POOL_OVER_EXAMPLES = '''
import functools


def _pool_one(image, p, s, H_out, W_out):
    parts = (image[:, k:k + s * H_out:s, l:l + s * W_out:s] for k in range(p) for l in range(p))
    return functools.reduce(np.maximum, parts)


def max_pool_forward(x, *, pool_size=2, stride=2):
    pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
    H_out = (x.shape[2] - pool_size) // stride + 1
    W_out = (x.shape[3] - pool_size) // stride + 1
    one = functools.partial(_pool_one, p=pool_size, s=stride, H_out=H_out, W_out=W_out)
    out = np.stack(list(map(one, (x[n] for n in range(x.shape[0])))))   # one call per example
    return out, (x, pool_size, stride, out)
'''

POOL_LIST_GROWN = '''
import functools


def max_pool_forward(x, *, pool_size=2, stride=2):
    pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
    H_out = (x.shape[2] - pool_size) // stride + 1
    W_out = (x.shape[3] - pool_size) // stride + 1
    parts = [x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
             for k in range(pool_size) for l in range(pool_size)]
    parts.extend(np.zeros((0,) + x.shape[1:]))   # grown after it was made (here by nothing)
    out = functools.reduce(np.maximum, parts)
    return out, (x, pool_size, stride, out)
'''


@pytest.fixture(scope="module")
def loopy(tmp_path_factory):
    sub = make_submission(tmp_path_factory.mktemp("r26loopy"), append={
        "linear.py": SVM_KEY_PER_EXAMPLE, "conv.py": "import numpy as np\n" + POOL_OVER_EXAMPLES})
    report = engine.grade(sub, ["01", "03"], keys={"linear.svm_loss_vectorized",
                                                   "conv.max_pool_forward"}, limits=LIMITS)
    return {k: e for u in report["units"].values() for k, e in u["functions"].items()}


def test_a_key_lambda_called_once_per_example_still_fails(loopy):
    entry = loopy["linear.svm_loss_vectorized"]
    assert entry["score"] == 0 and "loops over examples" in entry["message"], entry


def test_a_map_over_a_generator_of_examples_still_fails(loopy):
    entry = loopy["conv.max_pool_forward"]
    assert entry["score"] == 0 and "loops over examples" in entry["message"], entry


def test_a_reduce_over_a_list_that_may_grow_is_still_refused(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": "import numpy as np\n" + POOL_LIST_GROWN})
    report = engine.grade(sub, ["03"], keys={"conv.max_pool_forward"}, limits=LIMITS)
    entry = report["units"]["03_cnn"]["functions"]["conv.max_pool_forward"]
    assert entry["score"] == 0 and "once per element (reduce()" in entry["message"], entry


# ---------------------------------------------------------------- the rule itself

def analyse(body, prelude=""):
    source = ("import collections\nimport functools\nimport heapq\nimport numpy as np\n"
              + textwrap.dedent(prelude) + "def f(x, h=1, w=2):\n"
              + textwrap.indent(textwrap.dedent(body), "    "))
    return Program({"conv": source}, ()).analyse("conv", "f")


@pytest.mark.parametrize("body", [
    "N, C, H, W = map(int, x.shape)\nreturn N",
    "H, W = map(int, x.shape[2:])\nreturn H",
    "[a, b] = map(np.ravel, x[:2])\nreturn a",
    "parts = (x[k::2] for k in range(2))\nreturn functools.reduce(np.maximum, parts)",
    "pair = (x, x.T)\nreturn list(map(np.ravel, pair))",
    "return functools.reduce(np.maximum, (x[k::2] for k in range(2)))",
    "return list(map(np.ravel, [x[k] for k in range(2)]))",
    "return collections.Counter((h, w, h))",
    "return min(h, w, key=abs)",
    "return max((h, w), key=abs)",
    "return sorted([x, x.T], key=np.size)",
    "return heapq.nlargest(1, (h, w), key=abs)",
])
def test_a_fixed_or_counted_number_of_calls_is_no_hidden_loop(body):
    finding = analyse(body)
    assert not finding.loop_call and finding.depth <= 1, finding


@pytest.mark.parametrize("body, prelude", [
    ("return sorted(range(len(x)), key=lambda i: x[i].sum())", ""),
    ("return max(x, key=_score)", "def _score(r):\n    return r.sum()\n"),
    ("r = list(x)\nr.sort(key=lambda v: v.sum())\nreturn r", ""),
])
def test_a_key_written_in_the_package_is_a_counted_loop(body, prelude):
    """Its calls run student lines: a loop level for the static depth, and the line counts
    see how often it runs (test_a_key_lambda_called_once_per_example_still_fails)."""
    finding = analyse(body, prelude)
    assert finding.depth == 1 and not finding.loop_call, finding


@pytest.mark.parametrize("body, prelude", [
    ("return sorted(x, key=np.sum)", ""),
    ("return max(x, key=_score)", "_score = np.sum\n"),
    ("return max(x, key=_score)", "@functools.lru_cache\ndef _score(r):\n    return r\n"),
    ("return max(x, key={}.get)", ""),
    ("r = list(x)\nr.sort(key=np.sum)\nreturn r", ""),
    ("return min(*x, key=np.sum)", ""),
    ("return collections.Counter(x.ravel())", ""),
    ("return list(map(int, x.shape))", ""),
    ("a, *b = map(np.sum, x)\nreturn a", ""),
    ("a, b = filter(None, x)\nreturn a", ""),
    ("for a in map(np.sum, x):\n    pass\nreturn a", ""),
    ("parts = [r for r in x[:1]]\nparts.extend(x)\nreturn functools.reduce(np.add, parts)", ""),
    ("parts = (r for r in x[:1])\nparts = x\nreturn functools.reduce(np.add, parts)", ""),
    ("parts = (r for r in x[:1])\ntry:\n    pass\nexcept ValueError as parts:\n    pass\n"
     "return functools.reduce(np.add, parts)", ""),
    ("def g(parts):\n    return list(map(np.sum, parts))\nparts = (r for r in x[:1])\n"
     "return g(x)", ""),
])
def test_a_call_count_the_code_does_not_bound_is_still_a_hidden_loop(body, prelude):
    finding = analyse(body, prelude)
    assert finding.loop_call, finding
