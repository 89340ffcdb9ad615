"""Replaces the worker's serializer to send replies the encoder never makes: a 4000-digit
integer, an empty array of astronomical shape, nesting 100000 deep, ten million empty lists."""
import sys

import numpy as np

from .honest import *  # noqa: F401,F403

_wire = sys.modules["wire"]
_dumps = _wire.dumps
_next = []


def _forge(message):
    if _next and isinstance(message, dict) and message.get("ok") is True:
        raw = _next.pop()
        return _dumps(dict(message, value="@@VALUE@@")).replace(b'"@@VALUE@@"', raw)
    return _dumps(message)


_wire.dumps = _forge


def svm_loss_naive(W, X, y, reg):
    _next.append(b"1" * 4000)
    return 0


def svm_loss_vectorized(W, X, y, reg):
    huge = 2**62
    _next.append(b'{"$tuple":[1.0,{"$array":"","dtype":"<f8","shape":[0,%d,%d],'
                 b'"scalar":false}]}' % (huge, huge))
    return 0


def softmax_loss_naive(W, X, y, reg):
    _next.append(b"[" * 100_000 + b"]" * 100_000)
    return 0


def softmax_loss_vectorized(W, X, y, reg):
    _next.append(b"[" + b"[]," * 10_000_000 + b"[]]")
    return np.zeros(1)
