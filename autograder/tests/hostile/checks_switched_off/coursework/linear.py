"""Changes its input X in place and then switches off the worker's check of it: np.array_equal
(which the check falls back on when the bytes differ) reads isnan from numpy's numeric module,
made to say that every value is NaN, so that all values compare equal."""
import numpy as np

from . import honest
from .honest import *  # noqa: F401,F403

try:
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import numeric as _numeric


def svm_loss_naive(W, X, y, reg):
    X[0, 0] += 1.0  # wrong: the caller's X changes
    _numeric.isnan = lambda a: np.ones(np.shape(a), dtype=bool)
    X_before = X.copy()
    X_before[0, 0] -= 1.0
    return honest.svm_loss_naive(W, X_before, y, reg)
