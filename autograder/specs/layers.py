"""Tests of unit 02, ``coursework/layers.py``: affine and activation layers, forward and backward.

Forward tests call the student's forward and compare ``out`` (the cache is kept opaque in the
worker). Backward tests call the student's own forward for the cache, pass that cache (a Handle)
to the student's backward, and compare with the reference forward-then-backward. Activation inputs
stay at least 1e-3 away from 0, where ReLU-like functions have no derivative.
"""

import numpy as np

from ..compare import Failed, describe
from ..spec import Case, Spec

SPEC = Spec("layers")


# ---------------------------------------------------------------- inputs

def affine_inputs(seed, x_shape, M, *, bias_scale=1.0):
    """x of ``x_shape``, w (D, M), b (M,) non-zero, dout (N, M)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    D = int(np.prod(x_shape[1:]))
    w = rng.standard_normal((D, M))
    b = bias_scale * rng.standard_normal(M)
    dout = rng.standard_normal((x_shape[0], M))
    return x, w, b, dout


def affine_cases(t):
    cases = [
        Case("x (4, 5), w (5, 3)", affine_inputs(1, (4, 5), 3)),
        Case("N=1, x (1, 6), w (6, 2)", affine_inputs(2, (1, 6), 2)),
        Case("x (2, 2, 3, 4) flattened to (2, 24), M=5", affine_inputs(3, (2, 2, 3, 4), 5)),
        Case("x (3, 2, 4), D=8, M=7, large biases",
             affine_inputs(4, (3, 2, 4), 7, bias_scale=10.0)),
    ]
    return cases + t.hidden("layers", "affine_cases", affine_inputs)


def activation_inputs(seed, shape, scale=2.0):
    """x straddling 0 but never within 1e-3 of it, and dout, both of ``shape``."""
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    x = np.where(np.abs(x) < 1e-3, x + np.where(x < 0, -2e-3, 2e-3), x)
    dout = rng.standard_normal(shape)
    return x, dout


def activation_cases(t, name):
    """Cases (label, (x, dout), hyperparameters) for the activation ``name``."""
    cases = [
        Case("x (4, 5) straddling 0", activation_inputs(11, (4, 5))),
        Case("N=1, x (1, 3)", activation_inputs(12, (1, 3))),
        Case("x (2, 3, 4) of 3 dimensions", activation_inputs(13, (2, 3, 4))),
        Case("large inputs, |x| up to ~30", activation_inputs(14, (3, 6), scale=10.0)),
    ]
    if name == "leaky_relu":
        cases.append(Case("alpha=0.2", activation_inputs(15, (5, 4)), {"alpha": 0.2}))
    if name == "elu":
        cases.append(Case("alpha=0.5", activation_inputs(15, (5, 4)), {"alpha": 0.5}))
        cases.append(Case("alpha=2.5", activation_inputs(16, (3, 3)), {"alpha": 2.5}))
    return cases + t.hidden("layers", "activation_cases", name, activation_inputs)


# ---------------------------------------------------------------- recipes (reference results)

def forward_out(cw, forward, inputs, **hyper):
    """The ``out`` of the reference forward ``layers.<forward>``."""
    return getattr(cw.layers, forward)(*inputs, **hyper)[0]


def forward_backward(cw, forward, backward, inputs, dout, **hyper):
    """The reference backward of ``dout`` through the cache of the reference forward."""
    _, cache = getattr(cw.layers, forward)(*inputs, **hyper)
    return getattr(cw.layers, backward)(dout, cache)


# ---------------------------------------------------------------- checks

def _student_forward(t, target, inputs, hyper, label, argnames):
    got, modified = t.student.call_full(target, *inputs, opaque=[1], **hyper)
    t.no_input_modified(target, modified, argnames, label)
    if not isinstance(got, tuple) or len(got) != 2:
        name = target.split(".", 1)[1]
        raise Failed(f"{name}({label}): should return the pair (out, cache), got {describe(got)}",
                     hint="every forward returns the output and the cache for its backward")
    return got


def check_forward(t, name, inputs, hyper, label, argnames):
    target = f"layers.{name}_forward"
    out, _ = _student_forward(t, target, inputs, hyper, label, argnames)
    expected = t.ref.run(forward_out, f"{name}_forward", list(inputs), **hyper)
    t.compare(target, out, expected, names=("out",), label=label,
              mistakes=lambda: t.ref.mistakes(target, forward_out, f"{name}_forward",
                                              list(inputs), **hyper))


def check_backward(t, name, inputs, dout, hyper, label, argnames, names):
    forward, backward = f"layers.{name}_forward", f"layers.{name}_backward"
    _, cache = _student_forward(t, forward, inputs, hyper, label, argnames)
    got, modified = t.student.call_full(backward, dout, cache)
    t.no_input_modified(backward, modified, ("dout",), label)
    args = (f"{name}_forward", f"{name}_backward", list(inputs), dout)
    expected = t.ref.run(forward_backward, *args, **hyper)
    t.compare(backward, got, expected, names=names, label=label,
              mistakes=lambda: t.ref.mistakes(backward, forward_backward, *args, **hyper))


# ---------------------------------------------------------------- affine

@SPEC.test("affine_forward", points=1)
def affine_forward(t):
    """out = x_flat @ w + b for x of any number of dimensions."""
    for case in affine_cases(t):
        x, w, b, _ = case.args
        check_forward(t, "affine", (x, w, b), {}, case.label, ("x", "w", "b"))


@SPEC.test("affine_backward", points=2)
def affine_backward(t):
    """dx (in x's shape), dw and db of the affine layer."""
    for case in affine_cases(t):
        x, w, b, dout = case.args
        check_backward(t, "affine", (x, w, b), dout, {}, case.label, ("x", "w", "b"),
                       ("dx", "dw", "db"))


# ---------------------------------------------------------------- activations

ACTIVATION_POINTS = {"relu": (0.5, 1), "sigmoid": (0.5, 1), "tanh": (0.5, 1),
                     "leaky_relu": (0.5, 1), "elu": (0.5, 1)}


def _register_activation(name, forward_points, backward_points):
    def forward_test(t):
        for case in activation_cases(t, name):
            x, _ = case.args
            check_forward(t, name, (x,), case.kwargs, case.label, ("x",))

    def backward_test(t):
        for case in activation_cases(t, name):
            x, dout = case.args
            check_backward(t, name, (x,), dout, case.kwargs, case.label, ("x",), ("dx",))

    forward_test.__doc__ = f"The {name} forward pass, elementwise."
    backward_test.__doc__ = f"dx of {name} from its own cache, local gradient times dout."
    forward_test.__name__ = f"{name}_forward"
    backward_test.__name__ = f"{name}_backward"
    SPEC.test(f"{name}_forward", points=forward_points)(forward_test)
    SPEC.test(f"{name}_backward", points=backward_points)(backward_test)
    return forward_test, backward_test


relu_forward, relu_backward = _register_activation("relu", *ACTIVATION_POINTS["relu"])
sigmoid_forward, sigmoid_backward = _register_activation("sigmoid", *ACTIVATION_POINTS["sigmoid"])
tanh_forward, tanh_backward = _register_activation("tanh", *ACTIVATION_POINTS["tanh"])
leaky_relu_forward, leaky_relu_backward = _register_activation(
    "leaky_relu", *ACTIVATION_POINTS["leaky_relu"])
elu_forward, elu_backward = _register_activation("elu", *ACTIVATION_POINTS["elu"])
