"""Leaves busy children running after its call (each in a session of its own), then checks from a
later call whether they are still alive: they must have been ended when the first call returned
(and the test checks from the host that none is left)."""
import os
import subprocess

import numpy as np

from .honest import *  # noqa: F401,F403
from . import honest

try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-strays"

PIDS = f"/tmp/{MARKER}-pids"
BUSY = ["/bin/sh", "-c", "trap '' TERM HUP INT; while :; do :; done", MARKER]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def svm_loss_naive(W, X, y, reg):
    pids = []
    for _ in range(3):
        pids.append(subprocess.Popen(BUSY, start_new_session=True).pid)
    pid = os.fork()
    if pid == 0:  # a double fork: the grandchild is orphaned, in a session of its own
        os.setsid()
        child = subprocess.Popen(BUSY, start_new_session=True).pid
        with open(PIDS + ".grandchild", "w") as f:
            f.write(str(child))
        os._exit(0)
    os.waitpid(pid, 0)
    with open(PIDS, "w") as f:
        f.write(" ".join(map(str, pids)))
    return honest.svm_loss_naive(W, X, y, reg)


def _strays():
    pids = []
    for path in (PIDS, PIDS + ".grandchild"):
        try:
            with open(path) as f:
                pids += [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            pass
    alive = [p for p in pids if _alive(p)]
    print("STRAYS", pids, "alive:", alive, flush=True)
    # In bubblewrap this later call runs in a fresh process with an empty /tmp (the first call
    # had hidden cases after it): no pids to look at, and the test looks from the host instead.
    return bool(alive)


def softmax_loss_naive(W, X, y, reg):  # a later call, where loops are allowed
    loss, dW = honest.softmax_loss_naive(W, X, y, reg)
    if _strays():
        return loss + 1.0, np.zeros_like(dW)  # wrong on purpose: the strays are still there
    return loss, dW
