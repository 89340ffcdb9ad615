"""Tests of unit 02, ``coursework/gradcheck.py``: numerical gradients and the relative error.

The student's checkers run in the worker on trusted functions (``wire.Fn``, built from
``worker_fns``) and their results are compared with the exact, analytic gradients of those
functions.

Tolerance: a centered difference with h = 1e-5 in float64 is off by about h**2 * |f'''| / 6
(~1e-11) plus rounding of about 1e-16 * |f| / h (~1e-10 here), so a correct checker lands within
~1e-8 relative error of the analytic gradient even at the smallest graded elements (compare.py
measures small elements against 1e-3 of the largest). GRADCHECK_RTOL = 1e-5 leaves a wide margin
for any correct way of computing it, while a one-sided difference (error ~h * |f''| / 2, 1e-5 to
1e-3 relative on these functions) or a wrong divisor fails. Where a case sets h itself (h = 0.1),
the expected answer is the reference's centered difference with that h (rtol 1e-6), so that h
must be used.
"""

import numpy as np

from ..compare import NUMERICAL_GRADIENT_REMARK, Failed
from ..spec import Case, Spec
from ..wire import Fn

SPEC = Spec("gradcheck")
GRADCHECK_RTOL = 1e-5
RESTORE_HINT = ("x must be exactly as it was after the call: save x[ix], and after evaluating "
                "f(x + h) and f(x - h) put the saved value back")
IN_PLACE_HINT = ("perturb x itself, in place (x[ix] = old + h, then f(x)), not a copy: f may "
                 "read x through another name, as the notebook's f = lambda _: "
                 "net.loss(X, y)[0] reads net.params, and then a perturbed copy changes nothing")
VIEW_HINT = ("f(x) may return a view of x, which changes when x changes: keep a copy of "
             "f(x + h) (xp.array(f(x)) or .copy()) before you evaluate f(x - h)")
DTYPE_HINT = "build grad with the dtype of x: xp.zeros_like(x), not xp.zeros(x.shape)"


def _make(fn):
    from ..worker_fns import make

    return make(fn.name, fn.params)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _point(x):
    """The array x of a case, new for every call: a copy (a mistaken variant may change x), or
    for a captured point (``Fn("captured_point")``) the array that its f reads."""
    if isinstance(x, Fn):
        return _make(x)
    return x.copy()


def _values(x):
    """The values of x (a captured or transposed point's too)."""
    if isinstance(x, Fn) and x.name == "transposed_point":
        return np.asarray(x.params["x"]).T
    return np.asarray(x.params["x"]) if isinstance(x, Fn) else x


def _on_cpu(t):
    """Whether the student's code runs on the CPU. On a GPU the worker hands trusted functions
    host copies of their device arguments, so a function cannot read the caller's x."""
    return getattr(getattr(t.student, "limits", None), "device", "cpu") == "cpu"


# ---------------------------------------------------------------- recipes

def analytic_gradient(cw, fn, x, **kwargs):
    """The exact gradient of the scalar trusted function ``fn`` at x."""
    x = _values(x)
    if fn.name in ("weighted_sin", "captured_sin"):
        return np.asarray(fn.params["w"]) * np.cos(x)
    if fn.name == "quadratic":
        return 2.0 * np.asarray(fn.params["a"]) * x
    if fn.name == "softplus_sum":
        return _sigmoid(x)
    raise KeyError(fn.name)


def analytic_gradient_array(cw, fn, x, dout, **kwargs):
    """The exact gradient of sum(fn(x) * dout) at x."""
    x = _values(x)
    if fn.name in ("tanh_times", "captured_tanh"):
        return dout * np.asarray(fn.params["w"]) * (1.0 - np.tanh(x) ** 2)
    if fn.name == "matmul":
        return dout @ np.asarray(fn.params["m"]).T
    if fn.name == "coupled":  # y_j = sum_{i <= j} x_i**2
        return 2.0 * x * np.flip(np.cumsum(np.flip(dout, -1), axis=-1), -1)
    if fn.name == "view":  # y = x.T or x.reshape(-1)
        return dout.reshape(x.shape) if fn.params.get("kind") == "flat" else dout.T
    raise KeyError(fn.name)


def numeric_gradient(cw, fn, x, **kwargs):
    """The reference checker on a copy of x (a mistaken variant may change x)."""
    return cw.gradcheck.numerical_gradient(_make(fn), _point(x), **kwargs)


def numeric_gradient_array(cw, fn, x, dout, **kwargs):
    return cw.gradcheck.numerical_gradient_array(_make(fn), _point(x), dout, **kwargs)


# ---------------------------------------------------------------- cases

def scalar_cases(t):
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal((3, 4))
    x2 = np.array([0.01, -0.02, 0.5, -1.5, 2.0])  # small x: a one-sided difference is far off
    x3 = rng.standard_normal((2, 3, 2))
    cases = [
        Case("sum(w * sin(x)), x (3, 4)",
             (Fn("weighted_sin", {"w": rng.standard_normal((3, 4))}), x1)),
        Case("sum(a * x**2), x (5,) with small entries",
             (Fn("quadratic", {"a": rng.uniform(1, 3, 5)}), x2)),
        Case("x (1,)", (Fn("softplus_sum"), np.array([0.3]))),
        Case("x (2, 3, 2) of 3 dimensions",
             (Fn("weighted_sin", {"w": rng.standard_normal((2, 3, 2))}), x3)),
        Case("h=0.1 given", (Fn("weighted_sin", {"w": np.ones((2, 2))}),
                             rng.standard_normal((2, 2))), {"h": 0.1}),
        # x and x +- h exact in float32, so every way of perturbing x stores the same values
        Case("x float32 (3, 2), h=0.125 given: grad has the dtype of x",
             (Fn("weighted_sin", {"w": rng.standard_normal((3, 2))}),
              (rng.integers(-16, 17, (3, 2)) / 8).astype(np.float32)), {"h": 0.125}),
    ]
    if _on_cpu(t):
        cases.append(Case(
            "f reads x through a captured reference, not its argument (as the notebook's "
            "lambda _: net.loss(X, y)[0] reads net.params)",
            (Fn("captured_sin", {"w": rng.standard_normal((2, 3)), "key": "public"}),
             Fn("captured_point", {"x": rng.standard_normal((2, 3)), "key": "public"}))))
        cases.append(Case(
            "x (3, 2) not C-contiguous (the transpose of a (2, 3) array): x.reshape(-1) of it "
            "is a copy, not a view",
            (Fn("weighted_sin", {"w": rng.standard_normal((3, 2))}),
             Fn("transposed_point", {"x": rng.standard_normal((2, 3))}))))
    return cases + t.hidden("gradcheck", "scalar_cases", Fn)


def array_cases(t):
    rng = np.random.default_rng(2)
    cases = [
        Case("tanh(x) * w, x (3, 4)",
             (Fn("tanh_times", {"w": rng.standard_normal((3, 4))}), rng.standard_normal((3, 4)),
              rng.standard_normal((3, 4)))),
        Case("cumsum(x**2) along the last axis: every output depends on several inputs",
             (Fn("coupled"), rng.standard_normal((2, 5)), rng.standard_normal((2, 5)))),
        Case("x @ m, x (3, 4), m (4, 2): the output has another shape than x",
             (Fn("matmul", {"m": rng.standard_normal((4, 2))}), rng.standard_normal((3, 4)),
              rng.standard_normal((3, 2)))),
        Case("x (2, 2, 3) of 3 dimensions",
             (Fn("tanh_times", {"w": rng.standard_normal((2, 2, 3))}),
              rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3)))),
        Case("h=0.1 given",
             (Fn("tanh_times", {"w": np.ones((2, 3))}), rng.standard_normal((2, 3)),
              rng.standard_normal((2, 3))), {"h": 0.1}),
        Case("f(x) = x.T, a view of x that changes with it",
             (Fn("view"), rng.standard_normal((3, 4)), rng.standard_normal((4, 3)))),
        Case("x float32 (2, 3), h=0.125 given: grad has the dtype of x",
             (Fn("tanh_times", {"w": rng.standard_normal((2, 3))}),
              (rng.integers(-16, 17, (2, 3)) / 8).astype(np.float32),
              rng.standard_normal((2, 3))), {"h": 0.125}),
    ]
    if _on_cpu(t):
        cases.append(Case(
            "f reads x through a captured reference, not its argument (as "
            "lambda _: net.loss(X) reads net.params)",
            (Fn("captured_tanh", {"w": rng.standard_normal((2, 3)), "key": "array"}),
             Fn("captured_point", {"x": rng.standard_normal((2, 3)), "key": "array"}),
             rng.standard_normal((2, 3)))))
        cases.append(Case(
            "x (3, 2) not C-contiguous (the transpose of a (2, 3) array): x.reshape(-1) of it "
            "is a copy, not a view",
            (Fn("tanh_times", {"w": rng.standard_normal((3, 2))}),
             Fn("transposed_point", {"x": rng.standard_normal((2, 3))}),
             rng.standard_normal((3, 2)))))
    return cases + t.hidden("gradcheck", "array_cases", Fn)


# ---------------------------------------------------------------- tests

def _restored(target, modified, label):
    if "1" in modified:
        name = target.split(".", 1)[1]
        raise Failed(f"{name}({label}): x is different after the call; each probe must put the "
                     "original value back", hint=RESTORE_HINT)


def _same_dtype(target, got, x, label):
    """grad has the dtype of x, as the docstring promises (compare.py accepts any float dtype
    at least as precise as the expected one)."""
    if isinstance(x, np.ndarray) and isinstance(got, np.ndarray) and got.dtype != x.dtype:
        name = target.split(".", 1)[1]
        raise Failed(f"{name}({label}): grad has dtype {got.dtype} but x has dtype {x.dtype}; "
                     "the docstring asks for the dtype of x", hint=DTYPE_HINT, kind="dtype")


def _gradient_test(t, target, cases, analytic, numeric):
    for case in cases:
        with t.explaining_errors(target, numeric, *case.args, **case.kwargs):
            got, modified = t.student.call_full(target, *case.args, **case.kwargs)
        _restored(target, modified, case.label)
        if case.kwargs:  # a given h: the reference's centered difference with that h
            expected, rtol = t.ref.run(numeric, *case.args, **case.kwargs), 1e-6
        else:
            expected, rtol = t.ref.run(analytic, *case.args), GRADCHECK_RTOL
        t.compare(target, got, expected, names=("grad",), label=case.label, rtol=rtol,
                  mistakes=lambda: t.ref.mistakes(target, numeric, *case.args, **case.kwargs),
                  small_error_remark=None if case.kwargs else NUMERICAL_GRADIENT_REMARK)
        _same_dtype(target, got, case.args[1], case.label)


@SPEC.test("numerical_gradient", points=2)
def numerical_gradient(t):
    """Centered differences of a scalar function, x restored after each probe."""
    _gradient_test(t, "gradcheck.numerical_gradient", scalar_cases(t), analytic_gradient,
                   numeric_gradient)


@SPEC.test("numerical_gradient_array", points=2)
def numerical_gradient_array(t):
    """Centered differences of sum(f(x) * dout), over every output element."""
    _gradient_test(t, "gradcheck.numerical_gradient_array", array_cases(t),
                   analytic_gradient_array, numeric_gradient_array)


def error_cases(t):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4))
    cases = [
        Case("nearly equal arrays (3, 4)", (a, a + 1e-6 * rng.standard_normal((3, 4)))),
        Case("b larger than a", (np.array([1.0, 2.0, -3.0]), np.array([1.5, 2.0, -3.0]))),
        Case("zeros in both at the same places", (np.array([0.0, 1.0, 0.0, 4.0]),
                                                   np.array([0.0, 1.1, 0.0, 4.0]))),
        Case("arrays (2, 2, 3) of 3 dimensions, opposite signs",
             (rng.standard_normal((2, 2, 3)), -rng.standard_normal((2, 2, 3)))),
        Case("two Python floats, 2.0 and 2.5 (the docstring: arrays or numbers)", (2.0, 2.5)),
        # Where |a| + |b| is below the floor 1e-8, the floor is the denominator: 1e-9 against 0
        # is an error of 0.1 (|a| + |b| + 1e-8 would give 0.0909).
        Case("tiny values, |a| + |b| below 1e-8", (np.array([1e-9, 3e-9, 0.5]),
                                                    np.array([0.0, 3e-9, 0.5]))),
    ]
    return cases + t.hidden("gradcheck", "error_cases", rng)


@SPEC.test("relative_error", points=1)
def relative_error(t):
    """max |a - b| / max(1e-8, |a| + |b|) over the elements."""
    for case in error_cases(t):
        t.check("gradcheck.relative_error", *case.args, label=case.label, names=("error",),
                argnames=("a", "b"))
