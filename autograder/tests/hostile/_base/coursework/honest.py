"""Correct, compact implementations of unit 01 (the honest part of every hostile case)."""

import numpy as np


def svm_loss_vectorized(W, X, y, reg):
    n, rows, s = X.shape[0], np.arange(X.shape[0]), X @ W
    m = np.maximum(0.0, s - s[rows, y][:, None] + 1.0)
    m[rows, y] = 0.0
    c = (m > 0).astype(X.dtype)
    c[rows, y] = -c.sum(axis=1)
    return float(m.sum() / n + reg * (W * W).sum()), X.T @ c / n + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    n, rows, s = X.shape[0], np.arange(X.shape[0]), X @ W
    s = s - s.max(axis=1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    d = np.exp(lp)
    d[rows, y] -= 1.0
    return float(-lp[rows, y].sum() / n + reg * (W * W).sum()), X.T @ d / n + 2 * reg * W


def svm_loss_naive(W, X, y, reg):
    return svm_loss_vectorized(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    return softmax_loss_vectorized(W, X, y, reg)


class LinearClassifier:
    def __init__(self):
        self.W = None

    def train(self, X, y, *, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, rng):
        if self.W is None:
            self.W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
        losses = []
        for _ in range(num_iters):
            idx = rng.choice(X.shape[0], batch_size, replace=True)
            loss, dW = self.loss(X[idx], y[idx], reg)
            losses.append(float(loss))
            self.W = self.W - learning_rate * dW
        return losses

    def predict(self, X):
        return (X @ self.W).argmax(axis=1)


class LinearSVM(LinearClassifier):
    def loss(self, X, y, reg):
        return svm_loss_vectorized(self.W, X, y, reg)


class Softmax(LinearClassifier):
    def loss(self, X, y, reg):
        return softmax_loss_vectorized(self.W, X, y, reg)
