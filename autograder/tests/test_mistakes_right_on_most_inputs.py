"""Implementations that independent examiners found the grader missing (or explaining with the
wrong hint), one per test. Their angle: code that is
right on most inputs and wrong on some (huge inputs, ties, empty images, labels that are not
0..L-1, a threshold of 0, an argument of 0.0, sizes whose ratio rounds up, state kept from one
call to the next). Each now loses its points on a case made for it, with a message or hint that
names the problem; hidden cases built from other hidden cases stay hidden, and a student's own
exception class cannot carry a hidden input out."""

import pytest

from autograder import engine

from .submissions import graded_to_zero, make_submission, wrong_variant_graded_to_zero


# label: (unit, key, edits, words in the message, words in the hint or None)
WRONG = {
    # unit 01: a class tied with the correct one skipped as if it were the correct one
    "svm_loss_naive skipping classes by score": (
        "01_linear", "linear.svm_loss_naive", {"linear.py": [(
            "            if j == y[i]:\n                continue\n",
            "            if scores[j] == correct:\n                continue\n")]},
        "W all zeros", "still another class"),
    # unit 02
    "tanh from exp(2x)": (
        "02_mlp", "layers.tanh_forward", {"layers.py": [(
            "    out = xp.tanh(x)\n",
            "    e2 = xp.exp(2 * x)\n    out = (e2 - 1) / (e2 + 1)\n")]},
        "contains NaN", "tanh written with exp overflows"),
    "ELU forward as a sum of masked terms": (
        "02_mlp", "layers.elu_forward", {"layers.py": [(
            "    out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))\n",
            "    out = x * (x > 0) + alpha * xp.expm1(x) * (x <= 0)\n")]},
        "contains NaN", "multiplied by a mask of 0 that is NaN"),
    "ELU backward as a sum of masked terms": (
        "02_mlp", "layers.elu_backward", {"layers.py": [(
            "    dx = xp.where(x > 0, dout, dout * alpha * xp.exp(xp.minimum(x, 0)))\n",
            "    dx = dout * ((x > 0) + (x <= 0) * alpha * xp.exp(x))\n")]},
        "contains NaN", "multiplied by a mask of 0 that is NaN"),
    "svm_loss skipping classes tied with the correct one": (
        "02_mlp", "losses.svm_loss", {"losses.py": [(
            "    margins[rows, y] = 0.0",
            "    margins[scores == scores[rows, y][:, None]] = 0.0")]},
        "scores tied with the correct class", "still another class"),
    "relative_error with 1e-8 added to the denominator": (
        "02_mlp", "gradcheck.relative_error", {"gradcheck.py": [(
            "xp.abs(a - b) / xp.maximum(1e-8, xp.abs(a) + xp.abs(b))",
            "xp.abs(a - b) / (xp.abs(a) + xp.abs(b) + 1e-8)")]},
        "below 1e-8", "a lower bound of the denominator"),
    # unit 04: weight_scale=0.0 is a scale, not None
    "RegularizedNet with weight_scale or He": (
        "04_normalization", "regularization.RegularizedNet", {"regularization.py": [(
            "            scale = np.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale",
            "            scale = weight_scale or np.sqrt(2.0 / fan_in)")]},
        "all zeros for weight_scale=0.0", "not its truth value"),
    # dropout masks drawn once and kept
    "RegularizedNet reusing its first dropout masks": (
        "04_normalization", "regularization.RegularizedNet", {"regularization.py": [(
            "                h, cache_drop = dropout_forward(h, p=self.dropout, train=True, "
            "rng=self.rng)",
            "                masks = self.__dict__.setdefault('_masks', {})\n"
            "                if (layer, h.shape) not in masks:\n"
            "                    masks[(layer, h.shape)] = dropout_forward(\n"
            "                        np.ones_like(h), p=self.dropout, train=True, "
            "rng=self.rng)[1]\n"
            "                cache_drop = masks[(layer, h.shape)]\n"
            "                h = h * cache_drop")]},
        "the same dropout masks on every call", "keep no mask from one call to the next"),
    # unit 06 (hidden cases made for them)
    "SEBlock rounding C / reduction": (
        "06_architectures", "architectures.SEBlock", {"architectures.py": [(
            "hidden = max(1, channels // reduction)",
            "hidden = max(1, round(channels / reduction))")]},
        "hidden case", None),
    "ResNet striding only where the width changes": (
        "06_architectures", "architectures.ResNet", {"architectures.py": [(
            "stride = 2 if i > 0 and j == 0 else 1",
            "stride = 2 if width != channels else 1")]},
        "hidden case", None),
    # unit 08
    "match_detections taking the last of tied ground truths": (
        "08_detection", "detection.match_detections", {"detection.py": [(
            "            g = int(iou[d].argmax())",
            "            g = 0\n            for j in range(iou.shape[1]):\n"
            "                if iou[d, j] >= iou[d, g]:\n                    g = j")]},
        "hidden case", None),
    "match_detections matching nothing at IoU 0": (
        "08_detection", "detection.match_detections", {"detection.py": [(
            "            g = int(iou[d].argmax())\n"
            "            if float(iou[d, g]) >= iou_threshold and not taken[g]:",
            "            g, best = -1, 0.0\n            for j in range(iou.shape[1]):\n"
            "                if iou[d, j] > best:\n"
            "                    g, best = j, float(iou[d, j])\n"
            "            if g >= 0 and best >= iou_threshold and not taken[g]:")]},
        "hidden case", None),
    "batched_nms over range(number of labels)": (
        "08_detection", "detection.batched_nms", {"detection.py": [(
            "    for label in sorted(set(labels.tolist())):",
            "    for label in range(len(set(labels.tolist()))):")]},
        "hidden case", None),
    "yolo_loss divided by the images with an object": (
        "08_detection", "detection.yolo_loss", {"detection.py": [(
            "    num = pred.shape[0]\n",
            "    num = max(1, int((target[..., 4] == 1).reshape(pred.shape[0], -1).any(1).sum()))\n"
        )]},
        "hidden case", None),
    "mean_average_precision 0 without any ground truth": (
        "08_detection", "detection.mean_average_precision", {"detection.py": [(
            'if bool(present.any()) else float("nan")', "if bool(present.any()) else 0.0")]},
        "hidden case", None),
    "coco_map 0 without any ground truth": (
        "08_detection", "detection.coco_map", {"detection.py": [(
            "    result = sum(values) / len(values)",
            "    finite = [v for v in values if v == v]\n"
            "    result = sum(finite) / len(finite) if finite else 0.0")]},
        "hidden case", None),
    # unit 09
    "rnn_step_forward's tanh from exp": (
        "09_rnn", "rnn.rnn_step_forward", {"rnn.py": [(
            "    h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)",
            "    a = x @ Wx + h_prev @ Wh + b\n"
            "    with np.errstate(over='ignore', invalid='ignore'):\n"
            "        h_next = (xp.exp(a) - xp.exp(-a)) / (xp.exp(a) + xp.exp(-a))")]},
        "hidden case", None),
    "CharRNN's W_embed drawn without weight_scale": (
        "09_rnn", "rnn.CharRNN", {"rnn.py": [(
            "        for key, shape in shapes.items():\n"
            "            self.params[key] = (weight_scale * rng.standard_normal(shape))"
            ".astype(self.dtype)",
            "        for key, shape in shapes.items():\n"
            "            scale = 1.0 if key == 'W_embed' else weight_scale\n"
            "            self.params[key] = (scale * rng.standard_normal(shape))"
            ".astype(self.dtype)")]},
        "W_embed has standard deviation", "draw every weight array (W_embed too)"),
    # unit 10
    "gan_step without g_optimizer.zero_grad()": (
        "10_generative", "generative.gan_step", {"generative.py": [(
            "    g_optimizer.zero_grad()\n", "")]},
        "", "no g_optimizer.zero_grad(), or d_optimizer zeroed in its place"),
}


@pytest.mark.parametrize("label", list(WRONG))
def test_wrong_variant_loses_its_points(tmp_path, label):
    wrong_variant_graded_to_zero(tmp_path, *WRONG[label])


def test_a_backward_whose_forward_fails_is_told_to_fix_the_forward_first(tmp_path):
    """max_pool_forward_naive with its output width taken from H: the backward's test gets its
    cache from that forward and fails inside it; the verdict points at the forward."""
    sub = make_submission(tmp_path, replace={"conv.py": [(
        "    W_out = (W - pool_size) // stride + 1\n    out = xp.zeros((N, C, H_out, W_out), "
        "dtype=x.dtype)\n    for n in range(N):",
        "    W_out = (H - pool_size) // stride + 1\n    out = xp.zeros((N, C, H_out, W_out), "
        "dtype=x.dtype)\n    for n in range(N):")]})
    keys = {"conv.max_pool_forward_naive", "conv.max_pool_backward_naive"}
    found = engine.grade(sub, ["03_cnn"], keys=keys, use_bwrap=False)["units"]["03_cnn"][
        "functions"]
    assert found["conv.max_pool_forward_naive"]["status"] == "failed"
    backward = found["conv.max_pool_backward_naive"]
    assert backward["score"] == 0 and backward["hint"].startswith(
        "this function calls your max_pool_forward_naive, which fails its own test"), backward


def test_a_charrnn_hint_names_no_rule_of_another_unit(tmp_path):
    """CharRNN has no weight_scale=None and no convolution: its hint says neither."""
    sub = make_submission(tmp_path, replace={"rnn.py": WRONG[
        "CharRNN's W_embed drawn without weight_scale"][2]["rnn.py"]})
    report = engine.grade(sub, ["09_rnn"], keys={"rnn.CharRNN"}, use_bwrap=False)
    hint = report["units"]["09_rnn"]["functions"]["rnn.CharRNN"]["hint"]
    assert "None" not in hint and "convolution" not in hint, hint


def test_a_float32_module_output_is_explained(tmp_path):
    """A DenseBlock that collects its output in a float32 tensor is off by about 2e-5: the
    verdict says where such an error comes from, and names the module call once."""
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "        for unit in self.units:\n            x = torch.cat([x, unit(x)], dim=1)",
        "        out = torch.zeros(x.shape[0], self.out_channels, x.shape[2], x.shape[3])\n"
        "        c = x.shape[1]\n        out[:, :c] = x\n        for unit in self.units:\n"
        "            g = unit(out[:, :c].to(x.dtype))\n            out[:, c:c + g.shape[1]] = g\n"
        "            c += g.shape[1]\n        x = out.to(x.dtype)")]})
    entry = graded_to_zero(sub, "06_architectures", "architectures.DenseBlock",
                           "float32 arithmetic", use_bwrap=None)
    assert entry["message"].startswith("DenseBlock(3, 2, 4) on input"), entry


def test_an_exception_class_named_after_a_hidden_input_is_not_shown(tmp_path):
    """The student picks the name of an exception class; on a hidden case only Python's and
    NumPy's exception names are shown (a name could carry the hidden input out)."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "    h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)",
        "    if x.shape[0] == 5:\n"
        "        raise type('N5_D%d_H%d' % (x.shape[1], Wx.shape[1]), (Exception,), {})()\n"
        "    if x.shape[0] == 1 and Wx.shape[0] == 1:\n"
        "        raise KeyError('N1_D1')\n"
        "    h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)")]})
    report = engine.grade(sub, ["09_rnn"], keys={"rnn.rnn_step_forward"}, use_bwrap=False)
    entry = report["units"]["09_rnn"]["functions"]["rnn.rnn_step_forward"]
    assert entry["message"] == ("rnn_step_forward: on hidden case 1: the code raised an error"), \
        entry
    assert "N5_D3_H7" in report["instructor"]["functions"]["rnn.rnn_step_forward"]["message"]


def test_cases_derived_from_hidden_ones_are_reported_as_hidden(tmp_path):
    """lstm_forward's cases with and without c0 are built from the hidden sequence cases: a
    failure there shows the hidden case's number, not its sizes or values."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "    c = xp.zeros((N, H), dtype=dtype) if c0 is None else c0\n",
        "    c = xp.zeros((N, H), dtype=dtype) if c0 is None else c0\n"
        "    if N == 4:\n        c = c + 0.5\n")]})
    report = engine.grade(sub, ["09_rnn"], keys={"rnn.lstm_forward"}, use_bwrap=False)
    entry = report["units"]["09_rnn"]["functions"]["rnn.lstm_forward"]
    assert entry["message"].startswith("lstm_forward: failed on hidden case 1: "), entry
    assert "N=4" not in str(entry) and "T=7" not in str(entry), entry
