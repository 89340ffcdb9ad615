"""Grading unit 01 through the real worker: verdicts on realistic submissions."""

import pytest

from autograder import engine
from autograder.paths import REFERENCE_PACKAGE

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit01-grading")


def grade(path):
    return engine.grade(path, ["01"])["units"]["01_linear"]["functions"]


def test_reference_gets_full_marks_and_stubs_get_zero(tmp_path):
    full = engine.grade(make_submission(tmp_path, name="ref"), ["01"])
    assert full["total"] == full["max"] == 12
    stubs = grade(make_submission(tmp_path, base="stubs", name="stubs"))
    assert {e["status"] for e in stubs.values()} == {"not_implemented"}
    assert all(e["score"] == 0 for e in stubs.values())


def test_gradient_not_averaged_over_n_is_failed_with_its_relative_error(tmp_path):
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("dW = X.T @ coeff / num_train + 2 * reg * W", "dW = X.T @ coeff + 2 * reg * W")]})
    entry = grade(sub)["linear.svm_loss_vectorized"]
    assert entry["status"] == "failed" and entry["score"] == 0
    # The data gradient is N = 8 times too large (the regularization part is right). The verdict
    # reports the figure the elementwise rule measured: the worst entry, its error, the tolerance.
    # Entry [0, 0] is near 0, so it is measured against 0.1% of the largest entry: the verdict
    # gives the difference and what was allowed (before: "off by 6.7e+02 relative to 0.1% of
    # the largest entry" was hard to read).
    assert "dW is wrong: entry [0, 0] is off by 0.86, where 1.3e-09 is allowed (this entry is " \
        "near 0, so the tolerance 1e-06 applies to 0.0013, 0.1% of the largest entry)" \
        in entry["message"], \
        entry["message"]
    assert "N=8, D=5, C=4, reg=0.1" in entry["message"]
    # The loss is right (the verdict says so): the hint must not tell to divide the loss too
    # (before: "the loss and the gradient are sums ...: divide both by N").
    assert "divide the data part of dW by N" in entry["hint"], entry["hint"]
    assert "divide both" not in entry["hint"], entry["hint"]
    assert grade(sub)["linear.svm_loss_naive"]["status"] == "passed"


def test_a_penalty_averaged_over_the_examples_gets_a_hint(tmp_path):
    """(data loss + reg * sum(W**2)) / N: the penalty is divided by N too (before: failed
    with no hint)."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("loss = -log_probs[rows, y].sum() / num_train + reg * (W * W).sum()",
         "loss = (-log_probs[rows, y].sum() + reg * (W * W).sum()) / num_train"),
        ("dW = X.T @ dscores / num_train + 2 * reg * W",
         "dW = (X.T @ dscores + 2 * reg * W) / num_train")]})
    entry = grade(sub)["linear.softmax_loss_vectorized"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "not divided by N" in entry["hint"], entry


def test_unusual_but_correct_implementations_pass(tmp_path):
    sub = make_submission(tmp_path, append={"linear.py": '''
        def softmax_loss_vectorized(W, X, y, reg):
            # log-sum-exp with logaddexp.reduce and a one-hot matrix, summing in another order
            scores = X @ W
            one_hot = np.eye(W.shape[1])[y]
            lse = np.logaddexp.reduce(scores, axis=1)
            loss = np.mean(lse - np.einsum("ij,ij->i", scores, one_hot)) + reg * np.sum(W ** 2)
            probs = np.exp(scores - lse[:, None])
            dW = np.einsum("nd,nc->dc", X, probs - one_hot) / len(y) + reg * 2 * W
            return loss, dW

        def svm_loss_vectorized(W, X, y, reg):
            scores = X @ W
            correct = np.take_along_axis(scores, y[:, None], axis=1)
            margins = scores - correct + 1
            margins[np.arange(len(y)), y] = 0
            active = margins > 0
            loss = np.sum(np.where(active, margins, 0)) / len(y) + reg * np.vdot(W, W)
            coeff = active * 1.0
            coeff[np.arange(len(y)), y] = -active.sum(axis=1)
            return np.float64(loss), np.dot(X.T, coeff) / len(y) + 2 * reg * W
    '''})
    result = grade(sub)
    assert result["linear.softmax_loss_vectorized"]["status"] == "passed", result
    assert result["linear.svm_loss_vectorized"]["status"] == "passed", result


def test_a_loop_over_a_fixed_few_things_is_no_loop_over_the_data(tmp_path):
    """The docstrings forbid loops over examples or classes; a comprehension over the
    two terms of the loss (which any comprehension failed as "a Python loop" before) is none."""
    sub = make_submission(tmp_path, append={"linear.py": '''
        def softmax_loss_vectorized(W, X, y, reg):
            n = len(y)
            scores = X @ W
            scores = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            data, penalty = [float(np.sum(term)) for term in
                             (-np.log(probs[np.arange(n), y]) / n, reg * W * W)]
            probs[np.arange(n), y] -= 1
            return data + penalty, X.T @ probs / n + 2 * reg * W
    '''})
    entry = grade(sub)["linear.softmax_loss_vectorized"]
    assert entry["status"] == "passed", entry


@pytest.mark.parametrize("code,status,words", [
    ('''
     def svm_loss_vectorized(W, X, y, reg):
         return svm_loss_naive(W, X, y, reg)
     ''', "failed", "loops over examples: with N = 2, 11, 20, 130, 260"),  # what it calls counts
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         loss, dW = softmax_loss_naive(W, X, y, reg)
         return loss, dW.T
     ''', "failed", "dW has shape (4, 5) but should have shape (5, 4) (transposed?)"),
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         loss, dW = softmax_loss_naive(W, X, y, reg)
         return loss, dW.astype(np.float32)
     ''', "failed", "dW has dtype float32 but should keep float64"),
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         total = 0.0
         for i in range(len(y)):
             total += 0
         return softmax_loss_naive(W, X, y, reg)
     ''', "failed", "loops over examples"),
    ('''
     def svm_loss_vectorized(W, X, y, reg):
         n = len(y)
         scores = X @ W
         correct = scores[np.arange(n), y]
         loss, coeff = 0.0, np.zeros_like(scores)
         for j in range(W.shape[1]):   # every example at once, one class at a time
             margin = np.maximum(0, scores[:, j] - correct + 1) * (y != j)
             loss += margin.sum()
             coeff[:, j] = margin > 0
         coeff[np.arange(n), y] = -coeff.sum(axis=1)
         return loss / n + reg * np.sum(W * W), X.T @ coeff / n + 2 * reg * W
     ''', "failed", "loops over classes: with C = 2, 11, 20, 130, 260"),
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         scores = X @ W
         p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
         loss = -np.log(p[np.arange(len(y)), y]).mean() + reg * np.sum(W * W)
         p[np.arange(len(y)), y] -= 1
         return loss, X.T @ p / len(y) + 2 * reg * W
     ''', "failed", "subtract each row's maximum"),
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         X -= X.mean()
         return softmax_loss_naive(W, X, y, reg)
     ''', "failed", "modified its input X in place"),
    ('''
     def softmax_loss_vectorized(W, X, y, reg):
         raise ValueError("oops")
     ''', "error", "ValueError: oops (at coursework/linear.py, line"),
])
def test_verdicts_say_what_is_wrong(tmp_path, code, status, words):
    entry = grade(make_submission(tmp_path, append={"linear.py": code})).get(
        "linear.softmax_loss_vectorized" if "softmax" in code else "linear.svm_loss_vectorized")
    assert entry["status"] == status, entry
    if words:
        assert words in entry["message"] + " " + (entry["hint"] or ""), entry


def test_training_that_ignores_the_learning_rate_fails(tmp_path):
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("self.W = self.W - learning_rate * dW", "self.W = self.W - 1e-3 * dW")]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed"
    assert "did not fall" in entry["message"] or "learning_rate=0" in entry["message"]


@pytest.mark.parametrize("update, words, hint", [
    ("self.W = self.W - dW", "W <- W - dW, without the learning rate", "multiply dW by"),
    ("self.W = self.W + learning_rate * dW", "W <- W + learning_rate * dW, uphill",
     "step against the gradient"),
])
def test_training_with_another_step_is_told_of_the_update_not_the_minibatches(
        tmp_path, update, words, hint):
    """W - dW (no learning rate) was told to draw a new minibatch with rng.choice in every
    iteration: the losses follow the right minibatches, the step is wrong."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("self.W = self.W - learning_rate * dW", update)]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert words in entry["message"] and "minibatch with rng.choice" not in entry["message"], \
        entry["message"]
    assert hint in entry["hint"], entry["hint"]


@pytest.mark.parametrize("old, new, words", [
    ("rng.choice(num_train", "np.random.choice(num_train", "the first loss is already off"),
    ("rng.choice(num_train, batch_size, replace=True)", "rng.permutation(num_train)[:batch_size]",
     "the first loss is already off"),
    ("        for _ in range(num_iters):\n"
     "            idx = xp.asarray(rng.choice(num_train, batch_size, replace=True))",
     "        idx = xp.asarray(rng.choice(num_train, batch_size, replace=True))\n"
     "        for _ in range(num_iters):",
     "part from entry [1] on: draw a new minibatch with rng.choice in every iteration"),
])
def test_training_told_where_its_losses_part_from_the_expected(tmp_path, old, new, words):
    sub = make_submission(tmp_path, replace={"linear.py": [(old, new)]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed"
    assert words in entry["message"], entry["message"]


def test_predict_with_argmin_gets_a_hint(tmp_path):
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("labels = (X @ self.W).argmax(axis=1)", "labels = (X @ self.W).argmin(axis=1)")]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed" and "argmax" in entry["hint"]


def test_importing_a_package_other_than_numpy_says_what_is_allowed(tmp_path):
    sub = make_submission(tmp_path, append={"linear.py": '''
        from scipy.special import logsumexp
    '''})
    entry = grade(sub)["linear.softmax_loss_vectorized"]
    assert entry["status"] == "error"
    assert "No module named 'scipy'" in entry["message"]
    assert "only NumPy and the Python standard library" in entry["message"]


def test_svm_naive_gradient_in_float64_for_float32_weights_fails(tmp_path):
    """svm_loss_naive's docstring promises dW of W's dtype (audit l01); the other losses' say
    "W's dtype or float64", and their float64 gradients stay accepted."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("dW = W * 0.0", "dW = np.zeros(W.shape)")]})
    result = grade(sub)
    entry = result["linear.svm_loss_naive"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "dW has dtype float64 but W has dtype float32" in entry["message"], entry
    assert "np.zeros_like(W)" in entry["hint"], entry
    assert result["linear.softmax_loss_naive"]["status"] == "passed", result


def test_half_the_penalty_in_loss_and_gradient_gets_a_hint_about_both(tmp_path):
    """0.5 * reg * sum(W**2) and reg * W (unit 02's convention): the hint speaks of the loss's
    penalty as well as of the gradient (audit l03)."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("loss = margins.sum() / num_train + reg * (W * W).sum()",
         "loss = margins.sum() / num_train + 0.5 * reg * (W * W).sum()"),
        ("dW = X.T @ coeff / num_train + 2 * reg * W", "dW = X.T @ coeff / num_train + reg * W")]})
    entry = grade(sub)["linear.svm_loss_vectorized"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["message"].startswith("svm_loss_vectorized(N=8, D=5, C=4, reg=0.1): loss is")
    assert "not 0.5 * reg * sum(W**2)" in entry["hint"] and "2 * reg * W" in entry["hint"], entry


def test_a_renamed_method_is_not_called_an_import_failure(tmp_path):
    """``predict`` renamed to predicts gave "the module could not be imported:
    AttributeError: 'LinearSVM' object has no attribute 'predict'"."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("    def predict(self, X):", "    def predicts(self, X):")]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["score"] == 0, entry
    assert "could not be imported" not in entry["message"], entry["message"]
    assert "no attribute 'predict'" in entry["message"], entry["message"]
    assert "'predict' as the docstring names it: was it renamed or deleted?" in \
        entry["message"], entry["message"]


def test_a_function_defined_twice_is_said_to_be(tmp_path, capsys):
    """The reference with the stub of svm_loss_naive left at the end of the file got a
    plain TODO; Python uses the last definition, and the verdict now says so."""
    from autograder import stubs
    from autograder.notebook_check import _todo_text

    stub = stubs.make_stub((REFERENCE_PACKAGE / "linear.py").read_text())
    start = stub.index("def svm_loss_naive")
    end = stub.index("\ndef ", start + 1)
    sub = make_submission(tmp_path, append={"linear.py": stub[start:end]})
    entry = grade(sub)["linear.svm_loss_naive"]
    assert entry["status"] == "not_implemented", entry
    assert "it is defined 2 times in coursework/linear.py (lines" in entry["message"], entry
    assert "Python uses the last one" in _todo_text("linear.svm_loss_naive", entry)


@pytest.mark.parametrize("shift", ["scores.mean(axis=1, keepdims=True)",
                                   "scores.min(axis=1, keepdims=True)"])
def test_softmax_shifted_by_another_statistic_than_the_row_maximum_loses_points(tmp_path, shift):
    """Found by the mutation sweep: shifting by the row's minimum kept full marks; every public
    and hidden case had scores within a row close together. A hidden case puts one class 1500
    above the rest: exp of (max - mean) or (max - min) overflows."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("scores - scores.max(axis=1, keepdims=True)", f"scores - {shift}")]})
    entry = engine.grade(sub, ["01"], keys={"linear.softmax_loss_vectorized"})[
        "units"]["01_linear"]["functions"]["linear.softmax_loss_vectorized"]
    assert entry["score"] == 0, entry
    # a hidden case: its label stays with the instructor; the student reads what went wrong
    assert entry["message"].endswith("failed on hidden case 5: NaN or inf in the result"), entry
    # a known mistake's hint, or the hint of any NaN on a hidden case: both name the fix
    assert "subtract each row's" in entry["hint"] and "maximum" in entry["hint"], entry


# ------------------------------------------------------------------ float32 arithmetic in a loss

FLOAT32_LOSSES = {
    # F5: returned as a Python float, a loss computed or summed in float32 is off by
    # about 6e-8, inside the default tolerance 1e-6; it passed, and the notebook's gradient
    # check of that loss then failed (relative error 0.79) with no verdict to explain it
    "an np.float32 accumulator": ("linear.softmax_loss_naive", [
        ("    loss = 0.0\n    for i in range(num_train):",
         "    loss = np.float32(0.0)\n    for i in range(num_train):"),
        ("loss += np.log(total) - float(scores[y[i]])",
         "loss += np.float32(np.log(total) - float(scores[y[i]]))")]),
    # the dW of these scores is off by 7e-7 too: the verdict used to say "float32 arithmetic"
    # for dW and then "the loss is right, so this gradient disagrees with the numerical
    # gradient of your own loss", right only within float32's precision
    "scores cast to float32": ("linear.softmax_loss_vectorized", [
        ("    scores = X @ W\n    shifted",
         "    scores = (X @ W).astype('float32')\n    shifted")]),
}


@pytest.mark.parametrize("slip", sorted(FLOAT32_LOSSES))
def test_a_loss_computed_in_float32_fails_and_says_to_compute_in_float64(tmp_path, slip):
    key, replace = FLOAT32_LOSSES[slip]
    sub = make_submission(tmp_path, replace={"linear.py": replace})
    entry = engine.grade(sub, ["01"], keys={key})["units"]["01_linear"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    message = entry["message"]
    assert "(N=8, D=5, C=4, reg=0.1): loss is " in message, message
    assert "tolerance 1e-10 for a float64 loss" in message, message
    assert "comes from float32 arithmetic; compute the loss in float64, the inputs' dtype" \
        in message, message
    assert "the loss is right" not in message, message
    assert "keep every step of the loss in float64" in entry["hint"], entry


def test_training_that_records_the_loss_after_the_update_fails(tmp_path):
    """F7: the loss recorded from a second call of self.loss after the update kept
    full marks, since the grader's stand-in loss did not depend on W; it now does, a little
    (worker_fns.PROBE_DRIFT), and the verdict says to record the loss before the update."""
    sub = make_submission(tmp_path, replace={"linear.py": [(
        "            losses.append(float(loss))\n"
        "            self.W = self.W - learning_rate * dW  # a new array: never update in place\n",
        "            self.W = self.W - learning_rate * dW\n"
        "            loss, _ = self.loss(X[idx], y[idx], reg)\n"
        "            losses.append(float(loss))\n")]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the losses returned are those of the weights after each update" in \
        entry["message"], entry
    assert "the minibatch loss before each update" in entry["message"], entry
    assert "record the loss it returns, then update W with the dW of that same call" in \
        entry["hint"], entry


def test_training_whose_updates_are_wrong_is_not_told_its_minibatches_are(tmp_path):
    """With a stand-in loss that depends on W, a wrong learning rate changes the losses too:
    they still follow the minibatches to 1e-3, and the verdict says the weights are wrong."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("self.W = self.W - learning_rate * dW", "self.W = self.W - 1e-3 * dW")]})
    entry = grade(sub)["linear.LinearClassifier"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    # the step the weights took is named (it was "the weights at some call of
    # self.loss are not those of the updates so far")
    assert "the losses follow the right minibatches, but the weights move as W <- W - 0.001 * " \
        "dW" in entry["message"], entry
    assert "draw a new minibatch" not in entry["message"], entry
    assert "with the learning_rate argument" in entry["hint"], entry
