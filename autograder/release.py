"""``python -m autograder release OUT``: write the student repository.

The release is made from the single source and holds no reference code and no hidden test:

- ``coursework/``: the stubs, generated afresh from ``solutions/coursework`` (plus any non-Python
  files of ``coursework/``);
- ``notebooks/``: every notebook with outputs cleared, cells tagged ``instructor`` (or
  ``instructor-only``) removed, and ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` regions
  taken out; the other files of ``notebooks/`` as they are;
- ``autograder/``: the grader without ``hidden/``, ``mistakes/``, its own tests and the
  instructor-only modules, plus ``recorded/<module>.json``: the reference outputs (and the outputs
  of the known mistakes, for hints) that the public tests need, recorded by running the public
  tests against the reference;
- ``autograder/tests/test_coursework.py``: ``make test`` runs the public tests of the student's
  coursework, one pytest item per graded function;
- a student README, a Makefile with ``grade``, ``test`` and ``lab``, ``pyproject.toml``,
  ``environment.yml``, ``.gitignore`` and the ``LICENSE``.

After writing, the release is checked: the reference must get full marks from the recorded data,
and no line of a solution region may appear in any file of it. A failed check removes nothing but
exits non-zero, naming the problem.
"""

import json
import re
import shutil
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from . import dependencies, engine, stubs
from .oracle import Oracle, load_recorded
from .paths import NOTEBOOKS_DIR, PACKAGE_DIR, REFERENCE_PACKAGE, REPO_ROOT, SOLUTIONS_DIR
from .spec import Trial
from .units import UNITS, available_units, specs_of

TEMPLATE_DIR = PACKAGE_DIR / "release_template"

# Parts of autograder/ that stay with the instructor.
PRIVATE = {"hidden", "mistakes", "tests", "recorded", "release_template", "__pycache__",
           "release.py", "nbgrader_course.py", "testing.py", "mutants.py"}
# Top-level files copied as they are, when they exist.
TOP_FILES = ("pyproject.toml", "environment.yml", ".gitignore", "LICENSE")
# Makefile blocks of the instructor's Makefile reused verbatim (so the bootstrap never drifts).
MAKE_BLOCKS = ("$(VENV)/.installed", "grade", "sandbox-tools", "lab", "clean-venv")
INSTRUCTOR_TAGS = {"instructor", "instructor-only", "instructor_only"}

_BEGIN = re.compile(r"^\s*#+\s*BEGIN (SOLUTION|HIDDEN TESTS)\s*$")
_END = re.compile(r"^\s*#+\s*END (SOLUTION|HIDDEN TESTS)\s*$")
MIN_LEAK_CHARS = 16  # shorter solution lines ("loss = 0.0", "return dW") are not evidence


class ReleaseError(RuntimeError):
    """The release could not be made, or failed its own checks."""


# --------------------------------------------------------------------------------------------
# notebooks

def strip_regions(source, filename="<cell>", markdown=False):
    """Replace ``### BEGIN SOLUTION`` regions by a placeholder and drop ``### BEGIN HIDDEN TESTS``
    regions, as nbgrader does; ValueError on unbalanced markers."""
    out, kind = [], None
    for line in source.splitlines(keepends=True):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if kind is not None:
                raise ReleaseError(f"{filename}: '{line.strip()}' inside an open region")
            kind = begin.group(1)
            if kind == "SOLUTION":
                indent = line[: len(line) - len(line.lstrip())]
                out.append("YOUR ANSWER HERE\n" if markdown else
                           f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n")
        elif end:
            if kind is None or end.group(1) != kind:
                raise ReleaseError(f"{filename}: '{line.strip()}' without its BEGIN")
            kind = None
        elif kind is None:
            out.append(line)
    if kind is not None:
        raise ReleaseError(f"{filename}: a '{kind}' region is never closed")
    return "".join(out)


def student_notebook(nb, filename="<notebook>"):
    """The student's copy of a notebook (an nbformat node, changed in place and returned)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & INSTRUCTOR_TAGS:
            continue
        cell.source = strip_regions(cell.source, f"{filename} cell {index + 1}",
                                    markdown=cell.cell_type == "markdown")
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write_notebooks(src, dst):
    import nbformat

    written = []
    for path in sorted(Path(src).rglob("*")):
        rel = path.relative_to(src)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        target = Path(dst) / rel
        if path.is_dir() or path.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            nbformat.write(student_notebook(nb, rel.as_posix()), target)
            written.append(rel.as_posix())
        else:
            shutil.copy2(path, target)
    return written


# --------------------------------------------------------------------------------------------
# recorded reference outputs

@contextmanager
def _eager_mistakes():
    """While recording, every comparison also computes the known mistakes' outputs, and every
    call explained by ``Trial.explaining_errors`` the errors of the mistakes that raise (both
    normally computed only for a failing answer), so that the release gives the same hints."""
    original = Trial.compare

    def compare(self, target, got, expected, *, mistakes=None, **kwargs):
        if mistakes is not None and getattr(self.ref, "recording", None) is not None:
            mistakes()
        return original(self, target, got, expected, mistakes=mistakes, **kwargs)

    explaining = Trial.explaining_errors

    def explaining_errors(self, target, recipe, *args, **kwargs):
        # the known mistakes that raise on these inputs too: a release's student whose call
        # raises gets the same hint (Oracle.raised answers from the recording)
        if getattr(self.ref, "recording", None) is not None:
            try:
                self.ref.raised(target, recipe, *args, **kwargs)
            except Exception:  # noqa: BLE001 - a mistake's answer too large to read: not recorded
                pass
        return explaining(self, target, recipe, *args, **kwargs)

    Trial.compare = compare
    Trial.explaining_errors = explaining_errors
    try:
        yield
    finally:
        Trial.compare = original
        Trial.explaining_errors = explaining


def record(directory, units=None):
    """Run the public tests against the reference and write ``<module>.json`` for each module.

    Returns {module: number of recorded outputs}. ReleaseError when the reference fails one of
    its own public tests.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    with _eager_mistakes():
        for unit in units or available_units():
            for spec in specs_of(unit):
                oracle = Oracle()
                oracle.recording = {"outputs": {}, "mistakes": {}}
                result = engine.grade(SOLUTIONS_DIR, [unit], keys=set(spec.tests),
                                      public_only=True, oracle=oracle)
                _require_full_marks(result, "the reference, while recording")
                _record_known_mistakes(spec, oracle)
                data = {"module": spec.module, "unit": unit, **oracle.recording}
                (directory / f"{spec.module}.json").write_text(
                    json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
                counts[spec.module] = len(oracle.recording["outputs"])
    return counts


def _record_known_mistakes(spec, oracle):
    """Run the public cases of every test of ``spec`` once more with each known mistake in
    place (in this process), so that what the judge asks the reference for only on a wrong
    answer's path (a hint computed outside ``compare``, the reference under other settings) is
    recorded too: the release then judges those mistakes as the instructor's grader does
    (``tests/test_release_mistakes.py``)."""
    from .testing import mistaken_student

    for key, test in spec.tests.items():
        for _, func in oracle.known_mistakes(key):
            with warnings.catch_warnings():  # a mistake's warnings (PyTorch's "Initializing
                warnings.simplefilter("ignore")  # zero-element tensors") say nothing to the
                try:  # instructor who writes the release
                    test.func(Trial(mistaken_student(key, func), oracle, public_only=True))
                except Exception:  # noqa: BLE001 - a verdict, or a mistake the test cannot run
                    pass


def _require_full_marks(result, who):
    bad = [f"{key} ({entry['status']}: {entry['message']})"
           for unit in result["units"].values() for key, entry in unit["functions"].items()
           if entry["status"] != "passed"]
    if bad:
        raise ReleaseError(f"{who} does not pass its public tests: " + "; ".join(bad))


def verify_recorded(release_dir, units):
    """Grade the reference with the release's recorded data only: every public test must pass."""
    modules = [m for u in units for m in UNITS[u][1]]
    recorded = load_recorded(modules, Path(release_dir) / "autograder" / "recorded")
    if recorded is None:
        raise ReleaseError("no recorded data was written")
    result = engine.grade(SOLUTIONS_DIR, units, public_only=True, oracle=Oracle(recorded=recorded))
    _require_full_marks(result, "the reference, graded from the recorded data")
    return result


# --------------------------------------------------------------------------------------------
# leaks

def solution_lines(reference_dir=REFERENCE_PACKAGE, min_chars=MIN_LEAK_CHARS):
    """{stripped line: 'file:line'} of the lines inside solution regions that are evidence of a
    leak: at least ``min_chars`` long, not a comment, and not also found outside every region of
    the reference (such a line ships legitimately with the stubs)."""
    return {text: where for text, (where, _) in _solution_lines(reference_dir, min_chars).items()}


def _solution_lines(reference_dir=REFERENCE_PACKAGE, min_chars=MIN_LEAK_CHARS):
    """{stripped line: ('file:line', region id)}, as ``solution_lines``."""
    inside, outside = {}, set()
    for path in sorted(Path(reference_dir).rglob("*.py")):
        region = None
        rel = path.relative_to(reference_dir).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if text == stubs.BEGIN:
                region = f"{rel}:{number}"
            elif text == stubs.END:
                region = None
            elif region is not None:
                if len(text) >= min_chars and not text.startswith("#"):
                    inside.setdefault(text, (f"{rel}:{number}", region))
            else:
                outside.add(text)
    return {text: v for text, v in inside.items() if text not in outside}


def public_lines():
    """Stripped lines of what the release ships by design, read from the instructor's
    repository: the grader's public modules and tests, the stubs, the notebooks."""
    lines = set()
    files = [p for p in PACKAGE_DIR.rglob("*.py")
             if not set(p.relative_to(PACKAGE_DIR).parts) & PRIVATE]
    files += list(stubs.generated_files(REFERENCE_PACKAGE).values())
    files += list(NOTEBOOKS_DIR.glob("*.ipynb")) if NOTEBOOKS_DIR.is_dir() else []
    for item in files:
        text = item if isinstance(item, str) else "\n".join(_text_lines(item))
        lines.update(line.strip() for line in text.splitlines())
    return lines


def unreleased_lines(min_chars=MIN_LEAK_CHARS):
    """Lines that must never reach a student: those of the solution regions (see
    ``solution_lines``) and of the hidden tests and known mistakes, at least ``min_chars`` long,
    not comments, and not also part of a public file."""
    from .paths import HIDDEN_DIR, MISTAKES_DIR

    public = public_lines()
    secrets = set(solution_lines(min_chars=min_chars))
    for folder in (HIDDEN_DIR, MISTAKES_DIR):
        for path in sorted(Path(folder).glob("*.py")):
            for line in path.read_text(encoding="utf-8").splitlines():
                text = line.strip()
                if len(text) >= min_chars and not text.startswith(("#", '"""')):
                    secrets.add(text)
    return {s for s in secrets if s not in public}


def _text_lines(path):
    """The stripped lines of a text file; for a notebook, of its cells' sources and outputs."""
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if b"\0" in raw[:4096]:
        return []
    text = raw.decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
            parts = []
            for cell in nb.get("cells", []):
                src = cell.get("source", "")
                parts.append(src if isinstance(src, str) else "".join(src))
                for output in cell.get("outputs", []):
                    parts.append(json.dumps(output))
            text = "\n".join(parts) + "\n" + text
        except ValueError:
            pass
    return [line.strip() for line in text.splitlines()]


def find_leaks(release_dir, reference_dir=REFERENCE_PACKAGE):
    """['<file>: <line> (from <where>)'] for every line of a solution region, a hidden test or a
    known mistake found in the release (see ``unreleased_lines``).

    One exception: the public tests (``autograder/specs/``) ship by design, and a test may have
    to compute what one line of a solution computes (an output size, an argmax). A line shared
    with the public tests is tolerated when it is the only one of its region found there; two
    lines of one region in the public tests are a leak.
    """
    lines = _solution_lines(reference_dir)
    # the hidden tests and known mistakes, except what public files also say
    for text in unreleased_lines() - set(lines):
        lines[text] = ("autograder/hidden or autograder/mistakes", None)
    release_dir = Path(release_dir)
    leaks, shared = [], {}
    for path in sorted(release_dir.rglob("*")):
        if not path.is_file() or path.is_symlink() or ".venv" in path.parts:
            continue
        rel = path.relative_to(release_dir)
        in_specs = rel.parts[:2] == ("autograder", "specs")
        for text in _text_lines(path):
            if text in lines:
                where, region = lines[text]
                message = f"{rel.as_posix()}: {text!r} (from {where})"
                if in_specs and region is not None:
                    shared.setdefault(region, {})[text] = message
                else:
                    leaks.append(message)
    for found in shared.values():
        if len(found) > 1:
            leaks.extend(found.values())
    return leaks


# --------------------------------------------------------------------------------------------
# the release

def _makefile_blocks(makefile_text):
    """{target: block text} of the top-level rules, and the header (before .PHONY)."""
    header, _, rest = makefile_text.partition("\n.PHONY")
    blocks = {}
    for block in re.split(r"\n\s*\n", rest):
        block = block.strip("\n")
        for line in block.splitlines():
            match = re.match(r"^([^\s#:][^:=]*):(?!=)", line)
            if match:
                blocks[match.group(1).strip()] = block
                break
    return header.rstrip() + "\n", blocks


def release_makefile():
    header, blocks = _makefile_blocks((REPO_ROOT / "Makefile").read_text())
    missing = [b for b in MAKE_BLOCKS if b not in blocks]
    if missing:
        raise ReleaseError(f"the Makefile has no rule for {', '.join(missing)}")
    template = (TEMPLATE_DIR / "Makefile.in").read_text()
    return template.replace("@HEADER@", header.rstrip()).replace(
        "@RULES@", "\n\n".join(blocks[b] for b in MAKE_BLOCKS))


def _unit_table(units, notebooks):
    rows = ["| unit | topic | notebook | you implement |", "| --- | --- | --- | --- |"]
    for unit in units:
        number = unit.split("_", 1)[0]
        nbs = [n for n in notebooks if Path(n).name.startswith(number + "_")]
        notebook = ", ".join(f"`notebooks/{n}`" for n in nbs) or "(coming)"
        modules = ", ".join(f"`coursework/{m}.py`" for m in UNITS[unit][1])
        rows.append(f"| {number} | {UNITS[unit][0]} | {notebook} | {modules} |")
    return "\n".join(rows)


def _copy_autograder(dst):
    def ignore(directory, names):
        if Path(directory).resolve() == PACKAGE_DIR:
            return [n for n in names if n in PRIVATE]
        return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]

    shutil.copytree(PACKAGE_DIR, dst, ignore=ignore, symlinks=False)
    tests = dst / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    shutil.copy2(TEMPLATE_DIR / "test_coursework.py", tests / "test_coursework.py")
    shutil.copy2(TEMPLATE_DIR / "conftest.py", tests / "conftest.py")


def _prepare(out, force):
    out = Path(out)
    if out.resolve() == REPO_ROOT or REPO_ROOT in out.resolve().parents and \
            out.resolve().relative_to(REPO_ROOT).parts[0] in {"autograder", "coursework",
                                                              "solutions", "notebooks"}:
        raise engine.UsageError(f"{out} is inside the course's own sources; choose another folder")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise engine.UsageError(f"{out} exists and is not empty (use --force to replace a "
                                    "previous release)")
        if not (out / "autograder" / "recorded").is_dir():
            raise engine.UsageError(f"{out} does not look like a previous release; not removing "
                                    "it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def make_release(out, *, force=False, check=True, log=print):
    """Write the student repository into ``out``; return a summary dict."""
    if not (REFERENCE_PACKAGE / "__init__.py").exists():
        raise engine.UsageError("a release is made from the instructor's repository "
                                "(solutions/coursework is missing)")
    units = available_units()
    out = _prepare(out, force)

    # coursework: stubs from the single source, plus provided non-Python files
    cw = out / "coursework"
    for rel, text in stubs.generated_files(REFERENCE_PACKAGE).items():
        (cw / rel).parent.mkdir(parents=True, exist_ok=True)
        (cw / rel).write_text(text, encoding="utf-8")
    for path in sorted((REPO_ROOT / "coursework").rglob("*")):
        rel = path.relative_to(REPO_ROOT / "coursework")
        if (path.is_file() and not path.is_symlink() and path.suffix not in (".py", ".pyc")
                and "__pycache__" not in rel.parts):
            (cw / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, cw / rel)

    notebooks = write_notebooks(NOTEBOOKS_DIR, out / "notebooks") if NOTEBOOKS_DIR.is_dir() else []
    _copy_autograder(out / "autograder")
    counts = record(out / "autograder" / "recorded", units)
    dependencies.write_calls(out / "autograder" / "recorded",
                             [k for u in (units or available_units()) for spec in specs_of(u)
                              for k in spec.tests])

    for name in TOP_FILES:
        if (REPO_ROOT / name).is_file():
            shutil.copy2(REPO_ROOT / name, out / name)
    (out / "Makefile").write_text(release_makefile())
    readme = (TEMPLATE_DIR / "README.md").read_text()
    (out / "README.md").write_text(readme.replace("@UNITS@", _unit_table(units, notebooks)))
    log(f"release written to {out}: units {', '.join(units)}; {len(notebooks)} notebooks; "
        f"recorded outputs " + ", ".join(f"{m} {n}" for m, n in counts.items()))

    if check:
        verify_recorded(out, units)
        leaks = find_leaks(out)
        if leaks:
            raise ReleaseError("solution code found in the release:\n  " + "\n  ".join(leaks))
        log("checked: the reference gets full marks from the recorded data; no solution line "
            "and no hidden test is in the release")
    return {"out": str(out), "units": units, "notebooks": notebooks, "recorded": counts}


def cmd_release(args):
    try:
        make_release(args.out, force=args.force, check=not args.no_check)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers):
    p = subparsers.add_parser("release", help="write the student repository (no solutions, "
                              "no hidden tests) into OUT")
    p.add_argument("out", metavar="OUT", help="folder to write (new, empty, or a previous "
                   "release with --force)")
    p.add_argument("--force", action="store_true", help="replace a previous release in OUT")
    p.add_argument("--no-check", action="store_true",
                   help="skip the final checks (full marks from recorded data, no leaks)")
    p.set_defaults(func=cmd_release)
