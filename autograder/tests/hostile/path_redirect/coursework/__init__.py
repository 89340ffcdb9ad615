"""Runs code other than the files the grader reads: writes a copy of linear.py whose vectorized
SVM loops over the examples to a folder of its own and puts that folder first in the package's
__path__, so that `import coursework.linear` loads the copy."""
import os as _os

try:
    from ._case import MARKER as _MARKER
except ImportError:
    _MARKER = "hostile-redirect"

_alt = f"/tmp/{_MARKER}-copy"
_os.makedirs(_alt, exist_ok=True)
with open(_os.path.join(_os.path.dirname(__file__), "linear.py")) as _f:
    _source = _f.read()
with open(_os.path.join(_alt, "linear.py"), "w") as _f:
    _f.write(_source + "\n\nRUNNING_THE_COPY = True\n")
__path__.insert(0, _alt)
