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
from autograder.paths import REFERENCE_PACKAGE, REPO_ROOT
from autograder.units import UNITS, available_units

pytestmark = [pytest.mark.xdist_group("nbgrader"),
              pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent))
                                 is None, reason="nbgrader is not installed in this environment")]

BIN = Path(sys.executable).parent
UNITS_USED = available_units()[:2]
STUDENTS = ("correct", "stubs", "partial", "cheater")

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
            if student == "cheater" and any(module in UNITS[u][1] for u in UNITS_USED):
                files[rel] = CHEAT + "\n" + files[rel]
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
    for unit in UNITS_USED:
        run([BIN / "nbgrader", "autograde", unit], course)
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
            "sync_output": sync.stdout}


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


def test_tampering_worked_before_sync(course):
    """Without sync the cheater gains (this is what sync is for); everyone else is unchanged."""
    before, after = course["before"], course["after"]
    print("\nexported score before sync -> after sync:")
    for (student, unit), score in sorted(after.items()):
        print(f"  {unit:<10} {student:<8} {before[student, unit]:>5g} -> {score:g}")
    assert any(before["cheater", u] > after["cheater", u] for u in UNITS_USED), before
    for unit in UNITS_USED:
        for student in ("correct", "stubs"):
            assert before[student, unit] == after[student, unit]


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
