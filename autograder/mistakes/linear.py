"""Known mistakes of unit 01: wrong variants with the signature of the function they imitate.

When a student's output matches one of these where it is wrong, the verdict names the mistake.
Each is tested to be recognised (autograder/tests/test_hints.py).
"""

import numpy as np


def _scores(W, X):
    return X @ W


def svm_parts(W, X, y, *, margin=1.0, include_correct=False, skip_correct_grad=False,
              skip_ties=False, correct_once=False, count_correct=False):
    """Sum (not mean) of hinge losses and their gradient, with switchable mistakes.

    ``correct_once``: x_i subtracted from dW[:, y[i]] once per example with a positive margin,
    not once per positive margin; ``count_correct``: the positive margins counted for the
    correct class's column before its own margin (1) was zeroed, so it gets one x_i too many."""
    N = X.shape[0]
    rows = np.arange(N)
    scores = _scores(W, X)
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + margin)
    if skip_ties:
        margins[scores == scores[rows, y][:, None]] = 0.0
    if not include_correct:
        margins[rows, y] = 0.0
    coeff = (margins > 0).astype(float)
    if include_correct:
        coeff[rows, y] = 0.0  # the correct class's own term has zero gradient
    if correct_once:
        coeff[rows, y] -= coeff.sum(axis=1) > 0
    elif not skip_correct_grad:
        coeff[rows, y] -= coeff.sum(axis=1) + (1.0 if count_correct else 0.0)
    return margins.sum(), X.T @ coeff


def softmax_parts(W, X, y, *, shift=True, one_hot=True, normalise=True, axis=1,
                  all_labels=False):
    """``axis=0``: the probabilities normalised over the examples (each column sums to 1);
    ``all_labels``: probs[:, y] (an N x N block: every row at every example's label) in place
    of probs[arange(N), y], its mean as the loss, and ``d[:, y] -= 1`` (every row, at each
    label that occurs once)."""
    N = X.shape[0]
    rows = np.arange(N)
    scores = _scores(W, X)
    if shift:
        scores = scores - scores.max(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        exp = np.exp(scores)
        probs = exp / exp.sum(axis=axis, keepdims=True)
        loss = -np.log(probs[rows, y] if normalise else exp[rows, y]).sum()
    d = probs.copy()
    if all_labels:
        with np.errstate(all="ignore"):
            loss = -np.log(probs[:, y]).mean() * N  # _combine divides by N
        d[:, y] -= 1.0
    elif one_hot:
        d[rows, y] -= 1.0
    return loss, X.T @ d


def _combine(parts, W, X, reg, *, average=True, reg_factor=2.0, reg_in_loss=True,
             loss_reg_factor=1.0, average_grad=True, average_reg=False):
    """``average_grad=False``: the loss a mean, the data gradient a sum; ``average_reg``: the
    penalty and its gradient divided by N too."""
    loss, dW = parts
    N = X.shape[0] if average else 1
    N_grad = N if average_grad else 1
    N_reg = X.shape[0] if average_reg else 1
    loss = loss / N + (loss_reg_factor * reg * np.sum(W * W) / N_reg if reg_in_loss else 0.0)
    return float(loss), dW / N_grad + reg_factor * reg * W / N_reg


REG_GRAD = ("the loss has the penalty reg * sum(W**2), so dW needs its gradient too: add "
            "2 * reg * W to dW")
HALF_REG = ("this unit's penalty is reg * sum(W**2) in the loss, not 0.5 * reg * sum(W**2) "
            "(unit 02's convention), and its gradient 2 * reg * W, not reg * W")
# Before the sums over the examples: a student whose loss is right gets this hint, not "divide
# both by N" (each explains the gradient alone).
GRAD_SUM = ("the loss is a mean over the examples, so its gradient is too: divide the data part "
            "of dW by N, as you divided the loss (not the 2 * reg * W term)")
REG_AVERAGED = ("the penalty reg * sum(W**2) is added once to the mean data loss, not divided by "
                "N: only the data loss and its gradient are averaged; add reg * sum(W**2) and "
                "2 * reg * W as they are")
SVM_CORRECT_ONCE = ("subtract x_i from the correct class's column dW[:, y[i]] once for every "
                    "positive margin (inside the loop over the classes j), not once per example: "
                    "each margin s_j - s_y + 1 depends on s_y")
SVM_COUNT_CORRECT = ("the correct class's own margin, s_y - s_y + 1 = 1, is positive: zero it "
                     "before you count the positive margins, so that dW[:, y[i]] gets -x_i once "
                     "for each *other* class with a positive margin")
SOFTMAX_ALL_LABELS = ("probs[:, y] is an N x N block (every row at every example's label): pick "
                      "each row's own label with probs[np.arange(N), y], in the loss and where the "
                      "gradient subtracts 1")
SOFTMAX_AXIS = ("the softmax normalises each example's scores over the classes: sum exp over "
                "axis=1 (each row of the probabilities sums to 1), not axis=0")
SOFTMAX_AXIS_BOTH = ("the softmax works on each example's scores, one row of (N, C): take the "
                     "maximum for the shift and the sum of exp over axis=1, with keepdims=True, "
                     "not axis=0 (that normalises each class over the examples)")


def svm_mistakes():
    return [
        (GRAD_SUM, lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg,
                                                 average_grad=False)),
        ("the loss and the gradient are sums over the examples, not means: divide both by N",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg, average=False)),
        (REG_AVERAGED, lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg,
                                                     average_reg=True)),
        ("the gradient of reg * sum(W**2) is 2 * reg * W: the factor 2 is missing",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg, reg_factor=1.0)),
        # after the factor 2 alone: a student whose loss is right gets that hint
        (HALF_REG, lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg, reg_factor=1.0,
                                                 loss_reg_factor=0.5)),
        ("the margins include the correct class j == y[i] (it adds 1 per example): skip it",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, include_correct=True), W, X, reg)),
        ("each positive margin must also subtract x_i from the correct class's column "
         "dW[:, y[i]]",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, skip_correct_grad=True), W, X,
                                           reg)),
        # before the margin 0: with W all zeros every score ties, and the two agree
        ("a class whose score equals the correct class's score is still another class: its "
         "margin is 1, not 0. Skip the correct class by its index (j == y[i]), not by comparing "
         "scores",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, skip_ties=True), W, X, reg)),
        ("the margin (delta) should be 1, not 0",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, margin=0.0), W, X, reg)),
        ("the regularization term reg * sum(W**2) is missing from the loss",
         lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg, reg_in_loss=False)),
        (REG_GRAD, lambda W, X, y, reg: _combine(svm_parts(W, X, y), W, X, reg, reg_factor=0.0)),
        (SVM_CORRECT_ONCE,
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, correct_once=True), W, X, reg)),
        (SVM_COUNT_CORRECT,
         lambda W, X, y, reg: _combine(svm_parts(W, X, y, count_correct=True), W, X, reg)),
    ]


def softmax_mistakes():
    return [
        (GRAD_SUM, lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg,
                                                 average_grad=False)),
        ("the loss and the gradient are sums over the examples, not means: divide both by N",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg, average=False)),
        (REG_AVERAGED, lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg,
                                                     average_reg=True)),
        ("the gradient of reg * sum(W**2) is 2 * reg * W: the factor 2 is missing",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg, reg_factor=1.0)),
        (HALF_REG,
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg, reg_factor=1.0,
                                       loss_reg_factor=0.5)),
        ("exp overflows for large scores: subtract each row's maximum score before exp (the "
         "probabilities do not change)",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, shift=False), W, X, reg)),
        ("the gradient with respect to the scores is p - one_hot(y): subtract 1 at the correct "
         "class",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, one_hot=False), W, X, reg)),
        ("the loss must use the normalised probability exp(s_y) / sum_j exp(s_j), not exp(s_y)",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, normalise=False), W, X, reg)),
        ("the regularization term reg * sum(W**2) is missing from the loss",
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg,
                                           reg_in_loss=False)),
        (REG_GRAD,
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y), W, X, reg, reg_factor=0.0)),
        (SOFTMAX_AXIS,
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, axis=0), W, X, reg)),
        # axis=0 in the max shift too: each column shifted by its own maximum, then normalised
        # over the examples -- the same probabilities as no shift at all, normalised over axis 0
        (SOFTMAX_AXIS_BOTH,
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, shift=False, axis=0), W, X, reg)),
        (SOFTMAX_ALL_LABELS,
         lambda W, X, y, reg: _combine(softmax_parts(W, X, y, all_labels=True), W, X, reg)),
    ]


MISTAKES = {
    "linear.svm_loss_naive": svm_mistakes(),
    "linear.svm_loss_vectorized": svm_mistakes(),
    "linear.softmax_loss_naive": softmax_mistakes(),
    "linear.softmax_loss_vectorized": softmax_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

_ROW_COLUMN = ("scores[rows, y] has shape (N,): make it a column, scores[rows, y][:, None], so "
               "that each row's correct score is subtracted from every score of that row")
_DW_TRANSPOSE = ("dW = X.T @ dscores: X is (N, D) and dscores (N, C), so the product that gives "
                 "dW its shape (D, C) sums over the examples with X.T on the left")

for _key, _entries in {
    "linear.svm_loss_vectorized": [
        (_ROW_COLUMN, edited("linear.svm_loss_vectorized",
                             ("correct = scores[rows, y][:, None]", "correct = scores[rows, y]"))),
        (_DW_TRANSPOSE, edited("linear.svm_loss_vectorized",
                               ("dW = X.T @ coeff / num_train", "dW = X @ coeff / num_train"))),
        ("coeff[rows, y] selects one entry per row, shape (N,): assign it -coeff.sum(axis=1), "
         "without keepdims=True, which gives (N, 1)",
         edited("linear.svm_loss_vectorized", ("coeff[rows, y] = -coeff.sum(axis=1)",
                                               "coeff[rows, y] = -coeff.sum(axis=1, "
                                               "keepdims=True)"))),
    ],
    "linear.softmax_loss_vectorized": [
        ("take each row's max and each row's sum with keepdims=True (shape (N, 1), not (N,)), "
         "so that they are subtracted from (or divide) the scores of their own row",
         edited("linear.softmax_loss_vectorized",
                ("scores - scores.max(axis=1, keepdims=True)", "scores - scores.max(axis=1)"))),
        (_DW_TRANSPOSE, edited("linear.softmax_loss_vectorized",
                               ("dW = X.T @ dscores / num_train", "dW = X @ dscores / num_train"))),
    ],
    "linear.svm_loss_naive": [
        ("the classes are numbered 0 to C - 1: loop over range(num_classes), not "
         "range(1, num_classes + 1)",
         edited("linear.svm_loss_naive", ("for j in range(num_classes):\n            if j == y[i]:",
                                          "for j in range(1, num_classes + 1):\n"
                                          "            if j == y[i]:"))),
    ],
    "linear.softmax_loss_naive": [
        ("the classes are numbered 0 to C - 1: loop over range(num_classes), not "
         "range(1, num_classes + 1)",
         edited("linear.softmax_loss_naive", ("for j in range(num_classes):\n            p_j",
                                              "for j in range(1, num_classes + 1):\n"
                                              "            p_j"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- slips right on nice inputs
# The reference with one edit that is right on nice inputs only (scores of every example in one
# range, square maps); on the grader's inputs each gives a wrong answer (or raises)
# that had no hint.

for _key, _entries in {
    "linear.softmax_loss_naive": [
        ("subtract each example's own largest score (scores.max() of X[i] @ W), not one maximum "
         "over the whole batch: the scores of an example far below it all underflow to exp = 0, "
         "and their sum is 0",
         edited("linear.softmax_loss_naive",
                ("        scores = scores - scores.max()  # numerical stability",
                 "        scores = scores - float((X @ W).max())  # numerical stability"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries
