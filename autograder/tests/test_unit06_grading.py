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
