"""Unit 07: semantic segmentation, the operations that upsample, and its metrics and losses.

Classification gives one label per image; semantic segmentation gives one label per *pixel*. A
fully convolutional network first downsamples (pooling, strided convolutions: a large receptive
field, cheap features) and then upsamples back to the input's resolution. This module holds the
operations of that second half, written by hand like units 01-05, and the way segmentations are
scored and trained.

Conventions used by every function here:

- Images are ``x`` of shape (N, C, H, W). Label maps (``pred``, ``target``) are integer arrays of
  equal shape (for instance (N, H, W)) holding classes 0..K-1.
- Layer contract: ``*_forward(inputs, *, hyperparameters) -> (out, cache)`` and
  ``*_backward(dout, cache) -> gradients`` in the order of the forward's array inputs. Losses
  return ``(loss, dlogits)``. Inputs are never modified in place.
- "Convolution" is cross-correlation (the kernel is not flipped), as in unit 03 and PyTorch.
- Vectorized: no Python loops over examples, channels or pixels. A short loop over something
  that does not grow with the data (the kernel offsets (k, l), the classes, the two axes of an
  image) is fine, except where a docstring says "loop over the kernel offsets at most". The
  grader counts the lines of your code that a call runs for 2, 11, 20, 130 and 260 examples
  (channels, rows, columns): a count that grows with them is a loop over them, even in blocks.
  ``map``, ``np.vectorize``, ``np.apply_along_axis``, ``collections.Counter``, and ``sorted``,
  ``min`` or ``max`` with a NumPy or builtin ``key=``, call a function once per element where the
  grader cannot count it: they are not allowed over the data here. Over a fixed few things they
  are fine: a tuple or list written out in the call (``map(np.ravel, (pred, target))``), a
  comprehension (counted as the loop it is), names unpacked (``H, W = map(int, x.shape[2:])``);
  a ``key=`` that is a lambda or a function of yours runs your code, which is counted.
- Code works for NumPy and CuPy arrays alike (``xp = xp_of(x)``).

Metrics, from the confusion matrix (rows: true class, columns: predicted class), per class c:
    TP = the pixels of class c predicted c, FP = pixels of other classes predicted c,
    FN = pixels of class c predicted as something else.
    IoU = TP / (TP + FP + FN)          Dice = 2 TP / (2 TP + FP + FN)
    precision = TP / (TP + FP)         recall = TP / (TP + FN)
Beware: some notes write recall as TP / (TP + TN); that is wrong. Recall is the fraction of the
pixels that truly are class c that were found, so its denominator is every pixel of class c:
TP + FN. (TN, the pixels correctly *not* labelled c, dominates any image and says nothing about
how well c itself is found.)
"""

import numbers
import operator

from .backend import bincount, xp_of
from .checks import check_not_empty, check_not_torch


# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------

def _as_int(name, what, value, minimum):
    """``value`` as an int >= minimum, or TypeError/ValueError naming it."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name}: {what} must be >= {minimum}, got {value}")
    return value


def _as_pair(name, what, value, minimum):
    """An int or a pair of ints, each >= minimum, as a tuple (rows, columns)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: {what} must be an int or a pair (rows, columns), got "
                             f"{value!r}")
        return tuple(_as_int(name, what, v, minimum) for v in value)
    v = _as_int(name, what, value, minimum)
    return v, v


def _check_ndim(name, what, a, ndim, dims):
    check_not_torch(name, what, a)
    if not hasattr(a, "ndim") or not hasattr(a, "shape"):
        raise TypeError(f"{name}: {what} must be an array, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected {what} of shape {dims}, got {tuple(a.shape)}")


def _check_dout(name, dout, shape):
    if tuple(dout.shape) != tuple(shape):
        raise ValueError(f"{name}: dout has shape {tuple(dout.shape)} but the forward pass "
                         f"produced {tuple(shape)}")


def _check_window(name, what, size_hw, kernel_hw, stride, pad):
    """ValueError when a (kh, kw) window with this stride and pad does not fit (h, w) exactly
    (unit 03's fit rule)."""
    (h, w), (kh, kw) = size_hw, kernel_hw
    why = []
    for axis, n, k in (("rows", h, kh), ("columns", w, kw)):
        if k > n + 2 * pad:
            why.append(f"{axis}: the window ({k}) is larger than the padded input ({n + 2 * pad})")
        elif (n + 2 * pad - k) % stride:
            why.append(f"{axis}: {n} + 2*{pad} - {k} = {n + 2 * pad - k} is not a multiple of "
                       f"the stride {stride}")
    if why:
        raise ValueError(f"{name}: a {kh}x{kw} {what} with stride {stride} and pad {pad} does "
                         f"not fit a {h}x{w} input ({'; '.join(why)})")


def _check_label_dtype(name, what, a):
    """TypeError unless ``a`` is a NumPy (or CuPy) array of integers."""
    check_not_torch(name, what, a)
    if not hasattr(a, "dtype") or a.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be an integer array, got "
                        f"{getattr(a, 'dtype', type(a).__name__)}")


def _check_labels(name, what, a, num_classes, ignore_index=None):
    """An integer label array whose values lie in 0..num_classes-1 (or equal ignore_index)."""
    _check_label_dtype(name, what, a)
    xp = xp_of(a)
    keep = a != ignore_index if ignore_index is not None else xp.ones(a.shape, dtype=bool)
    bad = keep & ((a < 0) | (a >= num_classes))
    if bool(bad.any()):
        value = int(a[bad].ravel()[0])
        raise ValueError(f"{name}: {what} holds the label {value}, outside the classes "
                         f"0..{num_classes - 1}" +
                         (f" (and not ignore_index={ignore_index})"
                          if ignore_index is not None else ""))


def _check_pair_maps(name, pred, target, num_classes, ignore_index):
    if tuple(getattr(pred, "shape", ())) != tuple(getattr(target, "shape", ())):
        raise ValueError(f"{name}: pred and target must have the same shape, got "
                         f"{tuple(getattr(pred, 'shape', ()))} and "
                         f"{tuple(getattr(target, 'shape', ()))}")
    if ignore_index is not None:
        ignore_index = _as_int(name, "ignore_index", ignore_index, -(2 ** 62))
    _check_labels(name, "target", target, num_classes, ignore_index)
    # Predicted labels are never ignored: every prediction must be a class.
    _check_labels(name, "pred", pred, num_classes)
    return ignore_index


def _check_logits(name, logits, target, ignore_index=None):
    _check_ndim(name, "logits", logits, 4, "(N, K, H, W)")
    _check_ndim(name, "target", target, 3, "(N, H, W)")
    N, K, H, W = logits.shape
    if tuple(target.shape) != (N, H, W):
        raise ValueError(f"{name}: logits {tuple(logits.shape)} need a target of shape "
                         f"{(N, H, W)}, got {tuple(target.shape)}")
    if ignore_index is not None:
        ignore_index = _as_int(name, "ignore_index", ignore_index, -(2 ** 62))
    _check_labels(name, "target", target, K, ignore_index)
    return ignore_index


def _check_class_vector(name, what, v, K):
    if v is None:
        return None
    _check_ndim(name, what, v, 1, f"({K},)")
    if v.shape[0] != K:
        raise ValueError(f"{name}: {what} must have one entry per class ({K}), got "
                         f"{v.shape[0]}")
    if bool((v < 0).any()):
        raise ValueError(f"{name}: {what} must be >= 0, got {v!r}")
    return v


# ---------------------------------------------------------------------------------------------
# Transposed convolution
# ---------------------------------------------------------------------------------------------

def conv_transpose_output_size(n, kernel, *, stride=1, pad=0, output_padding=0):
    """Output size of a transposed convolution along one axis of size ``n`` (provided).

    (n - 1) * stride - 2 * pad + kernel + output_padding: the inverse of unit 03's
    (n + 2*pad - kernel) / stride + 1 (output_padding picks among the sizes a strided convolution
    maps to the same n). ValueError when output_padding >= stride or the size is not positive.
    """
    name = "conv_transpose"
    n = _as_int(name, "input size", n, 1)
    kernel = _as_int(name, "kernel size", kernel, 1)
    stride = _as_int(name, "stride", stride, 1)
    pad = _as_int(name, "pad", pad, 0)
    output_padding = _as_int(name, "output_padding", output_padding, 0)
    if output_padding >= stride:
        raise ValueError(f"{name}: output_padding must be smaller than the stride, got "
                         f"output_padding={output_padding} with stride={stride}")
    size = (n - 1) * stride - 2 * pad + kernel + output_padding
    if size < 1:
        raise ValueError(f"{name}: the output size ({n} - 1) * {stride} - 2 * {pad} + {kernel} "
                         f"+ {output_padding} = {size} is not positive")
    return size


def conv_transpose_forward(x, w, b, *, stride=1, pad=0, output_padding=0):
    """Forward pass of a transposed convolution ("deconvolution", fractionally strided
    convolution), as ``torch.nn.functional.conv_transpose2d``.

    Inputs:
        x: (N, C, H, W) input.
        w: (C, F, HH, WW) filters, stored as ``torch.nn.ConvTranspose2d`` stores them: input
            channels first.
        b: (F,) biases.
        stride: spacing of the copies in the output (>= 1).
        pad: rows/columns cropped off each side of the full result (>= 0).
        output_padding: extra rows/columns added at the bottom and right (0 <= it < stride).
    Returns:
        out: (N, F, H_out, W_out), H_out = (H - 1) * stride - 2 * pad + HH + output_padding
            (W_out likewise). Every input pixel x[n, :, i, j] places a copy of the filters,
            weighted by its values, at (i * stride, j * stride) of a "full" output; copies add up
            where they overlap:
                full[n, f, i*stride + k, j*stride + l] += sum_c x[n, c, i, j] * w[c, f, k, l]
            then out = full[:, :, pad:pad + H_out, pad:pad + W_out] + b[f] (rows past the end
            of full, which output_padding may add, are zeros before the bias).
        cache: what conv_transpose_backward needs.
    Raises ValueError (provided) when the shapes disagree, output_padding >= stride, or the output
    size is not positive.

    It is the backward pass (with respect to its input) of a convolution with the same w,
    stride and pad. Loop over the kernel offsets (k, l) at most.
    """
    name = "conv_transpose_forward"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    _check_ndim(name, "w", w, 4, "(C, F, HH, WW)")
    _check_ndim(name, "b", b, 1, "(F,)")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{name}: x has {x.shape[1]} channels but w (C, F, HH, WW) expects "
                         f"{w.shape[0]}")
    if b.shape[0] != w.shape[1]:
        raise ValueError(f"{name}: w has {w.shape[1]} output channels but b has {b.shape[0]}")
    sizes = [conv_transpose_output_size(n, k, stride=stride, pad=pad,
                                        output_padding=output_padding)
             for n, k in zip(x.shape[2:], w.shape[2:])]
    raise NotImplementedError(
        "conv_transpose_forward: not implemented yet; write it in coursework/segmentation.py")
    return out, cache


def conv_transpose_backward(dout, cache):
    """Backward pass of a transposed convolution.

    Inputs:
        dout: (N, F, H_out, W_out) upstream gradient.
        cache: what conv_transpose_forward returned.
    Returns:
        dx: (N, C, H, W), dx[n, c, i, j] = sum_{f, k, l} dfull[n, f, i*stride + k, j*stride + l]
            * w[c, f, k, l], where dfull is dout put back at rows/columns pad.. of a zero array
            the size of the full result (the cropped border had no effect: its gradient is 0).
            This is a strided convolution of dout.
        dw: (C, F, HH, WW), dw[c, f, k, l] = sum_{n, i, j} x[n, c, i, j]
            * dfull[n, f, i*stride + k, j*stride + l].
        db: (F,), the sum of dout over n, rows and columns.
    """
    raise NotImplementedError(
        "conv_transpose_backward: not implemented yet; write it in coursework/segmentation.py")
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Max pooling that remembers where the maximum was, and max-unpooling (SegNet)
# ---------------------------------------------------------------------------------------------

def max_pool_with_indices(x, *, pool_size=2, stride=2):
    """Max pooling that also returns where each maximum came from, as
    ``torch.nn.functional.max_pool2d(x, pool_size, stride, return_indices=True)``.

    Inputs:
        x: (N, C, H, W).
        pool_size: side of the square window (>= 1); stride: its step (>= 1). The window must
            fit exactly (unit 03's rule: (H - pool_size) a multiple of stride, W likewise).
    Returns:
        out: (N, C, H', W'), H' = (H - pool_size) // stride + 1, the maximum of every window.
        indices: (N, C, H', W') int64, the flat position ``row * W + col`` in its own (H, W)
            plane of the entry each maximum came from. On ties any of the tied positions is
            accepted (PyTorch takes the first in row-major order of the window: smallest row,
            then smallest column); the grader's inputs have no ties.
    Loop over the pool_size**2 window offsets at most.
    """
    name = "max_pool_with_indices"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    pool_size = _as_int(name, "pool_size", pool_size, 1)
    stride = _as_int(name, "stride", stride, 1)
    _check_window(name, "pooling window", x.shape[2:], (pool_size, pool_size), stride, 0)
    raise NotImplementedError(
        "max_pool_with_indices: not implemented yet; write it in coursework/segmentation.py")
    return out, indices


def max_unpool_forward(x, indices, *, output_size):
    """Max-unpooling: put every value back where its maximum came from, as
    ``torch.nn.functional.max_unpool2d``.

    Inputs:
        x: (N, C, H', W') values (the pooled map, or anything of that shape).
        indices: (N, C, H', W') integers from max_pool_with_indices: flat positions
            ``row * W + col`` in an (H, W) plane.
        output_size: (H, W), the size of the plane before pooling.
    Returns:
        out: (N, C, H, W), zeros with out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j];
            values whose indices coincide (overlapping windows sharing a maximum) are summed.
        cache: what max_unpool_backward needs.
    Unlike "bed of nails" unpooling (each value at its window's top-left corner), the value goes
    back to the position of the maximum, keeping the encoder's spatial detail (SegNet).
    """
    name = "max_unpool_forward"
    _check_ndim(name, "x", x, 4, "(N, C, H', W')")
    if tuple(getattr(indices, "shape", ())) != tuple(x.shape):
        raise ValueError(f"{name}: indices must have the shape of x {tuple(x.shape)}, got "
                         f"{tuple(getattr(indices, 'shape', ()))}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got {indices.dtype}")
    H, W = _as_pair(name, "output_size", output_size, 1)
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= H * W):
        raise ValueError(f"{name}: indices must lie in 0..{H * W - 1} for an output of "
                         f"{H}x{W}, got values from {int(indices.min())} to "
                         f"{int(indices.max())}")
    raise NotImplementedError(
        "max_unpool_forward: not implemented yet; write it in coursework/segmentation.py")
    return out, cache


def max_unpool_backward(dout, cache):
    """Backward pass of max-unpooling.

    Inputs:
        dout: (N, C, H, W) upstream gradient.
        cache: what max_unpool_forward returned.
    Returns:
        dx: (N, C, H', W'), dx[n, c, i, j] = dout[n, c].flat[indices[n, c, i, j]] (every value
            went to one place: its gradient is read back from there).
    """
    raise NotImplementedError(
        "max_unpool_backward: not implemented yet; write it in coursework/segmentation.py")
    return dx


# ---------------------------------------------------------------------------------------------
# Dilated (atrous) convolution
# ---------------------------------------------------------------------------------------------

def dilated_conv_forward(x, w, b, *, dilation=1, stride=1, pad=0):
    """Forward pass of a dilated (atrous) convolution, as
    ``torch.nn.functional.conv2d(x, w, b, stride, pad, dilation)``.

    Inputs:
        x: (N, C, H, W); w: (F, C, HH, WW); b: (F,).
        dilation: spacing of the kernel taps (>= 1; 1 is unit 03's convolution). It is as if
            dilation - 1 zeros were inserted between the taps: the effective kernel size is
            dilation * (HH - 1) + 1 (WW likewise).
        stride, pad: as in unit 03.
    Returns:
        out: (N, F, H_out, W_out), H_out = (H + 2*pad - (dilation*(HH - 1) + 1)) // stride + 1,
            out[n, f, i, j] = b[f] + sum_{c, k, l} xpad[n, c, i*stride + k*dilation,
                                                         j*stride + l*dilation] * w[f, c, k, l].
        cache: what dilated_conv_backward needs.
    Raises ValueError (provided) when the effective kernel does not fit the input exactly with
    this stride and pad (unit 03's fit rule). The dilation spaces the *taps*; the stride, as
    always, spaces the *output positions*. Loop over the kernel offsets (k, l) at most.
    """
    name = "dilated_conv_forward"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    _check_ndim(name, "w", w, 4, "(F, C, HH, WW)")
    _check_ndim(name, "b", b, 1, "(F,)")
    dilation = _as_int(name, "dilation", dilation, 1)
    stride = _as_int(name, "stride", stride, 1)
    pad = _as_int(name, "pad", pad, 0)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{name}: x has {x.shape[1]} channels but the filters w have "
                         f"{w.shape[1]}")
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"{name}: there are {w.shape[0]} filters but {b.shape[0]} biases")
    effective = tuple(dilation * (k - 1) + 1 for k in w.shape[2:])
    _check_window(name, f"filter (dilation {dilation}: effective "
                        f"{effective[0]}x{effective[1]})",
                  x.shape[2:], effective, stride, pad)
    raise NotImplementedError(
        "dilated_conv_forward: not implemented yet; write it in coursework/segmentation.py")
    return out, cache


def dilated_conv_backward(dout, cache):
    """Backward pass of a dilated convolution.

    Inputs:
        dout: (N, F, H_out, W_out); cache: what dilated_conv_forward returned.
    Returns:
        dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,): unit 03's formulas with the window's
            taps ``dilation`` apart (dxpad[n, c, i*stride + k*dilation, j*stride + l*dilation]
            += dout[n, f, i, j] * w[f, c, k, l]; then the padding is cropped off).
    """
    raise NotImplementedError(
        "dilated_conv_backward: not implemented yet; write it in coursework/segmentation.py")
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Upsampling by interpolation
# ---------------------------------------------------------------------------------------------

def upsample_nearest(x, *, scale):
    """Nearest-neighbour upsampling by an integer factor ("unpooling by repeating"), as
    ``torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest")``.

    Inputs:
        x: (N, C, H, W); scale: an integer >= 1.
    Returns:
        out: (N, C, H*scale, W*scale), a new array (at scale 1 too, a copy of x), with
            out[n, c, i, j] = x[n, c, i // scale, j // scale].
        cache: what upsample_nearest_backward needs.
    """
    name = "upsample_nearest"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    scale = _as_int(name, "scale", scale, 1)
    raise NotImplementedError(
        "upsample_nearest: not implemented yet; write it in coursework/segmentation.py")
    return out, cache


def upsample_nearest_backward(dout, cache):
    """Backward pass of nearest-neighbour upsampling.

    Inputs:
        dout: (N, C, H*scale, W*scale); cache: what upsample_nearest returned.
    Returns:
        dx: (N, C, H, W), each entry the sum of dout over the scale x scale block it was copied
            to.
    """
    raise NotImplementedError(
        "upsample_nearest_backward: not implemented yet; write it in coursework/segmentation.py")
    return dx


def upsample_bilinear(x, *, size):
    """Bilinear resizing to ``size``, as
    ``torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)``.

    Inputs:
        x: (N, C, H, W); size: (H_out, W_out) (or one int for both), each >= 1.
    Returns:
        out: (N, C, H_out, W_out), a new array (at size (H, W) too, a copy of x). Along each
            axis (rows shown; columns alike), output row i samples the input at the source
            coordinate
                s = max((i + 0.5) * H / H_out - 0.5, 0)
            (pixel *centres* are aligned: align_corners=False), between the rows
            i0 = floor(s) and i1 = min(i0 + 1, H - 1), with weight s - i0 on row i1 and
            1 - (s - i0) on row i0. The two axes are interpolated one after the other.
    """
    name = "upsample_bilinear"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    H_out, W_out = _as_pair(name, "size", size, 1)
    raise NotImplementedError(
        "upsample_bilinear: not implemented yet; write it in coursework/segmentation.py")
    return out


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
    """The confusion matrix of a segmentation.

    Inputs:
        pred, target: integer label maps of the same shape (any number of dimensions) and of
            any integer dtype (uint8 masks with ignore_index 255 included: count in int64, since
            target * K + pred overflows a small dtype), classes 0..K-1 (K = num_classes).
            Pixels whose target equals ``ignore_index`` are skipped.
    Returns:
        (K, K) int64, entry [i, j] the number of (counted) pixels of true class i predicted as j
        (rows: truth, columns: prediction).
    No loops over pixels (``xp.bincount`` of target * K + pred counts every pair at once;
    ``bincount``, imported from the backend, also counts an empty array on CuPy).
    """
    name = "confusion_matrix"
    num_classes = _as_int(name, "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps(name, pred, target, num_classes, ignore_index)
    raise NotImplementedError(
        "confusion_matrix: not implemented yet; write it in coursework/segmentation.py")
    return matrix


def pixel_accuracy(pred, target, *, ignore_index=None):
    """The fraction of (counted) pixels whose prediction equals the target.

    Inputs: pred, target: integer label maps (any integer dtype) of the same shape; pixels
    whose target equals ``ignore_index`` are skipped. Returns a Python float; NaN when no pixel
    is counted.
    """
    name = "pixel_accuracy"
    if tuple(getattr(pred, "shape", ())) != tuple(getattr(target, "shape", ())):
        raise ValueError(f"{name}: pred and target must have the same shape, got "
                         f"{tuple(getattr(pred, 'shape', ()))} and "
                         f"{tuple(getattr(target, 'shape', ()))}")
    _check_label_dtype(name, "pred", pred)
    _check_label_dtype(name, "target", target)
    if ignore_index is not None:
        ignore_index = _as_int(name, "ignore_index", ignore_index, -(2 ** 62))
    raise NotImplementedError(
        "pixel_accuracy: not implemented yet; write it in coursework/segmentation.py")
    return accuracy


def iou_per_class(pred, target, *, num_classes, ignore_index=None):
    """Intersection over union of every class: TP / (TP + FP + FN).

    Inputs: as confusion_matrix.
    Returns:
        (K,) float64; NaN for a class absent from both pred and target (TP + FP + FN = 0: there
        is nothing to score, which is not the same as scoring 0).
    """
    num_classes = _as_int("iou_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("iou_per_class", pred, target, num_classes, ignore_index)
    raise NotImplementedError(
        "iou_per_class: not implemented yet; write it in coursework/segmentation.py")
    return iou


def mean_iou(pred, target, *, num_classes, ignore_index=None):
    """Mean of ``iou_per_class`` over the classes whose IoU is not NaN (a Python float; NaN when
    every class is NaN)."""
    raise NotImplementedError(
        "mean_iou: not implemented yet; write it in coursework/segmentation.py")
    return value


def dice_per_class(pred, target, *, num_classes, ignore_index=None):
    """Dice coefficient (F1 score) of every class: 2 TP / (2 TP + FP + FN).

    Returns (K,) float64, NaN where the IoU is NaN (class absent from both pred and target).
    Dice = 2 IoU / (1 + IoU).
    """
    num_classes = _as_int("dice_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("dice_per_class", pred, target, num_classes, ignore_index)
    raise NotImplementedError(
        "dice_per_class: not implemented yet; write it in coursework/segmentation.py")
    return dice


def precision_recall_per_class(pred, target, *, num_classes, ignore_index=None):
    """Precision and recall of every class.

    Returns:
        precision: (K,) float64, TP / (TP + FP): of the pixels predicted c, the fraction that are
            c. NaN where nothing was predicted c.
        recall: (K,) float64, TP / (TP + FN): of the pixels that are c, the fraction predicted c.
            NaN where no pixel is c. (Not TP / (TP + TN): see the module docstring.)
    """
    num_classes = _as_int("precision_recall_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("precision_recall_per_class", pred, target, num_classes,
                                    ignore_index)
    raise NotImplementedError(
        "precision_recall_per_class: not implemented yet; write it in coursework/segmentation.py")
    return precision, recall


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

def pixel_cross_entropy(logits, target, *, class_weights=None, ignore_index=None):
    """Cross entropy of every pixel, averaged, as
    ``torch.nn.functional.cross_entropy(logits, target, weight=class_weights,
    ignore_index=ignore_index)``.

    Inputs:
        logits: (N, K, H, W) class scores; target: (N, H, W) integer classes 0..K-1 (or
            ignore_index).
        class_weights: (K,) non-negative weights w, or None (all 1).
        ignore_index: a label whose pixels count neither in the loss nor in its denominator.
    Returns:
        loss: a Python float, sum over counted pixels of w[y] * l / sum over counted pixels of w[y],
            where l = -log softmax(logits)[y] of the pixel (the weighted mean, as PyTorch); 0.0
            when no pixel is counted (or their weights sum to 0).
        dlogits: (N, K, H, W), its gradient: w[y] * (softmax - onehot(y)) / sum w[y] on
            counted pixels, 0 on ignored ones.
    Subtract the maximum over classes before exponentiating.
    """
    name = "pixel_cross_entropy"
    ignore_index = _check_logits(name, logits, target, ignore_index)
    class_weights = _check_class_vector(name, "class_weights", class_weights, logits.shape[1])
    raise NotImplementedError(
        "pixel_cross_entropy: not implemented yet; write it in coursework/segmentation.py")
    return loss, dlogits


def focal_loss(logits, target, *, gamma=2.0, alpha=None):
    """Focal loss (Lin et al., 2017), averaged over pixels.

    Inputs:
        logits: (N, K, H, W); target: (N, H, W) integer classes 0..K-1.
        gamma: focusing parameter (>= 0): a pixel already classified well (p_y near 1) is
            down-weighted by (1 - p_y)**gamma.
        alpha: (K,) per-class weights (balanced focal loss), or None (all 1).
    Returns:
        loss: a Python float, the mean over all N*H*W pixels of
                -alpha[y] * (1 - p_y)**gamma * log p_y,
            p_y the softmax probability of the pixel's true class y. With gamma=0 and alpha=None
            it is the cross entropy.
        dlogits: (N, K, H, W), its gradient. With p the softmax and, per pixel,
                g = alpha[y] * ((1 - p_y)**gamma - gamma * (1 - p_y)**(gamma - 1) * p_y * log p_y)
            (the last term taken as 0 where p_y = 1),
                dlogits[n, k, i, j] = g * (p_k - [k == y]) / (N*H*W).
    """
    name = "focal_loss"
    _check_logits(name, logits, target)
    check_not_empty(name, "target", target)
    alpha = _check_class_vector(name, "alpha", alpha, logits.shape[1])
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma >= 0:
        raise ValueError(f"{name}: gamma must be a number >= 0, got {gamma!r}")
    raise NotImplementedError(
        "focal_loss: not implemented yet; write it in coursework/segmentation.py")
    return loss, dlogits


def soft_dice_loss(logits, target, *, smooth=1.0):
    """Soft Dice loss: 1 minus the mean over classes of a differentiable Dice coefficient.

    Inputs:
        logits: (N, K, H, W); target: (N, H, W) integer classes 0..K-1.
        smooth: a constant (> 0) added to numerator and denominator (no division by 0 for a class
            absent from the batch).
    Returns:
        loss: a Python float, 1 - (1/K) * sum_k (2 * I_k + smooth) / (S_k + smooth), with p
            the softmax over classes, t the one-hot target (N, K, H, W), and over the whole batch
            and every pixel: I_k = sum p[:, k] * t[:, k], S_k = sum p[:, k] + sum t[:, k].
        dlogits: (N, K, H, W), its gradient: with
                dp[n, k, i, j] = -(1/K) * (2 t[n, k, i, j] (S_k + smooth) - (2 I_k + smooth))
                                 / (S_k + smooth)**2,
            the softmax backward dlogits = p * (dp - sum over classes of dp * p).
    """
    name = "soft_dice_loss"
    _check_logits(name, logits, target)
    if isinstance(smooth, bool) or not isinstance(smooth, numbers.Real) or not smooth > 0:
        raise ValueError(f"{name}: smooth must be a number > 0, got {smooth!r}")
    raise NotImplementedError(
        "soft_dice_loss: not implemented yet; write it in coursework/segmentation.py")
    return loss, dlogits
