"""Generic transforms of a graded function's result that kept full marks in units 01, 02, 04 and
06, though each one is a real mistake there:

- ``.squeeze()`` of the result, where the docstring's shape has an axis that can be 1 (no case
  had it: dW of the linear losses with D=1, LinearClassifier.predict on one example, a
  one-image batch through ResidualBlock and DepthwiseSeparableConv);
- a float64 result cast to float32 and back, on a value that is a term of the loss (the L2 and
  L1 penalties, now held to the float64 loss's 1e-10 as the losses of units 01 and 02 are).

Each variant is the reference with the function wrapped (``f = wrap(f)`` appended to its
module), graded through the real worker, and must lose the function's points.
"""

import pytest

from .submissions import bwrap, make_submission

WRAP = '''
import numpy as _np


def _transformed(result):
    if isinstance(result, tuple):
        return tuple(_one(v) for v in result)
    return _one(result)


def _wrap(f):
    def wrapped(*args, **kwargs):
        return _transformed(f(*args, **kwargs))
    wrapped.__name__, wrapped.__doc__ = f.__name__, f.__doc__
    return wrapped
'''

SQUEEZE = WRAP + '''

def _one(v):
    return v.squeeze() if hasattr(v, "squeeze") and hasattr(v, "ndim") else v
'''

FLOAT32 = WRAP + '''

def _one(v):
    if isinstance(v, float):
        return float(_np.float32(v))
    return v
'''


def _grade(tmp_path, unit, module, key, code):
    from autograder import engine

    sub = make_submission(tmp_path, append={module: code})
    report = engine.grade(sub, [unit], keys={key}, use_bwrap=bwrap(unit))
    return report["units"][unit]["functions"][key]


@pytest.mark.parametrize("name", ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive",
                                  "softmax_loss_vectorized"])
def test_linear_loss_with_dW_squeezed_loses_its_points(tmp_path, name):
    # a hidden case with D=1: dW is (1, C), squeezed to (C,)
    entry = _grade(tmp_path, "01_linear", "linear.py", f"linear.{name}",
                   SQUEEZE + f"\n{name} = _wrap({name})\n")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "wrong shape" in entry["message"], entry


def test_predict_squeezed_on_one_example_loses_its_points(tmp_path):
    entry = _grade(tmp_path, "01_linear", "linear.py", "linear.LinearClassifier",
                   SQUEEZE + "\nLinearClassifier.predict = _wrap(LinearClassifier.predict)\n")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "one example" in entry["message"] and "shape (1,)" in entry["message"], entry


@pytest.mark.parametrize("name", ["l2_penalty", "l1_penalty"])
def test_penalty_through_float32_loses_its_points(tmp_path, name):
    entry = _grade(tmp_path, "04_normalization", "regularization.py", f"regularization.{name}",
                   FLOAT32 + f"\n{name} = _wrap({name})\n")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "tolerance 1e-10 for a float64 loss" in entry["message"], entry
    assert "float64" in (entry["hint"] or ""), entry


@pytest.mark.parametrize("name", ["l2_penalty", "l1_penalty"])
def test_penalty_summed_otherwise_keeps_its_points(tmp_path, name):
    # another order of the sums (np.sum per array into a float64 total) is exact to ~1e-16
    body = ("0.5 * reg * sum(float(np.sum(np.square(w))) for w in weights)"
            if name == "l2_penalty" else "reg * float(np.sum([np.abs(w).sum() for w in weights]))")
    code = ("import numpy as np\n\n_orig = " + name + "\n\n\ndef " + name + "(weights, reg):\n"
            "    _, grads = _orig(weights, reg)\n    return " + body + ", grads\n")
    entry = _grade(tmp_path, "04_normalization", "regularization.py", f"regularization.{name}",
                   code)
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


@pytest.mark.parametrize("name", ["ResidualBlock", "DepthwiseSeparableConv"])
def test_module_output_squeezed_on_one_image_loses_its_points(tmp_path, name):
    pytest.importorskip("torch")
    code = ("\n_orig_forward_" + name + " = " + name + ".forward\n\n\n"
            "def _forward_" + name + "(self, x):\n"
            "    return _orig_forward_" + name + "(self, x).squeeze()\n\n\n"
            + name + ".forward = _forward_" + name + "\n")
    entry = _grade(tmp_path, "06_architectures", "architectures.py", f"architectures.{name}",
                   code)
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "wrong shape" in entry["message"], entry
