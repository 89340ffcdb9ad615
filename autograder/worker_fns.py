"""Trusted functions the judge can hand to student code (as ``wire.Fn``), e.g. to a gradient
checker or in place of a classifier's loss.

Each factory takes plain parameters and returns a function of an array. This module is copied
into the worker's sandbox, so it imports only NumPy.
"""

import numpy as np


def _weighted_sin(params):
    w = np.asarray(params["w"], dtype=np.float64)
    return lambda x: float(np.sum(w * np.sin(x)))


def _quadratic(params):
    a = np.asarray(params["a"], dtype=np.float64)
    return lambda x: float(np.sum(a * x * x))


def _softplus_sum(params):
    return lambda x: float(np.sum(np.logaddexp(0.0, x)) + np.prod(x.shape) * 0.0)


def _tanh_times(params):
    w = np.asarray(params["w"], dtype=np.float64)
    return lambda x: np.tanh(x) * w


def _matmul(params):
    m = np.asarray(params["m"], dtype=np.float64)
    return lambda x: x @ m


def _coupled(params):
    # An array-valued function whose output mixes several inputs, so a checker that only looks
    # at the diagonal of the Jacobian gets it wrong.
    return lambda x: np.cumsum(x * x, axis=-1)


def _view(params):
    # An output that is a view of x (its transpose, or x flattened): it changes when x changes
    # afterwards, so a checker must copy f(x + h) before it evaluates f(x - h).
    if params.get("kind") == "flat":
        return lambda x: x.reshape(-1)
    return lambda x: x.T


# Arrays that trusted functions read through a captured reference (``captured_point``).
_CAPTURED = {}


def _captured_point(params):
    # Not a function: the point x itself, kept under params["key"] so that ``captured_sin``
    # reads this very array, as the notebook's f = lambda _: net.loss(X, y)[0] reads net.params.
    x = np.array(params["x"], dtype=np.float64)
    _CAPTURED[str(params["key"])] = x
    return x


def _captured_sin(params):
    # sum(w * sin(x)) of the captured point, whatever the argument: only a checker that perturbs
    # x itself (in place) sees the function change.
    w = np.asarray(params["w"], dtype=np.float64)
    key = str(params["key"])
    return lambda _: float(np.sum(w * np.sin(_CAPTURED[key])))


def _captured_tanh(params):
    # tanh(x) * w of the captured point, whatever the argument: the array-valued counterpart of
    # ``captured_sin`` (f = lambda _: layer_forward(x_captured, ...)[0]).
    w = np.asarray(params["w"], dtype=np.float64)
    key = str(params["key"])
    return lambda _: np.tanh(_CAPTURED[key]) * w


def _transposed_point(params):
    # Not a function: the point x as the transpose of a fresh array, a view that is not
    # C-contiguous (x.reshape(-1) of it is a copy: perturbing that copy leaves x unchanged).
    return np.array(params["x"], dtype=np.float64).T


FACTORIES = {
    "weighted_sin": _weighted_sin,
    "quadratic": _quadratic,
    "softplus_sum": _softplus_sum,
    "tanh_times": _tanh_times,
    "matmul": _matmul,
    "coupled": _coupled,
    "view": _view,
    "captured_point": _captured_point,
    "captured_sin": _captured_sin,
    "captured_tanh": _captured_tanh,
    "transposed_point": _transposed_point,
}


def make(name, params):
    """Build the named function (``captured_point`` builds an array); KeyError for an unknown
    name."""
    return FACTORIES[name](params)


def _probe_loss(params):
    # A stand-in for a classifier's loss (X_batch, y_batch, reg) -> (loss, dW) whose every value
    # the judge can recompute: training must follow it step by step.
    num_classes = int(params["C"])

    def loss(X_batch, y_batch, reg):
        X = np.asarray(X_batch, dtype=np.float64)
        onehot = np.eye(num_classes)[np.asarray(y_batch)]
        dW = X.T @ onehot / X.shape[0] - float(reg) * 0.5
        return float(np.sum(X[:, 0]) / X.shape[0] + np.sum(onehot[:, 0]) + float(reg)), dW
    return loss


FACTORIES["probe_loss"] = _probe_loss
