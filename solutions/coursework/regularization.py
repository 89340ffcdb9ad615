"""Unit 04: regularization: dropout, weight penalties, early stopping, and a network using them.

A network that fits its training set perfectly may still do badly on new data: it has learned
the noise of the particular examples (overfitting). Regularization trades a little training
accuracy for better generalization:

- **dropout** (Srivastava et al., 2014): at training time each hidden unit is switched off at
  random, so that no unit can rely on a particular other one; at test time the whole network is
  used;
- **weight penalties**: L2 ("weight decay", ``0.5 * reg * sum(w**2)``) pulls every weight towards
  zero in proportion to its size; L1 (``reg * sum(|w|)``) pulls with a constant force, so the
  weights that matter little end up small: with plain (sub)gradient steps they oscillate around
  zero rather than reaching exactly 0 (proximal methods, which set a weight to 0 when a step would
  cross it, give exact zeros). An almost sparse model: a kind of feature selection;
- **early stopping**: watch the validation accuracy and stop (keeping the best parameters) when it
  has stopped improving.

Randomness comes only from the ``rng`` argument (a ``numpy.random.Generator``), so the same seed
gives the same result; inputs are never modified in place.
"""

import numbers

import numpy as np

from .backend import xp_of
from .checks import check_array, check_float_dtype, check_positive_int, check_scalar
from .layers import affine_backward, affine_forward, relu_backward, relu_forward
from .losses import softmax_loss
from .normalization import (batchnorm_backward, batchnorm_forward, layernorm_backward,
                            layernorm_forward)

# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------


def _check_rng(name, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy.random.Generator "
                        f"(np.random.default_rng(seed)), got {type(rng).__name__}")


def _check_probability(name, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"{name}: p, the probability of dropping a unit, must be in [0, 1), "
                         f"got {p!r}")


def _check_weights_reg(name, weights, reg):
    if not isinstance(weights, (list, tuple)) or not all(hasattr(w, "shape") for w in weights):
        raise TypeError(f"{name}: weights must be a list of arrays, got "
                        f"{type(weights).__name__}")
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or reg < 0:
        raise ValueError(f"{name}: reg must be a number >= 0, got {reg!r}")


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------

def dropout_forward(x, *, p, train=True, rng):
    """Forward pass of (inverted) dropout.

    ``p`` is the probability of *dropping* a unit (PyTorch's convention). In training mode each
    entry of x is kept with probability 1 - p, independently of all others, and the kept entries
    are scaled by 1 / (1 - p):
        out = x * mask / (1 - p),   mask[i] = 1 with probability 1 - p, else 0
    so that the expected value of every output equals its input, and nothing needs to change at
    test time: in test mode (train=False) the layer is the identity, out = x.

    Inputs:
        x: array of any shape.
        p: probability of dropping each unit, in [0, 1).
        train: True for training mode, False for test mode.
        rng: a ``numpy.random.Generator``; the mask's random numbers come from it and nowhere
            else (the same generator state gives the same mask). Test mode draws nothing.
    Returns:
        out: array of the shape of x.
        cache: whatever ``dropout_backward`` needs (the mask, in training mode).
    """
    check_array("dropout_forward", "x", x)
    _check_probability("dropout_forward", p)
    _check_rng("dropout_forward", rng)
    if not isinstance(train, bool):
        raise TypeError(f"dropout_forward: train must be True or False, got {train!r}")
    # BEGIN SOLUTION
    xp = xp_of(x)
    if train:
        keep = xp.asarray(rng.random(x.shape) >= p)  # True with probability 1 - p
        scaled_mask = keep.astype(x.dtype) / (1 - p)  # in x's dtype (float32 stays float32)
        out = x * scaled_mask
    else:
        scaled_mask = None
        out = x.copy()
    cache = scaled_mask
    # END SOLUTION
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of dropout: the gradient flows only through the kept units, scaled like them.

    Training mode: dx = dout * mask / (1 - p), with the mask of the forward pass that made the
    cache. Test mode: dx = dout.

    Inputs:
        dout: upstream gradient, the shape of x.
        cache: what ``dropout_forward`` returned.
    Returns:
        dx: the shape of x.
    """
    # BEGIN SOLUTION
    scaled_mask = cache
    dx = dout.copy() if scaled_mask is None else dout * scaled_mask
    # END SOLUTION
    return dx


# ---------------------------------------------------------------------------------------------
# Weight penalties
# ---------------------------------------------------------------------------------------------

def l2_penalty(weights, reg):
    """L2 penalty ("weight decay") of a list of weight arrays, and its gradients.

        penalty = 0.5 * reg * sum over the arrays w of sum(w**2)
        grads[k] = reg * weights[k]
    (the 0.5 cancels the 2 of the square's derivative).

    Inputs:
        weights: a list of arrays of any shapes (the weight matrices, never the biases).
        reg: the strength (>= 0).
    Returns:
        penalty: float.
        grads: a list of arrays, one per weight array, in its shape.
    """
    _check_weights_reg("l2_penalty", weights, reg)
    # BEGIN SOLUTION
    penalty = 0.5 * reg * sum(float((w * w).sum()) for w in weights)
    grads = [reg * w for w in weights]
    # END SOLUTION
    return penalty, grads


def l1_penalty(weights, reg):
    """L1 penalty of a list of weight arrays, and its (sub)gradients.

        penalty = reg * sum over the arrays w of sum(|w|)
        grads[k] = reg * sign(weights[k])      (0 where a weight is exactly 0)

    Inputs:
        weights: a list of arrays of any shapes.
        reg: the strength (>= 0).
    Returns:
        penalty: float.
        grads: a list of arrays, one per weight array, in its shape.
    """
    _check_weights_reg("l1_penalty", weights, reg)
    # BEGIN SOLUTION
    penalty = reg * sum(float(xp_of(w).abs(w).sum()) for w in weights)
    grads = [reg * xp_of(w).sign(w) for w in weights]
    # END SOLUTION
    return penalty, grads


# ---------------------------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------------------------

class EarlyStopping:
    """Says when to stop training: after ``patience`` steps in a row without improvement.

    Call ``step(value)`` once per epoch with the monitored value (the validation accuracy with
    mode="max", a validation loss with mode="min"). A value *improves* on the best so far when it
    is better by more than ``min_delta`` (value > best + min_delta for "max", value < best -
    min_delta for "min"); the first value always counts as an improvement. ``step`` returns True
    from the step at which ``patience`` consecutive steps have not improved, and True ever after.

    Inputs:
        patience: the number of steps without improvement to wait (a positive integer).
        min_delta: the smallest change that counts as an improvement (>= 0).
        mode: "max" (larger is better) or "min" (smaller is better).
    Attributes:
        best: the best value so far (None before the first step); it changes only on an
            improvement.
        best_step: the 0-based index of the step that gave ``best`` (None before the first step).
        should_stop: what ``step`` last returned (False before the first step).
    The ``Trainer`` accepts an EarlyStopping (mode="max") as ``early_stopping`` and feeds it the
    validation accuracy after every epoch.
    """

    def __init__(self, *, patience, min_delta=0.0, mode="max"):
        check_positive_int("EarlyStopping", "patience", patience)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or \
                not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0, got "
                             f"{min_delta!r}")
        if mode not in ("max", "min"):
            raise ValueError(f"EarlyStopping: mode must be 'max' or 'min', got {mode!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best = None
        self.best_step = None
        self.should_stop = False
        # Your own counters go here (steps taken, consecutive steps without improvement).
        # BEGIN SOLUTION
        self.steps = 0  # steps taken so far
        self.waited = 0  # consecutive steps without improvement
        # END SOLUTION

    def step(self, value):
        """Record one value; return True when training should stop (see the class docstring)."""
        value = check_scalar("EarlyStopping.step", "value", value)
        # BEGIN SOLUTION
        if self.best is None:
            improved = True
        elif self.mode == "max":
            improved = value > self.best + self.min_delta
        else:
            improved = value < self.best - self.min_delta
        if improved:
            self.best, self.best_step, self.waited = value, self.steps, 0
        else:
            self.waited += 1
        self.steps += 1
        self.should_stop = self.should_stop or self.waited >= self.patience
        # END SOLUTION
        return self.should_stop


# ---------------------------------------------------------------------------------------------
# A fully connected network with normalization, dropout and weight decay
# ---------------------------------------------------------------------------------------------

NORMALIZATIONS = (None, "batchnorm", "layernorm")
BN_MOMENTUM = 0.9
NORM_EPS = 1e-5


class RegularizedNet:
    """A fully connected network with optional normalization, dropout and L2 regularization.

    With hidden_dims = [H_1, ..., H_{L-1}], every hidden layer l = 1 .. L-1 is
        affine - [batchnorm or layernorm] - ReLU - [dropout]
    and the last layer is affine - softmax:
        h_0 = X_flat
        a_l = h_{l-1} @ W_l + b_l;  a_l = norm_l(a_l) with gamma_l, beta_l;  h_l = max(0, a_l);
        h_l = dropout(h_l, p=dropout)
        scores = h_{L-1} @ W_L + b_L
        L = softmax_loss(scores, y) + 0.5 * reg * sum over l of sum(W_l**2)   (weights only)

    Batch norm uses momentum 0.9 and eps 1e-5 (``BN_MOMENTUM``, ``NORM_EPS``); layer norm eps 1e-5.
    ``loss(X, y)`` is training mode: batch norm normalizes with the batch statistics and updates
    the running statistics, dropout is on (its masks drawn from the model's ``rng``). ``loss(X)``
    is test mode: batch norm uses the running statistics (and does not change them), dropout is
    off.

    Inputs:
        hidden_dims: list of the hidden layer sizes (may be empty).
        input_dim: D, the numbers per example. num_classes: C.
        normalization: None, "batchnorm" or "layernorm".
        dropout: the probability p of dropping a hidden unit, in [0, 1); 0 means no dropout.
        reg: L2 regularization strength (>= 0).
        weight_scale: standard deviation of the initial weights; None for He's sqrt(2 / fan_in)
            per layer, fan_in being the layer's number of inputs.
        dtype: floating dtype of the parameters and running statistics; ``loss`` casts X to it.
        rng: a ``numpy.random.Generator``: the initial weights, then every dropout mask.
    Attributes:
        params: "W1", "b1", ..., "WL", "bL" (W_l of shape (H_{l-1}, H_l), drawn in order W1, W2,
            ... as ``scale * rng.standard_normal(shape)``; biases zero) and, for every hidden layer
            l when normalization is not None, "gamma{l}" (ones) and "beta{l}" (zeros), (H_l,).
        running_stats: with batch norm, "running_mean{l}" (zeros) and "running_var{l}" (ones),
            (H_l,), for every hidden layer l; an empty dict otherwise. Not in ``params``:
            training does not change them by gradient steps, batch norm does in ``loss(X, y)``.
        rng: the generator the dropout masks come from.
        num_layers: L. normalization, dropout, reg, dtype: as given.
    """

    def __init__(self, hidden_dims, input_dim, num_classes, *, normalization=None, dropout=0.0,
                 reg=0.0, weight_scale=1e-2, dtype=np.float64, rng):
        if isinstance(hidden_dims, (str, bytes)) or not hasattr(hidden_dims, "__iter__"):
            raise TypeError(f"RegularizedNet: hidden_dims must be a list of layer sizes, got "
                            f"{hidden_dims!r}")
        hidden_dims = list(hidden_dims)
        for size in hidden_dims:
            check_positive_int("RegularizedNet", "every hidden size", size)
        check_positive_int("RegularizedNet", "input_dim", input_dim)
        check_positive_int("RegularizedNet", "num_classes", num_classes)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"RegularizedNet: normalization must be None, 'batchnorm' or "
                             f"'layernorm', got {normalization!r}")
        _check_probability("RegularizedNet", dropout)
        if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or reg < 0:
            raise ValueError(f"RegularizedNet: reg must be a number >= 0, got {reg!r}")
        if weight_scale is not None and (isinstance(weight_scale, bool) or
                                         not isinstance(weight_scale, numbers.Real)):
            raise TypeError(f"RegularizedNet: weight_scale must be a number or None (He), got "
                            f"{weight_scale!r}")
        _check_rng("RegularizedNet", rng)
        # check_float_dtype also names an unknown dtype ("foo"), which np.dtype does not
        self.dtype = check_float_dtype("RegularizedNet", dtype)
        self.normalization = normalization
        self.dropout = float(dropout)
        self.reg = float(reg)
        self.input_dim = int(input_dim)
        self.num_layers = len(hidden_dims) + 1
        self.rng = rng
        self.params = {}
        self.running_stats = {}
        # BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for layer in range(1, self.num_layers + 1):
            fan_in = dims[layer - 1]
            scale = np.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
            self.params[f"W{layer}"] = (scale * rng.standard_normal((fan_in, dims[layer]))
                                        ).astype(self.dtype)
            self.params[f"b{layer}"] = np.zeros(dims[layer], dtype=self.dtype)
        if normalization is not None:
            for layer in range(1, self.num_layers):
                self.params[f"gamma{layer}"] = np.ones(dims[layer], dtype=self.dtype)
                self.params[f"beta{layer}"] = np.zeros(dims[layer], dtype=self.dtype)
                if normalization == "batchnorm":
                    self.running_stats[f"running_mean{layer}"] = np.zeros(dims[layer],
                                                                          dtype=self.dtype)
                    self.running_stats[f"running_var{layer}"] = np.ones(dims[layer],
                                                                        dtype=self.dtype)
        # END SOLUTION

    def loss(self, X, y=None):
        """Scores (test mode), or the loss and the gradients of every parameter (training mode).

        Inputs:
            X: (N, d_1, ..., d_k) input data, D = d_1 * ... * d_k numbers per example.
            y: (N,) integer labels in [0, C), or None.
        Returns:
            If y is None: scores (N, C), computed in test mode.
            Else: (loss, grads) in training mode, loss a float (data loss plus L2 penalty),
            grads a dict with the keys and shapes of ``params``; ``running_stats`` is updated.
        """
        check_array("RegularizedNet.loss", "X", X)
        if y is not None:
            check_array("RegularizedNet.loss", "y", y)
        dim = 1
        for size in X.shape[1:]:
            dim *= size
        if X.ndim < 2 or dim != self.input_dim:
            raise ValueError(f"RegularizedNet.loss: X{tuple(X.shape)} should be (N, ...) with "
                             f"{self.input_dim} numbers per example")
        if y is not None and (y.ndim != 1 or y.shape[0] != X.shape[0]):
            raise ValueError(f"RegularizedNet.loss: y{tuple(y.shape)} should hold one label per "
                             f"row of X{tuple(X.shape)}")
        X = X.astype(self.dtype, copy=False)
        # BEGIN SOLUTION
        train = y is not None
        num_layers = self.num_layers
        caches = []
        h = X
        for layer in range(1, num_layers):
            a, cache_affine = affine_forward(h, self.params[f"W{layer}"], self.params[f"b{layer}"])
            cache_norm = cache_drop = None
            if self.normalization == "batchnorm":
                state = {"running_mean": self.running_stats[f"running_mean{layer}"],
                         "running_var": self.running_stats[f"running_var{layer}"]}
                a, cache_norm, state = batchnorm_forward(
                    a, self.params[f"gamma{layer}"], self.params[f"beta{layer}"], state,
                    train=train, momentum=BN_MOMENTUM, eps=NORM_EPS)
                if train:
                    self.running_stats[f"running_mean{layer}"] = state["running_mean"]
                    self.running_stats[f"running_var{layer}"] = state["running_var"]
            elif self.normalization == "layernorm":
                a, cache_norm = layernorm_forward(a, self.params[f"gamma{layer}"],
                                                  self.params[f"beta{layer}"], eps=NORM_EPS)
            h, cache_relu = relu_forward(a)
            if train and self.dropout > 0:
                h, cache_drop = dropout_forward(h, p=self.dropout, train=True, rng=self.rng)
            caches.append((cache_affine, cache_norm, cache_relu, cache_drop))
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
            cache_affine, cache_norm, cache_relu, cache_drop = caches[layer - 1]
            if cache_drop is not None:
                dh = dropout_backward(dh, cache_drop)
            da = relu_backward(dh, cache_relu)
            if self.normalization == "batchnorm":
                da, grads[f"gamma{layer}"], grads[f"beta{layer}"] = batchnorm_backward(
                    da, cache_norm)
            elif self.normalization == "layernorm":
                da, grads[f"gamma{layer}"], grads[f"beta{layer}"] = layernorm_backward(
                    da, cache_norm)
            dh, grads[f"W{layer}"], grads[f"b{layer}"] = affine_backward(da, cache_affine)
        for layer in range(1, num_layers + 1):
            W = self.params[f"W{layer}"]
            loss += 0.5 * self.reg * float((W * W).sum())  # weights only
            grads[f"W{layer}"] = grads[f"W{layer}"] + self.reg * W
        # END SOLUTION
        return loss, grads
