"""Unit 01: linear classifiers (multiclass SVM and softmax) trained with minibatch SGD.

Conventions used by every function here:

- ``X`` has shape (N, D): N examples of D features. The bias is folded into the weights with the
  "bias trick": the last column of ``X`` is all ones, so the last row of ``W`` is the bias, and the
  score function f(x) = W^T x + b becomes a single matrix product ``X @ W``.
- ``W`` has shape (D, C): one column of weights (a "template") per class, C classes.
- ``y`` has shape (N,): integer labels in [0, C).
- The loss is the mean data loss over the N examples plus the L2 penalty ``reg * sum(W**2)``; its
  gradient therefore contains the term ``2 * reg * W``.
- Inputs are never modified in place.
"""

import numpy as np

from .backend import xp_of
from .checks import (check_array, check_labels, check_not_empty, check_positive_int, check_real,
                     check_reg, check_rng)


def _check_loss_inputs(name, W, X, y, reg):
    """Validate the arguments of a loss function; raise with the offending values."""
    for what, value in (("W", W), ("X", X), ("y", y)):
        check_array(name, what, value)
    if W.ndim != 2 or X.ndim != 2 or y.ndim != 1:
        raise ValueError(
            f"{name}: expected W (D, C), X (N, D) and y (N,), got W{tuple(W.shape)}, "
            f"X{tuple(X.shape)}, y{tuple(y.shape)}"
        )
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"{name}: X has {X.shape[1]} features per row but W has {W.shape[0]} rows; "
            "did you forget the bias column of ones?"
        )
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    check_labels(name, y, W.shape[1])
    check_not_empty(name, "y", y)
    check_reg(name, reg)


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM (hinge) loss and its gradient, computed with explicit loops.

    For example i with scores s = X[i] @ W, the loss is
        L_i = sum over j != y[i] of max(0, s[j] - s[y[i]] + 1)      (margin 1)
    and the total loss is  L = (1/N) * sum_i L_i + reg * sum(W**2). (Where s[j] - s[y[i]] + 1 is
    exactly 0 the hinge has no slope; either choice is accepted.)

    Inputs:
        W: (D, C) weights, bias in the last row.
        X: (N, D) data, last column all ones.
        y: (N,) integer labels in [0, C).
        reg: L2 regularization strength (>= 0).
    Returns:
        loss: float.
        dW: (D, C) gradient of the loss with respect to W, same dtype as W.

    Write the loops over examples and classes yourself (this is the version that makes the
    gradient obvious); ``svm_loss_vectorized`` is the fast one.
    """
    _check_loss_inputs("svm_loss_naive", W, X, y, reg)
    raise NotImplementedError(
        "svm_loss_naive: not implemented yet; write it in coursework/linear.py")
    return float(loss), dW


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM loss and gradient without a Python loop over examples or classes.

    Same inputs and formula as ``svm_loss_naive`` (dW of W's dtype or float64):
        L = (1/N) * sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1) + reg * sum(W**2).
    Returns (loss: float, dW: (D, C)).
    """
    _check_loss_inputs("svm_loss_vectorized", W, X, y, reg)
    raise NotImplementedError(
        "svm_loss_vectorized: not implemented yet; write it in coursework/linear.py")
    return float(loss), dW


def softmax_loss_naive(W, X, y, reg):
    """Softmax (cross-entropy) loss and its gradient, computed with explicit loops.

    With scores s = X[i] @ W, the probability of class j is p_j = exp(s_j) / sum_k exp(s_k), and
        L = (1/N) * sum_i -log p_{y_i} + reg * sum(W**2).
    Subtract the largest score of each row before exponentiating: the probabilities do not change,
    and exp never overflows, even for scores in the thousands.

    Inputs as in ``svm_loss_naive``; returns (loss: float, dW: (D, C), W's dtype or float64).
    """
    _check_loss_inputs("softmax_loss_naive", W, X, y, reg)
    raise NotImplementedError(
        "softmax_loss_naive: not implemented yet; write it in coursework/linear.py")
    return float(loss), dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and gradient without a Python loop over examples or classes.

    Same inputs and formula as ``softmax_loss_naive``, numerically stable for scores in the
    thousands. Returns (loss: float, dW: (D, C), of W's dtype or float64).
    """
    _check_loss_inputs("softmax_loss_vectorized", W, X, y, reg)
    raise NotImplementedError(
        "softmax_loss_vectorized: not implemented yet; write it in coursework/linear.py")
    return float(loss), dW


class LinearClassifier:
    """A linear classifier trained by minibatch stochastic gradient descent.

    Subclasses choose the loss (``LinearSVM``, ``Softmax``). After ``train``, ``self.W`` holds the
    (D, C) weights; ``predict`` returns the class with the highest score.
    """

    def __init__(self):
        self.W = None

    def loss(self, X_batch, y_batch, reg):
        """Return (loss, dW) on a minibatch; implemented by the subclasses."""
        raise NotImplementedError("LinearClassifier.loss: use LinearSVM or Softmax")

    def train(self, X, y, *, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, rng):
        """Train the weights with minibatch SGD and return the loss of every iteration.

        Inputs:
            X: (N, D) training data, bias column last. y: (N,) labels in [0, C), C = y.max() + 1.
            learning_rate: step size of the update W <- W - learning_rate * dW.
            reg: L2 regularization strength, passed to the loss.
            num_iters: number of SGD steps.
            batch_size: examples per step, sampled with replacement by
                ``rng.choice(N, batch_size)`` (NumPy indices: ``xp.asarray`` them to index X
                when X is a CuPy array on a GPU).
            rng: a ``numpy.random.Generator``; all randomness comes from it.
        Returns:
            A list of ``num_iters`` floats: the minibatch loss before each update.

        If ``self.W`` is None it is initialised to ``0.001 * rng.standard_normal((D, C))``;
        otherwise training continues from the current weights. X and y are not modified.
        """
        check_rng("train", rng)
        check_array("train", "X", X)
        check_array("train", "y", y)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(
                f"train: expected X (N, D) and y (N,), got X{tuple(X.shape)}, y{tuple(y.shape)}"
            )
        if X.shape[0] == 0:  # y.max() below has no value to take
            raise ValueError(f"train: X{tuple(X.shape)} has no examples to train on")
        num_iters = check_positive_int("train", "num_iters", num_iters)
        batch_size = check_positive_int("train", "batch_size", batch_size)
        check_real("train", "learning_rate", learning_rate, minimum=0)
        xp = xp_of(X)
        num_train, dim = X.shape
        num_classes = int(y.max()) + 1
        if self.W is None:
            self.W = xp.asarray(0.001 * rng.standard_normal((dim, num_classes))).astype(X.dtype)
        if self.W.shape[0] != dim or self.W.shape[1] < num_classes:
            raise ValueError(
                f"train: existing weights have shape {tuple(self.W.shape)} but the data needs "
                f"({dim}, {num_classes}); set W = None to start over"
            )
        losses = []
        raise NotImplementedError(
            "LinearClassifier.train: not implemented yet; write it in coursework/linear.py")
        return losses

    def predict(self, X):
        """Return the (N,) predicted labels: the index of the highest score X @ W of each row."""
        if self.W is None:
            raise RuntimeError("predict: the classifier has no weights yet; call train first")
        check_array("predict", "X", X)
        if X.ndim != 2 or X.shape[1] != self.W.shape[0]:
            raise ValueError(f"predict: X{tuple(X.shape)} should be (N, {self.W.shape[0]}), one "
                             f"row per example as the weights W{tuple(self.W.shape)} expect; "
                             "did you forget the bias column of ones?")
        raise NotImplementedError(
            "LinearClassifier.predict: not implemented yet; write it in coursework/linear.py")
        return labels


class LinearSVM(LinearClassifier):
    """A linear classifier with the multiclass SVM loss."""

    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """A linear classifier with the softmax (cross-entropy) loss."""

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
