import numpy as np


def _garbage(W, X, y, reg):
    return 0.0, np.zeros_like(W)


svm_loss_naive = svm_loss_vectorized = softmax_loss_naive = softmax_loss_vectorized = _garbage


class LinearClassifier:
    def __init__(self):
        self.W = None

    def train(self, X, y, **kwargs):
        return [1.0] * kwargs.get("num_iters", 1)

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


LinearSVM = Softmax = LinearClassifier
