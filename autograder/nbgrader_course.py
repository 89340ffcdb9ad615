"""``python -m autograder nbgrader build DIR`` and ``... nbgrader sync DIR``: the nbgrader course.

``build`` lays out an nbgrader course with one assignment per unit (the assignment is named like
the unit, ``01_linear``)::

    DIR/nbgrader_config.py          CourseDirectory.root, Autograde.exclude_overwriting, timeouts
    DIR/autograder_course.json      the manifest: for each graded cell, the functions it checks
    DIR/source/<unit>/<notebook>    the unit's notebook; each cell calling check("...") is a
                                    locked nbgrader test cell worth the autograder's points
    DIR/source/<unit>/coursework/   real copies of the stubs (and provided files)

Rebuilding updates ``source/`` and the configuration and leaves submissions and the gradebook
alone.

``sync`` regrades every autograded submission with the grading engine: the student's own
coursework files (from ``submitted/``, the files they handed in, over the pristine provided
files of ``source/``) are graded in the sandboxed worker, on the public and the hidden tests, and
each check cell's score in ``gradebook.db`` becomes the sum of the engine's scores of the
functions it checks. Student code never runs in the syncing process, so what it did to the
notebook kernel during ``nbgrader autograde`` (patching ``numpy.testing``, the builtins, or
``check`` itself) changes nothing. It also removes, from the autograded notebooks, any output
that quotes hidden tests or solution code, so that ``generate_feedback`` cannot pass them on.
"""

import glob
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from . import contained_kernel, engine, nbgrader_safety, report, staging, stubs
from .grade_many import report_name
from .paths import NOTEBOOKS_DIR, REFERENCE_PACKAGE, REPO_ROOT
from .units import UNITS, available_units, resolve_units, specs_of

MANIFEST = "autograder_course.json"
JUPYTER_DIR = "autograder_jupyter"  # holds kernels/autograder-contained/kernel.json
COURSE_ID = "dlcourse"
CELL_TIMEOUT = 600  # seconds per notebook cell during autograde (a whole-unit check is slow)
MAX_FILE_BYTES = 5_000_000  # a submitted coursework file larger than this is not graded
_CHECK_CALL = re.compile(r"""\bcheck\(([^()]*)\)""")
_CHECK_NAME = re.compile(r"""(['"])([^'"\n]+)\1""")


def check_names(source):
    """The names given to the check(...) calls of a cell, in order: check("a", "b") names two."""
    return [name.group(2) for call in _CHECK_CALL.finditer(source)
            for name in _CHECK_NAME.finditer(call.group(1))]
_BEGIN = re.compile(r"^\s*#+\s*BEGIN SOLUTION\s*$", re.M)
REDACTED = ("[output removed by the grader: it quoted course material that is not released "
            "to students]\n")


# --------------------------------------------------------------------------------------------
# build

def unit_keys(unit):
    """{key: points} of a unit, in grading order."""
    return {key: test.points for spec in specs_of(unit) for key, test in spec.tests.items()}


def keys_of(name, unit_points):
    """The graded keys a check("name") call covers, within a unit ({} if none)."""
    name = name.strip()
    if name in unit_points:
        return [name]
    if "." not in name:
        modules = {k.split(".", 1)[0] for k in unit_points}
        if name in modules:
            return [k for k in unit_points if k.split(".", 1)[0] == name]
        try:
            units = resolve_units([name])
        except ValueError:
            return []
        unit_set = {k for u in units for k in unit_keys(u)}
        return [k for k in unit_points if k in unit_set]
    return []


def _grade_id(keys, used):
    base = "check-" + ("-".join(keys) if len(keys) <= 2 else f"{keys[0]}-and-{len(keys) - 1}-more")
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", base)
    grade_id, n = base, 2
    while grade_id in used:
        grade_id, n = f"{base}-{n}", n + 1
    used.add(grade_id)
    return grade_id


def course_notebook(nb, unit, filename="<notebook>"):
    """Mark the graded check cells of a unit's notebook (nbformat node, changed in place).

    Each cell that calls check(...) for functions of this unit becomes a locked test cell worth
    the autograder's points of the functions it is the first to check; functions that no cell
    checks get a check cell of their own at the end. Cells with ``### BEGIN SOLUTION`` become
    solution cells; cells tagged instructor-only are dropped. Returns {grade_id: keys}.
    """
    import nbformat

    from .release import INSTRUCTOR_TAGS

    points = unit_keys(unit)
    claimed, graded, used = set(), {}, set()
    cells = []
    for index, cell in enumerate(nb.cells):
        if set(cell.get("metadata", {}).get("tags", [])) & INSTRUCTOR_TAGS:
            continue
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            keys = []
            for name in check_names(cell.source):
                keys += [k for k in keys_of(name, points) if k not in claimed and k not in keys]
            if keys:
                grade_id = _grade_id(keys, used)
                claimed.update(keys)
                graded[grade_id] = keys
                cell.metadata["nbgrader"] = _meta(grade_id, sum(points[k] for k in keys),
                                                  grade=True, locked=True)
            elif _BEGIN.search(cell.source):
                cell.metadata["nbgrader"] = _meta(_grade_id([f"answer-{index + 1}"], used), 0,
                                                  grade=False, locked=False, solution=True)
        cells.append(cell)
    missing = [k for k in points if k not in claimed]
    if missing:
        cells.append(nbformat.v4.new_markdown_cell(
            "## Graded checks\n\nThe checks below grade the functions that no cell above "
            "checks. Run them once your code is done."))
        for key in missing:
            grade_id = _grade_id([key], used)
            graded[grade_id] = [key]
            cell = nbformat.v4.new_code_cell(f'from autograder import check\ncheck("{key}")')
            cell.metadata["nbgrader"] = _meta(grade_id, points[key], grade=True, locked=True)
            cells.append(cell)
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return graded


def _meta(grade_id, points, *, grade, locked, solution=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def default_notebook(unit):
    """A minimal notebook for a unit that has none yet: one check cell per graded function."""
    import nbformat

    number = unit.split("_", 1)[0]
    modules = ", ".join(f"`coursework/{m}.py`" for m in UNITS[unit][1])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        f"# Unit {number}: {UNITS[unit][0]}\n\nImplement the functions of {modules}, save, and "
        "run the checks below.")]
    for key in unit_keys(unit):
        nb.cells.append(nbformat.v4.new_code_cell(f'from autograder import check\ncheck("{key}")'))
    return nb


def find_notebooks(unit, notebooks_dir):
    number = unit.split("_", 1)[0]
    return sorted(p for p in Path(notebooks_dir).glob(f"{number}_*.ipynb")
                  if not p.name.startswith("."))


def editable_files(reference_dir=REFERENCE_PACKAGE):
    """coursework files the students write: those with a solution region."""
    out = []
    for path in sorted(Path(reference_dir).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        if any(line.strip() == stubs.BEGIN for line in path.read_text().splitlines()):
            out.append("coursework/" + path.relative_to(reference_dir).as_posix())
    return out


def write_coursework(dst):
    """Real copies of the stubs and the provided files of coursework/."""
    for rel, text in stubs.generated_files(REFERENCE_PACKAGE).items():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / rel).write_text(text, encoding="utf-8")
    provided = REPO_ROOT / "coursework"
    for path in sorted(provided.rglob("*")):
        rel = path.relative_to(provided)
        if (path.is_file() and not path.is_symlink() and path.suffix not in (".py", ".pyc")
                and "__pycache__" not in rel.parts):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


CONFIG = '''\
# nbgrader configuration of the course, written by `python -m autograder nbgrader build`.
# Rebuilding rewrites this file; put your own settings in nbgrader_config_local.py.
import os
import sys

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = {course_id!r}
# Students edit these coursework files: autograde must keep the submitted ones (without this
# list nbgrader silently replaces a student's coursework by the stubs of source/).
c.Autograde.exclude_overwriting = {exclude}
# A check cell runs the unit's tests in a worker; a hung student function costs that cell only.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.ExecutePreprocessor.timeout = {timeout}
# A student deleting a check cell's metadata must not make the cell silently ungraded.
c.OverwriteCells.add_missing_cells = True
# The exchange (release, fetch, submit, collect) lives in the course folder: nbgrader's default,
# /usr/local/share/nbgrader/exchange, rarely exists. nbgrader wants it writable by everyone.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
if not os.path.isdir(c.Exchange.root):
    os.makedirs(c.Exchange.root, exist_ok=True)
    os.chmod(c.Exchange.root, 0o777)
# nbgrader runs `alembic` as a program: put this environment's programs first on PATH, so that
# `../.venv/bin/jupyter lab` works without activating the environment.
if os.path.dirname(sys.executable) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable),
                                          os.environ.get("PATH", "")])
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
# The Formgrader and generate_feedback render student notebooks as HTML on the instructor's
# server, where a student's script would act as the instructor: sanitize the outputs (nbgrader's
# Formgrader template leaves markdown alone) ...
c.HTMLExporter.sanitize_html = True
# ... and autograde itself, the Formgrader's button too, shows student markdown holding HTML as
# text and keeps only plain text and images of the outputs (autograder/nbgrader_html.py).
c.Autograde.autograde_preprocessors.append("autograder.nbgrader_html.NeutralizeHTML")
c.NeutralizeHTML.course_root = c.CourseDirectory.root

# Student notebooks run in the contained kernel (autograder/contained_kernel.py): bubblewrap,
# the student's own folder read-only, no view of the course, no network (Unix sockets).
# The trusted scores come from `python -m autograder nbgrader sync`, not from this kernel.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    [os.path.join(c.CourseDirectory.root, {jupyter_dir!r})]
    + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
c.Execute.kernel_name = {kernel_name!r}
c.KernelManager.transport = "ipc"
_sockets = os.path.join("/tmp", "autograder-kernels-%d" % os.getuid())
os.makedirs(_sockets, mode=0o700, exist_ok=True)
if os.stat(_sockets).st_uid != os.getuid() or os.stat(_sockets).st_mode & 0o077:
    raise SystemExit("%s is not private to this user: remove it" % _sockets)
c.KernelManager.ip = os.path.join(_sockets, "k%d" % os.getpid())

_local = os.path.join(c.CourseDirectory.root, "nbgrader_config_local.py")
if os.path.exists(_local):
    load_subconfig(_local)  # noqa: F821
'''


def build(course_dir, *, notebooks_dir=NOTEBOOKS_DIR, units=None, log=print):
    """Write (or update) the nbgrader course in ``course_dir``; return the manifest."""
    import nbformat

    if not (REFERENCE_PACKAGE / "__init__.py").exists():
        raise engine.UsageError("the nbgrader course is built from the instructor's repository "
                                "(solutions/coursework is missing)")
    course_dir = Path(course_dir).resolve()
    if course_dir == REPO_ROOT or REPO_ROOT in course_dir.parents and \
            course_dir.relative_to(REPO_ROOT).parts[0] in {"autograder", "coursework",
                                                           "solutions", "notebooks"}:
        raise engine.UsageError(f"{course_dir} is inside the course's sources; choose another "
                                "folder (the Makefile uses course/)")
    if course_dir.exists() and any(course_dir.iterdir()) and \
            not (course_dir / "nbgrader_config.py").exists():
        raise engine.UsageError(f"{course_dir} is not empty and is not an nbgrader course")
    units = resolve_units(units) if units else available_units()
    editable = editable_files()
    manifest = {"course_id": COURSE_ID, "units": {}}
    source = course_dir / "source"
    for unit in units:
        notebooks = find_notebooks(unit, notebooks_dir)
        target = source / unit
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        write_coursework(target / "coursework")
        entry = {"notebooks": {}, "editable": editable}
        if notebooks:
            pairs = [(p.stem, nbformat.read(p, as_version=4)) for p in notebooks]
        else:
            log(f"note: no notebook for unit {unit} in {notebooks_dir}; writing a minimal one")
            pairs = [(unit, default_notebook(unit))]
        for index, (stem, nb) in enumerate(pairs):
            graded = course_notebook(nb, unit, stem) if index == 0 else \
                _mark_only_claimed(nb, unit, entry)
            nbformat.write(nb, target / f"{stem}.ipynb")
            entry["notebooks"][stem] = {gid: {"keys": keys, "points": _points(unit, keys)}
                                        for gid, keys in graded.items()}
        manifest["units"][unit] = entry
        total = sum(c["points"] for nb in entry["notebooks"].values() for c in nb.values())
        log(f"source/{unit}: {', '.join(n + '.ipynb' for n in entry['notebooks'])} "
            f"({sum(len(n) for n in entry['notebooks'].values())} graded check cells, "
            f"{total:g} points) and coursework/")
    # keep the units built earlier and not rebuilt now
    old = _read_manifest(course_dir, required=False)
    if old:
        for unit, entry in old["units"].items():
            manifest["units"].setdefault(unit, entry)
    exclude = {unit: manifest["units"][unit]["editable"] for unit in manifest["units"]}
    (course_dir / "nbgrader_config.py").write_text(CONFIG.format(
        course_id=COURSE_ID, exclude=json.dumps(exclude, indent=4), timeout=CELL_TIMEOUT,
        jupyter_dir=JUPYTER_DIR, kernel_name=contained_kernel.KERNEL_NAME))
    spec_dir = course_dir / JUPYTER_DIR / "kernels" / contained_kernel.KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(contained_kernel.kernel_spec(course_dir), indent=2) + "\n")
    exchange = course_dir / "exchange"  # c.Exchange.root of the config
    if not exchange.is_dir():
        exchange.mkdir()
        exchange.chmod(0o777)  # nbgrader's exchange is writable by everyone
    report.atomic_write(course_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    log(f"nbgrader course in {course_dir}: assignments {', '.join(units)}")
    return manifest


def _mark_only_claimed(nb, unit, entry):
    """A unit's second notebook: its check cells grade what the first one did not."""
    claimed = {k for cells in entry["notebooks"].values() for c in cells.values()
               for k in c["keys"]}
    points = unit_keys(unit)
    graded, used = {}, {gid for cells in entry["notebooks"].values() for gid in cells}
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        keys = []
        for name in check_names(cell.source):
            keys += [k for k in keys_of(name, points) if k not in claimed | set(keys)]
        if keys:
            gid = _grade_id(keys, used)
            claimed.update(keys)
            graded[gid] = keys
            cell.metadata["nbgrader"] = _meta(gid, sum(points[k] for k in keys), grade=True,
                                              locked=True)
    return graded


def _points(unit, keys):
    points = unit_keys(unit)
    return sum(points[k] for k in keys)


def _read_manifest(course_dir, required=True):
    path = Path(course_dir) / MANIFEST
    if not path.exists():
        if required:
            raise engine.UsageError(f"{course_dir} has no {MANIFEST}: build the course with "
                                    "`python -m autograder nbgrader build` first")
        return None
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------------
# sync

def _stage(course_dir, unit, student, editable, into, skipped=None):
    """Assemble the submission to grade: the pristine coursework of source/<unit>, with the
    student's editable files from what they handed in (submitted/), or from the autograded copy
    when submitted/ has none. Nothing the student controls is followed or read without bounds:
    every folder below the course is opened without following links, and only regular files of
    at most MAX_FILE_BYTES are read (``staging``); anything else leaves the stub in place, and
    ``skipped`` (a list) gets "coursework/x.py: why" for each such file the student handed in."""
    pristine = course_dir / "source" / unit / "coursework"
    staged = into / "coursework"
    shutil.copytree(pristine, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    symlinks=True)
    top = "submitted" if os.path.lexists(course_dir / "submitted" / student / unit) \
        else "autograded"
    try:
        origin = staging.open_path(course_dir, [top, student, unit])
    except staging.Refused:
        origin = None
    try:
        for rel in editable:
            parts = rel.split("/")
            dst = into / rel
            if dst.exists() or dst.is_symlink():
                dst.unlink()
            if origin is None:
                continue  # a missing file: the function's import fails and scores 0
            try:
                folder = staging.open_path(origin, parts[:-1])
            except (staging.Refused, OSError):
                continue
            try:
                data = staging.read_regular(parts[-1], folder, MAX_FILE_BYTES)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                if skipped is not None:
                    skipped.append(f"{rel}: {exc}")
                continue
            finally:
                os.close(folder)
            dst.write_bytes(data)
    finally:
        if origin is not None:
            os.close(origin)
    return into


def _why_not_autograded(course_dir, unit, student, entry):
    """What the instructor can tell, from the hand-in, about why nbgrader made no autograded
    copy of it."""
    folder = course_dir / "submitted" / student / unit
    quarantined = course_dir / nbgrader_safety.QUARANTINE / student / unit
    for notebook in entry["notebooks"]:
        path = folder / f"{notebook}.ipynb"
        if not os.path.lexists(path):
            if os.path.lexists(quarantined / f"{notebook}.ipynb"):
                return (f"its {notebook}.ipynb was quarantined (see quarantine/{student}/{unit}/)")
            found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
            return (f"it has no {notebook}.ipynb" + (f" (it has {', '.join(found)})" if found
                                                     else ""))
        try:
            fd = staging.open_path(course_dir, ["submitted", student, unit])
        except (staging.Refused, OSError):
            return "its folder cannot be read without following a link"
        try:
            json.loads(staging.read_regular(path.name, fd, nbgrader_safety.MAX_HANDIN_FILE_BYTES))
        except ValueError as exc:
            return f"its {notebook}.ipynb is not a notebook nbgrader can read ({exc})"
        except OSError as exc:
            return f"its {notebook}.ipynb cannot be read ({exc.strerror or exc})"
        finally:
            os.close(fd)
    return ("nbgrader autograde failed on it: its output above says why (a kernel that died, "
            "cell metadata nbgrader rejects, a time or memory limit)")


def course_assignment(manifest, name):
    """The course's assignment that ``name`` names, written as ``--unit`` takes it (``10``,
    ``10_generative``, ``generative``); UsageError naming the course's assignments otherwise."""
    try:
        units = resolve_units([name])
    except ValueError:
        units = []
    wanted = [a for a in manifest["units"] if a in units]
    if len(wanted) != 1:
        raise engine.UsageError(f"assignment {name!r} is not in this course (it has "
                                f"{', '.join(manifest['units'])}; build it with `python -m "
                                "autograder nbgrader build DIR --unit NN`)")
    return wanted[0]


def secret_lines(min_chars=16):
    """Lines of the solution regions, the hidden tests and the known mistakes that must never
    reach a student (stripped, at least ``min_chars`` long, not part of a public file)."""
    from .release import unreleased_lines

    return unreleased_lines(min_chars)


def scrub_outputs(notebook_path, secrets):
    """Replace every output of the notebook that quotes a secret line; return how many."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            plain = " ".join([str(output.get("text", "")), str(output.get("data", "")),
                              str(output.get("traceback", "")), str(output.get("evalue", ""))])
            if any(s in text or s in plain for s in secrets):
                removed += 1
                outputs.append(nbformat.v4.new_output("stream", name="stdout", text=REDACTED))
            else:
                outputs.append(output)
        cell.outputs = outputs
    if removed:
        nbformat.write(nb, notebook_path)
    return removed


def _verdict_lines(keys, functions, secrets=()):
    """One line per function (status, points), then, for one that did not pass, what the
    student would read under ``check`` in JupyterLab: the reason and the hint of the report's
    student part (of a hidden case only that it failed and how). A reason or hint quoting
    unreleased material (``secrets``) is left out."""
    from .notebook_check import MARK, _todo_text

    lines = []
    for key in keys:
        entry = functions.get(key, {"status": "error", "score": 0, "max": 0,
                                    "message": "not graded"})
        lines.append(f"{MARK.get(entry['status'], 'ERROR'):<8}{key}  "
                     f"({entry['score']:g}/{entry['max']:g})")
        if entry["status"] == "passed":
            continue
        todo = entry["status"] == "not_implemented"
        why = [_todo_text(key, entry) if todo else entry.get("message") or ""]
        if entry.get("hint") and not (todo and entry.get("failed_calls")):
            why.append(f"hint: {entry['hint']}")
        for text in why:
            text = " ".join(str(text).split())
            if text and not any(s in text for s in secrets):
                lines.append(f"        {text}")
    return lines


_UNGRADED_HEAD = "Not run during autograding; the course's grading engine"


def _stand_in_output(output):
    """The contained kernel's "check(...) is not run during autograding" error, or the
    verdict an earlier sync wrote in its place."""
    return ("not run during autograding" in str(output.get("evalue", ""))
            or str(output.get("text", "")).startswith(_UNGRADED_HEAD))


def write_verdicts(notebook_path, graded, functions, secrets=()):
    """Replace the outputs of the notebook's graded check cells (which the contained kernel
    left as "not run during autograding") by the engine's verdicts: one line per function with
    its status and points and, for a function that did not pass, the reason and hint a student
    may see (nothing of the hidden cases' inputs). A check cell that grades nothing (the
    closing ``check("06")`` of a notebook) gets the verdicts of the functions it names and the
    total, instead of the kernel's error (its other outputs are kept). Returns how many cells
    changed."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    points = {k: e.get("max", 0) for k, e in functions.items()}
    changed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in graded:
            lines = _verdict_lines(graded[grade_id]["keys"], functions, secrets)
            head = "Scored by the course's grading engine (public and hidden tests):\n"
        elif any(_stand_in_output(o) for o in cell.get("outputs", [])):
            keys = []
            for name in check_names(cell.get("source", "")):
                keys += [k for k in keys_of(name, points) if k not in keys]
            if not keys:
                continue
            lines = _verdict_lines(keys, functions, secrets)
            score = sum(functions[k]["score"] for k in keys if k in functions)
            top = sum(points[k] for k in keys)
            head = (f"{_UNGRADED_HEAD} (public and hidden tests) gives the functions "
                    f"this cell checks {score:g} / {top:g} (the graded cells above hold the "
                    "points):\n")
        else:
            continue
        verdict = nbformat.v4.new_output("stream", name="stdout",
                                         text=head + "\n".join(lines) + "\n")
        if grade_id in graded:
            cell.outputs = [verdict]
        else:
            cell.outputs = [o for o in cell.outputs if not _stand_in_output(o)] + [verdict]
        changed += 1
    if changed:
        nbformat.write(nb, notebook_path)
    return changed


def sync(course_dir, assignment=None, *, students=(), keep_manual=False, log=print):
    """Regrade every autograded submission (of ``students`` only, when given) and write the
    trusted scores into the gradebook.

    Returns {unit: {student: {"score": float, "max": float, "cells": {grade_id: score}}}}.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course_dir = Path(course_dir).resolve()
    manifest = _read_manifest(course_dir)
    if assignment:
        wanted = [course_assignment(manifest, assignment)]
    else:
        wanted = list(manifest["units"])
    db = course_dir / "gradebook.db"
    if not db.exists():
        raise engine.UsageError(f"{db} does not exist: run `nbgrader generate_assignment` and "
                                "`nbgrader autograde` first")
    secrets = secret_lines()
    results = {}
    reports_dir = course_dir / "autograder_reports"
    with Gradebook(f"sqlite:///{db}", course_id=manifest.get("course_id", COURSE_ID)) as gb:
        for unit in wanted:
            entry = manifest["units"][unit]
            results[unit] = {}
            autograded = sorted(p.parent.name for p in
                                (course_dir / "autograded").glob(f"*/{unit}") if p.is_dir())
            submitted = sorted(p.parent.name for p in
                               (course_dir / "submitted").glob(f"*/{unit}") if p.is_dir())
            everyone = autograded  # index.csv keeps the reports of students not synced now
            if students:
                autograded = [s for s in autograded if s in students]
                for student in students:
                    if student not in submitted:
                        log(f"warning: {student} has no submitted/{student}/{unit}: not synced")
                submitted = [s for s in submitted if s in students]
            for student in submitted:
                if student not in autograded:
                    gb.update_or_create_student(student)  # a row (of 0) in nbgrader export
                    log(f"warning: {student}/{unit} was submitted but has no autograded copy, "
                        f"so it scores 0: {_why_not_autograded(course_dir, unit, student, entry)}")
            index_rows = []
            for student in autograded:
                with tempfile.TemporaryDirectory(prefix="sync-") as tmp:
                    skipped = []
                    staged = _stage(course_dir, unit, student, entry["editable"],
                                    Path(tmp) / "submission", skipped)
                    for why in skipped:
                        log(f"warning: {student}/{unit}: {why}, so it was not graded (its "
                            "functions score as the stub's)")
                    result = engine.grade(staged, [unit], hidden=[course_dir])
                functions = result["units"].get(unit, {}).get("functions", {})
                # named by a digest of the id (a long or odd id must not stop the sync);
                # index.csv maps ids to report files
                report.write_json(reports_dir / unit / report_name(student), result)
                index_rows.append({"student": student,
                                   "report": f"{unit}/{report_name(student)}"})
                cells, missing = {}, []
                for notebook, graded in entry["notebooks"].items():
                    for grade_id, cell in graded.items():
                        score = sum(functions[k]["score"] for k in cell["keys"] if k in functions)
                        try:
                            grade = gb.find_grade(grade_id, notebook, unit, student)
                        except MissingEntry:
                            missing.append(f"{notebook}/{grade_id}")
                            continue
                        grade.auto_score = float(score)
                        grade.needs_manual_grade = False
                        if not keep_manual:
                            grade.manual_score = None
                            grade.extra_credit = None
                        cells[grade_id] = score
                    changed = nbgrader_safety.changed_check_cells(
                        course_dir / "source" / unit / f"{notebook}.ipynb",
                        course_dir / "submitted" / student / unit / f"{notebook}.ipynb", graded)
                    if changed:
                        log(f"note: {student}/{unit}/{notebook}.ipynb: the hand-in changed or "
                            f"removed the locked check cell(s) {', '.join(changed)}; nbgrader "
                            "ran the course's cells instead, and the scores are the engine's")
                    path = course_dir / "autograded" / student / unit / f"{notebook}.ipynb"
                    if path.is_file() and not path.is_symlink():
                        write_verdicts(path, graded, functions, secrets)
                        own = nbgrader_safety.course_cells(
                            course_dir / "source" / unit / f"{notebook}.ipynb")
                        if nbgrader_safety.neutralize_html(path, own):
                            log(f"note: autograded/{student}/{unit}/{notebook}.ipynb held HTML "
                                "or script outside the course's own cells: shown as text, or "
                                "removed from outputs (it would run in the Formgrader)")
                        if scrub_outputs(path, secrets):
                            log(f"note: removed outputs quoting unreleased material from "
                                f"autograded/{student}/{unit}/{notebook}.ipynb")
                gb.db.commit()
                if missing:
                    log(f"warning: {student}/{unit}: no gradebook entry for "
                        f"{', '.join(missing)}")
                results[unit][student] = {"score": result["total"], "max": result["max"],
                                          "cells": cells}
                log(f"{unit}  {student:<20} {result['total']:g} / {result['max']:g}")
            index_rows += [{"student": s, "report": f"{unit}/{report_name(s)}"}
                           for s in everyone if s not in autograded
                           and (reports_dir / unit / report_name(s)).is_file()]
            index_rows.sort(key=lambda row: row["student"])
            if index_rows:
                report.atomic_write(reports_dir / unit / "index.csv", report.index_csv(index_rows))
    return results


# --------------------------------------------------------------------------------------------
# command line

def cmd_build(args):
    units = resolve_units(args.unit) if args.unit else available_units()
    build(args.dir, notebooks_dir=args.notebooks, units=units)
    print(next_steps(args.dir, units))
    return 0


def next_steps(course_dir, units=("01_linear",)):
    """The line that ends ``nbgrader build``: the command to run next for the first unit built
    (``units``: the assignments just built), with this environment's nbgrader by its full path
    (nothing needs to be activated)."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    program = shlex.quote(str(nbgrader)) if nbgrader.exists() else "nbgrader"
    units = list(units) or ["01_linear"]
    others = " (and each other unit)" if len(units) > 1 else ""
    return (f"next: cd {shlex.quote(str(Path(course_dir).resolve()))} && {program} "
            f"generate_assignment {units[0]}{others}; or, in the course's "
            "repository: make formgrader")


def autograde(course_dir, assignment, *, students=(), force=False, run_sync=True, log=print,
              seconds=nbgrader_safety.AUTOGRADE_SECONDS):
    """``nbgrader autograde`` with every notebook in the contained kernel, then ``sync``.

    Hand-ins are quarantined first (``nbgrader_safety``: no links, pipes, devices or huge files
    reach nbgrader), and each student is autograded by a process of its own, limited in memory
    and to ``seconds`` of wall time.

    Refuses (UsageError) where bubblewrap is not usable: then run ``sync`` alone, which grades
    what the students handed in without executing their notebooks."""

    from .sandbox import bubblewrap_path

    course_dir = Path(course_dir).resolve()
    manifest = _read_manifest(course_dir)
    config = (course_dir / "nbgrader_config.py")
    if not config.is_file() or contained_kernel.KERNEL_NAME not in config.read_text():
        raise engine.UsageError(f"{course_dir} was built before notebooks were contained: "
                                "rebuild it with `python -m autograder nbgrader build`")
    if bubblewrap_path() is None:
        raise engine.UsageError(
            "bubblewrap (bwrap) is not usable here, so student notebooks cannot be run contained; "
            "they are not run at all. Use `python -m autograder nbgrader sync` alone: it grades "
            "the submitted coursework in the grader's worker")
    # "10" names 10_generative, as --unit does: nbgrader itself knows only the full name
    assignment = course_assignment(manifest, assignment)
    students = list(students) or nbgrader_safety.student_ids(course_dir)
    # links, pipes, devices and huge files never reach nbgrader, which copies as the instructor
    nbgrader_safety.quarantine(course_dir, assignment, students, log=log)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # never a coursework of the grader's in front of the student's
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    chosen = list(students)  # only these are synced afterwards (none given: every student)
    failed, stopped = [], []
    for student in students:  # one process each: one hand-in costs only its own grade
        # --student=ID: an id that starts with "-" stays an id; nbgrader globs it, so escape it
        command = [str(nbgrader) if nbgrader.exists() else "nbgrader", "autograde", assignment,
                   f"--student={glob.escape(student)}"] + (["--force"] if force else [])
        log("$ " + " ".join(command))
        status = nbgrader_safety.limited(command, cwd=course_dir, env=env, seconds=seconds)
        if status is None:
            stopped.append(student)
        elif status != 0:
            failed.append(f"{student} (exit status {status})")
    if failed:
        log(f"note: nbgrader autograde failed for {', '.join(failed)}: a kernel that died, "
            f"more than {nbgrader_safety.AUTOGRADE_MEMORY_BYTES // 1024 ** 3} GiB of memory "
            "(endless output), or a notebook nbgrader cannot read; sync says what it sees of "
            "each, and the scores below come from the engine")
    if stopped:
        log(f"note: nbgrader autograde was stopped after {seconds:g} s (--timeout) for "
            f"{', '.join(stopped)}: the notebook did not run to the end, so the autograded "
            "notebook (and the feedback) has no outputs but the check cells' verdicts; the "
            "scores below are the engine's all the same. To run it in full: `python -m "
            f"autograder nbgrader autograde . {assignment} --force --timeout SECONDS "
            "--student ID` with more seconds")
    if run_sync:
        return sync(course_dir, assignment, students=chosen, log=log)
    return {}


def cmd_autograde(args):
    results = autograde(args.dir, args.assignment, students=args.student or (),
                        force=args.force, run_sync=not args.no_sync, seconds=args.timeout)
    if args.no_sync:
        print("autograded (contained); not synced: run `python -m autograder nbgrader sync` "
              "before you read or export any score")
        return 0
    n = sum(len(s) for s in results.values())
    print(f"autograded (contained) and synced {n} submission(s)")
    return 0


def cmd_sync(args):
    results = sync(args.dir, args.assignment, students=args.student or (),
                   keep_manual=args.keep_manual)
    n = sum(len(s) for s in results.values())
    print(f"synced {n} submission(s); the gradebook now holds the grading engine's scores "
          f"(reports in {Path(args.dir) / 'autograder_reports'})")
    return 0


def register(subparsers):
    p = subparsers.add_parser("nbgrader", help="build an nbgrader course; write trusted scores "
                              "into its gradebook")
    sub = p.add_subparsers(dest="nbgrader_command", required=True)
    b = sub.add_parser("build", help="lay out an nbgrader course (one assignment per unit)")
    b.add_argument("dir", metavar="DIR", help="the course folder (created or updated)")
    b.add_argument("--unit", action="append", help="only this unit (repeatable; default all)")
    b.add_argument("--notebooks", default=str(NOTEBOOKS_DIR),
                   help="folder holding the NN_topic.ipynb notebooks (default: notebooks/)")
    b.set_defaults(func=cmd_build)
    a = sub.add_parser("autograde", help="run nbgrader autograde with every student notebook "
                       "in a contained kernel, then sync the trusted scores")
    a.add_argument("dir", metavar="DIR", help="the course folder")
    a.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment (unit), e.g. 01_linear")
    a.add_argument("--student", action="append", help="only this student (repeatable)")
    a.add_argument("--force", action="store_true", help="autograde again (nbgrader --force)")
    a.add_argument("--no-sync", action="store_true", help="do not sync afterwards")
    a.add_argument("--timeout", type=float, default=nbgrader_safety.AUTOGRADE_SECONDS,
                   help="seconds one student's autograde may take (default %(default)g)")
    a.set_defaults(func=cmd_autograde)
    s = sub.add_parser("sync", help="regrade the autograded submissions with the grading engine "
                       "and write the scores into gradebook.db")
    s.add_argument("dir", metavar="DIR", help="the course folder")
    s.add_argument("--assignment", help="only this assignment (unit)")
    s.add_argument("--student", action="append",
                   help="only this student (repeatable; default every student)")
    s.add_argument("--keep-manual", action="store_true",
                   help="keep manual scores and extra credit already in the gradebook for the "
                   "check cells (default: clear them, since student code could write them)")
    s.set_defaults(func=cmd_sync)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder nbgrader ...")
