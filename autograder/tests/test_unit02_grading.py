"""Grading unit 02 through the real worker: the audit's wrong variants lose the function's points
with a verdict that says why, and correct variants written differently keep them."""

import textwrap

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit02-grading")


def grade(path, key):
    return engine.grade(path, ["02"], keys={key})["units"]["02_mlp"]["functions"][key]


# ------------------------------------------------------------------ bce_loss at prob 0 and 1

BCE_GRADIENT = "dprob = (p - target) / (p * (1.0 - p)) / size"


def test_bce_gradient_of_the_unclipped_prob_fails_where_prob_is_0_or_1(tmp_path):
    """The loss clipped, the gradient not: inf and NaN at prob 0 and 1 (audit a03)."""
    sub = make_submission(tmp_path, replace={"losses.py": [
        (BCE_GRADIENT, "dprob = (prob - target) / (prob * (1.0 - prob)) / size")]})
    entry = grade(sub, "losses.bce_loss")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "exactly 0 and 1" in entry["message"] and "dprob contains" in entry["message"], entry
    assert "clipped p too" in entry["hint"], entry


def test_bce_gradient_of_0_where_the_clip_is_active_passes(tmp_path):
    """The docstring accepts 0 (the derivative of the clip) where clipping is active."""
    sub = make_submission(tmp_path, replace={"losses.py": [
        (BCE_GRADIENT, BCE_GRADIENT + "\n    dprob = xp.where(p == prob, dprob, 0.0)")]})
    assert grade(sub, "losses.bce_loss")["status"] == "passed"


# ------------------------------------------------------------------ numerical gradients

NUMERIC = "gradcheck.numerical_gradient"
NUMERIC_ARRAY = "gradcheck.numerical_gradient_array"
PROBES = '''        x[index] = old + h
        f_plus = float(f(x))
        x[index] = old - h
        f_minus = float(f(x))
        x[index] = old  # restore: the next probe must start from the original x
'''


def test_a_numerical_gradient_that_perturbs_copies_fails(tmp_path):
    """The notebook's f ignores its argument and reads net.params: probing copies of x gives a
    gradient of 0 there (audit a05)."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [(PROBES, '''\
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[index] = old + h
        x_minus[index] = old - h
        f_plus, f_minus = float(f(x_plus)), float(f(x_minus))
''')]})
    entry = grade(sub, NUMERIC)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "captured reference" in entry["message"], entry
    assert "perturb x itself, in place" in entry["hint"], entry


def test_a_numerical_gradient_that_calls_f_on_a_copy_of_x_perturbed_in_place_passes(tmp_path):
    """What f reads is x, perturbed in place; what it is given does not matter."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("f_plus = float(f(x))", "f_plus = float(f(x.copy()))")]})
    assert grade(sub, NUMERIC)["status"] == "passed"


def test_a_numerical_gradient_array_that_keeps_views_of_x_fails(tmp_path):
    """f(x) = x.T: kept without a copy, f(x + h) changes back with x (audit a06)."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("y_plus = xp.array(f(x))", "y_plus = f(x)"),
        ("y_minus = xp.array(f(x))", "y_minus = f(x)")]})
    entry = grade(sub, NUMERIC_ARRAY)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "a view of x" in entry["message"], entry
    assert "keep a copy of f(x + h)" in entry["hint"], entry


def test_numerical_gradients_in_float64_for_float32_x_fail(tmp_path):
    """The docstrings promise grad the dtype of x (audit a07)."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("grad = xp.zeros_like(x)", "grad = xp.zeros(x.shape)")]})
    for key in (NUMERIC, NUMERIC_ARRAY):
        entry = grade(sub, key)
        assert entry["status"] == "failed" and entry["score"] == 0, entry
        assert "grad has dtype float64 but x has dtype float32" in entry["message"], entry
        assert "zeros_like" in entry["hint"], entry


def test_a_one_sided_difference_is_not_said_to_come_from_float32(tmp_path):
    """F8: the verdict said the error "comes from float32 arithmetic ... or from a
    small constant such as eps", while the hint named the one-sided difference: a known mistake
    that explains the answer is the diagnosis, and the float32 guess is left out."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("        x[index] = old - h\n        f_minus = float(f(x))\n"
         "        x[index] = old  # restore: the next probe must start from the original x\n"
         "        grad[index] = (f_plus - f_minus) / (2 * h)",
         "        x[index] = old\n        f_minus = float(f(x))\n"
         "        grad[index] = (f_plus - f_minus) / h")]})
    entry = grade(sub, NUMERIC)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "grad is wrong" in entry["message"], entry
    assert "float32" not in entry["message"] and "eps" not in entry["message"], entry
    assert "the one-sided (f(x + h) - f(x)) / h is much less accurate" in entry["hint"], entry


def test_an_approximation_no_known_mistake_explains_is_told_what_such_an_error_is(tmp_path):
    """A backward difference (no known mistake): an error of 1e-5 to 1e-4 against the analytic
    gradient is what a one-sided difference or another step gives, not float32."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("        x[index] = old + h\n        f_plus = float(f(x))\n",
         "        x[index] = old\n        f_plus = float(f(x))\n"),
        ("        grad[index] = (f_plus - f_minus) / (2 * h)",
         "        grad[index] = (f_plus - f_minus) / h")]})
    entry = grade(sub, NUMERIC)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "an error of this size is what a one-sided difference (f(x + h) - f(x)) / h or a " \
        "step other than h gives" in entry["message"], entry
    assert "float32" not in entry["message"], entry


# ------------------------------------------------------------------ leaky ReLU

def test_leaky_relu_as_a_maximum_fails_for_alpha_above_1(tmp_path):
    """max(x, alpha * x) is right for alpha <= 1 only; the docstring allows any alpha >= 0
    (audit a01)."""
    sub = make_submission(tmp_path, replace={"layers.py": [
        ("out = xp.where(x > 0, x, alpha * x)", "out = xp.maximum(x, alpha * x)")]})
    entry = grade(sub, "layers.leaky_relu_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "alpha=1.5" in entry["message"], entry
    assert "max(x, alpha * x) is the leaky ReLU only for alpha <= 1" in entry["hint"], entry


# ------------------------------------------------------------------ which call raised

def test_an_error_in_the_backward_of_loss_names_the_call_loss_x_y(tmp_path):
    """An IndexError in the backward of FullyConnectedNet.loss(X, y) was reported
    under the label of the loss(X) case before it, which had passed; it sent the student to the
    forward pass."""
    sub = make_submission(tmp_path, replace={"mlp.py": [
        ("cache_affine, cache_act = caches[layer - 1]",
         "cache_affine, cache_act = caches[layer]")]})
    entry = grade(sub, "mlp.FullyConnectedNet")
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert "IndexError" in entry["message"] and "(loss(X, y)," in entry["message"], entry
    assert "(loss(X)," not in entry["message"], entry


def test_np_in_a_module_that_imports_no_numpy_is_explained(tmp_path):
    """``layers.py`` takes its array module from its inputs and imports no NumPy; a student
    who writes np.maximum got "NameError: name 'np' is not defined" and nothing more."""
    sub = make_submission(tmp_path, replace={"layers.py": [
        ("    out = xp.maximum(x, 0)\n", "    out = np.maximum(x, 0)\n")]})
    entry = grade(sub, "layers.relu_forward")
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert "name 'np' is not defined" in entry["message"], entry
    assert "xp = xp_of(x)" in entry["message"], entry
    assert "import numpy as np at the top of the file" in entry["message"], entry


def test_an_import_the_grader_lacks_says_what_the_module_may_import(tmp_path):
    """`import torchvision` in a PyTorch module was told that coursework "may import
    only NumPy"; a NumPy module that imports torch is told just that."""
    from autograder.engine import error_message
    from autograder.runner import StudentError

    def message(module, package):
        return error_message(StudentError(
            f"ModuleNotFoundError: No module named '{package}'",
            detail=f'File "/tmp/submission/coursework/{module}.py", line 3, in <module>'))

    assert "architectures.py may import only NumPy, PyTorch and the Python standard library" \
        in message("architectures", "torchvision")
    assert "layers.py may import only NumPy and the Python standard library" \
        in message("layers", "torch")
    assert "may import only" not in message("architectures", "torch.nn")


def test_a_layer_too_many_in_params_loses_the_init_points(tmp_path):
    """Found by the mutation sweep: a loop from 0 made an unused W0 and b0 (and drew W1 after
    them); the weight statistics were right, so it kept full marks. An optimizer steps every
    entry of params, and W0 has no gradient."""
    sub = make_submission(tmp_path, replace={"mlp.py": [
        ("for layer in range(1, self.num_layers + 1):\n            shape = (dims[layer - 1]",
         "for layer in range(0, self.num_layers + 1):\n            shape = (dims[layer - 1]")]})
    entry = engine.grade(sub, ["02"], keys={"mlp.FullyConnectedNet"})[
        "units"]["02_mlp"]["functions"]["mlp.FullyConnectedNet"]
    assert entry["score"] == 0, entry
    assert "params holds ['W0', 'b0'], which the docstring does not list" in entry["message"]


# ------------------------------------------------------------------ state kept between calls

def test_a_model_that_keeps_its_first_calls_caches_fails(tmp_path):
    """A TwoLayerNet that stores its caches on self on the first call kept full marks
    (the grader called loss(X) and loss(X, y) with the same X); on any later batch its loss is
    right and its gradients are the first batch's. A second batch of other values finds it."""
    sub = make_submission(tmp_path, replace={"mlp.py": [
        ("        scores, cache_s = affine_forward(h1, W2, b2)\n",
         "        scores, cache_s = affine_forward(h1, W2, b2)\n"
         "        if not hasattr(self, '_caches'):\n"
         "            self._caches = (cache_a1, cache_h1, cache_s)\n"
         "        cache_a1, cache_h1, cache_s = self._caches\n")]})
    entry = grade(sub, "mlp.TwoLayerNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "loss(X, y) on a second batch of other values" in entry["message"], entry
    assert "something is kept from an earlier call" in entry["hint"], entry


# ------------------------------------------------------------------ float32 arithmetic in a loss

FLOAT32_LOSSES = {
    # F5: a loss computed or summed in float32 is off by about 6e-8, inside the
    # default tolerance 1e-6; these passed, and the notebook's gradient check of the loss then
    # failed (relative error 0.79 for mse_loss, 1.0 for TwoLayerNet's W1)
    "mse_loss squared in float32": ("losses.mse_loss", "mse_loss(pred (7,)): ", {"losses.py": [
        ("    loss = (diff * diff).sum() / diff.size",
         "    d32 = diff.astype('float32')\n    loss = (d32 * d32).sum() / diff.size")]}),
    "bce_loss summed in float32": ("losses.bce_loss", "bce_loss(prob (5, 3), labels 0/1): ",
                                   {"losses.py": [
        ("(1.0 - target) * xp.log(1.0 - p)).sum() / size",
         "(1.0 - target) * xp.log(1.0 - p)).astype('float32').sum() / size")]}),
    "TwoLayerNet's penalty added in float32": ("mlp.TwoLayerNet", "TwoLayerNet(loss(X, y), ", {
        "mlp.py": [("        loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum())",
                    "        loss = np.float32(loss) + np.float32(\n"
                    "            0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum()))")]}),
    "FullyConnectedNet's penalty added in float32": (
        "mlp.FullyConnectedNet", "FullyConnectedNet(loss(X, y), ", {"mlp.py": [
            ("loss += 0.5 * self.reg * float((W * W).sum())",
             "loss += np.float32(0.5 * self.reg * (W * W).sum())")]}),
}


@pytest.mark.parametrize("slip", sorted(FLOAT32_LOSSES))
def test_a_loss_computed_in_float32_fails_and_says_to_compute_in_float64(tmp_path, slip):
    key, where, replace = FLOAT32_LOSSES[slip]
    entry = grade(make_submission(tmp_path, replace=replace), key)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    message = entry["message"]
    assert message.startswith(where) and "loss is " in message, message
    assert "tolerance 1e-10 for a float64 loss" in message, message
    assert "comes from float32 arithmetic; compute the loss in float64, the inputs' dtype" \
        in message, message
    assert "keep every step of the loss in float64" in entry["hint"], entry


FLOAT64_LOSSES = {
    # the float64 tolerance of a loss (1e-10) leaves every float64 form of it full marks:
    # p then log, math.log in loops, log(1 + exp) instead of log1p, np.dot, other sum orders
    "softmax_loss: p then log": ("losses.softmax_loss", '''
        def softmax_loss(scores, y):
            n = scores.shape[0]
            s = scores - scores.max(axis=1, keepdims=True)
            p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), y]).mean()
            p[np.arange(n), y] -= 1
            return loss, p / n
        '''),
    "softmax_loss: loops with math": ("losses.softmax_loss", '''
        def softmax_loss(scores, y):
            import math
            n, c = scores.shape
            loss, d = 0.0, np.zeros_like(scores)
            for i in range(n):
                m = max(scores[i])
                z = sum(math.exp(scores[i, j] - m) for j in range(c))
                loss += math.log(z) + m - scores[i, y[i]]
                for j in range(c):
                    d[i, j] = math.exp(scores[i, j] - m) / z
                d[i, y[i]] -= 1
            return loss / n, d / n
        '''),
    "mse_loss: a Python loop": ("losses.mse_loss", '''
        def mse_loss(pred, target):
            total = 0.0
            for a, b in zip(pred.ravel(), target.ravel()):
                total += (a - b) ** 2
            return total / pred.size, 2 * (pred - target) / pred.size
        '''),
    "bce_loss: two sums and log1p": ("losses.bce_loss", '''
        def bce_loss(prob, target):
            p = np.minimum(np.maximum(prob, 1e-7), 1 - 1e-7)
            loss = -(np.sum(target * np.log(p)) + np.sum((1 - target) * np.log1p(-p)))
            return loss / prob.size, (p - target) / (p * (1 - p)) / prob.size
        '''),
    "bce_with_logits_loss: log(1 + exp) in branches": ("losses.bce_with_logits_loss", '''
        def bce_with_logits_loss(logits, target):
            x = logits
            with np.errstate(over="ignore"):
                loss = np.mean(np.where(x >= 0, x - x * target + np.log(1 + np.exp(-x)),
                                        -x * target + np.log(1 + np.exp(x))))
            sig = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
            return loss, (sig - target) / x.size
        '''),
    "bce_with_logits_loss: logaddexp": ("losses.bce_with_logits_loss", '''
        def bce_with_logits_loss(logits, target):
            loss = np.mean(target * np.logaddexp(0, -logits)
                           + (1 - target) * np.logaddexp(0, logits))
            sig = 1 / (1 + np.exp(-np.clip(logits, -500, 500)))
            return loss, (sig - target) / logits.size
        '''),
}


@pytest.mark.parametrize("form", sorted(FLOAT64_LOSSES))
def test_float64_losses_written_differently_keep_full_marks(tmp_path, form):
    key, code = FLOAT64_LOSSES[form]
    sub = make_submission(tmp_path, append={"losses.py": "import numpy as np\n"
                                            + textwrap.dedent(code)})
    entry = grade(sub, key)
    assert entry["status"] == "passed", entry


def test_a_penalty_averaged_over_the_examples_gets_a_hint(tmp_path):
    """0.5 * reg * sum(W**2) / N and reg * W / N: the penalty averaged like the data loss
    (before: failed with no hint)."""
    sub = make_submission(tmp_path, replace={"mlp.py": [
        ("loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum())",
         "loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum()) / X.shape[0]"),
        ('grads["W1"] + self.reg * W1', 'grads["W1"] + self.reg * W1 / len(X)'),
        ('grads["W2"] + self.reg * W2', 'grads["W2"] + self.reg * W2 / len(X)')]})
    entry = grade(sub, "mlp.TwoLayerNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "not divided by N" in entry["hint"], entry


@pytest.mark.parametrize("key, old, new, words", [
    ("losses.svm_loss", "dscores[rows, y] = -dscores.sum(axis=1)\n    dscores /= num",
     "dscores[rows, y] = -dscores.sum(axis=1)", "divided by N too"),
    ("losses.mse_loss", "dpred = 2.0 * diff / diff.size", "dpred = 2.0 * diff",
     "divided by K = pred.size too"),
])
def test_a_gradient_left_a_sum_under_a_mean_loss_is_told_of_the_gradient_only(
        tmp_path, key, old, new, words):
    """The loss divided by N, its gradient not: the verdict says the loss is right, so the hint
    must not say to divide both (before: "divide both by N")."""
    entry = grade(make_submission(tmp_path, replace={"losses.py": [(old, new)]}), key)
    assert entry["status"] == "failed" and "the loss is right" in entry["message"], entry
    assert words in entry["hint"] and "both" not in entry["hint"], entry


@pytest.mark.parametrize("old, new, words", [
    ('            loss += 0.5 * self.reg * float((W * W).sum())  # weights only, never the biases\n'
     '            grads[f"W{layer}"] = grads[f"W{layer}"] + self.reg * W',
     '            loss += self.reg * float((W * W).sum())\n'
     '            grads[f"W{layer}"] = grads[f"W{layer}"] + 2 * self.reg * W',
     "the 0.5 is missing"),
    ("        for layer in range(1, num_layers + 1):\n            W = self.params",
     "        for layer in range(1, num_layers):\n            W = self.params",
     "the last one, WL"),
])
def test_a_fully_connected_net_with_another_penalty_gets_a_hint(tmp_path, old, new, words):
    """Unit 01's reg * sum(W**2), or the last layer left out of the penalty (range(1, L)): the
    first had no hint, the second was told to add reg * W to every gradient."""
    entry = grade(make_submission(tmp_path, replace={"mlp.py": [(old, new)]}),
                  "mlp.FullyConnectedNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and words in entry["hint"], entry


def test_dw_from_an_unflattened_x_is_told_to_flatten_x_first(tmp_path):
    """dw = x.T @ dout with x (2, 2, 3, 4): the verdict's 'same number of elements: reshape
    it?' alone leads to a reshape that mixes up the entries (before: no hint)."""
    sub = make_submission(tmp_path, replace={"layers.py": [
        ("dw = x.reshape(x.shape[0], -1).T @ dout", "dw = x.T @ dout")]})
    entry = grade(sub, "layers.affine_backward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "flatten x to (N, D) before the product" in entry["hint"], entry
