"""Units 06-10, fair as well as strict: implementations that are right by the
docstrings but written otherwise than the reference (functional layers instead of modules,
in-place activations on fresh tensors, bincount scatters, lexsort orders, Gumbel-max sampling,
other formulas of the same losses) keep full marks; and a gan_step that returns something else
than two Python floats is told what it returned (not "got list")."""

import pytest

from autograder import engine
from autograder.sandbox import Limits

from .submissions import graded_to_zero, make_submission

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)


def verdicts(report):
    return {k: (e["status"], e["message"]) for u in report["units"].values()
            for k, e in u["functions"].items()}


NUMPY_VARIANTS = {
    "segmentation.py": [
        # nearest upsampling by a Kronecker product, its backward by strided slices
        ("    out = x.repeat(scale, axis=2).repeat(scale, axis=3)\n",
         "    out = xp_of(x).kron(x, xp_of(x).ones((scale, scale), dtype=x.dtype))\n"),
        ("    dx = dout.reshape(N, C, H, scale, W, scale).sum(axis=(3, 5))\n",
         "    dx = 0\n    for a in range(scale):\n        for c in range(scale):\n"
         "            dx = dx + dout[:, :, a::scale, c::scale]\n"),
        # max-unpooling by one weighted bincount over every plane
        ("    out = xp.zeros((N, C, H * W), dtype=x.dtype)\n"
         "    n_idx = xp.arange(N).reshape(N, 1, 1)\n"
         "    c_idx = xp.arange(C).reshape(1, C, 1)\n"
         "    # add.at accumulates where indices repeat (a plain assignment would keep only one).\n"
         "    xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), x.reshape(N, C, -1))\n"
         "    out = out.reshape(N, C, H, W)",
         "    plane = (xp.arange(N * C) * (H * W)).reshape(N, C, 1, 1)\n"
         "    flat = xp.bincount((indices + plane).ravel(), weights=x.ravel(),\n"
         "                       minlength=N * C * H * W)\n"
         "    out = flat.reshape(N, C, H, W).astype(x.dtype)"),
        # the mean IoU by nanmean (its warning on all-NaN left as it is)
        ("    defined = ~xp.isnan(iou)\n"
         '    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")',
         "    value = xp.nanmean(iou)"),
        # precision and recall by plain division, 0 / 0 giving the NaN
        ("    precision = xp.full(num_classes, xp.nan)\n"
         "    recall = xp.full(num_classes, xp.nan)\n"
         "    precision[predicted > 0] = tp[predicted > 0] / predicted[predicted > 0]\n"
         "    recall[actual > 0] = tp[actual > 0] / actual[actual > 0]",
         '    with xp.errstate(divide="ignore", invalid="ignore"):\n'
         "        precision = tp / predicted\n        recall = tp / actual"),
    ],
    "detection.py": [
        # NMS over the sorted boxes with a mask, the order by lexsort
        ('    order = xp.argsort(-scores, kind="stable")\n'
         "    iou = box_iou(boxes, boxes)\n"
         "    suppressed = xp.zeros(boxes.shape[0], dtype=bool)\n"
         "    kept = []\n"
         "    for i in order.tolist():\n"
         "        if suppressed[i]:\n"
         "            continue\n"
         "        kept.append(i)\n"
         "        suppressed |= iou[i] > iou_threshold\n"
         "    keep = xp.asarray(kept, dtype=xp.int64)",
         "    order = xp.lexsort((xp.arange(len(scores)), -scores))\n"
         "    iou = box_iou(boxes[order], boxes[order])\n"
         "    alive = xp.ones(len(order), dtype=bool)\n"
         "    for i in range(len(order)):\n"
         "        if alive[i]:\n"
         "            alive[i + 1:] &= ~(iou[i, i + 1:] > iou_threshold)\n"
         "    keep = order[alive].astype(xp.int64)"),
        # AP: VOC's envelope by maximum.accumulate over every point; 11-point vectorized
        ("        r = xp.concatenate([xp.zeros(1), recall.astype(xp.float64), xp.ones(1)])\n"
         "        p = xp.concatenate([xp.zeros(1), precision.astype(xp.float64), xp.zeros(1)])\n"
         "        for k in range(p.shape[0] - 2, -1, -1):\n"
         "            p[k] = max(p[k], p[k + 1])\n"
         "        steps = xp.nonzero(r[1:] != r[:-1])[0]\n"
         "        ap = float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())",
         "        r = xp.concatenate(([0.0], recall, [1.0]))\n"
         "        p = xp.concatenate(([0.0], precision, [0.0]))\n"
         "        ap = xp.sum(xp.diff(r) * xp.maximum.accumulate(p[::-1])[::-1][1:])"),
        ("        total = 0.0\n"
         "        for k in range(11):\n"
         "            reached = recall >= k / 10\n"
         "            total += float(precision[reached].max()) if bool(reached.any()) else 0.0\n"
         "        ap = total / 11",
         "        t = xp.arange(11) / 10\n"
         "        mask = recall[None, :] >= t[:, None]\n"
         "        ap = xp.where(mask, precision[None, :], 0.0).max(axis=1, initial=0.0).mean()"),
        # the score as the largest product o * p_c (equal: o >= 0)
        ("    all_scores = pred[..., 4].reshape(-1) * probs.max(axis=1)",
         "    all_scores = (pred[..., 4].reshape(-1, 1) * probs).max(axis=1)"),
    ],
    "rnn.py": [
        # the initial weights by rng.normal, the next id by the Gumbel-max trick
        ("            self.params[key] = (weight_scale * rng.standard_normal(shape))"
         ".astype(self.dtype)",
         "            self.params[key] = rng.normal(0.0, weight_scale, size=shape)"
         ".astype(self.dtype)"),
        ("            probs = np.exp(scores - scores.max())\n"
         "            probs /= probs.sum()\n"
         "            ids[n] = rng.choice(V, p=probs)",
         "            ids[n] = np.argmax(scores + rng.gumbel(size=V))"),
    ],
}


def test_numpy_modules_written_otherwise_keep_full_marks(tmp_path):
    sub = make_submission(tmp_path, replace=NUMPY_VARIANTS)
    keys = {"segmentation.upsample_nearest", "segmentation.upsample_nearest_backward",
            "segmentation.max_unpool_forward", "segmentation.mean_iou",
            "segmentation.precision_recall_per_class", "detection.nms",
            "detection.average_precision", "detection.mean_average_precision",
            "detection.yolo_decode", "rnn.CharRNN", "rnn.CharRNN.sample"}
    report = engine.grade(sub, ["07", "08", "09"], keys=keys, limits=LIMITS)
    got = verdicts(report)
    assert set(got) == keys
    assert {k: v for k, v in got.items() if v[0] != "passed"} == {}


ARCHITECTURES = [
    # ResidualBlock as torchvision writes it: in-place addition and ReLU on fresh tensors
    ("        out = torch.relu(self.bn1(self.conv1(x)))\n"
     "        out = self.bn2(self.conv2(out))\n"
     "        out = torch.relu(out + self.shortcut(x))",
     "        identity = self.shortcut(x)\n"
     "        out = nn.functional.relu(self.bn1(self.conv1(x)), inplace=True)\n"
     "        out = self.bn2(self.conv2(out))\n"
     "        out += identity\n"
     "        out.relu_()"),
    # Inception with named convolutions, functional pooling and padding="same"
    ("        self.branch1 = nn.Sequential(nn.Conv2d(in_channels, c1, kernel_size=1), nn.ReLU())\n"
     "        self.branch2 = nn.Sequential(\n"
     "            nn.Conv2d(in_channels, c2[0], kernel_size=1), nn.ReLU(),\n"
     "            nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1), nn.ReLU(),\n"
     "        )\n"
     "        self.branch3 = nn.Sequential(\n"
     "            nn.Conv2d(in_channels, c3[0], kernel_size=1), nn.ReLU(),\n"
     "            nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2), nn.ReLU(),\n"
     "        )\n"
     "        self.branch4 = nn.Sequential(\n"
     "            nn.MaxPool2d(3, stride=1, padding=1),\n"
     "            nn.Conv2d(in_channels, c4, kernel_size=1), nn.ReLU(),\n"
     "        )",
     "        self.p1 = nn.Conv2d(in_channels, c1, 1)\n"
     "        self.p2_1 = nn.Conv2d(in_channels, c2[0], 1)\n"
     '        self.p2_2 = nn.Conv2d(c2[0], c2[1], 3, padding="same")\n'
     "        self.p3_1 = nn.Conv2d(in_channels, c3[0], 1)\n"
     '        self.p3_2 = nn.Conv2d(c3[0], c3[1], 5, padding="same")\n'
     "        self.p4 = nn.Conv2d(in_channels, c4, 1)"),
    ("        out = torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), "
     "self.branch4(x)],\n                        dim=1)",
     "        F = nn.functional\n"
     "        out = torch.concat((F.relu(self.p1(x)), F.relu(self.p2_2(F.relu(self.p2_1(x)))),\n"
     "                            F.relu(self.p3_2(F.relu(self.p3_1(x)))),\n"
     "                            F.relu(self.p4(F.max_pool2d(x, 3, 1, 1)))), 1)"),
]


def test_architectures_written_otherwise_keep_full_marks(tmp_path):
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, replace={"architectures.py": ARCHITECTURES})
    keys = {"architectures.ResidualBlock", "architectures.Inception"}
    report = engine.grade(sub, ["06"], keys=keys, limits=LIMITS)
    assert {k: v for k, v in verdicts(report).items() if v[0] != "passed"} == {}
    assert set(verdicts(report)) == keys


def test_gan_step_returning_the_item_methods_is_told_what_it_returned(tmp_path):
    """``return d_loss.item, g_loss.item`` (the methods, not called) and a NumPy value
    were told "should return ... two Python floats, got list": the worker turns every returned
    sequence into a list, so the message named the list and not the items."""
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, replace={"generative.py": [
        ("    return d_loss.item(), g_loss.item()\n", "    return d_loss.item, g_loss.item\n")]})
    entry = graded_to_zero(sub, "10_generative", "generative.gan_step",
                           "got (builtin_function_or_method, builtin_function_or_method)",
                           "(with the parentheses)", statuses=("failed",), limits=LIMITS)
    assert "got list" not in entry["message"], entry
