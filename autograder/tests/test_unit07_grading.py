"""Unit 07 graded through the real worker: the NumPy functions of ``segmentation`` and the
PyTorch ``UNet`` of ``segnets`` (driven by unit 06's torch handles).

The reference gets every point and the stubs none; a U-Net that concatenates [upsampled, skip]
gets the hint about the concatenation order, and a max-unpooling that writes to the window's
corner gets its hint too.
"""

import shutil

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits
from autograder.units import UNITS

pytest.importorskip("torch")

UNIT = "07_segmentation"
SOLUTIONS = REPO_ROOT / "solutions" / "coursework"
WORKER_BWRAP = None if "torch" in getattr(UNITS[UNIT], "packages", ()) else False
LIMITS = Limits(call_seconds=30.0, cpu_seconds=60.0)


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


def test_reference_full_marks_stubs_none():
    report = engine.grade(REPO_ROOT / "solutions", [UNIT], use_bwrap=WORKER_BWRAP,
                          limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0
    assert {"segnets.UNet", "segmentation.focal_loss", "segmentation.iou_per_class"} <= set(
        functions(report))
    keys = {"segnets.UNet", "segmentation.conv_transpose_backward", "segmentation.mean_iou"}
    stubs = engine.grade(REPO_ROOT, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {e["status"] for e in functions(stubs).values()} == {"not_implemented"}
    assert stubs["total"] == 0


def test_known_mistakes_get_their_hints(tmp_path):
    segnets = (SOLUTIONS / "segnets.py").read_text()
    right = "torch.cat([skip, stage.up(x)], dim=1)"
    assert right in segnets
    segmentation = (SOLUTIONS / "segmentation.py").read_text()
    scatter = "xp.add.at(out, (n_idx, c_idx, indices.reshape(N, C, -1)), x.reshape(N, C, -1))"
    assert scatter in segmentation
    corner = ("H_in, W_in = x.shape[2:]\n    s = H // H_in\n    out = out.reshape(N, C, H, W)\n"
              "    out[:, :, ::s, ::s][:, :, :H_in, :W_in] = x\n    out = out.reshape(N, C, -1)")
    folder = submission_with(tmp_path, {
        "segnets.py": segnets.replace(right, "torch.cat([stage.up(x), skip], dim=1)"),
        "segmentation.py": segmentation.replace(scatter, corner)})
    keys = {"segnets.UNet", "segmentation.max_unpool_forward"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    unet = functions(report)["segnets.UNet"]
    assert unet["status"] == "failed"
    assert "concatenation in the wrong order" in unet["hint"]
    unpool = functions(report)["segmentation.max_unpool_forward"]
    assert unpool["status"] == "failed"
    assert "bed of nails" in unpool["hint"]
