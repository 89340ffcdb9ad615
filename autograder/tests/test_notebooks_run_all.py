"""A fresh student's Run All: every notebook against the stubs (nothing written yet). Each cell
that cannot run stops with one line that says what to write or what to run, never a traceback
through the course's code (before: notebook 05's KeyError ('ill-conditioned quadratic', 'sgd')
and the guards of notebooks 04 and 06 showed 10 to 15 lines of traceback)."""

import re

import pytest

from autograder.paths import REPO_ROOT

from .test_notebooks import NOTEBOOKS

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# what a cell may stop with, in a notebook whose functions are not written yet
EXPECTED = {"NotImplementedError", "AssertionError", "NameError", "KeyError", "RuntimeError"}


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_run_all_with_the_stubs_stops_each_cell_with_one_line(stem):
    nb = nbformat.read(REPO_ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(REPO_ROOT /
                                                                         "notebooks")}})
    client.execute()
    errors = [(i, output) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output["output_type"] == "error"]
    # the notebook ran against the stubs: its first exercise stops a cell
    assert errors, "no cell stopped: did the notebook import the reference, not the stubs?"
    assert any(o["ename"] == "NotImplementedError" for _, o in errors), errors[0]
    for index, output in errors:
        shown = [ANSI.sub("", line) for line in output["traceback"]]
        assert output["ename"] in EXPECTED, (index, shown)
        assert len(shown) == 1, (f"cell {index} stops with a traceback of {len(shown)} lines",
                                 shown)
        assert shown[0].startswith(f"{output['ename']}: ") and len(shown[0]) > 40, (index, shown)
