"""Known mistakes of unit 07, ``segmentation``: wrong variants with the signature of the function
they imitate. A mistaken backward receives the *reference* forward's cache, of which it uses:
(x, w, b, stride, pad, ...) for the transposed convolution, (x, w, b, dilation, stride, pad, ...)
for the dilated one, (indices, x_shape) for max-unpooling and (scale, x_shape) for nearest
upsampling.

The variants are written independently of the reference (NumPy only, small inputs). Each is
tested to be recognised (tests/test_hints.py).
"""

import numpy as np

# the hint of every metric and loss that ignores no pixel when ignore_index is 0
IGNORE_ZERO = ("ignore_index=0 is not applied: pixels whose target is 0 still count (as when "
               "`if ignore_index:` tests it, false for 0, or when only labels outside [0, C) "
               "are dropped): drop target == ignore_index whenever `ignore_index is not None`")

# ---------------------------------------------------------------------------------------------
# Transposed convolution
# ---------------------------------------------------------------------------------------------


def _tconv_full(x, w, stride, *, flip=False, size=None):
    """The uncropped transposed convolution (no bias), at least ``size`` (rows, cols) large."""
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    wk = w[:, :, ::-1, ::-1] if flip else w
    rows, cols = (H - 1) * stride + HH, (W - 1) * stride + WW
    if size is not None:
        rows, cols = max(rows, size[0]), max(cols, size[1])
    full = np.zeros((N, F, rows, cols))
    for i in range(H):
        for j in range(W):
            full[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += np.einsum(
                "nc,cfkl->nfkl", x[:, :, i, j], wk)
    return full


def _tconv(x, w, b, stride, pad, output_padding, *, flip=False, crop="both", short=0):
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    H_out = (H - 1 - short) * stride - 2 * pad + HH + output_padding
    W_out = (W - 1 - short) * stride - 2 * pad + WW + output_padding
    full = _tconv_full(x, w, stride, flip=flip, size=(pad + H_out, pad + W_out))
    if crop == "both":
        out = full[:, :, pad:pad + H_out, pad:pad + W_out]
    elif crop == "top-left":  # the output's size, taken from the corner
        out = full[:, :, :H_out, :W_out]
    else:  # not cropped
        out = full[:, :, :(H - 1) * stride + HH + output_padding,
                   :(W - 1) * stride + WW + output_padding]
    return out + b[None, :, None, None], None


def _tconv_grads(dout, x, w, stride, pad, *, offset=True, flip=False, db_mean=False,
                 dw_order="cf"):
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    rows = max((H - 1) * stride + HH, pad + H_out)
    cols = max((W - 1) * stride + WW, pad + W_out)
    dfull = np.zeros((N, F, rows, cols))
    start = pad if offset else 0
    dfull[:, :, start:start + H_out, start:start + W_out] = dout
    wk = w[:, :, ::-1, ::-1] if flip else w
    dx = np.zeros(x.shape)
    dw = np.zeros((F, C, HH, WW)) if dw_order == "fc" else np.zeros(w.shape)
    for i in range(H):
        for j in range(W):
            patch = dfull[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dx[:, :, i, j] = np.einsum("nfkl,cfkl->nc", patch, wk)
            if dw_order == "fc":
                dw += np.einsum("nc,nfkl->fckl", x[:, :, i, j], patch)
            else:
                dw += np.einsum("nc,nfkl->cfkl", x[:, :, i, j], patch)
    db = dout.sum(axis=(0, 2, 3)) / (N if db_mean else 1)
    return dx, dw.reshape(w.shape), db


def conv_transpose_forward_mistakes():
    def make(**options):
        def forward(x, w, b, *, stride=1, pad=0, output_padding=0):
            return _tconv(x, w, b, stride, pad, output_padding, **options)
        return forward

    def ignoring_output_padding(x, w, b, *, stride=1, pad=0, output_padding=0):
        return _tconv(x, w, b, stride, pad, 0)

    def full_too_small(x, w, b, *, stride=1, pad=0, output_padding=0):
        H_out = (x.shape[2] - 1) * stride - 2 * pad + w.shape[2] + output_padding
        W_out = (x.shape[3] - 1) * stride - 2 * pad + w.shape[3] + output_padding
        full = _tconv_full(x, w, stride)  # (H - 1) * stride + HH rows, no more
        return full[:, :, pad:pad + H_out, pad:pad + W_out] + b[None, :, None, None], None

    return [
        ("the full result is (H - 1) * stride + HH rows, which is too few when output_padding > "
         "pad: the output then reaches past every copy; make the full array at least pad + "
         "H_out rows (and columns) large, those extra rows and columns hold only the bias",
         full_too_small),
        ("output size off by one input row: the last input row's copy starts at row "
         "(H - 1) * stride, not H * stride, so H_out = (H - 1) * stride - 2 * pad + HH + "
         "output_padding", make(short=-1)),
        ("padding not cropped: the full result of the copies is (H - 1) * stride + HH large; "
         "crop pad rows and columns off every side",
         make(crop="none")),
        ("the output is taken from the top-left corner of the full result (full[:, :, :H_out, "
         ":W_out]): pad crops pad rows and columns off every side, so the output starts at row "
         "and column pad: full[:, :, pad:pad + H_out, pad:pad + W_out]", make(crop="top-left")),
        # a crop that ends at H_out (full[:, :, pad:H_out]) gives the same output whenever
        # pad == output_padding, as in the first public case: the hint names both
        ("output_padding rows and columns missing at the bottom and right: output_padding "
         "ignored (it adds them there), or the crop ends at row H_out instead of pad + H_out: "
         "out = full[:, :, pad:pad + H_out, pad:pad + W_out], H_out rows from row pad on",
         ignoring_output_padding),
        ("the filter is flipped: a transposed convolution places w[c, f] itself (not rotated) "
         "at every input position", make(flip=True)),
    ]


def conv_transpose_backward_mistakes():
    def make(**options):
        def backward(dout, cache):
            x, w, b, stride, pad = cache[:5]
            return _tconv_grads(dout, x, w, stride, pad, **options)
        return backward

    return [
        ("dout is put at the top-left of the full gradient: the output was cropped from row/"
         "column pad of the full result, so dout goes back there", make(offset=False)),
        ("dx uses the flipped filter: the forward placed w itself, so dx[n, c, i, j] = "
         "sum dfull[n, f, i*stride + k, j*stride + l] * w[c, f, k, l], unflipped",
         make(flip=True)),
        ("db is averaged over the batch: sum dout over n, rows and columns",
         make(db_mean=True)),
        ("dw computed in (F, C, HH, WW) order and reshaped: w is stored (C, F, HH, WW), so "
         "dw[c, f, k, l] = sum x[n, c, i, j] * dfull[n, f, i*stride + k, j*stride + l]",
         make(dw_order="fc")),
    ]


# ---------------------------------------------------------------------------------------------
# Max pooling with indices, max-unpooling
# ---------------------------------------------------------------------------------------------

def _pool_argmax(x, pool_size, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    view = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))
    view = view[:, :, ::stride, ::stride][:, :, :Ho, :Wo].reshape(N, C, Ho, Wo, -1)
    best = view.argmax(axis=-1)
    out = np.take_along_axis(view, best[..., None], axis=-1)[..., 0]
    rows = np.arange(Ho)[:, None] * stride + best // pool_size
    cols = np.arange(Wo)[None, :] * stride + best % pool_size
    return out, best, rows, cols


def max_pool_with_indices_mistakes():
    def in_window(x, *, pool_size=2, stride=2):
        out, best, _, _ = _pool_argmax(x, pool_size, stride)
        return out, best.astype(np.int64)

    def column_major(x, *, pool_size=2, stride=2):
        out, _, rows, cols = _pool_argmax(x, pool_size, stride)
        return out, (cols * x.shape[2] + rows).astype(np.int64)

    def corner(x, *, pool_size=2, stride=2):
        out, best, _, _ = _pool_argmax(x, pool_size, stride)
        Ho, Wo = best.shape[2:]
        rows = np.arange(Ho)[:, None] * stride + 0 * best
        cols = np.arange(Wo)[None, :] * stride + 0 * best
        return out, (rows * x.shape[3] + cols).astype(np.int64)

    def placed(*, step="stride", window_order="row"):
        def pool(x, *, pool_size=2, stride=2):
            out, best, _, _ = _pool_argmax(x, pool_size, stride)
            Ho, Wo = best.shape[2:]
            k, m = ((best // pool_size, best % pool_size) if window_order == "row"
                    else (best % pool_size, best // pool_size))
            s = {"stride": stride, "pool_size": pool_size, "one": 1}[step]
            rows = np.arange(Ho)[:, None] * s + k
            cols = np.arange(Wo)[None, :] * s + m
            return out, (rows * x.shape[3] + cols).astype(np.int64)
        return pool

    return [
        ("window (i, j) starts at row i * stride and column j * stride: offset the position "
         "inside it by the stride, not by pool_size (they differ for overlapping windows)",
         placed(step="pool_size")),
        ("window (i, j) starts at row i * stride and column j * stride, not at row i and column "
         "j: multiply the window's position by the stride before adding the offset inside it",
         placed(step="one")),
        ("the window's entries are numbered row-major, k * pool_size + m for row offset k and "
         "column offset m: the row offset is best // pool_size and the column offset "
         "best % pool_size (not the other way round)", placed(window_order="column")),
        ("the index is the position inside the window (0..pool_size**2 - 1): convert it to the "
         "plane's row * W + col (row = i * stride + k // pool_size ...)", in_window),
        ("the flat index is col * H + row (column-major): it is row * W + col, row-major as "
         "PyTorch", column_major),
        ("the index is the window's top-left corner, not the position of its maximum",
         corner),
    ]


def _unpool(x, indices, H, W, *, assign=False, column_major=False):
    N, C = x.shape[:2]
    flat_idx = indices.reshape(N, C, -1)
    if column_major:
        flat_idx = (flat_idx % H) * W + flat_idx // H
    out = np.zeros((N, C, H * W))
    n = np.arange(N)[:, None, None]
    c = np.arange(C)[None, :, None]
    if assign:
        out[n, c, flat_idx] = x.reshape(N, C, -1)
    else:
        np.add.at(out, (n, c, flat_idx), x.reshape(N, C, -1))
    return out.reshape(N, C, H, W)


def max_unpool_forward_mistakes():
    def bed_of_nails(x, indices, *, output_size):
        H, W = output_size
        s = H // x.shape[2]
        out = np.zeros(x.shape[:2] + (H, W))
        out[:, :, ::s, ::s][:, :, :x.shape[2], :x.shape[3]] = x
        return out, None

    def column_major(x, indices, *, output_size):
        return _unpool(x, indices, *output_size, column_major=True), None

    def assigned(x, indices, *, output_size):
        return _unpool(x, indices, *output_size, assign=True), None

    return [
        ("unpool writing to the window's corner (\"bed of nails\"): max-unpooling puts each "
         "value at its index, where the maximum came from", bed_of_nails),
        ("indices read column-major: the flat index is row * W + col", column_major),
        ("values whose indices coincide overwrite each other: add them (xp.add.at), as "
         "overlapping windows sharing a maximum both send their value there", assigned),
    ]


def max_unpool_backward_mistakes():
    def corner(dout, cache):
        indices, x_shape = cache[:2]
        s = dout.shape[2] // x_shape[2]
        return dout[:, :, ::s, ::s][:, :, :x_shape[2], :x_shape[3]].copy()

    def column_major(dout, cache):
        indices, x_shape = cache[:2]
        N, C, H, W = dout.shape
        idx = indices.reshape(N, C, -1)
        idx = (idx % H) * W + idx // H
        return np.take_along_axis(dout.reshape(N, C, -1), idx, axis=2).reshape(x_shape)

    def block_sum(dout, cache):
        indices, x_shape = cache[:2]
        N, C, Ho, Wo = x_shape
        s = dout.shape[2] // Ho
        return dout[:, :, :Ho * s, :Wo * s].reshape(N, C, Ho, s, Wo, s).sum(axis=(3, 5))

    return [
        ("the gradient is read at the window's corner: read dout where the value was written, "
         "at its index", corner),
        ("indices read column-major: the flat index is row * W + col", column_major),
        ("dout summed over each window (the backward of nearest upsampling): each value went to "
         "one position only, so its gradient is dout at that index", block_sum),
    ]


# ---------------------------------------------------------------------------------------------
# Dilated convolution
# ---------------------------------------------------------------------------------------------

def _dilated(x, w, b, dilation, stride, pad):
    """Taps ``dilation`` apart; output positions ``stride`` apart; windows that overrun the
    padded input are dropped (floor)."""
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    F, C, HH, WW = w.shape
    eh, ew = dilation * (HH - 1) + 1, dilation * (WW - 1) + 1
    H_out = (xpad.shape[2] - eh) // stride + 1
    W_out = (xpad.shape[3] - ew) // stride + 1
    out = np.zeros((x.shape[0], F, H_out, W_out)) + b[None, :, None, None]
    for k in range(HH):
        for m in range(WW):
            part = xpad[:, :, k * dilation:k * dilation + stride * (H_out - 1) + 1:stride,
                        m * dilation:m * dilation + stride * (W_out - 1) + 1:stride]
            out += np.einsum("nchw,fc->nfhw", part, w[:, :, k, m])
    return out


def _dilated_grads(dout, x, w, dilation, stride, pad, *, dx_dilation=None, dw_dilation=None,
                   crop=True, db_mean=False):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    dxd = dilation if dx_dilation is None else dx_dilation
    dwd = dilation if dw_dilation is None else dw_dilation
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros(xpad.shape)
    dw = np.zeros(w.shape)
    for k in range(HH):
        for m in range(WW):
            rows = slice(k * dxd, k * dxd + stride * (H_out - 1) + 1, stride)
            cols = slice(m * dxd, m * dxd + stride * (W_out - 1) + 1, stride)
            dxpad[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, k, m])
            rows = slice(k * dwd, k * dwd + stride * (H_out - 1) + 1, stride)
            cols = slice(m * dwd, m * dwd + stride * (W_out - 1) + 1, stride)
            dw[:, :, k, m] = np.einsum("nfhw,nchw->fc", dout, xpad[:, :, rows, cols])
    dx = dxpad[:, :, pad:pad + H, pad:pad + W] if crop else dxpad
    return dx, dw, dout.sum(axis=(0, 2, 3)) / (N if db_mean else 1)


def dilated_conv_forward_mistakes():
    def on_stride(x, w, b, *, dilation=1, stride=1, pad=0):
        return _dilated(x, w, b, 1, stride * dilation, pad), None

    def dilation_zeros(x, w, b, *, dilation=1, stride=1, pad=0):
        return _dilated(x, w, b, dilation + 1, stride, pad), None

    def ignored(x, w, b, *, dilation=1, stride=1, pad=0):
        return _dilated(x, w, b, 1, stride, pad), None

    return [
        ("dilation applied to the stride: the dilation spaces the kernel's taps "
         "(xpad[i*stride + k*dilation, ...]), the stride spaces the output positions",
         on_stride),
        ("taps dilation + 1 apart: dilation d inserts d - 1 zeros between taps, so the taps are "
         "d apart", dilation_zeros),
        ("dilation ignored: the taps must be dilation apart (effective kernel "
         "dilation * (HH - 1) + 1)", ignored),
    ]


def dilated_conv_backward_mistakes():
    def make(**options):
        def backward(dout, cache):
            x, w, b, dilation, stride, pad = cache[:6]
            return _dilated_grads(dout, x, w, dilation, stride, pad, **options)
        return backward

    return [
        ("dx scattered with taps 1 apart: in the backward too, tap (k, l) touched "
         "xpad[i*stride + k*dilation, j*stride + l*dilation]", make(dx_dilation=1)),
        ("dw read from taps 1 apart: dw[f, c, k, l] sums dout times "
         "xpad[n, c, i*stride + k*dilation, j*stride + l*dilation]", make(dw_dilation=1)),
        ("padding not cropped from dx: crop pad rows and columns off every side",
         make(crop=False)),
        ("db is averaged over the batch: sum dout over n, rows and columns",
         make(db_mean=True)),
    ]


# ---------------------------------------------------------------------------------------------
# Upsampling
# ---------------------------------------------------------------------------------------------

def upsample_nearest_mistakes():
    def tiled(x, *, scale):
        return np.tile(x, (1, 1, scale, scale)), None

    return [("the whole image is tiled (np.tile): each pixel is repeated into a scale x scale "
             "block (x.repeat(scale, axis=2).repeat(scale, axis=3))", tiled)]


def upsample_nearest_backward_mistakes():
    def mean(dout, cache):
        scale, (N, C, H, W) = cache[:2]
        return dout.reshape(N, C, H, scale, W, scale).mean(axis=(3, 5))

    def one_entry(dout, cache):
        scale = cache[0]
        return dout[:, :, ::scale, ::scale].copy()

    def tiled(dout, cache):
        scale, (N, C, H, W) = cache[:2]
        return dout.reshape(N, C, scale, H, scale, W).sum(axis=(2, 4))

    return [
        ("the block is averaged: every copy of x[n, c, i, j] received its own gradient, so dx "
         "is their sum", mean),
        ("only one entry of each block (dout[:, :, ::scale, ::scale]): the pixel was copied "
         "scale * scale times, sum all their gradients", one_entry),
        ("the blocks are read as tiles (reshape(N, C, scale, H, scale, W)): the copies of pixel "
         "(i, j) are the block rows i*scale..(i+1)*scale - 1: reshape(N, C, H, scale, W, scale)",
         tiled),
    ]


def _bilinear(x, size, *, mode):
    H_out, W_out = (size, size) if np.isscalar(size) else size

    def axis(n_in, n_out):
        i = np.arange(n_out, dtype=float)
        if mode == "corners":
            s = i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
        elif mode == "no-shift":
            s = i * n_in / n_out
        elif mode == "inverted":
            s = np.maximum((i + 0.5) * n_out / n_in - 0.5, 0.0)
        else:  # "unclamped"
            s = (i + 0.5) * n_in / n_out - 0.5
        i0 = np.floor(s).astype(int)
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, s - i0

    r0, r1, fr = axis(x.shape[2], H_out)
    rows = x[:, :, r0] * (1 - fr)[:, None] + x[:, :, r1] * fr[:, None]
    c0, c1, fc = axis(x.shape[3], W_out)
    return rows[..., c0] * (1 - fc) + rows[..., c1] * fc


def upsample_bilinear_mistakes():
    return [
        ("corners aligned (align_corners=True): with align_corners=False the pixel centres are "
         "aligned, s = (i + 0.5) * H / H_out - 0.5",
         lambda x, *, size: _bilinear(x, size, mode="corners")),
        ("no half-pixel shift (s = i * H / H_out): pixel centres sit at i + 0.5, so "
         "s = (i + 0.5) * H / H_out - 0.5", lambda x, *, size: _bilinear(x, size, mode="no-shift")),
        ("the source coordinate is not clamped at 0: near the top/left edge it is negative and "
         "index -1 wraps around to the last row; use max(s, 0)",
         lambda x, *, size: _bilinear(x, size, mode="unclamped")),
        ("the scale is inverted (H_out / H): output row i samples the input at "
         "s = (i + 0.5) * H / H_out - 0.5, a step of H / H_out input rows per output row",
         lambda x, *, size: _bilinear(x, size, mode="inverted")),
    ]


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def _counted(pred, target, ignore_index, *, mode="skip"):
    """(pred, target) of the counted pixels; ``mode`` 'class0': ignored pixels as class 0."""
    pred, target = pred.ravel(), target.ravel()
    if ignore_index is None:
        return pred, target
    ignored = target == ignore_index
    if mode == "class0":
        return pred, np.where(ignored, 0, target)
    return pred[~ignored], target[~ignored]


def _cm(pred, target, K, ignore_index, *, mode="skip", transpose=False):
    p, t = _counted(pred, target, ignore_index, mode=mode)
    m = np.zeros((K, K), dtype=np.int64)
    np.add.at(m, (t, p), 1)
    return m.T.copy() if transpose else m


def _ratio(a, b, *, undefined=np.nan):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.full(a.shape, undefined)
    np.divide(a, b, out=out, where=b > 0)
    return out


def _iou(pred, target, num_classes, ignore_index, *, undefined=np.nan, mode="skip",
         kind="iou"):
    m = _cm(pred, target, num_classes, ignore_index, mode=mode)
    tp = np.diag(m)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if kind == "dice":
        value = _ratio(2 * tp, 2 * tp + fp + fn, undefined=undefined)
    elif kind == "all":
        value = _ratio(tp, np.full(tp.shape, m.sum()), undefined=undefined)
    elif kind == "tp-twice":  # the union as row sum + column sum: TP counted twice
        value = _ratio(tp, 2 * tp + fp + fn, undefined=undefined)
    elif kind == "smoothed":  # the soft Dice loss's smoothing in the metric
        value = _ratio(2 * tp + 1, 2 * tp + fp + fn + 1, undefined=undefined)
    elif kind == "dice-over-union":  # 2 TP over the union
        value = _ratio(2 * tp, tp + fp + fn, undefined=undefined)
    elif kind == "precision":  # TP over the pixels predicted c (a column sum)
        value = _ratio(tp, tp + fp, undefined=undefined)
    elif kind == "recall":  # TP over the pixels that are c (a row sum)
        value = _ratio(tp, tp + fn, undefined=undefined)
    else:
        value = _ratio(tp, tp + fp + fn, undefined=undefined)
    return np.where(tp + fp + fn > 0, value, undefined)


def _cm_in_label_dtype(pred, target, K, ignore_index):
    """target * K + pred in the label maps' own dtype: uint8 wraps around (mod 256)."""
    keep = target != ignore_index if ignore_index is not None else np.ones(target.shape, bool)
    with np.errstate(over="ignore"):
        pairs = target[keep] * np.array(K).astype(target.dtype) + pred[keep]
    return np.bincount(pairs.ravel(), minlength=K * K)[:K * K].reshape(K, K).astype(np.int64)


def confusion_matrix_mistakes():
    return [
        ("target * num_classes + pred computed in the label maps' dtype overflows (uint8 "
         "masks: 20 * 21 > 255): cast both to int64 first (.astype(np.int64))",
         lambda pred, target, *, num_classes, ignore_index=None:
             _cm_in_label_dtype(pred, target, num_classes, ignore_index)),
        (IGNORE_ZERO,
         lambda pred, target, *, num_classes, ignore_index=None:
             _cm(pred, target, num_classes, ignore_index if ignore_index else None)),
        ("the counts are floats (np.zeros without dtype=np.int64, or np.histogram2d, gives "
         "float64): the matrix holds int64 counts; count with np.bincount of "
         "target * num_classes + pred, or start from np.zeros(..., dtype=np.int64)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _cm(pred, target, num_classes, ignore_index).astype(np.float64)),
        ("rows and columns swapped: rows are the true classes, columns the predicted ones "
         "(entry [i, j] counts true i predicted j)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _cm(pred, target, num_classes, ignore_index, transpose=True)),
        ("ignored pixels counted (as class 0): skip every pixel whose target equals "
         "ignore_index",
         lambda pred, target, *, num_classes, ignore_index=None:
             _cm(pred, target, num_classes, ignore_index, mode="class0")),
    ]


def pixel_accuracy_mistakes():
    def denominator(pred, target, *, ignore_index=None):
        p, t = _counted(pred, target, ignore_index)
        return float((p == t).sum() / target.size)

    def as_correct(pred, target, *, ignore_index=None):
        p, t = _counted(pred, target, ignore_index)
        return float(((p == t).sum() + (target.size - t.size)) / target.size)

    def zero_when_empty(pred, target, *, ignore_index=None):
        p, t = _counted(pred, target, ignore_index)
        return float((p == t).sum() / max(t.size, 1))

    def truthy_ignore(pred, target, *, ignore_index=None):
        p, t = _counted(pred, target, ignore_index if ignore_index else None)
        return float((p == t).sum() / t.size)

    def per_image(pred, target, *, ignore_index=None):
        n = target.shape[0]
        keep = (target != ignore_index) if ignore_index is not None else (target == target)
        hits = ((pred == target) & keep).reshape(n, -1).sum(axis=1)
        counted = keep.reshape(n, -1).sum(axis=1)
        with np.errstate(all="ignore"):
            return float((hits / counted).mean()) if counted.sum() else float("nan")

    return [
        (IGNORE_ZERO, truthy_ignore),
        ("the mean of each image's accuracy: pool the pixels of the whole batch instead, the "
         "correct pixels of every image over the counted pixels of every image", per_image),
        ("no pixel counted (every target pixel ignored): the accuracy is undefined, NaN, not "
         "0 (dividing by max(counted, 1) hides the 0 / 0)", zero_when_empty),
        ("ignored pixels counted in the denominator: divide by the number of pixels whose "
         "target is not ignore_index", denominator),
        ("ignored pixels counted as correct: skip them altogether", as_correct),
    ]


def iou_per_class_mistakes():
    return [
        ("IoU of absent classes counted as 0: a class in neither pred nor target has nothing "
         "to score, its IoU is NaN (so that the mean skips it)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, undefined=0.0)),
        ("Dice instead of IoU: IoU = TP / (TP + FP + FN), without the factor 2",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="dice")),
        ("ignored pixels counted (as class 0): skip every pixel whose target equals "
         "ignore_index",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, mode="class0")),
        ("the union is every pixel: IoU = TP / (TP + FP + FN), the pixels that are c or are "
         "predicted c",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="all")),
        ("the union counts the intersection twice: the pixels predicted c (a column sum) plus "
         "the pixels that are c (a row sum) hold TP twice, so the union is their sum minus TP, "
         "TP + FP + FN",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="tp-twice")),
        ("TP / (TP + FP) is the precision (TP over the column sum, the pixels predicted c): "
         "the union adds the pixels that are c and were missed, IoU = TP / (TP + FP + FN)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="precision")),
        ("TP / (TP + FN) is the recall (TP over the row sum, the pixels that are c): the union "
         "adds the pixels wrongly predicted c, IoU = TP / (TP + FP + FN)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="recall")),
    ]


def mean_iou_mistakes():
    def absent_zero(pred, target, *, num_classes, ignore_index=None):
        return float(_iou(pred, target, num_classes, ignore_index, undefined=0.0).mean())

    def frequency_weighted(pred, target, *, num_classes, ignore_index=None):
        iou = _iou(pred, target, num_classes, ignore_index, undefined=0.0)
        counts = _cm(pred, target, num_classes, ignore_index).sum(axis=1)
        return float((iou * counts).sum() / counts.sum())

    def pooled(pred, target, *, num_classes, ignore_index=None):
        m = _cm(pred, target, num_classes, ignore_index)
        tp = np.diag(m)
        return float(tp.sum() / (m.sum(axis=0) + m.sum(axis=1) - tp).sum())

    def per_image(pred, target, *, num_classes, ignore_index=None):
        if pred.ndim < 3:  # a single map: one image
            return mean_iou_of(pred, target, num_classes, ignore_index)
        values = [mean_iou_of(p, t, num_classes, ignore_index) for p, t in zip(pred, target)]
        values = [v for v in values if not np.isnan(v)]
        return float(np.mean(values)) if values else float("nan")

    def true_classes_only(pred, target, *, num_classes, ignore_index=None):
        iou = _iou(pred, target, num_classes, ignore_index)
        present = _cm(pred, target, num_classes, ignore_index).sum(axis=1) > 0
        return float(iou[present].mean()) if present.any() else float("nan")

    def mean_iou_of(pred, target, num_classes, ignore_index):
        iou = _iou(pred, target, num_classes, ignore_index)
        return float(np.nanmean(iou)) if not np.all(np.isnan(iou)) else float("nan")

    return [
        ("IoU of absent classes counted as 0 in the mean: average only the classes whose IoU "
         "is not NaN", absent_zero),
        ("the mean is weighted by each class's pixels (frequency-weighted IoU): mean IoU gives "
         "every class the same weight", frequency_weighted),
        ("the counts are pooled over classes (sum TP / sum of unions): compute each class's "
         "IoU, then average", pooled),
        ("the mean IoU of every image, averaged over the images: count the pixels of the whole "
         "batch (one confusion matrix for all the maps), then average the classes' IoU",
         per_image),
        ("a class that is predicted but never true has IoU 0 (all its pixels are false "
         "positives) and counts in the mean: skip only the classes whose IoU is NaN, absent from "
         "both pred and target", true_classes_only),
    ]


def dice_per_class_mistakes():
    return [
        ("Dice of absent classes counted as 0: it is NaN where the IoU is",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, undefined=0.0, kind="dice")),
        ("IoU instead of Dice: Dice = 2 TP / (2 TP + FP + FN)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index)),
        ("ignored pixels counted (as class 0): skip every pixel whose target equals "
         "ignore_index",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, mode="class0", kind="dice")),
        ("2 TP over the union (TP + FP + FN): the Dice denominator is 2 TP + FP + FN, the pixels "
         "predicted c plus the pixels that are c (TP counted in both)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="dice-over-union")),
        ("the Dice score has no smoothing: 2 TP / (2 TP + FP + FN) exactly (+1 above and below "
         "belongs to soft_dice_loss, not to the metric)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _iou(pred, target, num_classes, ignore_index, kind="smoothed")),
    ]


def _precision_recall(pred, target, K, ignore_index, *, recall_tn=False, swap=False,
                      undefined=np.nan):
    m = _cm(pred, target, K, ignore_index)
    tp = np.diag(m)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    tn = m.sum() - tp - fp - fn
    precision = _ratio(tp, tp + fp, undefined=undefined)
    recall = _ratio(tp, tp + tn if recall_tn else tp + fn, undefined=undefined)
    return (recall, precision) if swap else (precision, recall)


def precision_recall_per_class_mistakes():
    return [
        ("recall as TP / (TP + TN) (a wrong formula found in some notes): recall is the "
         "fraction of the pixels of class c that were found, TP / (TP + FN)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _precision_recall(pred, target, num_classes, ignore_index, recall_tn=True)),
        ("precision and recall swapped: precision = TP / (TP + FP) (of what was predicted c), "
         "recall = TP / (TP + FN) (of what is c)",
         lambda pred, target, *, num_classes, ignore_index=None:
             _precision_recall(pred, target, num_classes, ignore_index, swap=True)),
        ("undefined values as 0: precision is NaN where nothing was predicted c, recall where "
         "no pixel is c",
         lambda pred, target, *, num_classes, ignore_index=None:
             _precision_recall(pred, target, num_classes, ignore_index, undefined=0.0)),
    ]


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

def _softmax(logits, axis=1):
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True), z - np.log(e.sum(axis=axis, keepdims=True))


def _onehot(target, K):
    return (np.arange(K)[None, :, None, None] == target[:, None]).astype(float)


def _ce(logits, target, class_weights, ignore_index, *, denominator="weights",
        weighted_grad=True, mean="pixels", axis=1):
    N, K = logits.shape[:2]
    keep = target != ignore_index if ignore_index is not None else np.ones(target.shape, bool)
    y = np.where(keep, target, 0)
    p, logp = _softmax(logits, axis)
    lpy = np.take_along_axis(logp, y[:, None], axis=1)[:, 0]
    w = class_weights[y] if class_weights is not None else np.ones(y.shape)
    w = w * keep
    if denominator == "weights":
        total = w.sum()
    elif denominator == "pixels":
        total = keep.sum()
    else:  # every pixel, ignored ones included
        total = target.size
    if mean == "batch":
        total = N
    loss = float(-(w * lpy).sum() / total)
    g = (w if weighted_grad else keep * 1.0) / total
    return loss, (p - _onehot(y, K)) * g[:, None]


def pixel_cross_entropy_mistakes():
    def make(**options):
        def loss(logits, target, *, class_weights=None, ignore_index=None):
            return _ce(logits, target, class_weights, ignore_index, **options)
        return loss

    def truthy_ignore(logits, target, *, class_weights=None, ignore_index=None):
        return _ce(logits, target, class_weights, ignore_index if ignore_index else None)

    def nan_when_empty(logits, target, *, class_weights=None, ignore_index=None):
        return _ce(logits, target, class_weights, ignore_index)

    return [
        ("no pixel counted (every pixel ignored, or the counted pixels' class weights sum to "
         "0): the loss is 0.0 and the gradient zeros, as the docstring says, not 0 / 0 = NaN; "
         "test the sum of the weights, not only whether a pixel is counted", nan_when_empty),
        (IGNORE_ZERO, truthy_ignore),
        ("the weighted sum is divided by the number of pixels: with class weights the mean is "
         "sum(w[y] * l) / sum(w[y]), as PyTorch", make(denominator="pixels")),
        ("ignored pixels counted in the denominator: they count neither in the loss nor in the "
         "sum of the weights", make(denominator="all")),
        ("class weights applied to the loss but not to the gradient: dlogits = w[y] * (p - "
         "onehot(y)) / sum(w[y])", make(weighted_grad=False)),
        ("summed over pixels and averaged over the batch only: average over every counted "
         "pixel", make(mean="batch")),
        ("the softmax runs over the last axis (the columns of the image): the class scores of "
         "a pixel lie along axis 1 of (N, K, H, W), so take the maximum, the sum of the "
         "exponentials and the log-softmax over axis=1", make(axis=-1)),
    ]


def _focal(logits, target, gamma, alpha, *, wrong_probability=False, constant_weight=False,
           alpha_by_prediction=False, mean="pixels", guard=True, alpha_in_grad=True):
    N, K, H, W = logits.shape
    p, logp = _softmax(logits)
    lpy = np.take_along_axis(logp, target[:, None], axis=1)[:, 0]
    py = np.exp(lpy)
    if alpha is None:
        a = np.ones(target.shape)
    elif alpha_by_prediction:
        a = alpha[p.argmax(axis=1)]
    else:
        a = alpha[target]
    count = {"pixels": N * H * W, "batch": N, "weights": a.sum()}[mean]
    q = py if wrong_probability else 1.0 - py
    mod = q ** gamma
    loss = float(-(a * mod * lpy).sum() / count)
    a_grad = a if alpha_in_grad else np.ones(target.shape)
    if constant_weight or (gamma == 0 and guard):
        g = a_grad * mod
    else:
        sign = -1.0 if wrong_probability else 1.0  # d q / d p_y
        with np.errstate(divide="ignore", invalid="ignore"):
            focusing = -sign * gamma * q ** (gamma - 1) * py * lpy
            if guard:
                focusing = np.where(q > 0, focusing, 0.0)
        g = a_grad * (mod + focusing)
    return loss, (p - _onehot(target, K)) * (g / count)[:, None]


def focal_loss_mistakes():
    def make(**options):
        def loss(logits, target, *, gamma=2.0, alpha=None):
            return _focal(logits, target, gamma, alpha, **options)
        return loss

    return [
        ("focal weight on the wrong probability: p_y**gamma down-weights the hard pixels; the "
         "weight is (1 - p_y)**gamma, small for pixels already classified well",
         make(wrong_probability=True)),
        ("the modulating factor (1 - p_y)**gamma is treated as a constant in the gradient: it "
         "depends on the logits too (the term -gamma (1 - p_y)**(gamma - 1) p_y log p_y)",
         make(constant_weight=True)),
        ("alpha indexed by the predicted class: alpha weights each pixel by its true class "
         "alpha[y]", make(alpha_by_prediction=True)),
        ("summed over pixels and averaged over the batch only: the mean is over all N*H*W "
         "pixels", make(mean="batch")),
        ("divided by the sum of alpha[y], as the weighted cross entropy is: the focal loss is "
         "the mean over all N*H*W pixels, alpha or not (so gamma = 0 gives the weighted cross "
         "entropy only without alpha)", make(mean="weights")),
        ("the term gamma * (1 - p_y)**(gamma - 1) * p_y * log p_y is 0 * inf = NaN where p_y = "
         "1 exactly (gamma < 1, or gamma = 0): take it as 0 there, as the docstring says "
         "(np.where(q > 0, ..., 0.0), with q replaced by 1 where it is 0 inside the power)",
         make(guard=False)),
        ("alpha[y] is missing from the gradient: it multiplies every pixel's g as it does the "
         "loss, g = alpha[y] * ((1 - p_y)**gamma - gamma * (1 - p_y)**(gamma - 1) * p_y * "
         "log p_y)",
         make(alpha_in_grad=False)),
    ]


def _dice(logits, target, smooth, *, per_image=False, smooth_numerator=True,
          softmax_backward=True, background=True, sigmoid=False, squares=False):
    N, K = logits.shape[:2]
    p = 1.0 / (1.0 + np.exp(-logits)) if sigmoid else _softmax(logits)[0]
    t = _onehot(target, K)
    axes = (2, 3) if per_image else (0, 2, 3)
    inter = (p * t).sum(axis=axes, keepdims=True)
    if squares:  # the V-Net form: sum p**2 + sum t**2 (t**2 = t)
        sizes = (p * p).sum(axis=axes, keepdims=True) + t.sum(axis=axes, keepdims=True)
    else:
        sizes = p.sum(axis=axes, keepdims=True) + t.sum(axis=axes, keepdims=True)
    if smooth is None:  # no smoothing at all
        smooth = 0.0
    top = 2 * inter + (smooth if smooth_numerator else 0.0)
    bottom = sizes + smooth
    dice = top / bottom
    if squares:
        dp = -(2 * t * bottom - top * 2 * p) / bottom ** 2 / dice.size
        return float(1.0 - dice.mean()), p * (dp - (dp * p).sum(axis=1, keepdims=True))
    if not background:  # the mean over the classes 1..K-1 only
        loss = float(1.0 - dice[:, 1:].mean())
        dp = -(2 * t * bottom - top) / bottom ** 2 / dice[:, 1:].size
        dp[:, 0] = 0.0
        return loss, p * (dp - (dp * p).sum(axis=1, keepdims=True))
    loss = float(1.0 - dice.mean())
    count = dice.size
    dp = -(2 * t * bottom - top) / bottom ** 2 / count
    if not softmax_backward:
        return loss, dp
    if sigmoid:
        return loss, dp * p * (1.0 - p)
    return loss, p * (dp - (dp * p).sum(axis=1, keepdims=True))


def soft_dice_loss_mistakes():
    def make(*, unsmoothed=False, **options):
        def loss(logits, target, *, smooth=1.0):
            return _dice(logits, target, None if unsmoothed else smooth, **options)
        return loss

    return [
        ("your Dice is computed per image and then averaged; the sums should run over the "
         "whole batch and every pixel, one Dice per class (axes 0, 2 and 3)",
         make(per_image=True)),
        ("smooth added to the denominator only: (2 * I + smooth) / (S + smooth)",
         make(smooth_numerator=False)),
        ("your dlogits is dp, the gradient with respect to the probabilities p: go back "
         "through the softmax, dlogits = p * (dp - sum_k dp * p)", make(softmax_backward=False)),
        ("the background (class 0) is left out of the mean: the docstring averages the Dice of "
         "all K classes, 1 - (1/K) * sum_k", make(background=False)),
        ("p taken as the sigmoid of each score: the soft Dice uses the softmax over the classes "
         "(axis 1), the K probabilities of a pixel summing to 1, and dlogits goes back through "
         "that softmax",
         make(sigmoid=True)),
        ("the denominator sums p and t, not their squares: S_k = sum p[:, k] + sum t[:, k] "
         "(the squares are the V-Net variant)", make(squares=True)),
        ("smooth is missing: it is added to both the numerator and the denominator, (2 * I_k + "
         "smooth) / (S_k + smooth)", make(unsmoothed=True)),
    ]


MISTAKES = {
    "segmentation.conv_transpose_forward": conv_transpose_forward_mistakes(),
    "segmentation.conv_transpose_backward": conv_transpose_backward_mistakes(),
    "segmentation.max_pool_with_indices": max_pool_with_indices_mistakes(),
    "segmentation.max_unpool_forward": max_unpool_forward_mistakes(),
    "segmentation.max_unpool_backward": max_unpool_backward_mistakes(),
    "segmentation.dilated_conv_forward": dilated_conv_forward_mistakes(),
    "segmentation.dilated_conv_backward": dilated_conv_backward_mistakes(),
    "segmentation.upsample_nearest": upsample_nearest_mistakes(),
    "segmentation.upsample_nearest_backward": upsample_nearest_backward_mistakes(),
    "segmentation.upsample_bilinear": upsample_bilinear_mistakes(),
    "segmentation.confusion_matrix": confusion_matrix_mistakes(),
    "segmentation.pixel_accuracy": pixel_accuracy_mistakes(),
    "segmentation.iou_per_class": iou_per_class_mistakes(),
    "segmentation.mean_iou": mean_iou_mistakes(),
    "segmentation.dice_per_class": dice_per_class_mistakes(),
    "segmentation.precision_recall_per_class": precision_recall_per_class_mistakes(),
    "segmentation.pixel_cross_entropy": pixel_cross_entropy_mistakes(),
    "segmentation.focal_loss": focal_loss_mistakes(),
    "segmentation.soft_dice_loss": soft_dice_loss_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "segmentation.pixel_cross_entropy": [
        ("the classes are axis 1 of logits (N, K, H, W): take the max and the sum over them "
         "with keepdims=True, so that they apply to every class of their own pixel",
         edited("segmentation.pixel_cross_entropy",
                ("shifted = logits - logits.max(axis=1, keepdims=True)\n"
                 "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
                 "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]",
                 "shifted = logits - logits.max(axis=1)\n"
                 "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
                 "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- slips right on nice inputs
# The reference with one edit that is right only on nice inputs (square maps, one image and one
# channel, no class weights, no ignored pixel); on the grader's inputs each gives a wrong answer
# (or raises) that had no hint.

for _key, _entries in {
    "segmentation.confusion_matrix": [
        ("the pixels whose target is ignore_index are still counted: their label (255) takes "
         "target * K + pred past the K * K counts; keep only the pixels whose target != "
         "ignore_index (ignore_index is a value of the target: a mask on pred keeps them all)",
         edited("segmentation.confusion_matrix",
                ("keep = (target != ignore_index) if ignore_index is not None else xp.ones(target."
                 "shape, bool)\n    pairs",
                 "keep = (pred != ignore_index) if ignore_index is not None else xp.ones(target."
                 "shape, bool)\n    pairs"))),
    ],
    "segmentation.upsample_bilinear": [
        ("the columns are interpolated with the rows' input size: the column weights come from "
         "W (x.shape[3]) and W_out, the row weights from H and H_out (one size for both is "
         "right only for square maps)",
         edited("segmentation.upsample_bilinear",
                ("    c0, c1, fc = weights(W, W_out)", "    c0, c1, fc = weights(H, W_out)"))),
    ],
    "segmentation.upsample_nearest": [
        ("each pixel is repeated scale times along the rows (axis 2) and along the columns (axis "
         "3): the second repeat ran along the rows again",
         edited("segmentation.upsample_nearest",
                ("    out = x.repeat(scale, axis=2).repeat(scale, axis=3)",
                 "    out = x.repeat(scale, axis=2).repeat(scale, axis=2)"))),
    ],
    "segmentation.soft_dice_loss": [
        ("smooth is added once to the numerator, (2 * I_k + smooth) / (S_k + smooth): not "
         "inside the doubled intersection, 2 * (I_k + smooth), which adds it twice",
         edited("segmentation.soft_dice_loss",
                ("    dice = (2 * intersection + smooth) / (sizes + smooth)",
                 "    dice = (2 * (intersection + smooth)) / (sizes + smooth)"),
                ("    numerator = (2 * intersection + smooth).reshape(1, K, 1, 1)",
                 "    numerator = (2 * (intersection + smooth)).reshape(1, K, 1, 1)"))),
    ],
    "segmentation.max_pool_with_indices": [
        ("the flat index of (row, col) in an H x W plane is row * W + col: a row is W entries "
         "long (row * H + col is right only for square maps)",
         edited("segmentation.max_pool_with_indices",
                ("    indices = (rows * W + cols).astype(xp.int64)",
                 "    indices = (rows * H + cols).astype(xp.int64)"))),
    ],
    "segmentation.max_unpool_forward": [
        ("the indices are positions in their own (H, W) plane, one plane per image and channel: "
         "scatter each plane's values into that plane (out of shape (N, C, H * W), indexed by "
         "[n, c, indices]), not into one flat array of the whole batch (right only for N = C "
         "= 1)",
         edited("segmentation.max_unpool_forward",
                ("    xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), x.reshape(N, C, "
                 "-1))",
                 "    xp.add.at(out.reshape(-1), indices.reshape(-1), x.reshape(-1))"))),
    ],
    "segmentation.max_unpool_backward": [
        ("the indices are positions in their own (H, W) plane, one plane per image and channel: "
         "read dout[n, c].flat[indices[n, c]] plane by plane (xp.take_along_axis on dout "
         "reshaped to (N, C, H * W)), not from dout flattened over the whole batch (right only "
         "for N = C = 1)",
         edited("segmentation.max_unpool_backward",
                ("    dx = xp.take_along_axis(flat, indices.reshape(N, C, -1), axis=2).reshape("
                 "x_shape)",
                 "    dx = dout.reshape(-1)[indices.reshape(-1)].reshape(x_shape)"))),
    ],
    "segmentation.pixel_cross_entropy": [
        ("ignored pixels still weigh in the denominator: their weight must be 0 (multiply "
         "w[y] by the mask target != ignore_index) so that the mean is over counted pixels "
         "only",
         edited("segmentation.pixel_cross_entropy", ("    weight = weight * keep\n", ""))),
        ("class_weights are not used: each pixel's loss is weighted by w[y], its true class's "
         "weight, and the mean divides by the sum of those weights",
         edited("segmentation.pixel_cross_entropy",
                ("    weight = class_weights[y] if class_weights is not None else xp.ones("
                 "y.shape, logits.dtype)",
                 "    weight = xp.ones(y.shape, logits.dtype)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- the softmax over the batch
# axis=0 where the classes are axis 1 of (N, K, H, W) (the axis of the class scores in unit 01's
# (N, C) arrays is 1 too): each pixel's "probabilities" are then shared out over the examples.
# Two variants each: the sum over axis 0 only, and the maximum (the shift) over axis 0 as well.

_BATCH_AXIS = ("the softmax runs over axis 0, the examples of the batch: the K class scores of "
               "a pixel lie along axis 1 of logits (N, K, H, W), so take the maximum and the sum "
               "of the exponentials over axis=1 (keepdims=True)")
_SHIFT = "    shifted = logits - logits.max(axis=1, keepdims=True)\n"


def _over_the_batch(target, softmax_lines):
    """The two mistakes of ``target`` whose softmax (``softmax_lines``, after the shift line)
    normalises over axis 0: with the shift over axis 1 as written, and over axis 0 too."""
    wrong = softmax_lines.replace("sum(axis=1, keepdims=True)", "sum(axis=0, keepdims=True)")
    return [(_BATCH_AXIS, edited(target, (_SHIFT + softmax_lines, _SHIFT + wrong))),
            (_BATCH_AXIS, edited(target, (_SHIFT + softmax_lines,
                                          _SHIFT.replace("axis=1", "axis=0") + wrong)))]


for _key, _softmax_lines in {
    "segmentation.pixel_cross_entropy":
        "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)",
    "segmentation.focal_loss":
        "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    probs = xp.exp(log_probs)",
    "segmentation.soft_dice_loss":
        "    e = xp.exp(shifted)\n    p = e / e.sum(axis=1, keepdims=True)",
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _over_the_batch(_key, _softmax_lines)


# ---------------------------------------------------------------- the strides and sizes of unit 03
# written as unit 03 wrote them: the output size from the filter's own size, a window read
# without its stride.

for _key, _entries in {
    "segmentation.dilated_conv_forward": [
        ("the output size uses the filter's size HH: with dilation its taps span the effective "
         "size dilation * (HH - 1) + 1 (the provided `effective`), so unit 03's output-size "
         "formula takes that size where it had HH, for the rows (and WW's for the columns)",
         edited("segmentation.dilated_conv_forward",
                ("    H_out = (H + 2 * pad - effective[0]) // stride + 1\n"
                 "    W_out = (W + 2 * pad - effective[1]) // stride + 1",
                 "    H_out = (H + 2 * pad - HH) // stride + 1\n"
                 "    W_out = (W + 2 * pad - WW) // stride + 1"))),
    ],
    "segmentation.conv_transpose_backward": [
        ("the rows of dfull that tap (k, l) reached are read without the stride: input pixel "
         "(i, j) placed its copy at (i * stride, j * stride), so for dx and dw read "
         "dfull[:, :, k:k + stride * H:stride, l:l + stride * W:stride], not k:k + H",
         edited("segmentation.conv_transpose_backward",
                ("            part = dfull[:, :, k:k + stride * H:stride, m:m + stride * W:stride]"
                 "  # (N, F, H, W)",
                 "            part = dfull[:, :, k:k + H, m:m + W]  # (N, F, H, W)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- the examiner's sweep
for _key, _entries in {
    # the ignored pixels left out of the weighted sum but their weights kept in its divisor
    "segmentation.pixel_cross_entropy": [
        ("ignored pixels still weigh in the denominator: their weight must be 0 (multiply "
         "w[y] by the mask target != ignore_index) so that the mean is over counted pixels "
         "only",
         edited("segmentation.pixel_cross_entropy",
                ("    weight = weight * keep\n    total = float(weight.sum())\n",
                 "    total = float(weight.sum())\n    weight = weight * keep\n"))),
    ],
    # the softmax's backward taken as the sigmoid's, p * (1 - p), elementwise
    "segmentation.soft_dice_loss": [
        ("the softmax's backward is not elementwise: each logit moves every class's "
         "probability, so dlogits = p * (dp - sum over classes of dp * p); p * (1 - p) * dp "
         "keeps only the diagonal of its Jacobian (that is the sigmoid's derivative)",
         edited("segmentation.soft_dice_loss",
                ("    dlogits = p * (dp - (dp * p).sum(axis=1, keepdims=True))",
                 "    dlogits = p * (1 - p) * dp"))),
    ],
    # ignore_index applied to the prediction too: a pixel predicted as the ignored label is a
    # wrong prediction of a counted pixel
    "segmentation.confusion_matrix": [
        ("only the target decides which pixels are skipped: a counted pixel predicted as "
         "ignore_index is a wrong prediction, still counted (keep the pixels whose target is "
         "not ignore_index, whatever pred holds there)",
         edited("segmentation.confusion_matrix",
                ("xp.ones(target.shape, bool)\n    pairs = target[keep]",
                 "xp.ones(target.shape, bool)\n"
                 "    if ignore_index is not None:\n"
                 "        keep = keep & (pred != ignore_index)\n"
                 "    pairs = target[keep]"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries

# the windows taken as non-overlapping (H // pool_size of them), whatever the stride
MISTAKES["segmentation.max_pool_with_indices"] = MISTAKES["segmentation.max_pool_with_indices"] + [
    ("the number of windows along an axis is (H - pool_size) // stride + 1: H // pool_size "
     "counts them only when stride == pool_size (windows side by side); with another stride "
     "they overlap or leave gaps",
     edited("segmentation.max_pool_with_indices",
            ("    Ho = (H - pool_size) // stride + 1\n    Wo = (W - pool_size) // stride + 1",
             "    Ho = H // pool_size\n    Wo = W // pool_size"))),
]
