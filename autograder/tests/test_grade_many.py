"""grade-many: one report per student (atomic), grades.csv, resumable, hostile students
contained."""

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from autograder import engine
from autograder.grade_many import grade_many, grader_digest, report_name
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
    return root


def report_of(out, name):
    return json.loads((out / "reports" / report_name(name)).read_text())


LIMITS = Limits(call_seconds=5.0, cpu_seconds=5.0)


def test_grades_every_student_and_writes_the_csv(class_folder, tmp_path):
    out = tmp_path / "out"
    rows = grade_many(class_folder, out, units=["01"], workers=2, limits=LIMITS, progress=False)
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    totals = {r["student"]: r["total"] for r in rows}
    assert totals == {"alice": 12.0, "bob": 8.0, "carol": 9.0, "dave": 0.0}
    dave = report_of(out, "dave")
    assert "no coursework package" in dave["error"]
    carol = report_of(out, "carol")
    assert carol["units"]["01_linear"]["functions"]["linear.softmax_loss_vectorized"]["status"] \
        == "crashed"
    with open(out / "grades.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["student"] for t in table] == ["alice", "bob", "carol", "dave"]
    assert table[0]["01_linear"] == "12" and table[0]["status"] == "graded"
    assert table[3]["status"].startswith("ungradable")
    assert table[0]["report"] == "reports/" + report_name("alice")
    assert not list(out.rglob(".*.tmp"))  # atomic writes leave no temporary files


def test_resumes_without_regrading_unless_forced(class_folder, tmp_path):
    out = tmp_path / "out"
    grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    # a report that already exists, of the same files, is kept as it is (an interrupted run
    # resumes)
    fingerprint = report_of(out, "alice")["fingerprint"]
    (out / "reports" / report_name("alice")).write_text(json.dumps(
        {"submission": "x", "total": 1.0, "max": 12.0, "device": "cpu",
         "fingerprint": fingerprint, "grader": grader_digest(),
         "units": {"01_linear": {"score": 1.0, "max": 12.0, "functions": {}}}}))
    (out / "reports" / report_name("bob")).unlink()
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    totals = {r["student"]: r["total"] for r in rows}
    assert totals["alice"] == 1.0 and totals["bob"] == 8.0
    assert {r["student"]: r["resumed"] for r in rows} == {
        "alice": True, "bob": False, "carol": True, "dave": False}
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False,
                      force=True)
    assert {r["student"]: r["total"] for r in rows}["alice"] == 12.0


def test_a_report_of_another_grader_is_graded_again(class_folder, tmp_path):
    """A report was reused whatever grader wrote it, so after a hidden case was fixed
    (or a --force run was interrupted and resumed) the class mixed old and new grades."""
    out = tmp_path / "out"
    grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    alice = report_of(out, "alice")
    assert alice["grader"] == grader_digest() and alice["total"] == 12.0
    (out / "reports" / report_name("alice")).write_text(json.dumps(
        dict(alice, total=1.0, grader="an earlier grader")))
    rows = {r["student"]: r for r in grade_many(class_folder, out, units=["01"], workers=1,
                                                limits=LIMITS, progress=False)}
    assert rows["alice"]["total"] == 12.0 and not rows["alice"]["resumed"]
    assert rows["carol"]["resumed"]


def test_a_resubmission_is_graded_again(class_folder, tmp_path):
    """A student whose files changed after their report kept the old grade, and the
    run said nothing of it."""
    out = tmp_path / "out"
    rows = grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS,
                      progress=False)
    assert {r["student"]: r["total"] for r in rows}["bob"] == 8.0
    shutil.copy(class_folder / "alice" / "coursework" / "linear.py",
                class_folder / "bob" / "coursework" / "linear.py")  # bob hands in again
    rows = {r["student"]: r for r in grade_many(class_folder, out, units=["01"], workers=1,
                                                limits=LIMITS, progress=False)}
    assert rows["bob"]["total"] == 12.0 and not rows["bob"]["resumed"]
    assert rows["alice"]["resumed"] and rows["alice"]["total"] == 12.0


def test_a_report_of_other_units_is_graded_again_not_summed(class_folder, tmp_path):
    out = tmp_path / "out"
    grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    rows = grade_many(class_folder, out, units=["03"], workers=1, limits=LIMITS,
                      progress=False)
    alice = {r["student"]: r for r in rows}["alice"]
    assert set(alice["units"]) == {"03_cnn"} and alice["total"] == alice["units"]["03_cnn"]
    assert set(report_of(out, "alice")["units"]) == {"03_cnn"}
    with open(out / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert "03_cnn" in header and "01_linear" not in header


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
    bob = report_of(out, "bob")
    assert "grader fault: RuntimeError: boom" in bob["error"]
    assert {r["student"]: r["total"] for r in rows}["alice"] == 12.0


def test_unusable_arguments(class_folder, tmp_path):
    with pytest.raises(engine.UsageError, match="not a directory"):
        grade_many(tmp_path / "missing", tmp_path / "out", progress=False)
    with pytest.raises(engine.UsageError, match="--workers"):
        grade_many(class_folder, tmp_path / "out", workers=0, progress=False)


def test_every_entry_gets_a_row_with_spreadsheet_safe_cells(tmp_path):
    """Names that are formulas, very long, dotted or not valid UTF-8; entries that are files or
    links: each gets a row (graded or refused, with the reason), every cell is inert in a
    spreadsheet, and report file names do not depend on the names."""
    root = tmp_path / "submissions"
    root.mkdir()
    long_name = "x" * 250  # with ".json" the old report name exceeded the file-name limit
    names = ["=HYPERLINK(\"evil.example\")", "+1+1", "-2", "@SUM(A1)", long_name, ".dot"]
    for name in names:
        _student(root, name)
    odd = os.fsdecode(b"caf\xe9")  # not UTF-8: a lone surrogate in Python
    _student(root, odd)
    (root / "notes.txt").write_text("not a submission")
    os.symlink(root / "-2", root / "link_to_a_classmate")
    out = tmp_path / "out"
    rows = grade_many(root, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    by_name = {r["student"]: r for r in rows}
    assert len(rows) == len(names) + 3
    for name in names + [odd]:
        assert by_name[name]["status"] == "graded" and by_name[name]["total"] == 12.0, name
    assert by_name["notes.txt"]["status"] == "refused: not a folder"
    assert by_name["link_to_a_classmate"]["status"].startswith("refused: a symbolic link")
    assert by_name["link_to_a_classmate"]["total"] == 0.0
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    for row in table[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    students = [row[0] for row in table[1:]]
    assert "'=HYPERLINK(\"evil.example\")" in students and "'-2" in students
    for path in (out / "reports").iterdir():
        assert len(path.name) == len(report_name("a")) and path.name.endswith(".json")
    assert report_of(out, long_name)["total"] == 12.0
    with open(out / "index.csv", newline="", encoding="utf-8") as f:
        index = {row["student"]: row["report"] for row in csv.DictReader(f)}
    assert index[long_name] == "reports/" + report_name(long_name)


def test_a_student_who_cannot_be_graded_scores_0_of_the_course_maximum(tmp_path):
    """An empty folder, a file and a link get 0 out of the same maximum as a graded student,
    in the CSV row and in their report, so a spreadsheet's percentages stay right."""
    root = tmp_path / "submissions"
    root.mkdir()
    _student(root, "alice")
    (root / "bob").mkdir()  # handed in nothing
    (root / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    rows = grade_many(root, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    by_name = {r["student"]: r for r in rows}
    full = by_name["alice"]["max"]
    assert by_name["alice"]["total"] == full > 0
    assert by_name["bob"]["status"].startswith("ungradable: ")
    for name in ("bob", "notes.txt"):
        assert (by_name[name]["total"], by_name[name]["max"]) == (0.0, full), by_name[name]
    assert report_of(out, "bob")["max"] == full


def test_a_feedback_copy_without_the_instructor_part(class_folder, tmp_path):
    out = tmp_path / "out"
    grade_many(class_folder, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    full = report_of(out, "alice")
    feedback = json.loads((out / "feedback" / report_name("alice")).read_text())
    assert feedback["total"] == full["total"] and "instructor" not in feedback


POOL_AFTER_TORCH = """
import shutil, sys
from pathlib import Path

import torch

from autograder.grade_many import grade_many
from autograder.paths import REFERENCE_PACKAGE

if __name__ == "__main__":
    root = Path(sys.argv[1])
    for i in range(2):
        shutil.copytree(REFERENCE_PACKAGE, root / "class" / f"s{i}" / "coursework")
    # This process runs PyTorch on several threads before the pool starts (a notebook or a
    # script that trained something, or the judge's own PyTorch references).
    torch.set_num_threads(2)
    a = torch.ones(512, 512, dtype=torch.float64)
    net = torch.nn.Conv2d(3, 8, 3).double()
    net.to(torch.float32)(torch.ones(4, 3, 64, 64))
    print(float((a @ a).sum()))
    rows = grade_many(root / "class", root / "out", units=["06"], workers=2, progress=False)
    print("ROWS", [(r["total"], r["max"], r["status"]) for r in rows])
"""


def test_a_pool_started_after_pytorch_ran_here_grades_without_deadlock(tmp_path):
    """A forked pool deadlocked here (the child's first parallel PyTorch operation waited for
    OpenMP threads that only existed in the parent); the pool starts fresh interpreters."""
    import ast
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "grade_after_torch.py"
    script.write_text(POOL_AFTER_TORCH)
    env = dict(os.environ, PYTHONPATH=str(root))  # this tree's autograder, in every process
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=600, cwd=root, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = ast.literal_eval(done.stdout.split("ROWS", 1)[1].strip())
    assert len(rows) == 2
    assert all(total == full > 0 and status == "graded" for total, full, status in rows), rows


def test_the_judge_runs_pytorch_on_one_thread_while_it_grades_and_restores_it():
    """grade-many runs a judge per core: each judge's PyTorch on every core made two workers
    slower than one (0.92x measured); it is held to one thread while grading."""
    import torch

    from autograder.engine import _one_judge_thread

    original = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with _one_judge_thread(["06_architectures"]):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError):
            with _one_judge_thread(["01_linear"]):  # torch is imported here: held too
                assert torch.get_num_threads() == 1
                raise RuntimeError("a grading that fails still restores the setting")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)


INTERRUPTIBLE = """
import signal
import sys
# As in a terminal: a process started in the background by a non-interactive shell inherits
# SIGINT ignored, and Ctrl-C would not reach it.
signal.signal(signal.SIGINT, signal.default_int_handler)
from autograder.cli import main
sys.exit(main(["grade-many", "--submissions", sys.argv[1], "--out", sys.argv[2],
               "--workers", "2", "--unit", "01", "--timeout", "2", "--quiet"]))
"""


def test_ctrl_c_stops_a_pool_run_at_once_and_it_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from autograder.paths import REPO_ROOT

    root = tmp_path / "submissions"
    root.mkdir()
    names = [f"s{i}" for i in range(8)]
    for name in names:
        _student(root, name, "infinite_loop")  # several seconds each: timeouts
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTIBLE, str(root), str(out)], env=env,
                            cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    reports = out / "reports"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (reports.is_dir() and any(reports.iterdir())):
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    stopped = time.monotonic()
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted: the finished reports are in" in stderr
    assert time.monotonic() - stopped < 20  # the queued students were not graded first
    finished = list(reports.iterdir())
    assert 1 <= len(finished) < len(names)
    rows = grade_many(root, out, units=["01"], workers=2, limits=Limits(call_seconds=2.0,
                                                                        cpu_seconds=2.0),
                      progress=False)
    assert [r["student"] for r in rows] == names and all(r["status"] == "graded" for r in rows)


def test_a_process_that_dies_costs_only_the_student_it_was_grading(tmp_path):
    """A pool process killed mid-grading (the out-of-memory killer) breaks the pool and every
    student it had not finished: they are graded again (in a new pool, then one at a time), so
    only the student whose grading kills its process gets a grader fault, and the command says
    so with exit status 1."""
    from tqdm import tqdm

    from autograder.grade_many import DIED, _pooled, grader_faults

    from .cluster_helpers import grade_one_or_die

    root = tmp_path / "submissions"
    root.mkdir()
    names = ["a1", "a2", "killer", "a3", "a4", "a5"]
    for name in names:
        (root / name).mkdir()
    out = tmp_path / "out"
    todo = [(name, root / name, None) for name in names]
    results = {}
    with tqdm(total=len(todo), disable=True) as bar:
        _pooled(todo, 2, out, ["01_linear"], None, [], results, bar, grade=grade_one_or_die)
    assert set(results) == set(names)
    assert results["killer"]["error"] == DIED and results["killer"]["total"] == 0.0
    for name in names:
        if name != "killer":
            assert results[name]["total"] == 1.0 and "error" not in results[name], name
    assert report_of(out, "killer")["error"] == DIED
    rows = [{"student": n, "status": "ungradable: " + r["error"] if r.get("error") else "graded"}
            for n, r in results.items()]
    assert grader_faults(rows) == ["killer"]


def test_names_that_differ_only_in_control_characters_or_quotes_keep_their_own_rows():
    """grades.csv and index.csv name each student in a way no other name gives: "bob\\x01"
    and "bob\\x02", "=x" and "'=x", a newline and a "?" stay apart (a "?" for every control
    character once made two rows one name)."""
    from autograder.report import csv_name

    names = ["bob\x01", "bob\x02", "=x", "'=x", "zoé\nlab", "zoé?lab", "a\\b", "a\\\\b",
             os.fsdecode(b"caf\xe9"), "caf\\udce9", "\tx", "-1"]
    cells = [csv_name(name) for name in names]
    assert len(set(cells)) == len(names), cells
    for cell in cells:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
        assert not any(ord(c) < 32 for c in cell), cell
    assert csv_name("zoé\nlab") == "zoé\\nlab" and csv_name("=x") == "'=x"
