"""Exit statuses of ``python -m autograder``: 0 when grading completed whatever the scores, 2 with a
one-line message for unusable arguments, 1 only for a fault of the grader itself."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.paths import REPO_ROOT

HOSTILE = Path(__file__).resolve().parent / "hostile"


def run(*args, code=None):
    argv = [sys.executable, "-m", "autograder", *args] if code is None else \
        [sys.executable, "-c", code, *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


def submission(root, case=None):
    folder = Path(root) / (case or "honest")
    shutil.copytree(HOSTILE / "_base", folder)
    if case:
        shutil.copytree(HOSTILE / case, folder, dirs_exist_ok=True)
    return str(folder)


def test_grading_completes_with_status_0_whatever_the_scores(tmp_path):
    result = run("grade", "--submission", submission(tmp_path, "segfault"), "--unit", "01",
                 "--timeout", "5", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert "CRASH" in result.stdout and "Total: 9 / 12" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["units"]["01_linear"]["functions"]["linear.softmax_loss_vectorized"][
        "status"] == "crashed"
    stubs = run("grade", "--submission", str(REPO_ROOT), "--unit", "linear")
    assert stubs.returncode == 0 and "Total: 0 / 12" in stubs.stdout


@pytest.mark.parametrize("args, words", [
    (["grade", "--submission", "/nonexistent/folder"], "not a directory"),
    (["grade", "--submission", "{tmp}"], "no coursework package"),
    (["grade", "--submission", "{sub}", "--unit", "99_nothing"], "unknown unit"),
    (["grade", "--submission", "{sub}", "--timeout", "0"], "--timeout must be positive"),
    (["grade", "--submission", "{sub}", "--memory", "10"], "--memory must be at least"),
    (["grade-many", "--submissions", "/nonexistent", "--out", "{tmp}/o"], "not a directory"),
    (["grade-many", "--submissions", "{tmp}", "--out", "{tmp}/o", "--workers", "0"],
     "--workers must be at least 1"),
    # a folder given without its option is told the option
    (["grade", "{sub}"], "a folder is given by its option: grade --submission "),
    (["grade-many", "{tmp}", "--out", "{tmp}/o"],
     "a folder is given by its option: grade-many --submissions "),
])
def test_unusable_arguments_exit_2_with_one_line(tmp_path, args, words):
    sub = submission(tmp_path)
    args = [a.format(tmp=tmp_path, sub=sub) for a in args]
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_malformed_option_values_exit_2_with_one_line(tmp_path):
    result = run("grade", "--submission", submission(tmp_path), "--timeout", "soon")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: argument --timeout: invalid float value: 'soon' "
        "(see `python -m autograder grade --help`)"]
    result = run("grade-many", "--submissions", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--workers", "many")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "'many'" in result.stderr


def test_a_grader_fault_inside_one_test_is_reported_and_exits_1(tmp_path):
    # A bug of the grader in one function's test: that function is marked, the others are
    # graded, the table is printed, and the exit status says the scores need a look.
    code = ("import sys; from autograder.specs import linear\n"
            "def broken(t): raise TypeError('bug in a test')\n"
            "linear.SPEC.tests['linear.svm_loss_naive'].func = broken\n"
            "from autograder.cli import main; sys.exit(main(sys.argv[1:]))")
    result = run("grade", "--submission", submission(tmp_path), "--unit", "01", code=code)
    assert result.returncode == 1, result.stderr
    assert "the grader itself failed on linear.svm_loss_naive" in result.stderr
    assert "linear.svm_loss_vectorized" in result.stdout


def test_a_fault_of_the_grader_exits_1(tmp_path):
    code = ("import sys; import autograder.engine as e\n"
            "def broken(*a, **k): raise RuntimeError('grader bug')\n"
            "e.grade = broken\n"
            "from autograder.cli import main; sys.exit(main(sys.argv[1:]))")
    result = run("grade", "--submission", submission(tmp_path), code=code)
    assert result.returncode == 1 and "grader bug" in result.stderr


def test_grade_many_from_the_command_line(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    submission(root)
    submission(root, "sys_exit")
    out = tmp_path / "out"
    result = run("grade-many", "--submissions", str(root), "--out", str(out), "--unit", "01",
                 "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    from autograder.grade_many import report_name

    assert (out / "grades.csv").read_text().splitlines()[1:] == [
        f"honest,12,12,12,graded,reports/{report_name('honest')}",
        f"sys_exit,8,12,8,graded,reports/{report_name('sys_exit')}"]
    # a second run skips the graded students and still writes the table
    again = run("grade-many", "--submissions", str(root), "--out", str(out), "--unit", "01",
                "--quiet")
    assert again.returncode == 0 and (out / "grades.csv").exists()


def test_feedback_leaves_out_the_instructor_part(tmp_path):
    import textwrap

    from autograder.tests.submissions import make_submission
    from autograder.tests.test_judge_verdicts import LEAKY

    sub = make_submission(tmp_path, append={"linear.py": "MODE = 'wrong'\n" +
                                            textwrap.dedent(LEAKY)})
    full, feedback = tmp_path / "full.json", tmp_path / "feedback.json"
    result = run("grade", "--submission", str(sub), "--unit", "01", "--json", str(full),
                 "--feedback", str(feedback))
    assert result.returncode == 0, result.stderr
    assert "N=40" in json.dumps(json.loads(full.read_text())["instructor"])
    assert "N=40" not in feedback.read_text() and "instructor" not in json.loads(
        feedback.read_text())
    assert "N=40" not in result.stdout and "hidden case 1" in result.stdout
