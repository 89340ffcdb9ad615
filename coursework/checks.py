"""Argument checks shared by the coursework modules (provided: nothing to write here).

Every check raises TypeError when a value is of the wrong kind and ValueError when it is of the
right kind but out of range. The message starts with the name of the function that was called
and shows the bad value, so that a wrong call is found at once, not three layers later. Checks
that turn a value into the form the caller uses (an int, a float, a dtype) return it.
"""

import numbers
import operator

import numpy as np


def check_int(name, what, value, minimum=None):
    """``value`` as an int (>= ``minimum`` when given).

    TypeError for a value that is not an integer (a bool, a float, a string); ValueError for an
    integer below ``minimum``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: {what} must be >= {minimum}, got {value}")
    return value


def check_positive_int(name, what, value):
    """``value`` as an int >= 1; ValueError for anything else (0, -3, 2.5, True, "4")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return int(value)


def check_real(name, what, value, *, minimum=None, positive=False, allow_none=False):
    """``value`` as a float (None passes when ``allow_none``).

    TypeError for a value that is not a real number (a bool, a string, an array); ValueError
    below ``minimum``, or not above 0 when ``positive``.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{name}: {what} must be a real number{extra}, got {value!r}")
    if minimum is not None and not value >= minimum:
        raise ValueError(f"{name}: {what} must be >= {minimum}, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name}: {what} must be a positive number, got {value!r}")
    return float(value)


def check_scalar(name, what, value):
    """``value``, one number, as a float: a Python or NumPy number, or an array or tensor with
    no dimensions (``np.mean`` of a CuPy array, a PyTorch loss) of a real dtype.

    TypeError for anything else (a bool, a string, an array of several values), naming it.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    dtype = str(getattr(value, "dtype", ""))
    if getattr(value, "ndim", None) == 0 and dtype and "bool" not in dtype \
            and "complex" not in dtype:
        try:
            detached = value.detach() if hasattr(value, "detach") else value  # a torch loss
            return float(detached)
        except (TypeError, ValueError):
            pass
    shape = getattr(value, "shape", None)
    shown = f"an array of shape {tuple(shape)}" if shape is not None else repr(value)
    raise TypeError(f"{name}: {what} must be a number, got {shown}"
                    + (f" of dtype {dtype}" if shape is not None and dtype else ""))


def check_reg(name, reg):
    """The L2 regularization strength: a real number >= 0, returned as a float."""
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not reg >= 0:
        raise ValueError(f"{name}: reg must be >= 0, got {reg!r}")
    return float(reg)


def check_rng(name, rng):
    """TypeError unless ``rng`` is a ``numpy.random.Generator`` (np.random.default_rng(seed))."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy.random.Generator "
                        f"(np.random.default_rng(seed)), got {type(rng).__name__}")


def check_float_dtype(name, dtype):
    """``dtype`` as a NumPy floating dtype; TypeError for any other."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: dtype must be a floating type, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{name}: dtype must be a floating type, got {dtype}")
    return dtype


def check_labels(name, y, num_classes):
    """TypeError unless ``y`` holds integers; ValueError unless they lie in [0, num_classes)."""
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels y must be integers, got dtype {y.dtype}")
    if y.size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{name}: labels must lie in [0, {num_classes}), got values from "
                         f"{int(y.min())} to {int(y.max())}")


def check_ndim(name, what, array, ndim, dims):
    """ValueError unless ``array`` has ``ndim`` dimensions; ``dims`` names them, "(N, C, H, W)"."""
    shape = getattr(array, "shape", None)
    if shape is None or len(shape) != ndim:
        shown = tuple(shape) if shape is not None else type(array).__name__
        raise ValueError(f"{name}: {what} should be an array of shape {dims}, got {shown}")


def check_array(name, what, value):
    """TypeError unless ``value`` is an array (NumPy or CuPy: anything with a shape, ndim and
    dtype). A list or a number where an array belongs would otherwise fail a line later with
    "'list' object has no attribute 'ndim'", which names neither the function nor the argument.
    """
    if not all(hasattr(value, attr) for attr in ("shape", "ndim", "dtype")):
        raise TypeError(f"{name}: {what} must be an array, got {type(value).__name__} "
                        f"(np.asarray({what}) makes one)")


def check_not_empty(name, what, value):
    """ValueError for an array with no elements where the result is a mean over them: the mean
    of nothing is 0 / 0. An empty batch usually comes from a slice that ran past the end of the
    data (X[i:i + batch_size] with i >= N)."""
    if value.size == 0:
        raise ValueError(f"{name}: {what}{tuple(value.shape)} is empty, and a mean over no "
                         "examples is undefined (did a batch slice run past the end of the "
                         "data?)")


def check_not_torch(name, what, value):
    """TypeError for a PyTorch tensor (a network's output, say) given to a NumPy function: it has
    a shape but no NumPy dtype, and would fail far from the call, or not at all."""
    if type(value).__module__.split(".")[0] == "torch":
        raise TypeError(f"{name}: {what} must be a NumPy array, got a torch.Tensor (convert it "
                        f"with {what}.detach().cpu().numpy())")
