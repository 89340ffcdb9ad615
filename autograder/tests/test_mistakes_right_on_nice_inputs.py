"""Slips that are right on nice inputs only, each graded as a submission; each must cost its
function all its points with the hint that names it (autograder/mistakes/<module>.py, "slips
right on nice inputs"; the cutout one from specs/augmentation.cutout_span_hint).

Units 01, 02, 03, 07 and 08: a width taken from the height (right for square maps and filters),
flat indices of an H x W plane built with H (right when H == W), max-unpooling over the whole
batch flattened (right for one image of one channel), ignore_index tested on the prediction or
not at all (right with no ignored pixel), class weights dropped or ignored pixels weighted (right
without weights or ignored pixels), 'xywh' read as a centre, batched NMS at the default threshold
or over range(number of labels) (right for threshold 0.5 and labels 0..k-1), YOLO rows not
clamped (right unless a centre lies on the right or bottom edge), one object mask per cell (right
for B = 1), 11-point AP with recall > t, mAP matched against every class (right with one class),
ELU's gradient as out + 1 (right for alpha = 1), max pooling by a reshape (right when the windows
tile x), a softmax shifted by the batch's maximum (right when every example's scores are alike).
Each had no hint (or, for the ignore_index slips, one about np.bincount). The other slips tried
(SVM margins over the correct class, softmax without the max shift, im2col order, overlapping
pooling windows, confusion matrix transposed, Dice smoothed in the numerator only, bilinear with
aligned corners, NMS ties, +1 pixel IoU...) already had theirs.

Units 04, 05, 09 and 10: N taken from the wrong axis (right when N == D), H taken from x (right
when H == D), the groups axis and the channels-per-group axis swapped (right when groups**2 ==
C), the cutout square offset by (size - 1) // 2 (right for an odd size), the optimizers' squared
averages built from dw (right without weight decay), the cosine's progress over total_steps
(right without a warm-up), masked labels used as indices (right while they are in range), an
LSTM that starts from zeros (right for a zero h0), gan_step always on the BCE losses (right for
loss='bce')... and a few that are wrong everywhere but were graded without a hint.

Cases of one group are graded together, in one submission (no function of a group calls another
of it or reads its cache), one grading run per group.
"""

import pytest

from autograder.units import UNITS as COURSE_UNITS

from .submissions import grader_by_group, make_submission

UNITS = {"01": "01_linear", "02": "02_mlp", "03": "03_cnn", "04": "04_normalization",
         "05": "05_optim", "07": "07_segmentation", "08": "08_detection", "09": "09_rnn",
         "10": "10_generative"}

# name: (group, module file, key, [(old, new)], words of the hint)
CASES = {
    "batchnorm_backward: N = dout.shape[1]": (
        "04a", "normalization.py", "normalization.batchnorm_backward",
        [("        N = dout.shape[0]\n        dxc = dxhat / std",
          "        N = dout.shape[1]\n        dxc = dxhat / std")],
        "N is the number of examples, dout.shape[0]"),
    "spatial_batchnorm_forward: out_flat.reshape(N, C, H, W)": (
        "04a", "normalization.py", "normalization.spatial_batchnorm_forward",
        [("    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
          "    out = out_flat.reshape(N, C, H, W)")],
        "reshape it to (N, H, W, C) and move the channels back"),
    "groupnorm_forward: x.reshape(N, C // groups, -1)": (
        "04a", "normalization.py", "normalization.groupnorm_forward",
        [("    grouped = x.reshape(N, groups, -1)", "    grouped = x.reshape(N, C // groups, -1)")],
        "the second axis counts the groups"),
    "cutout: the square starts (size - 1) // 2 before the centre": (
        "04a", "augmentation.py", "augmentation.cutout",
        [("    top = xp.asarray(rng.integers(0, H, N) - size // 2)",
          "    top = xp.asarray(rng.integers(0, H, N) - (size - 1) // 2)"),
         ("    left = xp.asarray(rng.integers(0, W, N) - size // 2)",
          "    left = xp.asarray(rng.integers(0, W, N) - (size - 1) // 2)")],
        "one less for an even one"),
    "batchnorm_backward_alt: N = dout.shape[1]": (
        "04b", "normalization.py", "normalization.batchnorm_backward_alt",
        [("    N = dout.shape[0]\n    dbeta = dout.sum(axis=0)",
          "    N = dout.shape[1]\n    dbeta = dout.sum(axis=0)")],
        "N is the number of examples, dout.shape[0]"),
    "RegularizedNet: no L2 penalty on the output layer": (
        "04b", "regularization.py", "regularization.RegularizedNet",
        [("        for layer in range(1, num_layers + 1):\n            W = self.params",
          "        for layer in range(1, num_layers):\n            W = self.params")],
        "the output layer's W included"),
    "adam: v averages g instead of g * g": (
        "05a", "optim.py", "optim.adam",
        [("    v = (1 - beta2) * g * g\n", "    v = (1 - beta2) * g\n")],
        "v averages the squared gradients"),
    "adagrad: r sums dw * dw": (
        "05a", "optim.py", "optim.adagrad",
        [('    r = config["sum_sq"] + g * g if "sum_sq" in config else g * g',
          '    r = config["sum_sq"] + dw * dw if "sum_sq" in config else dw * dw')],
        "the weight-decay term included"),
    "rmsprop: r averages dw * dw": (
        "05a", "optim.py", "optim.rmsprop",
        [("    r = (1 - decay) * g * g\n", "    r = (1 - decay) * dw * dw\n")],
        "the weight-decay term included"),
    "clip_grad_norm: np.clip per entry": (
        "05a", "optim.py", "optim.clip_grad_norm",
        [("    clipped = {name: g * scale for name, g in grads.items()}",
          "    clipped = {name: g.clip(-max_norm, max_norm) for name, g in grads.items()}")],
        "clips each entry on its own"),
    "cosine_annealing: progress divided by total_steps": (
        "05a", "optim.py", "optim.cosine_annealing",
        [("        progress = (step - warmup_steps) / (total_steps - warmup_steps)",
          "        progress = (step - warmup_steps) / total_steps")],
        "the steps after the warm-up only"),
    "adam: moments start at g and g * g": (
        "05b", "optim.py", "optim.adam",
        [('    m = (1 - beta1) * g\n    v = (1 - beta2) * g * g\n    if "m" in config:\n'
          '        m = beta1 * config["m"] + m\n        v = beta2 * config["v"] + v',
          '    m = g\n    v = g * g\n    if "m" in config:\n'
          '        m = beta1 * config["m"] + (1 - beta1) * g\n'
          '        v = beta2 * config["v"] + (1 - beta2) * g * g')],
        "the moments start at 0"),
    "adam: v averages dw * dw": (
        "05c", "optim.py", "optim.adam",
        [("    v = (1 - beta2) * g * g\n", "    v = (1 - beta2) * dw * dw\n")],
        "the weight-decay term included"),
    "rnn_forward: H = x.shape[2]": (
        "09a", "rnn.py", "rnn.rnn_forward",
        [("    N, T, _ = x.shape\n    H = h0.shape[1]\n"
          "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))",
          "    N, T, H = x.shape\n"
          "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))")],
        "H, the hidden size, is h0.shape[1]"),
    "lstm_forward: starts from zeros, not h0": (
        "09a", "rnn.py", "rnn.lstm_forward",
        [("    prev = h0\n    steps = []\n    for t in range(T):\n        prev, c,",
          "    prev = xp.zeros_like(h0)\n    steps = []\n"
          "    for t in range(T):\n        prev, c,")],
        "starts from h0"),
    "lstm_step_backward: the sigmoid's derivative for g": (
        "09a", "rnn.py", "rnn.lstm_step_backward",
        [("dg * (1.0 - g * g)", "dg * g * (1.0 - g)")],
        "its local gradient is 1 - g**2"),
    "temporal_affine_backward: x.reshape(H, -1) for the transpose": (
        "09a", "rnn.py", "rnn.temporal_affine_backward",
        [("    dw = x.reshape(-1, H).T @ dout.reshape(-1, M)",
          "    dw = x.reshape(H, -1) @ dout.reshape(-1, M)")],
        "is not the transpose of x.reshape(-1, H)"),
    "temporal_softmax_loss: masked labels used as indices": (
        "09a", "rnn.py", "rnn.temporal_softmax_loss",
        [("    labels = xp.where(mask, y, 0).reshape(-1)", "    labels = y.reshape(-1)")],
        "replace them by a valid index"),
    "rnn_backward: D = H": (
        "09b", "rnn.py", "rnn.rnn_backward",
        [("    D = steps[0][0].shape[1]\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
          "    dWx, dWh, db = 0.0, 0.0, 0.0\n    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
          "    for t in reversed(range(T)):\n        # the",
          "    D = H\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
          "    dWx, dWh, db = 0.0, 0.0, 0.0\n    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
          "    for t in reversed(range(T)):\n        # the")],
        "dx has the input size D"),
    "lstm_step_forward: H = x.shape[1]": (
        "09b", "rnn.py", "rnn.lstm_step_forward",
        [("    H = h_prev.shape[1]\n    a = x @ Wx", "    H = x.shape[1]\n    a = x @ Wx")],
        "H, the hidden size, is h_prev.shape[1]"),
    "gan_step: D's loss given the fakes first": (
        "10a", "generative.py", "generative.gan_step",
        [("    d_loss = d_loss_fn(D(real), D(fakes))",
          "    d_loss = d_loss_fn(D(fakes), D(real))")],
        "takes the real examples' scores first"),
    "vae_loss: mu where mu**2 belongs in the KL": (
        "10a", "generative.py", "generative.vae_loss",
        [("1 + logvar - mu.pow(2) - logvar.exp()", "1 + logvar - mu - logvar.exp()")],
        "the KL has mu squared"),
    "gan_step: the BCE losses for loss='ls' too": (
        "10b", "generative.py", "generative.gan_step",
        [('    if loss == "bce":\n        d_loss_fn', '    if True:\n        d_loss_fn')],
        "loss='ls' asks for the least-squares losses"),
    "softmax_loss_naive: one maximum for the whole batch": (
        "01a", "linear.py", "linear.softmax_loss_naive",
        [("        scores = scores - scores.max()  # numerical stability",
          "        scores = scores - (X @ W).max()  # numerical stability")],
        "subtract each example's own largest score"),
    "elu_backward: out + 1 for x <= 0": (
        "02a", "layers.py", "layers.elu_backward",
        [("    dx = xp.where(x > 0, dout, dout * alpha * xp.exp(xp.minimum(x, 0)))",
          "    dx = xp.where(x > 0, dout, dout * (alpha * xp.expm1(xp.minimum(x, 0)) + 1))")],
        "not out + 1"),
    "conv_forward_naive: W_out from H and HH": (
        "03a", "conv.py", "conv.conv_forward_naive",
        [("    W_out = (W + 2 * pad - WW) // stride + 1\n    xpad = xp.pad(x, ((0, 0), (0, 0), "
          "(pad, pad), (pad, pad)))\n    out",
          "    W_out = (H + 2 * pad - HH) // stride + 1\n    xpad = xp.pad(x, ((0, 0), (0, 0), "
          "(pad, pad), (pad, pad)))\n    out")],
        "W_out comes from the width"),
    "conv_forward: W_out from H and HH": (
        "03a", "conv.py", "conv.conv_forward",
        [("    W_out = (W + 2 * pad - WW) // stride + 1\n    xpad = xp.pad(x, ((0, 0), (0, 0), "
          "(pad, pad), (pad, pad))) if pad else x",
          "    W_out = (H + 2 * pad - HH) // stride + 1\n    xpad = xp.pad(x, ((0, 0), (0, 0), "
          "(pad, pad), (pad, pad))) if pad else x")],
        "W_out comes from the width"),
    "max_pool_forward_naive: windows pool_size apart": (
        "03a", "conv.py", "conv.max_pool_forward_naive",
        [("                    top, left = i * stride, j * stride\n"
          "                    out[n, c, i, j]",
          "                    top, left = i * pool_size, j * pool_size\n"
          "                    out[n, c, i, j]")],
        "the windows start stride apart"),
    "max_pool_forward: the reshape that pools tiling windows only": (
        "03a", "conv.py", "conv.max_pool_forward",
        [("    out = None\n    for k in range(pool_size):\n        for l in range(pool_size):\n"
          "            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]\n"
          "            out = part.copy() if out is None else xp.maximum(out, part)",
          "    N, C, H, W = x.shape\n    out = x.reshape(N, C, H // pool_size, pool_size, "
          "W // pool_size, pool_size).max(axis=(3, 5))")],
        "pools only windows that tile x"),
    "global_avg_pool_backward: dout / (H * H)": (
        "03a", "conv.py", "conv.global_avg_pool_backward",
        [("dout[:, :, None, None] / (H * W)", "dout[:, :, None, None] / (H * H)")],
        "H rows times W columns"),
    "confusion_matrix: ignore_index tested on pred": (
        "07a", "segmentation.py", "segmentation.confusion_matrix",
        [("    keep = (target != ignore_index) if ignore_index is not None else xp.ones(target."
          "shape, bool)\n    pairs",
          "    keep = (pred != ignore_index) if ignore_index is not None else xp.ones(target."
          "shape, bool)\n    pairs")],
        "ignore_index is a value of the target: a mask on pred keeps them all"),
    "confusion_matrix: ignore_index not applied at all": (
        "07c", "segmentation.py", "segmentation.confusion_matrix",
        [("    keep = (target != ignore_index) if ignore_index is not None else xp.ones(target."
          "shape, bool)\n    pairs",
          "    keep = xp.ones(target.shape, bool)\n    pairs")],
        "the pixels whose target is ignore_index are still counted"),
    "upsample_bilinear: the columns' weights from H": (
        "07a", "segmentation.py", "segmentation.upsample_bilinear",
        [("    c0, c1, fc = weights(W, W_out)", "    c0, c1, fc = weights(H, W_out)")],
        "the column weights come from W"),
    "max_pool_with_indices: row * H + col": (
        "07a", "segmentation.py", "segmentation.max_pool_with_indices",
        [("    indices = (rows * W + cols).astype(xp.int64)",
          "    indices = (rows * H + cols).astype(xp.int64)")],
        "a row is W entries long"),
    "max_unpool_forward: one flat array for the whole batch": (
        "07a", "segmentation.py", "segmentation.max_unpool_forward",
        [("    xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), x.reshape(N, C, -1))",
          "    xp.add.at(out.reshape(-1), indices.reshape(-1), x.reshape(-1))")],
        "one plane per image and channel"),
    "pixel_cross_entropy: ignored pixels keep their weight": (
        "07a", "segmentation.py", "segmentation.pixel_cross_entropy",
        [("    weight = weight * keep\n", "")],
        "ignored pixels still weigh in the denominator"),
    "max_unpool_backward: dout flattened over the whole batch": (
        "07b", "segmentation.py", "segmentation.max_unpool_backward",
        [("    dx = xp.take_along_axis(flat, indices.reshape(N, C, -1), axis=2).reshape(x_shape)",
          "    dx = dout.reshape(-1)[indices.reshape(-1)].reshape(x_shape)")],
        "one plane per image and channel"),
    "pixel_cross_entropy: class_weights not used": (
        "07b", "segmentation.py", "segmentation.pixel_cross_entropy",
        [("    weight = class_weights[y] if class_weights is not None else xp.ones(y.shape, "
          "logits.dtype)",
          "    weight = xp.ones(y.shape, logits.dtype)")],
        "class_weights are not used"),
    "box_convert: xywh read as a centre": (
        "08a", "detection.py", "detection.box_convert",
        [('    elif src == "xywh":\n        x1, y1, x2, y2 = a, b, a + c, b + d',
          '    elif src == "xywh":\n        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, '
          'b + d / 2')],
        "'xywh' is the top-left corner and the size"),
    "batched_nms: keep in index order": (
        "08a", "detection.py", "detection.batched_nms",
        [('    keep = kept[xp.argsort(-scores[kept], kind="stable")].astype(xp.int64)',
          "    keep = kept.astype(xp.int64)")],
        "sorted by decreasing score over all labels"),
    "yolo_encode: row and column not clamped": (
        "08a", "detection.py", "detection.yolo_encode",
        [("        row = min(int(math.floor(cy * S)), S - 1)\n"
          "        col = min(int(math.floor(cx * S)), S - 1)",
          "        row = int(math.floor(cy * S))\n        col = int(math.floor(cx * S))")],
        "clamp the row and column with min(..., S - 1)"),
    "average_precision: 11-point with recall > t": (
        "08a", "detection.py", "detection.average_precision",
        [("            reached = recall >= k / 10", "            reached = recall > k / 10")],
        "a recall of at least t (recall >= t)"),
    "box_convert: cxcywh to xywh keeps the centre": (
        "08b", "detection.py", "detection.box_convert",
        [("        out = xp.stack([x1, y1, x2 - x1, y2 - y1], axis=1)",
          "        out = xp.stack([a, b, x2 - x1, y2 - y1], axis=1)")],
        "'xywh' starts with the top-left corner"),
    "batched_nms: iou_threshold not passed to nms": (
        "08b", "detection.py", "detection.batched_nms",
        [("index[nms(boxes[index], scores[index], iou_threshold=iou_threshold)]",
          "index[nms(boxes[index], scores[index])]")],
        "iou_threshold is not passed on"),
    "yolo_decode: w and h divided by S": (
        "08b", "detection.py", "detection.yolo_decode",
        [("    all_boxes = xp.stack([cx, cy, pred[..., 2], pred[..., 3]], axis=-1)",
          "    all_boxes = xp.stack([cx, cy, pred[..., 2] / S, pred[..., 3] / S], axis=-1)")],
        "copy w and h unchanged"),
    "average_precision: the rectangle's height at its left end": (
        "08b", "detection.py", "detection.average_precision",
        [("        ap = float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())",
          "        ap = float(((r[steps + 1] - r[steps]) * p[steps]).sum())")],
        "not at its left end"),
    "batched_nms: labels taken as range(number of labels)": (
        "08c", "detection.py", "detection.batched_nms",
        [("    for label in sorted(set(labels.tolist())):",
          "    for label in range(len(set(labels.tolist()))):")],
        "labels need not be 0, 1, ..., k - 1"),
    "yolo_loss: one object mask per cell": (
        "08c", "detection.py", "detection.yolo_loss",
        [("    obj = (target[..., 4] == 1)[..., None]",
          "    obj = (target[..., 4] == 1).any(axis=-1, keepdims=True)[..., None]")],
        "an object is held by one slot, not by its whole cell"),
    "average_precision: 11-point divided by 10": (
        "08c", "detection.py", "detection.average_precision",
        [("        ap = total / 11", "        ap = total / 10")],
        "divide the sum by 11"),
    "yolo_encode: not clamped, the slots counted in target": (
        "08d", "detection.py", "detection.yolo_encode",
        [("        row = min(int(math.floor(cy * S)), S - 1)\n"
          "        col = min(int(math.floor(cx * S)), S - 1)\n        slot = used[row][col]",
          "        row = int(math.floor(cy * S))\n        col = int(math.floor(cx * S))\n"
          "        slot = int(target[row, col, :, 4].sum())"),
         ("        used[row][col] += 1\n", "")],
        "clamp the row and column with min(..., S - 1)"),
    # mean_average_precision calls match_detections, precision_recall and average_precision:
    # each of its slips is graded alone
    "mean_average_precision: ground truths of every class": (
        "08d", "detection.py", "detection.mean_average_precision",
        [("gt_boxes[gt_labels == c],", "gt_boxes,")],
        "against the ground truths of class c only"),
    "mean_average_precision: iou_threshold not passed on": (
        "08e", "detection.py", "detection.mean_average_precision",
        [("gt_boxes[gt_labels == c],\n                                              "
          "iou_threshold=iou_threshold))",
          "gt_boxes[gt_labels == c]))")],
        "iou_threshold is not passed on"),
    "mean_average_precision: num_gt of every class": (
        "08f", "detection.py", "detection.mean_average_precision",
        [("        num_gt = sum(int((gt[1] == c).sum()) for gt in ground_truths)",
          "        num_gt = sum(int(gt[1].shape[0]) for gt in ground_truths)")],
        "counts the ground truths of class c only"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """group -> {key: report entry}, graded once per group on first use."""
    def build(group, folder):
        names = [n for n, case in CASES.items() if case[0] == group]
        keys = {CASES[n][2] for n in names}
        assert len(keys) == len(names), f"group {group} grades a function twice"
        replace = {}
        for name in names:
            _, module, _, edits, _ = CASES[name]
            replace.setdefault(module, []).extend(edits)
        return make_submission(folder, replace=replace), UNITS[group[:2]], keys

    return grader_by_group(tmp_path_factory, build)


@pytest.mark.parametrize("name", list(CASES))
def test_a_slip_right_on_nice_inputs_loses_its_points_with_its_hint(graded, name):
    group, _, key, _, words = CASES[name]
    if "torch" in getattr(COURSE_UNITS[UNITS[group[:2]]], "packages", ()):
        pytest.importorskip("torch")
    entry = graded(group)[key]
    assert entry["status"] in ("failed", "error") and entry["score"] == 0, entry
    assert words in (entry["hint"] or ""), entry
    assert "calls your" not in (entry["hint"] or ""), entry  # not blamed on another function


def test_the_even_cutout_hint_needs_every_square_offset_by_one():
    """cutout_span_hint names the (size - 1) // 2 offset only when every square fits it: one
    square where the docstring puts it (or any odd size) gets no such hint."""
    from autograder.specs import augmentation as spec

    H = W = 6
    late = [(1, 4, 2, 5), (0, 2, 0, 3)]  # centres 2 and 3, 0 and 1, squares starting cy - 1
    assert spec.cutout_span_hint(late, 4, H, W) is spec.CUTOUT_EVEN
    assert spec.cutout_span_hint(late + [(0, 1, 0, 1)], 4, H, W) is None  # centre 0: cy - 2
    assert spec.cutout_span_hint([(0, 1, 0, 1)], 3, H, W) is None  # odd: no offset to name
