from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    while True:
        pass
