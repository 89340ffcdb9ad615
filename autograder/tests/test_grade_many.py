"""grade-many: one report per student (atomic), grades.csv, resumable, hostile students
contained."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from autograder import engine
from autograder.grade_many import grade_many
from autograder.sandbox import Limits

HOSTILE = Path(__file__).resolve().parent / "hostile"


def _student(root, name, case=None):
    folder = Path(root) / name
    shutil.copytree(HOSTILE / "_base", folder)
    if case:
        shutil.copytree(HOSTILE / case, folder, dirs_exist_ok=True)
    return folder


@pytest.fixture
def class_folder(tmp_path):
    root = tmp_path / "submissions"
    root.mkdir()
    _student(root, "alice")
    _student(root, "bob", "sys_exit")
    _student(root, "carol", "segfault")
    (root / "dave").mkdir()  # no coursework package
    (root / ".hidden").mkdir()  # not a student
    return root


LIMITS = Limits(call_seconds=5.0, cpu_seconds=5.0)


def test_grades_every_student_and_writes_the_csv(class_folder, tmp_path):
    out = tmp_path / "out"
    rows = grade_many(class_folder, out, units=["01"], workers=2, limits=LIMITS, progress=False)
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    totals = {r["student"]: r["total"] for r in rows}
    assert totals == {"alice": 12.0, "bob": 8.0, "carol": 9.0, "dave": 0.0}
    dave = json.loads((out / "dave.json").read_text())
    assert "no coursework package" in dave["error"]
    carol = json.loads((out / "carol.json").read_text())
    assert carol["units"]["01_linear"]["functions"]["linear.softmax_loss_vectorized"]["status"] \
        == "crashed"
    with open(out / "grades.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["student"] for t in table] == ["alice", "bob", "carol", "dave"]
    assert table[0]["01_linear"] == "12" and table[0]["status"] == "graded"
    assert table[3]["status"].startswith("ungradable")
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_resumes_without_regrading_unless_forced(class_folder, tmp_path):
    out = tmp_path / "out"
    grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    # a report that already exists is kept as it is (an interrupted run resumes)
    (out / "alice.json").write_text(json.dumps({"submission": "x", "total": 1.0, "max": 12.0,
                                                "units": {}}))
    (out / "bob.json").unlink()
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    totals = {r["student"]: r["total"] for r in rows}
    assert totals["alice"] == 1.0 and totals["bob"] == 8.0
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False,
                      force=True)
    assert {r["student"]: r["total"] for r in rows}["alice"] == 12.0


def test_a_student_that_breaks_the_grader_does_not_stop_the_batch(class_folder, tmp_path,
                                                                    monkeypatch):
    real = engine.grade

    def flaky(submission, *args, **kwargs):
        if Path(submission).name == "bob":
            raise RuntimeError("boom")
        return real(submission, *args, **kwargs)

    monkeypatch.setattr(engine, "grade", flaky)
    out = tmp_path / "out"
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    bob = json.loads((out / "bob.json").read_text())
    assert "grader fault: RuntimeError: boom" in bob["error"]
    assert {r["student"]: r["total"] for r in rows}["alice"] == 12.0


def test_unusable_arguments(class_folder, tmp_path):
    with pytest.raises(engine.UsageError, match="not a directory"):
        grade_many(tmp_path / "missing", tmp_path / "out", progress=False)
    with pytest.raises(engine.UsageError, match="--workers"):
        grade_many(class_folder, tmp_path / "out", workers=0, progress=False)
