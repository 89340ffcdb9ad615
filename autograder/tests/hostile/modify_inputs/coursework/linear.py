"""Right answers, but the inputs are changed in place."""
from . import honest
from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    result = honest.svm_loss_naive(W, X, y, reg)
    X *= 2.0
    return result


def softmax_loss_vectorized(W, X, y, reg):
    result = honest.softmax_loss_vectorized(W, X, y, reg)
    W[0, 0] = 123.0
    return result
