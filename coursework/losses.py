"""Unit 02: loss functions, each returning the loss and its gradient with respect to its input.

Every function returns ``(loss, dinput)``: ``loss`` is a float, the mean of the loss over
the examples (or over all elements, as each docstring says), and ``dinput`` is the gradient of that
mean with respect to the first argument, in its shape. It is the ``dout`` that starts the backward
pass of a network.

Classification losses take float raw scores (N, C) and integer labels y (N,); regression and binary
losses take two arrays of the same shape. Inputs are never modified in place.
"""

from .backend import xp_of
from .checks import check_array, check_labels, check_not_empty

BCE_EPS = 1e-7  # bce_loss clips probabilities to [BCE_EPS, 1 - BCE_EPS]


def _check_scores_labels(name, scores, y):
    check_array(name, "scores", scores)
    check_array(name, "y", y)
    if scores.ndim != 2 or y.ndim != 1 or y.shape[0] != scores.shape[0]:
        raise ValueError(f"{name}: expected scores (N, C) and y (N,), got "
                         f"scores{tuple(scores.shape)} and y{tuple(y.shape)}")
    if scores.dtype.kind != "f":
        raise TypeError(f"{name}: scores must be a float array, got dtype {scores.dtype} "
                        "(scores.astype(float) converts it)")
    check_labels(name, y, scores.shape[1])
    check_not_empty(name, "y", y)


def _check_same_shape(name, a, b, names):
    check_array(name, names[0], a)
    check_array(name, names[1], b)
    if a.shape != b.shape:
        raise ValueError(f"{name}: {names[0]}{tuple(a.shape)} and {names[1]}{tuple(b.shape)} "
                         "must have the same shape")
    check_not_empty(name, names[0], a)


def softmax_loss(scores, y):
    """Softmax (cross-entropy) loss, the mean over the batch, and its gradient.

    With p[i, j] = exp(scores[i, j]) / sum_k exp(scores[i, k]) the probability that example i is
    of class j:
        L = (1/N) * sum_i -log p[i, y[i]]
        dL/dscores = (p - one_hot(y)) / N
    Subtract the largest score of each row before exponentiating: p does not change, and exp
    never overflows, even for scores in the thousands.

    Inputs:
        scores: (N, C) float array of raw class scores (integer scores are refused).
        y: (N,) integer labels in [0, C).
    Returns:
        loss: float.
        dscores: (N, C) gradient of the loss with respect to the scores.
    """
    _check_scores_labels("softmax_loss", scores, y)
    raise NotImplementedError("softmax_loss: not implemented yet; write it in coursework/losses.py")
    return float(loss), dscores


def svm_loss(scores, y):
    """Multiclass SVM (hinge) loss with margin 1, the mean over the batch, and its gradient.

        L = (1/N) * sum_i sum_{j != y[i]} max(0, scores[i, j] - scores[i, y[i]] + 1)
    Each positive margin adds 1/N to dscores[i, j] and subtracts 1/N from dscores[i, y[i]].

    Inputs:
        scores: (N, C) float array of raw class scores (integer scores are refused).
        y: (N,) integer labels in [0, C).
    Returns:
        loss: float.
        dscores: (N, C) gradient of the loss with respect to the scores.
    """
    _check_scores_labels("svm_loss", scores, y)
    raise NotImplementedError("svm_loss: not implemented yet; write it in coursework/losses.py")
    return float(loss), dscores


def mse_loss(pred, target):
    """Mean squared error over all elements, and its gradient.

        L = (1/K) * sum (pred - target)**2,   K = pred.size (every element, not only N)
        dL/dpred = 2 * (pred - target) / K

    Inputs:
        pred: predictions, any shape, e.g. (N,) or (N, D).
        target: the true values, same shape as pred.
    Returns:
        loss: float.
        dpred: gradient of the loss with respect to pred, same shape as pred.
    """
    _check_same_shape("mse_loss", pred, target, ("pred", "target"))
    raise NotImplementedError("mse_loss: not implemented yet; write it in coursework/losses.py")
    return float(loss), dpred


def bce_loss(prob, target):
    """Binary cross-entropy of probabilities, the mean over all elements, and its gradient.

    First clip the probabilities away from 0 and 1, so that the logarithms stay finite:
        p = clip(prob, eps, 1 - eps),   eps = BCE_EPS = 1e-7
        L = -(1/K) * sum (target * log(p) + (1 - target) * log(1 - p)),   K = prob.size
        dL/dprob = (p - target) / (p * (1 - p)) / K
    Where clipping is active (prob below eps or above 1 - eps, as at prob 0 and 1), dprob may be
    either the formula above, computed with the clipped p, or 0 (the derivative of the clip);
    it must be finite there too: (prob - target) / (prob * (1 - prob)) is inf or NaN at 0 and 1.

    Inputs:
        prob: predicted probabilities in [0, 1], any shape.
        target: the true labels, 0 or 1 (or soft labels in [0, 1]), same shape as prob.
    Returns:
        loss: float.
        dprob: gradient of the loss with respect to prob, same shape as prob.
    """
    _check_same_shape("bce_loss", prob, target, ("prob", "target"))
    if prob.size and (float(prob.min()) < 0 or float(prob.max()) > 1):
        raise ValueError(f"bce_loss: prob must lie in [0, 1], got values from "
                         f"{float(prob.min())} to {float(prob.max())}; for raw scores use "
                         "bce_with_logits_loss")
    raise NotImplementedError("bce_loss: not implemented yet; write it in coursework/losses.py")
    return float(loss), dprob


def bce_with_logits_loss(logits, target):
    """Binary cross-entropy of raw scores (logits), the mean over all elements, and its gradient.

    With p = sigmoid(logits), the loss is that of ``bce_loss`` without any clipping:
        L = -(1/K) * sum (target * log(p) + (1 - target) * log(1 - p)),   K = logits.size
        dL/dlogits = (sigmoid(logits) - target) / K
    Written directly in the logits x, the loss of one element is
        max(x, 0) - x * target + log(1 + exp(-|x|)),
    which never overflows and never takes log(0): it is stable for logits of any size (+-800
    included), where computing p first and then log(p) is not.

    Inputs:
        logits: raw scores, any shape.
        target: labels in [0, 1], same shape as logits.
    Returns:
        loss: float.
        dlogits: gradient of the loss with respect to the logits, same shape as logits.
    """
    _check_same_shape("bce_with_logits_loss", logits, target, ("logits", "target"))
    raise NotImplementedError(
        "bce_with_logits_loss: not implemented yet; write it in coursework/losses.py")
    return float(loss), dlogits
