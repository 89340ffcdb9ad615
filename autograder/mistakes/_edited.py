"""Known mistakes written as the student writes them: the reference function with one edit of its
source (a ``.T`` left out, ``keepdims=True`` dropped, a range one too long). Many of these raise
on the grader's inputs instead of returning a wrong answer (a shape error, an IndexError): the
student's call that raises the same error on the same inputs gets the mistake's hint
(``Trial.explaining_errors``, ``spec.raised_hint``).

``edited("module.function", (old, new), ...)`` is a copy of the reference function with each
``old`` text of ``solutions/coursework/<module>.py`` replaced by ``new``; an ``old`` the file no
longer holds is an error at import (``tests/test_hints.py`` then fails), never a silent no-op.
"""

import types

from ..oracle import REFERENCE_NAME, load_reference
from ..paths import REFERENCE_PACKAGE


def edited(target, *edits):
    module, _, name = target.partition(".")
    load_reference()  # the copy's relative imports (.backend) resolve in the reference package
    source = (REFERENCE_PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    for old, new in edits:
        if source.count(old) != 1:
            raise ValueError(f"{target}: the edit's text {old!r} occurs {source.count(old)} "
                             f"times in the reference's {module}.py, not once")
        source = source.replace(old, new)
    copy = types.ModuleType(f"{REFERENCE_NAME}.{module}")
    copy.__package__ = REFERENCE_NAME
    exec(compile(source, str(REFERENCE_PACKAGE / f"{module}.py"), "exec"), copy.__dict__)
    return getattr(copy, name)
