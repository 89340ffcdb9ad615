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


def stub_submission(tmp_path, *solved):
    """A course folder ``tmp_path`` (returned) whose coursework is a copy of the stubs, with the
    reference's version of the modules in ``solved``."""
    shutil.copytree(STUBS_PACKAGE, tmp_path / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for module in solved:
        shutil.copy(REFERENCE_PACKAGE / f"{module}.py", tmp_path / "coursework" / f"{module}.py")
    return tmp_path


def graded_to_zero(folder, unit, key, words, hint=None, *, statuses=("failed", "error"),
                   **grade_kwargs):
    """Grade ``key`` of the submission ``folder`` (unit ``unit``) and assert that it scored 0
    with a status among ``statuses``, ``words`` in its message and, when given, ``hint`` in its
    hint; return its report entry."""
    from autograder import engine

    report = engine.grade(folder, [unit], keys={key}, **grade_kwargs)
    entry = report["units"][unit]["functions"][key]
    assert entry["status"] in statuses and entry["score"] == 0, entry
    assert words in entry["message"], entry
    if hint is not None:
        assert hint in (entry["hint"] or ""), entry
    return entry


def package(root, **modules):
    """A submission folder ``root/student`` whose ``coursework`` package holds ``modules``
    ({name: source}) and an empty ``__init__``; returns the folder."""
    target = Path(root) / "student" / "coursework"
    target.mkdir(parents=True)
    (target / "__init__.py").write_text("")
    for name, source in modules.items():
        (target / f"{name}.py").write_text(textwrap.dedent(source))
    return target.parent


def bwrap(unit):
    """Bubblewrap where the unit declares PyTorch for the sandbox (as the unit tests do)."""
    from autograder.units import UNITS

    return None if "torch" in getattr(UNITS[unit], "packages", ()) else False


def wrong_variant_graded_to_zero(root, unit, key, replace, words, hint=None):
    """The reference with ``replace`` applied (one function made wrong), graded on ``key``:
    it must score 0 with ``words`` in its message and ``hint`` in its hint (skipped where the
    unit needs PyTorch and it is not installed); return the report entry."""
    import pytest

    from autograder.units import UNITS

    if "torch" in getattr(UNITS[unit], "packages", ()):
        pytest.importorskip("torch")
    sub = make_submission(root, replace=replace)
    return graded_to_zero(sub, unit, key, words, hint, use_bwrap=bwrap(unit))


# An honest vectorized softmax loss whose scores come from a ``_scores(W, X)`` that each hostile
# test defines around it (the per-example loop the test hides, or X @ W): appended to linear.py,
# only the loop can cost it its points.
SOFTMAX_AROUND_SCORES = '''
def softmax_loss_vectorized(W, X, y, reg):
    scores = _scores(W, X)
    n = X.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    lp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -lp[np.arange(n), y].sum() / n + reg * (W * W).sum()
    d = np.exp(lp)
    d[np.arange(n), y] -= 1.0
    return float(loss), (X.T @ d / n + 2 * reg * W).astype(W.dtype)
'''


def graded_with_edits(root, edits, units, keys, **grade_kwargs):
    """Grade ``keys`` of the reference with ``edits`` applied, [(module file, old, new, ...)]
    (items past the third are ignored), on ``units``; return {key: report entry}."""
    from autograder import engine

    replace = {}
    for module, old, new, *_ in edits:
        replace.setdefault(module, []).append((old, new))
    report = engine.grade(make_submission(root, replace=replace), units, keys=set(keys),
                          **grade_kwargs)
    return {k: e for u in report["units"].values() for k, e in u["functions"].items()}


def assert_error_with_hint(entry, error, hint):
    """The entry of a call that raised: no point, ``error`` in its message with the place in
    coursework/, and ``hint`` in its hint."""
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert error in entry["message"] and "coursework/" in entry["message"], entry["message"]
    assert entry["hint"] and hint in entry["hint"], entry


def grader_by_group(tmp_path_factory, build):
    """A function group -> {key: report entry} that grades each group once, on first use.
    ``build(group, folder)`` writes the group's submission in ``folder`` and returns
    (submission, unit, keys); each key is graded once per group."""
    from autograder import engine

    reports = {}

    def grade(group):
        if group not in reports:
            sub, unit, keys = build(group, tmp_path_factory.mktemp(f"group_{group}"))
            report = engine.grade(sub, [unit], keys=set(keys), use_bwrap=bwrap(unit))
            reports[group] = report["units"][unit]["functions"]
        return reports[group]

    return grade


def graded_entries(root, unit, keys, *, append=None, replace=None, use_bwrap=False):
    """Grade ``keys`` of the reference edited by ``append``/``replace`` (as make_submission)
    on ``unit``; return {key: report entry}."""
    from autograder import engine

    sub = make_submission(root, append=append, replace=replace)
    report = engine.grade(sub, [unit], keys=set(keys), use_bwrap=use_bwrap)
    return {k: e for u in report["units"].values() for k, e in u["functions"].items()}


def graded_variants(tmp_path_factory, unit, key, module, variants, *, header=""):
    """{name: report entry of ``key``} for each variant ({name: code}): the reference with
    ``header`` and the dedented code appended to ``module``, graded alone."""
    out = {}
    for name, code in variants.items():
        root = tmp_path_factory.mktemp("".join(c if c.isalnum() else "_" for c in name))
        out[name] = graded_entries(root, unit, {key},
                                   append={module: header + textwrap.dedent(code)})[key]
    return out
