"""Tries to write outside its temporary folder, then answers correctly."""
import os

from . import honest
from .honest import *  # noqa: F401,F403

try:
    from ._case import MARKER, TARGETS  # written by the test
except ImportError:
    MARKER, TARGETS = "hostile-write", []


def svm_loss_naive(W, X, y, reg):
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in [*TARGETS, here, os.path.join(here, ".."), "/tmp", os.path.expanduser("~")]:
        try:
            with open(os.path.join(folder, MARKER), "w") as f:
                f.write("written by a submission\n")
        except OSError:
            pass
    with open("/tmp/scratch.txt", "w") as f:  # its own temporary folder: allowed
        f.write("fine")
    return honest.svm_loss_naive(W, X, y, reg)
