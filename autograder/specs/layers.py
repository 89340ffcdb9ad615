"""Tests of unit 02, ``coursework/layers.py``: affine and activation layers, forward and backward.

Each layer is declared once with the spec toolkit (``specs/toolkit.py``): its forward test compares
``out`` (the cache is kept opaque in the worker), its backward test passes the cache of the
student's own forward to the student's backward and compares with the reference
forward-then-backward. Activation inputs stay at least 1e-3 away from 0, where ReLU-like
functions have no derivative.
"""

import numpy as np

from ..compare import Failed
from ..spec import Case, Spec
from .toolkit import Layer

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
    # The docstrings: right for x of any size. exp(800) overflows: a sigmoid, tanh or ELU that
    # takes exp of large inputs (or multiplies an inf by a mask of 0) returns NaN there.
    cases.append(huge_activation_case())
    if name == "leaky_relu":
        cases.append(Case("alpha=0.2", activation_inputs(15, (5, 4)), {"alpha": 0.2}))
        # the docstring allows any alpha >= 0: max(x, alpha * x) is the leaky ReLU only up to 1
        cases.append(Case("alpha=1.5 (> 1)", activation_inputs(17, (4, 3)), {"alpha": 1.5}))
    if name == "elu":
        cases.append(Case("alpha=0.5", activation_inputs(15, (5, 4)), {"alpha": 0.5}))
        cases.append(Case("alpha=2.5", activation_inputs(16, (3, 3)), {"alpha": 2.5}))
    return cases + t.hidden("layers", "activation_cases", name, activation_inputs)


def huge_activation_case():
    """x = +-800 and +-1e4 in the first row, where exp overflows (and dout)."""
    x, dout = activation_inputs(18, (2, 4))
    x[0] = [800.0, -800.0, 1e4, -1e4]
    return Case("huge inputs: x = +-800 and +-1e4 in the first row (exp(800) overflows)",
                (x, dout))


# What the overflow watch (worker.watching_overflow) cannot see: another thread (or an empty
# contextvars.Context) computes with NumPy's default error state, and NumPy's private context
# variable (``_extobj_contextvar``, set with ``_make_extobj``) bypasses the public
# errstate/seterr the watch forces
UNWATCHED_NAMES = {"_extobj_contextvar": "NumPy's private error state (_extobj_contextvar)",
                   "_make_extobj": "NumPy's private error state (_make_extobj)",
                   "threading": "threads (threading)", "_thread": "threads (_thread)",
                   "concurrent": "threads (concurrent.futures)",
                   "multiprocessing": "other processes (multiprocessing)",
                   # Context().run: a context of its own, empty, so NumPy's default state
                   "contextvars": "a context of its own (contextvars)"}


def unwatched_code(t, module):
    """What the modules that importing ``module`` runs name that the overflow watch cannot
    see through (``UNWATCHED_NAMES``), with its place ("threads (threading), at
    coursework/layers.py line 12"), or ''. The files are read, never run."""
    import ast

    from ..rules import Program

    program = Program(t.package_sources())
    program.load(module)
    for name in sorted(program.trees):
        for node in ast.walk(program.trees[name]):
            found = [node.id] if isinstance(node, ast.Name) else \
                [node.attr] if isinstance(node, ast.Attribute) else \
                [part for a in node.names for part in a.name.split(".")] + \
                (node.module or "").split(".") if isinstance(node, ast.ImportFrom) else \
                [part for a in node.names for part in a.name.split(".")] \
                if isinstance(node, ast.Import) else []
            for word in found:
                if word in UNWATCHED_NAMES:
                    return (f"{UNWATCHED_NAMES[word]}, at coursework/{name}.py line "
                            f"{getattr(node, 'lineno', '?')}")
    return ""


def sigmoid_never_overflows(t):
    """The sigmoid's docstring: exp never overflows. Its values cannot show it (1 / (1 + inf)
    is 0, the right value), so the huge inputs are given again and NumPy says whether an
    operation overflowed (it warns 'overflow encountered in exp' in the student's notebook).
    np.where computes both of its branches for every entry: a branch it does not choose
    overflows too. A warning silenced by the code itself (np.errstate, np.seterr) is still seen
    (``worker.watching_overflow``)."""
    case = huge_activation_case()
    x, _ = case.args
    unwatched = unwatched_code(t, "layers")
    if unwatched:
        raise Failed(
            f"sigmoid_forward: the grader cannot see whether exp overflows in code that uses "
            f"{unwatched}: NumPy's overflows are watched in the calling thread through its "
            "public error state (np.errstate, np.seterr)",
            hint="compute the sigmoid with plain NumPy in the function itself, from exp(-|x|), "
                 "which is at most 1: no threads, no NumPy internals (_extobj_contextvar, "
                 "_make_extobj)", kind="values")
    _, overflowed = t.student.call_watching_overflow("layers.sigmoid_forward", x, opaque=[1])
    if overflowed:
        raise Failed(
            f"sigmoid_forward({case.label}): the values are right, but exp overflowed (NumPy "
            "warned 'overflow encountered in exp': exp of anything above 709 is inf, and x "
            "reaches +-800 here), and the docstring asks for a sigmoid whose exp never "
            "overflows",
            hint="compute the sigmoid from exp(-|x|), which is at most 1, as the notebook's "
                 "table of activations says; np.where(c, a, b) computes both a and b for "
                 "every entry, so a branch it does not choose still overflows; silencing the "
                 "warning (np.errstate(over='ignore'), np.seterr) hides it but does not stop "
                 "the overflow: exp(800) is still inf",
            kind="values")


def maxout_inputs(seed, x_shape, M, K, *, bias_scale=1.0, gap=1e-3):
    """x of ``x_shape``, w (D, M, K), b (M, K) non-zero, dout (N, M); the winning piece of every
    (n, m) leads the runner-up by at least ``gap`` (no near-ties: ties are not graded)."""
    D = int(np.prod(x_shape[1:]))
    for attempt in range(1000):
        rng = np.random.default_rng([seed, attempt])
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal((D, M, K))
        b = bias_scale * rng.standard_normal((M, K))
        z = np.einsum("nd,dmk->nmk", x.reshape(x_shape[0], D), w) + b
        top = np.sort(z, axis=2)
        if K == 1 or np.min(top[:, :, -1] - top[:, :, -2]) >= gap:
            return x, w, b, rng.standard_normal((x_shape[0], M))
    raise AssertionError(f"maxout_inputs: no inputs without near-ties for seed {seed}")


def maxout_cases(t):
    cases = [
        Case("x (5, 4), M=3 units of K=2 pieces", maxout_inputs(21, (5, 4), 3, 2)),
        Case("N=1, x (1, 6), M=2, K=3", maxout_inputs(22, (1, 6), 2, 3)),
        Case("x (3, 2, 3) flattened to (3, 6), M=4, K=5", maxout_inputs(23, (3, 2, 3), 4, 5)),
        Case("M=1 unit of K=4 pieces, large biases",
             maxout_inputs(24, (6, 3), 1, 4, bias_scale=10.0)),
        Case("K=1: a plain affine layer", maxout_inputs(25, (4, 3), 2, 1)),
    ]
    return cases + t.hidden("layers", "maxout_cases", maxout_inputs)


# ---------------------------------------------------------------- affine

AFFINE = Layer(SPEC, "affine", argnames=("x", "w", "b"), grads=("dx", "dw", "db"),
               cases=affine_cases)
affine_forward, affine_backward = AFFINE.tests(
    points=(1, 2), docs=("out = x_flat @ w + b for x of any number of dimensions.",
                         "dx (in x's shape), dw and db of the affine layer."))


# ---------------------------------------------------------------- maxout

MAXOUT = Layer(SPEC, "maxout", argnames=("x", "w", "b"), grads=("dx", "dw", "db"),
               cases=maxout_cases)
maxout_forward, maxout_backward = MAXOUT.tests(
    points=(1, 2), docs=("out[n, m] = max over k of (x_flat @ w[:, :, k] + b[:, k])[n, m].",
                         "dx, dw and db of maxout: the gradient flows through the winning piece."))


# ---------------------------------------------------------------- activations

ACTIVATION_POINTS = {"relu": (0.5, 1), "sigmoid": (0.5, 1), "tanh": (0.5, 1),
                     "leaky_relu": (0.5, 1), "elu": (0.5, 1)}


def _register_activation(name, forward_points, backward_points, *, after=(None, None)):
    layer = Layer(SPEC, name, argnames=("x",), grads=("dx",),
                  cases=lambda t: activation_cases(t, name))
    return layer.tests(
        points=(forward_points, backward_points),
        docs=(f"The {name} forward pass, elementwise.",
              f"dx of {name} from its own cache, local gradient times dout."),
        after=after)


relu_forward, relu_backward = _register_activation("relu", *ACTIVATION_POINTS["relu"])
sigmoid_forward, sigmoid_backward = _register_activation(
    "sigmoid", *ACTIVATION_POINTS["sigmoid"], after=(sigmoid_never_overflows, None))
tanh_forward, tanh_backward = _register_activation("tanh", *ACTIVATION_POINTS["tanh"])
leaky_relu_forward, leaky_relu_backward = _register_activation(
    "leaky_relu", *ACTIVATION_POINTS["leaky_relu"])
elu_forward, elu_backward = _register_activation("elu", *ACTIVATION_POINTS["elu"])
