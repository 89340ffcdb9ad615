"""Known mistakes of unit 03, ``cnn``: wrong networks with the constructor of the class they
imitate.

Each is a small NumPy network, written independently of the reference, built and initialised as
the docstring says (so that it passes the initialisation checks) with one mistake switched on in
``loss``. Each is tested to be recognised (tests/test_hints.py).
"""

import math

import numpy as np

from .conv import _conv_grads, _corr, _pool_windows
from .mlp import HALF_MISSING, REG_AVERAGED, REG_BIASES


def _init_weight(rng, shape, weight_scale, dtype):
    fan_in = math.prod(shape[1:]) if len(shape) == 4 else shape[0]
    scale = math.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _max_pool_2x2(x):
    """2x2 max pool at stride 2 and its backward (to the first maximum of each window)."""
    out = _pool_windows(x, 2, 2).max(axis=(4, 5))

    def backward(dout):
        dx = np.zeros_like(x)
        taken = np.zeros(out.shape, dtype=bool)
        for row in range(2):
            for col in range(2):
                hit = (x[:, :, row::2, col::2] == out) & ~taken
                dx[:, :, row::2, col::2] = np.where(hit, dout, 0.0)
                taken |= hit
        return dx

    return out, backward


class _ThreeLayerConvNet:
    """conv - ReLU - 2x2 max pool - affine - ReLU - affine - softmax, with switchable mistakes."""

    reg_grad = True  # the gradient of 0.5 * reg * sum(W**2) is added
    reg_average = False  # the penalty and its gradient divided by N, as the data loss is
    reg_factor = 0.5  # 1.0: reg * sum(W**2) in the loss, 2 * reg * W in the gradient
    reg_biases = False  # the biases in the penalty too
    conv_relu_backward = True  # the gradient goes through the ReLU after the convolution

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, *, weight_scale=1e-3, reg=0.0, dtype=np.float64, rng):
        C, H, W = input_dim
        self.input_dim, self.filter_size = tuple(input_dim), int(filter_size)
        self.reg, self.dtype = float(reg), np.dtype(dtype)
        F = num_filters
        shapes = [("W1", (F, C, filter_size, filter_size)), ("b1", (F,)),
                  ("W2", (F * (H // 2) * (W // 2), hidden_dim)), ("b2", (hidden_dim,)),
                  ("W3", (hidden_dim, num_classes)), ("b3", (num_classes,))]
        self.params = {k: _init_weight(rng, s, weight_scale, self.dtype) if k[0] == "W"
                       else np.zeros(s, dtype=self.dtype) for k, s in shapes}

    def loss(self, X, y=None):
        p = self.params
        pad = (self.filter_size - 1) // 2
        X = X.astype(self.dtype)
        a1 = _corr(X, p["W1"], p["b1"], 1, pad)
        r1 = np.maximum(a1, 0)
        p1, pool_backward = _max_pool_2x2(r1)
        flat = p1.reshape(len(X), -1)
        a2 = flat @ p["W2"] + p["b2"]
        h2 = np.maximum(a2, 0)
        scores = h2 @ p["W3"] + p["b3"]
        if y is None:
            return scores
        N = len(X)
        reg = self.reg / N if self.reg_average else self.reg
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean()
        penalised = [k for k in p if k[0] == "W" or self.reg_biases]
        loss += self.reg_factor * reg * sum(float((p[k] ** 2).sum()) for k in penalised)
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W3": h2.T @ dscores, "b3": dscores.sum(axis=0)}
        da2 = (dscores @ p["W3"].T) * (a2 > 0)
        grads["W2"], grads["b2"] = flat.T @ da2, da2.sum(axis=0)
        dr1 = pool_backward((da2 @ p["W2"].T).reshape(p1.shape))
        da1 = dr1 * (a1 > 0) if self.conv_relu_backward else dr1
        _, grads["W1"], grads["b1"] = _conv_grads(da1, X, p["W1"], 1, pad)
        if self.reg_grad:
            for k in penalised:
                grads[k] = grads[k] + 2 * self.reg_factor * reg * p[k]
        return float(loss), grads


def _avg_pool_2x2(x):
    """2x2 average pool at stride 2 and its backward."""
    N, C, H, W = x.shape
    out = x.reshape(N, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))

    def backward(dout):
        return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4.0

    return out, backward


class _LeNet5:
    """conv - ReLU - pool - conv - ReLU - pool - affine - ReLU - affine - ReLU - affine -
    softmax, with switchable mistakes."""

    reg_factor = 0.5  # 1.0: reg * sum(W**2) in the loss, 2 * reg * W in the gradient
    reg_biases = False  # the biases in the penalty too
    pool_ignored = False  # max pooling whatever the pool argument says

    def __init__(self, input_dim=(1, 32, 32), num_classes=10, *, filters=(6, 16), filter_size=5,
                 pad=0, hidden_dims=(120, 84), pool="max", weight_scale=None, reg=0.0,
                 dtype=np.float64, rng):
        C, H, W = input_dim
        k = int(filter_size)
        self.input_dim, self.filter_size, self.pad = tuple(input_dim), k, int(pad)
        self.pool = "max" if self.pool_ignored else pool
        self.reg, self.dtype = float(reg), np.dtype(dtype)
        for _ in range(2):
            H, W = (H + 2 * pad - k + 1) // 2, (W + 2 * pad - k + 1) // 2
        (F1, F2), (M1, M2) = filters, hidden_dims
        shapes = [("W1", (F1, C, k, k)), ("b1", (F1,)), ("W2", (F2, F1, k, k)), ("b2", (F2,)),
                  ("W3", (F2 * H * W, M1)), ("b3", (M1,)), ("W4", (M1, M2)), ("b4", (M2,)),
                  ("W5", (M2, num_classes)), ("b5", (num_classes,))]
        self.params = {key: _init_weight(rng, shape, weight_scale, self.dtype) if key[0] == "W"
                       else np.zeros(shape, dtype=self.dtype) for key, shape in shapes}

    def loss(self, X, y=None):
        p = self.params
        pool = _max_pool_2x2 if self.pool == "max" else _avg_pool_2x2
        h = X.astype(self.dtype)
        stages = []
        for layer in (1, 2):
            a = _corr(h, p[f"W{layer}"], p[f"b{layer}"], 1, self.pad)
            pooled, pool_backward = pool(np.maximum(a, 0))
            stages.append((h, a, pool_backward))
            h = pooled
        pooled_shape = h.shape
        h = h.reshape(len(X), -1)
        dense = []
        for layer in (3, 4):
            a = h @ p[f"W{layer}"] + p[f"b{layer}"]
            dense.append((h, a))
            h = np.maximum(a, 0)
        scores = h @ p["W5"] + p["b5"]
        if y is None:
            return scores
        N = len(X)
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        penalised = [key for key in p if key[0] == "W" or self.reg_biases]
        loss = -np.log(probs[np.arange(N), y]).mean()
        loss += self.reg_factor * self.reg * sum(float((p[key] ** 2).sum()) for key in penalised)
        d = probs.copy()
        d[np.arange(N), y] -= 1
        d /= N
        grads = {"W5": h.T @ d, "b5": d.sum(axis=0)}
        d = d @ p["W5"].T
        for layer in (4, 3):
            h_in, a = dense[layer - 3]
            d = d * (a > 0)
            grads[f"W{layer}"], grads[f"b{layer}"] = h_in.T @ d, d.sum(axis=0)
            d = d @ p[f"W{layer}"].T
        d = d.reshape(pooled_shape)
        for layer in (2, 1):
            h_in, a, pool_backward = stages[layer - 1]
            da = pool_backward(d) * (a > 0)
            d, grads[f"W{layer}"], grads[f"b{layer}"] = _conv_grads(da, h_in, p[f"W{layer}"], 1,
                                                                    self.pad)
        for key in penalised:
            grads[key] = grads[key] + 2 * self.reg_factor * self.reg * p[key]
        return float(loss), grads


def lenet5(**mistake):
    return type("LeNet5", (_LeNet5,), dict(mistake))


def three_layer(**mistake):
    return type("ThreeLayerConvNet", (_ThreeLayerConvNet,), dict(mistake))


MISTAKES = {
    "cnn.ThreeLayerConvNet": [
        ("the loss has the penalty 0.5 * reg * sum(W**2) over W1, W2 and W3, so each of their "
         "gradients needs reg * W too",
         three_layer(reg_grad=False)),
        (REG_AVERAGED, three_layer(reg_average=True)),
        (HALF_MISSING, three_layer(reg_factor=1.0)),
        (REG_BIASES, three_layer(reg_biases=True)),
        ("backpropagate through the ReLU after the convolution too: multiply the gradient from "
         "the max pool by the mask of the convolution's output (> 0) before conv_backward",
         three_layer(conv_relu_backward=False)),
    ],
    "cnn.LeNet5": [
        (HALF_MISSING, lenet5(reg_factor=1.0)),
        (REG_BIASES, lenet5(reg_biases=True)),
        ("use the pooling the pool argument names: average pooling for pool='avg' (LeNet's "
         "subsampling), max pooling only for pool='max'", lenet5(pool_ignored=True)),
    ],
}


def _raising():
    """Mistakes of ``count_parameters`` that raise on the grader's inputs (``_edited``)."""
    from ._edited import edited

    fn = "cnn.count_parameters"
    line = "count = int(sum(int(np.prod(p.shape)) for p in params.values()))"
    # one slip, two spellings (the error names the attribute read: shape or size)
    keys = ("a loop over a dict runs over its keys, the parameter names (strings): loop over "
            "params.values() for the arrays, and add up their sizes")
    return {fn: [
        (keys, edited(fn, ("for p in params.values()", "for p in params"))),
        (keys, edited(fn, (line, "count = int(sum(p.size for p in params))"))),
    ]}


MISTAKES.update(_raising())
