"""``check(...)``: instant feedback in a notebook, from the same tests as the grader.

    from autograder import check
    check("linear.svm_loss_naive")    # one function
    check("01")                       # a whole unit ("01", "01_linear" or "linear")

It grades the ``coursework`` package the notebook imports, on the public tests, in a fresh worker
process: the latest saved ``.py`` file is what is tested, without restarting the kernel. It prints
one line per function (and the reason and a hint for each failure) and raises ``AssertionError``
when something failed, so a check cell can be an nbgrader test cell.
"""

import importlib.util
from pathlib import Path

from . import engine
from .units import UNITS, available_units, resolve_units, unit_of_key

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
        "crashed": "CRASH", "not_implemented": "TODO"}


def _submission():
    spec = importlib.util.find_spec("coursework")
    if spec is None or not spec.origin:
        raise RuntimeError("check: the coursework package cannot be found; start JupyterLab with "
                           "`make lab` from the course folder")
    return Path(spec.origin).resolve().parent.parent


def _selection(name):
    """(units, keys or None) for a function key, a module, or a unit."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"check: give a function like 'linear.svm_loss_naive' or a unit like "
                         f"'01', got {name!r}")
    name = name.strip()
    if "." in name:
        unit = unit_of_key(name)
        if unit not in available_units():
            raise ValueError(f"check: unit {unit} has no tests yet")
        return [unit], {name}
    if any(name in modules for _, modules in UNITS.values()) and not name[:2].isdigit():
        unit = unit_of_key(name + ".x")
        keys = None
        return [unit], keys if keys else _module_keys(unit, name)
    return resolve_units([name]), None


def _module_keys(unit, module):
    from .units import specs_of

    return {k for spec in specs_of(unit) if spec.module == module for k in spec.tests}


def check(name, *, submission=None, timeout=None):
    """Check one function, module or unit on the public tests; raise AssertionError on failure."""
    units, keys = _selection(name)
    if keys is not None and not keys:
        raise ValueError(f"check: nothing is graded under {name!r}")
    limits = None
    if timeout is not None:
        from .sandbox import Limits

        limits = Limits(call_seconds=timeout, cpu_seconds=timeout)
    report = engine.grade(submission or _submission(), units, keys=keys, public_only=True,
                          limits=limits)
    failed = []
    for unit_report in report["units"].values():
        for key, entry in unit_report["functions"].items():
            if keys is not None and key not in keys:
                continue
            print(f"{MARK[entry['status']]:<8}{key}  ({entry['score']:g}/{entry['max']:g})")
            if entry["status"] != "passed":
                failed.append(key)
                if entry["status"] != "not_implemented":
                    print(f"        {entry['message']}")
                else:
                    print("        not implemented yet: replace the `raise NotImplementedError` "
                          "in coursework and save the file")
                if entry.get("hint"):
                    print(f"        hint: {entry['hint']}")
    if failed:
        raise AssertionError(f"{len(failed)} of the checked functions did not pass: "
                             f"{', '.join(failed)}")
    print("All checks passed.")
