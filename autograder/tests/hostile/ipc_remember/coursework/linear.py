"""Keeps every input svm_loss_naive sees (hidden cases included) in System V shared memory and
a POSIX message queue, which live in the worker's IPC namespace (bubblewrap: one per worker,
shared by the processes its fork server forks) or the host's (without bubblewrap), not in /tmp
nor in the process; a later public case of another function raises with them."""
import ctypes
import os

from .honest import *  # noqa: F401,F403
from .honest import svm_loss_naive as _svm_loss_naive

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.shmat.restype = ctypes.c_void_p
_LIBC.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
try:
    from ._case import IPC_KEY as _KEY  # this run's own key (the test removes it afterwards)
except ImportError:
    _KEY = 0x5EC2E7
_SIZE = 4096


def _segment():
    ident = _LIBC.shmget(_KEY, _SIZE, 0o1600)  # IPC_CREAT | 0600
    if ident < 0:
        return None
    address = _LIBC.shmat(ident, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        return None
    return (ctypes.c_char * _SIZE).from_address(address)


def svm_loss_naive(W, X, y, reg):
    memory = _segment()
    if memory is not None:
        kept = bytes(memory).rstrip(b"\0") + f"{X.shape};".encode()
        memory[:len(kept)] = kept[:_SIZE]
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    memory = _segment()
    kept = bytes(memory).rstrip(b"\0").decode() if memory is not None else "no segment"
    raise RuntimeError(f"remembered {kept.count(';')} calls: {kept[:300]} (pid {os.getpid()})")
