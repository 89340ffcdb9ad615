"""What the docstrings of units 06, 07, 08 and 10 promise is what the grader demands.

A variant that breaks one promise and is otherwise the reference loses that function's points,
with a verdict that names the promise; a variant the docstrings allow keeps full marks. Each
submission below carries several one-function edits (each in a different graded function, none
of them a callee of another), graded in one run on those functions only.
"""

import pytest

from .submissions import make_submission

pytest.importorskip("torch")

UNITS = {"06": "06_architectures", "07": "07_segmentation", "08": "08_detection",
         "10": "10_generative"}

SEQ = '''
class _Layers(nn.Module):
    """The block's layers run in order, kept in a ModuleList: not an nn.Sequential."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class _NamedSequential(nn.Sequential):
    """An nn.Sequential all the same."""
'''

ACCURACY = ('    accuracy = float((pred[keep] == target[keep]).sum()) / counted if counted else '
            'float("nan")')
MEAN_IOU = '    value = float(iou[defined].mean()) if bool(defined.any()) else float("nan")'
MEAN_AP = ('    mean_ap = float(ap_per_class[present].mean()) if bool(present.any()) else '
           'float("nan")')

# key: (unit, module file, [(old, new)], words of the message, words of the hint or None)
BROKEN = {
    # "Returns a Python float": a 0-d array has the right value
    "segmentation.pixel_accuracy": (
        "07", "segmentation.py",
        [(ACCURACY, "    accuracy = xp_of(pred).asarray(" + ACCURACY[15:] + ")")],
        "accuracy is an array of shape () and dtype float64, but the docstring promises a "
        "Python float", None),
    "segmentation.mean_iou": (
        "07", "segmentation.py", [(MEAN_IOU, "    value = xp.asarray(" + MEAN_IOU[12:] + ")")],
        "mean_iou is an array of shape ()", None),
    # "loss: a float"
    "segmentation.pixel_cross_entropy": (
        "07", "segmentation.py",
        [("        loss = float(-(weight * log_py).sum() / total)",
          "        loss = xp.asarray(-(weight * log_py).sum() / total)")],
        "loss is an array of shape () and dtype float64, but the docstring promises a Python "
        "float: the value is right, return float(loss)", None),
    "segmentation.focal_loss": (
        "07", "segmentation.py",
        [("    loss = float(-(a * modulating * log_py).sum() / count)",
          "    loss = xp.asarray(-(a * modulating * log_py).sum() / count)")],
        "the docstring promises a Python float", None),
    "segmentation.soft_dice_loss": (
        "07", "segmentation.py",
        [("    loss = float(1.0 - dice.mean())", "    loss = xp.asarray(1.0 - dice.mean())")],
        "the docstring promises a Python float", None),
    # "mAP: float"
    "detection.mean_average_precision": (
        "08", "detection.py", [(MEAN_AP, "    mean_ap = xp.asarray(" + MEAN_AP[14:] + ")")],
        "mAP is an array of shape ()", None),
    # "dropped: the indices of the objects that found no free slot, increasing"
    "detection.yolo_encode": (
        "08", "detection.py",
        [("    dropped = xp.asarray(dropped, dtype=xp.int64)",
          "    dropped = xp.asarray(dropped[::-1], dtype=xp.int64)")],
        "dropped is increasing)): dropped differs in 4 of 4 entries", None),
    # "Modules are float32 by default and work in float64 after .double()"
    "generative.VAE": (
        "10", "generative.py",
        [("        self.fc_mu = nn.Linear(hidden_dim, latent_dim)",
          "        self.fc_mu = nn.Linear(hidden_dim, latent_dim, dtype=torch.float64)")],
        "as built, fc_mu.weight is float64, fc_mu.bias is float64; the docstring's convention: "
        "modules are float32 by default", "without a dtype= argument"),
    "generative.Autoencoder": (
        "10", "generative.py",
        [("                                                         input_dim)))",
          "                                                         input_dim))).double()")],
        "as built, decoder.0.weight is float64", "model.double()"),
    "architectures.ResidualBlock": (
        "06", "architectures.py",
        [("        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,",
          "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, "
          "dtype=torch.float64,")],
        "as built, conv1.weight is float64", None),
    "architectures.AlexNet": (  # built on the meta device: its dtype is read all the same
        "06", "architectures.py", [("class AlexNet(nn.Module):", "class AlexNet(nn.Module):")],
        "modules are float32 by default", None),
    # "a new tensor of x's shape and dtype": float32 noise added to a float32 x, then cast up
    "generative.corrupt": (
        "10", "generative.py",
        [("                                        device=x.device)\n    # END SOLUTION",
          "                                        device=x.device)\n    noisy = noisy.double()\n"
          "    # END SOLUTION")],
        "the noisy x has dtype float64, but the docstring asks for x's dtype (float32)",
        "dtype=x.dtype"),
    # "Returns an nn.Sequential holding exactly these layers in this order"
    "architectures.vgg_block": (
        "06", "architectures.py", [("    block = nn.Sequential(*layers)",
                                    "    block = _Layers(layers)")],
        "returned a module of another class that runs the right layers, but the docstring asks "
        "for an nn.Sequential", "return nn.Sequential(*layers)"),
}


def _alexnet_float64(text):
    """AlexNet's __init__ ending with self.double(): float64 parameters as built."""
    start = text.index("class AlexNet(nn.Module):")
    end = text.index("    def forward(self, x):", start)
    return text[:end] + "        self.double()\n\n" + text[end:]


def _grade(tmp_path, table, append=None):
    """One submission with every edit of ``table``, graded on its keys, unit by unit; the
    report entries by key."""
    from autograder import engine
    from autograder.tests.submissions import bwrap

    replace = {}
    for key, (unit, module, edits, *_) in table.items():
        replace.setdefault(module, []).extend(edits)
    sub = make_submission(tmp_path, replace=replace, append=append)
    if "architectures.AlexNet" in table:
        path = sub / "coursework" / "architectures.py"
        path.write_text(_alexnet_float64(path.read_text()))
    entries = {}
    for unit in sorted({UNITS[row[0]] for row in table.values()}):
        keys = {key for key, row in table.items() if UNITS[row[0]] == unit}
        report = engine.grade(sub, [unit], keys=keys, use_bwrap=bwrap(unit))
        entries.update(report["units"][unit]["functions"])
    return entries


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("broken"), BROKEN,
                  append={"architectures.py": SEQ})


@pytest.mark.parametrize("key", sorted(BROKEN))
def test_a_broken_promise_loses_the_points_and_is_named(broken, key):
    _, _, _, words, hint = BROKEN[key]
    entry = broken[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert words in entry["message"], entry
    if hint is not None:
        assert hint in (entry["hint"] or ""), entry


# what the docstrings allow: full marks
ALLOWED = {
    # NumPy's float64 scalar is a Python float (a subclass): .mean() needs no float()
    "segmentation.pixel_accuracy": (
        "07", "segmentation.py",
        [(ACCURACY, "    accuracy = (pred[keep] == target[keep]).mean() if counted else "
                    "xp_of(pred).float64('nan')")]),
    "detection.mean_average_precision": (
        "08", "detection.py",
        [(MEAN_AP, "    mean_ap = ap_per_class[present].mean() if bool(present.any()) else "
                   "xp.float64(xp.nan)")]),
    "generative.gan_step": (
        "10", "generative.py",
        [("    return d_loss.item(), g_loss.item()",
          "    return float(d_loss.detach()), float(g_loss.detach())")]),
    # a subclass of nn.Sequential is an nn.Sequential
    "architectures.vgg_block": (
        "06", "architectures.py", [("    block = nn.Sequential(*layers)",
                                    "    block = _NamedSequential(*layers)")]),
    # layers made float32 explicitly, and activations in place
    "generative.Discriminator": (
        "10", "generative.py",
        [("                layers.append(nn.LeakyReLU(0.2))",
          "                layers.append(nn.LeakyReLU(0.2, inplace=True))"),
         ("            layers.append(nn.Linear(a, b))\n            if i < len(sizes) - 2:\n"
          "                layers.append(nn.LeakyReLU",
          "            layers.append(nn.Linear(a, b, dtype=torch.float32))\n"
          "            if i < len(sizes) - 2:\n                layers.append(nn.LeakyReLU")]),
    "generative.corrupt": (
        "10", "generative.py",
        [("    noisy = x + noise_std", "    if noise_std == 0:\n        return x.clone()\n"
                                      "    noisy = x + noise_std")]),
}


def test_what_the_docstrings_allow_keeps_full_marks(tmp_path):
    entries = _grade(tmp_path, ALLOWED, append={"architectures.py": SEQ})
    for key in ALLOWED:
        assert entries[key]["status"] == "passed", entries[key]
