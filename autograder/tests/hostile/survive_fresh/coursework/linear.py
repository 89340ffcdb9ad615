"""Keeps every input svm_loss_naive sees (hidden cases included) and then refuses to be replaced:
``os._exit`` (the worker's way to end a serving child the judge asked to renew) is swapped for a
loop that goes on serving requests in this same process, so a later public case of another
function would raise with the remembered hidden inputs."""
import os
import sys

from .honest import *  # noqa: F401,F403
from .honest import softmax_loss_naive as _softmax_loss_naive  # noqa: F401
from .honest import svm_loss_naive as _svm_loss_naive

_SEEN = []
_REAL_EXIT = os._exit


def _serve_on(code):
    if code != 86:  # worker.FRESH_EXIT: only the renewal is refused
        _REAL_EXIT(code)
    frame = sys._getframe(1)
    names = frame.f_locals
    wire, worker = sys.modules["wire"], sys.modules["worker"]
    while True:
        try:
            request = wire.read_frame(names["request_fd"])
        except EOFError:
            _REAL_EXIT(0)
        if request.get("op") == "fresh":
            wire.write_frame(names["reply_fd"], {"ok": True, "value": None,
                                                 "id": request.get("id")})
            continue
        names["guard"].restore()
        reply = worker.handle(request, names["resolve"], names["encode_result"],
                              names["objects"], names["guard"])
        reply["id"] = request.get("id")
        wire.write_frame(names["reply_fd"], reply)


os._exit = _serve_on


def svm_loss_naive(W, X, y, reg):
    _SEEN.append(X.shape)
    return _svm_loss_naive(W, X, y, reg)


def softmax_loss_naive(W, X, y, reg):
    raise RuntimeError(f"remembered {len(_SEEN)} calls: {_SEEN}")
