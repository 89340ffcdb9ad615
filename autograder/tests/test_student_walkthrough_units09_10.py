"""A student's walk through notebooks 09 and 10: what the check cells say to first attempts.

Found by writing each function of units 09-10 with a plausible first-attempt slip and reading the
check cell's verdict (the slips of unit 10, and most of unit 09's, already had their hints):

- lstm_step_forward reading the four gate blocks in an order other than i, f, g, o got "h_next is
  wrong" and no hint, unless the order was one of the two listed (i, f, o, g and f, i, g, o):
  Keras-like or paper layouts (i, o, f, g; g, f, i, o; ...) said nothing. Every wrong order now
  gets a hint naming the order the code read.
- lstm_forward whose steps all start from the initial cell state (``c`` never updated, the LSTM
  twin of the RNN's "h0 every time") got "h is wrong" and no hint; so did the steps all starting
  from h0 (rnn_forward's version of that slip had a hint).
- temporal_affine_backward with db summed over axis 0 only got "db has shape (3, 5) but should
  have shape (5,)" and no hint.
- CharRNN.sample that starts every drawn id's step from a zero state got the greedy hint, which
  listed the prefix, the temperature, the max and feeding ids back but not the state: it now says
  that h (and c) runs on from step to step.
- Notebook 09 named image captioning (the lecture's "CNN + RNN") without saying how a CNN and an
  RNN are joined: section 1 now says (markdown only). Its clipping figure's overall title ran
  into the two plots' titles (now a constrained layout; rerun against the reference, every text
  output unchanged).
- Notebook 10 asked for sample_noise without saying which noise (uniform in [-1, 1), its
  docstring says; a student fresh from the VAE's N(0, I) prior writes torch.randn): it now says.
"""

from itertools import permutations

import numpy as np
import pytest

from autograder.mistakes import rnn as rnn_mistakes
from autograder.specs import rnn as rnn_spec

from .submissions import bwrap, graded_with_edits

STEP_BLOCKS = ("    i = _sigmoid(a[:, :H])\n    f = _sigmoid(a[:, H:2 * H])\n"
               "    g = xp.tanh(a[:, 2 * H:3 * H])\n    o = _sigmoid(a[:, 3 * H:])")
LSTM_STEP = "        prev, c, step_cache = lstm_step_forward(x[:, t], prev, c, Wx, Wh, b)"

# name: (key, (old, new), words of the hint)
CASES = {
    "gates read as i, o, f, g": (
        "rnn.lstm_step_forward",
        (STEP_BLOCKS, "    i = _sigmoid(a[:, :H])\n    o = _sigmoid(a[:, H:2 * H])\n"
                      "    f = _sigmoid(a[:, 2 * H:3 * H])\n    g = xp.tanh(a[:, 3 * H:])"),
        "yours reads them in the order i, o, f, g"),
    "gates read as g, f, i, o": (
        "rnn.lstm_step_forward",
        (STEP_BLOCKS, "    g = xp.tanh(a[:, :H])\n    f = _sigmoid(a[:, H:2 * H])\n"
                      "    i = _sigmoid(a[:, 2 * H:3 * H])\n    o = _sigmoid(a[:, 3 * H:])"),
        "yours reads them in the order g, f, i, o"),
    "lstm_forward: the cell state not carried": (
        "rnn.lstm_forward",
        (LSTM_STEP, "        prev, c_step, step_cache = lstm_step_forward(x[:, t], prev, c, Wx, "
                    "Wh, b)"),
        rnn_mistakes.LSTM_C_NOT_CARRIED),
    "lstm_forward: h0 at every step": (
        "rnn.lstm_forward",
        (LSTM_STEP, "        prev, c, step_cache = lstm_step_forward(x[:, t], h0, c, Wx, Wh, b)"),
        "not h0 every time"),
    "temporal_affine_backward: db over axis 0 only": (
        "rnn.temporal_affine_backward",
        ("    db = dout.reshape(-1, M).sum(axis=0)", "    db = dout.sum(axis=0)"),
        rnn_mistakes.DB_OVER_N_ONLY),
    "CharRNN.sample: every drawn id read from a zero state": (
        "rnn.CharRNN.sample",
        ("            h, c = step(int(ids[n]), h, c)",
         "            h, c = step(int(ids[n]), xp.zeros((1, H), dtype=self.dtype), c)"),
        rnn_spec.GREEDY_HINT),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_first_attempt_slip_of_unit09_gets_its_hint(tmp_path, name):
    key, (old, new), words = CASES[name]
    entry = graded_with_edits(tmp_path, [("rnn.py", old, new)], ["09"], [key],
                              use_bwrap=bwrap("09_rnn"))[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and words in entry["hint"], entry


def test_every_wrong_gate_order_has_a_hint_of_its_own():
    hints = [d for d, _ in rnn_mistakes.lstm_step_forward_mistakes()]
    orders = {"".join(p) for p in permutations("ifgo")} - {"ifgo"}
    generic = {o for o in orders
               if rnn_mistakes.GATE_ORDER_HINT.format(", ".join(o)) in hints}
    assert generic == orders - {"ifog", "figo"}, sorted(orders - generic)
    assert len(hints) == len(set(hints))


def test_the_gate_order_variants_compute_the_order_they_name():
    rng = np.random.default_rng(0)
    N, D, H = 2, 3, 4
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), np.zeros(4 * H)
    variants = dict(rnn_mistakes.lstm_step_forward_mistakes())
    # blocks read as g, f, i, o: the same as the reference with the first and third blocks swapped
    swap = np.r_[2 * H:3 * H, H:2 * H, 0:H, 3 * H:4 * H]
    want, _, _ = rnn_mistakes._lstm_step(x, h, c, Wx[:, swap], Wh[:, swap], b[swap])
    got, _, _ = variants[rnn_mistakes.GATE_ORDER_HINT.format("g, f, i, o")](x, h, c, Wx, Wh, b)
    np.testing.assert_allclose(got, want)
