"""Known mistakes of unit 02, losses: wrong variants with the signature of the function they
imitate. Each is tested to be recognised (tests/test_hints.py)."""

import numpy as np

EPS = 1e-7


def _softmax(scores, y, *, shift=True, one_hot=True, loss_mean=True, grad_mean=True, axis=1,
             batch_lse=False):
    """``axis=0``: the probabilities normalised over the examples (each column sums to 1);
    ``batch_lse``: the loss's log-sum-exp over the whole batch (no axis), the gradient right."""
    N = scores.shape[0]
    rows = np.arange(N)
    if shift:
        scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    probs = exp / exp.sum(axis=axis, keepdims=True)
    loss = -np.log(probs[rows, y]).sum() / (N if loss_mean else 1)
    if batch_lse:
        loss = -(scores[rows, y] - np.log(exp.sum())).sum() / N
    d = probs.copy()
    if one_hot:
        d[rows, y] -= 1.0
    return float(loss), d / (N if grad_mean else 1)


def softmax_mistakes():
    return [
        ("exp overflows for large scores: subtract each row's largest score before exp (the "
         "probabilities do not change)",
         lambda scores, y: _softmax(scores, y, shift=False)),
        ("the gradient of the mean loss is divided by N too: (p - one_hot(y)) / N",
         lambda scores, y: _softmax(scores, y, grad_mean=False)),
        ("the loss and its gradient are means over the N examples: divide both by N",
         lambda scores, y: _softmax(scores, y, loss_mean=False, grad_mean=False)),
        ("the gradient is (p - one_hot(y)) / N: subtract 1 at the correct class",
         lambda scores, y: _softmax(scores, y, one_hot=False)),
        ("the softmax normalises each example's scores over the classes: sum exp over axis=1 "
         "(each row of the probabilities sums to 1), not axis=0",
         lambda scores, y: _softmax(scores, y, axis=0)),
        ("the log of the sum of exp is per example: sum exp over the classes of each row "
         "(axis=1, keepdims=True), not over the whole batch",
         lambda scores, y: _softmax(scores, y, batch_lse=True)),
    ]


# Before "divide both": a student whose loss is right is told of the gradient alone (each of
# the two explains the gradient).
GRAD_OF_MEAN = ("the loss is a mean, so its gradient is divided by {n} too, as you divided the "
                "loss")

SVM_TIES = ("a class whose score equals the correct class's score is still another class: its "
            "margin is 1, not 0. Leave out the correct class by its index (j == y[i]), not by "
            "comparing scores")


def _svm(scores, y, *, margin=1.0, include_correct=False, correct_grad=True, mean=True,
         skip_ties=False, grad_mean=True):
    N = scores.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + margin)
    if skip_ties:
        margins[scores == scores[rows, y][:, None]] = 0.0
    if not include_correct:
        margins[rows, y] = 0.0
    d = (margins > 0).astype(np.float64)
    if include_correct:
        d[rows, y] = 0.0
    if correct_grad:
        d[rows, y] -= d.sum(axis=1)
    scale = N if mean else 1
    return float(margins.sum() / scale), d / (scale if grad_mean else 1)


def svm_mistakes():
    return [
        (SVM_TIES, lambda scores, y: _svm(scores, y, skip_ties=True)),
        ("skip the correct class j == y[i] in the sum of margins (it adds 1 per example)",
         lambda scores, y: _svm(scores, y, include_correct=True)),
        (GRAD_OF_MEAN.format(n="N"), lambda scores, y: _svm(scores, y, grad_mean=False)),
        ("the loss and its gradient are means over the N examples: divide both by N",
         lambda scores, y: _svm(scores, y, mean=False)),
        ("each positive margin also subtracts 1/N from the correct class's score gradient "
         "dscores[i, y[i]]",
         lambda scores, y: _svm(scores, y, correct_grad=False)),
        ("the margin is 1, not 0: max(0, s_j - s_y + 1)",
         lambda scores, y: _svm(scores, y, margin=0.0)),
    ]


def _mse(pred, target, *, denominator="size", factor=2.0, sign=1.0, grad_mean=True):
    diff = pred - target
    n = {"size": diff.size, "rows": diff.shape[0], "one": 1}[denominator]
    return float((diff * diff).sum() / n), sign * factor * diff / (n if grad_mean else 1)


def mse_mistakes():
    return [
        (GRAD_OF_MEAN.format(n="K = pred.size"),
         lambda pred, target: _mse(pred, target, grad_mean=False)),
        ("the loss and its gradient are means over all elements: divide both by K = pred.size",
         lambda pred, target: _mse(pred, target, denominator="one")),
        ("the mean is over all elements (pred.size), not only over the N rows",
         lambda pred, target: _mse(pred, target, denominator="rows")),
        ("the derivative of (pred - target)**2 is 2 * (pred - target): the factor 2 is missing",
         lambda pred, target: _mse(pred, target, factor=1.0)),
        ("the gradient with respect to pred is 2 * (pred - target) / K; (target - pred) has the "
         "wrong sign",
         lambda pred, target: _mse(pred, target, sign=-1.0)),
    ]


def _bce(prob, target, *, clip=True, clip_grad=True, denominator="size",
         target_term_only=False, grad_mean=True, eps=EPS, exact_only=False):
    """``clip_grad=False``: the loss clipped, the gradient from the unclipped prob. ``eps``:
    the clipping, where another than the docstring's 1e-7 is a mistake. ``exact_only``: only
    the probabilities of exactly 0 and 1 replaced by eps and 1 - eps (1e-9 left as it is)."""
    if exact_only:
        p = np.where(prob == 0, eps, np.where(prob == 1, 1 - eps, prob))
    else:
        p = np.clip(prob, eps, 1 - eps) if clip else prob
    n = {"size": prob.size, "rows": prob.shape[0], "one": 1}[denominator]
    loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / n
    if not clip_grad:
        p = prob
    if target_term_only:
        d = -target / p / n
    else:
        d = (p - target) / (p * (1 - p)) / n
    return float(loss), d if grad_mean else d * n


def bce_mistakes():
    # The unclipped gradient comes first: its output matches the unclipped loss's gradient too,
    # and for a student whose loss is clipped it is the better description.
    return [
        ("the gradient must use the clipped p too: (prob - target) / (prob * (1 - prob)) is inf "
         "or NaN where prob is 0 or 1; use p = clip(prob, eps, 1 - eps) in the gradient (or "
         "give 0 where the clip is active)",
         lambda prob, target: _bce(prob, target, clip_grad=False)),
        # before the unclipped loss: where no probability is exactly 0 or 1 the two agree
        ("clip every probability to [eps, 1 - eps], as the docstring's p = clip(prob, eps, "
         "1 - eps) does: a probability of 1e-9 (below eps) becomes eps too, not only the "
         "probabilities of exactly 0 and 1",
         lambda prob, target: _bce(prob, target, exact_only=True)),
        ("log(0) is -inf: clip the probabilities to [eps, 1 - eps] with eps = 1e-7 before the "
         "logarithms",
         lambda prob, target: _bce(prob, target, clip=False)),
        (GRAD_OF_MEAN.format(n="K = prob.size"),
         lambda prob, target: _bce(prob, target, grad_mean=False)),
        ("the loss and its gradient are means over all elements: divide by prob.size",
         lambda prob, target: _bce(prob, target, denominator="one")),
        ("the mean is over all elements (prob.size), not only over the N rows",
         lambda prob, target: _bce(prob, target, denominator="rows")),
        ("the gradient has two terms, (-target / p + (1 - target) / (1 - p)) / K: the second, "
         "(1 - target) / (1 - p), is missing",
         lambda prob, target: _bce(prob, target, target_term_only=True)),
    ] + [
        # Another clipping than the docstring's (1e-15 is scikit-learn's log_loss's): only the
        # probabilities of exactly 0 and 1 tell it apart, where the loss is about -log(eps).
        (BCE_OTHER_EPS.format(eps=eps), lambda prob, target, eps=eps: _bce(prob, target, eps=eps))
        for eps in (1e-8, 1e-10, 1e-12, 1e-15, 1e-6)
    ]


BCE_OTHER_EPS = ("clip with eps = BCE_EPS = 1e-7, as the docstring says, not {eps:g}: at a "
                 "probability of exactly 0 or 1 the clipped loss is about -log(eps), so it "
                 "depends on the eps chosen")


def _bce_logits(logits, target, *, naive=False, denominator="size", sign=1.0,
                grad_mean=True, no_abs=False):
    """``no_abs``: x - x * target + log(1 + exp(-x)), exact but exp(-x) overflows for x << 0."""
    n = {"size": logits.size, "rows": logits.shape[0], "one": 1}[denominator]
    p = 1.0 / (1.0 + np.exp(-logits))
    if naive:
        loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / n
    elif no_abs:
        with np.errstate(over="ignore"):
            loss = (logits - logits * target + np.log1p(np.exp(-logits))).sum() / n
    else:
        loss = (np.maximum(logits, 0) - logits * target
                + np.log1p(np.exp(-np.abs(logits)))).sum() / n
    return float(loss), sign * (p - target) / (n if grad_mean else 1)


def bce_logits_mistakes():
    return [
        ("computing p = sigmoid(x) first and then log(p), log(1 - p) gives log(0) for large "
         "|x|: use max(x, 0) - x * target + log(1 + exp(-|x|))",
         lambda logits, target: _bce_logits(logits, target, naive=True)),
        (GRAD_OF_MEAN.format(n="K = logits.size"),
         lambda logits, target: _bce_logits(logits, target, grad_mean=False)),
        ("the loss and its gradient are means over all elements: divide by logits.size",
         lambda logits, target: _bce_logits(logits, target, denominator="one")),
        ("the mean is over all elements (logits.size), not only over the N rows",
         lambda logits, target: _bce_logits(logits, target, denominator="rows")),
        ("the gradient is (sigmoid(x) - target) / K; (target - sigmoid(x)) has the wrong sign",
         lambda logits, target: _bce_logits(logits, target, sign=-1.0)),
        ("x - x * target + log(1 + exp(-x)) is exact but exp(-x) overflows for large negative "
         "x (exp(800) is inf): write it as max(x, 0) - x * target + log(1 + exp(-|x|))",
         lambda logits, target: _bce_logits(logits, target, no_abs=True)),
    ]


MISTAKES = {
    "losses.softmax_loss": softmax_mistakes(),
    "losses.svm_loss": svm_mistakes(),
    "losses.mse_loss": mse_mistakes(),
    "losses.bce_loss": bce_mistakes(),
    "losses.bce_with_logits_loss": bce_logits_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "losses.softmax_loss": [
        ("take each row's max and each row's sum with keepdims=True (shape (N, 1), not (N,)), "
         "so that they are subtracted from (or divide) the scores of their own row",
         edited("losses.softmax_loss", ("shifted = scores - scores.max(axis=1, keepdims=True)",
                                        "shifted = scores - scores.max(axis=1)"))),
    ],
    "losses.svm_loss": [
        ("scores[rows, y] has shape (N,): make it a column, scores[rows, y][:, None], so that "
         "each row's correct score is subtracted from every score of that row",
         edited("losses.svm_loss", ("scores - scores[rows, y][:, None] + 1.0",
                                    "scores - scores[rows, y] + 1.0"))),
        ("dscores[rows, y] selects one entry per row, shape (N,): assign it "
         "-dscores.sum(axis=1), without keepdims=True, which gives (N, 1)",
         edited("losses.svm_loss", ("dscores[rows, y] = -dscores.sum(axis=1)",
                                    "dscores[rows, y] = -dscores.sum(axis=1, keepdims=True)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries
