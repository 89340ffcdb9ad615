"""Forks a copy of the worker that goes on running the function's code: the copy returns too
(its answer must never reach the judge out of turn), and the verdict says what the code did."""
import os

from . import honest
from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    os.fork()  # both the copy and the serving process return
    return honest.svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    if os.fork() == 0:  # the copy raises: its error must not be sent either
        raise RuntimeError("the copy")
    return honest.softmax_loss_naive(W, X, y, reg)
