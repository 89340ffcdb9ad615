"""Known mistakes of unit 02, mlp: wrong networks with the constructor of the class they imitate.

Each is a small NumPy network with one mistake switched on; it is built and initialised like the
reference, so that only ``loss`` differs. Each is tested to be recognised (tests/test_hints.py).
"""

import numpy as np


def _act(name, x):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.01 * x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    raise ValueError(name)


def _act_grad(name, x, out):
    if name == "relu":
        return (x > 0).astype(x.dtype)
    if name == "sigmoid":
        return out * (1 - out)
    if name == "tanh":
        return 1 - out * out
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, 0.01)
    if name == "elu":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))
    raise ValueError(name)


class _Net:
    """A fully connected softmax network with switchable mistakes (class attributes)."""

    reg_biases = False   # the L2 penalty includes the biases
    reg_factor = 0.5     # 1.0: reg * sum(W**2) in the loss, 2 * reg * W in the gradient
    reg_grad = True      # the gradient of the penalty is added
    act_last = False     # the activation is applied after the last affine layer too
    force_relu = False   # the activation argument is ignored
    act_backward = True  # the activation's backward is applied
    reg_average = False  # the penalty and its gradient divided by N, as the data loss is
    reg_skip_last = False  # the last layer's weights left out of the penalty (range(1, L))

    def _build(self, dims, activation, reg, weight_scale, dtype, rng):
        self.activation = "relu" if self.force_relu else activation
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        self.num_layers = len(dims) - 1
        self.params = {}
        for layer in range(1, len(dims)):
            shape = (dims[layer - 1], dims[layer])
            self.params[f"W{layer}"] = (weight_scale * rng.standard_normal(shape)).astype(
                self.dtype)
            self.params[f"b{layer}"] = np.zeros(dims[layer], dtype=self.dtype)

    def loss(self, X, y=None):
        L = self.num_layers
        h = X.reshape(X.shape[0], -1).astype(self.dtype)
        inputs, pre, post = [], [], []
        for layer in range(1, L + 1):
            inputs.append(h)
            a = h @ self.params[f"W{layer}"] + self.params[f"b{layer}"]
            pre.append(a)
            h = _act(self.activation, a) if (layer < L or self.act_last) else a
            post.append(h)
        scores = h
        if y is None:
            return scores
        N = X.shape[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).sum() / N
        dh = probs.copy()
        dh[np.arange(N), y] -= 1
        dh /= N
        grads = {}
        for layer in range(L, 0, -1):
            if (layer < L or self.act_last) and self.act_backward:
                dh = dh * _act_grad(self.activation, pre[layer - 1], post[layer - 1])
            grads[f"W{layer}"] = inputs[layer - 1].T @ dh
            grads[f"b{layer}"] = dh.sum(axis=0)
            dh = dh @ self.params[f"W{layer}"].T
        names = [k for k in self.params if k.startswith("W") or self.reg_biases]
        if self.reg_skip_last:
            names = [k for k in names if k != f"W{L}"]
        reg = self.reg / N if self.reg_average else self.reg
        for name in names:
            P = self.params[name]
            loss += self.reg_factor * reg * float((P * P).sum())
            if self.reg_grad:
                grads[name] = grads[name] + 2 * self.reg_factor * reg * P
        return float(loss), grads


def two_layer(**mistake):
    class TwoLayerNet(_Net):
        def __init__(self, input_dim, hidden_dim, num_classes, *, weight_scale=1e-3, reg=0.0,
                     rng):
            self._build([input_dim, hidden_dim, num_classes], "relu", reg, weight_scale,
                        np.float64, rng)

    for key, value in mistake.items():
        setattr(TwoLayerNet, key, value)
    return TwoLayerNet


def fully_connected(**mistake):
    class FullyConnectedNet(_Net):
        def __init__(self, hidden_dims, input_dim, num_classes, *, activation="relu", reg=0.0,
                     weight_scale=1e-2, dtype=np.float64, rng):
            self._build([input_dim, *hidden_dims, num_classes], activation, reg, weight_scale,
                        dtype, rng)

    for key, value in mistake.items():
        setattr(FullyConnectedNet, key, value)
    return FullyConnectedNet


REG_BIASES = ("regularize the weight matrices only: the biases are not part of "
              "0.5 * reg * sum(W**2)")
REG_GRAD = ("the regularization term 0.5 * reg * sum(W**2) adds reg * W to the gradient of each "
            "weight matrix")
HALF_MISSING = ("the penalty is 0.5 * reg * sum(W**2), with its gradient reg * W: the 0.5 is "
                "missing")
REG_LAST = ("every weight matrix is in the penalty, the last one, WL (the scores' layer), "
            "too: its gradient also needs reg * WL; loop over the layers 1 to L included")
REG_AVERAGED = ("the penalty 0.5 * reg * sum(W**2) is added once to the mean data loss, not "
                "divided by N: only the data loss and its gradient are averaged over the "
                "examples; add the penalty and its gradient reg * W as they are")

MISTAKES = {
    "mlp.TwoLayerNet": [
        (REG_BIASES, two_layer(reg_biases=True)),
        (HALF_MISSING, two_layer(reg_factor=1.0)),
        (REG_GRAD, two_layer(reg_grad=False)),
        ("backpropagate through the ReLU: multiply the gradient by the mask (h > 0) of the "
         "hidden layer", two_layer(act_backward=False)),
        (REG_AVERAGED, two_layer(reg_average=True)),
    ],
    "mlp.FullyConnectedNet": [
        (REG_BIASES, fully_connected(reg_biases=True)),
        (REG_GRAD, fully_connected(reg_grad=False)),
        ("the last affine layer gives the scores directly: no activation after it",
         fully_connected(act_last=True)),
        ("use the activation named by the activation argument, not always ReLU",
         fully_connected(force_relu=True)),
        (REG_AVERAGED, fully_connected(reg_average=True)),
        (HALF_MISSING, fully_connected(reg_factor=1.0)),
        # after REG_GRAD: a network without any penalty gradient is told of that one
        (REG_LAST, fully_connected(reg_skip_last=True)),
    ],
}


CACHES_ONE_TOO_FAR = ("an index one past the end of a list, most often the caches: when "
                      "caches[0] holds the first layer's caches, walking back from layer "
                      "num_layers - 1 to 1 takes caches[layer - 1] (caches[layer] runs one past "
                      "the end)")


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``): their error gives the hint."""
    from ._edited import edited

    return {"mlp.FullyConnectedNet": [
        ("the layers are numbered from 1: params holds W1, b1, ..., and no W0; loop over "
         "range(1, num_layers) for the hidden layers",
         edited("mlp.FullyConnectedNet", ("for layer in range(1, num_layers):\n            a, ",
                                          "for layer in range(num_layers):\n            a, "))),
        (CACHES_ONE_TOO_FAR,
         edited("mlp.FullyConnectedNet", ("cache_affine, cache_act = caches[layer - 1]",
                                          "cache_affine, cache_act = caches[layer]"))),
    ]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
