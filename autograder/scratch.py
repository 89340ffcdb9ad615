"""The grader's scratch folders, and reclaiming those of a grader that was killed.

Grading a submission makes a few folders in the temporary directory (the staged copy, the
worker's files, the copy the worker reads): about 600 KB a student. A grader that ends normally
removes them; one killed by SIGKILL (the out-of-memory killer, a cancelled batch job) cannot,
and a run over 300 students would leave 300 sets behind.

So each folder is made by ``make``, which keeps a lock on it (``flock`` on the open folder,
released by the kernel when the process that holds it dies, whatever kills it), and ``sweep``
removes the folders of this kind whose lock nobody holds any more. A folder younger than
``MIN_AGE_SECONDS`` is never taken: it may be one that another grader has just made and not
yet locked.
"""

import fcntl
import os
import shutil
import stat
import tempfile
import time

PREFIX = "grader-"
# the kinds of folder the grader makes (PREFIX + kind + "-" + random)
KINDS = ("staged", "submission", "worker", "packages")
MIN_AGE_SECONDS = 120.0
_HELD = {}  # path -> the descriptor that holds its lock
_SWEPT = False


def _open(path):
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def make(kind):
    """A new scratch folder ``grader-<kind>-...`` in the temporary directory, locked by this
    process until ``remove`` (or until the process ends)."""
    if kind not in KINDS:
        raise ValueError(f"unknown scratch folder kind {kind!r} (one of {KINDS})")
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-")
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new folder: nobody else holds it
    except OSError:  # a file system without locks: sweep cannot lock it either, and leaves it
        pass
    _HELD[path] = fd
    return path


def remove(path):
    """Remove a folder ``make`` made (anything inside too) and let go of its lock."""
    shutil.rmtree(path, ignore_errors=True)
    fd = _HELD.pop(os.fspath(path), None)
    if fd is not None:
        os.close(fd)


def sweep(directory=None, now=None):
    """Remove this user's scratch folders in ``directory`` (the temporary directory) that no
    living process holds: what a killed grader left. Returns how many were removed."""
    directory = directory or tempfile.gettempdir()
    now = time.time() if now is None else now
    prefixes = tuple(f"{PREFIX}{kind}-" for kind in KINDS)
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefixes) or entry.path in _HELD:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or \
                now - info.st_mtime < MIN_AGE_SECONDS:
            continue
        try:
            fd = _open(entry.path)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its grader is alive
            os.close(fd)
            continue
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += not os.path.lexists(entry.path)
        finally:
            os.close(fd)
    return removed


def sweep_once():
    """``sweep`` the first time a process grades; later calls do nothing."""
    global _SWEPT
    if _SWEPT:
        return 0
    _SWEPT = True
    return sweep()
