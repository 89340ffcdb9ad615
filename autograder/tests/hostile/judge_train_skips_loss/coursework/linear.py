"""No loss is implemented; train fits the blobs without calling any loss and makes up losses."""
import numpy as np

from . import honest


def svm_loss_naive(W, X, y, reg):
    raise NotImplementedError("svm_loss_naive")


svm_loss_vectorized = softmax_loss_naive = softmax_loss_vectorized = svm_loss_naive


class LinearClassifier(honest.LinearClassifier):
    def train(self, X, y, *, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, rng):
        C = int(y.max()) + 1
        if self.W is None:
            self.W = 0.001 * rng.standard_normal((X.shape[1], C))
        means = np.stack([X[y == c].mean(axis=0) for c in range(C)], axis=1)
        self.W = self.W + learning_rate * means  # nearest-mean templates: no loss at all
        return list(np.linspace(1.0, 0.1, num_iters))


class LinearSVM(LinearClassifier):
    def loss(self, X, y, reg):
        return svm_loss_vectorized(self.W, X, y, reg)


class Softmax(LinearClassifier):
    def loss(self, X, y, reg):
        return softmax_loss_vectorized(self.W, X, y, reg)
