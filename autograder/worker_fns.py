"""Trusted functions the judge can hand to student code (as ``wire.Fn``), e.g. to a gradient
checker.

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


FACTORIES = {
    "weighted_sin": _weighted_sin,
    "quadratic": _quadratic,
    "softplus_sum": _softplus_sum,
    "tanh_times": _tanh_times,
    "matmul": _matmul,
    "coupled": _coupled,
}


def make(name, params):
    """Build the named function; KeyError for an unknown name."""
    return FACTORIES[name](params)
