"""Keeps every input svm_loss_naive sees (hidden cases included) in the kernel's keyrings (the
user keyring of the worker's user id, and the session keyring the processes inherit), which
outlive the process that wrote them; a later public case of another function raises with them."""
import ctypes
import platform

from .honest import *  # noqa: F401,F403
from .honest import svm_loss_naive as _svm_loss_naive

_LIBC = ctypes.CDLL(None, use_errno=True)
_SYS_ADD_KEY, _SYS_KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(
    platform.machine(), (-1, -1))
_KEYCTL_READ, _KEYCTL_SEARCH = 11, 10
_RINGS = (-4, -3)  # KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING
try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-keyring"
_NAME = MARKER.encode()


def _read(ring):
    key = _LIBC.syscall(_SYS_KEYCTL, _KEYCTL_SEARCH, ring, b"user", _NAME, 0)
    if key < 0:
        return ""
    buffer = ctypes.create_string_buffer(4096)
    size = _LIBC.syscall(_SYS_KEYCTL, _KEYCTL_READ, key, buffer, 4096)
    return buffer.raw[:max(0, min(size, 4096))].decode(errors="replace")


def svm_loss_naive(W, X, y, reg):
    for ring in _RINGS:
        kept = (_read(ring) + f"{X.shape};").encode()[:4000]
        _LIBC.syscall(_SYS_ADD_KEY, b"user", _NAME, kept, len(kept), ring)
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    kept = [_read(ring) for ring in _RINGS]
    raise RuntimeError(f"remembered {max(k.count(';') for k in kept)} calls: {kept}")
