import sys

from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    return svm_loss_naive(W, X, y, reg)  # RecursionError


def _deep(n):
    return list(map(_deep, [n + 1]))  # each level goes through C code (map)


def svm_loss_vectorized(W, X, y, reg):
    sys.setrecursionlimit(10**8)  # now the C stack overflows instead: a crash
    return _deep(0)
