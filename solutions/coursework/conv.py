"""Unit 03: convolution and pooling layers, first with loops, then fast.

Conventions used by every function here:

- Images are ``x`` of shape (N, C, H, W): N examples, C channels, H rows, W columns.
- A convolution layer has F filters ``w`` of shape (F, C, HH, WW) and one bias per filter ``b`` of
  shape (F,). Kernels may be non-square (HH != WW) and inputs too (H != W).
- "Convolution" means **cross-correlation**, as in every deep-learning library (PyTorch's
  ``conv2d``, TensorFlow, JAX): the kernel is *not* flipped,
      out[n, f, i, j] = b[f] + sum_{c, k, l} xpad[n, c, i*stride + k, j*stride + l] * w[f, c, k, l]
  where ``xpad`` is ``x`` with ``pad`` rows/columns of zeros added on every side.
- Output size along one axis of size n, for a window of size k:  (n + 2*pad - k) / stride + 1.
  The window must fit exactly: when (n + 2*pad - k) is not a multiple of the stride (a 3x3 filter
  with stride 3 on a 7x7 input), or k > n + 2*pad, the layer raises ValueError.
- Pooling has no padding and the same fit rule; windows may overlap (3x3 windows at stride 2).
- Layer contract: ``*_forward(inputs, *, hyperparameters) -> (out, cache)`` and
  ``*_backward(dout, cache) -> gradients`` in the order of the forward's array inputs. The cache is
  whatever your backward needs; nobody else looks inside it.
- Inputs are never modified in place. Code works for NumPy and CuPy arrays alike
  (``xp = xp_of(x)``).
- A fast function may loop (a plain ``for`` or ``while``) over the offsets inside the window and
  over nothing that grows with the data: not over examples, channels, filters or output
  positions, not even in blocks. The grader counts the lines of your code that a call runs for
  2, 11, 20, 130 and 260 examples (channels, filters, output rows, ...): a count that grows with
  them is such a loop.
  ``map``, ``np.vectorize``, ``np.apply_along_axis`` and the like call a function once per
  element where the grader cannot count it, so fast functions may not use them over the data;
  over a fixed few things they are fine: a tuple or list written out in the call, a
  comprehension over the kernel offsets (``functools.reduce(np.maximum, (... for k in
  range(pool_size) for l in range(pool_size)))``, counted as the loop it is), or names unpacked
  (``N, C, H, W = map(int, x.shape)``).
"""

from .backend import xp_of
from .checks import check_array, check_int, check_ndim


# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------

def _fits(size, kernel, stride, pad):
    return kernel <= size + 2 * pad and (size + 2 * pad - kernel) % stride == 0


def _check_window(name, what, size_hw, kernel_hw, stride, pad):
    """Raise ValueError when a (kh, kw) window with this stride and pad does not fit (h, w)."""
    (h, w), (kh, kw) = size_hw, kernel_hw
    if _fits(h, kh, stride, pad) and _fits(w, kw, stride, pad):
        return
    why = []
    for axis, n, k in (("rows", h, kh), ("columns", w, kw)):
        if k > n + 2 * pad:
            why.append(f"{axis}: the window ({k}) is larger than the padded input ({n + 2 * pad})")
        elif (n + 2 * pad - k) % stride:
            why.append(f"{axis}: {n} + 2*{pad} - {k} = {n + 2 * pad - k} is not a multiple of "
                       f"the stride {stride}")
    raise ValueError(f"{name}: a {kh}x{kw} {what} with stride {stride} and pad {pad} does not fit "
                     f"a {h}x{w} input ({'; '.join(why)})")


def _check_conv(name, x, w, b, stride, pad):
    stride = check_int(name, "stride", stride, 1)
    pad = check_int(name, "pad", pad, 0)
    for what, value in (("x", x), ("w", w), ("b", b)):
        check_array(name, what, value)
    if x.ndim != 4 or w.ndim != 4 or b.ndim != 1:
        raise ValueError(f"{name}: expected x (N, C, H, W), w (F, C, HH, WW) and b (F,), got "
                         f"x{tuple(x.shape)}, w{tuple(w.shape)}, b{tuple(b.shape)}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{name}: x has {x.shape[1]} channels but the filters w have "
                         f"{w.shape[1]}")
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"{name}: there are {w.shape[0]} filters but {b.shape[0]} biases")
    _check_window(name, "filter", x.shape[2:], w.shape[2:], stride, pad)
    return stride, pad


def _check_pool(name, x, pool_size, stride):
    pool_size = check_int(name, "pool_size", pool_size, 1)
    stride = check_int(name, "stride", stride, 1)
    check_array(name, "x", x)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected x of shape (N, C, H, W), got {tuple(x.shape)}")
    _check_window(name, "pooling window", x.shape[2:], (pool_size, pool_size), stride, 0)
    return pool_size, stride


# ---------------------------------------------------------------------------------------------
# Output size
# ---------------------------------------------------------------------------------------------

def conv_output_size(n, kernel, *, stride=1, pad=0):
    """Number of positions a window of size ``kernel`` takes along an axis of size ``n``.

    Inputs:
        n: input size along the axis (>= 1).
        kernel: window (filter or pooling) size along the axis (>= 1).
        stride: step between two positions of the window (>= 1).
        pad: zeros added at each end of the axis (>= 0).
    Returns:
        (n + 2*pad - kernel) // stride + 1, an int.
    Raises:
        ValueError when the window does not fit exactly: when kernel > n + 2*pad, or when
        (n + 2*pad - kernel) is not a multiple of the stride (a 3-wide filter with stride 3 on a
        7-wide input: (7 - 3) / 3 + 1 = 2.33). The message names n, kernel, stride and pad, e.g.
        "a filter of size 3 with stride 3 and pad 0 does not fit an input of size 7".
    """
    name = "conv_output_size"
    n = check_int(name, "n", n, 1)
    kernel = check_int(name, "kernel", kernel, 1)
    stride = check_int(name, "stride", stride, 1)
    pad = check_int(name, "pad", pad, 0)
    # BEGIN SOLUTION
    span = n + 2 * pad - kernel  # how far the window can travel
    if span < 0:
        raise ValueError(f"{name}: a filter of size {kernel} with stride {stride} and pad {pad} "
                         f"does not fit an input of size {n} (larger than {n} + 2*{pad})")
    if span % stride:
        raise ValueError(f"{name}: a filter of size {kernel} with stride {stride} and pad {pad} "
                         f"does not fit an input of size {n}: ({n} + 2*{pad} - {kernel}) / "
                         f"{stride} + 1 = {span / stride + 1:.3g} is not a whole number")
    size = span // stride + 1
    # END SOLUTION
    return size


# ---------------------------------------------------------------------------------------------
# Convolution, with loops
# ---------------------------------------------------------------------------------------------

def conv_forward_naive(x, w, b, *, stride=1, pad=0):
    """Forward pass of a convolution layer (cross-correlation), with explicit loops.

    Inputs:
        x: (N, C, H, W) input images.
        w: (F, C, HH, WW) filters.
        b: (F,) biases.
        stride: step of the filter in both directions (>= 1).
        pad: zeros added on each of the four sides of every image (>= 0).
    Returns:
        out: (N, F, H_out, W_out) with H_out = (H + 2*pad - HH) // stride + 1 (W_out likewise),
            out[n, f, i, j] = b[f] + sum over c, k, l of
                              xpad[n, c, i*stride + k, j*stride + l] * w[f, c, k, l].
        cache: what conv_backward_naive needs (for instance (x, w, b, stride, pad)).
    Raises ValueError (already written for you) when the shapes disagree or the filter does not fit.

    Loop over examples, filters and output positions; the sum over (c, k, l) may be one
    ``(window * w[f]).sum()``. Pad with ``xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))``.
    """
    stride, pad = _check_conv("conv_forward_naive", x, w, b, stride, pad)
    # BEGIN SOLUTION
    xp = xp_of(x, w, b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = xp.zeros((N, F, H_out, W_out), dtype=xp.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    window = xpad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = (window * w[f]).sum() + b[f]
    cache = (x, w, b, stride, pad)
    # END SOLUTION
    return out, cache


def conv_backward_naive(dout, cache):
    """Backward pass of a convolution layer, with explicit loops.

    Inputs:
        dout: (N, F, H_out, W_out) upstream gradient dL/dout.
        cache: what conv_forward_naive returned.
    Returns:
        dx: (N, C, H, W) gradient with respect to x (the padding's gradient is cropped off).
        dw: (F, C, HH, WW) gradient with respect to w.
        db: (F,) gradient with respect to b.
    Every output position (n, f, i, j) saw one window of xpad and the whole filter w[f], so
        db[f] += dout[n, f, i, j]
        dw[f] += dout[n, f, i, j] * window
        dxpad[n, :, window position] += dout[n, f, i, j] * w[f]
    summed over all n, i, j (not averaged); then dx = dxpad without its pad rows and columns.
    """
    check_ndim("conv_backward_naive", "dout", dout, 4, "(N, F, H_out, W_out)")
    # BEGIN SOLUTION
    x, w, b, stride, pad = cache
    xp = xp_of(dout, x, w)
    N, F, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = xp.zeros_like(xpad)
    dw = xp.zeros_like(w)
    db = xp.zeros_like(b)
    for n in range(N):
        for f in range(F):
            db[f] += dout[n, f].sum()
            for i in range(H_out):
                top = i * stride
                for j in range(W_out):
                    left = j * stride
                    g = dout[n, f, i, j]
                    dw[f] += g * xpad[n, :, top:top + HH, left:left + WW]
                    dxpad[n, :, top:top + HH, left:left + WW] += g * w[f]
    dx = dxpad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    # END SOLUTION
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Convolution, fast
# ---------------------------------------------------------------------------------------------

def conv_forward(x, w, b, *, stride=1, pad=0):
    """Fast forward pass of a convolution layer: same inputs, outputs and formula as
    ``conv_forward_naive``, computed with one matrix product.

    Returns (out: (N, F, H_out, W_out), cache for conv_backward).

    The usual way is im2col: gather every receptive field of xpad into a matrix ``cols`` whose
    rows are indexed by (c, k, l) and whose columns are the output positions, so that the layer is
    one product ``w.reshape(F, C*HH*WW) @ cols`` (plus b). The gathering may loop over the HH*WW
    kernel offsets (k, l), copying the strided slice ``xpad[:, :, k::stride, l::stride]`` of every
    example at once, or use a strided view of xpad; it must not loop over examples, filters or
    output positions. The grader times a large layer (N=128, C=3, 32x32, F=64, 3x3) that loops
    over examples and output positions cannot finish in time, and a wide one (N=4096, C=1, 3x3,
    F=4096, 3x3: one output position) that loops over examples and filters cannot.
    """
    stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
    # BEGIN SOLUTION
    xp = xp_of(x, w, b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    # im2col: cols[n, (c, k, l), (i, j)] = xpad[n, c, i*stride + k, j*stride + l], filled by
    # HH*WW strided copies, each of the whole batch.
    cols = xp.empty((N, C, HH, WW, H_out, W_out), dtype=x.dtype)
    for k in range(HH):
        for l in range(WW):
            cols[:, :, k, l] = xpad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
    cols = cols.reshape(N, C * HH * WW, H_out * W_out)  # (N, K, P)
    # One batched product (F, K) @ (N, K, P) -> (N, F, P): already in (N, F, H_out, W_out) order,
    # so no transpose copy is needed afterwards.
    out = xp.matmul(w.reshape(F, -1), cols)
    out += b.reshape(1, F, 1)
    out = out.reshape(N, F, H_out, W_out)
    cache = (x, w, b, stride, pad, cols)
    # END SOLUTION
    return out, cache


def conv_backward(dout, cache):
    """Fast backward pass of a convolution layer: same inputs, outputs and formulas as
    ``conv_backward_naive``. Returns (dx, dw, db).

    With the im2col matrix of the forward pass, dw and the gradient of ``cols`` are matrix
    products; col2im then adds each column of d(cols) back into the window it came from (windows
    overlap, so values add up: ``+=`` over the HH*WW kernel offsets, or ``xp.add.at``), and the
    padding is cropped off.
    """
    check_ndim("conv_backward", "dout", dout, 4, "(N, F, H_out, W_out)")
    # BEGIN SOLUTION
    x, w, b, stride, pad, cols = cache
    xp = xp_of(dout, x, w)
    N, F = dout.shape[:2]
    dout3 = dout.reshape(N, F, -1)  # (N, F, P)
    db = dout3.sum(axis=(0, 2))
    # dw = sum over n of dout[n] @ cols[n]^T. A batched product with the transposed view of cols
    # (BLAS reads it transposed: no copy of the large matrix), then the sum over the batch.
    dw = xp.matmul(dout3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = xp.matmul(w.reshape(F, -1).T, dout3)  # (N, K, P)
    # col2im, the adjoint of im2col: add every column back into the window it came from.
    # Windows overlap, so accumulate with +=, never assign.
    _, C, H, W = x.shape
    _, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    dcols = dcols.reshape(N, C, HH, WW, H_out, W_out)
    dxpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for k in range(HH):
        for l in range(WW):
            rows = slice(k, k + stride * H_out, stride)
            columns = slice(l, l + stride * W_out, stride)
            dxpad[:, :, rows, columns] += dcols[:, :, k, l]
    dx = dxpad[:, :, pad:pad + H, pad:pad + W]
    # END SOLUTION
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

def max_pool_forward_naive(x, *, pool_size=2, stride=2):
    """Forward pass of max pooling, with explicit loops.

    Inputs:
        x: (N, C, H, W).
        pool_size: height and width of the square window.
        stride: step between windows; windows overlap when stride < pool_size (3x3, stride 2).
    Returns:
        out: (N, C, H_out, W_out), H_out = (H - pool_size) // stride + 1 (W_out likewise),
            out[n, c, i, j] = max of x[n, c, i*stride : i*stride + pool_size,
                                              j*stride : j*stride + pool_size].
        cache: what max_pool_backward_naive needs.
    Raises ValueError (already written for you) when the window does not fit exactly.
    """
    pool_size, stride = _check_pool("max_pool_forward_naive", x, pool_size, stride)
    # BEGIN SOLUTION
    xp = xp_of(x)
    N, C, H, W = x.shape
    H_out = (H - pool_size) // stride + 1
    W_out = (W - pool_size) // stride + 1
    out = xp.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = x[n, c, top:top + pool_size, left:left + pool_size].max()
    cache = (x, pool_size, stride)
    # END SOLUTION
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling, with explicit loops.

    Inputs:
        dout: (N, C, H_out, W_out) upstream gradient.
        cache: what max_pool_forward_naive returned.
    Returns:
        dx: (N, C, H, W). Each window passes its dout[n, c, i, j] to the one input that was its
        maximum, and nothing to the others. Where windows overlap, an input that is the maximum
        of several windows receives the sum of their gradients. When a window holds several
        equal maxima (ReLU outputs are often all 0), give its gradient to one of them (any one)
        or split it among them, but pass it on once in all: a mask ``window == max`` marks every
        tied maximum and would pass it on several times. The grader checks windows with ties.
    """
    check_ndim("max_pool_backward_naive", "dout", dout, 4, "(N, C, H_out, W_out)")
    # BEGIN SOLUTION
    x, pool_size, stride = cache
    xp = xp_of(dout, x)
    N, C, H_out, W_out = dout.shape
    dx = xp.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + pool_size, left:left + pool_size]
                    k, l = divmod(int(window.argmax()), pool_size)
                    dx[n, c, top + k, left + l] += dout[n, c, i, j]
    # END SOLUTION
    return dx


def max_pool_forward(x, *, pool_size=2, stride=2):
    """Fast forward pass of max pooling: same inputs, outputs and formula as
    ``max_pool_forward_naive``, without loops over examples, channels or output positions.

    Returns (out: (N, C, H_out, W_out), cache for max_pool_backward).

    Looping over the pool_size**2 offsets inside the window is fine: the strided slice
    ``x[:, :, k::stride, l::stride]`` (cut to H_out x W_out) holds offset (k, l) of every window
    at once; keep the running maximum (and where it came from, for the backward pass).
    """
    pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
    # BEGIN SOLUTION
    xp = xp_of(x)
    H_out = (x.shape[2] - pool_size) // stride + 1
    W_out = (x.shape[3] - pool_size) // stride + 1
    out = None
    for k in range(pool_size):
        for l in range(pool_size):
            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
            out = part.copy() if out is None else xp.maximum(out, part)
    cache = (x, pool_size, stride, out)
    # END SOLUTION
    return out, cache


def max_pool_backward(dout, cache):
    """Fast backward pass of max pooling: same inputs, outputs and rule as
    ``max_pool_backward_naive`` (gradients of overlapping windows add up; a window with tied
    maxima passes its gradient on once in all). Returns dx (N, C, H, W).
    """
    check_ndim("max_pool_backward", "dout", dout, 4, "(N, C, H_out, W_out)")
    # BEGIN SOLUTION
    x, pool_size, stride, out = cache
    xp = xp_of(dout, x)
    H_out, W_out = out.shape[2:]
    # When the windows tile x exactly (stride == pool_size) every input gets exactly one value
    # and can be assigned; otherwise windows overlap (gradients add up) or leave gaps (zeros).
    tiles = stride == pool_size
    dx = xp.empty_like(x) if tiles else xp.zeros_like(x)
    taken = None
    for k in range(pool_size):
        for l in range(pool_size):
            rows = slice(k, k + stride * H_out, stride)
            columns = slice(l, l + stride * W_out, stride)
            # Route each window's gradient to the first offset (row-major) that holds its
            # maximum; ``taken`` keeps a window with tied maxima from passing it on twice.
            here = x[:, :, rows, columns] == out
            if taken is None:
                taken = here
            else:
                here &= ~taken
                taken |= here
            if tiles:
                dx[:, :, rows, columns] = dout * here
            else:
                dx[:, :, rows, columns] += dout * here
    # END SOLUTION
    return dx


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------

def avg_pool_forward(x, *, pool_size=2, stride=2):
    """Average pooling (fast: no loops over examples, channels or output positions).

    Inputs and window rule as ``max_pool_forward``. Returns (out, cache) with
        out[n, c, i, j] = mean of x[n, c, i*stride : i*stride + pool_size,
                                          j*stride : j*stride + pool_size]
    (a mean over pool_size**2 values).
    """
    pool_size, stride = _check_pool("avg_pool_forward", x, pool_size, stride)
    # BEGIN SOLUTION
    H_out = (x.shape[2] - pool_size) // stride + 1
    W_out = (x.shape[3] - pool_size) // stride + 1
    total = 0
    for k in range(pool_size):
        for l in range(pool_size):
            total = total + x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
    out = total / (pool_size * pool_size)
    cache = (x.shape, pool_size, stride)
    # END SOLUTION
    return out, cache


def avg_pool_backward(dout, cache):
    """Backward pass of average pooling. Returns dx (N, C, H, W).

    Every input of a window receives dout[n, c, i, j] / pool_size**2; where windows overlap the
    contributions add up.
    """
    check_ndim("avg_pool_backward", "dout", dout, 4, "(N, C, H_out, W_out)")
    # BEGIN SOLUTION
    x_shape, pool_size, stride = cache
    xp = xp_of(dout)
    H_out, W_out = dout.shape[2:]
    dx = xp.zeros(x_shape, dtype=dout.dtype)
    share = dout / (pool_size * pool_size)
    for k in range(pool_size):
        for l in range(pool_size):
            dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] += share
    # END SOLUTION
    return dx


def global_avg_pool_forward(x):
    """Global average pooling: the mean of every feature map.

    Inputs:
        x: (N, C, H, W).
    Returns:
        out: (N, C), out[n, c] = mean over all H*W positions of x[n, c].
        cache: what global_avg_pool_backward needs.
    """
    check_ndim("global_avg_pool_forward", "x", x, 4, "(N, C, H, W)")
    # BEGIN SOLUTION
    out = x.mean(axis=(2, 3))
    cache = x.shape
    # END SOLUTION
    return out, cache


def global_avg_pool_backward(dout, cache):
    """Backward pass of global average pooling.

    Inputs:
        dout: (N, C) upstream gradient.
    Returns:
        dx: (N, C, H, W) with dx[n, c, h, w] = dout[n, c] / (H * W) at every position.
    """
    check_ndim("global_avg_pool_backward", "dout", dout, 2, "(N, C)")
    # BEGIN SOLUTION
    N, C, H, W = cache
    xp = xp_of(dout)
    dx = xp.broadcast_to(dout[:, :, None, None] / (H * W), (N, C, H, W)).copy()
    # END SOLUTION
    return dx
