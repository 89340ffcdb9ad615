"""Generate the student stubs in ``coursework/`` from the reference in ``solutions/coursework/``.

The solution code sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines (docs/design.md).
Each region is replaced by ``raise NotImplementedError(...)`` naming the function, at the marker's
indentation, wrapped to fit ``MAX_LINE`` columns; every other byte is copied as it is, so a module
without regions (``checks.py``, ``backend.py``) is copied unchanged. Unbalanced or nested markers
are an error, and so is a ``return`` of the region's function inside a region: every region ends
before its function's return line, so the stub shows what the function returns.
"""

import re
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_DEF = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+([A-Za-z_][A-Za-z0-9_]*)")
_RETURN = re.compile(r"^(\s*)return\b")
MAX_LINE = 100
# The stub's words, "<function>: not implemented yet; write it in coursework/<module>.py": the
# first part is never split over two lines, so it marks a module with something to write
# (``staging``), and the whole says whose stub raised (``engine``).
NOT_WRITTEN = "not implemented yet; "
WRITE_IN = "write it in "


class MarkerError(ValueError):
    """The solution markers of a file are unbalanced or nested."""


def _enclosing_name(lines, index, indent):
    """Dotted name of the def (and its class) that encloses line ``index`` at ``indent``."""
    names = []
    limit = len(indent)
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < limit:
            names.append(match.group(3))
            limit = len(match.group(1))
            if limit == 0:
                break
    return ".".join(reversed(names)) or "this code"


def _indent(line):
    return len(line) - len(line.lstrip())


def _raise_lines(indent, name, module_path, newline):
    """``raise NotImplementedError("...")`` at ``indent``, over several lines when one is longer
    than MAX_LINE."""
    first, second = f"{name}: {NOT_WRITTEN}", f"{WRITE_IN}{module_path}"
    line = f'{indent}raise NotImplementedError("{first}{second}")'
    if len(line) <= MAX_LINE:
        return [line + newline]
    inner = indent + "    "
    if len(f'{inner}"{first}{second}")') <= MAX_LINE:
        return [f"{indent}raise NotImplementedError({newline}",
                f'{inner}"{first}{second}"){newline}']
    return [f"{indent}raise NotImplementedError({newline}", f'{inner}"{first}"{newline}',
            f'{inner}"{second}"){newline}']


def make_stub(source, filename="<source>", module_path="coursework/<module>.py"):
    """Return ``source`` with each solution region replaced by ``raise NotImplementedError``."""
    lines = source.splitlines(keepends=True)
    out = []
    open_at = None
    nested = []  # indentation of the defs opened inside the current region
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if open_at is not None:
                raise MarkerError(
                    f"{filename}:{number}: '{BEGIN}' inside the region opened at line {open_at}; "
                    "regions cannot nest"
                )
            open_at, nested = number, []
            indent = line[: len(line) - len(line.lstrip())]
            name = _enclosing_name(lines, number - 1, indent)
            newline = "\r\n" if line.endswith("\r\n") else "\n"
            out.extend(_raise_lines(indent, name, module_path, newline))
        elif marker == END:
            if open_at is None:
                raise MarkerError(f"{filename}:{number}: '{END}' without a '{BEGIN}' before it")
            open_at = None
        elif open_at is None:
            out.append(line)
        elif marker and not marker.startswith("#"):
            while nested and _indent(line) <= nested[-1]:
                nested.pop()  # a def opened inside the region has ended
            if _DEF.match(line):
                nested.append(_indent(line))
            elif _RETURN.match(line) and not nested:
                raise MarkerError(
                    f"{filename}:{number}: 'return' inside the solution region opened at line "
                    f"{open_at}; end the region before the function's return line (the stub "
                    "keeps the return, so the student sees what to return)")
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at}: '{BEGIN}' is never closed by '{END}'")
    return "".join(out)


def generated_files(reference_dir):
    """Map each relative path under the reference package to the stub text it generates."""
    reference_dir = Path(reference_dir)
    files = {}
    for path in sorted(reference_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(reference_dir)
        text = path.read_text(encoding="utf-8")
        files[rel] = make_stub(text, filename=str(path), module_path=f"coursework/{rel.as_posix()}")
    return files


def write_stubs(reference_dir, stubs_dir):
    """Write the stubs; return the relative paths whose content changed."""
    stubs_dir = Path(stubs_dir)
    changed = []
    for rel, text in generated_files(reference_dir).items():
        target = stubs_dir / rel
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(rel)
    return changed


def out_of_sync(reference_dir, stubs_dir):
    """Relative paths (as strings) where ``stubs_dir`` differs from what the generator makes.

    A stub that is missing, differs, or has no reference file any more is out of sync.
    """
    stubs_dir = Path(stubs_dir)
    expected = generated_files(reference_dir)
    problems = []
    for rel, text in expected.items():
        target = stubs_dir / rel
        if not target.exists():
            problems.append(f"{rel.as_posix()} (missing)")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{rel.as_posix()} (differs from its solution)")
    for path in sorted(stubs_dir.rglob("*.py")):
        rel = path.relative_to(stubs_dir)
        if "__pycache__" not in path.parts and rel not in expected:
            problems.append(f"{rel.as_posix()} (no such file in solutions/coursework)")
    return problems
