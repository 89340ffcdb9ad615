"""Starts processes that try to outlive the grading, then answers correctly."""
import os
import signal
import subprocess
import time

from . import honest
from .honest import *  # noqa: F401,F403

try:
    from ._case import MARKER  # written by the test
except ImportError:
    MARKER = "hostile-spawn"

SLEEPER = ["/bin/sh", "-c", "trap '' TERM HUP INT; while :; do sleep 1; done", MARKER]


def svm_loss_naive(W, X, y, reg):
    # a daemon: fork twice so that the grandchild is orphaned, in a session of its own
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.execv(SLEEPER[0], SLEEPER)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.1)
    return honest.svm_loss_naive(W, X, y, reg)


def svm_loss_vectorized(W, X, y, reg):
    # plain children, one in its own session, both ignoring SIGTERM
    subprocess.Popen(SLEEPER)
    subprocess.Popen(SLEEPER, start_new_session=True)
    return honest.svm_loss_vectorized(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    # a bounded fork loop: at most 300 children, each leaving the session
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break  # the process cap
        if pid == 0:
            try:
                os.setsid()
                os.execv(SLEEPER[0], SLEEPER)
            finally:
                os._exit(0)
    return honest.softmax_loss_naive(W, X, y, reg)
