"""torch.load of a crafted pickle in student code, and a forward that returns a pickle bomb.

Whatever the unpickling does happens in the worker: the marker records the process that ran it,
which must never be the judge. The object returned by forward cannot cross the wire (arrays
only), so the judge never unpickles it either.
"""
import io
import os

import torch

from ._case import MARKER_PATH


class Payload:
    def __reduce__(self):
        return (_mark, (MARKER_PATH,))


def _mark(path):
    try:
        with open(path, "a") as f:
            f.write(f"{os.getpid()}\n")
    except OSError:
        pass
    return "payload ran"


buffer = io.BytesIO()
torch.save({"weights": Payload()}, buffer)
buffer.seek(0)
try:
    LOADED = torch.load(buffer, weights_only=False)
except Exception:  # noqa: BLE001 - newer torch refuses: fine either way
    LOADED = None
