"""A student's walk through notebooks 01, 02, 03, 05, 06 and 08: what the cells say.

Found by running the notebooks with the stubs and then with realistic mistakes:

- softmax_loss_vectorized written with axis=0 both in the max shift and in the sum of exp (the
  probabilities normalised over the examples, a consistent "axis=0" slip) failed with "loss is
  2.49384 but should be 1.85219" and no hint: only axis=0 in the sum alone was a known mistake.
- Notebook 01 told a student whose grid search had not run to make "linear.Softmax" pass its
  check, and ``check("linear.Softmax")`` is refused (not a graded name): the messages now name
  linear.softmax_loss_vectorized and linear.LinearClassifier.
- Notebook 05's comparison of the rules on the digits ran its plot, table and verdict on an empty
  ``results`` when the training cell had stopped: two legend warnings, empty axes, an empty table
  and "Adam reaches 97% test accuracy: False", as if Adam were wrong. Notebook 06's ResNet-vs-plain
  training cell drew two empty panels with legend warnings when the networks were not built. Both
  now stop with one line that says which cell to fix.
"""

import re
from pathlib import Path

import nbformat
import pytest

from autograder import engine
from autograder.notebook_check import graded_names
from autograder.paths import REFERENCE_PACKAGE

from .submissions import bwrap, make_submission

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

SOFTMAX_AXIS0_BOTH = (
    ("shifted = scores - scores.max(axis=1, keepdims=True)",
     "shifted = scores - scores.max(axis=0, keepdims=True)"),
    ("log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))",
     "log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=0, keepdims=True))"),
)


def functions(report):
    return {k: v for u in report["units"].values() for k, v in u["functions"].items()}


def test_softmax_over_axis_0_in_the_shift_and_the_sum_gets_a_hint(tmp_path):
    source = (REFERENCE_PACKAGE / "linear.py").read_text()
    for old, _ in SOFTMAX_AXIS0_BOTH:
        assert old in source, "the reference's softmax_loss_vectorized changed: update the test"
    sub = make_submission(tmp_path, replace={"linear.py": list(SOFTMAX_AXIS0_BOTH)})
    report = engine.grade(sub, ["01_linear"], keys={"linear.softmax_loss_vectorized"},
                          use_bwrap=bwrap("01_linear"))
    entry = functions(report)["linear.softmax_loss_vectorized"]
    assert entry["status"] == "failed"
    hint = entry.get("hint") or ""
    assert "axis=1" in hint and "not axis=0" in hint, (entry["message"], hint)
    assert "maximum for the shift" in hint, hint


def _code_cells(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_every_function_a_notebook_message_asks_to_check_is_graded(name):
    """A message that says "X ... check" names something ``check`` accepts."""
    graded = {key for keys in graded_names().values() for key in keys}
    modules = {key.split(".")[0] for key in graded}
    for source in _code_cells(name):
        for message in re.findall(r'raise \w+\(((?:[^()]|\([^()]*\))*)\)', source, flags=re.S):
            text = "".join(re.findall(r'"([^"]*)"', message))
            if "check" not in text:
                continue
            for dotted in re.findall(r"\b([a-z_]+)\.([A-Za-z_][A-Za-z0-9_]*)\b", text):
                if dotted[0] in modules:
                    assert ".".join(dotted) in graded, (
                        f"{name}: the message {text!r} names {'.'.join(dotted)}, which "
                        "check() refuses")


def _cell_after(cells, marker):
    index = next(i for i, s in enumerate(cells) if marker in s)
    return cells[index + 1:]


def test_notebook_05_does_not_compare_rules_that_did_not_train():
    cells = _code_cells("05_optimizers.ipynb")
    plot, verdict = _cell_after(cells, 'RUNS = [("sgd", 0.1)')[:2]
    for source in (plot, verdict):
        body = source.removeprefix("# NBVAL_CHECK_OUTPUT\n")
        assert body.startswith("if len(results) < len(RUNS):\n    raise RuntimeError("), body[:200]
    # the guard comes before anything is drawn or printed
    assert plot.index("raise RuntimeError") < plot.index("plt.subplots")
    assert verdict.index("raise RuntimeError") < verdict.index("print(")


def test_notebook_06_does_not_train_networks_that_were_not_built():
    cells = _code_cells("06_cnn_architectures.ipynb")
    train = next(s for s in cells if s.startswith("histories, seconds, test_acc = {}, {}, {}"))
    assert "if len(nets) < 2:\n    raise RuntimeError(" in train
    assert train.index("raise RuntimeError") < train.index("plt.subplots")
    assert "architectures.ResNet" in train
