"""Slips of interface and habit get verdicts that say what to do (the audit of 86 slips).

Each case is the reference with one slip a student makes; the verdict must name it. Before,
these got true but unhelpful verdicts ("the output is wrong", "dx is wrong", PyTorch's own
error), a misleading hint (stable sorting of ties for a list returned where an array belongs), or
full marks where the docstring says otherwise (float64 images from float32 ones, tensors where
Python floats belong, an extra key in grads).
"""

import numpy as np
import pytest

from autograder import engine
from autograder.compare import Failed
from autograder.spec import _check_order
from autograder.specs.architectures import (LOG_PROBABILITIES_HINT, PROBABILITIES_HINT,
                                            probabilities_hint)

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("slip-verdicts")

DETACHED_SE = (
    "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))\n",
    "        s = torch.tensor(x.detach().numpy().mean(axis=(2, 3)))\n"
    "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))\n")
DECODER_FIRST = (
    "        # One decoder stage per level, deepest first: (transposed convolution, DoubleConv).\n"
    "        self.decoders = nn.ModuleList()\n"
    "        for level in reversed(range(self.depth)):\n"
    "            stage = nn.Module()\n"
    "            stage.up = nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2)\n"
    "            stage.conv = DoubleConv(2 * channels[level], channels[level])\n"
    "            self.decoders.append(stage)\n")

# id: (unit, key, module, [(old, new)], words of the message, words of the hint)
SLIPS = {
    "dict of APs": ("08", "detection.mean_average_precision", "detection.py", [(
        "    return mean_ap, ap_per_class",
        "    ap_per_class = {c: float(ap_per_class[c]) for c in range(num_classes)}\n"
        "    return mean_ap, ap_per_class")],
        "ap_per_class should be an array of shape (3,), got a dict", None),
    "nms list": ("08", "detection.nms", "detection.py", [(
        "    keep = xp.asarray(kept, dtype=xp.int64)", "    keep = kept")],
        "keep should be a NumPy array", ""),
    "nms empty float": ("08", "detection.nms", "detection.py", [(
        "    keep = xp.asarray(kept, dtype=xp.int64)", "    keep = xp.asarray(kept)")],
        "an empty list or array is float64 unless told otherwise", None),
    "float cast": ("06", "architectures.TransitionBlock", "architectures.py", [(
        "        out = self.layers(x)", "        out = self.layers(x.float())")],
        "float32 and float64 tensors met in one operation", None),
    "softmax at the end": ("06", "architectures.LeNet5", "architectures.py", [(
        "        scores = self.classifier(self.features(x))",
        "        scores = torch.softmax(self.classifier(self.features(x)), dim=1)")],
        "the output is wrong", PROBABILITIES_HINT),
    "detached squeeze": ("06", "architectures.SEBlock", "architectures.py", [DETACHED_SE],
                         "dx is wrong", "autograd does not see the whole computation"),
    "detached output": ("08", "detectors.TinyYOLO", "detectors.py", [(
        "        return out\n", "        return out.detach()\n")],
        "the output is cut off from the parameters", None),
    "cuda by name": ("10", "generative.corrupt", "generative.py", [(
        "dtype=x.dtype,\n                                        device=x.device)",
        "dtype=x.dtype,\n                                        device='cuda')")],
        "never on 'cuda' by name", None),
    "in-place on a leaf": ("10", "generative.reparameterize", "generative.py", [(
        "    z = mu + torch.exp(0.5 * logvar) * eps",
        "    z = mu\n    z += torch.exp(0.5 * logvar) * eps")],
        "build a new tensor instead", None),
    "eps changed in place": ("10", "generative.VAE", "generative.py", [(
        "    z = mu + torch.exp(0.5 * logvar) * eps",
        "    z = eps.mul_(torch.exp(0.5 * logvar)).add_(mu)")],
        "modified its input eps in place", None),
    "file read at import": ("04", "regularization.dropout_forward", "regularization.py", [(
        "def dropout_forward(", "with open('cifar10_mean.txt') as _f:\n    MEAN = _f.read()\n\n\n"
        "def dropout_forward(")], "read no file when the module is imported", None),
    "layers registered out of order": ("07", "segnets.UNet", "segnets.py", [
        (DECODER_FIRST, ""),
        ("        self.encoders = nn.ModuleList()\n",
         DECODER_FIRST + "        self.encoders = nn.ModuleList()\n")],
        "parameter 1 in forward order has shape", "every parameter shape is there"),
    "float64 from float32 images": ("04", "augmentation.color_jitter", "augmentation.py", [(
        "    out = out.astype(images.dtype, copy=False)\n", "")],
        "the output has dtype float64, expected float32", "keep the images' dtype"),
    "losses as tensors": ("10", "generative.gan_step", "generative.py", [(
        "    return d_loss.item(), g_loss.item()", "    return d_loss, g_loss")],
        "returned (Tensor, Tensor) where the docstring asks for two Python floats",
        "return d_loss.item(), g_loss.item()"),
    "extra gradient": ("09", "rnn.CharRNN", "rnn.py", [(
        "        de, _, grads[\"Wx\"], grads[\"Wh\"], grads[\"b\"] = backward(dh, cache_rnn)",
        "        de, dh0, grads[\"Wx\"], grads[\"Wh\"], grads[\"b\"] = backward(dh, cache_rnn)\n"
        "        grads[\"h0\"] = dh0")],
        "grads holds ['h0'], which params does not", "keyed like params and nothing else"),
    # a buffer of the student's own was called a batch norm buffer
    "own buffer": ("06", "architectures.SEBlock", "architectures.py", [(
        "        hidden = max(1, channels // reduction)\n",
        "        hidden = max(1, channels // reduction)\n"
        "        self.register_buffer(\"last_gates\", torch.zeros(channels))\n")],
        "it registers buffers of its own (last_gates)", "not register_buffer"),
    # a loss rebuilt from a number was told its gradient dlogits was -0.46 times the
    # expected one (what flowed came from the other two outputs)
    "loss rebuilt from a number": ("10", "generative.vae_loss", "generative.py", [(
        "    loss = reconstruction + kl\n",
        "    loss = torch.tensor(float(reconstruction + kl), dtype=x.dtype)\n")],
        "loss carries no gradient: it was cut off from the inputs",
        "has no history: backward() from it changes nothing"),
    # the 11-point AP's max over an empty selection (no recall reaches t) had no advice
    "max of an empty selection": ("08", "detection.average_precision", "detection.py", [(
        "            total += float(precision[reached].max()) if bool(reached.any()) else 0.0\n",
        "            total += float(precision[reached].max())\n")],
        "entry of an empty array does not exist, and this input makes the selection empty",
        None),
    # a lazy layer has no shape until a forward has run
    "lazy linear": ("06", "architectures.VGG", "architectures.py", [(
        "            nn.Linear(channels * size * size, fc_dim), nn.ReLU(), nn.Dropout(dropout),",
        "            nn.LazyLinear(fc_dim), nn.ReLU(), nn.Dropout(dropout),")],
        "a lazy layer (nn.LazyLinear, nn.LazyConv2d) has no shape until its first forward",
        None),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_a_slip_gets_a_verdict_that_names_it(slip, tmp_path):
    unit, key, module, pairs, message_words, hint_words = SLIPS[slip]
    sub = make_submission(tmp_path, replace={module: pairs})
    report = engine.grade(sub, [unit], keys={key})
    entry = next(u["functions"][key] for u in report["units"].values())
    assert entry["status"] != "passed" and entry["score"] == 0, entry
    message = " ".join(entry["message"].split())
    hint = " ".join((entry["hint"] or "").split())
    if message_words:
        assert message_words in message, entry
    if hint_words is None:
        pass
    elif hint_words == "":  # no hint that points elsewhere
        assert "stable" not in hint and "ties" not in hint, entry
    else:
        assert hint_words in hint, entry


def test_a_misspelled_forward_is_told_where_to_look(tmp_path):
    key = "architectures.SEBlock"
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "        return out\n\n\nclass DepthwiseSeparableConv",
        "        return out\n\n    foward = forward\n    del forward\n\n\n"
        "class DepthwiseSeparableConv")]})
    entry = engine.grade(sub, ["06"], keys={key})["units"]["06_architectures"]["functions"][key]
    assert entry["status"] == "error", entry
    message = " ".join(entry["message"].split())
    assert 'is missing the required "forward" function; define forward(self, ...) as a method ' \
           "of the class: check its spelling" in message, entry


def test_a_label_that_is_a_call_is_not_wrapped_in_the_name_again(tmp_path):
    sub = make_submission(tmp_path, replace={"detectors.py": [(
        "        return out\n", "        return out.detach()\n")]})
    key = "detectors.TinyYOLO"
    entry = engine.grade(sub, ["08"], keys={key})["units"]["08_detection"]["functions"][key]
    assert entry["message"].startswith("TinyYOLO(3) on input"), entry


def test_dropout_left_on_in_eval_mode_is_named(tmp_path):
    """F.dropout(x, p) without training=self.training: eval-mode outputs change call to call."""
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "        scores = self.classifier(self.features(x))",
        "        scores = self.classifier(torch.nn.functional.dropout(self.features(x), 0.5))")]})
    key = "architectures.LeNet5"
    entry = engine.grade(sub, ["06"], keys={key})["units"]["06_architectures"]["functions"][key]
    assert entry["status"] == "failed", entry
    assert "eval mode" in entry["message"], entry
    assert entry["hint"].startswith("in eval mode the output changes from one call to the next: "
                                    "dropout is still active"), entry


def test_probabilities_are_told_from_scores():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((4, 5))
    probs = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    assert probabilities_hint(probs, scores) == PROBABILITIES_HINT
    assert probabilities_hint(np.log(probs), scores) == LOG_PROBABILITIES_HINT
    assert probabilities_hint(scores + 1, scores) is None  # wrong, but not probabilities
    assert probabilities_hint(probs[:, :1] / probs[:, :1], scores[:, :1]) is None  # one class
    assert probabilities_hint(probs, probs) is None  # the expected ones are a distribution


def test_values_under_each_others_keys_are_named():
    expected = (1.0, np.zeros((4, 5)), np.zeros((5, 5)))
    names = ("loss", "grads['Wx']", "grads['Wh']")
    with pytest.raises(Failed, match=r"values stored under each other's keys: grads\['Wx'\] "
                                     r"holds what belongs in grads\['Wh'\]"):
        _check_order((1.0, expected[2], expected[1]), expected, names)
    with pytest.raises(Failed, match=r"returns its values in another order: \(dW, loss\)"):
        _check_order((np.zeros(3), 2.0), (1.0, np.ones(3)), ("loss", "dW"))
    _check_order((2.0, np.zeros(3)), (1.0, np.ones(3)), ("loss", "dW"))  # right order: no claim
    _check_order(([1, 2, 3], 2.0), (1.0, np.ones(3)), ("loss", "dW"))  # a list: no claim
