"""Unit 07 graded through the real worker: the NumPy functions of ``segmentation`` and the
PyTorch ``UNet`` of ``segnets`` (driven by unit 06's torch handles).

The reference gets every point and the stubs none; a U-Net that concatenates [upsampled, skip]
gets the hint about the concatenation order, and a max-unpooling that writes to the window's
corner gets its hint too. Wrong variants an audit found passing (output_padding > pad,
ignore_index=0, no pixel counted, p_y = 1 in the focal loss, int32 indices, float counts, a
memoised result) lose their points with the right words, and unusual but right ones keep theirs.
"""

import shutil

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits
from autograder.units import UNITS

from .submissions import graded_to_zero, make_submission

pytest.importorskip("torch")

UNIT = "07_segmentation"
SOLUTIONS = REPO_ROOT / "solutions" / "coursework"
WORKER_BWRAP = None if "torch" in getattr(UNITS[UNIT], "packages", ()) else False
LIMITS = Limits(call_seconds=30.0, cpu_seconds=60.0)


def functions(report):
    return report["units"][UNIT]["functions"]


def submission_with(tmp_path, files):
    """The stubs, with ``files`` ({name: source}) written into coursework/."""
    folder = tmp_path / "submission"
    shutil.copytree(REPO_ROOT / "coursework", folder / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in files.items():
        (folder / "coursework" / name).write_text(text)
    return folder


def test_reference_full_marks_stubs_none():
    report = engine.grade(REPO_ROOT / "solutions", [UNIT], use_bwrap=WORKER_BWRAP,
                          limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0
    assert {"segnets.UNet", "segmentation.focal_loss", "segmentation.iou_per_class"} <= set(
        functions(report))
    keys = {"segnets.UNet", "segmentation.conv_transpose_backward", "segmentation.mean_iou"}
    stubs = engine.grade(REPO_ROOT, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {e["status"] for e in functions(stubs).values()} == {"not_implemented"}
    assert stubs["total"] == 0


def test_known_mistakes_get_their_hints(tmp_path):
    segnets = (SOLUTIONS / "segnets.py").read_text()
    right = "torch.cat([skip, stage.up(x)], dim=1)"
    assert right in segnets
    segmentation = (SOLUTIONS / "segmentation.py").read_text()
    scatter = "xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), x.reshape(N, C, -1))"
    assert scatter in segmentation
    corner = ("H_in, W_in = x.shape[2:]\n    s = H // H_in\n    out = out.reshape(N, C, H, W)\n"
              "    out[:, :, ::s, ::s][:, :, :H_in, :W_in] = x\n    out = out.reshape(N, C, -1)")
    folder = submission_with(tmp_path, {
        "segnets.py": segnets.replace(right, "torch.cat([stage.up(x), skip], dim=1)"),
        "segmentation.py": segmentation.replace(scatter, corner)})
    keys = {"segnets.UNet", "segmentation.max_unpool_forward"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    unet = functions(report)["segnets.UNet"]
    assert unet["status"] == "failed"
    assert "concatenation in the wrong order" in unet["hint"]
    unpool = functions(report)["segmentation.max_unpool_forward"]
    assert unpool["status"] == "failed"
    assert "bed of nails" in unpool["hint"]


# -- wrong variants lose their points, with the right words; unusual but right ones do not ------

SEGMENTATION = (SOLUTIONS / "segmentation.py").read_text()


def once(old, new):
    """A replacement in segmentation.py whose text occurs exactly once there."""
    assert SEGMENTATION.count(old) == 1, old
    return old, new


CM_KEEP = ("    keep = (target != ignore_index) if ignore_index is not None else "
           "xp.ones(target.shape, bool)\n")
TRUTHY_KEEP = ("    keep = (target != ignore_index) if ignore_index else "
               "xp.ones(target.shape, bool)\n")

WRONG = {
    "full result without room for output_padding > pad": (
        "segmentation.conv_transpose_forward",
        [once("    full = xp.zeros((N, F, max((H - 1) * stride + HH, pad + H_out),\n"
              "                     max((W - 1) * stride + WW, pad + W_out)), "
              "dtype=xp.result_type(x, w, b))",
              "    full = xp.zeros((N, F, (H - 1) * stride + HH, (W - 1) * stride + WW),\n"
              "                    dtype=xp.result_type(x, w, b))")],
        "output_padding 2 (more than pad", "too few when output_padding > pad"),
    "backward's full gradient without room for output_padding > pad": (
        "segmentation.conv_transpose_backward",
        [once("    dfull = xp.zeros(full_shape, dtype=dout.dtype)",
              "    dfull = xp.zeros((N, F, (H - 1) * stride + HH, (W - 1) * stride + WW),\n"
              "                     dtype=dout.dtype)")],
        "output_padding 2 (more than pad", None),
    "int32 pooling indices": (
        "segmentation.max_pool_with_indices",
        [once("    indices = (rows * W + cols).astype(xp.int64)",
              "    indices = (rows * W + cols).astype(xp.int32)")],
        "indices has dtype int32 but the docstring fixes int64", None),
    "confusion matrix: `if ignore_index:`": (
        "segmentation.confusion_matrix",
        [once(CM_KEEP + "    pairs", TRUTHY_KEEP + "    pairs")],
        "ignore_index=0", "`if ignore_index:` tests it, false for 0"),
    "confusion matrix of floats (np.histogram2d)": (
        "segmentation.confusion_matrix",
        [once("    counts = bincount(pairs.ravel(), minlength=num_classes * num_classes)\n"
              "    matrix = counts.reshape(num_classes, num_classes).astype(xp.int64)",
              "    matrix = xp.histogram2d(target[keep].ravel(), pred[keep].ravel(),\n"
              "                            bins=num_classes,\n"
              "                            range=[[0, num_classes], [0, num_classes]])[0]")],
        "has dtype float64 but should hold integers (int64)", "np.histogram2d"),
    "confusion matrix overflowing uint8 labels (no int64 cast)": (
        "segmentation.confusion_matrix",
        [once("    pairs = target[keep].astype(xp.int64) * num_classes + "
              "pred[keep].astype(xp.int64)",
              "    pairs = target[keep] * num_classes + pred[keep]")],
        "uint8 maps", "overflows"),
    "accuracy 0 when no pixel is counted": (
        "segmentation.pixel_accuracy",
        [once('/ counted if counted else float("nan")', "/ max(counted, 1)")],
        "every pixel ignored", "not 0"),
    "mean IoU remembered by shape": (
        "segmentation.mean_iou",
        [once("    iou = iou_per_class(pred, target, num_classes=num_classes, "
              "ignore_index=ignore_index)\n",
              "    key = (tuple(pred.shape), num_classes, ignore_index)\n"
              "    if key in CACHE:\n"
              "        return CACHE[key]\n"
              "    iou = iou_per_class(pred, target, num_classes=num_classes, "
              "ignore_index=ignore_index)\n"),
         once('    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")\n',
              '    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")\n'
              "    CACHE[key] = value\n"),
         ("import operator\n", "import operator\n\nCACHE = {}\n")],
        "nothing may be remembered between calls", None),
    # a result of the first call of a shape reused on a later input of that shape: every other
    # case of these functions has a shape of its own
    "soft Dice's one-hot target remembered by shape": (
        "segmentation.soft_dice_loss",
        [once("    t = (xp.arange(K).reshape(1, K, 1, 1) == target[:, None])"
              ".astype(logits.dtype)\n",
              "    key = (tuple(target.shape), K)\n"
              "    if key not in CACHE:\n"
              "        CACHE[key] = (xp.arange(K).reshape(1, K, 1, 1) == target[:, None])"
              ".astype(logits.dtype)\n"
              "    t = CACHE[key]\n"),
         ("import operator\n", "import operator\n\nCACHE = {}\n")],
        "nothing may be remembered between calls", None),
    "pooling maxima remembered by shape": (
        "segmentation.max_pool_with_indices",
        [once("    best = windows.argmax(axis=2)  # (N, C, Ho, Wo)\n",
              "    key = (tuple(x.shape), pool_size, stride)\n"
              "    if key not in CACHE:\n"
              "        CACHE[key] = windows.argmax(axis=2)\n"
              "    best = CACHE[key]\n"),
         ("import operator\n", "import operator\n\nCACHE = {}\n")],
        "nothing may be remembered between calls", None),
    # float32 arithmetic in a loss of float64 inputs: 1e-8 off, inside rtol 1e-6
    "cross entropy with float32 class weights": (
        "segmentation.pixel_cross_entropy",
        [once("    weight = class_weights[y] if class_weights is not None else "
              "xp.ones(y.shape, logits.dtype)",
              "    weight = class_weights.astype(xp.float32)[y] if class_weights is not None "
              "else xp.ones(y.shape, logits.dtype)")],
        "tolerance 1e-10 for a float64 loss", "keep every step of the loss in float64"),
    "focal loss with float32 alpha": (
        "segmentation.focal_loss",
        [once("    a = alpha[target] if alpha is not None else xp.ones(target.shape, "
              "logits.dtype)",
              "    a = alpha.astype(xp.float32)[target] if alpha is not None else "
              "xp.ones(target.shape, logits.dtype)")],
        "tolerance 1e-10 for a float64 loss", "keep every step of the loss in float64"),
    # common practices the docstrings do not follow (no hint before)
    "mean IoU per image, then averaged": (
        "segmentation.mean_iou",
        [once("    iou = iou_per_class(pred, target, num_classes=num_classes, "
              "ignore_index=ignore_index)\n"
              "    defined = ~xp.isnan(iou)\n"
              '    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")',
              "    values = []\n"
              "    for n in range(pred.shape[0]):\n"
              "        iou = iou_per_class(pred[n], target[n], num_classes=num_classes,\n"
              "                            ignore_index=ignore_index)\n"
              "        defined = ~xp.isnan(iou)\n"
              "        if bool(defined.any()):\n"
              "            values.append(float(iou[defined].mean()))\n"
              '    value = float(sum(values) / len(values)) if values else float("nan")')],
        "the result is", "averaged over the images"),
    "soft Dice without the background class": (
        "segmentation.soft_dice_loss",
        [once("    loss = float(1.0 - dice.mean())\n", "    loss = float(1.0 - dice[1:].mean())\n"),
         once("    dp = -(2 * t * denominator - numerator) / (denominator ** 2) / K\n",
              "    dp = -(2 * t * denominator - numerator) / (denominator ** 2) / (K - 1)\n"
              "    dp[:, 0] = 0\n")],
        "loss is", "the background (class 0) is left out of the mean"),
    # slips that got a bare 'entry [2] is off by 0.36'
    "IoU whose union counts TP twice": (
        "segmentation.iou_per_class",
        [once("    union = cm.sum(axis=0) + cm.sum(axis=1) - xp.diag(cm)\n",
              "    union = cm.sum(axis=0) + cm.sum(axis=1)\n")],
        "iou is wrong", "the union counts the intersection twice"),
    "Dice as 2 TP over the union": (
        "segmentation.dice_per_class",
        [once("    denominator = cm.sum(axis=0) + cm.sum(axis=1)  # 2 TP + FP + FN\n",
              "    denominator = cm.sum(axis=0) + cm.sum(axis=1) - xp.diag(cm)\n")],
        "dice is wrong", "the Dice denominator is 2 TP + FP + FN"),
    "bilinear with the scale inverted": (
        "segmentation.upsample_bilinear",
        [once("        s = xp.maximum((xp.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)",
              "        s = xp.maximum((xp.arange(n_out) + 0.5) * (n_out / n_in) - 0.5, 0.0)")],
        "out is wrong", "the scale is inverted"),
    "cross entropy: `if ignore_index:`": (
        "segmentation.pixel_cross_entropy",
        [once(CM_KEEP + "    y = xp.where", TRUTHY_KEEP + "    y = xp.where")],
        "ignore_index=0", "`if ignore_index:` tests it, false for 0"),
    "cross entropy NaN when no pixel is counted": (
        "segmentation.pixel_cross_entropy",
        [once("    if total == 0:  # nothing counted\n"
              "        loss, dlogits = 0.0, xp.zeros_like(logits)\n"
              "    else:\n"
              "        loss = float(-(weight * log_py).sum() / total)\n"
              "        dlogits = (xp.exp(log_probs) - onehot) * (weight / total)[:, None]",
              '    with xp.errstate(invalid="ignore", divide="ignore"):\n'
              '        loss = float(-(weight * log_py).sum() / total) if total else float("nan")\n'
              "        dlogits = (xp.exp(log_probs) - onehot) * (weight / total)[:, None]")],
        "every pixel ignored", "not 0 / 0 = NaN"),
    "focal loss without the guard at p_y = 1": (
        "segmentation.focal_loss",
        [once("    safe_q = xp.where(q > 0, q, 1.0)\n"
              "    focusing = xp.where(q > 0, gamma * safe_q ** (gamma - 1) * p_y * log_py, 0.0)"
              " if gamma else 0",
              '    with xp.errstate(divide="ignore", invalid="ignore"):\n'
              "        focusing = gamma * q ** (gamma - 1) * p_y * log_py")],
        "dlogits contains NaN", "0 * inf = NaN where p_y = 1"),
    "focal loss divided by the sum of alpha[y], as the weighted cross entropy": (
        "segmentation.focal_loss",
        [once("    count = N * H * W\n", "    count = a.sum()\n")],
        "alpha per class", "divided by the sum of alpha[y], as the weighted cross entropy is"),
    # the softmax of a channels-first map taken over the last axis had no hint
    "cross entropy with the softmax over the last axis": (
        "segmentation.pixel_cross_entropy",
        [once("    shifted = logits - logits.max(axis=1, keepdims=True)\n"
              "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
              "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)",
              "    shifted = logits - logits.max(axis=-1, keepdims=True)\n"
              "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))\n"
              "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)")],
        "loss is", "the softmax runs over the last axis"),
    "soft Dice of sigmoid probabilities": (
        "segmentation.soft_dice_loss",
        [once("    shifted = logits - logits.max(axis=1, keepdims=True)\n    e = xp.exp(shifted)\n"
              "    p = e / e.sum(axis=1, keepdims=True)\n",
              "    p = 1 / (1 + xp.exp(-logits))\n")],
        "loss is", "p taken as the sigmoid of each score"),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_variants_lose_their_points(tmp_path, name):
    key, pairs, words, hint = WRONG[name]
    folder = make_submission(tmp_path, replace={"segmentation.py": pairs})
    graded_to_zero(folder, UNIT, key, words, hint, use_bwrap=WORKER_BWRAP, limits=LIMITS)


RIGHT = [
    # a transposed convolution as zero insertion, padding and a correlation with the flipped
    # filters (output_padding > pad included)
    once('    # The full result holds every copy of the filters; output_padding may reach past '
         'it.\n'
         '    full = xp.zeros((N, F, max((H - 1) * stride + HH, pad + H_out),\n'
         '                     max((W - 1) * stride + WW, pad + W_out)), '
         'dtype=xp.result_type(x, w, b))\n'
         '    # contrib[n, f, k, l, i, j] = sum_c x[n, c, i, j] * w[c, f, k, l]\n'
         '    contrib = xp.einsum("nchw,cfkl->nfklhw", x, w)\n'
         '    for k in range(HH):\n'
         '        for m in range(WW):\n'
         '            full[:, :, k:k + stride * H:stride, m:m + stride * W:stride] += '
         'contrib[:, :, k, m]\n'
         '    out = full[:, :, pad:pad + H_out, pad:pad + W_out] + b.reshape(1, F, 1, 1)\n'
         '    cache = (x, w, b, stride, pad, full.shape)',
         '    dtype = xp.result_type(x, w, b)\n'
         '    Hd, Wd = (H - 1) * stride + 1, (W - 1) * stride + 1\n'
         '    xd = xp.zeros((N, C, Hd, Wd), dtype=dtype)\n'
         '    xd[:, :, ::stride, ::stride] = x\n'
         '    pt, pl = HH - 1 - pad, WW - 1 - pad\n'
         '    pb, pr = H_out + HH - 1 - Hd - pt, W_out + WW - 1 - Wd - pl\n'
         '    big = xp.zeros((N, C, Hd + max(pt, 0) + max(pb, 0), Wd + max(pl, 0) + max(pr, 0)),\n'
         '                   dtype=dtype)\n'
         '    big[:, :, max(pt, 0):max(pt, 0) + Hd, max(pl, 0):max(pl, 0) + Wd] = xd\n'
         '    big = big[:, :, max(-pt, 0):big.shape[2] - max(-pb, 0),\n'
         '              max(-pl, 0):big.shape[3] - max(-pr, 0)]\n'
         '    out = xp.zeros((N, F, H_out, W_out), dtype=dtype)\n'
         '    for k in range(HH):\n'
         '        for m in range(WW):\n'
         '            out += xp.einsum("nchw,cf->nfhw", big[:, :, k:k + H_out, m:m + W_out],\n'
         '                             w[:, :, HH - 1 - k, WW - 1 - m])\n'
         '    out = out + b.reshape(1, F, 1, 1)\n'
         '    full_shape = (N, F, max((H - 1) * stride + HH, pad + H_out),\n'
         '                  max((W - 1) * stride + WW, pad + W_out))\n'
         '    cache = (x, w, b, stride, pad, full_shape)'),
    # ties in max pooling: the last maximum (either is accepted; the inputs have none)
    once("    best = windows.argmax(axis=2)  # (N, C, Ho, Wo)",
         "    best = pool_size * pool_size - 1 - windows[:, :, ::-1].argmax(axis=2)"),
    # IoU by a plain division, 0 / 0 giving the NaN; Dice from it
    once("    iou = xp.full(num_classes, xp.nan)\n    present = union > 0\n"
         "    iou[present] = tp[present] / union[present]",
         '    with xp.errstate(invalid="ignore", divide="ignore"):\n        iou = tp / union'),
    once("    denominator = cm.sum(axis=0) + cm.sum(axis=1)  # 2 TP + FP + FN\n"
         "    dice = xp.full(num_classes, xp.nan)\n    present = denominator > 0\n"
         "    dice[present] = 2 * tp[present] / denominator[present]",
         "    iou = iou_per_class(pred, target, num_classes=num_classes, "
         "ignore_index=ignore_index)\n    dice = 2 * iou / (1 + iou)"),
    # the mean IoU through a 0-d float64 array, read out as its NumPy float64 scalar: that is a
    # Python float (a subclass), as the docstring promises; the 0-d array itself is not
    # (test_docstring_promises_units06_10.py)
    once('    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")',
         "    value = xp.asarray(iou[defined].mean() if bool(defined.any()) else xp.nan)[()]"),
    # losses from the probabilities, then their log (within 1e-10 of the log-softmax form, the
    # tolerance of a float64 loss, even at 725 above the others: p of about 1e-315)
    once("    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
         "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)",
         "    e = xp.exp(shifted)\n"
         "    log_probs = xp.log(e / e.sum(axis=1, keepdims=True))\n"
         "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]"),
    once("    log_py = xp.take_along_axis(log_probs, target[:, None], axis=1)[:, 0]\n"
         "    p_y = xp.exp(log_py)",
         "    p_y = xp.take_along_axis(probs, target[:, None], axis=1)[:, 0]\n"
         "    log_py = xp.log(p_y)"),
    # the confusion matrix by an unbuffered scatter of ones
    once("    counts = bincount(pairs.ravel(), minlength=num_classes * num_classes)\n"
         "    matrix = counts.reshape(num_classes, num_classes).astype(xp.int64)",
         "    matrix = xp.zeros((num_classes, num_classes), dtype=xp.int64)\n"
         "    xp.add.at(matrix, (target[keep].astype(xp.int64), pred[keep].astype(xp.int64)), 1)"),
    # the soft Dice's sums in another order
    once("    intersection = (p * t).sum(axis=(0, 2, 3))\n"
         "    sizes = p.sum(axis=(0, 2, 3)) + t.sum(axis=(0, 2, 3))",
         '    intersection = xp.einsum("nkhw,nkhw->k", p, t)\n'
         "    sizes = (p + t).sum(axis=3).sum(axis=2).sum(axis=0)"),
]


def test_unusual_but_correct_variants_keep_full_marks(tmp_path):
    folder = make_submission(tmp_path, replace={"segmentation.py": RIGHT})
    keys = {"segmentation.conv_transpose_forward", "segmentation.conv_transpose_backward",
            "segmentation.confusion_matrix",
            "segmentation.max_pool_with_indices", "segmentation.iou_per_class",
            "segmentation.dice_per_class", "segmentation.mean_iou",
            "segmentation.pixel_cross_entropy", "segmentation.focal_loss",
            "segmentation.soft_dice_loss"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


# ------------------------------------------------------------------ loops: over the data, never

SHORT_LOOPS = '''
    import math

    import numpy as np

    def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
        """One bincount per true class: a loop over the K classes, never over pixels."""
        name = "confusion_matrix"
        num_classes = _as_int(name, "num_classes", num_classes, 1)
        ignore_index = _check_pair_maps(name, pred, target, num_classes, ignore_index)
        keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
        cm = np.zeros((num_classes, num_classes), dtype=np.int64)
        for i in range(num_classes):
            rows = keep & (target == i)
            cm[i] = np.bincount(pred[rows].ravel().astype(np.int64), minlength=num_classes)
        return cm

    def mean_iou(pred, target, *, num_classes, ignore_index=None):
        iou = iou_per_class(pred, target, num_classes=num_classes, ignore_index=ignore_index)
        defined = [float(v) for v in iou if not math.isnan(v)]
        return sum(defined) / len(defined) if defined else float("nan")

    def upsample_bilinear(x, *, size):
        """The two axes one after the other, in a loop over the axes."""
        H_out, W_out = _as_pair("upsample_bilinear", "size", size, 1)
        out = x
        for axis, n_out in ((2, H_out), (3, W_out)):
            n_in = out.shape[axis]
            s = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = np.minimum(np.floor(s).astype(np.int64), n_in - 1)
            i1 = np.minimum(i0 + 1, n_in - 1)
            shape = [1, 1, 1, 1]
            shape[axis] = n_out
            frac = (s - i0).reshape(shape)
            out = np.take(out, i0, axis=axis) * (1 - frac) + np.take(out, i1, axis=axis) * frac
        return out

    def upsample_nearest_backward(dout, cache):
        """The sum over each block as a loop over the offsets inside a block."""
        scale, (N, C, H, W) = cache
        dx = np.zeros((N, C, H, W), dtype=dout.dtype)
        for a in range(scale):
            for b in range(scale):
                dx += dout[:, :, a::scale, b::scale]
        return dx
'''


def test_short_loops_over_classes_axes_and_offsets_keep_full_marks(tmp_path):
    """The module's rule is no loop over examples, channels or pixels: a loop over the classes,
    the two axes or the offsets inside a block is fine (an examiner's finding)."""
    folder = make_submission(tmp_path, append={"segmentation.py": SHORT_LOOPS})
    keys = {"segmentation.confusion_matrix", "segmentation.iou_per_class",
            "segmentation.mean_iou", "segmentation.upsample_bilinear",
            "segmentation.upsample_nearest_backward"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


DATA_LOOPS = {  # key -> (code, words of the verdict)
    "segmentation.confusion_matrix": ('''
        import numpy as np

        def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
            cm = np.zeros((num_classes, num_classes), dtype=np.int64)
            for t, p in zip(target.ravel().tolist(), pred.ravel().tolist()):
                if t != ignore_index:
                    cm[t, p] += 1
            return cm
    ''', "loops over examples: with N = 2, 11, 20"),
    "segmentation.pixel_cross_entropy": ('''
        import numpy as np

        _course_ce = pixel_cross_entropy

        def pixel_cross_entropy(logits, target, *, class_weights=None, ignore_index=None):
            """Each image's loss separately, then combined: a loop over the examples."""
            if class_weights is not None or ignore_index is not None or len(logits) == 1:
                return _course_ce(logits, target, class_weights=class_weights,
                                  ignore_index=ignore_index)
            parts = [_course_ce(logits[n:n + 1], target[n:n + 1]) for n in range(len(logits))]
            return (sum(p[0] for p in parts) / len(parts),
                    np.concatenate([p[1] for p in parts]) / len(parts))
    ''', "loops over examples: with N = 2, 11, 20"),
    "segmentation.upsample_nearest": ('''
        import numpy as np

        def upsample_nearest(x, *, scale):
            out = np.stack([x[:, c].repeat(scale, axis=1).repeat(scale, axis=2)
                            for c in range(x.shape[1])], axis=1)
            return out, (scale, x.shape)
    ''', "loops over channels: with C = 2, 11, 20"),
}


@pytest.mark.parametrize("key", sorted(DATA_LOOPS))
def test_a_loop_over_the_data_loses_the_points(tmp_path, key):
    code, words = DATA_LOOPS[key]
    folder = make_submission(tmp_path, append={"segmentation.py": code})
    graded_to_zero(folder, UNIT, key, words, "at most", use_bwrap=WORKER_BWRAP, limits=LIMITS)


# -- found by the mutation sweep --------------------------------------------------------------

def _graded_on_hidden(tmp_path, key, pairs, words):
    """Grade ``key`` of the reference with ``pairs`` replaced: it scores 0 on a hidden case,
    whose number (not its label) the student reads, with ``words``."""
    folder = make_submission(tmp_path, replace={"segmentation.py": pairs})
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys={key})
    entry = functions(report)[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "failed on hidden case" in entry["message"] and words in entry["message"], entry
    assert "single pixel" not in entry["message"] and "-1000" not in entry["message"], entry
    return entry


SINGLE_PIXEL = {
    "segmentation.iou_per_class": once("    present = union > 0\n",
                                       "    present = union > 1\n"),
    "segmentation.dice_per_class": once("    present = denominator > 0\n",
                                        "    present = denominator > 1\n"),
}


@pytest.mark.parametrize("key", sorted(SINGLE_PIXEL))
def test_a_class_on_a_single_pixel_is_scored(tmp_path, key):
    """Found by the mutation sweep: a class whose union (IoU) or 2 TP + FP + FN (Dice) is a
    single pixel is defined, IoU 1 when that pixel is found and 0 when it is only predicted or
    only true; a metric that calls it undefined (``> 1`` for ``> 0``) kept its points, since no
    case had a class on one pixel."""
    _graded_on_hidden(tmp_path, key, [SINGLE_PIXEL[key]], "wrong values")


SHIFT = "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
BATCH_MAX = "    shifted = logits - logits.max()\n"
LOSS_START = {  # the line before the shift, unique per loss
    "segmentation.pixel_cross_entropy": "    y = xp.where(keep, target, 0)\n",
    "segmentation.focal_loss": "    N, K, H, W = logits.shape\n",
    "segmentation.soft_dice_loss": "    K = logits.shape[1]\n",
}


@pytest.mark.parametrize("key", sorted(LOSS_START))
def test_a_maximum_over_the_whole_batch_fails_the_losses(tmp_path, key):
    """Found by the mutation sweep: "subtract the maximum over classes" taken over the whole
    batch (``logits.max()``) is exact while every pixel's scores are near the largest, as in
    the cases shifted to +1000; with one image around +1000 and another around -1000, every
    exponential of the second underflows to 0 and the loss is NaN."""
    before = LOSS_START[key]
    _graded_on_hidden(tmp_path, key, [once(before + SHIFT, before + BATCH_MAX)],
                      "NaN or inf in the result")


@pytest.mark.parametrize("statistic", [".min(", ".mean("])
@pytest.mark.parametrize("key", sorted(LOSS_START))
def test_a_minimum_or_mean_over_the_classes_fails_the_losses(tmp_path, key, statistic):
    """Found by the mutation sweep: subtracting each pixel's minimum (or mean) instead of its
    maximum is exact while a pixel's scores span less than 709; with one class 725 above 63
    others exp overflows. (A correct softmax there still has every probability above 0:
    1e-317.)"""
    before = LOSS_START[key]
    _graded_on_hidden(tmp_path, key, [once(before + SHIFT, before + SHIFT.replace(
        ".max(", statistic))], "NaN or inf in the result")


def test_a_transposed_convolution_sized_with_the_filter_width_for_the_height_fails(tmp_path):
    """Found by the mutation sweep: HH and WW swapped in the size of the buffer of copies kept full
    marks: every case with non-square filters had output_padding >= pad, where the crop's end
    covers every copy anyway. Two hidden cases have non-square filters and pad 1."""
    folder = make_submission(tmp_path, replace={"segmentation.py": [
        once("max((H - 1) * stride + HH, pad + H_out)",
             "max((H - 1) * stride + WW, pad + H_out)")]})
    key = "segmentation.conv_transpose_forward"
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys={key})
    entry = functions(report)[key]
    assert entry["score"] == 0, entry
    assert "on hidden case 6: the code raised ValueError" in entry["message"], entry


UNET_SKIPS = (
    "        skips = []\n"
    "        for encoder in self.encoders:\n"
    "            x = encoder(x)\n"
    "            skips.append(x)\n"
    "            x = self.pool(x)\n"
    "        x = self.bottleneck(x)\n"
    "        for stage, skip in zip(self.decoders, reversed(skips)):\n"
    "            x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))\n")
UNET_SKIPS_ON_SELF = (
    "        if not hasattr(self, 'skips'):\n"
    "            self.skips = []\n"
    "        for encoder in self.encoders:\n"
    "            x = encoder(x)\n"
    "            self.skips.append(x)\n"
    "            x = self.pool(x)\n"
    "        x = self.bottleneck(x)\n"
    "        for i, stage in enumerate(self.decoders):\n"
    "            skip = self.skips[self.depth - 1 - i]\n"
    "            x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))\n")


@pytest.mark.parametrize("old, new, hint", [
    ("            skips.append(x)\n            x = self.pool(x)\n",
     "            x = self.pool(x)\n            skips.append(x)\n",         # skips after pooling
     "keep each encoder level's output as its skip before pooling it"),
    ("zip(self.decoders, reversed(skips))", "zip(self.decoders, skips)",   # shallowest first
     "Pair them with the skips reversed"),
])
def test_a_unet_whose_skips_do_not_fit_is_told_how_to_pair_them(tmp_path, old, new, hint):
    """``torch.cat``'s 'Sizes of tensors must match' was an error without a hint, under
    the label of the two-call check ('called twice on inputs of that shape'); a U-Net of depth
    1 tells the two slips apart (``specs/segnets.skip_size_hint``)."""
    assert UNET_SKIPS.count(old) == 1
    folder = make_submission(tmp_path, replace={"segnets.py": [(old, new)]})
    entry = graded_to_zero(folder, UNIT, "segnets.UNet", "Sizes of tensors must match", hint,
                           use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert "called twice" not in entry["message"], entry


def test_a_unet_that_keeps_its_skips_between_calls_is_told_so(tmp_path):
    """The skips kept in a list on self and read by level: every later call reads the first
    call's (no-grad) maps. Its output passes, its gradients do not; the hint said to look for
    .detach(), it now says that the forward keeps something between calls; since
    now two eval calls on inputs of one shape find it before the gradients."""
    folder = make_submission(tmp_path, replace={"segnets.py": [(UNET_SKIPS, UNET_SKIPS_ON_SELF)]})
    entry = graded_to_zero(folder, UNIT, "segnets.UNet", "then on other values of the same shape",
                           "reuses something kept from an earlier call",
                           use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert "detach" not in entry["hint"]


# -- the float metrics within 1e-10 -----------------------------------------------------

IOU_COUNTS = ("    tp = xp.diag(cm).astype(xp.float64)\n"
              "    union = cm.sum(axis=0) + cm.sum(axis=1) - xp.diag(cm)\n")


def test_a_metric_computed_in_float32_fails_with_the_float32_remark(tmp_path):
    """An iou_per_class that divides float32 counts returned float64 values within
    6e-8 of the answer, inside the default 1e-6; the float metrics (ratios of counts, exact to
    1e-16 in any float64 formula) are compared within 1e-10, and the verdict names float32."""
    sub = make_submission(tmp_path, replace={"segmentation.py": [(
        IOU_COUNTS, "    cm = cm.astype(xp.float32)\n" + IOU_COUNTS.replace(
            ".astype(xp.float64)", ""))]})
    graded_to_zero(sub, UNIT, "segmentation.iou_per_class", "from float32 arithmetic",
                   statuses=("failed",), use_bwrap=WORKER_BWRAP, limits=LIMITS)


def test_other_float64_formulas_of_the_metrics_keep_full_marks(tmp_path):
    """The 1e-10 of the float metrics accepts other float64 formulas: the mean of a
    boolean map, nansum over a count, Dice as 2 IoU / (1 + IoU), precision as TP / (TP + FP)."""
    sub = make_submission(tmp_path, replace={"segmentation.py": [
        ('    accuracy = float((pred[keep] == target[keep]).sum()) / counted if counted else '
         'float("nan")',
         '    accuracy = float((pred[keep] == target[keep]).mean()) if counted else '
         'float("nan")'),
        ('    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")',
         '    value = float(xp.nansum(iou) / defined.sum()) if bool(defined.any()) else '
         'float("nan")'),
        ("    dice[present] = 2 * tp[present] / denominator[present]",
         "    iou = iou_per_class(pred, target, num_classes=num_classes, "
         "ignore_index=ignore_index)\n"
         "    dice[present] = 2 * iou[present] / (1 + iou[present])"),
        ("    precision[predicted > 0] = tp[predicted > 0] / predicted[predicted > 0]",
         "    fp = predicted - tp\n"
         "    precision[predicted > 0] = tp[predicted > 0] / (tp + fp)[predicted > 0]")]})
    keys = {f"segmentation.{name}" for name in ("pixel_accuracy", "iou_per_class", "mean_iou",
                                                "dice_per_class", "precision_recall_per_class")}
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


BILINEAR_WEIGHTS = ("    r0, r1, fr = weights(H, H_out)\n"
                    "    rows = (x[:, :, r0, :] * (1 - fr)[:, None] + "
                    "x[:, :, r1, :] * fr[:, None])\n"
                    "    c0, c1, fc = weights(W, W_out)\n"
                    "    out = rows[:, :, :, c0] * (1 - fc) + rows[:, :, :, c1] * fc\n")
BILINEAR_MATRICES = (
    "    def matrix(n_in, n_out):  # kept by size: it depends on nothing else\n"
    "        key = (n_in, n_out, str(x.dtype))\n"
    "        if key not in _MATRICES:\n"
    "            i0, i1, frac = weights(n_in, n_out)\n"
    "            m = xp.zeros((n_out, n_in), dtype=x.dtype)\n"
    "            m[xp.arange(n_out), i0] += 1 - frac\n"
    "            m[xp.arange(n_out), i1] += frac\n"
    "            _MATRICES[key] = m\n"
    "        return _MATRICES[key]\n\n"
    '    out = xp.einsum("ih,nchw,jw->ncij", matrix(H, H_out), x, matrix(W, W_out))\n')
UNET_MODULE_DICT = '''
from torch.nn import functional as F


class UNet(nn.Module):  # a ModuleDict per path, functional pooling, skips on self (reset)
    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__()
        self.depth, self.in_channels = depth, in_channels
        c = [base_channels * 2 ** level for level in range(depth + 1)]
        self.enc = nn.ModuleDict()
        for level in range(depth):
            self.enc[f"level{level}"] = DoubleConv(c[level - 1] if level else in_channels,
                                                   c[level])
        self.enc["bottleneck"] = DoubleConv(c[depth - 1], c[depth])
        self.dec = nn.ModuleDict()
        for level in reversed(range(depth)):
            self.dec[f"up{level}"] = nn.ConvTranspose2d(c[level + 1], c[level], 2, stride=2)
            self.dec[f"conv{level}"] = DoubleConv(2 * c[level], c[level])
        self.head = nn.Conv2d(c[0], num_classes, kernel_size=1)

    def forward(self, x):
        self.skips = []  # kept for inspection, started afresh at every call
        for level in range(self.depth):
            x = self.enc[f"level{level}"](x)
            self.skips.append(x)
            x = F.max_pool2d(x, kernel_size=2)
        x = self.enc["bottleneck"](x)
        for level in reversed(range(self.depth)):
            up = self.dec[f"up{level}"](x)
            x = self.dec[f"conv{level}"](torch.concat((self.skips[level], up), dim=1))
        return self.head(x)
'''


def test_resizing_focal_and_metric_variants_keep_full_marks(tmp_path):
    """Bilinear resizing by interpolation matrices kept by size (a cache that depends
    on the sizes only passes the same-shape check), a focal loss with 1 - p_y as
    -expm1(log p_y), and a U-Net of ModuleDicts with functional pooling and its skips on self,
    reset at every call (the kept-state check compares it with a newly built one)."""
    folder = make_submission(tmp_path, replace={"segmentation.py": [
        (BILINEAR_WEIGHTS, BILINEAR_MATRICES),
        ("def upsample_bilinear(x, *, size):", "_MATRICES = {}\n\n\n"
                                               "def upsample_bilinear(x, *, size):"),
        ("    q = 1.0 - p_y  # the probability of being wrong",
         "    q = -xp.expm1(log_py)  # accurate near p_y = 1")]},
        append={"segnets.py": UNET_MODULE_DICT})
    keys = {"segmentation.upsample_bilinear", "segmentation.focal_loss", "segnets.UNet"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


def test_a_unet_that_keeps_its_output_by_shape_is_told_so(tmp_path):
    """A U-Net keeping its output per input shape on self passed the output
    comparisons (eval, then train on the same input) and its backward's autograd error blamed a
    .detach(); two eval calls on inputs of one shape, against a newly built U-Net, name it."""
    sub = make_submission(tmp_path, replace={"segnets.py": [(
        "        scores = self.out(x)\n",
        "        kept = self.__dict__.setdefault('_kept', {})\n"
        "        if tuple(x.shape) not in kept:\n"
        "            kept[tuple(x.shape)] = self.out(x)\n"
        "        scores = kept[tuple(x.shape)]\n")]})
    graded_to_zero(sub, UNIT, "segnets.UNet", "then on other values of the same shape",
                   "reuses something kept from an earlier call", statuses=("failed",),
                   use_bwrap=WORKER_BWRAP, limits=LIMITS)
