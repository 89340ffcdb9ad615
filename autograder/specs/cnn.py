"""Tests of unit 03, ``coursework/cnn.py``: ThreeLayerConvNet, LeNet5 and count_parameters.

As for the networks of unit 02: each network is built in the worker with ``rng=Seed(n)``; its
initial parameters are checked by shape, dtype and statistics (weights ~ scale * N(0, 1), biases
zero), never against a random stream. Then the judge sets ``params`` to known arrays (biases
non-zero) and compares ``loss(X)`` (the scores) and ``loss(X, y)`` (the loss and the gradients)
with the reference network holding the same parameters.
"""

import contextlib

import numpy as np

from ..compare import Failed, describe
from ..runner import StudentError
from ..spec import Case, Spec
from ..wire import Seed
from .model_checks import check_init, check_loss, check_uses_rng, copy_params

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

def three_layer_loss(cw, args, kwargs, params, X, y=None):
    """The reference ThreeLayerConvNet holding ``params``: scores, or (loss, grads)."""
    model = cw.cnn.ThreeLayerConvNet(*args, **kwargs, rng=np.random.default_rng(0))
    model.params = copy_params(params)
    return model.loss(X) if y is None else model.loss(X, y)


def lenet_loss(cw, args, kwargs, params, X, y=None):
    """The reference LeNet5 holding ``params``: scores, or (loss, grads)."""
    model = cw.cnn.LeNet5(*args, **kwargs, rng=np.random.default_rng(0))
    model.params = copy_params(params)
    return model.loss(X) if y is None else model.loss(X, y)


# ---------------------------------------------------------------- tests

@SPEC.test("count_parameters", points=1)
def count_parameters(t):
    """The total size of the params arrays, as an int."""
    rng = np.random.default_rng(0)
    for case in [
        Case("a conv layer and an affine layer", ({"W1": rng.standard_normal((6, 1, 5, 5)),
                                                  "b1": np.zeros(6), "W2": np.ones((24, 10)),
                                                  "b2": np.zeros(10)},)),
        Case("one scalar-sized bias", ({"W": np.ones((3, 2)), "b": np.zeros(1)},)),
        Case("no parameters", ({},)),
    ] + t.hidden("cnn", "count_cases", rng):
        label, (params,) = case.label, case.args
        # a call that raises (a loop over the dict's keys) gets the hint of a known mistake
        with t.explaining_errors("cnn.count_parameters", "cnn.count_parameters", params):
            got = t.student.call("cnn.count_parameters", params)
        expected = sum(v.size for v in params.values())
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            # NumPy's sum of an empty list is the float 0.0 and np.prod(()) the float 1.0: the
            # count is right, only its type is not (before: no hint said why)
            right_value = isinstance(got, (float, np.floating)) and float(got) == expected
            raise Failed(f"count_parameters({label}): should return an int, got {describe(got)}"
                         + (f", of the right value {expected}" if right_value else ""),
                         hint=COUNT_FLOAT_HINT if right_value else None)
        if int(got) != expected:
            shown = int(got) if abs(int(got)) < 2**63 else describe(got)
            raise Failed(f"count_parameters({label}): returned {shown}, expected {expected}",
                         hint="add up the sizes of every array in params (weights and biases)")


COUNT_FLOAT_HINT = ("the count is right but a float: NumPy's sum of an empty list is 0.0 (and "
                    "np.prod of the empty shape () is 1.0), floats both; return an int: convert "
                    "the total with int(), or add the sizes up with Python's sum, which starts "
                    "from the int 0")


@SPEC.test("ThreeLayerConvNet", points=4)
def three_layer_convnet(t):
    """Initial parameters (weight_scale and He), dtype; scores, loss and gradients for params."""
    target = "cnn.ThreeLayerConvNet"
    model = t.student.new(target, (3, 16, 12), 20, 5, 50, 10, weight_scale=0.05, rng=Seed(0))
    check_init(t, target, model, three_layer_shapes((3, 16, 12), 20, 5, 50, 10), 0.05,
               "(3, 16, 12), 20, 5, 50, 10, weight_scale=0.05")
    # He with 3 input channels: W1's fan_in is C*HH*WW = 27, not HH*WW = 9
    model = t.student.new(target, (3, 8, 8), 16, 3, 64, 10, weight_scale=None,
                          dtype="float32", rng=Seed(0))
    check_init(t, target, model, three_layer_shapes((3, 8, 8), 16, 3, 64, 10), None,
               "(3, 8, 8), 16, 3, 64, 10, weight_scale=None, dtype=float32", dtype=np.float32)
    model = t.student.new(target, (2, 6, 6), 3, 3, 4, 3, weight_scale=0.0, rng=Seed(0))
    check_init(t, target, model, three_layer_shapes((2, 6, 6), 3, 3, 4, 3), 0.0,
               "(2, 6, 6), 3, 3, 4, 3, weight_scale=0.0")
    check_uses_rng(t, target, ((2, 4, 4), 3, 3, 4, 3), {"weight_scale": 0.1},
                   three_layer_shapes((2, 4, 4), 3, 3, 4, 3), "(2, 4, 4), 3, 3, 4, 3")
    for case in three_layer_cases(t):
        args, kwargs, params, X, y = case.args
        model = t.student.new(target, *args, **kwargs, rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, three_layer_loss, (args, kwargs, params), X, y, case.label)


ZERO_SIZE_HINT = ("a division by zero while building LeNet5: a layer's input size came out 0, "
                  "most likely W3's F2 * H2 * W2 rows (He's scale sqrt(2 / fan_in) divides by "
                  "it). Compute the height and the width after the two conv-pool stages each "
                  "from its own side, n -> (n + 2 * pad - filter_size + 1) // 2 twice: a width "
                  "computed from the height, or from a height already updated in the same "
                  "loop, shrinks one stage too many")


@contextlib.contextmanager
def zero_size_explained():
    """Around building a LeNet5: a ZeroDivisionError (an input size of 0 somewhere) gets
    ``ZERO_SIZE_HINT`` instead of the bare error."""
    try:
        yield
    except StudentError as error:
        if "ZeroDivisionError" in error.message and not error.hint:
            error.hint = ZERO_SIZE_HINT
        raise


@SPEC.test("LeNet5", points=3)
def lenet5(t):
    """The classic shapes; initial parameters; scores, loss and gradients for max and avg pools."""
    target = "cnn.LeNet5"
    with zero_size_explained():
        model = t.student.new(target, rng=Seed(0))
    check_init(t, target, model, lenet_shapes((1, 32, 32), 10, (6, 16), 5, 0, (120, 84)), None,
               "defaults: (1, 32, 32), 10 classes")
    model = t.student.new(target, (3, 8, 8), 5, filters=(4, 6), filter_size=3, pad=1,
                          hidden_dims=(10, 7), weight_scale=0.1, rng=Seed(2))
    check_init(t, target, model, lenet_shapes((3, 8, 8), 5, (4, 6), 3, 1, (10, 7)), 0.1,
               "(3, 8, 8), 5, filter_size=3, pad=1, weight_scale=0.1")
    # a non-square input: 14x22 -> 6x10 after the first pool -> 2x4 after the second
    label = "(2, 14, 22), 4, filters=(3, 5), filter_size=3, hidden_dims=(6, 5)"
    model = t.student.new(target, (2, 14, 22), 4, filters=(3, 5), filter_size=3,
                          hidden_dims=(6, 5), rng=Seed(3))
    try:
        check_init(t, target, model, lenet_shapes((2, 14, 22), 4, (3, 5), 3, 0, (6, 5)), None,
                   label)
    except Failed as failure:
        if failure.kind != "shape" or "params['W3']" not in failure.message:
            raise
        raise Failed(failure.message, kind=failure.kind, error=failure.error,
                     hint="W3 has F2 * H2 * W2 rows, with H2 and W2 the height and the width "
                          "after the second pool, computed separately: they differ when the "
                          "input is not square") from None
    # the docstring's promise "parameters have the given dtype", biases included
    label = "(1, 14, 14), 3, filters=(2, 3), filter_size=3, hidden_dims=(5, 4), dtype=float32"
    model = t.student.new(target, (1, 14, 14), 3, filters=(2, 3), filter_size=3,
                          hidden_dims=(5, 4), weight_scale=0.1, dtype="float32", rng=Seed(4))
    check_init(t, target, model, lenet_shapes((1, 14, 14), 3, (2, 3), 3, 0, (5, 4)), 0.1, label,
               dtype=np.float32)
    check_uses_rng(t, target, ((1, 10, 10), 3), {"filters": (2, 3), "filter_size": 3,
                                                 "hidden_dims": (4, 3), "weight_scale": 0.1},
                   lenet_shapes((1, 10, 10), 3, (2, 3), 3, 0, (4, 3)),
                   "(1, 10, 10), 3, filters=(2, 3), filter_size=3, hidden_dims=(4, 3)")
    for case in lenet_cases(t):
        args, kwargs, params, X, y = case.args
        model = t.student.new(target, *args, **kwargs, rng=Seed(1))
        t.student.setattr(model, "params", params)
        check_loss(t, target, model, lenet_loss, (args, kwargs, params), X, y, case.label)
