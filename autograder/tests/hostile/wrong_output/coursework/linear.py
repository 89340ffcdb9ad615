"""Returns the wrong type, the wrong shape, too much data, or a huge nested list."""
import numpy as np

from . import honest
from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    return "the loss is small"


def svm_loss_vectorized(W, X, y, reg):
    loss, dW = honest.svm_loss_vectorized(W, X, y, reg)
    return loss, dW.T  # transposed


def softmax_loss_naive(W, X, y, reg):
    return [[0.5] * 2000 for _ in range(1000)]  # 2 million values


def softmax_loss_vectorized(W, X, y, reg):
    return np.zeros(20_000_000), np.zeros_like(W)  # 160 MB: more than the grader reads


class LinearClassifier(honest.LinearClassifier):
    def predict(self, X):
        return {"labels": None}


class LinearSVM(LinearClassifier, honest.LinearSVM):
    pass


class Softmax(LinearClassifier, honest.Softmax):
    pass
