"""Keeps every input svm_loss_naive sees (hidden cases included) in a POSIX message queue
(mq_open), which lives in the IPC namespace, not in /tmp nor in the process, and has no name in
any folder the grader empties; a later public case of another function raises with them."""
import ctypes
import os

from .honest import *  # noqa: F401,F403
from .honest import svm_loss_naive as _svm_loss_naive

try:
    _RT = ctypes.CDLL("librt.so.1", use_errno=True)
except OSError:
    _RT = ctypes.CDLL(None, use_errno=True)
try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-mqueue"
_NAME = f"/{MARKER}".encode()


class _Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long),
                ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long),
                ("pad", ctypes.c_long * 4)]


def _queue():
    attr = _Attr(0, 8, 64, 0)
    return _RT.mq_open(_NAME, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600, ctypes.byref(attr))


def svm_loss_naive(W, X, y, reg):
    q = _queue()
    if q >= 0:
        text = f"{X.shape}".encode()
        _RT.mq_send(q, text, len(text), 0)
        _RT.mq_close(q)
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    q = _queue()
    kept = []
    if q >= 0:
        buffer = ctypes.create_string_buffer(64)
        while True:
            n = _RT.mq_receive(q, buffer, 64, None)
            if n < 0:
                break
            kept.append(buffer.raw[:n].decode())
        _RT.mq_unlink(_NAME)
    raise RuntimeError(f"remembered {len(kept)} calls: {kept} (queue {q})")
