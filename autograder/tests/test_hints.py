"""Every known mistake of every graded function is recognised and named in the verdict.

For each registered mistake, a fake student whose function is replaced by the mistaken variant is
graded by that function's real test: it must fail, and the hint must be that mistake's description.
The reference itself must pass every test.
"""

import numpy as np
import pytest

from autograder.oracle import Oracle
from autograder.spec import Trial
from autograder.testing import FakeStudent, mistaken_student, run_spec_test
from autograder.units import available_units, specs_of

KEYS = [key for unit in available_units() for spec in specs_of(unit) for key in spec.tests]
MISTAKES = [(key, description, func)
            for key in KEYS for description, func in Oracle().known_mistakes(key)]


@pytest.mark.parametrize("key", KEYS)
def test_reference_passes(key):
    assert run_spec_test(key, FakeStudent()) is None


@pytest.mark.parametrize("key,description,func", MISTAKES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(MISTAKES)])
def test_mistake_is_recognised(key, description, func):
    failure = run_spec_test(key, mistaken_student(key, func))
    assert failure is not None, f"{key}: the mistake '{description}' passed the tests"
    assert failure.hint == description, (
        f"{key}: expected the hint '{description}', got '{failure.hint}' "
        f"(message: {failure.message})")


def test_every_backward_and_loss_has_three_mistakes():
    oracle = Oracle()
    names = ("loss", "backward")
    for key in KEYS:
        if any(n in key for n in names):
            assert len(oracle.known_mistakes(key)) >= 3, f"{key} has fewer than 3 known mistakes"


# ------------------------------------------------------------------ matching on the wrong part

def _svm_counting_the_correct_class(W, X, y, reg):
    """An SVM whose loss counts the correct class's margin (+1 per example) and whose gradient
    is wrong in another way: the correct class's column gets -(number of positive margins,
    itself included) * x_i, one x_i too many."""
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)  # j == y[i] included
    coeff = (margins > 0).astype(float)
    coeff[rows, y] = -coeff.sum(axis=1)
    loss = margins.sum() / N + reg * np.sum(W * W)
    return float(loss), X.T @ coeff / N + 2 * reg * W


def test_a_mistake_whose_loss_matches_gets_its_hint_when_the_gradient_differs():
    from autograder.mistakes.linear import svm_mistakes

    key = "linear.svm_loss_vectorized"
    failure = run_spec_test(key, mistaken_student(key, _svm_counting_the_correct_class))
    assert failure is not None and "dW is wrong" not in failure.message
    assert "loss is" in failure.message  # the first wrong part is the loss
    counted = [d for d, _ in svm_mistakes() if "include the correct class" in d]
    assert failure.hint == counted[0]


def test_partial_matching_prefers_the_mistake_that_explains_more():
    from autograder.spec import _explained_parts

    expected = (1.0, np.array([1.0, 2.0]), np.array([3.0]))
    got = (2.0, np.array([5.0, 5.0]), np.array([3.0]))
    loss_only = (2.0, np.array([1.0, 2.0]), np.array([3.0]))
    both = (2.0, np.array([5.0, 5.0]), np.array([0.0]))
    unrelated = (1.0, np.array([7.0, 7.0]), np.array([3.0]))
    names = ("loss", "a", "b")
    assert _explained_parts(got, loss_only, expected, names, 1e-6) == (1, 1)
    assert _explained_parts(got, both, expected, names, 1e-6) == (2, 0)
    assert _explained_parts(got, unrelated, expected, names, 1e-6) == (0, 2)
    # a right part of the student's output never counts, whatever the mistake does there
    assert _explained_parts(expected, both, expected, names, 1e-6) == (0, 0)
    hint = Trial._hint(got, expected, names, 1e-6, lambda: [
        ("unrelated", unrelated), ("loss only", loss_only), ("both", both)])
    assert hint == "both"
    hint = Trial._hint(got, expected, names, 1e-6, lambda: [("unrelated", unrelated)])
    assert hint is None
    # dicts are matched key by key
    assert _explained_parts({"W": 1.0, "b": 2.0}, {"W": 1.0, "b": 9.0}, {"W": 0.0, "b": 2.0},
                            None, 1e-6) == (1, 0)


def test_the_cnn_mistake_network_is_right_but_for_its_mistake():
    """The known-mistake ThreeLayerConvNet, with its mistake switched off, passes the test: so
    the hint it gives is about the mistake alone."""
    from autograder.mistakes.cnn import three_layer

    key = "cnn.ThreeLayerConvNet"
    assert run_spec_test(key, mistaken_student(key, three_layer())) is None
