"""Realistic wrong implementations of units 05 and 07-10 that lost their points with no
hint, now named (kind-3 findings of the audit).

Each case is the reference with one function rewritten the way a student gets it wrong; graded
through the real worker it must score 0 and its hint must name the mistake (the hints are in
autograder/mistakes/<module>.py; test_hints.py checks each registered mistake on its own).
"""

import pytest

from .submissions import bwrap, graded_to_zero, make_submission

UNITS = {"05": "05_optim", "07": "07_segmentation", "08": "08_detection", "09": "09_rnn",
         "10": "10_generative"}

# (unit, module, key, edits, words of the hint); edits: [(old, new)] exact replacements in the
# reference, or a string: a function appended to the module (later definitions win)
CASES = {
    # -------------------------------------------------------------- unit 05
    "adam: running averages with swapped weights (m = (1 - beta1) * m + beta1 * g)": (
        "05", "optim.py", "optim.adam",
        [('    m = (1 - beta1) * g\n    v = (1 - beta2) * g * g\n    if "m" in config:\n'
          '        m = beta1 * config["m"] + m\n        v = beta2 * config["v"] + v\n',
          '    m = beta1 * g\n    v = beta2 * g * g\n    if "m" in config:\n'
          '        m = (1 - beta1) * config["m"] + m\n        v = (1 - beta2) * config["v"] + v\n'
          )],
        "the weights of the running averages are swapped"),
    "momentum: config.get('velocity', g), so the first v is (1 + momentum) * g": (
        "05", "optim.py", "optim.sgd_momentum",
        [("        v = g  # first step: momentum * 0 + g (g is a new array, never dw itself)",
          '        v = config["momentum"] * g + g')],
        "the velocity starts at 0, not at g"),
    "clip_grad_norm: total_norm as the sum of the arrays' norms": (
        "05", "optim.py", "optim.clip_grad_norm",
        [("    total_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))",
          "    total_norm = sum(math.sqrt(float((g * g).sum())) for g in grads.values())")],
        "not the sum of the arrays' norms"),
    "cosine_annealing: the warm-up rising from lr_min": (
        "05", "optim.py", "optim.cosine_annealing",
        [("        lr = lr0 * step / warmup_steps",
          "        lr = lr_min + (lr0 - lr_min) * step / warmup_steps")],
        "the warm-up starts from 0, not from lr_min"),
    # -------------------------------------------------------------- unit 07
    "soft_dice_loss: the V-Net denominator, sums of p**2 and t**2": (
        "07", "segmentation.py", "segmentation.soft_dice_loss",
        [("    sizes = p.sum(axis=(0, 2, 3)) + t.sum(axis=(0, 2, 3))",
          "    sizes = (p * p).sum(axis=(0, 2, 3)) + (t * t).sum(axis=(0, 2, 3))"),
         ("    dp = -(2 * t * denominator - numerator) / (denominator ** 2) / K",
          "    dp = -(2 * t * denominator - 2 * p * numerator) / (denominator ** 2) / K")],
        "not their squares"),
    "soft_dice_loss: no smoothing at all": (
        "07", "segmentation.py", "segmentation.soft_dice_loss",
        [("    K = logits.shape[1]\n    shifted = logits - logits.max(axis=1, keepdims=True)\n"
          "    e = xp.exp(shifted)",
          "    smooth = 0.0\n    K = logits.shape[1]\n"
          "    shifted = logits - logits.max(axis=1, keepdims=True)\n    e = xp.exp(shifted)")],
        "smooth is missing"),
    "focal_loss: alpha[y] in the loss but not in the gradient": (
        "07", "segmentation.py", "segmentation.focal_loss",
        [("    g = a * (modulating - focusing)", "    g = modulating - focusing")],
        "alpha[y] is missing from the gradient"),
    "mean_iou: only the classes present in the target averaged": (
        "07", "segmentation.py", "segmentation.mean_iou",
        """
        def mean_iou(pred, target, *, num_classes, ignore_index=None):
            iou = iou_per_class(pred, target, num_classes=num_classes, ignore_index=ignore_index)
            cm = confusion_matrix(pred, target, num_classes=num_classes,
                                  ignore_index=ignore_index)
            present = cm.sum(axis=1) > 0
            return float(iou[present].mean()) if bool(present.any()) else float("nan")
        """,
        "a class that is predicted but never true has IoU 0"),
    # -------------------------------------------------------------- unit 08
    "box_iou: the product of width and height clipped, not each": (
        "08", "detection.py", "detection.box_iou",
        [("    inter = xp.clip(right - left, 0, None) * xp.clip(bottom - top, 0, None)",
          "    inter = xp.clip((right - left) * (bottom - top), 0, None)")],
        "clipping their product"),
    "box_iou: the boxes read as xywh": (
        "08", "detection.py", "detection.box_iou",
        [("    xp = xp_of(boxes1, boxes2)\n",
          "    xp = xp_of(boxes1, boxes2)\n"
          "    boxes1 = xp.concatenate([boxes1[:, :2], boxes1[:, :2] + boxes1[:, 2:]], axis=1)\n"
          "    boxes2 = xp.concatenate([boxes2[:, :2], boxes2[:, :2] + boxes2[:, 2:]], axis=1)\n"
          )],
        "the boxes are xyxy"),
    "yolo_encode: offsets measured from the cell's centre": (
        "08", "detection.py", "detection.yolo_encode",
        [("[cx * S - col, cy * S - row, w, h, 1.0]",
          "[cx * S - col - 0.5, cy * S - row - 0.5, w, h, 1.0]")],
        "not from its centre"),
    "yolo_encode: a centre at 1.0 dropped (row and column not clipped)": (
        "08", "detection.py", "detection.yolo_encode",
        [("        row = min(int(math.floor(cy * S)), S - 1)\n"
          "        col = min(int(math.floor(cx * S)), S - 1)\n",
          "        row = int(math.floor(cy * S))\n        col = int(math.floor(cx * S))\n"
          "        if row >= S or col >= S:\n"
          "            dropped.append(k)\n            continue\n")],
        "a centre at exactly 1.0 belongs to the last cell"),
    "yolo_decode: half a cell added to the offsets": (
        "08", "detection.py", "detection.yolo_decode",
        [("    cx = (cols + pred[..., 0]) / S\n    cy = (rows + pred[..., 1]) / S",
          "    cx = (cols + 0.5 + pred[..., 0]) / S\n    cy = (rows + 0.5 + pred[..., 1]) / S")],
        "without adding half a cell"),
    # -------------------------------------------------------------- unit 09
    "lstm_step_forward: h_next from the previous cell state": (
        "09", "rnn.py", "rnn.lstm_step_forward",
        [("    h_next = o * tanh_c\n", "    h_next = o * xp.tanh(c_prev)\n")],
        "not the previous one c_prev"),
    "temporal_softmax_loss: the gradient's -1 at every position's own label, unmasked": (
        "09", "rnn.py", "rnn.temporal_softmax_loss",
        [("    dflat[rows, labels] -= 1.0\n    dflat *= weight[:, None] / count",
          "    dflat[rows, y.reshape(-1)] -= 1.0\n    dflat /= count")],
        "the gradient is zero at masked positions too"),
    # -------------------------------------------------------------- unit 10
    "vae_loss: the KL without its factor 0.5": (
        "10", "generative.py", "generative.vae_loss",
        [("    kl = -0.5 * torch.sum(", "    kl = -torch.sum(")],
        "the factor 0.5 of the KL is missing"),
    "vae_loss: the KL without the 1 in its sum": (
        "10", "generative.py", "generative.vae_loss",
        [("torch.sum(1 + logvar - mu.pow(2) - logvar.exp())",
          "torch.sum(logvar - mu.pow(2) - logvar.exp())")],
        "the 1 inside the KL's sum is missing"),
    "ls_discriminator_loss: fakes pushed to -1": (
        "10", "generative.py", "generative.ls_discriminator_loss",
        [("0.5 * (scores_fake ** 2).mean()", "0.5 * ((scores_fake + 1) ** 2).mean()")],
        "the fake scores are pushed to 0, not -1"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_realistic_mistake_is_named(tmp_path, name):
    unit, module, key, edits, hint = CASES[name]
    unit = UNITS[unit]
    if unit in ("07_segmentation", "08_detection", "10_generative"):
        pytest.importorskip("torch")
    if isinstance(edits, str):
        sub = make_submission(tmp_path, append={module: edits})
    else:
        sub = make_submission(tmp_path, replace={module: edits})
    graded_to_zero(sub, unit, key, "", hint, use_bwrap=bwrap(unit))
