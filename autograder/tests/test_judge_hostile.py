"""The judge's side of the hostile corpus (cases ``hostile/judge_*``): rule dodges, student-caused
failures that must stay the student's verdict, and reports that are always written.

The cases are laid out and graded as in ``test_hostile.py`` (``_base`` + the case's files)."""

import json
import re
import resource
import subprocess
import sys

import pytest

from autograder import report as report_mod
from autograder.paths import REPO_ROOT
from autograder.tests.test_hostile import FUNCTIONS, check_report, grade_case, materialize

EXPECT = {
    "judge_alias_naive": {"linear.svm_loss_vectorized": {"failed"},
                          "linear.softmax_loss_vectorized": {"failed"}},
    "judge_train_skips_loss": {**{f: {"not_implemented"} for f in FUNCTIONS[:4]},
                               "linear.LinearClassifier": {"failed"}},
    "judge_surrogate": {"linear.svm_loss_naive": {"error"},
                        "linear.softmax_loss_naive": {"error"}},
    "judge_forged_replies": {f: {"error"} for f in FUNCTIONS[:4]},
}
MESSAGES = {
    "judge_alias_naive": {"linear.svm_loss_vectorized": r"loops over examples: with N",
                          "linear.softmax_loss_vectorized": r"loops over examples"},
    "judge_train_skips_loss": {"linear.LinearClassifier": r"train.*losses"},
    "judge_surrogate": {"linear.svm_loss_naive": r"ValueError: a lone surrogate \\udc80"},
    "judge_forged_replies": {
        "linear.svm_loss_naive": r"cannot read.*digits",
        "linear.svm_loss_vectorized": r"cannot read.*shape",
        "linear.softmax_loss_naive": r"cannot read",
        "linear.softmax_loss_vectorized": r"cannot read.*more than"},
}


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_judge_case(case, tmp_path, monkeypatch):
    import autograder.tests.test_hostile as hostile

    monkeypatch.setitem(hostile.EXPECT, case, EXPECT[case])
    before = resource.getrusage(resource.RUSAGE_SELF)
    report, wall, landed, left, unpickled = grade_case(case, tmp_path, None)
    after = resource.getrusage(resource.RUSAGE_SELF)
    check_report(case, report, wall, landed, left, unpickled,
                 contained=report["containment"].startswith("bubblewrap"))
    functions = report["units"]["01_linear"]["functions"]
    for key, pattern in MESSAGES[case].items():
        assert re.search(pattern, functions[key]["message"]), (key, functions[key])
    # the report can be printed and written whatever the code sent
    text = report_mod.table(report)
    text.encode("utf-8")
    path = tmp_path / "report.json"
    report_mod.write_json(path, report)
    json.loads(path.read_text(encoding="utf-8"))
    if case == "judge_forged_replies":
        # ten million empty lists are refused by counting bytes, not by building them
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        assert cpu < 10, cpu


def test_grade_writes_its_report_whatever_the_messages(tmp_path):
    """`grade` on messages and output with lone surrogates: exit 0, table printed, JSON written."""
    folder = materialize("judge_surrogate", tmp_path, "marker", {})
    out = tmp_path / "r.json"
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--submission", str(folder), "--unit",
         "01", "--timeout", "5", "--json", str(out)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Total: 8 / 12" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "\\udc80" in report["units"]["01_linear"]["functions"]["linear.svm_loss_naive"][
        "message"]


def test_every_judge_case_is_expected():
    from autograder.tests.test_hostile import HOSTILE

    cases = sorted(p.name for p in HOSTILE.iterdir() if p.name.startswith("judge_"))
    assert cases == sorted(EXPECT)
