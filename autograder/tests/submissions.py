"""Build submission folders for tests: the reference with some functions rewritten."""

import shutil
import textwrap
from pathlib import Path

from autograder.paths import REFERENCE_PACKAGE, STUBS_PACKAGE


def make_submission(root, *, base="solutions", replace=None, append=None, name="student"):
    """Copy the reference (or the stubs) to ``root/name/coursework`` and edit it.

    replace: {"linear.py": [(old_text, new_text), ...]} exact replacements (each must occur).
    append:  {"linear.py": "code"} appended to the module (later definitions win).
    """
    source = REFERENCE_PACKAGE if base == "solutions" else STUBS_PACKAGE
    target = Path(root) / name / "coursework"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for module, pairs in (replace or {}).items():
        path = target / module
        text = path.read_text()
        for old, new in pairs:
            assert old in text, f"{old!r} not in {module}"
            text = text.replace(old, new)
        path.write_text(text)
    for module, code in (append or {}).items():
        path = target / module
        path.write_text(path.read_text() + "\n\n" + textwrap.dedent(code))
    return target.parent
