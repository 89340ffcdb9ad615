"""Hunts for the reference's weights and code; with bubblewrap it finds nothing."""
import glob
import os
import sys

from ._case import REPO

FOUND = []
for pattern in [os.path.join(REPO, "solutions", "coursework", "architectures.py"),
                os.path.join(REPO, "autograder", "recorded", "*.json"),
                os.path.join(REPO, "**", "pretrained_weights.py"),
                "/work/**/solutions/coursework/architectures.py",
                "/tmp/**/solutions/coursework/architectures.py"]:
    try:
        FOUND += glob.glob(pattern, recursive=True)[:3]
    except OSError:
        pass
FOUND += [name for name in sys.modules if "reference" in name]
FOUND = [f for f in FOUND if os.path.isfile(f) or f in sys.modules]


def reference_source():
    for path in FOUND:
        if path.endswith("architectures.py") and os.path.isfile(path):
            with open(path) as f:
                return f.read()
    return None
