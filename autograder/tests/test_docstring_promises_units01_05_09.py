"""Promises the docstrings of units 01-05 and 09 make, each kept by the grader: an implementation
that is otherwise the reference but breaks one promise loses its points with a verdict that
names it, and what a docstring allows keeps full marks."""

import pytest

from autograder import engine

from .submissions import make_submission, wrong_variant_graded_to_zero

# the reference's message for a filter that does not fit a whole number of times
CONV_MESSAGE = ("        raise ValueError(f\"{name}: a filter of size {kernel} with stride "
                "{stride} and pad {pad} \"\n"
                "                         f\"does not fit an input of size {n}: ({n} + 2*{pad} - "
                "{kernel}) / \"\n"
                "                         f\"{stride} + 1 = {span / stride + 1:.3g} is not a "
                "whole number\")")

# label: (unit, key, edits, words in the message, words in the hint or None)
BROKEN = {
    # bce_loss: p = clip(prob, eps, 1 - eps) clips every probability, not only 0 and 1
    "bce_loss clipping only the probabilities of exactly 0 and 1": (
        "02_mlp", "losses.bce_loss", {"losses.py": [(
            "    p = xp.clip(prob, BCE_EPS, 1.0 - BCE_EPS)  # log(0) would be -inf",
            "    p = xp.where(prob == 0, BCE_EPS, xp.where(prob == 1, 1.0 - BCE_EPS, prob))")]},
        "probabilities 1e-9", "not only the probabilities of exactly 0 and 1"),
    # EarlyStopping: "the first value always counts as an improvement"
    "EarlyStopping starting from a best of 0 in mode max": (
        "04_normalization", "regularization.EarlyStopping", {"regularization.py": [(
            "        if self.best is None:\n            improved = True\n"
            "        elif self.mode == \"max\":\n"
            "            improved = value > self.best + self.min_delta",
            "        if self.best is None and self.mode == \"min\":\n            improved = True\n"
            "        elif self.mode == \"max\":\n"
            "            improved = value > (0.0 if self.best is None else self.best)"
            " + self.min_delta")]},
        "negative values", "the first value always counts as an improvement"),
    # mlp, rnn: "drawn as weight_scale * rng.standard_normal(shape), layer by layer in order"
    "FullyConnectedNet drawing its weights last layer first": (
        "02_mlp", "mlp.FullyConnectedNet", {"mlp.py": [(
            "        for layer in range(1, self.num_layers + 1):\n"
            "            shape = (dims[layer - 1], dims[layer])",
            "        for layer in range(self.num_layers, 0, -1):\n"
            "            shape = (dims[layer - 1], dims[layer])")]},
        "W1 is not the draw the docstring fixes", "in the order the docstring lists them"),
    "TwoLayerNet drawing W1 in the transposed shape": (
        "02_mlp", "mlp.TwoLayerNet", {"mlp.py": [(
            "        self.params[\"W1\"] = weight_scale * rng.standard_normal((input_dim, "
            "hidden_dim))\n",
            "        self.params[\"W1\"] = weight_scale * rng.standard_normal((hidden_dim, "
            "input_dim)).T\n")]},
        "W1 is not the draw the docstring fixes", "in its own shape"),
    "CharRNN drawing its weights in reverse order": (
        "09_rnn", "rnn.CharRNN", {"rnn.py": [(
            "        for key, shape in shapes.items():\n",
            "        for key, shape in reversed(list(shapes.items())):\n")]},
        "is not the draw the docstring fixes", "in the order the docstring lists them"),
    "CharRNN drawing W_embed after the other weights": (
        "09_rnn", "rnn.CharRNN", {"rnn.py": [(
            "            shapes = {\"W_embed\": (V, D), **shapes}",
            "            shapes = {**shapes, \"W_embed\": (V, D)}")]},
        "W_embed is not the draw the docstring fixes", "in the order the docstring lists them"),
    # optim: the state "holds only arrays and numbers (the Trainer saves configs in its
    # checkpoints)"
    "adam keeping m and v in a list": (
        "05_optim", "optim.adam", {"optim.py": [
            ("    if \"m\" in config:\n        m = beta1 * config[\"m\"] + m\n"
             "        v = beta2 * config[\"v\"] + v",
             "    if \"mv\" in config:\n        m = beta1 * config[\"mv\"][0] + m\n"
             "        v = beta2 * config[\"mv\"][1] + v"),
            ("    config.update(m=m, v=v, t=t)", "    config.update(mv=[m, v], t=t)")]},
        "next_config['mv'] is a list", "a key of its own"),
    "adam keeping its state in a nested dict": (
        "05_optim", "optim.adam", {"optim.py": [
            ("    t = config.get(\"t\", 0) + 1",
             "    state = config.get(\"state\", {})\n    t = state.get(\"t\", 0) + 1"),
            ("    if \"m\" in config:\n        m = beta1 * config[\"m\"] + m\n"
             "        v = beta2 * config[\"v\"] + v",
             "    if \"m\" in state:\n        m = beta1 * state[\"m\"] + m\n"
             "        v = beta2 * state[\"v\"] + v"),
            ("    config.update(m=m, v=v, t=t)", "    config.update(state={\"m\": m, \"v\": v, "
             "\"t\": t})")]},
        "next_config['state'] is a dict", "the Trainer saves every entry"),
    # conv_output_size: "The message names n, kernel, stride and pad"
    "conv_output_size's error naming only n and the kernel": (
        "03_cnn", "conv.conv_output_size", {"conv.py": [(
            CONV_MESSAGE,
            "        raise ValueError(f\"{name}: a window of {kernel} does not fit {n}\")")]},
        "it lacks pad 0", "name all four numbers"),
    # CharRNN.sample: "prefix_ids: a sequence (list or 1-D array)"
    "CharRNN.sample adding a list to the prefix": (
        "09_rnn", "rnn.CharRNN.sample", {"rnn.py": [(
            "        for token in prefix:\n            h, c = step(int(token), h, c)",
            "        for token in prefix_ids + []:\n            h, c = step(int(token), h, c)")]},
        "prefix np.array([1, 4, 2])", None),
}


@pytest.mark.parametrize("label", list(BROKEN))
def test_a_broken_promise_loses_its_points(tmp_path, label):
    wrong_variant_graded_to_zero(tmp_path, *BROKEN[label])


# what the docstrings allow: (unit, key, edits)
ALLOWED = {
    # rng.normal(0, s, shape) is the same draw as s * rng.standard_normal(shape)
    "TwoLayerNet drawn with rng.normal": (
        "02_mlp", "mlp.TwoLayerNet", {"mlp.py": [
            ("        self.params[\"W1\"] = weight_scale * rng.standard_normal((input_dim, "
             "hidden_dim))\n",
             "        self.params[\"W1\"] = rng.normal(0.0, weight_scale, (input_dim, "
             "hidden_dim))\n"),
            ("        self.params[\"W2\"] = weight_scale * rng.standard_normal((hidden_dim, "
             "num_classes))\n",
             "        self.params[\"W2\"] = rng.standard_normal((hidden_dim, num_classes)) "
             "* weight_scale\n")]}),
    # the too-large window's message names the stride only where it is needed to say why
    "conv_output_size's errors naming the numbers otherwise": (
        "03_cnn", "conv.conv_output_size", {"conv.py": [(
            CONV_MESSAGE,
            "        raise ValueError(f\"{name}: n={n}, kernel={kernel}, stride={stride}, "
            "pad={pad}: no whole number of positions\")")]}),
    # adam's step counter as a 0-d array: the state holds arrays and numbers
    "adam's t as a 0-d array": (
        "05_optim", "optim.adam", {"optim.py": [(
            "    config.update(m=m, v=v, t=t)", "    config.update(m=m, v=v, t=xp.asarray(t))")]}),
    # dropout in test mode: out = x; no new array is promised
    "dropout_forward returning x itself in test mode": (
        "04_normalization", "regularization.dropout_forward", {"regularization.py": [(
            "        scaled_mask = None\n        out = x.copy()",
            "        scaled_mask = None\n        out = x")]}),
}


@pytest.mark.parametrize("label", list(ALLOWED))
def test_what_a_docstring_allows_keeps_full_marks(tmp_path, label):
    unit, key, replace = ALLOWED[label]
    report = engine.grade(make_submission(tmp_path, replace=replace), [unit], keys={key},
                          use_bwrap=False)
    entry = report["units"][unit]["functions"][key]
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_the_linear_losses_promise_w_s_dtype_exactly_where_it_is_graded(tmp_path):
    """svm_loss_naive's docstring promises dW of W's dtype, and the grader holds it to that;
    the other three losses used to say "same outputs as svm_loss_naive" while a float64 dW
    kept full marks (a float64 one-hot matrix is correct there): their docstrings now say
    "W's dtype or float64"."""
    import ast

    from autograder.paths import REFERENCE_PACKAGE

    tree = ast.parse((REFERENCE_PACKAGE / "linear.py").read_text())
    docs = {node.name: ast.get_docstring(node) for node in tree.body
            if isinstance(node, ast.FunctionDef)}
    others = ("svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized")
    assert "same dtype as W" in docs["svm_loss_naive"]
    assert all("or float64" in docs[name] for name in others), docs
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("    return float(loss), dW", "    return float(loss), dW.astype(np.float64)")]})
    keys = {f"linear.{name}" for name in ("svm_loss_naive", *others)}
    entries = engine.grade(sub, ["01_linear"], keys=keys, use_bwrap=False)[
        "units"]["01_linear"]["functions"]
    assert entries["linear.svm_loss_naive"]["score"] == 0, entries["linear.svm_loss_naive"]
    assert "dW has dtype float64 but W has dtype float32" in \
        entries["linear.svm_loss_naive"]["message"]
    for name in others:
        entry = entries[f"linear.{name}"]
        assert entry["status"] == "passed" and entry["score"] == entry["max"], entry
