"""What student code may import is decided per module, not per grading run.

Units 01-05 and 09, and the NumPy modules of units 07 (``segmentation``) and 08 (``detection``),
are graded in a worker that cannot import PyTorch, even when the same run grades a PyTorch unit:
each set of packages gets a worker of its own (``units.packages_of_module``).
"""

import pytest

from autograder import device, engine, units

from .submissions import make_submission

TORCH_SVM = '''
import torch


def svm_loss_naive(W, X, y, reg):
    """Uses PyTorch's autograd instead of the hand-written gradient."""
    W_t = torch.tensor(W, requires_grad=True)
    scores = torch.tensor(X) @ W_t
    correct = scores[torch.arange(len(y)), torch.tensor(y)][:, None]
    margins = torch.clamp(scores - correct + 1, min=0)
    margins[torch.arange(len(y)), torch.tensor(y)] = 0
    loss = margins.sum() / len(y) + reg * (W_t * W_t).sum()
    loss.backward()
    return loss.item(), W_t.grad.numpy()
'''

TORCH_PIXEL_ACCURACY = '''
def pixel_accuracy(pred, target, *, ignore_index=None):
    """PyTorch does the counting."""
    import torch

    pred, target = torch.as_tensor(pred), torch.as_tensor(target)
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None \\
        else target != ignore_index
    return float((pred[keep] == target[keep]).double().mean())
'''


def test_each_module_declares_what_it_may_import():
    assert units.packages_of_module("linear") == ("numpy",)
    assert units.packages_of_module("rnn") == ("numpy",)
    assert units.packages_of_module("segmentation") == ("numpy",)
    assert units.packages_of_module("detection") == ("numpy",)
    for module in ("architectures", "segnets", "detectors", "generative"):
        assert "torch" in units.packages_of_module(module), module
    with pytest.raises(units.UnknownUnit, match="'nonexistent'"):
        units.packages_of_module("nonexistent")


def test_module_packages_must_name_the_units_own_modules():
    with pytest.raises(ValueError, match=r"\['segmentatoin'\]"):
        units.Unit("t", ["segmentation", "segnets"], packages=("numpy", "torch"),
                   module_packages={"segmentatoin": ("numpy",)})


def test_on_a_gpu_only_the_pytorch_modules_get_cuda_tensors():
    assert device.torch_modules(["07_segmentation"]) == ("segnets",)
    assert device.torch_modules(["08_detection"]) == ("detectors",)
    assert device.torch_modules(["01_linear"]) == ()
    assert device.needs(["07_segmentation"]) == (True, True)  # CuPy and PyTorch
    assert device.needs(["06_architectures"]) == (False, True)


def _entry(report, key):
    unit = units.unit_of_key(key)
    return report["units"][unit]["functions"][key]


@pytest.mark.parametrize("use_bwrap", [None, False], ids=["auto", "without-bubblewrap"])
def test_a_numpy_unit_cannot_import_torch_when_graded_beside_a_torch_unit(tmp_path, use_bwrap):
    sub = make_submission(tmp_path, append={"linear.py": TORCH_SVM})
    report = engine.grade(sub, ["01_linear", "06_architectures"], use_bwrap=use_bwrap,
                          keys={"linear.svm_loss_naive", "linear.svm_loss_vectorized",
                                "architectures.LeNet5"})
    svm = _entry(report, "linear.svm_loss_naive")
    assert svm["status"] == "error" and svm["score"] == 0, svm
    assert "No module named 'torch'" in svm["message"], svm["message"]
    assert "may import only NumPy" in svm["message"], svm["message"]
    # The PyTorch unit graded in the same run still has PyTorch, and nothing is blamed on it.
    lenet = _entry(report, "architectures.LeNet5")
    assert lenet["status"] == "passed", lenet
    assert not report.get("grader_faults"), report.get("grader_faults")


@pytest.mark.parametrize("use_bwrap", [None, False], ids=["auto", "without-bubblewrap"])
def test_the_numpy_module_of_a_pytorch_unit_cannot_import_torch(tmp_path, use_bwrap):
    sub = make_submission(tmp_path, append={"segmentation.py": TORCH_PIXEL_ACCURACY})
    report = engine.grade(sub, ["07_segmentation"], use_bwrap=use_bwrap,
                          keys={"segmentation.pixel_accuracy", "segmentation.mean_iou",
                                "segnets.UNet"})
    accuracy = _entry(report, "segmentation.pixel_accuracy")
    assert accuracy["status"] == "error" and accuracy["score"] == 0, accuracy
    assert "No module named 'torch'" in accuracy["message"], accuracy["message"]
    assert _entry(report, "segmentation.mean_iou")["status"] == "passed"
    assert _entry(report, "segnets.UNet")["status"] == "passed"


def test_the_same_pytorch_code_passes_where_its_module_may_use_torch(tmp_path, monkeypatch):
    """The control: the code above is correct; only where it runs makes it fail."""
    sub = make_submission(tmp_path, append={"segmentation.py": TORCH_PIXEL_ACCURACY})
    unit = units.UNITS["07_segmentation"]
    monkeypatch.setitem(units.UNITS, "07_segmentation",  # without the NumPy-only narrowing
                        units.Unit(unit[0], unit[1], packages=unit.packages))
    report = engine.grade(sub, ["07_segmentation"], keys={"segmentation.pixel_accuracy"})
    assert _entry(report, "segmentation.pixel_accuracy")["status"] == "passed", report
