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


def _is_cupy(a):
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def asarray_like(a, like, dtype=None):
    """Return ``a`` as an array of the module and device of ``like`` (NumPy or CuPy).

    Used to create arrays where the inputs live: ``asarray_like(np.zeros(3), x)`` is a CuPy array
    on ``x``'s GPU when ``x`` is a CuPy array, and a NumPy array otherwise. ``dtype`` as in
    ``numpy.asarray``.
    """
    xp = xp_of(like)
    if xp is np:
        return np.asarray(to_numpy(a), dtype=dtype)
    with _cupy.cuda.Device(like.device.id):
        return _cupy.asarray(a, dtype=dtype)


def add_at(a, indices, values):
    """Unbuffered ``a[indices] += values`` in place: repeated indices add up (``np.add.at``).

    ``a[indices] += values`` keeps only one of the repeated rows; this sums all of them. On NumPy
    it is ``np.add.at``; on CuPy it is ``cupyx.scatter_add`` (CuPy versions without ``add.at``).

    Inputs:
        a: the array updated in place.
        indices: an index (integer array, tuple of integer arrays, or slice) into ``a``.
        values: what is added, broadcastable to ``a[indices]``.
    Returns:
        None (``a`` is updated).
    """
    if _is_cupy(a):
        import cupyx

        cupyx.scatter_add(a, indices, values)
        return None
    np.add.at(a, indices, values)
    return None


def bincount(x, minlength=0):
    """``numpy.bincount(x, minlength=minlength)`` on NumPy and CuPy: how often each value of the
    1-D array ``x`` of non-negative integers occurs, as an integer array of length
    ``max(x.max() + 1, minlength)``.

    An empty ``x`` gives ``minlength`` zeros on both: ``cupy.bincount`` before CuPy 14.2 raises
    there (it takes the maximum of no values).
    """
    if _is_cupy(x):
        if x.size == 0:
            return _cupy.zeros(int(minlength), dtype=np.intp)
        return _cupy.bincount(x, minlength=minlength)
    return np.bincount(x, minlength=minlength)


def default_rng(seed=None, like=None):
    """A random generator on the device of ``like``: ``numpy.random.default_rng(seed)`` for NumPy
    (or ``like=None``), ``cupy.random.default_rng(seed)`` for a CuPy array.

    The two libraries draw different numbers from the same seed: results that must agree across
    devices draw on the CPU and move the result (``asarray_like``).
    """
    if like is not None and _is_cupy(like):
        return _cupy.random.default_rng(seed)
    return np.random.default_rng(seed)


def sliding_window_view(x, window_shape, axis=None):
    """Read-only view of ``x`` with the windows of ``window_shape`` along ``axis`` as new last
    axes (``numpy.lib.stride_tricks.sliding_window_view``).

    On CuPy the same view is built with ``cupy.lib.stride_tricks.as_strided`` (CuPy before 13 has
    no ``sliding_window_view``). Inputs and result as in NumPy's function.
    """
    if not _is_cupy(x):
        return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=axis)
    tricks = _cupy.lib.stride_tricks
    if hasattr(tricks, "sliding_window_view"):
        return tricks.sliding_window_view(x, window_shape, axis=axis)
    shape, strides = _window_layout(x.shape, x.strides, window_shape, axis)
    return tricks.as_strided(x, shape=shape, strides=strides)


def _window_layout(shape, strides, window_shape, axis=None):
    """Shape and strides of the sliding-window view (the rule of NumPy's function)."""
    window_shape = (tuple(window_shape) if np.iterable(window_shape) else (int(window_shape),))
    if axis is None:
        axis = tuple(range(len(shape)))
        if len(window_shape) != len(axis):
            raise ValueError(f"window_shape {window_shape} needs one entry per axis of an array "
                             f"of {len(shape)} dimensions")
    axis = (tuple(axis) if np.iterable(axis) else (int(axis),))
    if len(window_shape) != len(axis):
        raise ValueError(f"window_shape {window_shape} and axis {axis} differ in length")
    out_shape = list(shape)
    for ax, w in zip(axis, window_shape):
        ax = ax % len(shape)
        if w < 0 or out_shape[ax] < w:
            raise ValueError(f"window {w} does not fit axis {ax} of length {shape[ax]}")
        out_shape[ax] -= w - 1
    out_strides = tuple(strides) + tuple(strides[ax % len(shape)] for ax in axis)
    return tuple(out_shape) + tuple(window_shape), out_strides


def as_strided(x, shape, strides):
    """``numpy.lib.stride_tricks.as_strided`` on NumPy, ``cupy.lib.stride_tricks.as_strided`` on
    CuPy: a view of ``x`` with the given shape and strides (in bytes). Write to it only when no
    two of its elements share memory."""
    if _is_cupy(x):
        return _cupy.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
