"""Unit 03: convolutional networks built from the layers of ``conv.py`` and ``layers.py``.

A network is a model in the sense of unit 02 (``mlp.py``), so the ``Trainer`` trains it:
- ``params``: a dict of named arrays (``W1``, ``b1``, ...), the only things training changes;
- ``loss(X, y=None)``: the class scores (N, C) when y is None; otherwise ``(loss, grads)`` with
  ``grads`` a dict with the keys and shapes of ``params``.

The loss is the softmax loss of the scores (the mean over the batch) plus the L2 penalty
``0.5 * reg * sum(W**2)`` summed over every weight array (convolution filters and affine
matrices), never the biases; its gradient adds ``reg * W`` to each weight's gradient.

Initial weights are drawn layer by layer, in order, as ``scale * rng.standard_normal(shape)``
with ``scale = weight_scale``; with ``weight_scale=None`` each layer uses the He scale
``sqrt(2 / fan_in)`` instead, fan_in being the inputs of one output unit (C * HH * WW for a
convolution, D for an affine layer), which keeps the signal's size steady through ReLU layers.
Biases start at zero. Parameters have the given ``dtype``; ``loss`` casts X to it.

Both networks use the fast layers (``conv_forward``, ``max_pool_forward``, ...).
"""

import math

import numpy as np

from .checks import (check_array, check_float_dtype, check_int, check_positive_int, check_real,
                     check_reg, check_rng)
from .conv import (avg_pool_backward, avg_pool_forward, conv_backward, conv_forward,
                   conv_output_size, max_pool_backward, max_pool_forward)
from .layers import affine_backward, affine_forward, relu_backward, relu_forward
from .losses import softmax_loss


# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------

def _check_common(name, input_dim, num_classes, weight_scale, reg, dtype, rng):
    check_rng(name, rng)
    if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3:
        raise ValueError(f"{name}: input_dim must be (C, H, W), got {input_dim!r}")
    for size in input_dim:
        check_positive_int(name, "every entry of input_dim", size)
    check_positive_int(name, "num_classes", num_classes)
    check_real(name, "weight_scale (None: He's scale)", weight_scale, allow_none=True)
    check_reg(name, reg)
    return tuple(int(s) for s in input_dim), check_float_dtype(name, dtype)


def _check_batch(name, X, y, input_dim):
    check_array(name, "X", X)
    if y is not None:
        check_array(name, "y", y)
    if X.ndim != 4 or tuple(X.shape[1:]) != tuple(input_dim):
        raise ValueError(f"{name}: X{tuple(X.shape)} should be (N, "
                         f"{', '.join(map(str, input_dim))})")
    if y is not None and (y.ndim != 1 or y.shape[0] != X.shape[0]):
        raise ValueError(f"{name}: y{tuple(y.shape)} should hold one label per example of "
                         f"X{tuple(X.shape)}")


def _init_weight(rng, shape, weight_scale, dtype):
    """``scale * rng.standard_normal(shape)``; scale = weight_scale, or He's sqrt(2 / fan_in)."""
    fan_in = math.prod(shape[1:]) if len(shape) == 4 else shape[0]
    scale = math.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
    return (scale * rng.standard_normal(shape)).astype(dtype)


def count_parameters(model):
    """The number of trainable numbers of a model: the total size of its ``params`` arrays.

    Inputs:
        model: an object with a ``params`` dict of arrays, or such a dict itself.
    Returns:
        An int. (A conv layer with F filters of C x HH x WW has F*C*HH*WW + F parameters; an
        affine layer from D to M has D*M + M.)
    """
    params = model.params if hasattr(model, "params") else model
    if not isinstance(params, dict):
        raise TypeError(f"count_parameters: expected a model with a params dict (or the dict), "
                        f"got {type(model).__name__}")
    raise NotImplementedError(
        "count_parameters: not implemented yet; write it in coursework/cnn.py")
    return count


class ThreeLayerConvNet:
    """A three-layer convolutional network:
        conv - ReLU - 2x2 max pool - affine - ReLU - affine - softmax.

    The convolution has F filters of size filter_size x filter_size, stride 1 and "same" padding
    pad = (filter_size - 1) // 2, so it keeps H x W; the 2x2 max pool (stride 2) halves it:
        a1 = conv_forward(X, W1, b1, stride=1, pad=pad)       (N, F, H, W)
        p1 = max_pool_forward(max(0, a1), pool_size=2, stride=2)   (N, F, H/2, W/2)
        h2 = max(0, p1_flat @ W2 + b2)                         (N, hidden_dim)
        scores = h2 @ W3 + b3                                  (N, num_classes)
        L = softmax_loss(scores, y) + 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))

    Inputs:
        input_dim: (C, H, W) of one example; H and W must be even.
        num_filters: F. filter_size: odd, so that "same" padding exists.
        hidden_dim: units of the hidden affine layer. num_classes: C of the scores.
        weight_scale: standard deviation of the initial weights, or None for He's
            sqrt(2 / fan_in) per layer (see the module's docstring).
        reg: L2 regularization strength (>= 0). dtype: floating dtype of the parameters.
        rng: a ``numpy.random.Generator`` for the initial weights (W1, then W2, then W3).
    Attributes:
        params: {"W1": (F, C, filter_size, filter_size), "b1": (F,),
                 "W2": (F * H/2 * W/2, hidden_dim), "b2": (hidden_dim,),
                 "W3": (hidden_dim, num_classes), "b3": (num_classes,)}.
        reg, dtype, input_dim, filter_size: as given.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, *, weight_scale=1e-3, reg=0.0, dtype=np.float64, rng):
        name = "ThreeLayerConvNet"
        input_dim, self.dtype = _check_common(name, input_dim, num_classes, weight_scale, reg,
                                              dtype, rng)
        for what, value in (("num_filters", num_filters), ("filter_size", filter_size),
                            ("hidden_dim", hidden_dim)):
            check_positive_int(name, what, value)
        if filter_size % 2 == 0:
            raise ValueError(f"{name}: filter_size must be odd for 'same' padding, got "
                             f"{filter_size}")
        if input_dim[1] % 2 or input_dim[2] % 2:
            raise ValueError(f"{name}: the 2x2 max pool needs an even height and width, got "
                             f"{input_dim[1]}x{input_dim[2]}")
        self.input_dim = input_dim
        self.filter_size = int(filter_size)
        self.reg = float(reg)
        self.params = {}
        raise NotImplementedError(
            "ThreeLayerConvNet.__init__: not implemented yet; write it in coursework/cnn.py")

    def loss(self, X, y=None):
        """Scores, or the loss and the gradients of every parameter.

        Inputs:
            X: (N, C, H, W) images. y: (N,) integer labels in [0, num_classes), or None.
        Returns:
            If y is None: scores (N, num_classes).
            Else: (loss, grads), loss a float (data loss plus regularization), grads a dict with
            the keys and shapes of ``params``.
        """
        _check_batch("ThreeLayerConvNet.loss", X, y, self.input_dim)
        X = X.astype(self.dtype, copy=False)
        pad = (self.filter_size - 1) // 2
        raise NotImplementedError(
            "ThreeLayerConvNet.loss: not implemented yet; write it in coursework/cnn.py")
        if y is None:
            return scores
        raise NotImplementedError(
            "ThreeLayerConvNet.loss: not implemented yet; write it in coursework/cnn.py")
        return float(loss), grads


class LeNet5:
    """LeNet-5 (LeCun et al., 1998) with ReLU, built from this course's layers:
        conv - ReLU - pool - conv - ReLU - pool - affine - ReLU - affine - ReLU - affine - softmax.

    Both convolutions have filter_size x filter_size filters, stride 1 and zero padding ``pad``;
    both pools are 2x2 with stride 2 (max pooling, or average pooling, LeNet's original
    "subsampling", with pool="avg"). With the defaults, on 32x32 grey images:
        32x32 -conv 5x5-> 6@28x28 -pool-> 6@14x14 -conv 5x5-> 16@10x10 -pool-> 16@5x5
        -> 400 -> 120 -> 84 -> 10 scores, 61,706 parameters.
    The loss is softmax_loss(scores, y) + 0.5 * reg * (sum of the squares of W1 ... W5).

    Inputs:
        input_dim: (C, H, W) of one example. num_classes: number of classes.
        filters: (F1, F2), the filters of the two convolutions.
        filter_size, pad: of both convolutions (every size must fit exactly, and be even before
            each pool).
        hidden_dims: (M1, M2), the units of the two hidden affine layers.
        pool: "max" or "avg".
        weight_scale: standard deviation of the initial weights, or None for He's
            sqrt(2 / fan_in) per layer. reg, dtype, rng: as in ThreeLayerConvNet (weights drawn
            in the order W1, W2, W3, W4, W5).
    Attributes:
        params: {"W1": (F1, C, k, k), "b1": (F1,), "W2": (F2, F1, k, k), "b2": (F2,),
                 "W3": (F2 * H2 * W2, M1), "b3": (M1,), "W4": (M1, M2), "b4": (M2,),
                 "W5": (M2, num_classes), "b5": (num_classes,)}
            with k = filter_size and H2 x W2 the size after the second pool.
        reg, dtype, input_dim, filter_size, pad, pool: as given.
    """

    def __init__(self, input_dim=(1, 32, 32), num_classes=10, *, filters=(6, 16), filter_size=5,
                 pad=0, hidden_dims=(120, 84), pool="max", weight_scale=None, reg=0.0,
                 dtype=np.float64, rng):
        name = "LeNet5"
        input_dim, self.dtype = _check_common(name, input_dim, num_classes, weight_scale, reg,
                                              dtype, rng)
        if any(isinstance(v, str) or not hasattr(v, "__len__") or len(v) != 2
               for v in (filters, hidden_dims)):  # filters=6 has no len()
            raise ValueError(f"{name}: filters and hidden_dims hold two sizes each, got "
                             f"{filters!r} and {hidden_dims!r}")
        for value in (*filters, *hidden_dims, filter_size):
            check_positive_int(name, "every filter count, hidden size and filter_size", value)
        pad = check_int(name, "pad", pad, minimum=0)
        if pool not in ("max", "avg"):
            raise ValueError(f"{name}: pool must be 'max' or 'avg', got {pool!r}")
        size = list(input_dim[1:])
        for stage in (1, 2):  # every layer must fit: check it here, not in the middle of training
            if min(size) + 2 * pad < filter_size:
                raise ValueError(f"{name}: the {filter_size}x{filter_size} filters of conv "
                                 f"{stage} do not fit its {size[0]}x{size[1]} input with pad {pad}")
            size = [n + 2 * pad - filter_size + 1 for n in size]
            if size[0] % 2 or size[1] % 2:
                raise ValueError(f"{name}: conv {stage} gives {size[0]}x{size[1]} feature maps; "
                                 "the 2x2 pool after it needs even sizes")
            size = [n // 2 for n in size]
        self.input_dim = input_dim
        self.filter_size, self.pad, self.pool = int(filter_size), int(pad), pool
        self.reg = float(reg)
        self.params = {}
        raise NotImplementedError(
            "LeNet5.__init__: not implemented yet; write it in coursework/cnn.py")

    def loss(self, X, y=None):
        """Scores, or the loss and the gradients of every parameter (the contract of
        ``ThreeLayerConvNet.loss``)."""
        _check_batch("LeNet5.loss", X, y, self.input_dim)
        X = X.astype(self.dtype, copy=False)
        pool_forward, pool_backward = ((max_pool_forward, max_pool_backward) if self.pool == "max"
                                       else (avg_pool_forward, avg_pool_backward))
        raise NotImplementedError("LeNet5.loss: not implemented yet; write it in coursework/cnn.py")
        if y is None:
            return scores
        raise NotImplementedError("LeNet5.loss: not implemented yet; write it in coursework/cnn.py")
        return float(loss), grads
