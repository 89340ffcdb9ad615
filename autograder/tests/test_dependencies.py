"""Which graded functions a graded function calls (read from the reference), and the note a
failure gets when a function it calls fails too."""

from autograder.dependencies import calls, note_failed_dependencies
from autograder.engine import specs_of
from autograder.units import UNITS

GRADED = frozenset(k for unit in UNITS for spec in specs_of(unit) for k in spec.tests)


def test_calls_are_read_from_the_reference():
    # a backward "calls" its forward: its test gets the cache from the student's forward
    assert calls("rnn.lstm_backward", GRADED) == ("rnn.lstm_forward", "rnn.lstm_step_backward")
    assert calls("conv.max_pool_backward_naive", GRADED) == ("conv.max_pool_forward_naive",)
    assert calls("normalization.batchnorm_backward_alt", GRADED) == (
        "normalization.batchnorm_forward",)
    assert calls("segmentation.upsample_nearest_backward", GRADED) == (
        "segmentation.upsample_nearest",)
    assert calls("detection.nms", GRADED) == ("detection.box_iou",)
    assert calls("normalization.spatial_batchnorm_forward", GRADED) == (
        "normalization.batchnorm_forward",)
    # names imported from other modules, methods included in a class
    net = calls("regularization.RegularizedNet", GRADED)
    assert {"layers.affine_forward", "normalization.batchnorm_backward",
            "regularization.dropout_forward", "losses.softmax_loss"} <= set(net)
    # `from . import detection` then detection.box_iou(...)
    assert set(calls("generative.gan_step", GRADED)) >= {"generative.sample_noise"}
    # through a module-level table of functions (layers.ACTIVATIONS, imported by mlp)
    assert {"layers.relu_backward", "layers.tanh_forward"} <= set(
        calls("mlp.FullyConnectedNet", GRADED))
    # a leaf calls nothing graded; a method does not "call" its own class
    assert calls("layers.affine_forward", GRADED) == ()
    assert "rnn.CharRNN" not in calls("rnn.CharRNN.sample", GRADED)
    assert calls("no_module.f", GRADED) == () and calls("rnn.no_such", GRADED) == ()


def entry(status, hint=None):
    return {"status": status, "score": 0.0 if status != "passed" else 1.0, "max": 1.0,
            "message": "", "hint": hint}


def test_a_failure_whose_callee_fails_is_told_to_fix_the_callee_first():
    report = {"units": {"09_rnn": {"functions": {
        "rnn.lstm_step_backward": entry("failed"),
        "rnn.lstm_backward": entry("failed", hint="the known mistake"),
        "rnn.rnn_step_backward": entry("not_implemented"),
        "rnn.rnn_backward": entry("not_implemented"),
        "rnn.rnn_step_forward": entry("passed"),
        "rnn.rnn_forward": entry("failed"),
    }}}}
    note_failed_dependencies(report)
    found = report["units"]["09_rnn"]["functions"]
    assert found["rnn.lstm_backward"]["hint"] == (
        "this function calls your lstm_step_backward, which fails its own test: fix that first, "
        "this failure may only follow from it; otherwise: the known mistake")
    assert found["rnn.lstm_backward"]["failed_calls"] == ["rnn.lstm_step_backward"]
    assert found["rnn.rnn_backward"]["hint"].startswith(
        "this function calls your rnn_forward, rnn_step_backward, which fail their own tests")
    assert found["rnn.rnn_step_backward"]["hint"] is None  # its forward passes
    # its callee passed: nothing added; a passing function is never annotated
    assert found["rnn.rnn_forward"]["hint"] is None
    assert "failed_calls" not in found["rnn.rnn_forward"]
    assert found["rnn.rnn_step_forward"]["hint"] is None


def test_a_callee_that_fails_is_found_through_one_that_passes():
    """coco_map calls mean_average_precision (which passes: its cases do not show the bug),
    which calls average_precision (which fails): coco_map's note names average_precision."""
    names = ["detection.coco_map", "detection.mean_average_precision",
             "detection.average_precision", "detection.match_detections",
             "detection.precision_recall", "detection.box_iou"]
    functions = {k: entry("passed") for k in names}
    functions["detection.coco_map"] = entry("failed")
    functions["detection.average_precision"] = entry("failed")
    report = {"units": {"08_detection": {"functions": functions}}}
    note_failed_dependencies(report)
    hint = functions["detection.coco_map"]["hint"]
    assert hint.startswith("this function calls your average_precision (through your "
                           "mean_average_precision), which fails its own test"), hint
    assert functions["detection.coco_map"]["failed_calls"] == ["detection.average_precision"]


def test_a_module_that_cannot_be_imported_gets_no_note_sending_elsewhere():
    """A syntax error in layers.py fails every function of it (and of mlp.py, which imports it)
    with the same message, which names the line: "calls your affine_forward, which fails its
    own test" under each would only repeat it (13 times in unit 02)."""
    broken = ("affine_forward(x (4, 5), w (5, 3)): the module could not be imported: "
              "SyntaxError: invalid syntax (layers.py, line 339)")
    hang = ("affine_backward(...): importing coursework/layers.py did not finish within 10 s: "
            "the code at the top level ...")
    functions = {"layers.affine_forward": entry("error"), "layers.affine_backward": entry("error"),
                 "layers.relu_forward": entry("failed"), "layers.relu_backward": entry("failed")}
    functions["layers.affine_forward"]["message"] = broken
    functions["layers.affine_backward"]["message"] = hang
    report = {"units": {"02_mlp": {"functions": functions}}}
    note_failed_dependencies(report)
    assert functions["layers.affine_backward"]["hint"] is None
    assert "failed_calls" not in functions["layers.affine_backward"]
    # a failure of its own still gets the note
    assert functions["layers.relu_backward"]["hint"].startswith(
        "this function calls your relu_forward, which fails its own test")


def test_a_wrong_loss_or_scores_is_not_blamed_on_a_backward_it_calls():
    """A net whose scores were wrong was told to fix the affine_backward it calls
    first; a backward computes nothing of the scores or the loss. A wrong gradient still names
    every failing callee."""
    def functions(wrong_output):
        net = entry("failed")
        net["wrong_output"] = wrong_output
        return {"layers.affine_backward": entry("failed"), "layers.relu_forward": entry("failed"),
                "layers.affine_forward": entry("passed"), "layers.relu_backward": entry("passed"),
                "losses.softmax_loss": entry("passed"), "mlp.TwoLayerNet": net}

    for output in ("scores", "loss"):
        found = functions(output)
        note_failed_dependencies({"units": {"02_mlp": {"functions": found}}})
        assert found["mlp.TwoLayerNet"]["failed_calls"] == ["layers.relu_forward"], output
        assert found["mlp.TwoLayerNet"]["hint"].startswith(
            "this function calls your layers.relu_forward, which fails its own test"), output
    found = functions("grads['W1']")
    note_failed_dependencies({"units": {"02_mlp": {"functions": found}}})
    assert found["mlp.TwoLayerNet"]["failed_calls"] == ["layers.affine_backward",
                                                        "layers.relu_forward"]
    assert found["mlp.TwoLayerNet"]["hint"].startswith(
        "this function calls your layers.affine_backward, layers.relu_forward, which fail their "
        "own tests: "
        "fix those first, this failure may only follow from them")


def test_the_grader_records_which_output_was_wrong(tmp_path):
    from autograder import engine

    from .submissions import make_submission

    sub = make_submission(tmp_path, replace={"layers.py": [
        ("    out = xp.maximum(x, 0)\n", "    out = xp.maximum(x, 0.01 * x)\n")]})
    found = engine.grade(sub, ["02"], keys={"layers.relu_forward", "mlp.TwoLayerNet"})[
        "units"]["02_mlp"]["functions"]
    assert found["layers.relu_forward"]["wrong_output"] == "out"
    assert found["mlp.TwoLayerNet"]["wrong_output"] == "scores"
