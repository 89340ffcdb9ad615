"""Fills shared memory (/dev/shm) and /tmp, which a plain rlimit on address space does not count."""
import os

from .honest import *  # noqa: F401,F403
from . import honest

try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-shm"

MOST_MB = 256  # enough to show the cap (64 MB), bounded should the case run uncontained


def _fill(folder):
    written, paths = 0, []
    chunk = b"\1" * (1 << 20)
    try:
        while written < MOST_MB:
            path = os.path.join(folder, f"{MARKER}-{written}")
            paths.append(path)
            with open(path, "wb") as f:
                f.write(chunk)
            written += 1
    except OSError:
        pass
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
    return written


def svm_loss_naive(W, X, y, reg):
    print(f"SHM_WRITTEN_MB {_fill('/dev/shm')}", flush=True)
    return honest.svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    print(f"TMP_WRITTEN_MB {_fill('/tmp')}", flush=True)
    return honest.softmax_loss_naive(W, X, y, reg)
