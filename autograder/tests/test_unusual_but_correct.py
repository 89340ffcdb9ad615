"""Fair as well as strict: textbook-correct implementations written differently from the reference
(other formulas, other cache layouts, sliding windows, einsum, np.add.at) get full marks."""

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unusual-but-correct")

LAYERS = '''
import numpy as np

def sigmoid_forward(x):
    out = np.exp(-np.logaddexp(0.0, -x))       # never overflows, no branches
    return out, x                              # the cache is the input, not the output

def sigmoid_backward(dout, cache):
    s = np.exp(-np.logaddexp(0.0, -cache))
    return dout * s * (1.0 - s)

def tanh_forward(x):
    with np.errstate(over="ignore"):           # 2 / (inf + 1) is 0: tanh(800) is 1
        return 1.0 - 2.0 / (np.exp(2.0 * x) + 1.0), {"x": x}  # a dict as cache

def tanh_backward(dout, cache):
    return dout * (1.0 - np.tanh(cache["x"]) ** 2)

def affine_forward(x, w, b):
    flat = x.reshape(len(x), -1)
    return np.einsum("nd,dm->nm", flat, w) + b[None, :], [x, w]

def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, np.sum(dout, axis=0)

def leaky_relu_forward(x, *, alpha=0.01):
    return np.where(x > 0, x, alpha * x), (x, alpha)

def elu_forward(x, *, alpha=1.0):
    with np.errstate(over="ignore"):           # exp(800) is inf where it is not chosen
        return np.where(x > 0, x, alpha * (np.exp(x) - 1)), (x, alpha)

def elu_backward(dout, cache):
    x, alpha = cache
    with np.errstate(over="ignore"):
        return np.where(x > 0, dout, dout * alpha * np.exp(x))

def maxout_forward(x, w, b):
    z = np.einsum("nd,dmk->nmk", x.reshape(len(x), -1), w) + b[None]
    return z.max(axis=-1), (x, w, z)           # every piece in the cache, not the winners

def maxout_backward(dout, cache):
    x, w, z = cache
    dz = np.where(z == z.max(axis=-1, keepdims=True), dout[..., None], 0.0)
    dx = np.einsum("nmk,dmk->nd", dz, w).reshape(x.shape)
    return dx, np.einsum("nd,nmk->dmk", x.reshape(len(x), -1), dz), dz.sum(axis=0)
'''

LOSSES = '''
import numpy as np

def softmax_loss(scores, y):
    n = scores.shape[0]
    lse = np.logaddexp.reduce(scores, axis=1)  # log-sum-exp instead of subtracting the max
    p = np.exp(scores - lse[:, None])
    p[np.arange(n), y] -= 1
    return np.mean(lse - scores[np.arange(n), y]), p / n

def mse_loss(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), 2 * diff / diff.size
'''

CONV = '''
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view as _windows

def conv_forward(x, w, b, *, stride=1, pad=0):
    stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = _windows(xpad, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out + b[None, :, None, None]), (x, w, stride, pad)

def conv_backward(dout, cache):
    x, w, stride, pad = cache
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = dout.shape[2:]
    win = _windows(xpad, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride][:, :, :Ho, :Wo]
    dw = np.tensordot(dout, win, axes=([0, 2, 3], [0, 2, 3]))
    dxpad = np.zeros_like(xpad)
    for k in range(w.shape[2]):
        for l in range(w.shape[3]):
            dxpad[:, :, k:k + stride * Ho:stride, l:l + stride * Wo:stride] += np.einsum(
                "nfij,fc->ncij", dout, w[:, :, k, l])
    H, W = x.shape[2:]
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))

def max_pool_forward(x, *, pool_size=2, stride=2):
    pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
    win = _windows(x, (pool_size, pool_size), axis=(2, 3))[:, :, ::stride, ::stride]
    flat = win.reshape(*win.shape[:4], -1)
    return flat.max(axis=-1), (x.shape, flat.argmax(axis=-1), pool_size, stride)

def max_pool_backward(dout, cache):
    shape, arg, p, s = cache
    n, c, i, j = np.indices(dout.shape)
    dx = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dx, (n, c, i * s + arg // p, j * s + arg % p), dout)  # overlapping windows add up
    return dx
'''


def test_unusual_but_correct_implementations_get_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"layers.py": LAYERS, "losses.py": LOSSES,
                                            "conv.py": CONV})
    report = engine.grade(sub, ["02", "03"])
    wrong = {k: (e["status"], e["message"]) for u in report["units"].values()
             for k, e in u["functions"].items() if e["status"] != "passed"}
    assert wrong == {}
    assert report["total"] == report["max"]


PROBABILITIES_FIRST = {
    "linear.py": '''
import numpy as np

def softmax_loss_naive(W, X, y, reg):
    n = X.shape[0]
    dW = np.zeros_like(W)
    loss = 0.0
    for i in range(n):
        s = X[i] @ W
        e = np.exp(s - np.max(s))
        p = e / np.sum(e)
        loss += -np.log(p[y[i]])
        for j in range(W.shape[1]):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    return float(loss / n + reg * np.sum(W * W)), dW / n + 2 * reg * W

def softmax_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    scores = X @ W
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean() + reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    return float(loss), X.T @ p / n + 2 * reg * W
''',
    "losses.py": '''
import numpy as np

def softmax_loss(scores, y):
    n = scores.shape[0]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1
    return float(loss), p / n
''',
    "rnn.py": '''
import numpy as np

def temporal_softmax_loss(scores, y, mask):
    N, T, V = scores.shape
    e = np.exp(scores - scores.max(axis=2, keepdims=True))
    p = e / e.sum(axis=2, keepdims=True)
    count = max(int(mask.sum()), 1)
    n, t = np.nonzero(mask)
    loss = -np.log(p[n, t, y[n, t]]).sum() / count
    p[n, t, y[n, t]] -= 1
    p[~mask] = 0
    return float(loss), p / count
''',
}


def test_a_softmax_taking_the_log_of_its_probabilities_gets_full_marks(tmp_path):
    """The textbook form -log(p[y]), with p computed first: exact on every case, the widest
    spreads included (one class 725 above the rest: p = 1e-317 is small but not 0; design.md's
    fair rule on stability)."""
    sub = make_submission(tmp_path, append=PROBABILITIES_FIRST)
    keys = {"linear.softmax_loss_naive", "linear.softmax_loss_vectorized",
            "losses.softmax_loss", "rnn.temporal_softmax_loss"}
    report = engine.grade(sub, ["01", "02", "09"], keys=keys)
    graded = {k: (e["status"], e["message"]) for u in report["units"].values()
              for k, e in u["functions"].items()}
    assert set(graded) == keys
    assert {k: v for k, v in graded.items() if v[0] != "passed"} == {}
