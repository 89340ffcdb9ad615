"""Realistic mistakes in units 06, 07, 08 (PyTorch modules) and 10 that kept their points before
the examiner's sweep of those units, and correct-but-unusual implementations that must keep
theirs.

Each case is the reference with one function rewritten the way a student writes it, graded
through the real worker on that function only.
"""

import pytest

from .submissions import bwrap, graded_to_zero, make_submission

pytest.importorskip("torch")

UNITS = {"06": "06_architectures", "07": "07_segmentation", "08": "08_detection",
         "10": "10_generative"}

LOC_HEADS = "        class_logits, box = self.classifier(h), torch.sigmoid(self.box(h))"
YOLO_OUT = ("        out = torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], "
            "dim=-1)],\n                        dim=-1)")

# (unit, module file, key, [(old, new)], words of the message, words of the hint or None)
MISTAKES = {
    # a logvar clamped "for stability" is right for the public cases (logvar within +-5) only
    "reparameterize: logvar clamped to [-5, 5]": (
        "10", "generative.py", "generative.reparameterize",
        [("    z = mu + torch.exp(0.5 * logvar) * eps",
          "    z = mu + torch.exp(0.5 * logvar.clamp(-5, 5)) * eps")],
        "failed on hidden case", None),
    "vae_loss: logvar clamped to [-5, 5] in the KL": (
        "10", "generative.py", "generative.vae_loss",
        [("    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n",
          "    lv = logvar.clamp(-5, 5)\n"
          "    kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp()) / n")],
        "failed on hidden case", None),
    # the other head still sends gradients everywhere, so every parameter got one
    "LocalizationNet: the box head on detached features": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [(LOC_HEADS, "        class_logits, box = self.classifier(h), "
                     "torch.sigmoid(self.box(h.detach()))")],
        "a gradient of box alone does not reach the image", "the loss on box must train"),
    "LocalizationNet: the class head on .data": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [(LOC_HEADS, "        class_logits, box = self.classifier(h.data), "
                     "torch.sigmoid(self.box(h))")],
        "a gradient of class_logits alone does not reach the image", "backbone"),
    # within [0, 1], but cut: the gradient of every clamped entry is 0
    "LocalizationNet: box clamped to [0, 1]": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [(LOC_HEADS, "        class_logits, box = self.classifier(h), self.box(h).clamp(0, 1)")],
        "are exactly 0", "torch.sigmoid"),
    "TinyYOLO: x, y, w, h and objectness clamped to [0, 1]": (
        "08", "detectors.py", "detectors.TinyYOLO",
        [(YOLO_OUT, "        out = torch.cat([raw[..., :5].clamp(0, 1), "
                    "torch.softmax(raw[..., 5:], dim=-1)], dim=-1)")],
        "are exactly 0", "torch.sigmoid"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_its_points(name, tmp_path):
    unit, module, key, edits, words, hint = MISTAKES[name]
    sub = make_submission(tmp_path, replace={module: edits})
    graded_to_zero(sub, UNITS[unit], key, words, hint, use_bwrap=bwrap(UNITS[unit]))


# correct implementations written otherwise: full marks, before and after the new checks
FAIR = {
    "LocalizationNet: one linear head for both, split; dropout": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [("        self.classifier = nn.Linear(128, num_classes)\n"
          "        self.box = nn.Linear(128, 4)",
          "        self.drop = nn.Dropout(0.3)\n"
          "        self.head = nn.Linear(128, num_classes + 4)"),
         (LOC_HEADS, "        o = self.head(self.drop(h))\n"
                     "        class_logits, box = o[:, :-4], torch.sigmoid(o[:, -4:])")]),
    "TinyYOLO: slots written into a clone of the raw output": (
        "08", "detectors.py", "detectors.TinyYOLO",
        [(YOLO_OUT, "        out = raw.clone()\n"
                    "        out[..., :5] = torch.sigmoid(raw[..., :5])\n"
                    "        out[..., 5:] = torch.softmax(raw[..., 5:], dim=-1)")]),
    "reparameterize and vae_loss: std as sqrt(exp(logvar)), per-example sums": (
        "10", "generative.py", ("generative.reparameterize", "generative.vae_loss"),
        [("    z = mu + torch.exp(0.5 * logvar) * eps",
          "    z = mu + torch.sqrt(torch.exp(logvar)) * eps"),
         ("    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n",
          "    kl = (-0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).sum(dim=1)).mean()")]),
}


@pytest.mark.parametrize("name", sorted(FAIR))
def test_fair_variant_keeps_its_points(name, tmp_path):
    from autograder import engine

    unit, module, keys, edits = FAIR[name]
    keys = (keys,) if isinstance(keys, str) else keys
    sub = make_submission(tmp_path, replace={module: edits})
    report = engine.grade(sub, [UNITS[unit]], keys=set(keys), use_bwrap=bwrap(UNITS[unit]))
    for key in keys:
        entry = report["units"][UNITS[unit]]["functions"][key]
        assert entry["status"] == "passed", entry
