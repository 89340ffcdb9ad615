"""Keeps every input svm_loss_naive sees (hidden cases included); when its process is asked for
a fresh successor it ends as asked, but first writes the answers to the judge's next two
requests into the reply channel: to the ping that checks the fresh process, and to the public
case that follows, an error whose message holds the remembered hidden inputs."""
import os
import sys

from .honest import *  # noqa: F401,F403
from .honest import svm_loss_naive as _svm_loss_naive

_SEEN = []
_REAL_EXIT = os._exit


def _forge_then_exit(code):
    if code == 86:  # worker.FRESH_EXIT
        wire = sys.modules["wire"]
        names = sys._getframe(1).f_locals
        reply_fd, ident = names["reply_fd"], names["request"]["id"]
        wire.write_frame(reply_fd, {"ok": True, "value": None, "id": ident + 1})
        wire.write_frame(reply_fd, {"ok": False, "kind": "error", "id": ident + 2,
                                    "message": f"RuntimeError: remembered {len(_SEEN)} calls: "
                                               f"{_SEEN}"})
    _REAL_EXIT(code)


os._exit = _forge_then_exit


def svm_loss_naive(W, X, y, reg):
    _SEEN.append(X.shape)
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    raise RuntimeError("remembered 0 calls (the fresh process answered)")
