"""Adding a unit (docs/design.md, "Adding a unit"): a piece left out is named, never skipped.

A unit is registered in several places: its modules in ``autograder/units.py``, a spec per
module, hidden cases, known mistakes, a notebook ``NN_*.ipynb`` and the README's table of units.
Before these checks, a unit whose ``UNITS`` entry was forgotten shipped stubs nobody graded, a
spec whose ``hidden/`` file was missing (or misspelled in ``t.hidden``) graded with no hidden case
at all, a mistake registered under a misspelled key never gave its hint, and a notebook nobody
listed was left out of the notebook tests. Each check below runs on the course itself (nothing
missing) and on a toy unit 11 (``toy_attention``) built in a temporary folder or patched in, where
the missing piece must be named.
"""

import ast
import importlib
import re
import warnings

import pytest

from autograder import units
from autograder.oracle import Oracle
from autograder.paths import HIDDEN_DIR, MISTAKES_DIR, NOTEBOOKS_DIR, REFERENCE_PACKAGE, REPO_ROOT
from autograder.spec import Trial
from autograder.testing import FakeStudent

TOY_SOURCE = '''"""Unit 11: attention."""


def scaled_dot_product_attention(Q, K, V, mask=None):
    """softmax(Q K^T / sqrt(d)) V."""
    out = None
    # BEGIN SOLUTION
    out = Q
    # END SOLUTION
    return out
'''
TOY_KEY = "toy_attention.scaled_dot_product_attention"


def graded_keys(unit_map):
    return {k for unit in unit_map for spec in _specs(unit_map, unit) for k in spec.tests}


def _specs(unit_map, unit):
    return [importlib.import_module(f"autograder.specs.{m}").SPEC for m in unit_map[unit][1]
            if (units.PACKAGE_DIR / "specs" / f"{m}.py").exists()]


def ungraded_regions(reference_dir, unit_map, keys):
    """What a student would write and no test grades: a module with solution regions that no
    unit lists, and a top-level function or class holding a region that no spec key names."""
    modules = {m for _, ms in unit_map.values() for m in ms}
    problems = []
    for path in sorted(reference_dir.glob("*.py")):
        text = path.read_text()
        if "# BEGIN SOLUTION" not in text:
            continue
        if path.stem not in modules:
            problems.append(f"{path.name}: has solution regions but no unit of "
                            "autograder/units.py lists the module")
            continue
        begins = [i + 1 for i, line in enumerate(text.splitlines())
                  if line.strip() == "# BEGIN SOLUTION"]
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and \
                    any(node.lineno <= b <= node.end_lineno for b in begins):
                key = f"{path.stem}.{node.name}"
                if not any(k == key or k.startswith(key + ".") for k in keys):
                    problems.append(f"{key}: has a solution region but no spec test")
    return problems


def unregistered_mistakes(mistakes, keys):
    """Keys of ``{module: MISTAKES}`` that name no graded function of that module."""
    return sorted(f"{module}: {key}" for module, table in mistakes.items() for key in table
                  if key not in keys or key.split(".", 1)[0] != module)


def readme_problems(unit_map, readme, notebook_stems):
    """Units without a notebook, or without a README row naming the notebook and its modules."""
    problems = []
    for unit, (_, modules) in unit_map.items():
        number = unit.split("_", 1)[0]
        stems = [s for s in notebook_stems if s.startswith(number + "_")]
        if not stems:
            problems.append(f"{unit}: no notebooks/{number}_*.ipynb")
        row = next((line for line in readme.splitlines()
                    if line.startswith(f"| {number} | ")), None)
        if row is None:
            problems.append(f"{unit}: no row '| {number} | ...' in README.md's table of units")
            continue
        problems += [f"{unit}: README row does not name notebooks/{s}.ipynb" for s in stems
                     if f"`notebooks/{s}.ipynb`" not in row]
        problems += [f"{unit}: README row does not name `{m}`" for m in modules
                     if f"`{m}`" not in row]
    return problems


def _notebook_stems():
    return sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def _mistakes_tables():
    tables = {}
    for path in sorted(MISTAKES_DIR.glob("*.py")):
        if not path.stem.startswith("_"):  # __init__, and helpers such as _edited.py
            mod = importlib.import_module(f"autograder.mistakes.{path.stem}")
            tables[path.stem] = mod.MISTAKES
    return tables


@pytest.fixture(scope="module")
def keys():
    return graded_keys(units.UNITS)


# -- the course itself ----------------------------------------------------------------------------

def test_every_unit_module_has_its_spec_and_every_spec_its_own_module_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error", units.MissingSpecWarning)
        assert units.available_units() == list(units.UNITS)
    for unit in units.UNITS:
        for module, spec in zip(units.UNITS[unit][1], units.specs_of(unit)):
            assert spec.module == module, f"specs/{module}.py declares Spec({spec.module!r})"
            assert spec.tests, f"specs/{module}.py registers no test"


def test_every_solution_region_is_graded(keys):
    assert ungraded_regions(REFERENCE_PACKAGE, units.UNITS, keys) == []


def test_hidden_and_mistakes_files_belong_to_graded_modules_and_name_graded_functions(keys):
    modules = {m for _, ms in units.UNITS.values() for m in ms}
    for folder in (HIDDEN_DIR, MISTAKES_DIR):
        stray = [p.name for p in folder.glob("*.py")
                 if not p.stem.startswith("_") and p.stem not in modules]
        assert not stray, f"{folder.name}/ files of no unit's module: {stray}"
    tables = _mistakes_tables()
    assert all(isinstance(t, dict) for t in tables.values())
    assert unregistered_mistakes(tables, keys) == []


def test_every_unit_has_a_notebook_and_a_readme_row():
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme_problems(units.UNITS, readme, _notebook_stems()) == []


# -- a toy unit 11 with a piece missing -----------------------------------------------------------

def test_a_module_no_unit_lists_is_named(tmp_path, keys):
    (tmp_path / "toy_attention.py").write_text(TOY_SOURCE)
    assert ungraded_regions(tmp_path, units.UNITS, keys) == [
        "toy_attention.py: has solution regions but no unit of autograder/units.py lists "
        "the module"]
    toy_units = {**units.UNITS, "11_toy_attention": ("Attention", ["toy_attention"])}
    assert ungraded_regions(tmp_path, toy_units, keys) == [
        f"{TOY_KEY}: has a solution region but no spec test"]
    assert ungraded_regions(tmp_path, toy_units, keys | {TOY_KEY}) == []


def test_a_unit_module_without_a_spec_is_left_out_with_a_warning(monkeypatch):
    monkeypatch.setitem(units.UNITS, "11_toy_attention", ("Attention", ["toy_attention"]))
    with pytest.warns(units.MissingSpecWarning, match="autograder/specs/toy_attention.py"):
        assert "11_toy_attention" not in units.available_units()


def test_a_misspelled_mistake_key_is_named(keys):
    toy = {"toy_attention": {TOY_KEY: [], "toy_attention.scaled_dot_product": []},
           "losses": {"losses.softmax_loss": [], "layers.relu_forward": []}}
    assert unregistered_mistakes(toy, keys | {TOY_KEY}) == [
        "losses: layers.relu_forward", "toy_attention: toy_attention.scaled_dot_product"]


def test_a_missing_hidden_file_is_an_error_in_the_instructors_checkout(tmp_path, monkeypatch):
    trial = Trial(FakeStudent(), Oracle())
    with pytest.raises(FileNotFoundError, match=r"no autograder/hidden/toy_attention\.py.*"
                                                r"attention_cases"):
        trial.hidden("toy_attention", "attention_cases")
    assert Trial(FakeStudent(), Oracle(), public_only=True).hidden(
        "toy_attention", "attention_cases") == []
    # the student release has no hidden/ folder at all: no hidden case, no error
    monkeypatch.setattr("autograder.spec.HIDDEN_DIR", tmp_path / "hidden")
    assert trial.hidden("toy_attention", "attention_cases") == []
    assert trial.hidden("linear", "loss_cases") == []


def test_a_unit_without_notebook_or_readme_row_is_named():
    toy_units = {"11_attention": ("Attention", ["attention", "attention_nets"])}
    readme = "| 11 | `notebooks/11_attention.ipynb` | `attention`: scaled dot-product |\n"
    assert readme_problems(toy_units, "", []) == [
        "11_attention: no notebooks/11_*.ipynb",
        "11_attention: no row '| 11 | ...' in README.md's table of units"]
    assert readme_problems(toy_units, readme, ["11_attention"]) == [
        "11_attention: README row does not name `attention_nets`"]
    assert readme_problems(toy_units, readme, ["11_attention", "11_more"]) == [
        "11_attention: README row does not name notebooks/11_more.ipynb",
        "11_attention: README row does not name `attention_nets`"]


def test_the_notebook_tests_read_every_notebook_of_the_folder():
    from .test_notebooks import NOTEBOOKS

    assert NOTEBOOKS == _notebook_stems() and len(NOTEBOOKS) >= len(units.UNITS)
    assert all(re.fullmatch(r"\d\d_\w+", s) for s in NOTEBOOKS)
