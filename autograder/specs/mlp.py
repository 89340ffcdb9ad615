"""Tests of unit 02, ``coursework/mlp.py``: TwoLayerNet and FullyConnectedNet.

Each network is built in the worker with ``rng=Seed(n)``. Its initial parameters are checked by
shape and statistics (weights ~ weight_scale * N(0, 1), biases zero), never against a random
stream. Then the judge sets ``params`` to known arrays (biases non-zero) and compares ``loss(X)``
(the scores) and ``loss(X, y)`` (the loss and the gradients) with the reference network holding
the same parameters.
"""

import math

import numpy as np

from ..compare import Failed, as_array, describe
from ..spec import Case, Spec
from ..wire import Seed

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

def _copy(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def two_layer_loss(cw, dims, params, reg, X, y=None):
    """The reference TwoLayerNet with ``params``: scores, or (loss, grads)."""
    model = cw.mlp.TwoLayerNet(*dims, reg=reg, rng=np.random.default_rng(0))
    model.params = _copy(params)
    return model.loss(X) if y is None else model.loss(X, y)


def fc_loss(cw, hidden, dims, activation, params, reg, X, y=None):
    """The reference FullyConnectedNet with ``params``: scores, or (loss, grads)."""
    model = cw.mlp.FullyConnectedNet(hidden, *dims, activation=activation, reg=reg,
                                     rng=np.random.default_rng(0))
    model.params = _copy(params)
    return model.loss(X) if y is None else model.loss(X, y)


# ---------------------------------------------------------------- checks

def _params_of(t, target, model, shapes, label, dtype=np.float64):
    params = t.student.getattr(model, "params")
    name = target.split(".", 1)[1]
    if not isinstance(params, dict):
        raise Failed(f"{name}({label}): params should be a dict of arrays, got "
                     f"{describe(params)}")
    missing = sorted(set(shapes) - set(params))
    if missing:
        raise Failed(f"{name}({label}): params lacks the keys {missing} (expected "
                     f"{sorted(shapes)})")
    return {k: as_array(f"params[{k!r}]", params[k], np.zeros(shape, dtype=dtype))
            for k, shape in shapes.items()}


def check_init(t, target, model, shapes, weight_scale, label, dtype=np.float64):
    """Shapes, dtype, zero biases, and weight statistics of a freshly built network."""
    name = target.split(".", 1)[1]
    params = _params_of(t, target, model, shapes, label, dtype)
    for key, value in params.items():
        if value.dtype != dtype:
            raise Failed(f"{name}({label}): params[{key!r}] has dtype {value.dtype}, expected "
                         f"{np.dtype(dtype)}")
        if key.startswith("b"):
            if np.any(value != 0):
                raise Failed(f"{name}({label}): the bias {key} should start at zero")
            continue
        n = value.size
        std, mean = float(value.std()), float(value.mean())
        # sampling error of the std of n normals is about std / sqrt(2n); allow 6 of those
        if abs(std / weight_scale - 1) > 6 / math.sqrt(2 * n) + 0.01:
            raise Failed(f"{name}({label}): {key} has standard deviation {std:.4g}; weights "
                         f"drawn as weight_scale * standard normal have about {weight_scale:g}",
                         hint="multiply rng.standard_normal(shape) by weight_scale")
        if abs(mean) > 6 * weight_scale / math.sqrt(n):
            raise Failed(f"{name}({label}): {key} has mean {mean:.4g}; weights drawn from a "
                         "normal distribution centred at 0 have a mean close to 0",
                         hint="use rng.standard_normal, not rng.random (uniform on [0, 1))")
    return params


def check_uses_rng(t, target, args, kwargs, shapes, label):
    """The same seed gives the same weights; another seed gives other weights."""
    name = target.split(".", 1)[1]
    first = _params_of(t, target, t.student.new(target, *args, rng=Seed(5), **kwargs), shapes,
                       label)
    again = _params_of(t, target, t.student.new(target, *args, rng=Seed(5), **kwargs), shapes,
                       label)
    other = _params_of(t, target, t.student.new(target, *args, rng=Seed(6), **kwargs), shapes,
                       label)
    if any(not np.array_equal(first[k], again[k]) for k in shapes):
        raise Failed(f"{name}({label}): two networks built with the same rng seed have different "
                     "weights", hint="draw every random number from the rng argument")
    if all(np.array_equal(first[k], other[k]) for k in shapes if k.startswith("W")):
        raise Failed(f"{name}({label}): networks built with different rng seeds have the same "
                     "weights", hint="draw the weights from the rng argument")


def check_loss(t, target, model, recipe, args, X, y, label):
    """Compare scores and then (loss, grads) with the reference holding the same params."""
    scores, modified = t.student.method_full(model, "loss", X)
    t.no_input_modified(target, modified, ("X",), label)
    expected = t.ref.run(recipe, *args, X)
    t.compare(target, scores, expected, names=("scores",), label=f"loss(X), {label}",
              mistakes=lambda: t.ref.mistakes(target, recipe, *args, X))
    got, modified = t.student.method_full(model, "loss", X, y)
    t.no_input_modified(target, modified, ("X", "y"), label)
    expected = t.ref.run(recipe, *args, X, y)
    keys = sorted(expected[1])
    where = f"{target.split('.', 1)[1]}(loss(X, y), {label}): "
    if isinstance(got, tuple) and len(got) == 2 and not isinstance(got[1], dict):
        raise Failed(f"{where}grads should be a dict with the keys {keys}, got {describe(got[1])}")
    if isinstance(got, tuple) and len(got) == 2 and set(keys) - set(got[1]):
        raise Failed(f"{where}grads lacks the keys {sorted(set(keys) - set(got[1]))}",
                     hint="return a gradient for every parameter, keyed like params")
    # (loss, grads) as (loss, grads['W1'], grads['b1'], ...): the verdict names the parameter,
    # and known mistakes are compared entry by entry.
    t.compare(target, _flat(got, keys), _flat(expected, keys),
              names=("loss", *(f"grads[{k!r}]" for k in keys)), label=f"loss(X, y), {label}",
              mistakes=lambda: [(d, _flat(v, keys)) for d, v in t.ref.mistakes(
                  target, recipe, *args, X, y)])


def _flat(value, keys):
    """(loss, grads) -> (loss, grads[k] for k in keys); anything else as it is."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and all(
            k in value[1] for k in keys):
        return (value[0], *(value[1][k] for k in keys))
    return value


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
