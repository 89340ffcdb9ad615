"""End to end: an nbgrader course built from the single source grades four students rightly.

The course has (up to) the first two available units. Four students submit: the reference
(correct), the stubs, a partly correct one (only the first graded function of each unit), and a
cheater: the partly correct one whose coursework, at import, makes ``numpy.testing``'s asserts
no-ops, replaces ``builtins.AssertionError``, ``print`` and ``isinstance``, and replaces the
notebook's ``check``. ``nbgrader autograde`` runs their notebooks (where the cheater's tampering
works); ``python -m autograder nbgrader sync`` regrades with the engine; ``nbgrader export`` must
then report the engine's scores, so the cheater gets what its honest function earns and no more.
``generate_feedback`` must contain no hidden test.

The notebooks are small ones written here (fast, and independent of the content notebooks); set
``AUTOGRADER_E2E_NOTEBOOKS=notebooks`` to build the course from the real notebooks instead.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import engine, stubs
from autograder.nbgrader_course import editable_files, secret_lines, unit_keys
from autograder.paths import HIDDEN_DIR, PACKAGE_DIR, REFERENCE_PACKAGE, REPO_ROOT
from autograder.sandbox import bubblewrap_path
from autograder.units import UNITS, available_units

pytestmark = [pytest.mark.xdist_group("nbgrader"),
              pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent))
                                 is None, reason="nbgrader is not installed in this environment")]

BIN = Path(sys.executable).parent
UNITS_USED = available_units()[:2]
STUDENTS = ("correct", "stubs", "partial", "cheater", "intruder")
CONTAINED = bubblewrap_path() is not None

CHEAT = '''\
# --- tampering: everything below runs when the notebook imports this module ---
import builtins as _b
import sys as _sys

import numpy.testing as _nt

_nt.assert_allclose = lambda *a, **k: None
_nt.assert_array_equal = lambda *a, **k: None
_nt.assert_array_almost_equal = lambda *a, **k: None


class _NoAssert(Exception):
    pass


_b.AssertionError = _NoAssert
_print = _b.print
_b.print = lambda *a, **k: _print(*[str(x).replace("FAIL", "PASS") for x in a], **k)
_isinstance = _b.isinstance
_b.isinstance = lambda obj, cls: True if cls is _NoAssert else _isinstance(obj, cls)
try:
    import autograder as _ag

    _fake = lambda *a, **k: _print("All checks passed.")
    _ag.check = _fake
    if "autograder.notebook_check" in _sys.modules:
        _sys.modules["autograder.notebook_check"].check = _fake
except Exception:
    pass
# --- end of tampering ---
'''


# The intruder: the partly correct code, plus this, run when the notebook imports the module. It
# tries to read the reference, the hidden tests, the gradebook, the course's source and a
# classmate's submission, to write into a classmate's submission, the grader's files, the course
# and its own folder, and to reach the network; it prints what it got (which would reach the
# student through generate_feedback).
INTRUDE = '''\
# --- intrusion: everything below runs when the notebook imports this module ---
import os as _os
import socket as _socket

_REPORT = []


def _try(label, action):
    try:
        _REPORT.append(("%s: GOT %r" % (label, action()))[:300])
    except Exception as exc:
        _REPORT.append("%s: FAILED %s" % (label, type(exc).__name__))


def _append(path, text):
    with open(path, "a") as f:
        f.write(text)
    return path


_course = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.getcwd())))
_try("read reference", lambda: open("@REFERENCE@").read()[:200])
_try("read hidden tests", lambda: sorted(_os.listdir("@HIDDEN@")))
_try("read gradebook", lambda: open(_course + "/gradebook.db", "rb").read(64))
_try("read source", lambda: sorted(_os.listdir(_course + "/source")))
_try("read classmate", lambda: sorted(_os.listdir(_course + "/submitted/correct")))
_try("write classmate", lambda: _append(_course + "/submitted/correct/@UNIT@/coursework/"
                                        "@MODULE@.py", "raise SystemExit"))
_try("patch grader", lambda: _append("@SPEC@", "# patched"))
_try("patch course", lambda: _append(_course + "/source/@UNIT@/coursework/__init__.py", "#"))
_try("write own folder", lambda: _append("intruded.txt", "x"))
_try("network", lambda: _socket.create_connection(("1.1.1.1", 53), timeout=2))
print("INTRUSION REPORT", *_REPORT, sep="\\n")
# --- end of intrusion ---
'''


def partial_source(text, keep):
    """The reference module with every solution region stubbed except those of functions named
    in ``keep`` (names as 'fn' or 'Class.method')."""
    lines = text.splitlines(keepends=True)
    out, region, start = [], None, 0
    for number, line in enumerate(lines):
        if line.strip() == stubs.BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            region = stubs._enclosing_name(lines, number, indent)
            start = number
        elif line.strip() == stubs.END:
            if region.split(".")[0] in keep or region in keep:
                out.extend(lines[start:number + 1])
            else:
                out.append(stubs.make_stub("".join(lines[start:number + 1])))
            region = None
        elif region is None:
            out.append(line)
    return "".join(out)


def first_keys():
    return {unit: next(iter(unit_keys(unit))) for unit in UNITS_USED}


def student_files(student):
    """{'coursework/x.py': text} of the student's editable files."""
    keep = {key.split(".", 1)[1] for key in first_keys().values()}
    keep_modules = {key.split(".", 1)[0] for key in first_keys().values()}
    files = {}
    for rel in editable_files():
        text = (REFERENCE_PACKAGE / rel.split("/", 1)[1]).read_text()
        module = Path(rel).stem
        if student == "correct":
            files[rel] = text
        elif student == "stubs":
            files[rel] = stubs.make_stub(text)
        else:
            files[rel] = partial_source(text, keep if module in keep_modules else set())
            units = [u for u in UNITS_USED if module in UNITS[u][1]]
            if student == "cheater" and units:
                files[rel] = CHEAT + "\n" + files[rel]
            if student == "intruder" and units:
                code = INTRUDE
                for name, value in (("REFERENCE", REFERENCE_PACKAGE / f"{module}.py"),
                                    ("HIDDEN", HIDDEN_DIR), ("UNIT", units[0]), ("MODULE", module),
                                    ("SPEC", PACKAGE_DIR / "specs" / f"{module}.py")):
                    code = code.replace(f"@{name}@", str(value))
                files[rel] = code + "\n" + files[rel]
    return files


def write_notebooks(folder):
    """One small notebook per unit: imports its modules, then check cells (the first one checks
    two functions together, to test a multi-function cell)."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for unit in UNITS_USED:
        keys = list(unit_keys(unit))
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        cells = [nbformat.v4.new_markdown_cell(f"# {UNITS[unit][0]}"),
                 nbformat.v4.new_code_cell("\n".join(
                     f"import coursework.{m}" for m in UNITS[unit][1]))]
        groups = [keys[:2]] + [[k] for k in keys[2:]]
        for group in groups:
            cells.append(nbformat.v4.new_code_cell(
                "from autograder import check\n" + "\n".join(f'check("{k}")' for k in group)))
        nb.cells = cells
        nbformat.write(nb, folder / f"{unit.split('_', 1)[0]}_e2e.ipynb")
    return folder


def run(args, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(map(str, args))} failed:\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def export(course):
    run([BIN / "nbgrader", "export"], course)
    with open(course / "grades.csv", newline="") as f:
        return {(row["student_id"], row["assignment"]): float(row["score"])
                for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    assert UNITS_USED, "no unit has tests"
    tmp = tmp_path_factory.mktemp("nbgrader")
    course = tmp / "course"
    notebooks = os.environ.get("AUTOGRADER_E2E_NOTEBOOKS")
    notebooks = REPO_ROOT / notebooks if notebooks else write_notebooks(tmp / "notebooks")
    build_args = [sys.executable, "-m", "autograder", "nbgrader", "build", str(course),
                  "--notebooks", str(notebooks)]
    for unit in UNITS_USED:
        build_args += ["--unit", unit]
    run(build_args, REPO_ROOT)
    for unit in UNITS_USED:
        run([BIN / "nbgrader", "generate_assignment", unit], course)
        for student in STUDENTS:
            target = course / "submitted" / student / unit
            shutil.copytree(course / "release" / unit, target)
            for rel, text in student_files(student).items():
                (target / rel).write_text(text)
    protected = digest_protected(course)
    for unit in UNITS_USED:
        if CONTAINED:  # the README's walk-through: every notebook in the contained kernel
            run([sys.executable, "-m", "autograder", "nbgrader", "autograde", str(course), unit,
                 "--no-sync"], REPO_ROOT)
        else:  # documented: no contained kernel without bubblewrap; nbgrader's own kernel
            run([BIN / "nbgrader", "autograde", unit, "--Execute.kernel_name=python3"], course)
    before = export(course)
    sync = run([sys.executable, "-m", "autograder", "nbgrader", "sync", str(course)], REPO_ROOT)
    after = export(course)
    # what the engine itself says of each submission, as the instructor's `grade` would
    truth = {}
    for student in STUDENTS:
        sub = tmp / "direct" / student
        shutil.copytree(REPO_ROOT / "coursework", sub / "coursework",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for rel, text in student_files(student).items():
            (sub / rel).write_text(text)
        result = engine.grade(sub, UNITS_USED)
        for unit in UNITS_USED:
            truth[student, unit] = result["units"][unit]["score"]
    maxima = {unit: sum(unit_keys(unit).values()) for unit in UNITS_USED}
    return {"dir": course, "before": before, "after": after, "truth": truth, "max": maxima,
            "sync_output": sync.stdout, "protected_before": protected,
            "protected_after": digest_protected(course)}


def digest_protected(course):
    """{path: sha256} of what no kernel may change: the course's source, every submission,
    the grader's package and the reference."""
    import hashlib

    out = {}
    for root in (course / "source", course / "submitted", PACKAGE_DIR, REFERENCE_PACKAGE):
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file() or \
                    (root == PACKAGE_DIR and "tests" in path.relative_to(root).parts):
                continue  # (the tests themselves may be edited while they run)
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_course_layout(course):
    course_dir = course["dir"]
    config = (course_dir / "nbgrader_config.py").read_text()
    assert "exclude_overwriting" in config and "Execute.timeout" in config
    for unit in UNITS_USED:
        source = course_dir / "source" / unit
        assert (source / "coursework").is_dir() and not (source / "coursework").is_symlink()
        for rel in editable_files():
            assert rel in config
        # release/ (what students get) holds the stubs, never reference code
        generated = stubs.generated_files(REFERENCE_PACKAGE)
        for path in (course_dir / "release" / unit / "coursework").glob("*.py"):
            assert path.read_text() == generated[Path(path.name)], path


def test_build_ends_with_one_runnable_next_step(tmp_path):
    """`make nbgrader` printed two "next:" lines (the command's and the Makefile's);
    now one, with this environment's nbgrader by its full path (nothing to activate)."""
    from autograder.nbgrader_course import next_steps

    line = next_steps(tmp_path / "course")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    assert line.startswith(f"next: cd {tmp_path / 'course'} && ")
    assert (str(nbgrader) if nbgrader.exists() else "nbgrader") + \
        " generate_assignment 01_linear" in line
    assert "next:" not in (REPO_ROOT / "Makefile").read_text().split("\nnbgrader:")[1].split(
        "\n\n")[0]


def test_build_of_one_unit_names_that_unit_next():
    """`nbgrader build --unit 07` told the instructor to generate 01_linear, which it had not
    built; the next step names the unit built (and 'each other unit' only when there are more)."""
    from autograder.nbgrader_course import next_steps

    line = next_steps("course", ["07_segmentation"])
    assert "generate_assignment 07_segmentation;" in line and "01_linear" not in line
    line = next_steps("course", ["01_linear", "02_mlp"])
    assert "generate_assignment 01_linear (and each other unit);" in line


def test_points_equal_the_autograders(course):
    import nbformat

    for unit in UNITS_USED:
        total = 0.0
        for path in (course["dir"] / "source" / unit).glob("*.ipynb"):
            for cell in nbformat.read(path, as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade"):
                    assert meta["locked"]
                    total += meta["points"]
        assert total == course["max"][unit]


def test_export_reports_trusted_scores(course):
    after, truth = course["after"], course["truth"]
    for unit in UNITS_USED:
        full = course["max"][unit]
        assert after["correct", unit] == full == truth["correct", unit]
        assert after["stubs", unit] == 0 == truth["stubs", unit]
        assert 0 < after["partial", unit] == truth["partial", unit] < full
        # the cheater: the engine's score, never more than its honest part earns
        assert after["cheater", unit] == truth["cheater", unit]
        assert after["cheater", unit] <= truth["partial", unit]


def test_kernel_scores_are_replaced_by_sync(course):
    """In the contained kernel ``check`` credits nothing (it says the engine scores the cell), so
    before sync the students who do not tamper have 0; the cheater, who replaces ``check`` in its
    own kernel, passes its own cells there (the kernel is the student's), and sync replaces
    every score by the engine's."""
    before, after = course["before"], course["after"]
    print("\nexported score before sync -> after sync:")
    for (student, unit), score in sorted(after.items()):
        print(f"  {unit:<10} {student:<8} {before[student, unit]:>5g} -> {score:g}")
    if CONTAINED:
        assert all(before[student, unit] == 0 for student in ("correct", "stubs", "partial")
                   for unit in UNITS_USED), before
    assert any(before["cheater", u] > after["cheater", u] for u in UNITS_USED), before


def _outputs(course_dir, student, unit):
    import nbformat

    texts = []
    for path in sorted((course_dir / "autograded" / student / unit).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                texts.append(str(output.get("text", "")) + str(output.get("evalue", ""))
                             + str(output.get("data", "")))
    return "\n".join(texts)


@pytest.mark.skipif(not CONTAINED, reason="the contained kernel needs bubblewrap (documented: "
                    "without it nbgrader's own kernel runs the notebooks, uncontained)")
def test_intruding_kernel_gets_nothing_and_harms_nobody(course):
    course_dir = course["dir"]
    for unit in UNITS_USED:
        text = _outputs(course_dir, "intruder", unit)
        # the intrusion ran in the kernel, and every attempt failed
        assert "INTRUSION REPORT" in text, text[-3000:]
        lines = [line for line in text.splitlines() if ": GOT " in line or ": FAILED " in line]
        assert len(lines) >= 10, lines
        assert not [line for line in lines if ": GOT " in line], lines
        assert not (course_dir / "autograded" / "intruder" / unit / "intruded.txt").exists()
    # nothing it could reach changed: the course's source, every submission, the grader, the
    # reference; and the honest students' scores are the engine's
    assert course["protected_after"] == course["protected_before"]
    after, truth = course["after"], course["truth"]
    for unit in UNITS_USED:
        for student in ("correct", "stubs", "partial"):
            assert after[student, unit] == truth[student, unit]
        assert after["intruder", unit] == truth["intruder", unit] == truth["partial", unit]


@pytest.mark.skipif(not CONTAINED, reason="the contained kernel needs bubblewrap")
def test_check_cells_show_the_engines_verdicts(course):
    course_dir = course["dir"]
    for unit in UNITS_USED:
        correct = _outputs(course_dir, "correct", unit)
        assert "Scored by the course's grading engine" in correct
        assert "PASS" in correct and "FAIL" not in correct
        assert "not run during autograding" not in correct
        # %load_ext autograder in the first cell loads the kernel's stand-in without a word
        assert "not an IPython extension" not in correct
        assert "TODO" in _outputs(course_dir, "stubs", unit)


def test_feedback_has_no_hidden_tests(course):
    course_dir = course["dir"]
    for unit in UNITS_USED:
        run([BIN / "nbgrader", "generate_feedback", unit], course_dir)
    pages = list((course_dir / "feedback").rglob("*.html"))
    assert len(pages) == len(UNITS_USED) * len(STUDENTS)
    secrets = secret_lines()
    hidden_labels = _hidden_labels()
    for page in pages:
        html = page.read_text()
        text = re.sub(r"<[^>]+>", "", html)
        import html as html_mod

        text = html_mod.unescape(text)
        for secret in secrets:
            assert secret not in text, f"{page}: {secret!r}"
        for label in hidden_labels:
            assert label not in text, f"{page}: hidden case {label!r}"
    # the feedback shows the trusted score
    for unit in UNITS_USED:
        page = next((course_dir / "feedback" / "cheater" / unit).glob("*.html"))
        score = course["after"]["cheater", unit]
        assert f"{score:g}" in page.read_text() or f"{score}" in page.read_text()


def _hidden_labels():
    """The labels of the hidden cases (strings of autograder/hidden/*.py longer than 8)."""
    import ast

    from autograder.paths import HIDDEN_DIR

    labels = set()
    for path in HIDDEN_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Case" and \
                    node.args and isinstance(node.args[0], ast.Constant):
                labels.add(node.args[0].value)
    return {label for label in labels if len(label) > 8}


# -- the contained kernel and sync's staging, without running nbgrader -----------------------------
def test_the_contained_kernel_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    from autograder import contained_kernel, nbgrader_course, sandbox

    monkeypatch.setattr(sandbox, "bubblewrap_path", lambda: None)
    monkeypatch.setattr(contained_kernel.sandbox, "bubblewrap_path", lambda: None)
    connection = tmp_path / "kernel.json"
    connection.write_text('{"transport": "ipc", "ip": "/tmp/x"}')
    assert contained_kernel.main(["--course", str(tmp_path), str(connection)]) == 3
    assert "bubblewrap" in capsys.readouterr().err
    course = tmp_path / "course"
    course.mkdir()
    (course / "autograder_course.json").write_text('{"units": {}}')
    (course / "nbgrader_config.py").write_text(f"# {contained_kernel.KERNEL_NAME}\n")
    with pytest.raises(engine.UsageError, match="bubblewrap"):
        nbgrader_course.autograde(course, "01_linear", log=lambda *a: None)


def test_the_contained_kernel_runs_only_in_a_students_autograded_folder(tmp_path):
    from autograder.contained_kernel import _kernel_folder

    course = tmp_path / "course"
    good = course / "autograded" / "alice" / "01_linear"
    good.mkdir(parents=True)
    assert _kernel_folder(course, good) == good
    (course / "source" / "01_linear").mkdir(parents=True)
    assert _kernel_folder(course, course / "source" / "01_linear")
    for bad in (course, course / "autograded", course / "autograded" / "alice", tmp_path):
        with pytest.raises(SystemExit):
            _kernel_folder(course, bad)
    os.symlink(good, course / "autograded" / "mallory")
    with pytest.raises(SystemExit):
        _kernel_folder(course, course / "autograded" / "mallory" / "01_linear")


@pytest.mark.parametrize("attack", ["coursework-link", "student-link", "file-link", "fifo"])
def test_sync_stages_without_following_links(tmp_path, attack):
    """What sync grades of a student: regular files read without following any link; a link (to
    a classmate, the reference) or a FIFO leaves the stub in place, and nothing hangs."""
    from autograder.nbgrader_course import _stage

    course = tmp_path / "course"
    unit = "01_linear"
    (course / "source" / unit / "coursework").mkdir(parents=True)
    (course / "source" / unit / "coursework" / "linear.py").write_text("STUB = True\n")
    classmate = course / "submitted" / "alice" / unit / "coursework"
    classmate.mkdir(parents=True)
    (classmate / "linear.py").write_text("ALICE = True\n")
    mine = course / "submitted" / "mallory" / unit
    mine.mkdir(parents=True)
    if attack == "coursework-link":
        os.symlink(classmate, mine / "coursework")
    elif attack == "student-link":
        mine.rmdir()
        mine.parent.rmdir()
        os.symlink(course / "submitted" / "alice", course / "submitted" / "mallory")
    elif attack == "file-link":
        (mine / "coursework").mkdir()
        os.symlink(REFERENCE_PACKAGE / "linear.py", mine / "coursework" / "linear.py")
    else:
        (mine / "coursework").mkdir()
        os.mkfifo(mine / "coursework" / "linear.py")
    into = tmp_path / "staged"
    skipped = []
    _stage(course, unit, "mallory", ["coursework/linear.py"], into, skipped)
    assert not (into / "coursework" / "linear.py").exists()  # the stub is removed: 0 points
    if attack in ("file-link", "fifo"):  # the file is there, but not one sync reads: say why
        kind = "a symbolic link" if attack == "file-link" else "a FIFO"
        assert skipped and skipped[0].startswith("coursework/linear.py: it is " + kind), skipped
    # an honest student's file is taken
    _stage(course, unit, "alice", ["coursework/linear.py"], tmp_path / "alice")
    assert (tmp_path / "alice" / "coursework" / "linear.py").read_text() == "ALICE = True\n"
