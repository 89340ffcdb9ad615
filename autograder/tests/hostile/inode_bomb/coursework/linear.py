"""Creates empty files in /tmp until it cannot (each one pins kernel memory, not disk)."""
import os
import shutil

from .honest import *  # noqa: F401,F403
from . import honest

try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-inodes"

MOST = 60_000  # enough to show the cap (4096), bounded should the case run uncontained


def svm_loss_naive(W, X, y, reg):
    folder = os.path.join("/tmp", MARKER)
    made = 0
    try:
        os.mkdir(folder)
        while made < MOST:
            os.close(os.open(os.path.join(folder, str(made)), os.O_CREAT | os.O_WRONLY))
            made += 1
    except OSError:
        pass
    shutil.rmtree(folder, ignore_errors=True)
    print(f"FILES_MADE {made}", flush=True)
    return honest.svm_loss_naive(W, X, y, reg)
