"""Known mistakes of unit 02, layers: wrong variants with the signature of the function they
imitate.

Backward variants read the reference caches: affine (x, w, b); relu x; sigmoid and tanh the
output; leaky_relu and elu (x, alpha); maxout (x, w, winner), winner (N, M) the winning piece.
Each is tested to be recognised (tests/test_hints.py).
"""

import numpy as np


def _flat(x):
    return x.reshape(x.shape[0], -1)


# ---------------------------------------------------------------- affine

def affine_forward_mistakes():
    return [
        ("the bias is missing: out = x_flat @ w + b",
         lambda x, w, b: (_flat(x) @ w, (x, w, b))),
        ("flatten x with x.reshape(N, -1), not x.reshape(D, -1).T, so that the numbers of "
         "example n stay together in row n",
         lambda x, w, b: (x.reshape(w.shape[0], -1).T @ w + b, (x, w, b))),
    ]


def _affine_backward(dout, cache, *, db_mean=False, reshape=True, db_axis=0, dw_transposed=False,
                     dw_unflattened=False):
    """``dw_unflattened``: dw = x.T @ dout with x not flattened (.T reverses all its axes)."""
    x, w, _ = cache
    dx = dout @ w.T
    if reshape:
        dx = dx.reshape(x.shape)
    dw = dout.T @ _flat(x) if dw_transposed else _flat(x).T @ dout
    if dw_unflattened:
        dw = x.T @ dout
    db = dout.mean(axis=0) if db_mean else dout.sum(axis=db_axis)
    return dx, dw, db


def affine_backward_mistakes():
    return [
        ("db is the sum of dout over the batch, not the mean: the bias is added to every row, and "
         "every row's gradient flows into it",
         lambda dout, cache: _affine_backward(dout, cache, db_mean=True)),
        ("dx must have the shape of the original x: reshape dout @ w.T back to x.shape",
         lambda dout, cache: _affine_backward(dout, cache, reshape=False)),
        ("db sums dout over the batch (axis 0), one value per output, not over the outputs",
         lambda dout, cache: _affine_backward(dout, cache, db_axis=1)),
        ("dw is x_flat.T @ dout, of shape (D, M) like w; dout.T @ x_flat is its transpose",
         lambda dout, cache: _affine_backward(dout, cache, dw_transposed=True)),
        ("flatten x to (N, D) before the product: dw = x.reshape(N, -1).T @ dout; for an x of "
         "more than 2 dimensions x.T reverses all its axes, and reshaping that product mixes "
         "up the entries",
         lambda dout, cache: _affine_backward(dout, cache, dw_unflattened=True)),
    ]


# ---------------------------------------------------------------- relu

def relu_forward_mistakes():
    return [
        ("relu returns the values max(0, x), not the mask x > 0",
         lambda x: ((x > 0), x)),
        ("relu keeps the positive values and zeroes the negative ones: max(0, x), not min(0, x)",
         lambda x: (np.minimum(x, 0), x)),
    ]


def relu_backward_mistakes():
    return [
        ("the ReLU mask comes from the forward input x (x > 0), not from dout",
         lambda dout, x: dout * (dout > 0)),
        ("multiply the mask x > 0 by the upstream gradient dout (local gradient times upstream "
         "gradient)",
         lambda dout, x: (x > 0).astype(np.float64)),
        ("the local gradient of ReLU is 1 where x > 0 and 0 elsewhere, not x itself: "
         "dx = dout * (x > 0)",
         lambda dout, x: dout * np.maximum(x, 0)),
        ("the gradient must be zeroed where x <= 0: ReLU blocks the gradient of inactive units",
         lambda dout, x: dout.copy()),
    ]


# ---------------------------------------------------------------- sigmoid

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_forward_mistakes():
    return [
        ("the sigmoid is 1 / (1 + exp(-x)); 1 / (1 + exp(x)) is sigmoid(-x)",
         lambda x: (_sigmoid(-x), _sigmoid(x))),
    ]


def _logit(out):
    return np.log(out / (1.0 - out))


def sigmoid_backward_mistakes():
    return [
        ("the derivative of the sigmoid is s * (1 - s) with s = sigmoid(x), the output, not the "
         "input x",
         lambda dout, out: dout * _logit(out) * (1.0 - _logit(out))),
        ("multiply the local gradient s * (1 - s) by the upstream gradient dout",
         lambda dout, out: out * (1.0 - out)),
        ("the derivative of the sigmoid is s * (1 - s): the factor s is missing",
         lambda dout, out: dout * (1.0 - out)),
        ("the cache already holds s = sigmoid(x): do not apply the sigmoid to it again",
         lambda dout, out: dout * _sigmoid(out) * (1.0 - _sigmoid(out))),
    ]


# ---------------------------------------------------------------- tanh

_TANH_OVERFLOW = ("tanh written with exp overflows: exp(2 * 800) is inf and inf / inf is NaN. "
                  "Use np.tanh, or exp of -2 * |x| only (it never exceeds 1) with the sign of x")


def _tanh_by_exp(x):
    e = np.exp(2.0 * x)
    out = (e - 1.0) / (e + 1.0)
    return out, out


def _tanh_by_sinh(x):
    out = np.sinh(x) / np.cosh(x)
    return out, out


def tanh_forward_mistakes():
    return [
        (_TANH_OVERFLOW + " [(exp(2x) - 1) / (exp(2x) + 1)]", _tanh_by_exp),
        (_TANH_OVERFLOW + " [sinh(x) / cosh(x)]", _tanh_by_sinh),
    ]


def tanh_backward_mistakes():
    return [
        ("the derivative of tanh is 1 - tanh(x)**2, written with the output t = tanh(x), not 1 - "
         "x**2 with the input",
         lambda dout, out: dout * (1.0 - np.arctanh(out) ** 2)),
        ("the derivative of tanh is 1 - tanh(x)**2: the square is missing",
         lambda dout, out: dout * (1.0 - out)),
        ("multiply the local gradient 1 - tanh(x)**2 by the upstream gradient dout",
         lambda dout, out: 1.0 - out * out),
        ("the cache already holds tanh(x): do not apply tanh to it again",
         lambda dout, out: dout * (1.0 - np.tanh(out) ** 2)),
        ("the derivative of tanh is 1 - t**2 with t = tanh(x) (one minus the square), not "
         "(1 - t)**2 (the square of one minus t)",
         lambda dout, out: dout * (1.0 - out) ** 2),
    ]


# ---------------------------------------------------------------- leaky relu

def leaky_relu_forward_mistakes():
    return [
        ("use the alpha argument, not a fixed slope of 0.01",
         lambda x, alpha=0.01: (np.where(x > 0, x, 0.01 * x), (x, alpha))),
        # before the swapped slopes: where max(x, alpha * x) is wrong (alpha > 1) the two agree
        ("max(x, alpha * x) is the leaky ReLU only for alpha <= 1 (for alpha > 1 it picks "
         "alpha * x where x > 0): use where(x > 0, x, alpha * x)",
         lambda x, alpha=0.01: (np.maximum(x, alpha * x), (x, alpha))),
        ("the slope alpha applies to the negative inputs; positive inputs pass unchanged",
         lambda x, alpha=0.01: (np.where(x > 0, alpha * x, x), (x, alpha))),
    ]


def leaky_relu_backward_mistakes():
    return [
        ("which slope applies depends on the forward input x (x > 0), not on dout",
         lambda dout, cache: np.where(dout > 0, dout, cache[1] * dout)),
        ("for negative inputs the leaky ReLU passes alpha * dout, not 0",
         lambda dout, cache: dout * (cache[0] > 0)),
        ("use the alpha of the forward pass (keep it in the cache), not a fixed 0.01",
         lambda dout, cache: np.where(cache[0] > 0, dout, 0.01 * dout)),
        ("multiply the local gradient (1 or alpha) by the upstream gradient dout",
         lambda dout, cache: np.where(cache[0] > 0, 1.0, cache[1]) + 0 * dout),
    ]


# ---------------------------------------------------------------- elu

def elu_forward_mistakes():
    return [
        ("for x <= 0 the ELU is alpha * (exp(x) - 1): the - 1 is missing",
         lambda x, alpha=1.0: (np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), (x, alpha))),
        ("use the alpha argument: alpha * (exp(x) - 1) for x <= 0",
         lambda x, alpha=1.0: (np.where(x > 0, x, np.expm1(np.minimum(x, 0))), (x, alpha))),
        (_ELU_OVERFLOW,
         lambda x, alpha=1.0: (x * (x > 0) + alpha * np.expm1(x) * (x <= 0), (x, alpha))),
    ]


_ELU_OVERFLOW = ("exp(x) is computed for every x and overflows to inf for large positive x; "
                 "multiplied by a mask of 0 that is NaN, not 0. Take exp only of the "
                 "non-positive part (np.exp(np.minimum(x, 0))), or choose with np.where")


def _elu_out(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_backward_mistakes():
    return [
        ("for x <= 0 the derivative of alpha * (exp(x) - 1) is alpha * exp(x) (the output plus "
         "alpha), not the output itself",
         lambda dout, cache: np.where(cache[0] > 0, dout, dout * _elu_out(*cache))),
        ("the derivative for x <= 0 is alpha * exp(x): the factor alpha is missing",
         lambda dout, cache: np.where(cache[0] > 0, dout, dout * np.exp(np.minimum(cache[0], 0)))),
        ("which branch applies depends on the forward input x (x > 0), not on dout",
         lambda dout, cache: np.where(dout > 0, dout,
                                      dout * cache[1] * np.exp(np.minimum(cache[0], 0)))),
        ("multiply the local gradient by the upstream gradient dout",
         lambda dout, cache: np.where(cache[0] > 0, 1.0,
                                      cache[1] * np.exp(np.minimum(cache[0], 0))) + 0 * dout),
        (_ELU_OVERFLOW,
         lambda dout, cache: dout * ((cache[0] > 0) + (cache[0] <= 0) * cache[1]
                                     * np.exp(cache[0]))),
    ]


# ---------------------------------------------------------------- maxout (cache: x, w, winner)

def _pieces(x, w, b):
    D, M, K = w.shape
    return (_flat(x) @ w.reshape(D, M * K)).reshape(-1, M, K) + b


def _maxout_reference_cache(x, w, b):
    return x, w, _pieces(x, w, b).argmax(axis=2)


def maxout_forward_mistakes():
    def pieces_mixed(x, w, b):
        D, M, K = w.shape
        z = (_flat(x) @ w.reshape(D, M * K)).reshape(-1, K, M) + b.T
        return z.max(axis=1), _maxout_reference_cache(x, w, b)

    return [
        ("the biases are missing: z[n, m, k] = x_flat[n] @ w[:, m, k] + b[m, k]",
         lambda x, w, b: (_pieces(x, w, 0 * b).max(axis=2), _maxout_reference_cache(x, w, b))),
        ("maxout takes the largest piece of each unit (max over k), not the mean of the pieces",
         lambda x, w, b: (_pieces(x, w, b).mean(axis=2), _maxout_reference_cache(x, w, b))),
        ("w is (D, M, K): after x_flat @ w.reshape(D, M * K), reshape to (N, M, K); a reshape to "
         "(N, K, M) mixes the pieces of different units",
         pieces_mixed),
        ("maxout keeps the largest piece (max over k), not the smallest",
         lambda x, w, b: (_pieces(x, w, b).min(axis=2), _maxout_reference_cache(x, w, b))),
    ]


def _maxout_backward(dout, cache, *, every_piece=False, no_dout=False, db_mean=False,
                     reshape=True):
    x, w, winner = cache
    N, M = dout.shape
    D, _, K = w.shape
    mask = (np.arange(K) == winner[:, :, None]).astype(np.float64)
    if every_piece:
        mask = np.ones_like(mask)
    dz = mask if no_dout else mask * dout[:, :, None]
    dz_flat = dz.reshape(N, M * K)
    dx = dz_flat @ w.reshape(D, M * K).T
    if reshape:
        dx = dx.reshape(x.shape)
    dw = (_flat(x).T @ dz_flat).reshape(D, M, K)
    db = dz.mean(axis=0) if db_mean else dz.sum(axis=0)
    return dx, dw, db


def maxout_backward_mistakes():
    return [
        ("only the winning piece of each unit is in the output, so only it gets dout; the other "
         "pieces get 0 (the mask k == argmax over k of z)",
         lambda dout, cache: _maxout_backward(dout, cache, every_piece=True)),
        ("multiply the mask of the winning pieces by the upstream gradient dout",
         lambda dout, cache: _maxout_backward(dout, cache, no_dout=True)),
        ("db sums dz over the batch, not the mean: each bias is added to every example",
         lambda dout, cache: _maxout_backward(dout, cache, db_mean=True)),
        ("dx must have the shape of the original x: reshape it back to x.shape",
         lambda dout, cache: _maxout_backward(dout, cache, reshape=False)),
    ]


MISTAKES = {
    "layers.affine_forward": affine_forward_mistakes(),
    "layers.affine_backward": affine_backward_mistakes(),
    "layers.relu_forward": relu_forward_mistakes(),
    "layers.relu_backward": relu_backward_mistakes(),
    "layers.sigmoid_forward": sigmoid_forward_mistakes(),
    "layers.sigmoid_backward": sigmoid_backward_mistakes(),
    "layers.tanh_forward": tanh_forward_mistakes(),
    "layers.tanh_backward": tanh_backward_mistakes(),
    "layers.leaky_relu_forward": leaky_relu_forward_mistakes(),
    "layers.leaky_relu_backward": leaky_relu_backward_mistakes(),
    "layers.elu_forward": elu_forward_mistakes(),
    "layers.elu_backward": elu_backward_mistakes(),
    "layers.maxout_forward": maxout_forward_mistakes(),
    "layers.maxout_backward": maxout_backward_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "layers.affine_forward": [
        ("flatten each example first: x.reshape(x.shape[0], -1) @ w + b; x @ w needs x to be "
         "(N, D) already, and the grader gives x of more than 2 dimensions too",
         edited("layers.affine_forward", ("out = x.reshape(x.shape[0], -1) @ w + b",
                                          "out = x @ w + b"))),
    ],
    "layers.affine_backward": [
        ("dx = dout @ w.T: dout is (N, M) and w (D, M), so w is transposed to bring the "
         "gradient back to the D inputs",
         edited("layers.affine_backward", ("dx = (dout @ w.T).reshape(x.shape)",
                                           "dx = (dout @ w).reshape(x.shape)"))),
        ("dw = x_flat.T @ dout: x_flat is (N, D) and dout (N, M), so the product that sums over "
         "the examples has x_flat.T on the left",
         edited("layers.affine_backward", ("dw = x.reshape(x.shape[0], -1).T @ dout",
                                           "dw = x.reshape(x.shape[0], -1) @ dout"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- slips right on nice inputs
# The reference with one edit that is right only for the default alpha = 1: on the grader's other
# alphas it gives a wrong answer that had no hint.

MISTAKES["layers.elu_backward"] = MISTAKES.get("layers.elu_backward", []) + [
    ("for x <= 0 the local gradient is alpha * exp(x) = out + alpha, not out + 1 (the two agree "
     "only for alpha = 1)",
     edited("layers.elu_backward",
            ("    dx = xp.where(x > 0, dout, dout * alpha * xp.exp(xp.minimum(x, 0)))",
             "    dx = xp.where(x > 0, dout, dout * (alpha * xp.expm1(xp.minimum(x, 0)) + 1))"))),
]
