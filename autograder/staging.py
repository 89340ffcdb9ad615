"""Stage a submission: copy what the grader may run into a fresh folder, trusting nothing there.

Everything below a submission folder is controlled by the student: a ``coursework`` that is a
symbolic link to the reference or to a classmate, a module file that is a FIFO (reading it never
ends) or a link to a device, a package folder ``linear/`` next to a decoy ``linear.py`` (Python
imports the folder, the rules would read the file), bytecode without source, a million nested or
empty folders. The judge therefore never follows, walks or reads that tree without bounds:

* every path component is opened with ``O_NOFOLLOW`` (a link is refused, never followed), files
  with ``O_NONBLOCK`` too (opening a FIFO cannot hang), and ``fstat`` must say ``S_ISREG`` of the
  very file that was opened (a special file is refused, never read);
* only the files the course defines are staged, by name — the top-level files of the course's
  ``coursework`` package (its folders, provided material, are copied from the course's own copy,
  never from the submission; so are its files that are not Python) — plus the student's own
  flat helper modules (regular ``name.py`` files at the top level, at most ``MAX_EXTRA_MODULES``,
  found by reading at most ``MAX_ENTRIES`` directory entries): no folders of the student's (no
  packages, no ``__pycache__``), no bytecode, no links;
* reads are bounded (``MAX_FILE_BYTES`` a file, ``MAX_TOTAL_BYTES`` in all);
* a course module that cannot be staged is replaced by a one-line module raising ImportError with
  the reason (so each function of it gets that verdict), and the reasons are listed in
  ``Staged.refused`` for the report; a *provided* module (nothing in it for the student to
  write: ``backend.py``, ``training.py``) that is missing is taken from the course's copy and
  listed in ``Staged.supplied`` (a hand-in of the edited modules alone is graded as
  ``nbgrader sync`` grades it).

Grading runs the staged copy and inspects the same copy (the source rules read the files that
run), so what is inspected is what runs.
"""

import errno
import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import scratch
from .paths import STUBS_PACKAGE

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
MAX_EXTRA_MODULES = 32
MAX_ENTRIES = 4096  # directory entries of coursework/ looked at to find helper modules
PACKAGE = "coursework"
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\.py$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | \
    getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NOCTTY", 0)


class Refused(ValueError):
    """The submission cannot be graded at all (its reason is the student's verdict)."""


@dataclass
class Staged:
    """A staged submission: ``path`` holds ``coursework/``; remove it with ``cleanup``."""

    path: Path
    refused: dict = field(default_factory=dict)  # 'coursework/x' -> why it was not staged
    files: list = field(default_factory=list)
    supplied: list = field(default_factory=list)  # provided modules taken from the course

    def cleanup(self):
        scratch.remove(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def course_folders(package=STUBS_PACKAGE):
    """Names of the folders of the course's own ``coursework`` package (provided material such
    as data): staged from the course's copy, never from the submission."""
    return sorted(p.name for p in Path(package).iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__")))


def course_files(package=STUBS_PACKAGE):
    """Names of the top-level files of the course's own ``coursework`` package (what a
    submission may hand in), ``__init__.py`` first."""
    names = sorted(p.name for p in Path(package).iterdir()
                   if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
                   and p.suffix not in (".pyc", ".pyo"))
    return sorted(names, key=lambda n: n != "__init__.py")


def _kind(mode):
    for test, words in ((stat.S_ISLNK, "a symbolic link (not followed)"),
                        (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device")):
        if test(mode):
            return words
    return "not a regular file"


def _lstat(name, dir_fd):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None


def open_dir(name, dir_fd=None):
    """Open the folder ``name`` (relative to ``dir_fd``) without following a link; Refused with
    the reason otherwise."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        info = _lstat(name, dir_fd)
        if info is not None and not stat.S_ISDIR(info.st_mode):
            raise Refused(f"{name} is {_kind(info.st_mode)}, not a folder") from None
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused(f"{name} is a symbolic link (not followed)") from None
        raise Refused(f"{name} cannot be opened ({exc.strerror})") from None


def read_regular(name, dir_fd, limit=MAX_FILE_BYTES):
    """The bytes of the regular file ``name`` in ``dir_fd`` (at most ``limit``); ValueError with
    the reason for a link, a special file, a folder or a file too large. Never blocks."""
    info = _lstat(name, dir_fd)
    if info is None:
        raise FileNotFoundError(name)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"it is {_kind(info.st_mode)}")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise ValueError(f"it cannot be opened ({exc.strerror})") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != \
                (info.st_dev, info.st_ino):
            raise ValueError("it changed while it was being read")
        if opened.st_size > limit:
            raise ValueError(f"it is larger than {limit >> 20} MB")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ValueError(f"it is larger than {limit >> 20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _extra_modules(cw_fd, known):
    """Names of the student's own top-level helper modules (bounded): every entry named like a
    module that is not a folder. Only regular files are read; a link, a FIFO or a device is
    staged as a module that raises why it was not graded (it was dropped, and importing it
    said only "No module named 'coursework.helpers'", beside a helpers.py the student sees)."""
    out = []
    try:
        with os.scandir(cw_fd) as entries:
            for index, entry in enumerate(entries):
                if index >= MAX_ENTRIES or len(out) >= MAX_EXTRA_MODULES:
                    break
                name = entry.name
                if name in known or not _MODULE_NAME.match(name):
                    continue
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        out.append(name)
                except OSError:
                    continue
    except OSError:
        pass
    return sorted(out)


def _provided(path):
    """Whether the course's module at ``path`` is provided whole: nothing in it for the student
    to write (no stub of ``python -m autograder stubs``). A hand-in without it (only the
    modules the student edited, as nbgrader collects them) gets the course's copy, as
    ``nbgrader sync`` lays hand-ins over the course's files."""
    from .stubs import NOT_WRITTEN

    try:
        return path.is_file() and not path.is_symlink() and \
            NOT_WRITTEN not in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


NOT_GRADED = " was not graded: "  # in the ImportError of a module staging did not take


def _placeholder(rel, why):
    message = f"{rel}{NOT_GRADED}{why}"
    return f"raise ImportError({message!r})\n".encode()


def _why_missing(name, cw_fd):
    stem = name[:-3]
    notes = []
    folder = _lstat(stem, cw_fd)
    if folder is not None and stat.S_ISDIR(folder.st_mode):
        notes.append(f"a package folder {PACKAGE}/{stem}/ is not graded (keep each module one "
                     "file)")
    if _lstat(stem + ".pyc", cw_fd) is not None or _lstat("__pycache__", cw_fd) is not None:
        notes.append("compiled bytecode is never run: hand in the source")
    return "it is missing" + ("; " + "; ".join(notes) if notes else "")


_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar")


def _no_package(top, shown=5, looked_into=50):
    """What the folder ``top`` (without a coursework package) holds instead, for the message
    that refuses it: nothing at all, a coursework package one folder down (a hand-in unpacked
    into a folder of its own), a folder named like it in other letters, an archive; else its
    first few names. Nothing is followed or read; bounded however many entries it has."""
    try:
        names = sorted(os.listdir(top))
    except OSError:
        return ""
    if not names:
        return ": its folder is empty"
    if "__init__.py" in names and any(n.endswith(".py") and n != "__init__.py" for n in names):
        return ("; this folder looks like a coursework package itself: pass the folder that "
                "holds it")
    nested = []
    for name in names[:looked_into]:
        info = _lstat(name, top)
        if info is None or not stat.S_ISDIR(info.st_mode):
            continue
        if name.lower() == PACKAGE:
            return f"; it holds {name!r}: the folder must be named {PACKAGE!r}, in lower case"
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=top)
        except OSError:
            continue
        try:
            inner = _lstat(PACKAGE, fd)
        finally:
            os.close(fd)
        if inner is not None and stat.S_ISDIR(inner.st_mode):
            nested.append(name)
    if len(nested) > 1:
        return (f"; {len(nested)} of its folders ({', '.join(repr(n) for n in nested[:3])}"
                f"{', ...' if len(nested) > 3 else ''}) hold one each: is it a folder of "
                "students? grade it with grade-many --submissions")
    if nested:
        where = nested[0] + "/" + PACKAGE
        return (f"; there is one a folder down, in {where!r}: the hand-in was unpacked one "
                f"level too deep (move {where!r} up into this folder, then grade again)")
    archives = [n for n in names if n.lower().endswith(_ARCHIVES)]
    if archives:
        return f"; it holds the archive {archives[0]!r}: unpack it here first"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return "; it holds " + ", ".join(repr(n) for n in names[:shown]) + more


def stage(submission, *, into=None, course=None, pristine=None):
    """Stage ``submission`` (a folder holding ``coursework/``) into a fresh folder.

    ``course``: the file names the course defines (default: those of the course's package).
    ``pristine``: a trusted folder whose copies are used for the course's non-Python files
    (default: the course's own package). Returns a Staged; raises Refused when the submission has
    no usable ``coursework`` package at all.
    """
    course = list(course or course_files())
    pristine = Path(pristine or STUBS_PACKAGE)
    try:
        top = os.open(os.fspath(submission), _DIR_FLAGS)
    except OSError as exc:
        if os.path.islink(submission):
            raise Refused(f"the submission folder {str(submission)!r} is a symbolic link (not "
                          "followed)") from None
        raise Refused(f"the submission folder {str(submission)!r} cannot be opened "
                      f"({exc.strerror})") from None
    target = Path(into) if into else Path(scratch.make("staged"))
    target.mkdir(mode=0o755, exist_ok=True)
    os.chmod(target, 0o755)
    staged = Staged(target)
    try:
        try:
            cw_fd = open_dir(PACKAGE, top)
        except Refused as exc:
            if _lstat(PACKAGE, top) is None:
                raise Refused("the submission has no coursework package (expected "
                              "coursework/__init__.py inside it)" + _no_package(top)) from None
            raise Refused(f"the submission has no usable coursework package: {exc}") from None
        try:
            dest = target / PACKAGE
            dest.mkdir(mode=0o755)
            total = 0
            extras = _extra_modules(cw_fd, set(course))
            for name in course + extras:
                rel = f"{PACKAGE}/{name}"
                if not name.endswith(".py"):
                    source = pristine / name
                    if source.is_file() and not source.is_symlink():
                        shutil.copyfile(source, dest / name)
                        os.chmod(dest / name, 0o644)
                    continue
                try:
                    data = read_regular(name, cw_fd, min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - total))
                except FileNotFoundError:
                    if name == "__init__.py":
                        raise Refused("the submission has no coursework package (expected "
                                      "coursework/__init__.py inside it)") from None
                    if name in extras:
                        continue
                    if _provided(pristine / name):
                        data = (pristine / name).read_bytes()
                        staged.supplied.append(rel)
                    else:
                        why = _why_missing(name, cw_fd)
                        staged.refused[rel] = why
                        data = _placeholder(rel, why)
                except ValueError as exc:
                    if name == "__init__.py":
                        raise Refused(f"coursework/__init__.py was refused: {exc}") from None
                    staged.refused[rel] = str(exc)
                    data = _placeholder(rel, str(exc))
                else:
                    total += len(data)
                    staged.files.append(rel)
                    folder = _lstat(name[:-3], cw_fd)
                    if folder is not None and stat.S_ISDIR(folder.st_mode):
                        staged.refused[f"{PACKAGE}/{name[:-3]}/"] = (
                            f"a folder next to {rel} is ignored: the grader runs and reads "
                            f"{rel} only")
                with open(dest / name, "xb") as f:
                    f.write(data)
                os.chmod(dest / name, 0o644)
            for name in course_folders(pristine):
                shutil.copytree(pristine / name, dest / name, symlinks=False,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        finally:
            os.close(cw_fd)
    except BaseException:
        if into is None:
            staged.cleanup()
        raise
    finally:
        os.close(top)
    return staged


def fingerprint(folder):
    """SHA-256 of the staged package under ``folder``: every file's path and bytes, in path
    order. The same submission files give the same fingerprint; a resubmission another one
    (``grade-many`` grades a student again when theirs changed since their report)."""
    digest = hashlib.sha256()
    root = Path(folder) / PACKAGE
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        rel = path.relative_to(root).as_posix().encode()
        digest.update(len(rel).to_bytes(8, "big") + rel + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def submission_fingerprint(submission):
    """The ``fingerprint`` of what grading ``submission`` would stage now, or None when it
    cannot be staged."""
    try:
        staged = stage(submission)
    except (Refused, OSError):
        return None
    try:
        return fingerprint(staged.path)
    finally:
        staged.cleanup()


def open_path(base, parts):
    """Open the folder ``base/parts[0]/parts[1]/...``, following no link below ``base``
    (``base``, a path or an open folder's fd, is the grader's own). Returns an fd; Refused
    naming the bad component."""
    fd = os.dup(base) if isinstance(base, int) else \
        os.open(os.fspath(base), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            new = open_dir(part, fd)
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd
