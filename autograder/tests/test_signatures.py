"""A changed default kept full marks (the tests pass every argument); the documented
defaults are part of the specification, read from the student's source."""

import pytest

from autograder import engine
from autograder.signatures import student_defaults

from .submissions import make_submission


@pytest.mark.parametrize("unit, module, old, new, words", [
    ("03", "conv.py", "def conv_forward_naive(x, w, b, *, stride=1, pad=0):",
     "def conv_forward_naive(x, w, b, *, stride=1, pad=1):",
     "conv_forward_naive: the default of pad is 1, but the docstring's signature has pad=0"),
    ("08", "detection.py", "iou_threshold=0.5", "iou_threshold=0.3",
     "nms: the default of iou_threshold is 0.3"),
])
def test_a_changed_default_fails_with_what_the_docstring_says(tmp_path, unit, module, old, new,
                                                              words):
    text = (make_submission(tmp_path, name="probe") / "coursework" / module).read_text()
    assert text.count(old) >= 1
    sub = make_submission(tmp_path, replace={module: [(old, new)]})
    key = f"{module[:-3]}.{words.split(':')[0]}"
    report = engine.grade(sub, [unit], keys={key})
    entry = next(iter(report["units"].values()))["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert words in entry["message"], entry["message"]
    assert "change the body only" in entry["hint"]


def test_defaults_written_otherwise_are_the_same_defaults():
    source = ("def f(x, *, eps=0.00001, sizes=[16, 32], flag=True, name='mean', dt=np.float64):\n"
              "    pass\n\n\n"
              "class Net:\n    def __init__(self, hidden=(16, 32), *, reg=0.0):\n        pass\n")
    assert student_defaults(source, "m.f") == {"eps": 1e-5, "sizes": [16, 32], "flag": True,
                                               "name": "mean"}  # np.float64: no claim
    assert student_defaults(source, "m.Net") == {"hidden": (16, 32), "reg": 0.0}
    assert student_defaults("f = g\n", "m.f") == {}  # not a def: no claim
    # the def is not the code that runs: replaced later by an assignment or an import
    assert student_defaults("def f(x=1):\n    pass\n\n\nf = g\n", "m.f") == {}
    assert student_defaults("def f(x=1):\n    pass\n\n\nfrom .h import f\n", "m.f") == {}
    assert student_defaults("@wrap\ndef f(x=1):\n    pass\n", "m.f") == {}
    from autograder.signatures import _same

    assert _same([16, 32], (16, 32)) and _same(1e-5, 0.00001) and _same(0, 0.0)
    assert not _same(True, 1) and not _same(None, 0) and not _same("mean", "sum")
