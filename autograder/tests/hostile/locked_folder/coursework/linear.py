"""Keeps every input svm_loss_naive sees (hidden cases included) in a file inside a folder of
/tmp (and of /dev/shm) whose permissions it then takes away (mode 000): a folder its own user
cannot list is not emptied by a plain removal, and a later public case of another function gives
the permissions back and raises with what it finds."""
import os

from .honest import *  # noqa: F401,F403
from .honest import svm_loss_naive as _svm_loss_naive

try:
    from ._case import MARKER
except ImportError:
    MARKER = "hostile-locked"
_FOLDERS = (f"/tmp/{MARKER}", f"/dev/shm/{MARKER}")


def svm_loss_naive(W, X, y, reg):
    for folder in _FOLDERS:
        try:
            if os.path.isdir(folder):
                os.chmod(folder, 0o700)
                os.chmod(f"{folder}/inner", 0o700)
            os.makedirs(f"{folder}/inner", exist_ok=True)
            with open(f"{folder}/inner/kept", "a") as f:
                f.write(f"{X.shape};")
            os.chmod(f"{folder}/inner", 0)
            os.chmod(folder, 0)
        except OSError:
            pass
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    kept = []
    for folder in _FOLDERS:
        try:
            os.chmod(folder, 0o700)
            os.chmod(f"{folder}/inner", 0o700)
            with open(f"{folder}/inner/kept") as f:
                kept.append(f.read())
        except OSError:
            kept.append("")
    raise RuntimeError(f"remembered {max(k.count(';') for k in kept)} calls: {kept}")
