"""The one place where NumPy and CuPy differ.

Course code never imports a backend itself. It asks its inputs which array module they belong to::

    xp = xp_of(x, w)          # numpy on the CPU, cupy on a GPU
    out = xp.maximum(x, 0)

so that the same function runs on a laptop and on a GPU. CuPy is optional: it is imported only when
it is installed, and nothing here fails without it.
"""

import numpy as np

try:  # CuPy is the optional GPU extra (pip install -e '.[gpu]').
    import cupy as _cupy
except Exception:  # ImportError, or a CUDA library that fails to load on a machine without a GPU
    _cupy = None


def _module_name(a):
    """Name of the array library that owns ``a`` ('numpy', 'cupy', or the type's module)."""
    return type(a).__module__.split(".")[0]


def xp_of(*arrays):
    """Return the array module (numpy or cupy) that the given arrays belong to.

    Arguments that are not arrays (Python numbers, None) are ignored. With no array at all, numpy
    is returned.

    Raises:
        TypeError: if NumPy and CuPy arrays are mixed, naming the position and type of each, since
            an operation between them would otherwise fail later with a less clear message.
    """
    found = {}
    for position, a in enumerate(arrays):
        if isinstance(a, np.ndarray) or isinstance(a, np.generic):
            found.setdefault("numpy", (position, type(a)))
        elif _cupy is not None and isinstance(a, _cupy.ndarray):
            found.setdefault("cupy", (position, type(a)))
    if len(found) > 1:
        (p1, t1), (p2, t2) = found["numpy"], found["cupy"]
        raise TypeError(
            f"xp_of: argument {p1} is a {t1.__module__}.{t1.__name__} but argument {p2} is a "
            f"{t2.__module__}.{t2.__name__}; move all arrays to one device first "
            "(cupy.asarray(a) for the GPU, to_numpy(a) for the CPU)"
        )
    if "cupy" in found:
        return _cupy
    return np


def to_numpy(a):
    """Return ``a`` as a NumPy array (copied from the GPU if it is a CuPy array).

    NumPy arrays are returned as they are; Python numbers and lists become NumPy arrays.
    """
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy.asnumpy(a)
    return np.asarray(a)


def gpu_available():
    """True when CuPy is installed and at least one CUDA device can be used."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False
