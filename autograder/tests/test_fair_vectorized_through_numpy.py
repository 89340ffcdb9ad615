"""Fair vectorized code that goes through NumPy's Python-level API keeps full marks under the
library-lines rule.

The loop rule also counts the lines run in library Python frames (``worker.LineCounter``:
the standard library's and NumPy's) and fails a function whose library count grows with the
size (``specs.loop_growth``), and any call that holds an array of object dtype. Textbook
vectorized code often goes through NumPy functions written in Python (np.pad,
sliding_window_view, as_strided, einsum with optimize, tensordot, take_along_axis,
put_along_axis, np.unique, np.histogram, np.quantile, np.ma, np.linalg.norm, np.block,
np.split, np.moveaxis, np.indices, np.meshgrid, np.errstate...): each runs a number of library
lines that depends on the number of axes or of pieces, never on a loop over the examples, so
each variant below must keep full marks in every function of units 01, 03, 04 and 07 that the
rule applies to. Several variants of different functions are graded per engine call.

One kind was refused: a debugging ``print(dW)`` (or an f-string, ``repr`` or a logged array) left
in a vectorized function. NumPy's array printing formats every entry in Python (and takes the
widest with the builtin ``max``), so the library lines and the builtins' items grew with the
size: "hands a loop over examples to library code" for a function that computes everything
with whole arrays. A printed masked array (``print(np.ma.masked_equal(margins, 0))``) failed
too: it prints through an array of Python objects ("--" where masked), "holds an array of
Python objects". The worker now leaves NumPy's array printing (``arrayprint`` and the
``__str__``/``__repr__`` of ``numpy.ma``, with what they call) out of both counts and out of the
look for object arrays (``worker.LineCounter``, ``worker.count_consumers``); it computes nothing
the function returns, a ``formatter=`` of the package's own still runs counted lines of student
code, and arrays of more than 1000 entries print summarized.
"""

import pytest

from autograder import engine

from .submissions import make_submission

SOFTMAX, SVM = "linear.softmax_loss_vectorized", "linear.svm_loss_vectorized"
CONV_F, CONV_B = "conv.conv_forward", "conv.conv_backward"
MAXP_F, MAXP_B = "conv.max_pool_forward", "conv.max_pool_backward"
AVGP_F, AVGP_B = "conv.avg_pool_forward", "conv.avg_pool_backward"
BN_ALT = "normalization.batchnorm_backward_alt"
CM, ACC = "segmentation.confusion_matrix", "segmentation.pixel_accuracy"
CE, UNPOOL = "segmentation.pixel_cross_entropy", "segmentation.max_unpool_forward"
UP, UP_B = "segmentation.upsample_nearest", "segmentation.upsample_nearest_backward"
MPI = "segmentation.max_pool_with_indices"

# the reference lines that the variants rewrite
S_LOSS = "    loss = -log_probs[rows, y].sum() / num_train + reg * (W * W).sum()\n"
S_DW = "    dW = X.T @ dscores / num_train + 2 * reg * W\n"
S_ONEHOT = "    dscores[rows, y] -= 1.0  # dL/ds = p - one_hot(y)\n"
S_SHIFT = "    shifted = scores - scores.max(axis=1, keepdims=True)"
V_MARGINS = "    margins[rows, y] = 0.0  # the correct class contributes no margin\n"
V_COEFF = "    coeff[rows, y] = -coeff.sum(axis=1)\n"
V_DW = "    dW = X.T @ coeff / num_train + 2 * reg * W\n"
V_LOSS = "    loss = margins.sum() / num_train + reg * (W * W).sum()\n"
C_PAD = "    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x\n"
C_COLS = ("    cols = xp.empty((N, C, HH, WW, H_out, W_out), dtype=x.dtype)\n"
          "    for k in range(HH):\n"
          "        for l in range(WW):\n"
          "            cols[:, :, k, l] = xpad[:, :, k:k + stride * H_out:stride, "
          "l:l + stride * W_out:stride]\n")
CB_DW = "    dw = xp.matmul(dout3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)\n"
CB_DB = "    db = dout3.sum(axis=(0, 2))\n"
CB_COL2IM = ("    for k in range(HH):\n"
             "        for l in range(WW):\n"
             "            rows = slice(k, k + stride * H_out, stride)\n"
             "            columns = slice(l, l + stride * W_out, stride)\n"
             "            dxpad[:, :, rows, columns] += dcols[:, :, k, l]\n")
MP_LOOP = ("    out = None\n"
           "    for k in range(pool_size):\n"
           "        for l in range(pool_size):\n"
           "            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]\n"
           "            out = part.copy() if out is None else xp.maximum(out, part)\n")
AP_LOOP = ("    total = 0\n"
           "    for k in range(pool_size):\n"
           "        for l in range(pool_size):\n"
           "            total = total + x[:, :, k:k + stride * H_out:stride, "
           "l:l + stride * W_out:stride]\n"
           "    out = total / (pool_size * pool_size)\n")
APB_LOOP = ("    for k in range(pool_size):\n"
            "        for l in range(pool_size):\n"
            "            dx[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride] "
            "+= share\n")
MPB_HERE = "            here = x[:, :, rows, columns] == out\n"
BN_DBETA = "    dbeta = dout.sum(axis=0)\n"
BN_DGAMMA = "    dgamma = (dout * xhat).sum(axis=0)\n"
BN_DX = "        dx = (gamma / (N * std)) * (N * dout - dbeta - xhat * dgamma)\n"
CM_COUNTS = "    counts = bincount(pairs.ravel(), minlength=num_classes * num_classes)\n"
CM_PAIRS = ("    pairs = target[keep].astype(xp.int64) * num_classes"
            " + pred[keep].astype(xp.int64)\n")
ACC_LINE = ("    accuracy = float((pred[keep] == target[keep]).sum()) / counted if counted "
            "else float(\"nan\")\n")
CE_LOGPY = "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)\n"
CE_ONEHOT = "    onehot = (xp.arange(K).reshape(1, K, 1, 1) == y[:, None])\n"
UNPOOL_ADD = ("    xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), "
              "x.reshape(N, C, -1))\n")
UP_LINE = "    out = x.repeat(scale, axis=2).repeat(scale, axis=3)\n"
UPB_LINE = "    dx = dout.reshape(N, C, H, scale, W, scale).sum(axis=(3, 5))\n"
MPI_BEST = "    best = windows.argmax(axis=2)  # (N, C, Ho, Wo)\n"


def _in(module, *pairs):
    return {module: list(pairs)}


VARIANTS = {  # name: (key, replace)
    # unit 01: softmax
    "einsum_greedy_and_linalg_norm": (SOFTMAX, _in(
        "linear.py",
        (S_LOSS, "    loss = -log_probs[rows, y].sum() / num_train"
                 " + reg * np.linalg.norm(W, 'fro') ** 2\n"),
        (S_DW, "    dW = np.einsum('nd,nc->dc', X, dscores, optimize='greedy') / num_train"
               " + 2 * reg * W\n"))),
    "tensordot_and_put_along_axis": (SOFTMAX, _in(
        "linear.py",
        (S_ONEHOT, "    _at = y[:, None]\n"
                   "    np.put_along_axis(dscores, _at,"
                   " np.take_along_axis(dscores, _at, axis=1) - 1.0, axis=1)\n"),
        (S_DW, "    dW = np.tensordot(X, dscores, axes=([0], [0])) / num_train"
               " + 2 * reg * W\n"))),
    "add_at_and_errstate": (SOFTMAX, _in(
        "linear.py",
        (S_ONEHOT, "    np.add.at(dscores, (rows, y), -1.0)\n"),
        (S_SHIFT, "    with np.errstate(over='ignore', under='ignore'):\n"
                  "        _top = scores.max(axis=1, keepdims=True)\n" + S_SHIFT.replace(
                      "scores.max(axis=1, keepdims=True)", "_top")))),
    "where_with_three_arguments_and_moveaxis": (SOFTMAX, _in(
        "linear.py",
        (S_ONEHOT, "    _hit = np.arange(W.shape[1])[None, :] == y[:, None]\n"
                   "    dscores = np.where(_hit, dscores - 1.0, dscores)\n"),
        (S_DW, "    dW = np.moveaxis(dscores.T @ X, 0, 1) / num_train + 2 * reg * W\n"))),
    "partition_for_the_row_maximum": (SOFTMAX, _in(
        "linear.py",
        (S_SHIFT, "    shifted = scores - np.partition(scores, -1, axis=1)[:, -1:]"))),
    "argpartition_and_a_masked_array": (SOFTMAX, _in(
        "linear.py",
        (S_SHIFT, "    _top = np.argpartition(scores, -1, axis=1)[:, -1:]\n"
                  "    shifted = scores - np.take_along_axis(scores, _top, axis=1)"),
        (S_LOSS, "    _hit = np.arange(W.shape[1])[None, :] == y[:, None]\n"
                 "    _picked = np.ma.masked_array(log_probs, mask=~_hit)\n"
                 "    loss = -float(_picked.sum()) / num_train + reg * (W * W).sum()\n"))),
    "quantile_one_as_the_row_maximum_and_math_prod": (SOFTMAX, _in(
        "linear.py",
        (S_SHIFT, "    import math\n"
                  "    assert math.prod(scores.shape) == scores.size and scores.ndim == 2\n"
                  "    shifted = scores - np.quantile(scores, 1.0, axis=1, keepdims=True)"))),
    "unique_with_return_inverse_and_reduce_over_a_few": (SOFTMAX, _in(
        "linear.py",
        (S_ONEHOT, "    _classes, _inv = np.unique(y, return_inverse=True)\n"
                   "    dscores[rows, _classes[_inv.ravel()]] -= 1.0\n"),
        (S_LOSS, "    import functools\n    import operator\n"
                 "    loss = functools.reduce(operator.add, (-log_probs[rows, y].sum() / "
                 "num_train, reg * (W * W).sum()))\n"))),
    # unit 01: SVM
    "svm_block_with_a_bias_column_and_split": (SVM, _in(
        "linear.py",
        ("    scores = X @ W\n    correct = scores[rows, y][:, None]\n",
         "    _Xb = np.block([X, np.zeros((num_train, 1))])\n"
         "    _Wb = np.concatenate([W, np.zeros((1, W.shape[1]))], axis=0)\n"
         "    scores = _Xb @ _Wb\n    correct = scores[rows, y][:, None]\n"),
        (V_DW, "    _top, _bottom = np.array_split(X.T @ coeff, 2, axis=0)\n"
               "    dW = np.vstack([_top, _bottom]) / num_train + 2 * reg * W\n"))),
    "svm_put_along_axis_and_einsum": (SVM, _in(
        "linear.py",
        (V_MARGINS, "    np.put_along_axis(margins, y[:, None], 0.0, axis=1)\n"),
        (V_COEFF, "    np.put_along_axis(coeff, y[:, None], -coeff.sum(axis=1, keepdims=True),"
                  " axis=1)\n"),
        (V_DW, "    dW = np.einsum('nd,nc->dc', X, coeff, optimize=True) / num_train"
               " + 2 * reg * W\n"))),
    "svm_where_and_ravel_multi_index": (SVM, _in(
        "linear.py",
        (V_MARGINS, "    margins = np.where(np.arange(W.shape[1]) == y[:, None], 0.0, margins)\n"),
        (V_COEFF, "    _flat = np.ravel_multi_index((rows, y), coeff.shape)\n"
                  "    coeff.flat[_flat] = -coeff.sum(axis=1)\n"))),
    "svm_meshgrid_indices_and_broadcast_to": (SVM, _in(
        "linear.py",
        (V_MARGINS, "    _cls, _ex = np.meshgrid(np.arange(W.shape[1]), rows)\n"
                    "    margins[_cls == np.broadcast_to(y[:, None], _cls.shape)] = 0.0\n"),
        (V_LOSS, "    loss = np.sum(margins) / num_train + reg * np.linalg.norm(W) ** 2\n"))),
    # unit 03: convolution
    "conv_sliding_window_view_im2col_and_pad_mode": (CONV_F, _in(
        "conv.py",
        (C_PAD, "    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant',"
                " constant_values=0)\n"),
        (C_COLS, "    _win = xp.lib.stride_tricks.sliding_window_view(xpad, (HH, WW),"
                 " axis=(2, 3))\n"
                 "    _win = _win[:, :, ::stride, ::stride][:, :, :H_out, :W_out]\n"
                 "    cols = xp.ascontiguousarray(_win.transpose(0, 1, 4, 5, 2, 3))\n"))),
    "conv_as_strided_im2col": (CONV_F, _in(
        "conv.py",
        (C_COLS, "    _s = xpad.strides\n"
                 "    cols = xp.lib.stride_tricks.as_strided(\n"
                 "        xpad, shape=(N, C, HH, WW, H_out, W_out),\n"
                 "        strides=(_s[0], _s[1], _s[2], _s[3], _s[2] * stride, _s[3] * stride),\n"
                 "        writeable=False).copy()\n"))),
    "conv_backward_einsum_tensordot_and_add_at": (CONV_B, _in(
        "conv.py",
        (CB_DW, "    dw = xp.einsum('nfp,nkp->fk', dout3, cols, optimize=True).reshape(w.shape)\n"),
        (CB_DB, "    db = xp.tensordot(dout3, xp.ones(dout3.shape[2]), axes=([2], [0]))"
                ".sum(axis=0)\n"),
        (CB_COL2IM, "    _ki = (xp.arange(HH)[:, None, None, None]"
                    " + stride * xp.arange(H_out)[None, None, :, None])\n"
                    "    _li = (xp.arange(WW)[None, :, None, None]"
                    " + stride * xp.arange(W_out)[None, None, None, :])\n"
                    "    xp.add.at(dxpad, (slice(None), slice(None), _ki, _li), dcols)\n"))),
    "conv_backward_indices_grid_and_moveaxis": (CONV_B, _in(
        "conv.py",
        (CB_COL2IM, "    _k, _l = xp.indices((HH, WW))\n"
                    "    for k, l in zip(_k.ravel().tolist(), _l.ravel().tolist()):\n"
                    "        dxpad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]"
                    " += xp.moveaxis(dcols, (2, 3), (0, 1))[k, l]\n"))),
    # unit 03: pooling
    "max_pool_windows_argmax_take_along_axis": (MAXP_F, _in(
        "conv.py",
        (MP_LOOP, "    _win = xp.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size),"
                  " axis=(2, 3))[:, :, ::stride, ::stride][:, :, :H_out, :W_out]\n"
                  "    _flat = _win.reshape(*_win.shape[:4], -1)\n"
                  "    _best = _flat.argmax(axis=-1)[..., None]\n"
                  "    out = xp.take_along_axis(_flat, _best, axis=-1)[..., 0]\n"))),
    "max_pool_backward_through_a_masked_comparison": (MAXP_B, _in(
        "conv.py",
        (MPB_HERE, "            here = xp.ma.masked_equal(x[:, :, rows, columns] - out, 0.0)"
                   ".mask & xp.ones(out.shape, bool)\n"))),
    "avg_pool_as_strided_mean": (AVGP_F, _in(
        "conv.py",
        (AP_LOOP, "    xp = xp_of(x)\n    _s = x.strides\n"
                  "    _win = xp.lib.stride_tricks.as_strided(\n"
                  "        x, shape=(*x.shape[:2], H_out, W_out, pool_size, pool_size),\n"
                  "        strides=(*_s[:2], _s[2] * stride, _s[3] * stride, _s[2], _s[3]),"
                  " writeable=False)\n"
                  "    out = xp.mean(_win, axis=(-2, -1))\n"))),
    "avg_pool_backward_broadcast_to_and_kron": (AVGP_B, _in(
        "conv.py",
        (APB_LOOP, "    if stride == pool_size:\n"
                   "        _tiled = xp.kron(share, xp.ones((pool_size, pool_size)))\n"
                   "        dx[:, :, :_tiled.shape[2], :_tiled.shape[3]] = _tiled\n"
                   "    else:\n"
                   "        for k in range(pool_size):\n"
                   "            for l in range(pool_size):\n"
                   "                dx[:, :, k:k + stride * H_out:stride,"
                   " l:l + stride * W_out:stride] += xp.broadcast_to(share, dout.shape)\n"))),
    # unit 04: batch norm, closed form
    "batchnorm_einsum_average_and_stack": (BN_ALT, _in(
        "normalization.py",
        (BN_DBETA, "    dbeta = N * np.average(dout, axis=0)\n"),
        (BN_DGAMMA, "    dgamma = np.einsum('nd,nd->d', dout, xhat, optimize=True)\n"),
        (BN_DX, "        _terms = np.stack([N * dout, -np.broadcast_to(dbeta, dout.shape),"
                " -xhat * dgamma])\n"
                "        dx = (gamma / (N * std)) * _terms.sum(axis=0)\n"))),
    "batchnorm_tensordot_linalg_and_errstate": (BN_ALT, _in(
        "normalization.py",
        (BN_DBETA, "    assert dout.ndim == 2 and math.prod(dout.shape) == dout.size\n"
                   "    dbeta = np.tensordot(np.ones(N), dout, axes=1)\n"),
        (BN_DX, "        with np.errstate(divide='raise', invalid='raise'):\n"
                "            _scale = gamma / (N * std)\n"
                "        dx = _scale * (N * dout - dbeta - xhat * dgamma)\n"))),
    # unit 07: metrics, losses, layers
    "confusion_histogram2d": (CM, _in(
        "segmentation.py",
        (CM_COUNTS, "    import numpy as np\n"
                    "    counts = np.histogram2d(target[keep].ravel(), pred[keep].ravel(),"
                    " bins=num_classes, range=[[0, num_classes], [0, num_classes]])[0]\n"))),
    "confusion_ravel_multi_index_and_histogram": (CM, _in(
        "segmentation.py",
        (CM_PAIRS, "    import numpy as np\n"
                   "    pairs = np.ravel_multi_index((target[keep].astype(np.int64),"
                   " pred[keep].astype(np.int64)), (num_classes, num_classes))\n"),
        (CM_COUNTS, "    counts = np.histogram(pairs, bins=num_classes * num_classes,"
                    " range=(0, num_classes * num_classes))[0]\n"))),
    "confusion_unique_counts": (CM, _in(
        "segmentation.py",
        (CM_COUNTS, "    import numpy as np\n"
                    "    _values, _counts = np.unique(pairs.ravel(), return_counts=True)\n"
                    "    counts = np.zeros(num_classes * num_classes, np.int64)\n"
                    "    counts[_values] = _counts\n"))),
    "confusion_add_at": (CM, _in(
        "segmentation.py",
        (CM_COUNTS, "    import numpy as np\n"
                    "    counts = np.zeros(num_classes * num_classes, np.int64)\n"
                    "    np.add.at(counts, pairs.ravel(), 1)\n"))),
    "pixel_accuracy_masked_mean": (ACC, _in(
        "segmentation.py",
        (ACC_LINE, "    import numpy as np\n"
                   "    _right = np.ma.masked_array(pred == target, mask=~keep)\n"
                   "    accuracy = float(_right.mean()) if counted else float(\"nan\")\n"))),
    "pixel_accuracy_mean_where": (ACC, _in(
        "segmentation.py",
        (ACC_LINE, "    import numpy as np\n"
                   "    accuracy = float(np.mean(pred == target, where=keep)) if counted"
                   " else float(\"nan\")\n"))),
    "cross_entropy_eye_one_hot_and_moveaxis": (CE, _in(
        "segmentation.py",
        (CE_ONEHOT, "    onehot = np.moveaxis(np.eye(K, dtype=bool)[y], -1, 1)\n"),
        (CE_LOGPY, "    import numpy as np\n"
                   "    log_py = (log_probs * np.moveaxis(np.eye(K)[y], -1, 1)).sum(axis=1)\n"))),
    "unpool_put_along_axis": (UNPOOL, _in(
        "segmentation.py",
        (UNPOOL_ADD, "    xp.put_along_axis(out, indices.reshape(N, C, -1), 0.0, axis=2)\n"
                     "    xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)),"
                     " x.reshape(N, C, -1))\n"))),
    "upsample_kron_and_split_sum": (UP, _in(
        "segmentation.py",
        (UP_LINE, "    import numpy as np\n"
                  "    out = np.kron(x, np.ones((scale, scale), dtype=x.dtype))\n"))),
    "upsample_backward_broadcast_view": (UP_B, _in(
        "segmentation.py",
        (UPB_LINE, "    import numpy as np\n"
                   "    _blocks = np.lib.stride_tricks.sliding_window_view(dout, (scale, scale),"
                   " axis=(2, 3))[:, :, ::scale, ::scale]\n"
                   "    dx = _blocks.sum(axis=(-2, -1))\n"))),
    "max_pool_with_indices_argpartition": (MPI, _in(
        "segmentation.py",
        (MPI_BEST, "    import numpy as np\n"
                   "    best = np.argmax(windows, axis=2)\n"
                   "    assert np.array_equal(np.take_along_axis(windows, best[:, :, None], 2),"
                   " np.max(windows, axis=2, keepdims=True))\n"))),
}
DEBUG_PRINTS = {  # name: (key, replace): a debugging print of a whole array left in the code
    "print_of_the_gradient_in_softmax": (SOFTMAX, _in(
        "linear.py", (S_DW, S_DW + "    print(dW)\n"))),
    "f_string_print_of_the_margins_in_svm": (SVM, _in(
        "linear.py", (V_LOSS, V_LOSS + "    print(f'margins {margins}, loss {loss}')\n"))),
    "logged_array_in_batchnorm": (BN_ALT, _in(
        "normalization.py", (BN_DBETA, BN_DBETA + "    import logging\n"
                                       "    logging.getLogger('bn').warning('dbeta %s', dbeta)\n"
                                       "    print(repr(dout))\n"))),
    "print_of_a_masked_array_in_svm": (SVM, _in(
        "linear.py", (V_DW, V_DW + "    print(np.ma.masked_equal(margins, 0.0))\n"))),
    "print_of_the_pooled_map": (MAXP_F, _in(
        "conv.py", ("    cache = (x, pool_size, stride, out)\n",
                    "    print('pooled', out.shape, out)\n"
                    "    cache = (x, pool_size, stride, out)\n"))),
}
VARIANTS.update(DEBUG_PRINTS)
UNIT_OF = {"linear": "01", "conv": "03", "normalization": "04", "segmentation": "07"}


def _groups():
    """The variants dealt into submissions that rewrite each function at most once."""
    groups = []
    for name, (key, replace) in VARIANTS.items():
        for group in groups:
            if key not in {k for k, _ in group.values()}:
                group[name] = (key, replace)
                break
        else:
            groups.append({name: (key, replace)})
    return groups


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = {}
    for index, group in enumerate(_groups()):
        replace = {}
        for _, edits in group.values():
            for module, pairs in edits.items():
                replace.setdefault(module, []).extend(pairs)
        sub = make_submission(tmp_path_factory.mktemp(f"group{index}"), replace=replace)
        keys = {key for key, _ in group.values()}
        units = sorted({UNIT_OF[key.split(".")[0]] for key in keys})
        report = engine.grade(sub, units, keys=keys)
        entries = {k: v for u in report["units"].values() for k, v in u["functions"].items()}
        out.update({name: entries[key] for name, (key, _) in group.items()})
    return out


def test_there_are_at_least_25_variants_over_every_unit_of_the_rule():
    assert len(VARIANTS) >= 25
    assert {UNIT_OF[key.split(".")[0]] for key, _ in VARIANTS.values()} == set(UNIT_OF.values())


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fair_vectorized_variant_keeps_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def test_the_worker_does_not_count_array_printing(tmp_path, capsys):
    """In the counter itself: printing an array of 2 or 200 entries runs as many counted
    library lines; statistics.mean still runs more."""
    import statistics
    import sys

    import numpy as np

    from autograder.worker import LineCounter

    counter = LineCounter(str(tmp_path), library=[p for p in sys.path if p])
    counter._array = (np.ndarray, np.ndarray.__dict__["dtype"])  # as the worker's start sets it

    def run(function, n):
        """The library lines of the second of two calls (as ``specs.loop_growth`` counts)."""
        x = np.arange(float(n))
        for _ in range(2):  # a first call may import (numpy.ma's printing does)
            counter.start()
            function(x)
            lines = counter.stop()
        assert lines == 0  # no code of tmp_path ran
        return counter.library_count

    for show in (print, repr, lambda x: f"{x!s}", lambda x: np.array2string(x * 2),
                 lambda x: print(np.ma.masked_less(x, 1.0))):
        counts = [run(show, n) for n in (2, 200)]
        assert counts[0] == counts[1], counts
        assert counter.objects is None, counter.objects
    assert run(lambda x: np.sum(x.astype(np.dtype(chr(79)))), 3) and counter.objects
    per_item = [run(statistics.mean, n) for n in (2, 200)]
    assert per_item[1] > per_item[0] + 200, per_item
    assert "199." in capsys.readouterr().out
    # a formatter of the package's own runs counted student lines, once per entry
    (tmp_path / "fmt.py").write_text("def fmt(v):\n    return str(v)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        from fmt import fmt
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fmt", None)
    lines = []
    for n in (2, 200):
        x = np.arange(float(n))
        counter.start()
        np.array2string(x, formatter={"float_kind": fmt})
        lines.append(counter.stop())
    assert lines[1] >= lines[0] + 198, lines  # a line per entry
