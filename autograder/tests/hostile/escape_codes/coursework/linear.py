"""Error messages crafted to forge lines of the grader's table in a terminal."""
from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    raise ValueError("\x1b[2J\x1b[H\r  ok      linear.svm_loss_naive       2 / 2\n" + "z" * 100000)
