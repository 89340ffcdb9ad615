"""A realistic mistake whose code raises (a shape error, an IndexError) is named by its hint.

A missing ``.T``, ``keepdims=True`` or ``[:, None]``, or a range one too long, often raises on
the grader's inputs instead of returning a wrong answer. Such a call is matched to the known
mistake of the function that raises the same error on the same inputs (``Trial.
explaining_errors``, ``spec.raised_hint``): the verdict still names the call and the error (with
the generic advice for it), and the mistake's hint comes below. A hint is given only when the
error is the mistake's (same exception, same words, same shapes and numbers, in any order), and
only when every mistake that raises it says the same thing.

Graded through the real worker: 14 raising variants in one submission (units 01-04, 07-09); in
process: variants written otherwise than the registered mistake, errors of the same type that
no mistake explains, and the recorded data a student release answers from.
"""

import pytest

from autograder.oracle import Oracle
from autograder.runner import StudentError
from autograder.sandbox import Limits
from autograder.spec import raised_hint
from autograder.testing import mistaken_student, run_spec_test

from .submissions import assert_error_with_hint, graded_with_edits

pytestmark = pytest.mark.xdist_group("mistakes-that-raise")

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)

# key -> (module file, old, new, words of the error, words of the expected hint)
RAISING = {
    "linear.svm_loss_vectorized": (
        "linear.py", "correct = scores[rows, y][:, None]", "correct = scores[rows, y]",
        "broadcast together with shapes", "make it a column"),
    "linear.softmax_loss_vectorized": (
        "linear.py", "dW = X.T @ dscores / num_train", "dW = X @ dscores / num_train",
        "matmul", "dW = X.T @ dscores"),
    "linear.svm_loss_naive": (
        "linear.py", "for j in range(num_classes):\n            if j == y[i]:",
        "for j in range(1, num_classes + 1):\n            if j == y[i]:",
        "IndexError: index 4 is out of bounds", "range(num_classes)"),
    "layers.affine_forward": (
        "layers.py", "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b",
        "matmul", "flatten each example first"),
    "layers.affine_backward": (
        "layers.py", "dx = (dout @ w.T).reshape(x.shape)", "dx = (dout @ w).reshape(x.shape)",
        "matmul", "dx = dout @ w.T"),
    "losses.svm_loss": (
        "losses.py", "dscores[rows, y] = -dscores.sum(axis=1)",
        "dscores[rows, y] = -dscores.sum(axis=1, keepdims=True)",
        "shape mismatch", "without keepdims=True"),
    "conv.conv_backward_naive": (
        "conv.py", "dxpad[n, :, top:top + HH, left:left + WW] += g * w[f]",
        "dxpad[n, :, top:top + HH, left:left + WW] += g * w",
        "non-broadcastable output operand", "w[f]"),
    "normalization.layernorm_forward": (
        "normalization.py", "mu = x.mean(axis=1, keepdims=True)", "mu = x.mean(axis=1)",
        "broadcast together with shapes", "per example (axis 1)"),
    "segmentation.pixel_cross_entropy": (
        "segmentation.py", "shifted = logits - logits.max(axis=1, keepdims=True)\n"
        "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    log_py = xp.take_along_axis(log_probs, y[:, None]",
        "shifted = logits - logits.max(axis=1)\n"
        "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    log_py = xp.take_along_axis(log_probs, y[:, None]",
        "broadcast together with shapes", "classes are axis 1"),
    "detection.box_iou": (
        "detection.py", "union = area1[:, None] + area2[None, :] - inter",
        "union = area1 + area2 - inter", "broadcast together with shapes", "(N, M) table"),
    "rnn.rnn_step_forward": (
        "rnn.py", "h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)",
        "h_next = xp.tanh(x @ Wh + h_prev @ Wx + b)", "matmul", "x @ Wx + h_prev @ Wh"),
    "rnn.temporal_affine_backward": (
        "rnn.py", "dw = x.reshape(-1, H).T @ dout.reshape(-1, M)", "dw = x.T @ dout",
        "matmul", "flatten the time steps first"),
    "rnn.temporal_softmax_loss": (
        "rnn.py", "dflat *= weight[:, None] / count", "dflat *= weight / count",
        "broadcast together with shapes", "weight[:, None]"),
    "normalization.groupnorm_forward": (
        "normalization.py", "out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)\n"
        "    cache = (xhat, std, gamma, groups)",
        "out = gamma * xhat + beta\n    cache = (xhat, std, gamma, groups)",
        "broadcast together with shapes", "reshape them to (1, C, 1, 1)"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_with_edits(tmp_path_factory.mktemp("raising"), RAISING.values(),
                             ["01", "02", "03", "04", "07", "08", "09"], RAISING, limits=LIMITS)


@pytest.mark.parametrize("key", sorted(RAISING))
def test_a_raising_mistake_keeps_its_error_and_gets_its_hint(graded, key):
    _, _, _, error, hint = RAISING[key]
    entry = graded[key]
    assert entry["message"].startswith(key.split(".")[1]), entry["message"]
    assert_error_with_hint(entry, error, hint)


# ---------------------------------------------------------------- in process


def _edited(key, *edits):
    from autograder.mistakes._edited import edited

    return edited(key, *edits)


def _verdict(key, func):
    fault = run_spec_test(key, mistaken_student(key, func))
    assert isinstance(fault, StudentError), fault
    return fault


def test_the_same_mistake_written_otherwise_gets_the_same_hint():
    # keepdims dropped from the row sum instead of the row max: the same error, the same cause
    fault = _verdict("linear.softmax_loss_vectorized", _edited(
        "linear.softmax_loss_vectorized",
        ("log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
         "    loss = -log_probs[rows, y].sum() / num_train",
         "log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1))\n"
         "    loss = -log_probs[rows, y].sum() / num_train")))
    assert "broadcast" in fault.message and "keepdims=True" in (fault.hint or "")
    # the operands the other way round: NumPy names the shapes in the other order
    fault = _verdict("losses.svm_loss", _edited(
        "losses.svm_loss", ("margins = xp.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)",
                            "margins = xp.maximum(0.0, 1.0 - scores[rows, y] + scores)")))
    assert "(6,) (6,4)" in fault.message
    assert "make it a column" in (fault.hint or "")


@pytest.mark.parametrize("key,edit", [
    # a broadcasting error between other shapes: a row where a column was meant, not (N,)
    ("linear.svm_loss_vectorized", ("correct = scores[rows, y][:, None]",
                                    "correct = scores[rows, y][None, :]")),
    # a matmul error of other sizes: w @ dout.T where dout @ w.T belongs
    ("layers.affine_forward", ("out = x.reshape(x.shape[0], -1) @ w + b",
                               "out = w @ x.reshape(x.shape[0], -1) + b")),
    # a ValueError of the student's own words
    ("rnn.temporal_softmax_loss", ("dflat *= weight[:, None] / count",
                                   "raise ValueError('operands could not be broadcast')")),
    # an IndexError past another axis
    ("linear.svm_loss_naive", ("correct = scores[y[i]]", "correct = scores[y[i] + num_classes]")),
])
def test_an_error_of_the_same_type_that_no_mistake_explains_gets_no_hint(key, edit):
    fault = _verdict(key, _edited(key, edit))
    assert fault.hint is None, (fault.message, fault.hint)


def test_a_hint_only_when_every_mistake_that_raises_the_error_agrees():
    error = "ValueError: operands could not be broadcast together with shapes (8,4) (8,) "
    same = "ValueError: operands could not be broadcast together with shapes (8,) (8,4) "
    assert raised_hint(error, [("a", same)]) == "a"
    assert raised_hint(error, [("a", same), ("a", error)]) == "a"
    assert raised_hint(error, [("a", same), ("b", error)]) is None
    assert raised_hint(error, [("a", same.replace("(8,)", "(4,)"))]) is None
    assert raised_hint(error, [("a", "TypeError" + same[len("ValueError"):])]) is None
    index = "IndexError: index 4 is out of bounds for axis 0 with size 4"
    assert raised_hint(index, [("a", index.replace("size 4", "size 5"))]) is None
    # a mistake's own lambda called with arguments it does not take says nothing of the student
    misfit = "TypeError: <lambda>() got an unexpected keyword argument 'pad'"
    assert raised_hint(misfit, [("a", misfit)]) is None


def test_a_release_answers_from_the_errors_recorded_with_the_mistakes():
    import numpy as np

    rng = np.random.default_rng(0)
    args = (rng.normal(size=(5, 4)), rng.normal(size=(8, 5)), rng.integers(0, 4, 8), 0.1)
    live = Oracle()
    live.recording = {"outputs": {}, "mistakes": {}}
    target = "linear.svm_loss_vectorized"
    raised = live.raised(target, target, *args)
    assert any("make it a column" in d for d, _ in raised)
    assert all(d not in {m for m, _ in live.mistakes(target, target, *args)} for d, _ in raised)
    release = Oracle(recorded={"outputs": {}, **live.recording})
    assert release.raised(target, target, *args) == raised
