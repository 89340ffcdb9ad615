"""An examiner's sweep of units 05, 07's and 08's NumPy modules and 09: first-attempt mistakes
that lost their points with a verdict naming no cause (or the wrong one), now named by a known
mistake, and correct code written otherwise that keeps full marks.

Each case is the reference with one function rewritten as a student writes it, graded through
the real worker: a mistake must score 0 with the words of its hint; a fair variant must keep
every point.
"""

import pytest

from .submissions import bwrap, graded_to_zero, make_submission

UNITS = {"05": "05_optim", "07": "07_segmentation", "08": "08_detection", "09": "09_rnn"}

# name -> (unit, module file, key, [(old, new)] edits of the reference, words of the hint)
MISTAKES = {
    # unit 05: the first step is right in each, so only a later step tells
    "momentum with PyTorch's dampening after the first step": (
        "05", "optim.py", "optim.sgd_momentum",
        [('v = config["momentum"] * config["velocity"] + g  # a new',
          'v = config["momentum"] * config["velocity"] + (1 - config["momentum"]) * g  # a new')],
        "momentum adds the whole gradient"),
    "adam storing the bias-corrected moments": (
        "05", "optim.py", "optim.adam",
        [("    config.update(m=m, v=v, t=t)", "    config.update(m=m_hat, v=v_hat, t=t)")],
        "storing the bias-corrected m_hat and v_hat"),
    # the old verdict blamed a comparison with the previous value
    "ReduceOnPlateau returning the rate read before this step's reduction": (
        "05", "optim.py", "optim.ReduceOnPlateau",
        [("        if self.num_bad_steps > self.patience:\n            self.lr *= self.factor\n"
          "            self.num_bad_steps = 0\n        # END SOLUTION\n        return self.lr",
          "        lr = self.lr\n        if self.num_bad_steps > self.patience:\n"
          "            self.lr *= self.factor\n            self.num_bad_steps = 0\n"
          "        # END SOLUTION\n        return lr")],
        "return the reduced rate"),
    # unit 09
    "rnn_step_backward: tanh's derivative from h_prev": (
        "09", "rnn.py", "rnn.rnn_step_backward",
        [("da = dh_next * (1.0 - h_next * h_next)", "da = dh_next * (1.0 - h_prev * h_prev)")],
        "not with the previous state h_prev"),
    "CharRNN.loss: the RNN's h_last taken as h[-1], the last sequence": (
        "09", "rnn.py", "rnn.CharRNN",
        [("            h_last = h[:, -1].copy()", "            h_last = h[-1].copy()")],
        "so h[-1] is the last sequence's states"),
    # unit 07
    "pixel_cross_entropy: the ignored pixels' weights left in the divisor": (
        "07", "segmentation.py", "segmentation.pixel_cross_entropy",
        [("    weight = weight * keep\n    total = float(weight.sum())\n",
          "    total = float(weight.sum())\n    weight = weight * keep\n")],
        "ignored pixels still weigh in the denominator"),
    "soft_dice_loss: the softmax backward as p * (1 - p)": (
        "07", "segmentation.py", "segmentation.soft_dice_loss",
        [("    dlogits = p * (dp - (dp * p).sum(axis=1, keepdims=True))",
          "    dlogits = p * (1 - p) * dp")],
        "keeps only the diagonal of its Jacobian"),
    "confusion_matrix: ignore_index applied to the prediction too": (
        "07", "segmentation.py", "segmentation.confusion_matrix",
        [("    keep = (target != ignore_index) if ignore_index is not None else xp.ones(target."
          "shape, bool)\n    pairs",
          "    keep = ((target != ignore_index) & (pred != ignore_index)) if ignore_index is not "
          "None else xp.ones(target.shape, bool)\n    pairs")],
        "only the target decides which pixels are skipped"),
    "max_pool_with_indices: H // pool_size windows whatever the stride": (
        "07", "segmentation.py", "segmentation.max_pool_with_indices",
        [("    Ho = (H - pool_size) // stride + 1\n    Wo = (W - pool_size) // stride + 1",
          "    Ho = H // pool_size\n    Wo = W // pool_size")],
        "counts them only when stride == pool_size"),
    # unit 08
    "yolo_encode: offsets in image units": (
        "08", "detection.py", "detection.yolo_encode",
        [("xp.asarray([cx * S - col, cy * S - row, w, h, 1.0])",
          "xp.asarray([cx - col / S, cy - row / S, w, h, 1.0])")],
        "the offsets are in cell units"),
    "yolo_loss: the square root's derivative without its 1/2": (
        "08", "detection.py", "detection.yolo_loss",
        [("    dpred[..., 2:4] = lambda_coord * coord[1] / root_w",
          "    dpred[..., 2:4] = 2 * lambda_coord * coord[1] / root_w")],
        "the 2 of the square and the 1/2 of the square root's derivative cancel"),
    "yolo_loss: averaged over every slot": (
        "08", "detection.py", "detection.yolo_loss",
        [("    num = pred.shape[0]\n", "    num = pred[..., 0].size\n")],
        "divided by the batch size N only"),
    "mean_average_precision: the ground truths of all images pooled": (
        "08", "detection.py", "detection.mean_average_precision",
        [("gt_boxes[gt_labels == c],\n",
          "xp.concatenate([g[0][g[1] == c] for g in ground_truths]),\n")],
        "against the ground truths of that image only"),
    "mean_average_precision: images without an object of the class skipped": (
        "08", "detection.py", "detection.mean_average_precision",
        [("            mine = labels == c\n",
          "            mine = labels == c\n            if not bool((gt_labels == c).any()):\n"
          "                continue\n")],
        "are false positives: pool them too"),
    "mean_average_precision: num_gt from the images with a detection of the class": (
        "08", "detection.py", "detection.mean_average_precision",
        [("        num_gt = sum(int((gt[1] == c).sum()) for gt in ground_truths)",
          "        num_gt = sum(int((gt[1] == c).sum()) for det, gt in zip(detections, "
          "ground_truths) if bool((det[2] == c).any()))")],
        "a missed object lowers the recall"),
    "average_precision: a trapezoid rule under the envelope": (
        "08", "detection.py", "detection.average_precision",
        [("        ap = float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())",
          "        ap = float(((r[1:] - r[:-1]) * (p[1:] + p[:-1]) / 2).sum())")],
        "a trapezoid rule (np.trapz)"),
    # tested on a hidden case only (the public ones have no tie between two ground truths)
    "match_detections: the last of equal IoUs taken": (
        "08", "detection.py", "detection.match_detections",
        [("            g = int(iou[d].argmax())",
          "            g = iou.shape[1] - 1 - int(iou[d][::-1].argmax())")],
        "the ground truth of lowest index"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_first_attempt_mistake_is_named(tmp_path, name):
    unit, module, key, edits, words = MISTAKES[name]
    sub = make_submission(tmp_path, replace={module: edits})
    graded_to_zero(sub, UNITS[unit], key, "", words, use_bwrap=bwrap(UNITS[unit]))


# name -> (unit, module file, key, edits): a squeeze() that only a size-1 axis tells, which
# kept full marks while no case had one there (the new hidden cases have it)
SQUEEZED = {
    "pixel_cross_entropy: log p_y squeezed, (N, W) against (N, 1, W) on a single row": (
        "07", "segmentation.py", "segmentation.pixel_cross_entropy",
        [("    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)",
          "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1).squeeze()")]),
    "focal_loss: log p_y squeezed, on a single column": (
        "07", "segmentation.py", "segmentation.focal_loss",
        [("    log_py = xp.take_along_axis(log_probs, target[:, None], axis=1)[:, 0]\n",
          "    log_py = xp.take_along_axis(log_probs, target[:, None], axis=1).squeeze()\n")]),
    "yolo_decode: the kept slots' indices squeezed, a single slot kept": (
        "08", "detection.py", "detection.yolo_decode",
        [("    chosen = all_scores >= conf_threshold\n",
          "    chosen = xp.argwhere(all_scores >= conf_threshold).squeeze()\n")]),
    "match_detections: the score order squeezed, a single detection": (
        "08", "detection.py", "detection.match_detections",
        [('        for d in xp.argsort(-scores, kind="stable").tolist():',
          '        for d in xp.argsort(-scores, kind="stable").squeeze().tolist():')]),
    "confusion_matrix: the matrix squeezed, K=1": (
        "07", "segmentation.py", "segmentation.confusion_matrix",
        [("    matrix = counts.reshape(num_classes, num_classes).astype(xp.int64)\n",
          "    matrix = counts.reshape(num_classes, num_classes).astype(xp.int64).squeeze()\n")]),
    "batched_nms: keep squeezed, a single box": (
        "08", "detection.py", "detection.batched_nms",
        [('    keep = kept[xp.argsort(-scores[kept], kind="stable")].astype(xp.int64)',
          '    keep = kept[xp.argsort(-scores[kept], kind="stable")].astype(xp.int64).squeeze()')]),
}


@pytest.mark.parametrize("name", sorted(SQUEEZED))
def test_a_squeeze_that_only_a_size_one_axis_tells_loses_its_points(tmp_path, name):
    unit, module, key, edits = SQUEEZED[name]
    sub = make_submission(tmp_path, replace={module: edits})
    graded_to_zero(sub, UNITS[unit], key, "", use_bwrap=bwrap(UNITS[unit]))


# name -> (unit, module file, keys, edits): correct, written otherwise
FAIR = {
    "adam in torch.optim's form (sqrt(v) / sqrt(1 - beta2**t) + eps, step lr / (1 - beta1**t))": (
        "05", "optim.py", ["optim.adam"],
        [("    m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)\n"
          '    next_w = w - lr * m_hat / (xp.sqrt(v_hat) + config["epsilon"])',
          "    bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t\n"
          '    denom = xp.sqrt(v) / math.sqrt(bc2) + config["epsilon"]\n'
          "    next_w = w - (lr / bc1) * m / denom")]),
    "ReduceOnPlateau comparing sign * metric in both modes": (
        "05", "optim.py", ["optim.ReduceOnPlateau"],
        [('        better = metric < self.best if self.mode == "min" else metric > self.best',
          '        sign = 1.0 if self.mode == "min" else -1.0\n'
          "        better = sign * metric < sign * self.best")]),
    "CharRNN.sample drawing by the Gumbel-max trick from the rng": (
        "09", "rnn.py", ["rnn.CharRNN.sample"],
        [("            ids[n] = rng.choice(V, p=probs)",
          "            ids[n] = int(np.argmax(scores + rng.gumbel(size=V)))")]),
    "rnn_forward caching the whole h sequence, rnn_backward reading it": (
        "09", "rnn.py", ["rnn.rnn_forward", "rnn.rnn_backward"],
        [("    cache = steps\n    # END SOLUTION\n    return h, cache\n\n\ndef rnn_backward",
          "    cache = (x, h0, Wx, Wh, h)\n    # END SOLUTION\n    return h, cache\n\n\n"
          "def rnn_backward"),
         ("    steps = cache\n    N, T, H = dh.shape\n    D = steps[0][0].shape[1]\n",
          "    x, h0, Wx, Wh, hs = cache\n    N, T, H = dh.shape\n    D = x.shape[2]\n"),
         ("rnn_step_backward(dh[:, t] + dh_prev, steps[t])",
          "rnn_step_backward(dh[:, t] + dh_prev, "
          "(x[:, t], hs[:, t - 1] if t else h0, Wx, Wh, hs[:, t]))")]),
    "upsample_bilinear through interpolation matrices": (
        "07", "segmentation.py", ["segmentation.upsample_bilinear"],
        [("    r0, r1, fr = weights(H, H_out)\n"
          "    rows = (x[:, :, r0, :] * (1 - fr)[:, None] + x[:, :, r1, :] * fr[:, None])\n"
          "    c0, c1, fc = weights(W, W_out)\n"
          "    out = rows[:, :, :, c0] * (1 - fc) + rows[:, :, :, c1] * fc",
          "    def matrix(n_in, n_out):\n"
          "        i0, i1, fr = weights(n_in, n_out)\n"
          "        A = xp.zeros((n_out, n_in), dtype=x.dtype)\n"
          "        A[xp.arange(n_out), i0] += 1 - fr\n"
          "        A[xp.arange(n_out), i1] += fr\n"
          "        return A\n"
          '    out = xp.einsum("ih,nchw,jw->ncij", matrix(H, H_out), x, matrix(W, W_out))')]),
    "confusion_matrix with a double loop over the classes": (
        "07", "segmentation.py", ["segmentation.confusion_matrix"],
        [("    pairs = target[keep].astype(xp.int64) * num_classes + pred[keep].astype(xp.int64)\n",
          "    t_kept, p_kept = target[keep], pred[keep]\n"
          "    matrix = xp.zeros((num_classes, num_classes), dtype=xp.int64)\n"
          "    for i in range(num_classes):\n"
          "        for j in range(num_classes):\n"
          "            matrix[i, j] = int(((t_kept == i) & (p_kept == j)).sum())\n"
          "    return matrix\n")]),
    "batched_nms by torchvision's coordinate offset per label": (
        "08", "detection.py", ["detection.batched_nms"],
        [("    kept = []\n    for label in sorted(set(labels.tolist())):\n",
          "    if boxes.shape[0]:\n"
          "        span = float(boxes.max() - boxes.min()) + 1.0\n"
          "        shifted = boxes + (labels.astype(boxes.dtype) * span)[:, None]\n"
          "        return nms(shifted, scores, iou_threshold=iou_threshold)\n"
          "    kept = []\n    for label in sorted(set(labels.tolist())):\n")]),
    "nms dropping the suppressed boxes from the order as it goes": (
        "08", "detection.py", ["detection.nms"],
        [("    suppressed = xp.zeros(boxes.shape[0], dtype=bool)\n    kept = []\n"
          "    for i in order.tolist():\n        if suppressed[i]:\n            continue\n"
          "        kept.append(i)\n        suppressed |= iou[i] > iou_threshold\n",
          "    kept = []\n    while order.size:\n        i = int(order[0])\n"
          "        kept.append(i)\n"
          "        order = order[1:][iou[i, order[1:]] <= iou_threshold]\n")]),
}


@pytest.mark.parametrize("name", sorted(FAIR))
def test_correct_code_written_otherwise_keeps_its_points(tmp_path, name):
    from autograder import engine

    unit, module, keys, edits = FAIR[name]
    sub = make_submission(tmp_path, replace={module: edits})
    report = engine.grade(sub, [UNITS[unit]], keys=set(keys), use_bwrap=bwrap(UNITS[unit]))
    for key in keys:
        entry = report["units"][UNITS[unit]]["functions"][key]
        assert entry["status"] == "passed" and entry["score"] == entry["max"], entry
