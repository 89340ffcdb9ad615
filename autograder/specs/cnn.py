"""Tests of unit 03, ``coursework/cnn.py``: ThreeLayerConvNet, LeNet5 and count_parameters.

As for the networks of unit 02: each network is built in the worker with ``rng=Seed(n)``; its
initial parameters are checked by shape, dtype and statistics (weights ~ scale * N(0, 1), biases
zero), never against a random stream. Then the judge sets ``params`` to known arrays (biases
non-zero) and compares ``loss(X)`` (the scores) and ``loss(X, y)`` (the loss and the gradients)
with the reference network holding the same parameters.
"""

import math

import numpy as np

from ..compare import Failed, as_array, describe
from ..spec import Case, Spec
from ..wire import Seed

SPEC = Spec("cnn")


# ---------------------------------------------------------------- inputs

def three_layer_shapes(input_dim, F, k, hidden, C):
    c, h, w = input_dim
    return {"W1": (F, c, k, k), "b1": (F,), "W2": (F * (h // 2) * (w // 2), hidden),
            "b2": (hidden,), "W3": (hidden, C), "b3": (C,)}


def lenet_shapes(input_dim, C, filters, k, pad, hidden):
    c, h, w = input_dim
    for _ in range(2):
        h, w = (h + 2 * pad - k + 1) // 2, (w + 2 * pad - k + 1) // 2
    return {"W1": (filters[0], c, k, k), "b1": (filters[0],),
            "W2": (filters[1], filters[0], k, k), "b2": (filters[1],),
            "W3": (filters[1] * h * w, hidden[0]), "b3": (hidden[0],),
            "W4": (hidden[0], hidden[1]), "b4": (hidden[1],), "W5": (hidden[1], C), "b5": (C,)}


def make_params(seed, shapes, *, weight_scale=0.4, bias_scale=0.3):
    rng = np.random.default_rng(seed)
    return {k: (weight_scale if k.startswith("W") else bias_scale) * rng.standard_normal(shape)
            for k, shape in shapes.items()}


def batch(seed, N, input_dim, C):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, *input_dim)), rng.integers(0, C, N).astype(np.int64)


def three_layer_case(label, seed, N, input_dim, F, k, hidden, C, reg):
    args = (tuple(input_dim), F, k, hidden, C)
    X, y = batch(seed, N, input_dim, C)
    return Case(label, (args, {"reg": float(reg)},
                        make_params(seed + 1, three_layer_shapes(*args)), X, y))


def three_layer_cases(t):
    cases = [
        three_layer_case("N=3, input (2, 6, 8), 3 filters 3x3, hidden 5, 4 classes, reg=0.3",
                         1, 3, (2, 6, 8), 3, 3, 5, 4, 0.3),
        three_layer_case("N=1, input (1, 4, 4), 2 filters 1x1, hidden 3, 2 classes, reg=0",
                         3, 1, (1, 4, 4), 2, 1, 3, 2, 0.0),
        three_layer_case("N=2, input (3, 6, 4), 2 filters 5x5, hidden 4, 3 classes, reg=1.0",
                         5, 2, (3, 6, 4), 2, 5, 4, 3, 1.0),
    ]
    return cases + t.hidden("cnn", "three_layer_cases", three_layer_case)


def lenet_case(label, seed, N, input_dim, C, filters, k, pad, hidden, pool, reg):
    kwargs = {"filters": tuple(filters), "filter_size": k, "pad": pad,
              "hidden_dims": tuple(hidden), "pool": pool, "reg": float(reg)}
    X, y = batch(seed, N, input_dim, C)
    params = make_params(seed + 1, lenet_shapes(input_dim, C, filters, k, pad, hidden))
    return Case(label, ((tuple(input_dim), C), kwargs, params, X, y))


def lenet_cases(t):
    cases = [
        lenet_case("N=2, input (1, 10, 14), 3x3 filters, pad 0, max pool, reg=0.2",
                   1, 2, (1, 10, 14), 3, (2, 3), 3, 0, (5, 4), "max", 0.2),
        lenet_case("N=3, input (2, 8, 8), 3x3 filters, pad 1, average pool, reg=0.1",
                   3, 3, (2, 8, 8), 4, (3, 2), 3, 1, (4, 3), "avg", 0.1),
        lenet_case("N=1, input (1, 12, 12), 5x5 filters, pad 2, max pool, reg=0",
                   5, 1, (1, 12, 12), 2, (2, 2), 5, 2, (3, 3), "max", 0.0),
    ]
    return cases + t.hidden("cnn", "lenet_cases", lenet_case)


# ---------------------------------------------------------------- recipes

def _copy(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def three_layer_loss(cw, args, kwargs, params, X, y=None):
    """The reference ThreeLayerConvNet holding ``params``: scores, or (loss, grads)."""
    model = cw.cnn.ThreeLayerConvNet(*args, **kwargs, rng=np.random.default_rng(0))
    model.params = _copy(params)
    return model.loss(X) if y is None else model.loss(X, y)


def lenet_loss(cw, args, kwargs, params, X, y=None):
    """The reference LeNet5 holding ``params``: scores, or (loss, grads)."""
    model = cw.cnn.LeNet5(*args, **kwargs, rng=np.random.default_rng(0))
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
    """Shapes, dtype, zero biases and weight statistics (weight_scale None: He per layer)."""
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
        fan_in = math.prod(value.shape[1:]) if value.ndim == 4 else value.shape[0]
        scale = math.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
        what = f"He's sqrt(2 / fan_in) = {scale:.4g}" if weight_scale is None else f"{scale:g}"
        n = value.size
        std, mean = float(value.astype(np.float64).std()), float(value.mean())
        # the sampling error of the std of n normals is about std / sqrt(2n); allow 6 of those
        if abs(std / scale - 1) > 6 / math.sqrt(2 * n) + 0.01:
            raise Failed(f"{name}({label}): {key} has standard deviation {std:.4g}; it should "
                         f"be about {what}",
                         hint="multiply rng.standard_normal(shape) by the layer's scale; with "
                              "weight_scale=None the scale is sqrt(2 / fan_in), fan_in = "
                              "C*HH*WW for a convolution and D for an affine layer")
        if abs(mean) > 6 * scale / math.sqrt(n):
            raise Failed(f"{name}({label}): {key} has mean {mean:.4g}; weights drawn from a "
                         "normal distribution centred at 0 have a mean close to 0",
                         hint="use rng.standard_normal, not rng.random (uniform on [0, 1))")


def check_uses_rng(t, target, args, kwargs, shapes, label):
    """The same seed gives the same weights; another seed gives other weights."""
    name = target.split(".", 1)[1]

    def build(seed):
        return _params_of(t, target, t.student.new(target, *args, rng=Seed(seed), **kwargs),
                          shapes, label)

    first, again, other = build(5), build(5), build(6)
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
    t.compare(target, got, expected, names=("loss", "grads"), label=f"loss(X, y), {label}",
              mistakes=lambda: t.ref.mistakes(target, recipe, *args, X, y))


# ---------------------------------------------------------------- tests

@SPEC.test("count_parameters", points=1)
def count_parameters(t):
    """The total size of the params arrays, as an int."""
    rng = np.random.default_rng(0)
    for label, params in [
        ("a conv layer and an affine layer", {"W1": rng.standard_normal((6, 1, 5, 5)),
                                              "b1": np.zeros(6), "W2": np.ones((24, 10)),
                                              "b2": np.zeros(10)}),
        ("one scalar-sized bias", {"W": np.ones((3, 2)), "b": np.zeros(1)}),
        ("no parameters", {}),
    ]:
        got = t.student.call("cnn.count_parameters", params)
        expected = sum(v.size for v in params.values())
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Failed(f"count_parameters({label}): should return an int, got {describe(got)}")
        if int(got) != expected:
            raise Failed(f"count_parameters({label}): returned {int(got)}, expected {expected}",
                         hint="add up the sizes of every array in params (weights and biases)")


@SPEC.test("ThreeLayerConvNet", points=4)
def three_layer_convnet(t):
    """Initial parameters (weight_scale and He), dtype; scores, loss and gradients for params."""
    target = "cnn.ThreeLayerConvNet"
    model = t.student.new(target, (3, 16, 12), 20, 5, 50, 10, weight_scale=0.05, rng=Seed(0))
    check_init(t, target, model, three_layer_shapes((3, 16, 12), 20, 5, 50, 10), 0.05,
               "(3, 16, 12), 20, 5, 50, 10, weight_scale=0.05")
    model = t.student.new(target, (1, 8, 8), 16, 3, 64, 10, weight_scale=None,
                          dtype="float32", rng=Seed(0))
    check_init(t, target, model, three_layer_shapes((1, 8, 8), 16, 3, 64, 10), None,
               "(1, 8, 8), 16, 3, 64, 10, weight_scale=None, dtype=float32", dtype=np.float32)
    check_uses_rng(t, target, ((2, 4, 4), 3, 3, 4, 3), {"weight_scale": 0.1},
                   three_layer_shapes((2, 4, 4), 3, 3, 4, 3), "(2, 4, 4), 3, 3, 4, 3")
    for case in three_layer_cases(t):
        args, kwargs, params, X, y = case.args
        model = t.student.new(target, *args, **kwargs, rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, three_layer_loss, (args, kwargs, params), X, y, case.label)


@SPEC.test("LeNet5", points=3)
def lenet5(t):
    """The classic shapes; initial parameters; scores, loss and gradients for max and avg pools."""
    target = "cnn.LeNet5"
    model = t.student.new(target, rng=Seed(0))
    check_init(t, target, model, lenet_shapes((1, 32, 32), 10, (6, 16), 5, 0, (120, 84)), None,
               "defaults: (1, 32, 32), 10 classes")
    model = t.student.new(target, (3, 8, 8), 5, filters=(4, 6), filter_size=3, pad=1,
                          hidden_dims=(10, 7), weight_scale=0.1, rng=Seed(2))
    check_init(t, target, model, lenet_shapes((3, 8, 8), 5, (4, 6), 3, 1, (10, 7)), 0.1,
               "(3, 8, 8), 5, filter_size=3, pad=1, weight_scale=0.1")
    for case in lenet_cases(t):
        args, kwargs, params, X, y = case.args
        model = t.student.new(target, *args, **kwargs, rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, lenet_loss, (args, kwargs, params), X, y, case.label)
