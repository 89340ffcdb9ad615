"""Known mistakes of unit 03, ``conv``: wrong variants with the signature of the function they
imitate. A mistaken backward receives the *reference* forward's cache; only the leading entries
that every reference cache shares are used: (x, w, b, stride, pad) for the convolutions,
(x, pool_size, stride) for max pooling, (x_shape, pool_size, stride) for average pooling and
x_shape for global average pooling.

The variants are written independently of the reference (NumPy only, small inputs).
"""

import numpy as np

# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _windows(x, HH, WW, stride, pad):
    """(N, C, H_out, W_out, HH, WW) view of every receptive field (floor if it does not fit)."""
    view = np.lib.stride_tricks.sliding_window_view(_pad(x, pad), (HH, WW), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def _corr(x, w, b, stride, pad):
    return np.einsum("nchwkl,fckl->nfhw", _windows(x, *w.shape[2:], stride, pad), w) + \
        b[None, :, None, None]


def _conv_grads(dout, x, w, stride, pad, *, flip=False, crop=True, assign=None,
                negative_crop=False):
    """(dx, dw, db) of the cross-correlation; ``flip``: of a true convolution instead.

    ``assign``: col2im writes with = instead of += ("offsets": per kernel offset, as an im2col
    backward loops; "windows": per output position, as a naive backward loops; "terms": per
    example, filter and output position, in the loop order of conv_backward_naive's docstring:
    only the last filter's term of the last window over each input is left).
    ``negative_crop``: dx cropped as dxpad[:, :, pad:-pad, pad:-pad], empty at pad 0."""
    wk = w[:, :, ::-1, ::-1] if flip else w
    N, C, H, W = x.shape
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    win = _windows(x, HH, WW, stride, pad)[:, :, :H_out, :W_out]
    dw = np.einsum("nfhw,nchwkl->fckl", dout, win)
    if flip:
        dw = dw[:, :, ::-1, ::-1]
    dpatch = np.einsum("nfhw,fckl->nchwkl", dout, wk)
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    if assign == "terms":
        for n in range(N):
            for f in range(w.shape[0]):
                for i in range(H_out):
                    for j in range(W_out):
                        top, left = i * stride, j * stride
                        dxpad[n, :, top:top + HH, left:left + WW] = dout[n, f, i, j] * wk[f]
    elif assign == "windows":
        for i in range(H_out):
            for j in range(W_out):
                top, left = i * stride, j * stride
                dxpad[:, :, top:top + HH, left:left + WW] = dpatch[:, :, i, j]
    else:
        for k in range(HH):
            for m in range(WW):
                rows = slice(k, k + stride * H_out, stride)
                cols = slice(m, m + stride * W_out, stride)
                if assign == "offsets":
                    dxpad[:, :, rows, cols] = dpatch[..., k, m]
                else:
                    dxpad[:, :, rows, cols] += dpatch[..., k, m]
    if negative_crop:
        dx = dxpad[:, :, pad:-pad, pad:-pad]
    else:
        dx = dxpad[:, :, pad:pad + H, pad:pad + W] if crop else dxpad
    return dx, dw, dout.sum(axis=(0, 2, 3))


def _window_start_ignores_stride(x, w, b, *, stride=1, pad=0):
    """The right output size, but output (i, j) reads the window at (i, j), not at
    (i*stride, j*stride): the stride-1 result cut to the strided output's size."""
    H_out, W_out = _corr(x, w, b, stride, pad).shape[2:]
    return _corr(x, w, b, 1, pad)[:, :, :H_out, :W_out], None


def _size_without_1(x, w, b, *, stride=1, pad=0):
    """The output size computed without the + 1: the last window position left out."""
    out = _corr(x, w, b, stride, pad)
    return out[:, :, :-1, :-1], None


def _padded_size_without_2(x, w, b, *, stride=1, pad=0):
    """The output size computed from H + pad instead of H + 2 * pad (too small by pad/stride)."""
    out = _corr(x, w, b, stride, pad)
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    H_out, W_out = (H + pad - HH) // stride + 1, (W + pad - WW) // stride + 1
    return out[:, :, :H_out, :W_out], None


def _reshaped_without_transpose(x, w, b, *, stride=1, pad=0, rows_first=False):
    """An im2col product of shape (F, N*H_out*W_out) (or (N*H_out*W_out, F) when
    ``rows_first``) reshaped straight to (N, F, H_out, W_out), without moving F to axis 1."""
    out = _corr(x, w, b, stride, pad)
    if rows_first:
        product = out.transpose(0, 2, 3, 1).reshape(-1, out.shape[1])
    else:
        product = out.transpose(1, 0, 2, 3).reshape(out.shape[1], -1)
    return product.reshape(out.shape), None


def _rows_ordered_otherwise(x, w, b, *, stride=1, pad=0, weights=False):
    """An im2col whose rows run (kernel row, kernel column, channel), multiplied with
    w.reshape(F, -1), whose columns run (channel, kernel row, kernel column): each weight meets
    another pixel of the window (``weights``: the weights reordered so, against rows in the
    order of w). Invisible for one channel, or for a 1x1 kernel."""
    F, C, HH, WW = w.shape
    win = _windows(x, HH, WW, stride, pad)  # (N, C, H_out, W_out, HH, WW)
    N, _, H_out, W_out = win.shape[:4]
    if weights:
        cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * HH * WW, H_out * W_out)
        flat = w.transpose(0, 2, 3, 1).reshape(F, -1)
    else:
        cols = win.transpose(0, 4, 5, 1, 2, 3).reshape(N, HH * WW * C, H_out * W_out)
        flat = w.reshape(F, -1)
    out = np.matmul(flat, cols) + b[None, :, None]
    return out.reshape(N, F, H_out, W_out), None


RESHAPED = ("the product of the filters and the columns is ordered by filter, then example and "
            "position: reshape it to (F, N, H_out, W_out) and transpose to (N, F, H_out, W_out) "
            "(a plain reshape to (N, F, ...) mixes examples and filters)")
RESHAPED_ROWS = ("the product of the columns and the filters is ordered by example and position, "
                 "then filter: reshape it to (N, H_out, W_out, F) and transpose(0, 3, 1, 2) (a "
                 "plain reshape to (N, F, ...) mixes positions and filters)")
ROWS_ORDER = ("the rows of the im2col matrix must follow the order of w.reshape(F, -1): channel "
              "first, then kernel row, then kernel column (index (c, k, l)); rows ordered by "
              "kernel offset and then channel pair each weight with the wrong pixel (one channel "
              "hides it)")
# With pad 1 and stride 1 (the first case), H + pad and a missing + 1 give the same size: one
# hint names both.
OUTPUT_SIZE = ("the output is too small: H_out = (H + 2*pad - HH) // stride + 1, and likewise "
               "W_out: the + 1 counts the first window position, and the padded input has "
               "H + 2*pad rows (pad on each side), not H + pad")


ONE_SIDED_PAD = ("the padding goes on both sides: `pad` zeros above and below and `pad` on the "
                 "left and right (np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))), not "
                 "2 * pad at the bottom and right only")


def _padded_after_only(x, w, b, *, stride=1, pad=0):
    """All 2 * pad rows and columns of padding at the bottom and right."""
    xpad = np.pad(x, ((0, 0), (0, 0), (0, 2 * pad), (0, 2 * pad)))
    return _corr(xpad, w, b, stride, 0), None


def conv_forward_mistakes(fast=False):
    extra = [(RESHAPED, _reshaped_without_transpose),
             (RESHAPED_ROWS, lambda x, w, b, *, stride=1, pad=0:
                 _reshaped_without_transpose(x, w, b, stride=stride, pad=pad, rows_first=True)),
             (ROWS_ORDER, _rows_ordered_otherwise),
             (ROWS_ORDER, lambda x, w, b, *, stride=1, pad=0:
                 _rows_ordered_otherwise(x, w, b, stride=stride, pad=pad, weights=True))]
    return (extra if fast else []) + [
        (OUTPUT_SIZE, _size_without_1),
        (OUTPUT_SIZE, _padded_size_without_2),
        ("the window of output (i, j) starts at row i*stride and column j*stride: multiply the "
         "output position by the stride",
         _window_start_ignores_stride),
        ("this is a true convolution (kernel flipped); deep-learning layers compute the "
         "cross-correlation sum x[i*stride + k, j*stride + l] * w[k, l], without flipping w",
         lambda x, w, b, *, stride=1, pad=0:
             (_corr(x, w[:, :, ::-1, ::-1], b, stride, pad), None)),
        ("the bias b[f] is missing: add it to every output of filter f",
         lambda x, w, b, *, stride=1, pad=0: (_corr(x, w, 0 * b, stride, pad), None)),
        ("the zero padding is missing: pad x with `pad` zeros on all four sides first",
         lambda x, w, b, *, stride=1, pad=0: (_corr(x, w, b, stride, 0), None)),
        ("the stride is ignored: the window must move by `stride` positions",
         lambda x, w, b, *, stride=1, pad=0: (_corr(x, w, b, 1, pad), None)),
        (ONE_SIDED_PAD, _padded_after_only),
    ]


def conv_backward_mistakes():
    def grads(dout, cache, **kw):
        x, w, _, stride, pad = cache[:5]
        return _conv_grads(dout, x, w, stride, pad, **kw)

    def changed(dout, cache, which, f):
        out = list(grads(dout, cache))
        out[which] = f(out[which], cache[0].shape[0], dout)
        return tuple(out)

    return [
        ("these are the gradients of a true convolution (kernel flipped); the layer is a "
         "cross-correlation: dw[f, c, k, l] sums dout * x at offset (k, l), and dx spreads "
         "dout * w[f] back over each window, unflipped",
         lambda dout, cache: grads(dout, cache, flip=True)),
        ("db is the sum of dout over the batch and all output positions, not the mean",
         lambda dout, cache: changed(dout, cache, 2, lambda db, N, d: d.mean(axis=(0, 2, 3)))),
        ("db must be summed over the batch, not divided by N",
         lambda dout, cache: changed(dout, cache, 2, lambda db, N, d: db / N)),
        ("dw must be summed over the batch, not divided by N",
         lambda dout, cache: changed(dout, cache, 1, lambda dw, N, d: dw / N)),
        ("dx still has the padding: crop `pad` rows and columns from each side of the padded "
         "gradient (dx must have the shape of x)",
         lambda dout, cache: grads(dout, cache, crop=False)),
        (COL2IM_ASSIGNED, lambda dout, cache: grads(dout, cache, assign="offsets")),
        (COL2IM_ASSIGNED, lambda dout, cache: grads(dout, cache, assign="windows")),
        (COL2IM_ASSIGNED, lambda dout, cache: grads(dout, cache, assign="terms")),
        ("at pad 0, dxpad[:, :, pad:-pad, pad:-pad] is empty (-0 is 0, so the slice is 0:0): "
         "crop with dxpad[:, :, pad:pad + H, pad:pad + W]",
         lambda dout, cache: grads(dout, cache, negative_crop=True)),
    ]


COL2IM_ASSIGNED = ("windows overlap, so an input receives gradient from every window that "
                   "contains it: add each window's contribution into dx (+=), not assign it (=)")


def output_size_mistakes():
    return [
        ("the padding is missing: the padded size is n + 2*pad",
         lambda n, kernel, *, stride=1, pad=0: (n - kernel) // stride + 1),
        ("the padding goes on both sides: use n + 2*pad, not n + pad",
         lambda n, kernel, *, stride=1, pad=0: (n + pad - kernel) // stride + 1),
        ("add 1: the first position of the window counts too ((n + 2*pad - kernel) // stride + 1)",
         lambda n, kernel, *, stride=1, pad=0: (n + 2 * pad - kernel) // stride),
    ]


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _pool_windows(x, size, stride):
    view = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def _max_pool_grad(dout, x, size, stride, rule):
    """Max-pool gradient by loops over windows, with one rule switched to a mistake."""
    dx = np.zeros_like(x, dtype=np.float64)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + size, left:left + size]
                    k, l = divmod(int(window.argmax()), size)
                    g = dout[n, c, i, j]
                    if rule == "spread":
                        dx[n, c, top:top + size, left:left + size] += g
                    elif rule == "mean":
                        dx[n, c, top:top + size, left:left + size] += g / size ** 2
                    elif rule == "one":
                        dx[n, c, top + k, left + l] += 1.0
                    elif rule == "assign":
                        dx[n, c, top + k, left + l] = g
    return dx


def _max_pool_grad_by_offsets_assigning(dout, x, size, stride):
    """A vectorized backward that assigns (=) per window offset instead of adding (+=)."""
    out = _pool_windows(x, size, stride).max(axis=(4, 5))
    H_out, W_out = out.shape[2:]
    dx = np.zeros_like(x, dtype=np.float64)
    for k in range(size):
        for l in range(size):
            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
            dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] = \
                np.where(part == out, dout, 0.0)
    return dx


ASSIGNED = ("where windows overlap, an input can be the maximum of several windows: add their "
            "gradients (+=) instead of overwriting (=)")


def max_pool_forward_mistakes():
    return [
        ("this is the mean of each window; max pooling keeps its largest value",
         lambda x, *, pool_size=2, stride=2:
             (_pool_windows(x, pool_size, stride).mean(axis=(4, 5)), None)),
        ("the window must move by `stride`, which can differ from pool_size",
         lambda x, *, pool_size=2, stride=2:
             (_pool_windows(x, pool_size, pool_size).max(axis=(4, 5)), None)),
    ]


def max_pool_backward_mistakes():
    def grad(rule):
        return lambda dout, cache: _max_pool_grad(dout, *cache[:3], rule)

    return [
        ("each window's gradient goes only to the input that was its maximum, not to the whole "
         "window", grad("spread")),
        ("each window's gradient goes only to its maximum; spreading dout / pool_size**2 over "
         "the window is average pooling", grad("mean")),
        ("the maximum receives dout[n, c, i, j], not 1: multiply by the upstream gradient",
         grad("one")),
        (ASSIGNED, grad("assign")),
        (ASSIGNED, lambda dout, cache: _max_pool_grad_by_offsets_assigning(dout, *cache[:3])),
    ]


def _avg_pool_grad(dout, x_shape, size, stride, *, divisor, assign=None):
    dx = np.zeros(x_shape)
    N, C, H_out, W_out = dout.shape
    share = dout / divisor
    if assign == "offsets":
        for k in range(size):
            for l in range(size):
                dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] = share
        return dx
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            patch = share[:, :, i, j][:, :, None, None]
            if assign == "windows":
                dx[:, :, top:top + size, left:left + size] = patch
            else:
                dx[:, :, top:top + size, left:left + size] += patch
    return dx


def avg_pool_forward_mistakes():
    return [
        ("this is the sum of each window: divide by the number of values, pool_size**2",
         lambda x, *, pool_size=2, stride=2:
             (_pool_windows(x, pool_size, stride).sum(axis=(4, 5)), None)),
        ("a window holds pool_size**2 values: divide the sum by pool_size**2, not pool_size",
         lambda x, *, pool_size=2, stride=2:
             (_pool_windows(x, pool_size, stride).sum(axis=(4, 5)) / pool_size, None)),
    ]


def avg_pool_backward_mistakes():
    def grad(divisor, assign=None):
        return lambda dout, cache: _avg_pool_grad(dout, *cache[:3], divisor=divisor(cache[1]),
                                                  assign=assign)

    overlap = ("where windows overlap, an input belongs to several windows: add their "
               "gradients (+=) instead of overwriting (=)")
    return [
        ("each input of a window receives dout / pool_size**2: the division is missing",
         grad(lambda size: 1)),
        ("a window holds pool_size**2 values: divide dout by pool_size**2, not pool_size",
         grad(lambda size: size)),
        (overlap, grad(lambda size: size ** 2, "windows")),
        (overlap, grad(lambda size: size ** 2, "offsets")),
    ]


def global_forward_mistakes():
    return [
        ("this is the sum of each feature map: divide by H * W for the mean",
         lambda x: (x.sum(axis=(2, 3)), None)),
        ("the output has shape (N, C): average over axes (2, 3) without keepdims",
         lambda x: (x.mean(axis=(2, 3), keepdims=True), None)),
    ]


def global_backward_mistakes():
    def spread(divisor):
        return lambda dout, cache: np.broadcast_to(
            dout[:, :, None, None] / divisor(*cache), tuple(cache)).copy()

    return [
        ("each of the H * W positions receives dout[n, c] / (H * W): the division is missing",
         spread(lambda N, C, H, W: 1)),
        ("the mean is over the H * W positions of one feature map, not over the batch too: "
         "divide by H * W only",
         spread(lambda N, C, H, W: N * H * W)),
        ("a feature map has H * W positions: divide by H * W, not H",
         spread(lambda N, C, H, W: H)),
    ]


MISTAKES = {
    "conv.conv_output_size": output_size_mistakes(),
    "conv.conv_forward_naive": conv_forward_mistakes(),
    "conv.conv_forward": conv_forward_mistakes(fast=True),
    "conv.conv_backward_naive": conv_backward_mistakes(),
    "conv.conv_backward": conv_backward_mistakes(),
    "conv.max_pool_forward_naive": max_pool_forward_mistakes(),
    "conv.max_pool_forward": max_pool_forward_mistakes(),
    "conv.max_pool_backward_naive": max_pool_backward_mistakes(),
    "conv.max_pool_backward": max_pool_backward_mistakes(),
    "conv.avg_pool_forward": avg_pool_forward_mistakes(),
    "conv.avg_pool_backward": avg_pool_backward_mistakes(),
    "conv.global_avg_pool_forward": global_forward_mistakes(),
    "conv.global_avg_pool_backward": global_backward_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "conv.conv_backward_naive": [
        ("each output position saw one filter, w[f]: dxpad's window gets dout[n, f, i, j] * "
         "w[f], not times the whole w",
         edited("conv.conv_backward_naive",
                ("dxpad[n, :, top:top + HH, left:left + WW] += g * w[f]",
                 "dxpad[n, :, top:top + HH, left:left + WW] += g * w"))),
        ("the forward slid its windows over the padded x: dw[f] gets dout[n, f, i, j] times the "
         "window of xpad, not of x",
         edited("conv.conv_backward_naive",
                ("dw[f] += g * xpad[n, :, top:top + HH, left:left + WW]",
                 "dw[f] += g * x[n, :, top:top + HH, left:left + WW]"))),
    ],
    "conv.conv_forward_naive": [
        ("there are H_out rows of outputs, numbered 0 to H_out - 1: loop over range(H_out); "
         "one more row reads a window past the padded input's edge",
         edited("conv.conv_forward_naive",
                ("for i in range(H_out):\n                top = i * stride\n"
                 "                for j in range(W_out):\n                    left = j * stride\n"
                 "                    window",
                 "for i in range(H_out + 1):\n                top = i * stride\n"
                 "                for j in range(W_out):\n                    left = j * stride\n"
                 "                    window"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- slips right on nice inputs
# The reference with one edit that is right only for square inputs and filters: on the grader's
# non-square ones each gives a wrong answer that had no hint.

for _key, _entries in {
    "conv.conv_forward_naive": [
        ("W_out comes from the width: (W + 2 * pad - WW) // stride + 1 with W = x.shape[3] and "
         "WW = w.shape[3] (H and HH give it only for square inputs and filters)",
         edited("conv.conv_forward_naive",
                ("    W_out = (W + 2 * pad - WW) // stride + 1\n    xpad = xp.pad(x, ((0, 0), "
                 "(0, 0), (pad, pad), (pad, pad)))\n    out",
                 "    W_out = (H + 2 * pad - HH) // stride + 1\n    xpad = xp.pad(x, ((0, 0), "
                 "(0, 0), (pad, pad), (pad, pad)))\n    out"))),
    ],
    "conv.conv_forward": [
        ("W_out comes from the width: (W + 2 * pad - WW) // stride + 1 with W = x.shape[3] and "
         "WW = w.shape[3] (H and HH give it only for square inputs and filters)",
         edited("conv.conv_forward",
                ("    W_out = (W + 2 * pad - WW) // stride + 1\n    xpad = xp.pad(x, ((0, 0), "
                 "(0, 0), (pad, pad), (pad, pad))) if pad else x",
                 "    W_out = (H + 2 * pad - HH) // stride + 1\n    xpad = xp.pad(x, ((0, 0), "
                 "(0, 0), (pad, pad), (pad, pad))) if pad else x"))),
    ],
    "conv.max_pool_forward_naive": [
        ("the windows start stride apart: top = i * stride, left = j * stride (i * pool_size "
         "is right only when stride == pool_size; with overlapping windows it runs past the "
         "edge of x and takes the max of an empty window)",
         edited("conv.max_pool_forward_naive",
                ("                    top, left = i * stride, j * stride\n"
                 "                    out[n, c, i, j]",
                 "                    top, left = i * pool_size, j * pool_size\n"
                 "                    out[n, c, i, j]"))),
    ],
    "conv.max_pool_forward": [
        ("the reshape to (N, C, H // pool_size, pool_size, W // pool_size, pool_size) pools only "
         "windows that tile x (stride == pool_size, sizes divisible by it): take the maximum "
         "over the pool_size**2 strided slices x[:, :, k:k + stride * H_out:stride, "
         "l:l + stride * W_out:stride] instead",
         edited("conv.max_pool_forward",
                ("    out = None\n    for k in range(pool_size):\n"
                 "        for l in range(pool_size):\n"
                 "            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:"
                 "stride]\n            out = part.copy() if out is None else xp.maximum(out, "
                 "part)",
                 "    N, C, H, W = x.shape\n    out = x.reshape(N, C, H // pool_size, pool_size, "
                 "W // pool_size, pool_size).max(axis=(3, 5))"))),
    ],
    "conv.global_avg_pool_backward": [
        ("each of the H * W inputs of a channel gets dout / (H * W), H rows times W columns "
         "(H * H is right only for square maps)",
         edited("conv.global_avg_pool_backward",
                ("dout[:, :, None, None] / (H * W)", "dout[:, :, None, None] / (H * H)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries
