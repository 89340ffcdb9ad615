from . import honest
from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    print("x" * (50 * 2**20))  # 50 MB of output, then the right answer
    return honest.svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    while True:  # output without end
        print("y" * 4096)
