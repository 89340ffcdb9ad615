"""NaN and inf in the outputs."""
import numpy as np

from . import honest
from .honest import *  # noqa: F401,F403


def svm_loss_vectorized(W, X, y, reg):
    loss, dW = honest.svm_loss_vectorized(W, X, y, reg)
    return loss, dW * np.nan


def softmax_loss_naive(W, X, y, reg):
    return float("nan"), np.zeros_like(W)


def softmax_loss_vectorized(W, X, y, reg):
    loss, dW = honest.softmax_loss_vectorized(W, X, y, reg)
    dW[-1, -1] = np.inf
    return loss, dW
