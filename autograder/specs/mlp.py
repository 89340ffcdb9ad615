"""Tests of unit 02, ``coursework/mlp.py``: TwoLayerNet and FullyConnectedNet.

Each network is built in the worker with ``rng=Seed(n)``. Its initial parameters are checked by
shape and statistics (weights ~ weight_scale * N(0, 1), biases zero), never against a random
stream. Then the judge sets ``params`` to known arrays (biases non-zero) and compares ``loss(X)``
(the scores) and ``loss(X, y)`` (the loss and the gradients) with the reference network holding
the same parameters.
"""

import math

import numpy as np

from ..spec import Case, Spec
from ..wire import Seed
from .model_checks import check_init, check_loss, check_uses_rng, copy_params

SPEC = Spec("mlp")


# ---------------------------------------------------------------- inputs

def net_params(seed, dims, *, weight_scale=0.5, bias_scale=0.3):
    """W1, b1, ... for layer sizes ``dims`` = [D, H_1, ..., C], biases non-zero."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = weight_scale * rng.standard_normal((dims[layer - 1], dims[layer]))
        params[f"b{layer}"] = bias_scale * rng.standard_normal(dims[layer])
    return params


def batch(seed, x_shape, C):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.integers(0, C, x_shape[0]).astype(np.int64)


def two_layer_case(label, seed, x_shape, H, C, reg):
    D = math.prod(x_shape[1:])
    X, y = batch(seed, x_shape, C)
    return Case(label, ((D, H, C), net_params(seed + 1, [D, H, C]), float(reg), X, y))


def two_layer_cases(t):
    cases = [
        two_layer_case("N=5, D=6, H=7, C=3, reg=0.3", 1, (5, 6), 7, 3, 0.3),
        two_layer_case("N=1, D=4, H=3, C=2, reg=0", 3, (1, 4), 3, 2, 0.0),
        two_layer_case("X (4, 2, 3) flattened to D=6, reg=1.0", 5, (4, 2, 3), 5, 4, 1.0),
    ]
    return cases + t.hidden("mlp", "two_layer_cases", two_layer_case)


def fc_case(label, seed, x_shape, hidden, C, activation, reg):
    D = math.prod(x_shape[1:])
    X, y = batch(seed, x_shape, C)
    return Case(label, (list(hidden), (D, C), activation, net_params(seed + 1, [D, *hidden, C]),
                        float(reg), X, y))


def fc_cases(t):
    cases = [
        fc_case("relu, hidden [6, 5], X (5, 3, 2, 2), reg=0.4", 11, (5, 3, 2, 2), [6, 5], 4,
                "relu", 0.4),
        fc_case("sigmoid, hidden [7], reg=0.1", 13, (4, 6), [7], 3, "sigmoid", 0.1),
        fc_case("tanh, hidden [5, 4, 3], reg=0", 15, (3, 8), [5, 4, 3], 5, "tanh", 0.0),
        fc_case("leaky_relu, hidden [6], N=1, reg=0.2", 17, (1, 5), [6], 3, "leaky_relu", 0.2),
        fc_case("elu, hidden [4, 4], X (6, 2, 3), reg=0.3", 19, (6, 2, 3), [4, 4], 2, "elu", 0.3),
        fc_case("no hidden layer (a linear classifier), reg=0.5", 21, (4, 5), [], 3, "relu", 0.5),
    ]
    return cases + t.hidden("mlp", "fc_cases", fc_case)


# ---------------------------------------------------------------- recipes

def two_layer_loss(cw, dims, params, reg, X, y=None):
    """The reference TwoLayerNet with ``params``: scores, or (loss, grads)."""
    model = cw.mlp.TwoLayerNet(*dims, reg=reg, rng=np.random.default_rng(0))
    model.params = copy_params(params)
    return model.loss(X) if y is None else model.loss(X, y)


def fc_loss(cw, hidden, dims, activation, params, reg, X, y=None):
    """The reference FullyConnectedNet with ``params``: scores, or (loss, grads)."""
    model = cw.mlp.FullyConnectedNet(hidden, *dims, activation=activation, reg=reg,
                                     rng=np.random.default_rng(0))
    model.params = copy_params(params)
    return model.loss(X) if y is None else model.loss(X, y)


# ---------------------------------------------------------------- tests

@SPEC.test("TwoLayerNet", points=3)
def two_layer_net(t):
    """Initial parameters; scores, loss and gradients (with regularization) for given params."""
    target = "mlp.TwoLayerNet"
    shapes = {"W1": (80, 60), "b1": (60,), "W2": (60, 10), "b2": (10,)}
    model = t.student.new(target, 80, 60, 10, weight_scale=0.05, rng=Seed(0))
    check_init(t, target, model, shapes, 0.05, "80, 60, 10, weight_scale=0.05")
    check_uses_rng(t, target, (6, 4, 3), {"weight_scale": 0.1},
                   {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}, "6, 4, 3")
    for case in two_layer_cases(t):
        dims, params, reg, X, y = case.args
        model = t.student.new(target, *dims, reg=reg, rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, two_layer_loss, (dims, params, reg), X, y, case.label)


@SPEC.test("FullyConnectedNet", points=4)
def fully_connected_net(t):
    """Initial parameters and dtype; scores, loss and gradients for every activation."""
    target = "mlp.FullyConnectedNet"
    shapes = {"W1": (50, 40), "b1": (40,), "W2": (40, 30), "b2": (30,), "W3": (30, 12),
              "b3": (12,)}
    model = t.student.new(target, [40, 30], 50, 12, weight_scale=0.1, rng=Seed(0))
    check_init(t, target, model, shapes, 0.1, "[40, 30], 50, 12, weight_scale=0.1")
    model = t.student.new(target, [30], 20, 5, weight_scale=0.2, dtype="float32", rng=Seed(0))
    check_init(t, target, model, {"W1": (20, 30), "b1": (30,), "W2": (30, 5), "b2": (5,)}, 0.2,
               "dtype='float32'", dtype=np.float32)
    check_uses_rng(t, target, ([4], 6, 3), {"weight_scale": 0.1},
                   {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}, "[4], 6, 3")
    for case in fc_cases(t):
        hidden, dims, activation, params, reg, X, y = case.args
        model = t.student.new(target, hidden, *dims, activation=activation, reg=reg,
                              rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, fc_loss, (hidden, dims, activation, params, reg), X, y,
                   case.label)
