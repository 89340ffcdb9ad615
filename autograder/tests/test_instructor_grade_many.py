"""An instructor's afternoon: grade-many over a small class as the README says, the
per-function table (functions.csv), the messages for an instructor's own mistakes (a student's
folder as --submissions, an --out that is a file, the submissions folder or someone's folder, a
hand-in unpacked one level too deep, units typed as 1,2 or 01 02), and what Ctrl-C or kill -9
leaves behind (queued students not graded after Ctrl-C; no pool process outliving its parent)."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import cli
from autograder.grade_many import grade_many, report_name
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits
from autograder.units import resolve_units

from .submissions import make_submission

LIMITS = Limits(call_seconds=5.0, cpu_seconds=5.0)
SECRET = "SECRET-PRINTED-DURING-A-HIDDEN-CASE"
SVM = "loss = margins.sum() / num_train + reg * (W * W).sum()"


def _table(path):
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small class graded once on unit 01, as an instructor would."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    make_submission(subs, name="ann")
    make_submission(subs, name="ben", replace={"linear.py": [(SVM, SVM.replace(
        "/ num_train", ""))]})
    # right on every public case, wrong on the hidden 40-example one, printing there
    make_submission(subs, name="cat", replace={"linear.py": [(SVM, SVM + (
        f"\n    if num_train == 40:\n        print({SECRET!r}, X.shape)\n"
        "        loss = loss * 1.5"))]})
    make_submission(subs, name="dan", base="stubs")
    (subs / "eve").mkdir()  # an empty hand-in
    make_submission(subs / "fay", name="hw1")  # unpacked one level too deep
    zoe = make_submission(subs, name="zoe")  # saved on Windows: CRLF, a Latin-1 comment
    for path in (zoe / "coursework").glob("*.py"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    linear = zoe / "coursework" / "linear.py"
    linear.write_bytes(linear.read_bytes().replace(
        b"import numpy as np", "# écrit par Zoé\r\nimport numpy as np".encode("latin-1"), 1))
    out = root / "out"
    rows = grade_many(subs, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    return subs, out, rows


def test_functions_csv_says_who_lost_which_points_and_why(graded):
    _, out, rows = graded
    table = _table(out / "functions.csv")
    assert list(table[0]) == ["student", "unit", "function", "score", "max", "lost", "status",
                              "message", "hint"]
    graded_names = [r["student"] for r in rows if r["status"] == "graded"]
    assert graded_names == ["ann", "ben", "cat", "dan", "zoe"]
    assert sorted({r["student"] for r in table}) == graded_names  # eve, fay: in grades.csv only
    by = {(r["student"], r["function"]): r for r in table}
    assert len(by) == len(table) == 5 * len(graded_names)  # unit 01 grades 5 functions
    ben = by[("ben", "linear.svm_loss_vectorized")]
    assert (ben["status"], float(ben["score"]), float(ben["lost"])) == ("failed", 0.0, 3.0)
    assert "loss is" in ben["message"] and ben["hint"]
    assert all(float(r["lost"]) == 0 for r in table if r["student"] in ("ann", "zoe"))
    assert {r["status"] for r in table if r["student"] == "dan"} == {"not_implemented"}
    # the per-student sums of functions.csv are grades.csv's totals
    grades = {r["student"]: r for r in _table(out / "grades.csv")}
    for name in graded_names:
        assert sum(float(r["score"]) for r in table if r["student"] == name) == \
            float(grades[name]["total"]), name
    assert float(grades["zoe"]["total"]) == 12.0


def test_nothing_of_a_hidden_case_reaches_functions_csv_or_the_feedback(graded):
    _, out, _ = graded
    cat = json.loads((out / "reports" / report_name("cat")).read_text())
    entry = cat["units"]["01_linear"]["functions"]["linear.svm_loss_vectorized"]
    assert entry["status"] == "failed" and "hidden case" in entry["message"]
    private = json.dumps(cat["instructor"])
    assert "N=40" in private and SECRET in private  # the instructor's report has it all
    row = next(r for r in _table(out / "functions.csv")
               if (r["student"], r["function"]) == ("cat", "linear.svm_loss_vectorized"))
    assert row["message"] == entry["message"] and float(row["lost"]) == 3.0
    for text in ((out / "functions.csv").read_text(encoding="utf-8"),
                 (out / "feedback" / report_name("cat")).read_text(encoding="utf-8")):
        assert SECRET not in text and "N=40" not in text


def test_grades_csv_says_what_to_do_with_an_empty_or_too_deep_hand_in(graded):
    _, out, _ = graded
    grades = {r["student"]: r for r in _table(out / "grades.csv")}
    assert "its folder is empty" in grades["eve"]["status"]
    assert "'hw1/coursework'" in grades["fay"]["status"]
    assert "one level too deep" in grades["fay"]["status"]


def test_an_earlier_runs_output_folder_is_resumed_not_refused(graded):
    subs, out, _ = graded
    rows = grade_many(subs, out, units=["01"], workers=1, limits=LIMITS, progress=False)
    assert all(r["resumed"] for r in rows if r["status"] == "graded")
    assert (out / "functions.csv").is_file()


def _main(capsys, *args):
    code = cli.main(list(args))
    return code, capsys.readouterr().err.strip()


def test_instructor_mistakes_exit_2_saying_what_to_do(graded, tmp_path, capsys):
    subs, _, _ = graded
    # one student's folder given as the folder of students
    code, err = _main(capsys, "grade-many", "--submissions", str(subs / "ann"), "--out",
                      str(tmp_path / "o1"))
    assert code == 2 and "one student's submission" in err and "grade --submission" in err
    assert not (tmp_path / "o1").exists()
    # --out is a file
    (tmp_path / "notes.txt").write_text("mine")
    code, err = _main(capsys, "grade-many", "--submissions", str(subs), "--out",
                      str(tmp_path / "notes.txt"))
    assert code == 2 and "is not a folder" in err
    # --out is the submissions folder
    code, err = _main(capsys, "grade-many", "--submissions", str(subs), "--out", str(subs))
    assert code == 2 and "is the submissions folder" in err
    assert not (subs / "reports").exists()
    # --out is a folder of other things: nothing is written there
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "grades-2025.xlsx").write_text("last year's")
    code, err = _main(capsys, "grade-many", "--submissions", str(subs), "--out", str(mine))
    assert code == 2 and "already holds other files" in err and "grades-2025.xlsx" in err
    assert sorted(os.listdir(mine)) == ["grades-2025.xlsx"]
    # grade pointed at the package itself, or at the folder of students
    code, err = _main(capsys, "grade", "--submission", str(subs / "ann" / "coursework"))
    assert code == 2 and "coursework package itself" in err
    code, err = _main(capsys, "grade", "--submission", str(subs), "--unit", "01")
    assert code == 2 and "grade-many" in err


def test_units_as_an_instructor_types_them():
    assert resolve_units(["1,2"]) == ["01_linear", "02_mlp"]
    assert resolve_units(["01, linear", "4"]) == ["01_linear", "04_normalization"]
    args = cli.build_parser().parse_args(["grade-many", "--submissions", "s", "--out", "o",
                                          "--unit", "01", "02", "--unit", "5"])
    assert resolve_units(args.unit) == ["01_linear", "02_mlp", "05_optim"]
    with pytest.raises(ValueError, match="unknown unit '0l'"):
        resolve_units(["0l"])


def slow_grade(path, out, units, limits, hidden, reason):
    """A stand-in for grade_one in a pool process: marks its start, takes a second, marks its
    end."""
    Path(out, "started").mkdir(parents=True, exist_ok=True)
    Path(out, "started", f"{Path(path).name}-{os.getpid()}").write_text("")
    time.sleep(1.0 if reason is None else 120.0)
    Path(out, Path(path).name).write_text("graded")
    return Path(path).name, {"total": 1.0}


POOL = """
import os, signal, sys, threading, time
from pathlib import Path
from tqdm import tqdm
from autograder.grade_many import _pool_round
from autograder.tests.test_instructor_grade_many import slow_grade

if __name__ == "__main__":
    out, mode = Path(sys.argv[1]), sys.argv[2]
    reason = "slow" if mode == "orphan" else None
    todo = [(f"s{i:02d}", Path(f"s{i:02d}"), reason) for i in range(20)]
    def ctrl_c():  # once two students are graded
        while len([p for p in out.glob("s*")]) < 2:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    if mode == "interrupt":
        threading.Thread(target=ctrl_c, daemon=True).start()
    try:
        with tqdm(total=len(todo), disable=True) as bar:
            _pool_round(todo, 2, out, [], None, [], {}, bar, slow_grade)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


def _pool(tmp_path, mode):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.Popen([sys.executable, "-c", POOL, str(tmp_path / "out"), mode],
                            env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_ctrl_c_grades_no_queued_student_before_the_process_ends(tmp_path):
    """ProcessPoolExecutor's own cancel_futures was undone by the shutdown of its ``with``
    block: the run printed "interrupted", then graded every queued student before exiting (all
    20 here, about 10 s; 18 students, a minute, in the instructor's run)."""
    proc = _pool(tmp_path, "interrupt")
    stdout, stderr = proc.communicate(timeout=120)
    ended = time.monotonic()
    assert "interrupted" in stdout, stderr[-2000:]
    graded = [p for p in (tmp_path / "out").iterdir() if p.name != "started"]
    started = list((tmp_path / "out" / "started").iterdir())
    # at the interrupt: 2 done, 2 running, a few already handed to the pool processes
    assert len(started) <= 10 and len(graded) <= 10, (len(started), len(graded))
    assert time.monotonic() - ended < 60


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_processes_end_when_grade_many_is_killed(tmp_path):
    """kill -9 of grade-many (or a closed terminal) left its pool processes waiting forever,
    holding the terminal's or a pipe's end open (``| tee`` never finished)."""
    proc = _pool(tmp_path, "orphan")
    started = tmp_path / "out" / "started"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(started.glob("*"))
                                              if started.is_dir() else []) < 2:
        time.sleep(0.1)
    pids = [int(p.name.rsplit("-", 1)[1]) for p in started.iterdir()]
    assert len(pids) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    left = [p for p in pids if alive(p)]
    for pid in left:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "started"]
