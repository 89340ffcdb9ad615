"""A student's walk through notebooks 04, 07, 09 and 10: what the check cells say.

Found by running the notebooks with the stubs and then with realistic mistakes:

- iou_per_class computed as TP / (TP + FP) (the precision) failed with "iou (which entries are
  NaN) differs in 1 of 5 entries; first at [1]: got True, expected False": the comparison of the
  encoded NaN positions, in words the student never wrote, and no hint. The verdict now says
  which entry is NaN and should not be (or the reverse) and when each metric is NaN, and the
  precision and the recall taken for the IoU are known mistakes.
- batchnorm_forward normalizing each example over its features (axis 1, layer norm's statistics)
  got no hint.
- RegularizedNet's "it calls your affine_backward, affine_forward, ..., which do not pass yet"
  named unit 02's functions without their module: the student of unit 04 did not know which file
  to open. A callee of another module is now named with it (layers.affine_forward).
- conv_transpose_forward reading the filters (C, F, HH, WW) as (F, C, HH, WW) in np.einsum
  stopped with NumPy's "operands could not be broadcast together with remapped shapes
  [original->remapped]: (2,3,3,4)->(2,newaxis,...)" and nothing else: the verdict now says what
  the subscripts of np.einsum must match.
- A cell that opened a figure and then stopped on a function not written yet showed an empty
  grid of axes under the one-line error (notebook 04's first-layer weights and mixup cells,
  07's checkerboard and receptive-field cells): the extension now closes the figures the
  stopped cell opened and did not show.
"""

import shutil

import pytest

from autograder import engine
from autograder.dependencies import called_name, note_failed_dependencies
from autograder.notebook_check import _todo_text
from autograder.paths import REFERENCE_PACKAGE

from .submissions import bwrap, make_submission

IOU_AS_PRECISION = ("union = cm.sum(axis=0) + cm.sum(axis=1) - xp.diag(cm)",
                    "union = cm.sum(axis=0)")
# precision with 0 (not NaN) for a class never predicted: np.divide with out=zeros
PRECISION_ZERO = ("    precision = xp.full(num_classes, xp.nan)\n",
                  "    precision = xp.zeros(num_classes)\n")
# the filters (C, F, HH, WW) read as a convolution's (F, C, HH, WW)
EINSUM_F_C = ('contrib = xp.einsum("nchw,cfkl->nfklhw", x, w)',
              'contrib = xp.einsum("nchw,fckl->nfklhw", x, w)')
BN_PER_EXAMPLE = ("mu = x.mean(axis=0)\n        xc = x - mu\n        var = (xc * xc).mean(axis=0)",
                  "mu = x.mean(axis=1, keepdims=True)\n        xc = x - mu\n"
                  "        var = (xc * xc).mean(axis=1, keepdims=True)")


def functions(report):
    return {k: v for u in report["units"].values() for k, v in u["functions"].items()}


@pytest.fixture(scope="module")
def segmentation(tmp_path_factory):
    source = (REFERENCE_PACKAGE / "segmentation.py").read_text()
    assert PRECISION_ZERO[0] in source, "the reference's precision line changed: update the test"
    sub = make_submission(tmp_path_factory.mktemp("r26_student_seg"),
                          replace={"segmentation.py": [IOU_AS_PRECISION, PRECISION_ZERO,
                                                       EINSUM_F_C]})
    report = engine.grade(sub, ["07_segmentation"],
                          keys={"segmentation.iou_per_class",
                                "segmentation.precision_recall_per_class",
                                "segmentation.conv_transpose_forward"},
                          use_bwrap=bwrap("07_segmentation"))
    return functions(report)


def test_an_iou_that_is_nan_where_a_number_belongs_is_said_in_values(segmentation):
    entry = segmentation["segmentation.iou_per_class"]
    assert entry["status"] == "failed"
    message = entry["message"]
    assert "which entries are NaN" not in message and "got True" not in message, message
    # class 1 of the public case is never predicted: TP + FP = 0, so TP / (TP + FP) is NaN
    assert "iou is wrong at [1]: got NaN, expected 0;" in message, message
    assert "iou is NaN exactly where TP + FP + FN = 0, a class in neither map" in message
    assert "(1 of 5 entries differ in being NaN)" in message, message
    assert "precision" in entry["hint"] and "TP / (TP + FP + FN)" in entry["hint"], entry["hint"]


def test_a_precision_of_zero_where_it_is_undefined_names_its_own_rule(segmentation):
    entry = segmentation["segmentation.precision_recall_per_class"]
    assert entry["status"] == "failed"
    message = entry["message"]
    assert "which entries are NaN" not in message, message
    assert "precision is wrong at [" in message and ": got 0, expected NaN;" in message, message
    assert "precision is NaN exactly where TP + FP = 0, a class never predicted" in message


def test_einsum_subscripts_that_do_not_fit_the_shapes_are_explained(segmentation):
    entry = segmentation["segmentation.conv_transpose_forward"]
    assert entry["status"] == "error"
    message = entry["message"]
    assert "remapped shapes" in message, message  # NumPy's own words stay
    assert "in np.einsum, operands of shapes (2, 3, 3, 4) and (3, 2, 3, 2) do not fit the " \
           "subscripts" in message, message
    assert "(C, F, ...) read as (F, C, ...)" in message, message


def test_batch_norm_over_the_features_of_each_example_gets_a_hint(tmp_path):
    source = (REFERENCE_PACKAGE / "normalization.py").read_text()
    assert BN_PER_EXAMPLE[0] in source, "the reference's batch norm changed: update the test"
    sub = make_submission(tmp_path, replace={"normalization.py": [BN_PER_EXAMPLE]})
    report = engine.grade(sub, ["04_normalization"], keys={"normalization.batchnorm_forward"},
                          use_bwrap=bwrap("04_normalization"))
    entry = functions(report)["normalization.batchnorm_forward"]
    assert entry["status"] == "failed"
    assert "over the N examples of the batch" in entry["hint"], entry["hint"]
    assert "which is layer norm" in entry["hint"], entry["hint"]


def test_a_callee_of_another_module_is_named_with_its_module():
    assert called_name("layers.affine_forward", "regularization.RegularizedNet") == \
        "layers.affine_forward"
    assert called_name("rnn.lstm_step_forward", "rnn.CharRNN") == "lstm_step_forward"
    # the TODO line of a check cell
    entry = {"failed_calls": ["layers.affine_forward", "regularization.dropout_forward"],
             "message": f"not implemented yet {engine.OWN_STUB}"}
    text = _todo_text("regularization.RegularizedNet", entry)
    assert "it calls your layers.affine_forward, dropout_forward, which do not pass yet" in text
    assert "coursework/regularization.py" in text
    # the note under a failure
    found = {"layers.affine_forward": {"status": "failed", "score": 0, "max": 1, "hint": None,
                                       "message": "wrong"},
             "regularization.RegularizedNet": {"status": "failed", "score": 0, "max": 4,
                                               "hint": None, "message": "wrong"}}
    for key in ("regularization.dropout_forward", "regularization.dropout_backward",
                "layers.affine_backward", "layers.relu_forward", "layers.relu_backward",
                "losses.softmax_loss"):
        found[key] = {"status": "passed", "score": 1, "max": 1, "hint": None, "message": ""}
    note_failed_dependencies({"units": {"04": {"functions": found}}})
    hint = found["regularization.RegularizedNet"]["hint"]
    assert hint.startswith("this function calls your layers.affine_forward, which fails its own "
                           "test"), hint


def test_a_stopped_cell_leaves_no_empty_figure_under_its_error(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    from autograder.paths import REPO_ROOT

    shutil.copytree(REPO_ROOT / "coursework", tmp_path / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    sources = [
        "%load_ext autograder\nimport numpy as np\nimport matplotlib\nmatplotlib.use("
        "'module://matplotlib_inline.backend_inline')\nimport matplotlib.pyplot as plt\n"
        "from coursework import layers",
        # a figure shown, then a stop: the figure stays
        "plt.plot([1, 2]); plt.show()\nlayers.relu_forward(np.ones(2))",
        # the figure opened before the stop is empty: not shown
        "fig, ax = plt.subplots(1, 3)\nout = layers.relu_forward(np.ones(2))\nax[0].plot(out)",
        # a stop of another kind (the student's own bug) keeps its usual output
        "fig, ax = plt.subplots()\n1 / 0",
    ]
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    client = nbclient.NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    def kinds(cell):
        return [o["output_type"] for o in cell.outputs]

    assert "error" not in kinds(nb.cells[0]), nb.cells[0].outputs
    assert kinds(nb.cells[1]) == ["display_data", "error"], kinds(nb.cells[1])
    assert kinds(nb.cells[2]) == ["error"], kinds(nb.cells[2])
    assert "relu_forward is not written yet" in nb.cells[2].outputs[0]["traceback"][0]
    assert "display_data" in kinds(nb.cells[3]), kinds(nb.cells[3])
