"""Tests of unit 01, ``coursework/linear.py``: SVM and softmax losses, SGD training."""

import numpy as np

from .. import worker_fns
from ..compare import Failed, as_array, close, describe
from ..spec import Case, Spec
from ..wire import Fn, Seed
from .loop_growth import no_hidden_code, no_loop_over

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


def row_offset_inputs(seed, offsets, D, C, reg):
    """W, X, y, reg whose scores in row i sit around offsets[i]: the first feature of X is the
    offset and the first row of W is all ones, so it adds the same amount to every class."""
    W, X, y, reg = loss_inputs(seed, len(offsets), D, C, reg)
    X[:, 0] = offsets
    W[0] = 1.0
    return W, X, y, reg


def loss_cases(t):
    cases = [
        Case("N=8, D=5, C=4, reg=0.1", loss_inputs(1, 8, 5, 4, 0.1)),
        # the shapes of the first case with other values: an answer remembered by shape is stale
        Case("N=8, D=5, C=4, reg=0.1, the first case's shapes with other values of W, X and y",
             loss_inputs(8, 8, 5, 4, 0.1)),
        Case("N=1, C=2, reg=0", loss_inputs(2, 1, 4, 2, 0.0)),
        Case("W all zeros, reg=0.5", (np.zeros((6, 3)), *loss_inputs(3, 5, 6, 3, 0.5)[1:])),
        Case("every label the same class, reg=2.5", loss_inputs(4, 6, 3, 5, 2.5, labels=[2] * 6)),
        Case("scores around +1000", loss_inputs(5, 7, 4, 3, 0.01, offset=1000.0)),
        # Rows at very different offsets: subtracting each row's maximum handles them exactly;
        # subtracting the maximum of all scores underflows every row but the highest.
        Case("N=4, C=3, rows of scores around +1000, 0, -700 and +350, reg=0.1",
             row_offset_inputs(6, [1000.0, 0.0, -700.0, 350.0], 4, 3, 0.1)),
    ]
    return cases + t.hidden("linear", "loss_cases", loss_inputs)


def float32_case():
    """W and X in float32, of few binary digits (exact scores whatever the order of the sums):
    svm_loss_naive's docstring promises dW of W's dtype. Values within FLOAT32_RTOL of the
    reference's float32 answer. Such scores can tie: a seed whose margins include one of
    exactly 0 (where the hinge has no slope, and either choice is right) is passed over."""
    for seed in range(7, 100):
        W, X, y, reg = loss_inputs(seed, 8, 4, 3, 0.25)
        W = (np.round(W * 8) / 8).astype(np.float32)
        X = (np.round(X * 4) / 4).astype(np.float32)
        X[:, -1] = 1.0
        scores = X @ W
        margins = scores - scores[np.arange(len(y)), y][:, None] + 1
        margins[np.arange(len(y)), y] = 1.0  # the correct class has no margin
        if not (margins == 0).any():
            break
    return Case("W and X float32, N=8, D=4, C=3, reg=0.25: dW has the dtype of W", (W, X, y, reg))


FLOAT32_RTOL = 1e-3
DTYPE_HINT = ("start dW from W's dtype: np.zeros_like(W), not np.zeros(W.shape) (which is "
              "float64 whatever W is)")


def _loss_test(t, target, *, same_dtype=False):
    """``same_dtype``: also a float32 case, whose dW must be float32 (only svm_loss_naive's
    docstring says so: the others say "dW of W's dtype or float64", since a float64 one-hot
    matrix in a vectorized loss is correct; test_unit01_grading keeps such an example)."""
    for case in loss_cases(t):  # float64 inputs: the loss is right to ~1e-13 (LOSS_RTOL)
        t.check(target, *case.args, label=case.label, names=("loss", "dW"), argnames=ARGNAMES,
                float64_loss=True)
    if not same_dtype:
        return
    case = float32_case()
    got = t.check(target, *case.args, label=case.label, names=("loss", "dW"), argnames=ARGNAMES,
                  rtol=FLOAT32_RTOL)
    dW = got[1]  # a pair of the right shapes: t.check compared it
    if isinstance(dW, np.ndarray) and dW.dtype != np.float32:
        name = target.split(".", 1)[1]
        raise Failed(f"{name}({case.label}): dW has dtype {dW.dtype} but W has dtype float32; "
                     "the docstring asks for dW of the same dtype as W", hint=DTYPE_HINT,
                     kind="dtype")


@SPEC.test("svm_loss_naive", points=2)
def svm_loss_naive(t):
    """Hinge loss and gradient (of W's dtype), loops allowed."""
    _loss_test(t, "linear.svm_loss_naive", same_dtype=True)


@SPEC.test("svm_loss_vectorized", points=3)
def svm_loss_vectorized(t):
    """Hinge loss and gradient, without Python loops."""
    _loss_test(t, "linear.svm_loss_vectorized")
    _no_loop_over_the_data(t, "linear.svm_loss_vectorized")


@SPEC.test("softmax_loss_naive", points=2)
def softmax_loss_naive(t):
    """Cross-entropy loss and gradient, loops allowed, stable for large scores."""
    _loss_test(t, "linear.softmax_loss_naive")


@SPEC.test("softmax_loss_vectorized", points=3)
def softmax_loss_vectorized(t):
    """Cross-entropy loss and gradient, without Python loops, stable for large scores."""
    _loss_test(t, "linear.softmax_loss_vectorized")
    _no_loop_over_the_data(t, "linear.softmax_loss_vectorized")


LOOP_AXES = {"N": "examples", "C": "classes"}  # what the docstrings forbid looping over
VECTORIZE_HINT = ("index with arrays (scores[np.arange(N), y]) and use broadcasting and matrix "
                  "products instead of loops")


def _no_loop_over_the_data(t, target):
    """The docstrings forbid a Python loop over examples or classes: the lines of student code a
    call runs must not grow with N or with C (``loop_growth``: counted, not read, so a
    comprehension over a fixed few things, or a helper that loops over nothing of the data, is
    no loop over examples; one that calls the naive version is)."""
    no_hidden_code(t, target)
    no_loop_over(t, target, _loss_of_size, LOOP_AXES, hint=VECTORIZE_HINT)


def _loss_of_size(sizes, rng):
    """The inputs of a loss with N examples, C classes and 3 features."""
    W, X, y, reg = loss_inputs(int(rng.integers(1 << 30)), sizes["N"], 3, sizes["C"], 0.1)
    return (W, X, y, reg), {}


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
    # one example: the labels keep their (N,) = (1,) shape (a squeeze() makes them 0-d)
    got, _ = t.student.method_full(model, "predict", X[:1])
    got = as_array("predict(X[:1]) (one example)", got, np.zeros(1, dtype=np.int64))
    if not np.array_equal(got, expected[:1]):
        raise Failed(f"predict(X[:1]) (one example): the label is {got.tolist()}, not the "
                     f"argmax of its scores {expected[:1].tolist()}")

    # train, with the loss replaced by a probe whose every value the judge recomputes: the
    # losses returned and the final weights must follow it step by step, so train must call
    # the classifier's loss (self.loss, the student's loss function), sample its minibatches
    # with rng.choice(N, batch_size) as its docstring says, apply every update and record the
    # loss before it (the probe's loss depends on W a little: worker_fns.PROBE_DRIFT). Training
    # is judged on its own, whatever the state of the loss functions.
    runs = [("LinearSVM", None, 0.05, 0.0, 150, 32, 3),  # W None: initialised from rng
            ("Softmax", np.random.default_rng(32).standard_normal((3, 3)), 0.3, 0.1, 7, 8, 4),
            ("Softmax", np.random.default_rng(33).standard_normal((3, 3)), 0.0, 0.1, 5, 8, 5)]
    for cls, W0, lr, reg, num_iters, batch_size, seed in runs:
        X, y = separable_blobs(21 + seed, n_per_class=10, C=3)
        model = t.student.new(f"linear.{cls}")
        if W0 is not None:
            t.student.setattr(model, "W", W0)
        t.student.setattr(model, "loss", Fn("probe_loss", {"C": 3}))
        label = (f"learning_rate={lr}, reg={reg}, num_iters={num_iters}, batch_size="
                 f"{batch_size}, " + ("W None" if W0 is None else "W set"))
        t.case(label)
        value, modified = t.student.method_full(model, "train", X, y, learning_rate=lr, reg=reg,
                                                num_iters=num_iters, batch_size=batch_size,
                                                rng=Seed(seed))
        t.no_input_modified(f"linear.{cls}.train", modified, ("X", "y"))
        losses = _losses(cls, value, num_iters)
        expected_losses, expected_W, after_update = expected_training(
            X, y, W0, lr, reg, num_iters, batch_size, seed)
        if lr > 0 and np.allclose(losses, after_update, rtol=1e-6, atol=0) and not np.allclose(
                losses, expected_losses, rtol=1e-6, atol=0):
            raise Failed(f"{cls}.train({label}): the losses returned are those of the weights "
                         "after each update (self.loss called again after it); the docstring "
                         "returns the minibatch loss before each update: record the loss of "
                         "the call whose dW makes the update",
                         hint="in each iteration call self.loss once on the minibatch, "
                              "record the loss it returns, then update W with the dW of that "
                              "same call", kind="values")
        try:
            close("losses", losses, expected_losses, rtol=1e-6)
        except Failed as failure:
            _check_step(cls, label, losses, (X, y, W0, lr, reg, num_iters, batch_size, seed))
            raise Failed(f"{cls}.train({label}): {failure.message}; with self.loss replaced by "
                         "a known function, the losses returned must be its values on the "
                         "minibatches rng.choice(N, batch_size) draws"
                         + _which_minibatches(losses, expected_losses),
                         hint="call self.loss(X[idx], y[idx], reg) once per iteration, "
                              "idx = rng.choice(N, batch_size, replace=True), and record the "
                              "loss it returns", kind=failure.kind, error=failure.error) \
                from None
        W = t.student.getattr(model, "W")
        try:
            close("W", W, expected_W, rtol=1e-6)
        except Failed as failure:
            raise Failed(f"{cls}.train({label}): the weights after training: {failure.message}",
                         hint="the update is W <- W - learning_rate * dW with the dW of self.loss"
                              "; start from self.W when it is set, else from "
                              "0.001 * rng.standard_normal((D, C))",
                         kind=failure.kind, error=failure.error) from None


def _check_step(cls, label, losses, run):
    """Fail saying so when the losses follow the right minibatches with the weights moved by
    another step than learning_rate * dW (the learning rate left out, its sign flipped).

    The probe's dW does not depend on W, so its loss is linear in the step: the losses of a
    step s are L0 + s * (L1 - L0), L0 and L1 those of the steps 0 and 1 on the same minibatches.
    """
    X, y, W0, lr, reg, num_iters, batch_size, seed = run
    at_zero = expected_training(X, y, W0, 0.0, reg, num_iters, batch_size, seed)[0]
    per_step = expected_training(X, y, W0, 1.0, reg, num_iters, batch_size, seed)[0] - at_zero
    if len(losses) != len(at_zero) or not np.any(per_step):
        return
    step = float(np.dot(losses - at_zero, per_step) / np.dot(per_step, per_step))
    if np.isclose(step, lr, rtol=1e-3) or not np.allclose(
            losses, at_zero + step * per_step, rtol=1e-6, atol=0):
        return
    if np.isclose(step, 1.0, rtol=1e-3):
        what, hint = ("W <- W - dW, without the learning rate",
                      "multiply dW by learning_rate in the update: W <- W - learning_rate * dW")
    elif np.isclose(step, -lr, rtol=1e-3):
        what, hint = ("W <- W + learning_rate * dW, uphill",
                      "step against the gradient: W <- W - learning_rate * dW")
    else:
        what, hint = (f"W <- W - {step:.4g} * dW",
                      "the update is W <- W - learning_rate * dW, with the learning_rate "
                      "argument")
    raise Failed(f"{cls}.train({label}): the losses follow the right minibatches, but the "
                 f"weights move as {what}, not W <- W - learning_rate * dW with learning_rate="
                 f"{lr}", hint=hint, kind="values")


def _which_minibatches(losses, expected):
    """Where the losses part from the expected ones, in words: from the first minibatch on
    (the indices come from somewhere else than rng.choice) or later (the minibatch not drawn
    anew each step, or rng drawn from for something else), or not at all to within 1e-3 (the
    minibatches are right and the weights are not). The probe loss depends on the minibatch
    and, a little (worker_fns.PROBE_DRIFT), on how far W moved since the first call."""
    if len(losses) != len(expected) or len(losses) < 2:
        return ""
    if np.allclose(losses, expected, rtol=1e-3, atol=0):
        return (" (they follow the minibatches, but the weights at some call of self.loss are "
                "not those of the updates so far: apply W <- W - learning_rate * dW once after "
                "each call, with its dW)")
    same = np.isclose(losses, expected, rtol=1e-6, atol=0)
    if not same[0]:
        return (" (the first loss is already off: its minibatch is not the one "
                "rng.choice(N, batch_size) draws first; np.random, a shuffle or "
                "replace=False draw other indices)")
    first_off = int(np.argmin(same)) if not same.all() else None
    if first_off is None:
        return ""
    return (f" (the losses match up to entry [{first_off - 1}] and part from entry "
            f"[{first_off}] on: draw a new minibatch with rng.choice in every iteration, and "
            "nothing else from rng)")


def expected_training(X, y, W0, learning_rate, reg, num_iters, batch_size, seed):
    """The losses and weights of minibatch SGD with the probe loss, as the docstring of
    ``LinearClassifier.train`` specifies them, and the losses of the same minibatches right
    after each update (what a train that records the loss after the update returns)."""
    rng = np.random.default_rng(seed)
    N, D = X.shape
    C = int(y.max()) + 1
    W = 0.001 * rng.standard_normal((D, C)) if W0 is None else np.array(W0, dtype=np.float64)
    probe = worker_fns.make("probe_loss", {"C": C})
    losses, after_update = [], []
    for _ in range(num_iters):
        idx = rng.choice(N, batch_size, replace=True)
        loss, dW = probe({"W": W}.get, X[idx], y[idx], reg)
        losses.append(loss)
        W = W - learning_rate * dW
        after_update.append(probe({"W": W}.get, X[idx], y[idx], reg)[0])
    return np.array(losses), W, np.array(after_update)
