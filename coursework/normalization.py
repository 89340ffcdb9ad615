"""Unit 04: normalization layers: batch, layer, group and instance normalization.

Every normalization computes, for each coefficient x_i of its input,

    x_hat_i = (x_i - mu_i) / sqrt(var_i + eps)          y_i = gamma * x_hat_i + beta

where mu_i and var_i are the mean and the *biased* variance (divided by the count, not count - 1)
over a set S_i of coefficients, and gamma, beta are learned per feature (or per channel). ``eps``
sits inside the square root: it keeps the division finite when a set has no spread at all. The
layers differ only in how S_i is chosen, for x of shape (N, C, H, W) (N examples, C channels):

- batch norm: the same channel in every example of the batch, over (N, H, W) (over N for (N, D));
- layer norm: everything of the same example, over (C, H, W) (over D for (N, D));
- instance norm: the same example and channel, over (H, W);
- group norm: the same example and group of C / G consecutive channels.

Only batch norm mixes the examples of a batch, so only batch norm behaves differently at training
and at test time: it keeps running averages of the batch statistics in a ``state`` that is passed
in and returned (never hidden in a global, never modified in place)::

    out, cache, new_state = batchnorm_forward(x, gamma, beta, state, train=True)

Every layer follows the contract of unit 02: ``x_forward(...) -> (out, cache)`` (batch norm adds
``new_state``), ``x_backward(dout, cache) -> (dx, dgamma, dbeta)``, gradients in the shapes of
x, gamma and beta. The caches are yours: only your own backward reads them. The code takes its
array module from its inputs (``xp = xp_of(x)``), and works in float64 and float32 alike: the
output has the dtype of x when gamma and beta have it too.
"""

import math
import numbers

import numpy as np

from .backend import xp_of
from .checks import check_int

# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------


def _check_input(name, x, ndim, layout):
    if getattr(x, "ndim", None) != ndim:
        raise ValueError(f"{name}: x must be a {ndim}-D array {layout}, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: x must hold floating point numbers, got dtype {x.dtype}")


def _check_vector(name, what, v, size):
    if getattr(v, "shape", None) != (size,):
        raise ValueError(f"{name}: {what} must have shape ({size},), got "
                         f"{getattr(v, 'shape', type(v).__name__)}")


def _check_eps(name, eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
        raise ValueError(f"{name}: eps must be a positive number, got {eps!r}")


def _check_bn(name, x, gamma, beta, state, train, momentum, eps, ndim, layout):
    _check_input(name, x, ndim, layout)
    size = x.shape[1]
    _check_vector(name, "gamma", gamma, size)
    _check_vector(name, "beta", beta, size)
    if not isinstance(state, dict):
        raise TypeError(f"{name}: state must be a dict {{'running_mean': ..., 'running_var': "
                        f"...}}, got {type(state).__name__}")
    for key in ("running_mean", "running_var"):
        if key not in state:
            raise ValueError(f"{name}: state lacks {key!r} (it has {sorted(state)})")
        _check_vector(name, f"state[{key!r}]", state[key], size)
    if not isinstance(train, bool):
        raise TypeError(f"{name}: train must be True or False, got {train!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or \
            not 0 <= momentum <= 1:
        raise ValueError(f"{name}: momentum must be a number in [0, 1], got {momentum!r}")
    _check_eps(name, eps)
    # Values per feature: N, or N * H * W, counted from the shape (x[0, 0] of an empty batch
    # would raise an IndexError instead of this message).
    if train and x.shape[0] * math.prod(x.shape[2:]) < 2:
        raise ValueError(f"{name}: training mode needs at least 2 values per feature to "
                         f"compute a variance, got x{tuple(x.shape)}")


def _check_affine_params(name, x, gamma, beta, ndim, layout):
    _check_input(name, x, ndim, layout)
    size = x.shape[1]
    _check_vector(name, "gamma", gamma, size)
    _check_vector(name, "beta", beta, size)


def initial_state(num_features, dtype=np.float64, xp=np):
    """A fresh batch-norm state: running_mean zeros and running_var ones, both (num_features,).

    ``xp`` is the array module (numpy by default, cupy for the GPU). (Provided: not graded.)
    """
    num_features = check_int("initial_state", "num_features", num_features, 0)
    return {"running_mean": xp.zeros(num_features, dtype=dtype),
            "running_var": xp.ones(num_features, dtype=dtype)}


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    """Forward pass of batch normalization for fully connected layers.

    Training mode (train=True) normalizes each feature j with the statistics of the batch:
        mu_j = (1/N) sum_i x[i, j]          var_j = (1/N) sum_i (x[i, j] - mu_j)**2   (biased)
        x_hat[i, j] = (x[i, j] - mu_j) / sqrt(var_j + eps)
        out[i, j] = gamma[j] * x_hat[i, j] + beta[j]
    and returns the running averages updated with this batch's mu and (biased) var:
        new running_mean = momentum * running_mean + (1 - momentum) * mu
        new running_var  = momentum * running_var  + (1 - momentum) * var
    Test mode (train=False) normalizes with the running statistics instead (no batch statistic
    is computed, so each example's output is independent of the rest of the batch):
        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
    and returns a state equal to the given one.

    (PyTorch's BatchNorm1d normalizes with the biased variance too, but updates its running
    variance with the unbiased one, var * N / (N - 1), and calls 1 - momentum its "momentum".)

    Inputs:
        x: (N, D) a batch of N examples of D features.
        gamma: (D,) scale. beta: (D,) shift.
        state: dict {"running_mean": (D,), "running_var": (D,)}; never modified in place.
        train: True for training mode, False for test mode.
        momentum: the weight of the old running average, in [0, 1].
        eps: added to the variance inside the square root (> 0).
    Returns:
        out: (N, D), of the dtype of x (float32 stays float32).
        cache: whatever ``batchnorm_backward`` needs.
        new_state: a new dict {"running_mean": (D,), "running_var": (D,)} in training;
            in test mode the same values (``state`` itself may be returned).
    """
    _check_bn("batchnorm_forward", x, gamma, beta, state, train, momentum, eps, 2, "(N, D)")
    raise NotImplementedError(
        "batchnorm_forward: not implemented yet; write it in coursework/normalization.py")
    return out, cache, new_state


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalization, step by step through the computational graph.

    In training mode mu and var are functions of the whole batch, so every x[i, j] reaches the
    loss along three paths: directly through x_hat[i, j], through mu_j, and through var_j. Work
    backwards through the forward's intermediate results, one at a time (x - mu, var, its square
    root, x_hat, out), adding up the gradient that reaches each from every place it is used.

    Inputs:
        dout: (N, D) upstream gradient dL/dout.
        cache: what ``batchnorm_forward`` returned in training mode. (A test-mode cache, where
            the running statistics are constants, gives dx = dout * gamma / sqrt(running_var +
            eps); the grader checks training mode only.)
    Returns:
        dx: (N, D). dgamma: (D,) = sum_i dout * x_hat. dbeta: (D,) = sum_i dout.
    """
    raise NotImplementedError(
        "batchnorm_backward: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalization from the simplified closed form, without loops.

    Working the three paths of ``batchnorm_backward`` out on paper, they collapse to one line:
        dx = gamma / (N * sqrt(var + eps)) * (N * dout - sum_i dout - x_hat * sum_i (dout * x_hat))
    with the sums over the batch (axis 0), one per feature. The gradients must equal those of
    ``batchnorm_backward``; write it with whole-array operations, no Python loop over the
    examples or the features.

    Inputs:
        dout: (N, D) upstream gradient.
        cache: what ``batchnorm_forward`` returned in training mode.
    Returns:
        dx: (N, D). dgamma: (D,). dbeta: (D,).
    """
    raise NotImplementedError(
        "batchnorm_backward_alt: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    """Forward pass of batch normalization for convolutional layers.

    A channel is one feature seen at every position: the statistics of channel c are over all
    examples and all positions, (N, H, W), and gamma, beta and the running statistics have one
    entry per channel. Move the channel axis last and flatten to (N * H * W, C), and this is
    ``batchnorm_forward`` exactly (same modes, same running averages); then restore the layout.

    Inputs:
        x: (N, C, H, W).
        gamma, beta: (C,).
        state: dict {"running_mean": (C,), "running_var": (C,)}; never modified in place.
        train, momentum, eps: as for ``batchnorm_forward``.
    Returns:
        out: (N, C, H, W), of the dtype of x.
        cache: whatever ``spatial_batchnorm_backward`` needs.
        new_state: a new dict {"running_mean": (C,), "running_var": (C,)} in training;
            in test mode the same values (``state`` itself may be returned).
    """
    _check_bn("spatial_batchnorm_forward", x, gamma, beta, state, train, momentum, eps, 4,
              "(N, C, H, W)")
    raise NotImplementedError(
        "spatial_batchnorm_forward: not implemented yet; write it in coursework/normalization.py")
    return out, cache, new_state


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization.

    Inputs:
        dout: (N, C, H, W) upstream gradient.
        cache: what ``spatial_batchnorm_forward`` returned in training mode.
    Returns:
        dx: (N, C, H, W). dgamma: (C,). dbeta: (C,).
    """
    raise NotImplementedError(
        "spatial_batchnorm_backward: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer, group and instance normalization: statistics per example, the same at train and test
# ---------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    """Forward pass of layer normalization: each example normalized over its own D features.

        mu_i = (1/D) sum_j x[i, j]          var_i = (1/D) sum_j (x[i, j] - mu_i)**2   (biased)
        out[i, j] = gamma[j] * (x[i, j] - mu_i) / sqrt(var_i + eps) + beta[j]

    No statistic crosses examples, so there is no running average and no train/test difference,
    and a batch of one works.

    Inputs:
        x: (N, D). gamma, beta: (D,), one per feature. eps: > 0, inside the square root.
    Returns:
        out: (N, D), of the dtype of x (float32 stays float32).
        cache: whatever ``layernorm_backward`` needs.
    """
    _check_affine_params("layernorm_forward", x, gamma, beta, 2, "(N, D)")
    _check_eps("layernorm_forward", eps)
    raise NotImplementedError(
        "layernorm_forward: not implemented yet; write it in coursework/normalization.py")
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass of layer normalization.

    The same three paths as batch norm's (directly, through mu_i, through var_i), with the sums
    over the features of one example (axis 1) instead of over the batch; gamma and beta are shared
    by all examples, so their gradients are sums over the batch (axis 0).

    Inputs:
        dout: (N, D). cache: what ``layernorm_forward`` returned.
    Returns:
        dx: (N, D). dgamma: (D,) = sum_i dout * x_hat. dbeta: (D,) = sum_i dout.
    """
    raise NotImplementedError(
        "layernorm_backward: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta


def groupnorm_forward(x, gamma, beta, *, groups, eps=1e-5):
    """Forward pass of group normalization (Wu and He, 2018).

    The C channels are split into ``groups`` groups of C / groups *consecutive* channels (group g
    holds channels g * C/G to (g + 1) * C/G - 1). Each example and group is normalized with the
    mean and biased variance over its channels and all positions, then each channel c is scaled
    by gamma[c] and shifted by beta[c]:
        out[n, c, h, w] = gamma[c] * (x[n, c, h, w] - mu[n, g(c)]) / sqrt(var[n, g(c)] + eps)
                          + beta[c]
    groups = 1 is layer normalization over (C, H, W); groups = C is instance normalization.

    Inputs:
        x: (N, C, H, W). gamma, beta: (C,).
        groups: a positive integer that divides C.
        eps: > 0, inside the square root.
    Returns:
        out: (N, C, H, W), of the dtype of x.
        cache: whatever ``groupnorm_backward`` needs.
    Raises:
        ValueError when groups does not divide C.
    """
    _check_affine_params("groupnorm_forward", x, gamma, beta, 4, "(N, C, H, W)")
    _check_eps("groupnorm_forward", eps)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"groupnorm_forward: groups must be a positive integer, got {groups!r}")
    if x.shape[1] % groups:
        raise ValueError(f"groupnorm_forward: groups={groups} does not divide the C={x.shape[1]} "
                         "channels of x")
    raise NotImplementedError(
        "groupnorm_forward: not implemented yet; write it in coursework/normalization.py")
    return out, cache


def groupnorm_backward(dout, cache):
    """Backward pass of group normalization.

    Within each (example, group) it is layer norm's backward over the group's channels and
    positions; dgamma and dbeta sum over the batch and the positions, one per channel.

    Inputs:
        dout: (N, C, H, W). cache: what ``groupnorm_forward`` returned.
    Returns:
        dx: (N, C, H, W). dgamma: (C,). dbeta: (C,).
    """
    raise NotImplementedError(
        "groupnorm_backward: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta


def instancenorm_forward(x, gamma, beta, *, eps=1e-5):
    """Forward pass of instance normalization: each example's each channel over its (H, W).

        mu[n, c] = mean over (h, w) of x[n, c]        var[n, c] = the biased variance of x[n, c]
        out[n, c, h, w] = gamma[c] * (x[n, c, h, w] - mu[n, c]) / sqrt(var[n, c] + eps) + beta[c]

    Inputs:
        x: (N, C, H, W), with H * W >= 1. gamma, beta: (C,). eps: > 0.
    Returns:
        out: (N, C, H, W), of the dtype of x.
        cache: whatever ``instancenorm_backward`` needs.
    """
    _check_affine_params("instancenorm_forward", x, gamma, beta, 4, "(N, C, H, W)")
    _check_eps("instancenorm_forward", eps)
    raise NotImplementedError(
        "instancenorm_forward: not implemented yet; write it in coursework/normalization.py")
    return out, cache


def instancenorm_backward(dout, cache):
    """Backward pass of instance normalization.

    Inputs:
        dout: (N, C, H, W). cache: what ``instancenorm_forward`` returned.
    Returns:
        dx: (N, C, H, W). dgamma: (C,). dbeta: (C,).
    """
    raise NotImplementedError(
        "instancenorm_backward: not implemented yet; write it in coursework/normalization.py")
    return dx, dgamma, dbeta
