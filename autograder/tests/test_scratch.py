"""The grader's scratch folders: a grader killed by SIGKILL cannot remove its own, and the next
grader removes them; nothing a living grader holds is ever taken."""

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

from autograder import scratch
from autograder.paths import REPO_ROOT


def killed_grader_folder(tmp_path):
    """A scratch folder made by another process that was then killed with SIGKILL."""
    code = textwrap.dedent(f"""
        import sys, tempfile, time
        tempfile.tempdir = {str(tmp_path)!r}
        from autograder import scratch
        print(scratch.make("worker"), flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, text=True)
    path = child.stdout.readline().strip()
    return child, path


def test_a_killed_graders_folder_is_swept_and_a_living_ones_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    child, orphan = killed_grader_folder(tmp_path)
    try:
        (tmp_path / orphan / "worker.py").write_text("x = 1\n")
        later = time.time() + 10 * scratch.MIN_AGE_SECONDS
        # while its grader lives, the folder is held
        assert scratch.sweep(str(tmp_path), now=later) == 0 and os.path.isdir(orphan)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    mine = scratch.make("staged")  # held by this process
    (tmp_path / "grader-notes-1").mkdir()  # not a kind the grader makes
    (tmp_path / "grader-worker-file").write_text("")  # not a folder
    assert scratch.sweep(str(tmp_path), now=time.time()) == 0  # too young to be taken
    assert os.path.isdir(orphan)
    assert scratch.sweep(str(tmp_path), now=later) == 1
    assert not os.path.exists(orphan)
    assert os.path.isdir(mine)
    assert (tmp_path / "grader-notes-1").is_dir() and (tmp_path / "grader-worker-file").exists()
    scratch.remove(mine)
    assert not os.path.exists(mine) and mine not in scratch._HELD


def test_grading_leaves_no_scratch_folder(tmp_path, monkeypatch):
    from autograder import engine

    from .submissions import make_submission

    sub = make_submission(tmp_path / "sub")
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_dir))
    made, make = [], scratch.make
    monkeypatch.setattr(scratch, "make", lambda kind: made.append(make(kind)) or made[-1])
    report = engine.grade(sub, ["01"], keys={"linear.svm_loss_naive"})
    assert report["units"]["01_linear"]["functions"]["linear.svm_loss_naive"]["status"] == \
        "passed"
    assert {os.path.basename(p).split("-")[1] for p in made} >= {"staged", "submission",
                                                                  "worker"}
    assert all(p.startswith(str(scratch_dir)) for p in made), made
    left = [p.name for p in scratch_dir.iterdir() if p.name.startswith(scratch.PREFIX)]
    assert left == [], left


def test_an_unknown_kind_is_refused():
    try:
        scratch.make("other")
    except ValueError as exc:
        assert "unknown scratch folder kind 'other'" in str(exc)
    else:
        raise AssertionError("make('other') did not raise")
