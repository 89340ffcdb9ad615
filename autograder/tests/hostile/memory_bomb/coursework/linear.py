import numpy as np

from .honest import *  # noqa: F401,F403


def svm_loss_naive(W, X, y, reg):
    return np.ones(50 * 10**9 // 8)  # 50 GB in one allocation


def softmax_loss_naive(W, X, y, reg):
    hoard = []
    while True:  # grows until MemoryError under the address-space limit
        hoard.append(np.empty(64 * 2**20 // 8))
