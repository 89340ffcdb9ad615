"""Tests of unit 01, ``coursework/linear.py``: SVM and softmax losses, SGD training."""

import numpy as np

from ..compare import Failed, as_array, describe
from ..spec import Case, Spec
from ..wire import Seed

SPEC = Spec("linear")
ARGNAMES = ("W", "X", "y", "reg")


def loss_inputs(seed, N, D, C, reg, *, offset=0.0, w_scale=0.5, labels=None):
    """W (D, C), X (N, D) with a bias column, y (N,); ``offset`` is added to the bias row of W,
    shifting every score by it (stability tests use +1000)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X[:, -1] = 1.0  # the bias trick: last column all ones
    W = w_scale * rng.standard_normal((D, C))
    W[-1] += offset
    y = rng.integers(0, C, N) if labels is None else np.asarray(labels, dtype=np.int64)
    return W, X, y.astype(np.int64), float(reg)


def loss_cases(t):
    cases = [
        Case("N=8, D=5, C=4, reg=0.1", loss_inputs(1, 8, 5, 4, 0.1)),
        Case("N=1, C=2, reg=0", loss_inputs(2, 1, 4, 2, 0.0)),
        Case("W all zeros, reg=0.5", (np.zeros((6, 3)), *loss_inputs(3, 5, 6, 3, 0.5)[1:])),
        Case("every label the same class, reg=2.5", loss_inputs(4, 6, 3, 5, 2.5, labels=[2] * 6)),
        Case("scores around +1000", loss_inputs(5, 7, 4, 3, 0.01, offset=1000.0)),
    ]
    return cases + t.hidden("linear", "loss_cases", loss_inputs)


def _loss_test(t, target):
    for case in loss_cases(t):
        t.check(target, *case.args, label=case.label, names=("loss", "dW"), argnames=ARGNAMES)


@SPEC.test("svm_loss_naive", points=2)
def svm_loss_naive(t):
    """Hinge loss and gradient, loops allowed."""
    _loss_test(t, "linear.svm_loss_naive")


@SPEC.test("svm_loss_vectorized", points=3)
def svm_loss_vectorized(t):
    """Hinge loss and gradient, without Python loops."""
    _loss_test(t, "linear.svm_loss_vectorized")
    t.no_python_loops("linear.svm_loss_vectorized")


@SPEC.test("softmax_loss_naive", points=2)
def softmax_loss_naive(t):
    """Cross-entropy loss and gradient, loops allowed, stable for large scores."""
    _loss_test(t, "linear.softmax_loss_naive")


@SPEC.test("softmax_loss_vectorized", points=3)
def softmax_loss_vectorized(t):
    """Cross-entropy loss and gradient, without Python loops, stable for large scores."""
    _loss_test(t, "linear.softmax_loss_vectorized")
    t.no_python_loops("linear.softmax_loss_vectorized")


def separable_blobs(seed, n_per_class=60, C=3):
    """C well separated Gaussian blobs in 2-D, with a bias column: X (n, 3), y (n,)."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(C) / C
    centres = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.repeat(np.arange(C), n_per_class)
    X = centres[y] + 0.5 * rng.standard_normal((len(y), 2))
    return np.hstack([X, np.ones((len(y), 1))]), y.astype(np.int64)


def _losses(name, value, num_iters):
    if not isinstance(value, (list, tuple)):
        raise Failed(f"train should return a list of {num_iters} losses, got {describe(value)}")
    if len(value) != num_iters:
        raise Failed(f"train returned {len(value)} losses for num_iters={num_iters}; record "
                     "one loss per iteration")
    out = []
    for v in value:
        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.reshape(())[()]
        if not isinstance(v, (int, float, np.floating, np.integer)) or isinstance(v, bool):
            raise Failed(f"train's losses should be numbers, found {describe(v)}")
        out.append(float(v))
    return np.array(out)


@SPEC.test("LinearClassifier", points=2)
def linear_classifier(t):
    """predict is the argmax of the scores; train runs minibatch SGD that fits separable data."""
    # predict, with weights set by the judge
    X, y = separable_blobs(11, n_per_class=7, C=4)
    W = np.random.default_rng(12).standard_normal((3, 4))
    model = t.student.new("linear.LinearSVM")
    t.student.setattr(model, "W", W)
    got, modified = t.student.method_full(model, "predict", X)
    t.no_input_modified("linear.LinearClassifier.predict", modified, ("X",))
    got = as_array("predict(X)", got, np.zeros(len(y), dtype=np.int64))
    expected = (X @ W).argmax(axis=1)
    if not np.array_equal(got, expected):
        wrong = int((got != expected).sum())
        hint = ("use the index of the highest score (argmax over classes, axis=1)"
                if np.array_equal(got, (X @ W).argmin(axis=1)) or
                np.array_equal(got, (X @ W).argmax(axis=0)[: len(got)]) else None)
        raise Failed(f"predict: {wrong} of {len(y)} labels differ from argmax(X @ W)", hint)

    for cls in ("LinearSVM", "Softmax"):
        # train on separable blobs: the loss falls and the fit is good
        X, y = separable_blobs(21, C=3)
        model = t.student.new(f"linear.{cls}")
        value, modified = t.student.method_full(model, "train", X, y, learning_rate=0.05, reg=0.0,
                                                num_iters=150, batch_size=32, rng=Seed(3))
        t.no_input_modified(f"linear.{cls}.train", modified, ("X", "y"))
        losses = _losses(cls, value, 150)
        if not np.all(np.isfinite(losses)):
            raise Failed(f"{cls}.train: the losses contain NaN or inf")
        if losses[-20:].mean() > 0.5 * losses[:5].mean():
            raise Failed(f"{cls}.train: the loss did not fall on easily separable data (first "
                         f"{losses[:5].mean():.3g}, last {losses[-20:].mean():.3g}); is the "
                         "update W -= learning_rate * dW?")
        W = as_array(f"{cls}.W after training", t.student.getattr(model, "W"), np.zeros((3, 3)))
        accuracy = float(((X @ W).argmax(axis=1) == y).mean())
        if accuracy < 0.9:
            raise Failed(f"{cls}.train: training accuracy {accuracy:.2f} on separable blobs "
                         "(at least 0.90 expected)")

    # learning_rate=0 must leave given weights unchanged; training continues from self.W
    X, y = separable_blobs(31, n_per_class=10, C=3)
    W0 = np.random.default_rng(32).standard_normal((3, 3))
    model = t.student.new("linear.Softmax")
    t.student.setattr(model, "W", W0)
    t.student.method(model, "train", X, y, learning_rate=0.0, reg=0.1, num_iters=5,
                     batch_size=8, rng=Seed(4))
    W = as_array("W after training with learning_rate=0", t.student.getattr(model, "W"), W0)
    if not np.allclose(W, W0):
        raise Failed("Softmax.train: with learning_rate=0 the weights changed; does the update "
                     "use the learning_rate argument, and does training start from the current "
                     "self.W when it is set?")
