"""Unit 02: the layers of a fully connected network, each with a forward and a backward pass.

Every layer follows the same contract:

- ``x_forward(inputs..., *, hyper...) -> (out, cache)``: compute the output and keep in ``cache``
  whatever the backward pass will need (the inputs, or the output). What the cache holds is your
  choice: only your own backward reads it.
- ``x_backward(dout, cache) -> grads``: given ``dout``, the gradient of the final (scalar) loss with
  respect to ``out`` (same shape as ``out``), return the gradient of the loss with respect to each
  array input of the forward, in the order and with the shapes of those inputs.

Backpropagation is "local gradient times upstream gradient": each backward multiplies ``dout``
by the derivative of its own small function, and never needs to know what comes after it.

Inputs are never modified in place. The code takes its array module from its inputs
(``xp = xp_of(x)``), so it runs on NumPy arrays on a CPU and on CuPy arrays on a GPU.
"""

from .backend import xp_of
from .checks import check_array, check_ndim, check_real


def affine_forward(x, w, b):
    """Forward pass of a fully connected (affine) layer: out = x_flat @ w + b.

    Inputs:
        x: (N, d_1, ..., d_k) a batch of N examples; each example is flattened to a row of
           D = d_1 * ... * d_k numbers, so x_flat is (N, D). (An (N, D) array is its own x_flat.)
        w: (D, M) weights.
        b: (M,) biases, added to every row.
    Returns:
        out: (N, M) with out[n] = x_flat[n] @ w + b.
        cache: whatever ``affine_backward`` needs.
    """
    for what, value in (("x", x), ("w", w), ("b", b)):
        check_array("affine_forward", what, value)
    if x.ndim < 1 or w.ndim != 2 or b.ndim != 1:
        raise ValueError(f"affine_forward: expected x (N, ...), w (D, M) and b (M,), got "
                         f"x{tuple(x.shape)}, w{tuple(w.shape)}, b{tuple(b.shape)}")
    dim = 1
    for size in x.shape[1:]:
        dim *= size
    if dim != w.shape[0]:
        raise ValueError(f"affine_forward: each example of x{tuple(x.shape)} has {dim} numbers "
                         f"but w{tuple(w.shape)} expects {w.shape[0]}")
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"affine_forward: b{tuple(b.shape)} does not match the "
                         f"{w.shape[1]} outputs of w{tuple(w.shape)}")
    # BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    # END SOLUTION
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    Inputs:
        dout: (N, M) upstream gradient dL/dout.
        cache: what ``affine_forward`` returned.
    Returns:
        dx: (N, d_1, ..., d_k) dL/dx = dout @ w.T, reshaped to the shape of x.
        dw: (D, M) dL/dw = x_flat.T @ dout.
        db: (M,) dL/db = dout summed over the batch (b is added to every row, so every row's
            gradient flows into it).
    """
    # BEGIN SOLUTION
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    # END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit, elementwise: out = max(0, x).

    Inputs:
        x: array of any shape.
    Returns:
        out: same shape as x.
        cache: whatever ``relu_backward`` needs.
    """
    # BEGIN SOLUTION
    xp = xp_of(x)
    out = xp.maximum(x, 0)
    cache = x
    # END SOLUTION
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of ReLU: dx = dout where x > 0, else 0.

    Inputs:
        dout: upstream gradient, same shape as x.
        cache: what ``relu_forward`` returned.
    Returns:
        dx: same shape as x. (At x == 0 exactly ReLU has no derivative; either 0 or 1 is accepted.)
    """
    # BEGIN SOLUTION
    x = cache
    dx = dout * (x > 0)  # the local gradient is 1 where the unit is active, 0 elsewhere
    # END SOLUTION
    return dx


def sigmoid_forward(x):
    """Logistic sigmoid, elementwise: out = 1 / (1 + exp(-x)).

    Inputs:
        x: array of any shape.
    Returns:
        out: same shape as x, values in [0, 1].
        cache: whatever ``sigmoid_backward`` needs.

    Computed so that exp never overflows, for x of any size.
    """
    # BEGIN SOLUTION
    xp = xp_of(x)
    # exp(-|x|) <= 1 never overflows; 1/(1+e) for x >= 0 and e/(1+e) for x < 0 are both sigmoid.
    e = xp.exp(-xp.abs(x))
    out = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    cache = out
    # END SOLUTION
    return out, cache


def sigmoid_backward(dout, cache):
    """Backward pass of the sigmoid: dx = dout * s * (1 - s), with s = sigmoid(x) the output.

    Inputs:
        dout: upstream gradient, same shape as x.
        cache: what ``sigmoid_forward`` returned.
    Returns:
        dx: same shape as x.
    """
    # BEGIN SOLUTION
    out = cache
    dx = dout * out * (1.0 - out)  # the derivative is written with the output, not the input
    # END SOLUTION
    return dx


def tanh_forward(x):
    """Hyperbolic tangent, elementwise: out = tanh(x).

    Inputs:
        x: array of any shape.
    Returns:
        out: same shape as x, values in [-1, 1].
        cache: whatever ``tanh_backward`` needs.

    Right for x of any size: tanh(800) is 1, not NaN (exp(2 * 800) overflows).
    """
    # BEGIN SOLUTION
    xp = xp_of(x)
    out = xp.tanh(x)
    cache = out
    # END SOLUTION
    return out, cache


def tanh_backward(dout, cache):
    """Backward pass of tanh: dx = dout * (1 - tanh(x)**2).

    Inputs:
        dout: upstream gradient, same shape as x.
        cache: what ``tanh_forward`` returned.
    Returns:
        dx: same shape as x.
    """
    # BEGIN SOLUTION
    out = cache
    dx = dout * (1.0 - out * out)
    # END SOLUTION
    return dx


def leaky_relu_forward(x, *, alpha=0.01):
    """Leaky ReLU, elementwise: out = x where x > 0, alpha * x elsewhere.

    Inputs:
        x: array of any shape.
        alpha: the slope for negative inputs (>= 0; 0 gives the ReLU).
    Returns:
        out: same shape as x.
        cache: whatever ``leaky_relu_backward`` needs (alpha included).
    """
    check_real("leaky_relu_forward", "alpha", alpha, minimum=0)
    # BEGIN SOLUTION
    xp = xp_of(x)
    out = xp.where(x > 0, x, alpha * x)
    cache = (x, alpha)
    # END SOLUTION
    return out, cache


def leaky_relu_backward(dout, cache):
    """Backward pass of the leaky ReLU: dx = dout where x > 0, alpha * dout elsewhere.

    Inputs:
        dout: upstream gradient, same shape as x.
        cache: what ``leaky_relu_forward`` returned.
    Returns:
        dx: same shape as x. (At x == 0 exactly either slope is accepted.)
    """
    # BEGIN SOLUTION
    xp = xp_of(dout)
    x, alpha = cache
    dx = xp.where(x > 0, dout, alpha * dout)
    # END SOLUTION
    return dx


def elu_forward(x, *, alpha=1.0):
    """Exponential linear unit, elementwise: out = x where x > 0, alpha * (exp(x) - 1) elsewhere.

    Inputs:
        x: array of any shape.
        alpha: the value the output approaches for very negative x is -alpha (alpha >= 0).
    Returns:
        out: same shape as x.
        cache: whatever ``elu_backward`` needs (alpha included).

    Right for x of any size: ELU(1000) is 1000 (exp(1000) overflows to inf, and inf * 0 is NaN,
    so take exp only where it is used).

    Clevert et al., "Fast and accurate deep network learning by exponential linear units", 2016.
    """
    check_real("elu_forward", "alpha", alpha, minimum=0)
    # BEGIN SOLUTION
    xp = xp_of(x)
    # exp only of the non-positive part: no overflow for large positive x. expm1(x) = exp(x) - 1
    # without the cancellation near 0.
    out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
    cache = (x, alpha)
    # END SOLUTION
    return out, cache


def elu_backward(dout, cache):
    """Backward pass of the ELU: dx = dout where x > 0, dout * alpha * exp(x) elsewhere.

    Inputs:
        dout: upstream gradient, same shape as x.
        cache: what ``elu_forward`` returned.
    Returns:
        dx: same shape as x. (At x == 0 exactly either side's derivative is accepted.) Right
        for x of any size, as the forward.
    """
    # BEGIN SOLUTION
    xp = xp_of(dout)
    x, alpha = cache
    dx = xp.where(x > 0, dout, dout * alpha * xp.exp(xp.minimum(x, 0)))
    # END SOLUTION
    return dx


def maxout_forward(x, w, b):
    """Maxout layer: for each output unit, the largest of K affine pieces of the input.

    Goodfellow et al., "Maxout networks", 2013. With x_flat the (N, D) rows of x:
        z[n, m, k] = sum over d of x_flat[n, d] * w[d, m, k] + b[m, k]      (N, M, K)
        out[n, m] = max over k of z[n, m, k]                                (N, M)
    The unit learns its own piecewise-linear convex activation: with K = 2, w[:, :, 1] = 0 and
    b[:, 1] = 0 it is the ReLU of an affine layer, max(0, x_flat @ w[:, :, 0] + b[:, 0]).

    Inputs:
        x: (N, d_1, ..., d_k) a batch of N examples, each flattened to D = d_1 * ... * d_k
           numbers as in ``affine_forward``.
        w: (D, M, K) weights: K affine pieces for each of the M output units.
        b: (M, K) biases, one per piece.
    Returns:
        out: (N, M).
        cache: whatever ``maxout_backward`` needs.
    """
    for what, value in (("x", x), ("w", w), ("b", b)):
        check_array("maxout_forward", what, value)
    if x.ndim < 1 or w.ndim != 3 or b.ndim != 2:
        raise ValueError(f"maxout_forward: expected x (N, ...), w (D, M, K) and b (M, K), got "
                         f"x{tuple(x.shape)}, w{tuple(w.shape)}, b{tuple(b.shape)}")
    dim = 1
    for size in x.shape[1:]:
        dim *= size
    if dim != w.shape[0]:
        raise ValueError(f"maxout_forward: each example of x{tuple(x.shape)} has {dim} numbers "
                         f"but w{tuple(w.shape)} expects {w.shape[0]}")
    if tuple(b.shape) != tuple(w.shape[1:]):
        raise ValueError(f"maxout_forward: b{tuple(b.shape)} should be (M, K) = "
                         f"{tuple(w.shape[1:])}, one bias per piece of w{tuple(w.shape)}")
    # BEGIN SOLUTION
    D, M, K = w.shape
    # All M * K pieces in one matrix product; reshaping w to (D, M * K) keeps the pairs [m, k].
    z = (x.reshape(x.shape[0], D) @ w.reshape(D, M * K)).reshape(-1, M, K) + b
    out = z.max(axis=2)
    cache = (x, w, z.argmax(axis=2))  # which piece won, for each example and unit
    # END SOLUTION
    return out, cache


def maxout_backward(dout, cache):
    """Backward pass of the maxout layer.

    Only the winning piece of each unit is in the output, so only it passes the gradient:
        dz[n, m, k] = dout[n, m] where k is the piece that won for (n, m), else 0   (N, M, K)
        dx = dz reshaped to (N, M * K) @ w reshaped to (D, M * K).T, in the shape of x
        dw[d, m, k] = sum over n of x_flat[n, d] * dz[n, m, k]                        (D, M, K)
        db[m, k] = sum over n of dz[n, m, k]                                          (M, K)
    (When two pieces tie for the maximum either may take the gradient; ties are not graded.)

    Inputs:
        dout: (N, M) upstream gradient.
        cache: what ``maxout_forward`` returned.
    Returns:
        dx: (N, d_1, ..., d_k) like x. dw: (D, M, K) like w. db: (M, K) like b.
    """
    check_ndim("maxout_backward", "dout", dout, 2, "(N, M)")
    # BEGIN SOLUTION
    xp = xp_of(dout)
    x, w, winner = cache
    N, M = dout.shape
    D, _, K = w.shape
    dz = (xp.arange(K) == winner[:, :, None]) * dout[:, :, None]  # dout at the winning piece
    dz_flat = dz.reshape(N, M * K)
    dx = (dz_flat @ w.reshape(D, M * K).T).reshape(x.shape)
    dw = (x.reshape(N, D).T @ dz_flat).reshape(D, M, K)
    db = dz.sum(axis=0)
    # END SOLUTION
    return dx, dw, db


# Activations by name, used by the networks of mlp.py: name -> (forward, backward).
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
}
