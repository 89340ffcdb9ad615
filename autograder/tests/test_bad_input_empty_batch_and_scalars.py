"""Bad input: an empty batch, integer scores, and a metric that is a 0-d array.

Each was left alone once and is now met by a provided check (outside the solution
markers, so a student's stub raises it too): a loss that is a mean over examples refuses an
empty batch by name instead of returning nan with a RuntimeWarning (or ZeroDivisionError in the
naive loops); the classification losses of unit 02 refuse integer scores (svm_loss failed with
NumPy's "Cannot cast ufunc 'divide' output"); EarlyStopping and ReduceOnPlateau take a metric
that is one number in an array or tensor with no dimensions (CuPy's mean, a PyTorch loss), as
they take a float, and refuse anything else by name.
"""

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()
EMPTY = "is empty, and a mean over no examples is undefined"


# ---------------------------------------------------------------- an empty batch

EMPTY_CALLS = [
    ("svm_loss_naive", "y(0,)",
     lambda: cw.linear.svm_loss_naive(np.ones((3, 4)), np.ones((0, 3)), np.zeros(0, int), 0.1)),
    ("svm_loss_vectorized", "y(0,)",
     lambda: cw.linear.svm_loss_vectorized(np.ones((3, 4)), np.ones((0, 3)), np.zeros(0, int),
                                           0.1)),
    ("softmax_loss_naive", "y(0,)",
     lambda: cw.linear.softmax_loss_naive(np.ones((3, 4)), np.ones((0, 3)), np.zeros(0, int), 0)),
    ("softmax_loss_vectorized", "y(0,)",
     lambda: cw.linear.softmax_loss_vectorized(np.ones((3, 4)), np.ones((0, 3)),
                                               np.zeros(0, int), 0.0)),
    ("softmax_loss", "y(0,)", lambda: cw.losses.softmax_loss(np.ones((0, 4)), np.zeros(0, int))),
    ("svm_loss", "y(0,)", lambda: cw.losses.svm_loss(np.ones((0, 4)), np.zeros(0, int))),
    ("mse_loss", "pred(0, 2)", lambda: cw.losses.mse_loss(np.ones((0, 2)), np.ones((0, 2)))),
    ("bce_loss", "prob(0,)", lambda: cw.losses.bce_loss(np.ones(0) / 2, np.ones(0))),
    ("bce_with_logits_loss", "logits(0, 3)",
     lambda: cw.losses.bce_with_logits_loss(np.ones((0, 3)), np.ones((0, 3)))),
    ("focal_loss", "target(0, 2, 2)",
     lambda: cw.segmentation.focal_loss(np.ones((0, 3, 2, 2)), np.zeros((0, 2, 2), int))),
    ("focal_loss", "target(2, 0, 3)",
     lambda: cw.segmentation.focal_loss(np.ones((2, 3, 0, 3)), np.zeros((2, 0, 3), int))),
    ("yolo_loss", "pred(0, 2, 2, 1, 7)",
     lambda: cw.detection.yolo_loss(np.full((0, 2, 2, 1, 7), 0.5), np.zeros((0, 2, 2, 1, 7)))),
]


@pytest.mark.parametrize("name, shown, call", EMPTY_CALLS,
                         ids=[f"{c[0]}-{c[1]}" for c in EMPTY_CALLS])
def test_a_mean_loss_of_an_empty_batch_says_so(name, shown, call, recwarn):
    with pytest.raises(ValueError, match=f"^{name}: " + shown.replace("(", r"\(")
                       .replace(")", r"\)") + " " + EMPTY):
        call()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_vae_loss_of_an_empty_batch_says_so():
    torch = pytest.importorskip("torch")
    z = torch.zeros(0, 4)
    with pytest.raises(ValueError, match=r"vae_loss: the batch is empty \(x\(0, 4\)\)"):
        cw.generative.vae_loss(z, z, torch.zeros(0, 2), torch.zeros(0, 2))


def test_losses_whose_empty_case_is_defined_keep_it():
    """The docstrings define these: no masked position gives 0; Dice is smoothed."""
    loss, dscores = cw.rnn.temporal_softmax_loss(np.ones((2, 3, 4)), np.zeros((2, 3), int),
                                                 np.zeros((2, 3), bool))
    assert loss == 0 and not dscores.any()
    loss, _ = cw.segmentation.pixel_cross_entropy(np.ones((1, 3, 2, 2)),
                                                  np.full((1, 2, 2), 9), ignore_index=9)
    assert loss == 0.0


def test_one_example_is_not_empty():
    loss, _ = cw.losses.softmax_loss(np.array([[0.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(np.log(2))
    loss, _ = cw.linear.svm_loss_naive(np.zeros((2, 3)), np.ones((1, 2)), np.array([2]), 0.0)
    assert loss == pytest.approx(2.0)  # two wrong classes, each with margin 1


# ---------------------------------------------------------------- integer scores

@pytest.mark.parametrize("fn", ["softmax_loss", "svm_loss"])
def test_integer_scores_get_a_type_error_that_says_how_to_convert(fn):
    with pytest.raises(TypeError, match=fn + r": scores must be a float array, got dtype int64 "
                                             r"\(scores.astype\(float\) converts it\)"):
        getattr(cw.losses, fn)(np.array([[1, 2, 3]], dtype=np.int64), np.array([0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_scores_of_either_width_pass(dtype):
    loss, dscores = cw.losses.svm_loss(np.array([[1, 2, 3]], dtype=dtype), np.array([0]))
    assert loss == pytest.approx(3 + 2)  # margins 2 and 3
    assert dscores.dtype == dtype


# ---------------------------------------------------------------- a metric with no dimensions

def _zero_d_values():
    values = [np.array(0.5), np.float32(0.5), np.array(0.5, dtype=np.float32),
              np.array(1, dtype=np.int64)]
    try:
        import torch
    except ImportError:
        return values
    return values + [torch.tensor(0.5), torch.tensor(0.5, requires_grad=True) * 1]


@pytest.mark.parametrize("value", _zero_d_values(), ids=lambda v: f"{type(v).__name__}")
def test_early_stopping_takes_one_number_in_any_container(value):
    as_float = cw.regularization.EarlyStopping(patience=2, mode="max")
    as_given = cw.regularization.EarlyStopping(patience=2, mode="max")
    number = float(value.detach() if hasattr(value, "detach") else value)
    for step in (0.2, None, 0.1, 0.1):  # None: the value under test
        expected = as_float.step(number if step is None else step)
        given = as_given.step(value if step is None else step)
        assert given == expected
    assert type(as_given.best) is float and as_given.best == number
    assert as_given.best_step == 1 and as_given.should_stop


@pytest.mark.parametrize("value", _zero_d_values(), ids=lambda v: f"{type(v).__name__}")
def test_reduce_on_plateau_takes_one_number_in_any_container(value):
    scheduler = cw.optim.ReduceOnPlateau(lr0=1.0, factor=0.5, patience=0, mode="min")
    assert scheduler.step(value) == 1.0
    number = float(value.detach() if hasattr(value, "detach") else value)
    assert type(scheduler.best) is float and scheduler.best == number
    assert scheduler.step(value) == 0.5  # not better than itself: one bad call over patience 0


BAD_METRICS = [
    (True, "True"), ("0.5", "'0.5'"), (None, "None"), ([0.5], r"\[0.5\]"),
    (np.array([0.5, 0.6]), r"an array of shape \(2,\) of dtype float64"),
    (np.array([0.5]), r"an array of shape \(1,\) of dtype float64"),
    (np.array(True), r"an array of shape \(\) of dtype bool"),
    (np.array(1 + 2j), r"an array of shape \(\) of dtype complex128"),
]


@pytest.mark.parametrize("value, shown", BAD_METRICS, ids=[b[1] for b in BAD_METRICS])
def test_anything_but_one_real_number_is_refused_by_name(value, shown):
    with pytest.raises(TypeError, match=r"EarlyStopping.step: value must be a number, got "
                                        + shown):
        cw.regularization.EarlyStopping(patience=1).step(value)
    with pytest.raises(TypeError, match=r"ReduceOnPlateau.step: metric must be a number, got "
                                        + shown):
        cw.optim.ReduceOnPlateau(lr0=0.1).step(value)


def test_a_nan_metric_is_named_as_such():
    with pytest.raises(ValueError, match="ReduceOnPlateau.step: metric is nan"):
        cw.optim.ReduceOnPlateau(lr0=0.1).step(np.array(np.nan))


def test_the_stubs_raise_the_same_checks():
    """The checks are outside the solution markers: an unfinished stub raises them first (the
    schedulers' constructors are the student's, so their stubs stop before step)."""
    from coursework import losses

    with pytest.raises(ValueError, match="softmax_loss: y" + r"\(0,\) " + EMPTY):
        losses.softmax_loss(np.ones((0, 4)), np.zeros(0, int))
    with pytest.raises(TypeError, match="svm_loss: scores must be a float array"):
        losses.svm_loss(np.array([[1, 2]]), np.array([0]))
