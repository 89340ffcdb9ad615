import ctypes

from .honest import *  # noqa: F401,F403


def softmax_loss_vectorized(W, X, y, reg):
    return ctypes.string_at(1)  # reads address 1: SIGSEGV
