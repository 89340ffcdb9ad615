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
    # right answers, but a list on self that every forward appends to (memory grows with every
    # batch in training): the two-call check compared outputs only
    "UNet: the skips appended to a list on self": (
        "07", "segnets.py", "segnets.UNet",
        [("        self.pool = nn.MaxPool2d(2, 2)",
          "        self.pool = nn.MaxPool2d(2, 2)\n        self.skips = []"),
         ("        skips = []\n        for encoder in self.encoders:\n            x = encoder(x)\n"
          "            skips.append(x)\n",
          "        for encoder in self.encoders:\n            x = encoder(x)\n"
          "            self.skips.append(x)\n            skips = self.skips\n")],
        "after one call the module kept 2 tensor(s)", "a local list made inside forward"),
    "Generator: every batch of samples appended to self.history": (
        "10", "generative.py", "generative.Generator",
        [("        samples = self.net(z)\n",
          "        samples = self.net(z)\n        if not hasattr(self, 'history'):\n"
          "            self.history = []\n        self.history.append(samples)\n")],
        "forward adds tensors to a list or dict kept on self", "grows with every batch"),
    "LocalizationNet: the features kept in a list on self": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [("        h = self.features(x)\n",
          "        h = self.features(x)\n"
          "        self.__dict__.setdefault('seen', []).append(h)\n")],
        "forward adds tensors to a list or dict kept on self", "local list"),
    # lost their points before, with no hint: now the known mistakes name them
    "UNet: a softmax on the output": (
        "07", "segnets.py", "segnets.UNet",
        [("        scores = self.out(x)", "        scores = torch.softmax(self.out(x), dim=1)")],
        "the output is wrong", "returns the raw class scores"),
    "UNet: a 3x3 output convolution": (
        "07", "segnets.py", "segnets.UNet",
        [("        self.out = nn.Conv2d(channels[0], num_classes, 1)",
          "        self.out = nn.Conv2d(channels[0], num_classes, 3, padding=1)")],
        "parameter 35 in forward order has shape (4, 4, 3, 3)", "a 1x1 convolution"),
    # raised with no hint before: the error names the shapes, not the slip
    "discriminator_loss: the two terms added entry by entry, one mean": (
        "10", "generative.py", "generative.discriminator_loss",
        [("    loss = (bce(logits_real, torch.ones_like(logits_real))\n"
          "            + bce(logits_fake, torch.zeros_like(logits_fake)))",
          "    loss = torch.mean(F.softplus(-logits_real) + F.softplus(logits_fake))")],
        "must match the size of tensor b (7)", "take each term's mean over its own tensor"),
    "ls_discriminator_loss: the two terms added entry by entry, one mean": (
        "10", "generative.py", "generative.ls_discriminator_loss",
        [("    loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
          "    loss = torch.mean(0.5 * (scores_real - 1) ** 2 + 0.5 * scores_fake ** 2)")],
        "must match the size of tensor b (7)", "take each term's mean over its own tensor"),
    # random forwards were told they kept state from an earlier call (KEPT_STATE_HINT)
    "VAE.forward: new noise (torch.randn_like) in place of eps": (
        "10", "generative.py", "generative.VAE",
        [("        logits = self.decode(reparameterize(mu, logvar, eps))",
          "        logits = self.decode(reparameterize(mu, logvar, torch.randn_like(mu)))")],
        "forward draws new random numbers at every call", "use the noise it is given"),
    "LocalizationNet: F.dropout with no training flag": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [("        h = self.features(x)\n",
          "        h = torch.nn.functional.dropout(self.features(x), 0.2)\n")],
        "a newly built module gives two different answers", "training=self.training"),
    "freeze: only the top-level module name compared with trainable": (
        "06", "architectures.py", "architectures.freeze",
        [("        if not name.startswith(prefixes):\n",
          "        if name.split('.')[0] not in prefixes:\n")],
        "requires_grad is wrong for stages.1.weight", "only the first part of each name"),
    "VGG: the size after the blocks rounded, not floored": (
        "06", "architectures.py", "architectures.VGG",
        [("            channels, size = out_channels, size // 2",
          "            channels = out_channels"),
         ("        self.features = nn.Sequential(*blocks)\n",
          "        self.features = nn.Sequential(*blocks)\n"
          "        size = round(input_size / 2 ** len(conv_arch))\n")],
        "has shape (6, 45), expected (6, 20)", "each 2x2 pooling floors an odd size"),
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
    # the last output kept on self is replaced, not accumulated: no memory grows
    "Autoencoder: the last code kept on self": (
        "10", "generative.py", "generative.Autoencoder",
        [("        z = self.encoder(x)\n", "        self.code = self.encoder(x)\n"
                                         "        z = self.code\n")]),
    "UNet: F.max_pool2d, the skips popped from a local list": (
        "07", "segnets.py", "segnets.UNet",
        [("from torch import nn\n", "from torch import nn\nimport torch.nn.functional as F\n"),
         ("            x = self.pool(x)\n", "            x = F.max_pool2d(x, 2)\n"),
         ("        for stage, skip in zip(self.decoders, reversed(skips)):\n"
          "            x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))",
          "        for stage in self.decoders:\n"
          "            x = stage.conv(torch.cat((skips.pop(), stage.up(x)), 1))")]),
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
