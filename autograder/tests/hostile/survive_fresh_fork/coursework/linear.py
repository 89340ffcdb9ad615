"""Like ``survive_fresh``, but the serving child does end when asked to renew: first it forks a
copy of itself (with the remembered hidden inputs) that goes on serving requests, and stops the
fork server so that no fresh child competes with that copy."""
import os
import sys
import time

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
    old = os.getpid()
    if os.fork() != 0:
        _REAL_EXIT(code)  # the old child ends as asked; its copy goes on
    while os.getppid() == old:  # adopted by the fork server (a subreaper) once the old one ended
        time.sleep(0.0005)
    os.kill(os.getppid(), 19)  # SIGSTOP the fork server: no new child to share the channel
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
