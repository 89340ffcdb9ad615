"""A package that Python would import instead of the decoy coursework/linear.py next to it."""
import numpy as np


def _garbage(W, X, y, reg):
    return 0.0, np.zeros_like(W)


svm_loss_naive = svm_loss_vectorized = softmax_loss_naive = softmax_loss_vectorized = _garbage


class LinearClassifier:
    def train(self, *args, **kwargs):
        return []

    def predict(self, X):
        return np.zeros(X.shape[0], dtype=int)
