"""Tests of unit 02, ``coursework/losses.py``: classification, regression and binary losses.

Every loss returns (loss, dinput). Stability cases shift the inputs (scores around +1000, logits
around +-800) rather than spreading them, so every textbook-correct stable implementation passes.
"""

import numpy as np

from ..spec import Case, Spec

SPEC = Spec("losses")
BCE_EPS = 1e-7  # the clipping of bce_loss, as its docstring states


# ---------------------------------------------------------------- inputs

def class_inputs(seed, N, C, *, offset=0.0, scale=2.0, labels=None):
    """scores (N, C) around ``offset`` and labels y (N,)."""
    rng = np.random.default_rng(seed)
    scores = scale * rng.standard_normal((N, C)) + offset
    y = rng.integers(0, C, N) if labels is None else np.asarray(labels)
    return scores, y.astype(np.int64)


def class_cases(t):
    cases = [
        Case("N=6, C=4", class_inputs(1, 6, 4)),
        Case("N=1, C=2", class_inputs(2, 1, 2)),
        Case("every label the same class", class_inputs(3, 5, 3, labels=[2] * 5)),
        Case("scores around +1000", class_inputs(4, 7, 5, offset=1000.0)),
        # Rows at very different offsets: subtracting each row's maximum handles them exactly;
        # subtracting the maximum of the whole array underflows every row but the highest.
        Case("rows at very different offsets ([[1000, 999], [0, 1]])",
             (np.array([[1000.0, 999.0], [0.0, 1.0]]), np.array([0, 1], dtype=np.int64))),
        Case("N=4, C=3, rows around +1000, 0, -700 and +350",
             class_inputs(5, 4, 3, offset=np.array([[1000.0], [0.0], [-700.0], [350.0]]))),
        # Another class's score equal to the correct class's: it is still another class (its
        # hinge margin is 1). No difference of exactly -1: no margin sits on the hinge's kink.
        Case("scores tied with the correct class's (all equal in the first row)",
             (np.array([[2.0, 2.0, 2.0], [0.5, 3.0, 3.0], [1.25, -0.5, 1.25]]),
              np.array([0, 1, 2], dtype=np.int64))),
    ]
    return cases + t.hidden("losses", "class_cases", class_inputs)


def regression_inputs(seed, shape, *, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)


def regression_cases(t):
    cases = [
        Case("pred (7,)", regression_inputs(11, (7,))),
        Case("pred (4, 3): the mean is over all 12 elements", regression_inputs(12, (4, 3))),
        Case("N=1, pred (1, 5)", regression_inputs(13, (1, 5))),
        Case("pred (2, 3, 2)", regression_inputs(14, (2, 3, 2), scale=5.0)),
    ]
    return cases + t.hidden("losses", "regression_cases", regression_inputs)


def binary_inputs(seed, shape, *, soft=False, low=0.02, high=0.98, exact=()):
    """prob in [low, high] (or exactly 0 / 1 at the flat positions ``exact``), target 0/1 or
    soft."""
    rng = np.random.default_rng(seed)
    prob = rng.uniform(low, high, shape)
    target = rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(np.float64)
    flat = prob.reshape(-1)
    for position, value in exact:
        flat[position] = value
    return prob, target


def binary_cases(t):
    cases = [
        Case("prob (5, 3), labels 0/1", binary_inputs(21, (5, 3))),
        Case("prob (6,), soft labels", binary_inputs(22, (6,), soft=True)),
        Case("N=1, prob (1, 1)", binary_inputs(23, (1, 1))),
        Case("probabilities of exactly 0 and 1 (clipped)",
             binary_inputs(24, (3, 4), exact=[(0, 0.0), (1, 1.0), (5, 0.0), (10, 1.0)])),
        # the docstring clips every probability to [eps, 1 - eps], not only 0 and 1
        Case("probabilities 1e-9, 5e-8, 1 - 1e-9 and 1 - 5e-8, beyond eps = 1e-7 (clipped)",
             binary_inputs(25, (2, 4), exact=[(0, 1e-9), (2, 1 - 1e-9), (5, 5e-8),
                                              (7, 1 - 5e-8)])),
    ]
    return cases + t.hidden("losses", "binary_cases", binary_inputs)


def logit_inputs(seed, shape, *, scale=2.0, offset=0.0, soft=False, spread_sign=False):
    """logits and targets; with ``spread_sign`` every other logit is shifted by -offset."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal(shape)
    if spread_sign:
        sign = np.where(np.arange(logits.size).reshape(shape) % 2 == 0, 1.0, -1.0)
        logits = logits + sign * offset
    else:
        logits = logits + offset
    target = rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(np.float64)
    return logits, target


def logit_cases(t):
    cases = [
        Case("logits (5, 3), labels 0/1", logit_inputs(31, (5, 3))),
        Case("logits (6,), soft labels", logit_inputs(32, (6,), soft=True)),
        Case("N=1, logits (1, 2)", logit_inputs(33, (1, 2))),
        Case("logits around +800 and -800", logit_inputs(34, (4, 4), offset=800.0,
                                                         spread_sign=True)),
    ]
    return cases + t.hidden("losses", "logit_cases", logit_inputs)


# ---------------------------------------------------------------- tests

def _loss_test(t, name, cases, argnames):
    target = f"losses.{name}"
    for case in cases:
        t.check(target, *case.args, label=case.label, names=("loss", f"d{argnames[0]}"),
                argnames=argnames, float64_loss=True)


@SPEC.test("softmax_loss", points=2)
def softmax_loss(t):
    """Mean cross-entropy and its gradient, stable for scores in the thousands."""
    _loss_test(t, "softmax_loss", class_cases(t), ("scores", "y"))


@SPEC.test("svm_loss", points=2)
def svm_loss(t):
    """Mean multiclass hinge loss (margin 1) and its gradient."""
    _loss_test(t, "svm_loss", class_cases(t), ("scores", "y"))


@SPEC.test("mse_loss", points=1)
def mse_loss(t):
    """Mean squared error over all elements and its gradient."""
    _loss_test(t, "mse_loss", regression_cases(t), ("pred", "target"))


def _zero_where_clipped(prob, got, expected):
    """The student's (loss, dprob) (a tuple, or a list as compare.py accepts for one) with each
    entry of dprob that is 0 where clipping is active replaced by the reference's: there the
    docstring accepts the formula or 0 (the derivative of the clip), and nothing else (an
    unclipped formula gives inf and NaN at 0 and 1)."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(expected, tuple)):
        return got  # compared as it is, so that the verdict says what is wrong
    dprob, reference = got[1], expected[1]
    if not (isinstance(dprob, np.ndarray) and dprob.shape == prob.shape
            and np.issubdtype(dprob.dtype, np.floating)):
        return got
    accepted = ((prob < BCE_EPS) | (prob > 1 - BCE_EPS)) & (dprob == 0)
    if not accepted.any():
        return got
    dprob = dprob.copy()
    dprob[accepted] = reference[accepted]
    return got[0], dprob


@SPEC.test("bce_loss", points=2)
def bce_loss(t):
    """Mean binary cross-entropy of clipped probabilities and its gradient (finite at prob 0
    and 1)."""
    target_name = "losses.bce_loss"
    for case in binary_cases(t):
        prob, target = case.args
        with t.explaining_errors(target_name, target_name, prob, target):
            got, modified = t.student.call_full(target_name, prob, target)
        t.no_input_modified(target_name, modified, ("prob", "target"), case.label)
        expected = t.ref.run(target_name, prob, target)
        got = _zero_where_clipped(prob, got, expected)
        t.compare(target_name, got, expected, names=("loss", "dprob"), label=case.label,
                  mistakes=lambda: t.ref.mistakes(target_name, target_name, prob, target),
                  float64_loss=True)


@SPEC.test("bce_with_logits_loss", points=2)
def bce_with_logits_loss(t):
    """Mean binary cross-entropy of logits and its gradient, stable for logits of any size."""
    _loss_test(t, "bce_with_logits_loss", logit_cases(t), ("logits", "target"))
