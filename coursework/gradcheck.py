"""Unit 02: numerical gradients, to check the analytic gradients of every backward pass.

A backward pass is easy to get subtly wrong and the mistake is invisible in the loss curve. The
cure is to compare it with a numerical estimate from the definition of the derivative, the
centered difference

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h),

whose error shrinks like h**2 (the one-sided (f(x + h e_i) - f(x)) / h only like h). With h = 1e-5
in float64 the estimate agrees with a correct analytic gradient to about 1e-8 relative error; a
relative error above about 1e-5 almost always means a bug.

These functions loop over the elements of x, perturbing one at a time: they are slow, so use them
on small inputs.
"""

import itertools
import numbers

from .backend import xp_of
from .checks import check_real


def _check_float_array(name, x):
    if not hasattr(x, "dtype") or x.dtype.kind != "f":
        raise TypeError(f"{name}: x must be a floating point array (it is perturbed by tiny "
                        f"steps), got {getattr(x, 'dtype', type(x).__name__)}")


def _check_scalar_output(name, f, x):
    """TypeError unless f(x) is a number: a loss that returns (loss, grads) would otherwise fail
    in the middle of the probes with "float() argument must be ... not 'tuple'"."""
    if not callable(f):
        raise TypeError(f"{name}: f must be a function called as f(x), got {type(f).__name__}")
    value = f(x)
    if isinstance(value, (tuple, list)):
        raise TypeError(f"{name}: f(x) must return a number, got a {type(value).__name__} of "
                        f"{len(value)}; for a function that returns (loss, grads) take the loss: "
                        "f = lambda v: loss_function(v)[0]")
    if not isinstance(value, numbers.Real) and getattr(value, "size", None) != 1:
        shown = (f"an array of shape {tuple(value.shape)}" if hasattr(value, "shape")
                 else type(value).__name__)
        raise TypeError(f"{name}: f(x) must return a number, got {shown}")


def _check_array_output(name, f, x, dout):
    """f(x) must be an array of dout's shape: a layer's forward that returns (out, cache) was
    turned into one array of both, and a dout of another shape broadcast, both without an
    error, into a wrong gradient."""
    if not callable(f):
        raise TypeError(f"{name}: f must be a function called as f(x), got {type(f).__name__}")
    if not hasattr(dout, "shape"):
        raise TypeError(f"{name}: dout must be an array of the shape of f(x), got "
                        f"{type(dout).__name__}")
    value = f(x)
    if isinstance(value, (tuple, list)):
        raise TypeError(f"{name}: f(x) must return an array, got a {type(value).__name__} of "
                        f"{len(value)}; for a forward that returns (out, cache) take the output: "
                        "f = lambda v: layer_forward(v)[0]")
    shape = tuple(getattr(value, "shape", ()))
    if shape != tuple(dout.shape):
        raise ValueError(f"{name}: f(x) has shape {shape} but dout has shape "
                         f"{tuple(dout.shape)}; dout is the upstream gradient of f(x), of its "
                         "shape")


def numerical_gradient(f, x, *, h=1e-5):
    """The gradient of a scalar function f at x, by centered differences.

    For every index i of x (all dimensions):
        grad[i] = (f(x with x[i] + h) - f(x with x[i] - h)) / (2 h)
    Perturb x in place, one element at a time, and put the saved original value back after the
    two evaluations, so that every probe starts from the original x and x is unchanged at the end.

    Inputs:
        f: a function called as f(x), returning a float.
        x: float array of any shape, the point at which to differentiate.
        h: the step (> 0).
    Returns:
        grad: array of the shape and dtype of x.
    """
    check_real("numerical_gradient", "the step h", h, positive=True)
    _check_float_array("numerical_gradient", x)
    _check_scalar_output("numerical_gradient", f, x)
    raise NotImplementedError(
        "numerical_gradient: not implemented yet; write it in coursework/gradcheck.py")
    return grad


def numerical_gradient_array(f, x, dout, *, h=1e-5):
    """The gradient of sum(f(x) * dout) with respect to x, by centered differences.

    f maps the array x to an array y = f(x) and ``dout`` plays the upstream gradient dL/dy, so the
    result is what a correct backward pass of f returns for ``dout``. For every index i of x:
        grad[i] = sum((f(x with x[i] + h) - f(x with x[i] - h)) * dout) / (2 h)
    The sum runs over all elements of the output: changing x[i] may change every element of y.
    Restore x after each probe, as in ``numerical_gradient``. f may return a view of x (such as
    x.T or x[1:]), which changes when x changes: copy f(x + h) before you move x to x - h.

    Inputs:
        f: a function called as f(x), returning an array of the shape of dout (maybe a view of
            x).
        x: float array of any shape.
        dout: array of the shape of f(x).
        h: the step (> 0).
    Returns:
        grad: array of the shape and dtype of x.
    """
    check_real("numerical_gradient_array", "the step h", h, positive=True)
    _check_float_array("numerical_gradient_array", x)
    _check_array_output("numerical_gradient_array", f, x, dout)
    raise NotImplementedError(
        "numerical_gradient_array: not implemented yet; write it in coursework/gradcheck.py")
    return grad


def relative_error(a, b):
    """The largest elementwise relative error between two arrays (or numbers) a and b.

        max over elements of |a - b| / max(1e-8, |a| + |b|)
    The floor 1e-8 keeps it finite where both are 0 (the error there is 0). Rules of thumb in
    float64: below 1e-7 the gradients agree; above 1e-2 they are almost surely wrong.

    Inputs:
        a, b: arrays of the same shape (or numbers).
    Returns:
        a float.
    """
    a_shape, b_shape = getattr(a, "shape", ()), getattr(b, "shape", ())
    if tuple(a_shape) != tuple(b_shape):
        raise ValueError(f"relative_error: a{tuple(a_shape)} and b{tuple(b_shape)} must have "
                         "the same shape")
    raise NotImplementedError(
        "relative_error: not implemented yet; write it in coursework/gradcheck.py")
    return worst
