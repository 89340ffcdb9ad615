"""Unit 06 graded through the real worker: PyTorch modules driven by handles.

The reference gets every point and the stubs none; a submission with known mistakes gets their
hints; the torch-specific hostile cases (``hostile/torch_*``) gain nothing and leave nothing
behind: ``torch.load`` of a crafted pickle runs only in the worker, hunting for the reference's
weights finds nothing under bubblewrap, a thread storm is contained, and a forward that changes
behaviour when it detects grading fails.

Whether the worker can import PyTorch inside bubblewrap depends on the unit's package
declaration (units.py); ``WORKER_BWRAP`` says which containment these tests ask for.
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits, bubblewrap_path
from autograder.units import UNITS

from .submissions import graded_to_zero, make_submission

pytest.importorskip("torch")

UNIT = "06_architectures"
HOSTILE = Path(__file__).resolve().parent / "hostile"
SOLUTION = REPO_ROOT / "solutions" / "coursework" / "architectures.py"
# bubblewrap only where the unit declares torch for the sandbox (contain's package allow-list)
WORKER_BWRAP = None if "torch" in getattr(UNITS[UNIT], "packages", ()) else False
LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)


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


def test_reference_full_marks_stubs_none(tmp_path):
    report = engine.grade(REPO_ROOT / "solutions", [UNIT], use_bwrap=WORKER_BWRAP,
                          limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0
    keys = {"architectures.LeNet5", "architectures.ResidualBlock", "architectures.freeze"}
    stubs = engine.grade(REPO_ROOT, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {e["status"] for e in functions(stubs).values()} == {"not_implemented"}
    assert stubs["total"] == 0


MISTAKEN = '''
import torch
from ._honest import *  # noqa: F401,F403
from ._honest import ResidualBlock as _R, SEBlock as _S, DepthwiseSeparableConv as _D
from torch import nn


class ResidualBlock(_R):
    def forward(self, x):
        out = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return out + self.shortcut(x)


class SEBlock(_S):
    def gates(self, x):
        return self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3)))))


class DepthwiseSeparableConv(_D):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride=stride, padding=1,
                                   bias=False)
'''


def test_known_mistakes_through_the_worker(tmp_path):
    sub = submission_with(tmp_path, {"_honest.py": SOLUTION.read_text(),
                                     "architectures.py": MISTAKEN})
    keys = {"architectures.ResidualBlock", "architectures.SEBlock",
            "architectures.DepthwiseSeparableConv", "architectures.LeNet5"}
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    got = functions(report)
    assert got["architectures.LeNet5"]["status"] == "passed"
    assert "ReLU before the addition" in got["architectures.ResidualBlock"]["hint"]
    assert "sigmoid" in got["architectures.SEBlock"]["hint"]
    assert "groups" in got["architectures.DepthwiseSeparableConv"]["hint"]
    assert all(got[k]["status"] == "failed" for k in keys - {"architectures.LeNet5"})


# -- hostile cases ------------------------------------------------------------------------------

def hostile_submission(case, tmp_path, extra):
    folder = submission_with(tmp_path, {"_honest.py": SOLUTION.read_text()})
    shutil.copytree(HOSTILE / case / "coursework", folder / "coursework", dirs_exist_ok=True)
    lines = [f"REPO = {str(REPO_ROOT)!r}"] + [f"{k} = {v!r}" for k, v in extra.items()]
    (folder / "coursework" / "_case.py").write_text("\n".join(lines) + "\n")
    return folder


def grade_hostile(case, tmp_path, keys, use_bwrap=WORKER_BWRAP, **extra):
    sub = hostile_submission(case, tmp_path, extra)
    started = time.monotonic()
    report = engine.grade(sub, [UNIT], use_bwrap=use_bwrap, keys=set(keys), budget_seconds=90,
                          limits=Limits(call_seconds=15.0, cpu_seconds=15.0))
    return report, time.monotonic() - started


def test_torch_load_payload_never_reaches_the_judge(tmp_path):
    marker = tmp_path / "unpickled-by"
    report, _ = grade_hostile("torch_load_payload", tmp_path,
                              ["architectures.LeNet5", "architectures.SEBlock"],
                              MARKER_PATH=str(marker))
    got = functions(report)
    assert got["architectures.LeNet5"]["status"] in ("error", "failed")
    assert "Tensor" in got["architectures.LeNet5"]["message"]
    assert got["architectures.SEBlock"]["status"] == "passed"
    if marker.exists():  # without bubblewrap the worker can write there: but it was the worker
        assert str(os.getpid()) not in marker.read_text().split()


def test_torch_hunt_finds_nothing_in_the_sandbox(tmp_path):
    if WORKER_BWRAP is False or not bubblewrap_path():
        pytest.skip("only bubblewrap hides the repository; the fallback is documented to see it")
    report, _ = grade_hostile("torch_hunt", tmp_path,
                              ["architectures.LeNet5", "architectures.ResidualBlock"])
    for entry in functions(report).values():
        assert entry["status"] == "not_implemented", entry


def test_torch_thread_storm_is_contained(tmp_path):
    """64 PyTorch threads asked for at import and 200 spinning threads started in LeNet5's
    forward: the process and memory caps stop them, grading ends within its budget, every
    function has a status, nothing is blamed on the grader. (Threads left spinning slow the
    same worker's later calls: the storm costs its author, no one else.)"""
    keys = ["architectures.freeze", "architectures.LeNet5", "architectures.SEBlock"]
    report, wall = grade_hostile("torch_threads", tmp_path, keys)
    got = functions(report)
    assert got["architectures.freeze"]["status"] == "passed"  # on a probe the storm spares
    for entry in got.values():
        assert entry["status"] in engine.STATUSES and entry["message"]
        assert not entry.get("grader_fault")
    assert got["architectures.LeNet5"]["status"] in ("passed", "error", "timeout", "crashed")
    assert report["seconds"] <= 90 and wall < 90 + 15


def test_forward_that_detects_grading_gains_nothing(tmp_path):
    report, _ = grade_hostile("torch_detect_grading", tmp_path,
                              ["architectures.ResidualBlock", "architectures.SEBlock"])
    for key, entry in functions(report).items():
        assert entry["status"] == "failed", (key, entry)


def test_a_patched_module_call_does_not_reach_the_next_function(tmp_path):
    """LeNet5's __init__ replaces nn.Module.__call__ (every nn.Dropout the identity from then
    on): the worker puts PyTorch's class attributes back, so AlexNet's and VGG's dropout still
    acts and the honest AlexNet and VGG keep their points."""
    patch = ("        self.in_channels = in_channels\n"
             "        original = nn.Module.__call__\n\n"
             "        def call(module, *args, **kwargs):\n"
             "            if isinstance(module, nn.Dropout):\n"
             "                return args[0]\n"
             "            return original(module, *args, **kwargs)\n"
             "        nn.Module.__call__ = call\n")
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "        self.in_channels = in_channels\n        # BEGIN SOLUTION\n"
        "        self.features = nn.Sequential(\n"
        "            nn.Conv2d(in_channels, 6, kernel_size=5)",
        patch + "        # BEGIN SOLUTION\n        self.features = nn.Sequential(\n"
                "            nn.Conv2d(in_channels, 6, kernel_size=5)")]})
    keys = {"architectures.LeNet5", "architectures.AlexNet", "architectures.VGG"}
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {k: e["status"] for k, e in functions(report).items()} == dict.fromkeys(keys, "passed")


# -- wrong variants the grader once missed, and unusual but correct ones -------------------------

ALEXNET_FC = ("            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),\n"
              "            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),\n")
RESIDUAL_BN = ("        self.bn1 = nn.BatchNorm2d(out_channels)\n"
               "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, "
               "bias=False)\n        self.bn2 = nn.BatchNorm2d(out_channels)\n")
DEPTHWISE_RELU = ("        out = torch.relu(self.bn1(self.depthwise(x)))\n"
                  "        out = torch.relu(self.bn2(self.pointwise(out)))")
SE_GATES = "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))"
SE_FORWARD = "        out = x * self.gates(x)[:, :, None, None]"
FREEZE_TEST = "        if not name.startswith(prefixes):\n            param.requires_grad = False"
RESNET_HEAD = ("        out = self.pool(self.stages(self.stem(x)))\n"
               "        scores = self.fc(torch.flatten(out, 1))")
FREEZE_COUNT = "    count = sum(p.numel() for p in model.parameters() if p.requires_grad)"

WRONG = {
    # (replacements in architectures.py, graded function, in the message, in the hint)
    "dropout after the ReLU (Linear-ReLU-Dropout)": (
        [(ALEXNET_FC, "            nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(0.5),\n"
                      "            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),\n")],
        "AlexNet", "train mode", "before FC1"),
    "LocalResponseNorm with k=1": (
        [("return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)",
          "return nn.LocalResponseNorm(5)")], "AlexNet", "eval mode", "k=2"),
    "an LRN unknown to the mistakes: the layer that differs is named": (
        [("return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)",
          "return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.5, k=2.0)")], "AlexNet",
         "eval mode", "(in features.2) is local_response_norm with beta=0.5 where the "
                      "reference's has beta=0.75"),
    "LeNet-5 written with torch.nn.functional, max pooling in place of the first average "
    "pooling: the operation that differs is named": (
        [("        self.features = nn.Sequential(\n"
          "            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),\n"
          "            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),\n"
          "        )\n",
          "        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)\n"
          "        self.c2 = nn.Conv2d(6, 16, kernel_size=5)\n"),
         ("        scores = self.classifier(self.features(x))\n"
          "        # END SOLUTION\n        return scores\n\n\nclass AlexNet",
          "        h = nn.functional.max_pool2d(torch.tanh(self.c1(x)), 2)\n"
          "        h = nn.functional.avg_pool2d(torch.tanh(self.c2(h)), 2)\n"
          "        scores = self.classifier(h)\n"
          "        # END SOLUTION\n        return scores\n\n\nclass AlexNet")],
        "LeNet5", "eval mode",
        "the 3rd layer operation your forward runs is max_pool2d(kernel_size=(2, 2), stride=(2, "
        "2)) where the reference's runs avg_pool2d(kernel_size=(2, 2), stride=(2, 2))"),
    "max pool before LRN (ReLU - pool - LRN)": (
        [("nn.ReLU(), lrn(),\n            nn.MaxPool2d(3, stride=2),",
          "nn.ReLU(),\n            nn.MaxPool2d(3, stride=2), lrn(),")], "AlexNet",
        "eval mode", "max pooling before the LRN"),
    "batch norm momentum 0.9": (
        [(RESIDUAL_BN, RESIDUAL_BN.replace("BatchNorm2d(out_channels)",
                                           "BatchNorm2d(out_channels, momentum=0.9)"))],
        "ResidualBlock", "bn1.running_mean after the train-mode forward", "momentum"),
    "ReLU6": ([(DEPTHWISE_RELU, DEPTHWISE_RELU.replace("torch.relu", "nn.functional.relu6"))],
              "DepthwiseSeparableConv", "activations well above 6", "ReLU6"),
    "gates without their sigmoid (forward applies it)": (
        [(SE_GATES, "        g = self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3)))))"),
         (SE_FORWARD, "        out = x * torch.sigmoid(self.gates(x))[:, :, None, None]")],
        "SEBlock", ".gates(x)", "sigmoid"),
    # a softmax over the channels got no hint (softmax is no recorded operation)
    "gates as a softmax over the channels": (
        [(SE_GATES, "        g = torch.softmax(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))),"
                    " dim=1)")],
        "SEBlock", "the output is wrong", "softmax over the channels"),
    # gates kept on self from the first (no-grad) call; was told "SEBlock(SEBlock(32)
    # ...)" and that every layer must be applied in forward
    "gates computed once and kept on self": (
        [(SE_FORWARD, "        if getattr(self, 'g', None) is None:\n"
                      "            self.g = self.gates(x)\n"
                      "        out = x * self.g[:, :, None, None]")],
        "SEBlock", "SEBlock(32) on input (2, 32, 5, 7), eval mode: no gradient reaches the "
                   "parameter 'fc1.weight'", "reuses something kept from an earlier call"),
    # an output kept by shape from a no-grad call; autograd's "does not require grad"
    # was explained as a .detach() alone
    "LeNet-5 output kept on self by input shape": (
        [("        scores = self.classifier(self.features(x))\n        # END SOLUTION\n"
          "        return scores\n\n\nclass AlexNet",
          "        memo = self.__dict__.setdefault('memo', {})\n"
          "        if tuple(x.shape) not in memo:\n"
          "            with torch.no_grad():\n"
          "                memo[tuple(x.shape)] = self.classifier(self.features(x))\n"
          "        scores = memo[tuple(x.shape)]\n        # END SOLUTION\n"
          "        return scores\n\n\nclass AlexNet")],
        "LeNet5", "does not require grad", "reuses something kept from an earlier call"),
    "hidden size rounded up": (
        [("hidden = max(1, channels // reduction)", "hidden = -(-channels // reduction)")],
        "SEBlock", "SEBlock(20, reduction=6)", "rounded down"),
    "freeze by substring": (
        [("        if not name.startswith(prefixes):",
          "        if not any(p in name for p in prefixes):")], "freeze",
        "se.fc1.weight", "startswith"),
    "freeze unfreezes what was frozen": (
        [(FREEZE_TEST, "        param.requires_grad = name.startswith(prefixes)")], "freeze",
        "stem.1.weight", "frozen before the call"),
    # a stage as wide as the one before it is not downsampled
    "ResNet downsampling only where the width changes": (
        [("                stride = 2 if i > 0 and j == 0 else 1",
          "                stride = 2 if j == 0 and channels != width else 1")], "ResNet",
        "hidden case", "downsampling only where the width changes"),
    # a typo makes a new attribute; PyTorch never reads it
    "freeze with require_grad": (
        [(FREEZE_TEST, FREEZE_TEST.replace("requires_grad", "require_grad"))], "freeze",
        "freeze set param.require_grad on parameters, which PyTorch never reads", None),
    # a pooling window fixed from the first input's size passed: each built module
    # saw one input shape only
    "ResNet pooling window built from the first feature map": (
        [("        self.pool = nn.AdaptiveAvgPool2d(1)", "        self.pool = None"),
         (RESNET_HEAD, "        out = self.stages(self.stem(x))\n"
                       "        if self.pool is None:\n"
                       "            self.pool = nn.AvgPool2d(kernel_size=tuple(out.shape[-2:]))\n"
                       "        out = self.pool(out)\n"
                       "        scores = self.fc(torch.flatten(out, 1))")],
        "ResNet", "after inputs of shape", "fixed from the first input's size"),
    "SEBlock squeeze window kept from the first input": (
        [(SE_GATES, "        if not hasattr(self, 'k'):\n"
                    "            self.k = tuple(x.shape[-2:])\n"
                    "        s = nn.functional.avg_pool2d(x, self.k).flatten(1)\n"
                    "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))")],
        "SEBlock", "after inputs of shape", "fixed from the first input's size"),
    # the same with stride 1: the other size gives a map of several pixels and fc1 raises
    "SEBlock squeeze window kept from the first input, stride 1 (an error)": (
        [(SE_GATES, "        if not hasattr(self, 'k'):\n"
                    "            self.k = tuple(x.shape[-2:])\n"
                    "        s = nn.functional.avg_pool2d(x, self.k, stride=1).flatten(1)\n"
                    "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))")],
        "SEBlock", "after inputs of shape", "fixed from the first input's size"),
    # a projection shortcut without its batch norm was told to check the condition
    # that builds the shortcut
    "projection shortcut without batch norm": (
        [("        self.bn2 = nn.BatchNorm2d(out_channels)\n"
          "        self.shortcut = _shortcut(in_channels, out_channels, stride)\n",
          "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
          "        self.shortcut = nn.Identity() if stride == 1 and in_channels == out_channels "
          "else nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)\n")],
        "ResidualBlock", "7 parameter tensors where 9 are expected",
        "followed by batch norm"),
    # squeeze() dropping the batch axis of a one-image batch had no hint
    "ResNet head squeezed": (
        [(RESNET_HEAD, "        out = self.pool(self.stages(self.stem(x)))\n"
                       "        scores = self.fc(out.squeeze())")],
        "ResNet", "has shape (3,) but should have shape (1, 3)", "squeeze() drops every axis"),
    # flags set on the tensors of state_dict() (which freezes nothing) had no hint
    "freeze through state_dict()": (
        [(FREEZE_TEST, FREEZE_TEST.replace(
            "param.requires_grad = False", "model.state_dict()[name].requires_grad = False"))],
        "freeze", "requires_grad is wrong for stem.0.weight", "nothing was frozen"),
    # a squeeze that sums the positions had no hint
    "SE squeeze as a sum": (
        [(SE_GATES, SE_GATES.replace("x.mean(dim=(2, 3))", "x.sum(dim=(2, 3))"))],
        "SEBlock", "the output is wrong", "instead of their mean"),
    # a functional batch norm that always uses the batch's statistics (training=True)
    # got no hint (the recorded operations left out batch norm's training flag)
    "functional batch norm, training=True in every mode": (
        [("        out = torch.relu(self.bn1(self.conv1(x)))\n"
          "        out = self.bn2(self.conv2(out))\n"
          "        out = torch.relu(out + self.shortcut(x))",
          "        bn = lambda m, h: nn.functional.batch_norm(\n"
          "            h, m.running_mean, m.running_var, m.weight, m.bias, training=True)\n"
          "        out = torch.relu(bn(self.bn1, self.conv1(x)))\n"
          "        out = bn(self.bn2, self.conv2(out))\n"
          "        out = torch.relu(out + self.shortcut(x))")],
        "ResidualBlock", "eval mode",
        "the 2nd layer operation your forward runs is a batch norm that normalizes with "
        "the batch's statistics in eval mode"),
    "freeze counts by name": (
        [(FREEZE_COUNT, "    count = sum(p.numel() for n, p in model.named_parameters() "
                        "if n.startswith(prefixes))")], "freeze", "the count is 116",
        "requires_grad is True afterwards"),
}


@pytest.mark.parametrize("label", list(WRONG))
def test_wrong_variants_lose_points(tmp_path, label):
    replace, name, message, hint = WRONG[label]
    sub = make_submission(tmp_path, replace={"architectures.py": replace})
    graded_to_zero(sub, UNIT, f"architectures.{name}", message, hint, statuses=("failed",),
                   use_bwrap=WORKER_BWRAP, limits=LIMITS)


def test_a_squeeze_over_the_wrong_axes_is_told_which_axes(tmp_path):
    """``x.mean(dim=(1, 2))`` gave fc1 the width's features, and the only advice was the
    generic one for a linear layer after convolutions (the flattened size)."""
    sub = make_submission(tmp_path, replace={"architectures.py": [
        (SE_GATES, SE_GATES.replace("dim=(2, 3)", "dim=(1, 2)"))]})
    entry = graded_to_zero(sub, UNIT, "architectures.SEBlock", "mat1 and mat2 shapes",
                           "s = x.mean(dim=(2, 3))", statuses=("error",),
                           use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert "of shape (N, C)" in entry["hint"], entry


UNUSUAL = [  # written differently from the reference, correct by the docstrings
    # LeNet-5 with torch.nn.functional
    ("        self.features = nn.Sequential(\n"
     "            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),\n"
     "            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),\n"
     "        )\n"
     "        self.classifier = nn.Sequential(\n"
     "            nn.Flatten(),\n"
     "            nn.Linear(16 * 5 * 5, 120), nn.Tanh(),\n"
     "            nn.Linear(120, 84), nn.Tanh(),\n"
     "            nn.Linear(84, num_classes),\n"
     "        )",
     "        self.c1 = nn.Conv2d(in_channels, 6, 5)\n"
     "        self.c2 = nn.Conv2d(6, 16, 5)\n"
     "        self.f1 = nn.Linear(400, 120)\n"
     "        self.f2 = nn.Linear(120, 84)\n"
     "        self.f3 = nn.Linear(84, num_classes)"),
    ("        scores = self.classifier(self.features(x))\n"
     "        # END SOLUTION\n        return scores\n\n\nclass AlexNet",
     "        F = nn.functional\n"
     "        h = F.avg_pool2d(torch.tanh(self.c1(x)), 2)\n"
     "        h = F.avg_pool2d(torch.tanh(self.c2(h)), 2)\n"
     "        h = h.reshape(h.shape[0], -1)\n"
     "        scores = self.f3(torch.tanh(self.f2(torch.tanh(self.f1(h)))))\n"
     "        # END SOLUTION\n        return scores\n\n\nclass AlexNet"),
    # AlexNet: dropout before the flatten (the same mask), ReLU in place
    ("            nn.MaxPool2d(3, stride=2),\n        )\n        self.classifier = nn.Sequential(\n"
     "            nn.Flatten(),\n            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), "
     "nn.ReLU(),",
     "            nn.MaxPool2d(3, stride=2),\n        )\n        self.classifier = nn.Sequential(\n"
     "            nn.Dropout(0.5), nn.Flatten(), nn.Linear(256 * 6 * 6, 4096), "
     "nn.ReLU(inplace=True),"),
    # VGG blocks with padding="same" and in-place ReLU
    ("kernel_size=3, padding=1), nn.ReLU()]\n    layers.append",
     "kernel_size=3, padding=\"same\"), nn.ReLU(inplace=True)]\n    layers.append"),
    # ResNet's head as a mean over H and W
    ("        out = self.pool(self.stages(self.stem(x)))\n"
     "        scores = self.fc(torch.flatten(out, 1))",
     "        out = self.stem(x)\n"
     "        for stage in self.stages:\n"
     "            for block in stage:\n"
     "                out = block(out)\n"
     "        scores = self.fc(out.mean(dim=(-2, -1)))"),
    # DenseBlock over a list of feature maps
    ("        for unit in self.units:\n            x = torch.cat([x, unit(x)], dim=1)",
     "        feats = [x]\n        for unit in self.units:\n"
     "            feats.append(unit(torch.cat(feats, 1)))\n        x = torch.cat(feats, 1)"),
    # TransitionBlock pooling before the 1x1 convolution (they commute)
    ("            nn.Conv2d(in_channels, out_channels, kernel_size=1),\n"
     "            nn.AvgPool2d(2, stride=2),",
     "            nn.AvgPool2d(2, stride=2),\n"
     "            nn.Conv2d(in_channels, out_channels, kernel_size=1),"),
    # SEBlock's squeeze by adaptive average pooling
    ("        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))",
     "        s = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)\n"
     "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))"),
    # freeze with a loop over prefixes
    ("        if not name.startswith(prefixes):\n            param.requires_grad = False",
     "        if not any(name.startswith(p) for p in prefixes):\n"
     "            param.requires_grad_(False)"),
]


def test_unusual_but_correct_variants_keep_full_marks(tmp_path):
    sub = make_submission(tmp_path, replace={"architectures.py": UNUSUAL})
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0


def test_pooling_over_each_inputs_own_size_keeps_full_marks(tmp_path):
    """ResNet and SEBlock also answer an input of another size after their first
    calls; a window taken from each input's own size (not kept) is right, as are the
    reference's adaptive pooling (ResNet) and mean (SEBlock), and the mean and adaptive
    pooling of ``UNUSUAL``."""
    replace = [(RESNET_HEAD, "        out = self.stages(self.stem(x))\n"
                             "        out = nn.functional.avg_pool2d(out, out.shape[-2:])\n"
                             "        scores = self.fc(out.reshape(out.shape[0], -1))"),
               (SE_GATES, "        s = nn.functional.avg_pool2d(x, tuple(x.shape[2:]))\n"
                          "        s = s[:, :, 0, 0]\n"
                          "        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))")]
    sub = make_submission(tmp_path, replace={"architectures.py": replace})
    keys = {"architectures.ResNet", "architectures.SEBlock"}
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {k: e["status"] for k, e in functions(report).items()} == dict.fromkeys(keys, "passed")


def test_recorded_reference_gives_the_same_verdicts_and_hints(tmp_path):
    """A student release grades from recorded reference outputs: the hints that are computed
    only for a failing answer (known mistakes' parameter shapes, the layer that differs) must
    have been recorded too."""
    from autograder import release
    from autograder.oracle import Oracle, load_recorded

    release.record(tmp_path / "recorded", [UNIT])
    recorded = load_recorded(["architectures"], tmp_path / "recorded")
    nin = ("nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),",
           "nn.Conv2d(in_channels, out_channels, kernel_size, padding, stride),")
    replace = (WRONG["hidden size rounded up"][0]
               + WRONG["dropout after the ReLU (Linear-ReLU-Dropout)"][0] + [nin])
    sub = make_submission(tmp_path, replace={"architectures.py": replace})
    keys = {"architectures.SEBlock", "architectures.AlexNet", "architectures.NiNBlock"}
    live = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys,
                        public_only=True)
    from_records = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys,
                                public_only=True, oracle=Oracle(recorded=recorded))
    for key in keys:
        expected, got = functions(live)[key], functions(from_records)[key]
        assert expected["status"] == "failed" and expected["hint"], expected
        assert (got["status"], got["message"], got["hint"]) == \
            (expected["status"], expected["message"], expected["hint"])
    nin_hint = functions(live)["architectures.NiNBlock"]["hint"]
    assert "(in layers.0) is conv2d with stride=" in nin_hint, nin_hint


# ---------------------------------------------- the layer operation that differs, in words

def _op(name, where="", **hyper):
    return (name, where, [[k, list(v) if isinstance(v, tuple) else v] for k, v in hyper.items()])


REFERENCE_OPS = [_op("conv2d", "features.0", in_channels=1, out_channels=6, kernel_size=(5, 5),
                     bias=True, stride=(1, 1), padding=(0, 0)),
                 _op("tanh", "features.1"),
                 _op("avg_pool2d", "features.2", kernel_size=(2, 2), stride=(2, 2)),
                 _op("linear", "classifier.1", in_features=400, out_features=84, bias=True),
                 _op("linear", "classifier.2", in_features=84, out_features=10, bias=True)]


def test_operation_difference_names_the_first_operation_that_differs():
    from autograder.specs.architectures import operation_difference

    assert operation_difference(REFERENCE_OPS, REFERENCE_OPS) is None
    strided = [REFERENCE_OPS[0], REFERENCE_OPS[1],
               _op("avg_pool2d", "p", kernel_size=(2, 2), stride=(1, 1))] + REFERENCE_OPS[3:]
    text = operation_difference(strided, REFERENCE_OPS)
    assert text.startswith("the 3rd layer operation your forward runs (in p) is avg_pool2d with "
                           "stride=(1, 1) where the reference's has stride=(2, 2)"), text
    extra = REFERENCE_OPS + [_op("tanh")]
    assert operation_difference(extra, REFERENCE_OPS).startswith(
        "your forward runs tanh() after linear(in_features=84, out_features=10), where the "
        "reference's runs no such operation")
    short = REFERENCE_OPS[:4]
    assert operation_difference(short, REFERENCE_OPS).startswith(
        "the reference's forward runs linear(in_features=84, out_features=10) after "
        "linear(in_features=400, out_features=84), where yours runs none")
    # max pooling where the reference pools by averages: a kind of its own, in that place
    swapped = REFERENCE_OPS[:2] + [_op("max_pool2d", kernel_size=(2, 2))] + REFERENCE_OPS[3:]
    assert operation_difference(swapped, REFERENCE_OPS).startswith(
        "the 3rd layer operation your forward runs is max_pool2d(kernel_size=(2, 2)) where the "
        "reference's runs avg_pool2d(kernel_size=(2, 2), stride=(2, 2))")


def test_an_extra_operation_where_the_reference_runs_another_kind_is_named_with_it():
    """A student in notebook 10: a Generator ending in ReLU instead of Tanh got
    "your forward runs relu() ... where the reference's runs no such operation", which pushed
    the student to delete the layer; at that place the reference runs tanh, a kind the student
    never runs, and that is the one to name."""
    from autograder.specs.architectures import operation_difference

    reference = [_op("linear", "net.0", in_features=4, out_features=8, bias=True),
                 _op("relu", "net.1"),
                 _op("linear", "net.2", in_features=8, out_features=6, bias=True),
                 _op("tanh", "net.3")]
    relu_last = reference[:3] + [_op("relu", "net.3")]
    assert operation_difference(relu_last, reference).startswith(
        "the 4th layer operation your forward runs (in net.3) is relu() where the reference's "
        "runs tanh()"), operation_difference(relu_last, reference)


def test_operation_difference_claims_nothing_it_cannot_tell():
    """Kinds the student never runs (a tanh written as a formula) are another way of writing;
    a kind only the student runs is named with that caveat; independent branches run in
    another order, or several differences, get no claim at all."""
    from autograder.specs.architectures import operation_difference

    no_tanh = [op for op in REFERENCE_OPS if op[0] != "tanh"]
    assert operation_difference(no_tanh, REFERENCE_OPS) is None
    adaptive = REFERENCE_OPS[:2] + [_op("adaptive_avg_pool2d", output_size=(14, 14))] + \
        REFERENCE_OPS[3:]
    assert "which the reference's never does (right if it computes the same)" in \
        operation_difference(adaptive, REFERENCE_OPS)
    branches = [REFERENCE_OPS[2], REFERENCE_OPS[0], REFERENCE_OPS[1]] + REFERENCE_OPS[3:]
    assert operation_difference(branches, REFERENCE_OPS) is None
    twice = [REFERENCE_OPS[0], _op("relu")] + REFERENCE_OPS[2:4] + [_op("relu")] + \
        REFERENCE_OPS[4:]
    assert operation_difference(twice, REFERENCE_OPS) is None


def test_operations_are_recorded_however_they_are_written():
    """A module, torch.nn.functional and a tensor method give the same operations."""
    import torch
    from torch import nn

    from autograder.torch_ops import operations

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)

        def forward(self, x):
            return nn.functional.max_pool2d(self.conv(x).relu(), 2, ceil_mode=True)

    modules = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
                            nn.MaxPool2d(2, ceil_mode=True))
    x = torch.zeros(1, 1, 5, 5)
    got = [(op, dict(map(tuple, hyper))) for op, _, hyper in operations(Functional(), x)]
    expected = [(op, dict(map(tuple, hyper))) for op, _, hyper in operations(modules, x)]
    assert [op for op, _ in got] == ["conv2d", "relu", "max_pool2d"]
    assert got == expected
    assert got[2][1]["stride"] == [2, 2] and got[2][1]["ceil_mode"] is True
    assert [where for _, where, _ in operations(modules, x)] == ["0", "1", "2"]


def test_layers_in_a_python_list_get_the_module_list_hint():
    """A VGG block whose layers sat in a Python list got "0 parameter tensors where 6
    are expected" and nothing more."""
    from autograder.compare import Failed
    from autograder.torch_handles import check_shapes

    with pytest.raises(Failed) as failure:
        check_shapes("VGG", [], [(8, 3, 3, 3), (8,)])
    assert "0 parameter tensors where 2 are expected" in failure.value.message
    assert "nn.ModuleList" in failure.value.hint and "no parameter at all" in failure.value.hint
    with pytest.raises(Failed) as failure:
        check_shapes("VGG", [(8, 3, 3, 3), (8,)], [(8, 3, 3, 3), (8,), (4, 8), (4,)])
    assert "nn.ModuleList" in failure.value.hint and "at all" not in failure.value.hint


def test_missing_layers_are_blamed_on_a_list_only_where_the_module_keeps_one():
    """A ResNet that left out a projection shortcut was told its layers sat in a
    Python list. The worker says where the module keeps modules in plain containers."""
    from autograder.compare import Failed
    from autograder.torch_handles import check_shapes

    expected = [(8, 3, 3, 3), (8,), (4, 8), (4,)]
    with pytest.raises(Failed) as failure:
        check_shapes("VGG", expected[:2], expected, containers=lambda: ["blocks"])
    assert "plain Python list or dict (blocks)" in failure.value.hint
    with pytest.raises(Failed) as failure:
        check_shapes("VGG", expected[:2], expected, containers=lambda: [])
    assert "ModuleList" not in failure.value.hint
    assert "2 are missing: a layer the docstring asks for is not built" in failure.value.hint
    with pytest.raises(Failed) as failure:  # other shapes: nothing to say about missing layers
        check_shapes("VGG", [(8, 3, 5, 5)], expected, containers=lambda: [])
    assert failure.value.hint is None


def test_the_worker_finds_layers_kept_in_plain_containers():
    from torch import nn

    from autograder.torch_ops import plain_containers

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [nn.Linear(2, 2)]  # invisible to PyTorch
            self.seen = [nn.Linear(2, 2)]
            self.body = nn.Sequential(*self.seen)  # registered too: visible
            self.inner = nn.Module()
            self.inner.table = {"a": nn.ReLU()}

    assert plain_containers(Net()) == ["blocks", "inner.table"]
