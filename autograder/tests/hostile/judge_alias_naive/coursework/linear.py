"""The vectorized functions are the naive loops under another name: an alias and a decorator."""
import numpy as np

from .honest import *  # noqa: F401,F403
from .honest import softmax_loss_vectorized as _softmax


def svm_loss_naive(W, X, y, reg):
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(X.shape[0]):
        s = X[i] @ W
        for j in range(W.shape[1]):
            margin = s[j] - s[y[i]] + 1.0
            if j != y[i] and margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    n = X.shape[0]
    return loss / n + reg * np.sum(W * W), dW / n + 2 * reg * W


svm_loss_vectorized = svm_loss_naive


def _one_at_a_time(func):
    def inner(W, X, y, reg):
        parts = [func(W, X[i:i + 1], y[i:i + 1], reg) for i in range(X.shape[0])]
        n = X.shape[0]
        return (sum(p[0] for p in parts) / n + reg * np.sum(W * W) * (1 - 1 / 1),
                sum(p[1] for p in parts) / n)
    return inner


@_one_at_a_time
def softmax_loss_vectorized(W, X, y, reg):
    return _softmax(W, X, y, reg)
