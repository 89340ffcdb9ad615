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


# The probe loss's term in the weights: PROBE_DRIFT times how far a fixed weighting of W moved
# since the probe's first call. Small (the minibatch decides the loss to about 1e-3, so that
# specs/linear.py can tell a wrong minibatch from wrong weights) but far above the tolerance of
# the losses (1e-6): a loss recorded after the update is not the one before it.
PROBE_DRIFT = 1e-4


def _probe_loss(params):
    # A stand-in for a classifier's loss method (X_batch, y_batch, reg) -> (loss, dW) whose every
    # value the judge can recompute: training must follow it step by step. It reads the weights
    # of the classifier it is set on through ``owner`` (``reads_owner``: the worker passes it a
    # reader of the object's attributes, as a method gets self).
    num_classes = int(params["C"])
    first = []  # the weighted sum of W at the first call

    def weighted(W):
        return float(np.sum(W * (1.0 + np.arange(W.size).reshape(W.shape) / max(W.size, 1))))

    def loss(owner, X_batch, y_batch, reg):
        W = owner("W")
        if W is None:
            raise ValueError("self.loss was called while self.W is None: set self.W before "
                             "the first call of the loss")
        W = np.array(W, dtype=np.float64)
        if not first:
            first.append(weighted(W))
        X = np.asarray(X_batch, dtype=np.float64)
        onehot = np.eye(num_classes)[np.asarray(y_batch)]
        dW = X.T @ onehot / X.shape[0] - float(reg) * 0.5
        value = np.sum(X[:, 0]) / X.shape[0] + np.sum(onehot[:, 0]) + float(reg)
        return float(value + PROBE_DRIFT * (weighted(W) - first[0])), dW
    loss.reads_owner = True
    return loss


FACTORIES["probe_loss"] = _probe_loss
