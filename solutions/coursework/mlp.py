"""Unit 02: fully connected networks built from the layers of ``layers.py``.

A network is a model with
- ``params``: a dict of named arrays (``W1``, ``b1``, ``W2``, ...), all that training changes;
- ``loss(X, y=None)``: the class scores (N, C) when y is None (test time); otherwise the pair
  ``(loss, grads)`` with ``grads`` a dict with the keys of ``params`` and each gradient in the shape
  of its parameter (training time).

The loss is the softmax loss of the scores (the mean over the batch) plus the L2 penalty
``0.5 * reg * sum(W**2)`` summed over the weight matrices only, never the biases; its gradient adds
``reg * W`` to each weight's gradient (the 0.5 makes the factor 2 of the square cancel).

Both networks ask ``rng`` (a ``numpy.random.Generator``) for their initial weights, drawn as
``weight_scale * rng.standard_normal(shape)``, layer by layer in order; biases start at zero.
"""

import numpy as np

from .checks import (check_array, check_float_dtype, check_positive_int, check_real, check_reg,
                     check_rng)
from .layers import ACTIVATIONS, affine_backward, affine_forward, relu_backward, relu_forward
from .losses import softmax_loss


def _check_batch(name, X, y, input_dim):
    check_array(name, "X", X)
    if y is not None:
        check_array(name, "y", y)
    dim = 1
    for size in X.shape[1:]:
        dim *= size
    if X.ndim < 2 or dim != input_dim:
        raise ValueError(f"{name}: X{tuple(X.shape)} should be (N, ...) with {input_dim} numbers "
                         "per example")
    if y is not None and (y.ndim != 1 or y.shape[0] != X.shape[0]):
        raise ValueError(f"{name}: y{tuple(y.shape)} should hold one label per row of "
                         f"X{tuple(X.shape)}")


class TwoLayerNet:
    """A two-layer network: affine - ReLU - affine - softmax.

    With input dimension D, hidden dimension H and C classes:
        h = max(0, X_flat @ W1 + b1)          (N, H)
        scores = h @ W2 + b2                  (N, C)
        L = softmax_loss(scores, y) + 0.5 * reg * (sum(W1**2) + sum(W2**2))

    Inputs:
        input_dim: D. hidden_dim: H. num_classes: C.
        weight_scale: standard deviation of the initial weights.
        reg: L2 regularization strength (>= 0).
        rng: a ``numpy.random.Generator`` for the initial weights.
    Attributes:
        params: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}; W1 then W2 drawn as
            ``weight_scale * rng.standard_normal(shape)``, biases zero.
        reg: the regularization strength.
    """

    def __init__(self, input_dim, hidden_dim, num_classes, *, weight_scale=1e-3, reg=0.0, rng):
        for what, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim),
                            ("num_classes", num_classes)):
            check_positive_int("TwoLayerNet", what, value)
        check_real("TwoLayerNet", "weight_scale", weight_scale)
        check_reg("TwoLayerNet", reg)
        check_rng("TwoLayerNet", rng)
        self.reg = float(reg)
        self.input_dim = int(input_dim)
        self.params = {}
        # BEGIN SOLUTION
        self.params["W1"] = weight_scale * rng.standard_normal((input_dim, hidden_dim))
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * rng.standard_normal((hidden_dim, num_classes))
        self.params["b2"] = np.zeros(num_classes)
        # END SOLUTION

    def loss(self, X, y=None):
        """Scores, or the loss and the gradients of every parameter.

        Inputs:
            X: (N, d_1, ..., d_k) input data, D = d_1 * ... * d_k numbers per example.
            y: (N,) integer labels in [0, C), or None.
        Returns:
            If y is None: scores (N, C).
            Else: (loss, grads), loss a float (data loss plus regularization), grads a dict with
            the keys and shapes of ``params``.
        """
        _check_batch("TwoLayerNet.loss", X, y, self.input_dim)
        # BEGIN SOLUTION
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        a1, cache_a1 = affine_forward(X, W1, b1)
        h1, cache_h1 = relu_forward(a1)
        scores, cache_s = affine_forward(h1, W2, b2)
        # END SOLUTION
        if y is None:
            return scores
        # BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum())
        grads = {}
        dh1, grads["W2"], grads["b2"] = affine_backward(dscores, cache_s)
        da1 = relu_backward(dh1, cache_h1)
        _, grads["W1"], grads["b1"] = affine_backward(da1, cache_a1)
        grads["W1"] = grads["W1"] + self.reg * W1  # d/dW of 0.5 * reg * sum(W**2)
        grads["W2"] = grads["W2"] + self.reg * W2
        # END SOLUTION
        return loss, grads


class FullyConnectedNet:
    """A fully connected network of any depth: {affine - activation} x (L - 1) - affine - softmax.

    With hidden_dims = [H_1, ..., H_{L-1}] (L - 1 hidden layers, possibly none):
        h_0 = X_flat
        h_l = act(h_{l-1} @ W_l + b_l)        for l = 1 .. L-1
        scores = h_{L-1} @ W_L + b_L          (N, C)
        L = softmax_loss(scores, y) + 0.5 * reg * sum over l of sum(W_l**2)

    Inputs:
        hidden_dims: list of the hidden layer sizes (empty: a linear softmax classifier).
        input_dim: D, the numbers per example. num_classes: C.
        activation: "relu", "sigmoid", "tanh", "leaky_relu" (alpha 0.01) or "elu" (alpha 1.0),
            the functions of ``layers.py`` with their default hyperparameters.
        reg: L2 regularization strength (>= 0).
        weight_scale: standard deviation of the initial weights.
        dtype: the floating dtype of the parameters (np.float64 for gradient checks, np.float32
            is faster); ``loss`` casts X to it.
        rng: a ``numpy.random.Generator`` for the initial weights.
    Attributes:
        params: {"W1": (D, H_1), "b1": (H_1,), ..., "WL": (H_{L-1}, C), "bL": (C,)}, of ``dtype``;
            W1, W2, ... drawn in order as ``weight_scale * rng.standard_normal(shape)``, biases 0.
        num_layers: L. activation, reg, dtype: as given.
    """

    def __init__(self, hidden_dims, input_dim, num_classes, *, activation="relu", reg=0.0,
                 weight_scale=1e-2, dtype=np.float64, rng):
        if isinstance(hidden_dims, (str, bytes)) or not hasattr(hidden_dims, "__iter__"):
            raise TypeError(f"FullyConnectedNet: hidden_dims must be a list of layer sizes, got "
                            f"{hidden_dims!r}")
        hidden_dims = list(hidden_dims)
        for size in hidden_dims:
            check_positive_int("FullyConnectedNet", "every hidden size", size)
        check_positive_int("FullyConnectedNet", "input_dim", input_dim)
        check_positive_int("FullyConnectedNet", "num_classes", num_classes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"FullyConnectedNet: unknown activation {activation!r}; choose one "
                             f"of {', '.join(ACTIVATIONS)}")
        check_real("FullyConnectedNet", "weight_scale", weight_scale)
        check_reg("FullyConnectedNet", reg)
        check_rng("FullyConnectedNet", rng)
        self.dtype = check_float_dtype("FullyConnectedNet", dtype)
        self.activation = activation
        self.reg = float(reg)
        self.input_dim = int(input_dim)
        self.num_layers = len(hidden_dims) + 1
        self.params = {}
        # BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for layer in range(1, self.num_layers + 1):
            shape = (dims[layer - 1], dims[layer])
            self.params[f"W{layer}"] = (weight_scale * rng.standard_normal(shape)).astype(
                self.dtype)
            self.params[f"b{layer}"] = np.zeros(dims[layer], dtype=self.dtype)
        # END SOLUTION

    def loss(self, X, y=None):
        """Scores, or the loss and the gradients of every parameter.

        Inputs:
            X: (N, d_1, ..., d_k) input data, D = d_1 * ... * d_k numbers per example.
            y: (N,) integer labels in [0, C), or None.
        Returns:
            If y is None: scores (N, C).
            Else: (loss, grads), loss a float (data loss plus regularization), grads a dict with
            the keys and shapes of ``params``.
        """
        _check_batch("FullyConnectedNet.loss", X, y, self.input_dim)
        X = X.astype(self.dtype, copy=False)
        act_forward, act_backward = ACTIVATIONS[self.activation]
        # BEGIN SOLUTION
        num_layers = self.num_layers
        caches = []
        h = X
        for layer in range(1, num_layers):
            a, cache_affine = affine_forward(h, self.params[f"W{layer}"], self.params[f"b{layer}"])
            h, cache_act = act_forward(a)
            caches.append((cache_affine, cache_act))
        scores, cache_last = affine_forward(h, self.params[f"W{num_layers}"],
                                            self.params[f"b{num_layers}"])
        # END SOLUTION
        if y is None:
            return scores
        # BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{num_layers}"], grads[f"b{num_layers}"] = affine_backward(dscores,
                                                                              cache_last)
        for layer in range(num_layers - 1, 0, -1):
            cache_affine, cache_act = caches[layer - 1]
            da = act_backward(dh, cache_act)
            dh, grads[f"W{layer}"], grads[f"b{layer}"] = affine_backward(da, cache_affine)
        for layer in range(1, num_layers + 1):
            W = self.params[f"W{layer}"]
            loss += 0.5 * self.reg * float((W * W).sum())  # weights only, never the biases
            grads[f"W{layer}"] = grads[f"W{layer}"] + self.reg * W
        # END SOLUTION
        return loss, grads
