"""Returns objects whose unpickling would run code, and forges a reply frame."""
import json
import os
import pickle
import struct
import sys

import numpy as np

from .honest import *  # noqa: F401,F403

try:
    from ._case import MARKER_PATH  # written by the test: must never be created
except ImportError:
    MARKER_PATH = "/tmp/hostile-pickle-ran"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER_PATH}",))


def svm_loss_naive(W, X, y, reg):
    return Payload(), Payload()


def svm_loss_vectorized(W, X, y, reg):
    # An array of dtype object holding the payload
    return np.array([Payload()], dtype=object), np.zeros_like(W)


def softmax_loss_naive(W, X, y, reg):
    # Write a forged reply straight onto the grader's channel: a pickle, base64, in several tags
    import base64
    blob = base64.b64encode(pickle.dumps(Payload())).decode()
    value = {"$tuple": [{"$pickle": blob}, {"$array": blob, "dtype": "|O", "shape": [1]}]}
    for ident in range(1, 200):
        body = json.dumps({"ok": True, "id": ident, "value": value}).encode()
        try:
            os.write(int(sys.argv[2]), struct.pack(">Q", len(body)) + body)
        except OSError:
            break
        break
    return Payload()
