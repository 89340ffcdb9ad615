"""The sigmoid's docstring promises that exp never overflows, and its values cannot show whether
it does: 1 / (1 + exp(800)) is 1 / (1 + inf) = 0, the right value, with NumPy's RuntimeWarning
'overflow encountered in exp' in the student's notebook. The grader gives the huge inputs again
and asks NumPy whether an operation overflowed (``Student.call_watching_overflow``).

The naive formula and the np.where of two formulas (np.where computes both branches for every
entry) lose sigmoid_forward's points with a verdict that says the values are right and why it
fails; stable ways of writing it (exp(-|x|), tanh, boolean masks, logaddexp) keep them. The
backward reads the forward's cache, whose values are right: it keeps its points.
"""

import numpy as np
import pytest

from autograder import engine
from autograder.testing import FakeStudent, mistaken_student

from .submissions import make_submission

NAIVE = """
def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out
"""
BOTH_BRANCHES = """
def sigmoid_forward(x):
    out = np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))
    return out, out
"""
TANH = """
def sigmoid_forward(x):
    out = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out, out
"""
MASKS = """
def sigmoid_forward(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out, out
"""
LOGADDEXP = """
def sigmoid_forward(x):
    out = np.exp(-np.logaddexp(0.0, -x))
    return out, out
"""
KEYS = {"layers.sigmoid_forward", "layers.sigmoid_backward"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{variant: {key: report entry}} for each way of writing sigmoid_forward (None: the
    reference), graded through the engine."""
    out = {}
    for name, code in {"reference": None, "naive": NAIVE, "both branches": BOTH_BRANCHES,
                       "tanh": TANH, "masks": MASKS, "logaddexp": LOGADDEXP}.items():
        root = tmp_path_factory.mktemp(name.replace(" ", "_"))
        sub = make_submission(root, append={"layers.py": "import numpy as np\n" + code}
                              if code else None)
        report = engine.grade(sub, ["02"], keys=KEYS, use_bwrap=False)
        out[name] = {k: e for u in report["units"].values() for k, e in u["functions"].items()}
    return out


@pytest.mark.parametrize("variant", ["naive", "both branches"])
def test_a_sigmoid_whose_exp_overflows_loses_the_forward_points(graded, variant):
    entry = graded[variant]["layers.sigmoid_forward"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the values are right, but exp overflowed" in entry["message"], entry
    assert "huge inputs" in entry["message"], entry
    assert "exp(-|x|)" in entry["hint"] and "both" in entry["hint"], entry
    # its cache holds the right values: the backward is not blamed
    assert graded[variant]["layers.sigmoid_backward"]["status"] == "passed"


@pytest.mark.parametrize("variant", ["reference", "tanh", "masks", "logaddexp"])
def test_a_sigmoid_that_never_overflows_keeps_its_points(graded, variant):
    for key in KEYS:
        entry = graded[variant][key]
        assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def test_the_fake_student_tells_an_overflow_as_the_worker_does():
    """FakeStudent (the reference, called in this process) answers call_watching_overflow too:
    the reference never overflows; the naive formula does."""
    x = np.array([[800.0, -800.0, 1e4, -1e4]])
    out, overflowed = FakeStudent().call_watching_overflow("layers.sigmoid_forward", x,
                                                           opaque=[1])
    assert overflowed is False
    assert np.allclose(out[0], [1.0, 0.0, 1.0, 0.0])
    naive = mistaken_student("layers.sigmoid_forward", lambda x: (1.0 / (1.0 + np.exp(-x)),) * 2)
    out, overflowed = naive.call_watching_overflow("layers.sigmoid_forward", x, opaque=[1])
    assert overflowed is True and np.allclose(out[0], [1.0, 0.0, 1.0, 0.0])
