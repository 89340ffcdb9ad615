"""Slips of units 04, 05, 09 and 10 that are right on nice inputs only, each graded as a
submission: N taken from the wrong axis (right when N == D), H taken from x (right when
H == D), the groups axis and the channels-per-group axis swapped (right when groups**2 == C),
the cutout square offset by (size - 1) // 2 (right for an odd size), the optimizers' squared
averages built from dw (right without weight decay), the cosine's progress over total_steps
(right without a warm-up), masked labels used as indices (right while they are in range), an
LSTM that starts from zeros (right for a zero h0), gan_step always on the BCE losses (right
for loss='bce')... and a few that are wrong everywhere but were graded without a hint.

Each must cost its function all its points with the hint that names it
(autograder/mistakes/<module>.py; the cutout one from specs/augmentation.cutout_span_hint).
Cases of one group are graded together, in one submission (no function of a group calls
another of it or reads its cache), one grading run per group.
"""

import pytest

from autograder import engine
from autograder.units import UNITS as COURSE_UNITS

from .submissions import bwrap, make_submission

UNITS = {"04": "04_normalization", "05": "05_optim", "09": "09_rnn", "10": "10_generative"}

# name: (group, module file, key, [(old, new)], words of the hint)
CASES = {
    "batchnorm_backward: N = dout.shape[1]": (
        "04a", "normalization.py", "normalization.batchnorm_backward",
        [("        N = dout.shape[0]\n        dxc = dxhat / std",
          "        N = dout.shape[1]\n        dxc = dxhat / std")],
        "N is the number of examples, dout.shape[0]"),
    "spatial_batchnorm_forward: out_flat.reshape(N, C, H, W)": (
        "04a", "normalization.py", "normalization.spatial_batchnorm_forward",
        [("    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
          "    out = out_flat.reshape(N, C, H, W)")],
        "reshape it to (N, H, W, C) and move the channels back"),
    "groupnorm_forward: x.reshape(N, C // groups, -1)": (
        "04a", "normalization.py", "normalization.groupnorm_forward",
        [("    grouped = x.reshape(N, groups, -1)", "    grouped = x.reshape(N, C // groups, -1)")],
        "the second axis counts the groups"),
    "cutout: the square starts (size - 1) // 2 before the centre": (
        "04a", "augmentation.py", "augmentation.cutout",
        [("    top = xp.asarray(rng.integers(0, H, N) - size // 2)",
          "    top = xp.asarray(rng.integers(0, H, N) - (size - 1) // 2)"),
         ("    left = xp.asarray(rng.integers(0, W, N) - size // 2)",
          "    left = xp.asarray(rng.integers(0, W, N) - (size - 1) // 2)")],
        "one less for an even one"),
    "batchnorm_backward_alt: N = dout.shape[1]": (
        "04b", "normalization.py", "normalization.batchnorm_backward_alt",
        [("    N = dout.shape[0]\n    dbeta = dout.sum(axis=0)",
          "    N = dout.shape[1]\n    dbeta = dout.sum(axis=0)")],
        "N is the number of examples, dout.shape[0]"),
    "RegularizedNet: no L2 penalty on the output layer": (
        "04b", "regularization.py", "regularization.RegularizedNet",
        [("        for layer in range(1, num_layers + 1):\n            W = self.params",
          "        for layer in range(1, num_layers):\n            W = self.params")],
        "the output layer's W included"),
    "adam: v averages g instead of g * g": (
        "05a", "optim.py", "optim.adam",
        [("    v = (1 - beta2) * g * g\n", "    v = (1 - beta2) * g\n")],
        "v averages the squared gradients"),
    "adagrad: r sums dw * dw": (
        "05a", "optim.py", "optim.adagrad",
        [('    r = config["sum_sq"] + g * g if "sum_sq" in config else g * g',
          '    r = config["sum_sq"] + dw * dw if "sum_sq" in config else dw * dw')],
        "the weight-decay term included"),
    "rmsprop: r averages dw * dw": (
        "05a", "optim.py", "optim.rmsprop",
        [("    r = (1 - decay) * g * g\n", "    r = (1 - decay) * dw * dw\n")],
        "the weight-decay term included"),
    "clip_grad_norm: np.clip per entry": (
        "05a", "optim.py", "optim.clip_grad_norm",
        [("    clipped = {name: g * scale for name, g in grads.items()}",
          "    clipped = {name: g.clip(-max_norm, max_norm) for name, g in grads.items()}")],
        "clips each entry on its own"),
    "cosine_annealing: progress divided by total_steps": (
        "05a", "optim.py", "optim.cosine_annealing",
        [("        progress = (step - warmup_steps) / (total_steps - warmup_steps)",
          "        progress = (step - warmup_steps) / total_steps")],
        "the steps after the warm-up only"),
    "adam: moments start at g and g * g": (
        "05b", "optim.py", "optim.adam",
        [('    m = (1 - beta1) * g\n    v = (1 - beta2) * g * g\n    if "m" in config:\n'
          '        m = beta1 * config["m"] + m\n        v = beta2 * config["v"] + v',
          '    m = g\n    v = g * g\n    if "m" in config:\n'
          '        m = beta1 * config["m"] + (1 - beta1) * g\n'
          '        v = beta2 * config["v"] + (1 - beta2) * g * g')],
        "the moments start at 0"),
    "adam: v averages dw * dw": (
        "05c", "optim.py", "optim.adam",
        [("    v = (1 - beta2) * g * g\n", "    v = (1 - beta2) * dw * dw\n")],
        "the weight-decay term included"),
    "rnn_forward: H = x.shape[2]": (
        "09a", "rnn.py", "rnn.rnn_forward",
        [("    N, T, _ = x.shape\n    H = h0.shape[1]\n"
          "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))",
          "    N, T, H = x.shape\n"
          "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))")],
        "H, the hidden size, is h0.shape[1]"),
    "lstm_forward: starts from zeros, not h0": (
        "09a", "rnn.py", "rnn.lstm_forward",
        [("    prev = h0\n    steps = []\n    for t in range(T):\n        prev, c,",
          "    prev = xp.zeros_like(h0)\n    steps = []\n"
          "    for t in range(T):\n        prev, c,")],
        "starts from h0"),
    "lstm_step_backward: the sigmoid's derivative for g": (
        "09a", "rnn.py", "rnn.lstm_step_backward",
        [("dg * (1.0 - g * g)", "dg * g * (1.0 - g)")],
        "its local gradient is 1 - g**2"),
    "temporal_affine_backward: x.reshape(H, -1) for the transpose": (
        "09a", "rnn.py", "rnn.temporal_affine_backward",
        [("    dw = x.reshape(-1, H).T @ dout.reshape(-1, M)",
          "    dw = x.reshape(H, -1) @ dout.reshape(-1, M)")],
        "is not the transpose of x.reshape(-1, H)"),
    "temporal_softmax_loss: masked labels used as indices": (
        "09a", "rnn.py", "rnn.temporal_softmax_loss",
        [("    labels = xp.where(mask, y, 0).reshape(-1)", "    labels = y.reshape(-1)")],
        "replace them by a valid index"),
    "rnn_backward: D = H": (
        "09b", "rnn.py", "rnn.rnn_backward",
        [("    D = steps[0][0].shape[1]\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
          "    dWx, dWh, db = 0.0, 0.0, 0.0\n    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
          "    for t in reversed(range(T)):\n        # the",
          "    D = H\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
          "    dWx, dWh, db = 0.0, 0.0, 0.0\n    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
          "    for t in reversed(range(T)):\n        # the")],
        "dx has the input size D"),
    "lstm_step_forward: H = x.shape[1]": (
        "09b", "rnn.py", "rnn.lstm_step_forward",
        [("    H = h_prev.shape[1]\n    a = x @ Wx", "    H = x.shape[1]\n    a = x @ Wx")],
        "H, the hidden size, is h_prev.shape[1]"),
    "gan_step: D's loss given the fakes first": (
        "10a", "generative.py", "generative.gan_step",
        [("    d_loss = d_loss_fn(D(real), D(fakes))",
          "    d_loss = d_loss_fn(D(fakes), D(real))")],
        "takes the real examples' scores first"),
    "vae_loss: mu where mu**2 belongs in the KL": (
        "10a", "generative.py", "generative.vae_loss",
        [("1 + logvar - mu.pow(2) - logvar.exp()", "1 + logvar - mu - logvar.exp()")],
        "the KL has mu squared"),
    "gan_step: the BCE losses for loss='ls' too": (
        "10b", "generative.py", "generative.gan_step",
        [('    if loss == "bce":\n        d_loss_fn', '    if True:\n        d_loss_fn')],
        "loss='ls' asks for the least-squares losses"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """group -> {key: report entry}, graded once per group on first use."""
    reports = {}

    def grade(group):
        if group not in reports:
            names = [n for n, case in CASES.items() if case[0] == group]
            unit = UNITS[group[:2]]
            keys = {CASES[n][2] for n in names}
            assert len(keys) == len(names), f"group {group} grades a function twice"
            replace = {}
            for name in names:
                _, module, _, edits, _ = CASES[name]
                replace.setdefault(module, []).extend(edits)
            sub = make_submission(tmp_path_factory.mktemp(f"nice_{group}"), replace=replace)
            report = engine.grade(sub, [unit], keys=keys, use_bwrap=bwrap(unit))
            reports[group] = report["units"][unit]["functions"]
        return reports[group]

    return grade


@pytest.mark.parametrize("name", list(CASES))
def test_a_slip_right_on_nice_inputs_loses_its_points_with_its_hint(graded, name):
    group, _, key, _, words = CASES[name]
    if "torch" in getattr(COURSE_UNITS[UNITS[group[:2]]], "packages", ()):
        pytest.importorskip("torch")
    entry = graded(group)[key]
    assert entry["status"] in ("failed", "error") and entry["score"] == 0, entry
    assert words in (entry["hint"] or ""), entry
    assert "calls your" not in (entry["hint"] or ""), entry  # not blamed on another function


def test_the_even_cutout_hint_needs_every_square_offset_by_one():
    """cutout_span_hint names the (size - 1) // 2 offset only when every square fits it: one
    square where the docstring puts it (or any odd size) gets no such hint."""
    from autograder.specs import augmentation as spec

    H = W = 6
    late = [(1, 4, 2, 5), (0, 2, 0, 3)]  # centres 2 and 3, 0 and 1, squares starting cy - 1
    assert spec.cutout_span_hint(late, 4, H, W) is spec.CUTOUT_EVEN
    assert spec.cutout_span_hint(late + [(0, 1, 0, 1)], 4, H, W) is None  # centre 0: cy - 2
    assert spec.cutout_span_hint([(0, 1, 0, 1)], 3, H, W) is None  # odd: no offset to name
