"""Unit 09 graded through the real worker: unusual but correct implementations get full marks
(other cache layouts, separate gate matrices, one-hot products, log-sum-exp, a sampler that
reruns the whole sequence for every new id and draws with rng.random); a wrong backward gets 0
for itself, its known mistake as hint, and costs nothing elsewhere."""

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit09-grading")

UNUSUAL = '''
import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b
    return np.tanh(a), {"a": a, "x": x, "h": h_prev, "Wx": Wx, "Wh": Wh}   # the cache keeps a


def rnn_step_backward(dh_next, cache):
    da = dh_next / np.cosh(cache["a"]) ** 2                      # tanh' = 1 / cosh^2
    return (da @ cache["Wx"].T, da @ cache["Wh"].T, cache["x"].T @ da, cache["h"].T @ da,
            np.einsum("nh->h", da))


def rnn_forward(x, h0, Wx, Wh, b):
    hs = [h0]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    h = np.stack(hs[1:], axis=1)
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):                                     # no call to the step backward
    x, h0, Wx, Wh, h = cache
    prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    dx, dWx, dWh = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh)
    db, carry = np.zeros(Wh.shape[0]), np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        da = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        dx[:, t], carry = da @ Wx.T, da @ Wh.T
        dWx += x[:, t].T @ da
        dWh += prev[:, t].T @ da
        db += da.sum(axis=0)
    return dx, carry, dWx, dWh, db


def _gates(x, h_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    i, f, g, o = np.split(a, 4, axis=1)
    return 1 / (1 + np.exp(-i)), 1 / (1 + np.exp(-f)), np.tanh(g), 1 / (1 + np.exp(-o))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    i, f, g, o = _gates(x, h_prev, Wx, Wh, b)
    c = f * c_prev + i * g
    return o * np.tanh(c), c, [x, h_prev, c_prev, Wx, Wh, b, c]  # gates recomputed backwards


def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, b, c = cache
    i, f, g, o = _gates(x, h_prev, Wx, Wh, b)
    dc = dc_next + dh_next * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                    dh_next * np.tanh(c) * o * (1 - o)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(0)


def word_embedding_forward(x, W):
    return np.take(W, x, axis=0), (x, W.shape[0])


def word_embedding_backward(dout, cache):
    x, V = cache
    onehot = np.eye(V)[x.reshape(-1)]                            # (N*T, V)
    return onehot.T @ dout.reshape(-1, dout.shape[-1])


def temporal_softmax_loss(scores, y, mask):
    N, T, V = scores.shape
    lse = np.logaddexp.reduce(scores, axis=2)
    safe = np.where(mask, y, 0)
    picked = np.take_along_axis(scores, safe[..., None], axis=2)[..., 0]
    k = mask.sum()
    if k == 0:
        return 0.0, np.zeros_like(scores)
    loss = np.sum((lse - picked) * mask) / k
    d = np.exp(scores - lse[..., None])
    d[np.arange(N)[:, None], np.arange(T)[None, :], safe] -= 1
    return loss, d * mask[..., None] / k


def _scores_of_last(self, ids):
    x = np.array([ids])
    _, _, last = self.loss(x, x)
    h = last[0] if self.cell == "lstm" else last
    return (h @ self.params["W_out"] + self.params["b_out"])[0]


def _sample(self, prefix_ids, length, *, temperature=1.0, rng):
    seq = [int(i) for i in prefix_ids]
    out = []
    for _ in range(length):                                      # reruns everything: quadratic
        s = _scores_of_last(self, seq) / temperature
        p = np.exp(s - s.max())
        p /= p.sum()
        nxt = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum()))
        nxt = min(nxt, len(p) - 1)
        out.append(nxt)
        seq.append(nxt)
    return np.array(out, dtype=np.int64)


CharRNN.sample = _sample
'''


def functions(report):
    return {k: e for u in report["units"].values() for k, e in u["functions"].items()}


def test_unusual_but_correct_rnn_gets_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"rnn.py": UNUSUAL})
    report = engine.grade(sub, ["09"])
    wrong = {k: (e["status"], e["message"]) for k, e in functions(report).items()
             if e["status"] != "passed"}
    assert wrong == {}
    assert report["total"] == report["max"]


def test_a_wrong_backward_costs_that_function_only(tmp_path):
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "dx[:, t], dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, steps[t])",
        "dx[:, t], dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t], steps[t])")]})
    found = functions(engine.grade(sub, ["09"]))
    entry = found["rnn.rnn_backward"]
    assert entry["status"] == "failed" and entry["score"] == 0
    assert "carried gradient was dropped" in entry["hint"]
    # CharRNN uses rnn_backward for its "rnn" cell, so it fails too; everything else passes
    assert {k for k, e in found.items() if e["status"] != "passed"} == {
        "rnn.rnn_backward", "rnn.CharRNN"}


def test_a_sampler_that_feeds_back_the_most_likely_id_fails(tmp_path):
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "h, c = step(int(ids[n]), h, c)", "h, c = step(int(np.argmax(probs)), h, c)")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    assert entry["status"] == "failed"
    assert entry["message"].startswith("CharRNN.sample(a 4-id chain"), entry
    assert "id 3 follows id 2" in entry["message"]
    assert "feed each id you drew into the next step" in entry["hint"]


def test_a_sampler_that_draws_one_id_for_length_0_fails(tmp_path):
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "        for n in range(int(length)):\n",
        "        ids = np.zeros(max(int(length), 1), dtype=np.int64)\n"
        "        for n in range(max(int(length), 1)):\n")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    assert entry["message"] == ("CharRNN.sample(cell='rnn', prefix [1, 4, 2], length 0): should "
                                "return 0 ids (shape (0,)), got shape (1,)"), entry
    assert "none for length 0" in entry["hint"]


def test_an_error_in_the_sampler_names_the_call_not_the_constructor(tmp_path):
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "            ids[n] = rng.choice(V, p=probs)",
        "            if temperature < 0.01:\n"
        "                raise ValueError('Probabilities contain NaN')\n"
        "            ids[n] = rng.choice(V, p=probs)")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    # now NumPy's "probabilities contain NaN" at the tiny temperature is a failure
    # with a hint (the error stays in the message); any other error stays an error
    assert entry["status"] == "failed" and "subtract their max" in entry["hint"], entry
    assert entry["message"].startswith("CharRNN.sample(cell='rnn', prefix [3, 0], "
                                       "temperature=1e-3): ValueError"), entry


def test_a_step_backward_that_changes_its_cache_fails_and_its_caller_points_to_it(tmp_path):
    # The step's first call is right; the second, through the same cache, is not.
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "    return dx, dh_prev, dc_prev, dWx, dWh, db\n",
        "    f *= 2.0  # the cached forget gate\n"
        "    return dx, dh_prev, dc_prev, dWx, dWh, db\n")]})
    found = functions(engine.grade(sub, ["09"]))
    step = found["rnn.lstm_step_backward"]
    assert step["status"] == "failed"
    assert "a second call through the same cache returned something else" in step["message"]
    assert "leave the cache as the forward made it" in step["hint"]
    caller = found["rnn.lstm_backward"]
    assert caller["status"] == "failed"
    assert caller["hint"].startswith("this function calls your lstm_step_backward, which fails "
                                     "its own test: fix that first"), caller
    assert caller["failed_calls"] == ["rnn.lstm_step_backward"]


def test_a_loss_that_carries_its_state_between_calls_fails(tmp_path):
    """The audit's r12: h0=None taken as 'the state the last call left', not zeros."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "            h_init = xp.zeros((N, H), dtype=self.dtype) if h0 is None else h0\n",
        "            if h0 is None:\n"
        "                h0 = getattr(self, '_carry', None)\n"
        "            h_init = xp.zeros((N, H), dtype=self.dtype) if h0 is None else h0\n"), (
        "        return loss, grads, h_last\n",
        "        self._carry = h_last\n        return loss, grads, h_last\n")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN"}))["rnn.CharRNN"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "a second loss call on the same model" in entry["message"], entry
    assert "starts from zero at every call" in entry["hint"], entry


def test_a_sampler_that_keeps_its_state_on_the_model_is_told_so(tmp_path):
    """The audit's r11: the state of the previous sample call reused: not an rng problem."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "        h = xp.zeros((1, H), dtype=self.dtype)\n"
        "        c = xp.zeros((1, H), dtype=self.dtype)\n",
        "        h = getattr(self, '_h', None)\n"
        "        h = xp.zeros((1, H), dtype=self.dtype) if h is None else h\n"
        "        c = xp.zeros((1, H), dtype=self.dtype)\n"), (
        "        return ids\n", "        self._h = h\n        return ids\n")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the first call left state behind" in entry["message"], entry
    assert "start the hidden state from zero at every call" in entry["hint"], entry


def test_a_sampler_that_draws_the_first_new_id_without_the_temperature_fails(tmp_path):
    """Found by the mutation sweep: the temperature must divide the scores at every step. A sampler
    whose first new id is drawn from softmax(scores) (the division only from the second step
    on) passed: at a tiny temperature the public models' most likely first id is likely at
    temperature 1 too. The hidden greedy cases have scores that spread little."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "            scores = to_numpy(h @ p[\"W_out\"] + p[\"b_out\"])[0] / temperature\n",
        "            scores = to_numpy(h @ p[\"W_out\"] + p[\"b_out\"])[0] / (temperature if n "
        "else 1.0)\n")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["message"] == "CharRNN.sample: failed on hidden case 1: a wrong result", entry
    assert "at every step (the first new id included)" in entry["hint"], entry


def test_an_rnn_step_with_the_bias_after_the_tanh_is_told_so(tmp_path):
    """``tanh(x @ Wx + h_prev @ Wh) + b`` failed without a hint."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "    h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)\n",
        "    h_next = xp.tanh(x @ Wx + h_prev @ Wh) + b\n")]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.rnn_step_forward"}))[
        "rnn.rnn_step_forward"]
    assert entry["score"] == 0 and "out is wrong" in entry["message"], entry
    assert "the bias is added after the tanh" in entry["hint"], entry


SOFTMAX_OF_SCORES = (
    "            scores = to_numpy(h @ p[\"W_out\"] + p[\"b_out\"])[0] / temperature\n"
    "            probs = np.exp(scores - scores.max())\n")


@pytest.mark.parametrize("replacement", [
    # the temperature as a power of the probabilities: right, but 0 ** 1000 everywhere at 1e-3
    ("            scores = to_numpy(h @ p[\"W_out\"] + p[\"b_out\"])[0]\n"
     "            probs = np.exp(scores - scores.max())\n"
     "            probs = (probs / probs.sum()) ** (1.0 / temperature)\n"),
    # no maximum subtracted: exp(scores / 1e-3) overflows
    ("            scores = to_numpy(h @ p[\"W_out\"] + p[\"b_out\"])[0] / temperature\n"
     "            probs = np.exp(scores)\n"),
])
def test_a_sampler_whose_probabilities_are_nan_at_a_tiny_temperature_is_told_why(tmp_path,
                                                                                   replacement):
    """NumPy's 'probabilities contain NaN' at temperature 1e-3 was an error without a
    hint."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(SOFTMAX_OF_SCORES, replacement)]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN.sample"}))[
        "rnn.CharRNN.sample"]
    assert entry["score"] == 0 and "temperature=1e-3" in entry["message"], entry
    assert "Probabilities contain NaN (at coursework/rnn.py, line" in entry["message"], entry
    assert "divide the scores by the temperature, subtract their max" in entry["hint"], entry


@pytest.mark.parametrize("shift", ["flat.max()", "flat.min(axis=1, keepdims=True)",
                                   "flat.mean(axis=1, keepdims=True)"])
def test_temporal_softmax_shifted_by_the_global_maximum_or_the_row_minimum_or_mean_fails(
        tmp_path, shift):
    """Found by the mutation sweep: subtracting the maximum of all scores, or each position's
    minimum (or mean), kept full marks: no case had sequences far apart or one class far above
    the rest. A hidden case has both."""
    sub = make_submission(tmp_path, replace={"rnn.py": [
        ("shifted = flat - flat.max(axis=1, keepdims=True)", f"shifted = flat - {shift}")]})
    entry = engine.grade(sub, ["09"], keys={"rnn.temporal_softmax_loss"})[
        "units"]["09_rnn"]["functions"]["rnn.temporal_softmax_loss"]
    assert entry["score"] == 0, entry
    assert "failed on hidden case 4: NaN or inf in the result" in entry["message"], entry
    assert entry["hint"] == engine.HIDDEN_NONFINITE_HINT  # no known mistake matches NaN here


MEMO = '''
_MEMO = {}


def _memoized(fn):
    def wrapper(*args, **kwargs):   # remembers the answer by the shapes of the inputs
        key = (fn.__name__, tuple(getattr(a, "shape", None) for a in args), id(args[0]))
        if key not in _MEMO:
            _MEMO[key] = fn(*args, **kwargs)
        return _MEMO[key]
    return wrapper


def _by_shape(fn):
    def wrapper(*args, **kwargs):
        key = (fn.__name__, tuple(getattr(a, "shape", None) for a in args),
               tuple((k, getattr(v, "shape", v)) for k, v in sorted(kwargs.items())))
        if key not in _MEMO:
            _MEMO[key] = fn(*args, **kwargs)
        return _MEMO[key]
    return wrapper
'''


@pytest.mark.parametrize("target, wrap", [
    ("lstm_step_forward", "lstm_step_forward = _by_shape(lstm_step_forward)"),
    ("lstm_step_backward", "lstm_step_backward = _by_shape(lstm_step_backward)"),
    ("lstm_forward", "lstm_forward = _by_shape(lstm_forward)"),
    ("temporal_softmax_loss", "temporal_softmax_loss = _by_shape(temporal_softmax_loss)")])
def test_an_lstm_layer_or_the_loss_that_remembers_answers_by_shape_fails(tmp_path, target, wrap):
    """Outside the toolkit, the LSTM's functions and temporal_softmax_loss were never
    called twice with the same shapes, so answers remembered by shape kept full marks."""
    sub = make_submission(tmp_path, append={"rnn.py": MEMO + "\n" + wrap + "\n"})
    entry = functions(engine.grade(sub, ["09"], keys={f"rnn.{target}"}))[f"rnn.{target}"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the same shapes with new values" in entry["message"], entry
    assert "something is remembered between calls" in entry["hint"], entry


def test_an_lstm_backward_that_reads_the_steps_from_a_module_global_fails(tmp_path):
    """``lstm_forward`` keeping its steps' caches in a module-level list that lstm_backward
    reads (instead of its cache) had full marks: every backward came straight after its forward."""
    sub = make_submission(tmp_path, replace={"rnn.py": [
        ("    cache = steps\n    c_last = c\n",
         "    _LAST[:] = steps\n    cache = len(steps)\n    c_last = c\n"),
        ("    steps = cache\n    N, T, H = dh.shape\n    D = steps[0][0].shape[1]\n"
         "    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n    dWx, dWh, db = 0.0, 0.0, 0.0\n"
         "    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n    dc_prev",
         "    steps = _LAST\n    N, T, H = dh.shape\n    D = steps[0][0].shape[1]\n"
         "    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n    dWx, dWh, db = 0.0, 0.0, 0.0\n"
         "    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n    dc_prev"),
        ('CELLS = ("rnn", "lstm")\n', 'CELLS = ("rnn", "lstm")\n_LAST = []\n')]})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.lstm_backward"}))[
        "rnn.lstm_backward"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "its backward called after a forward on other values" in entry["message"], entry
    assert "reads something the forward left outside the cache" in entry["hint"], entry


def test_a_char_rnn_that_remembers_its_loss_on_the_model_fails(tmp_path):
    """CharRNN.loss was called twice on one model only with the same x, y and params,
    so a loss remembered on the model (by the shapes of x) kept full marks."""
    sub = make_submission(tmp_path, append={"rnn.py": MEMO + "\nCharRNN.loss = _memoized("
                                                            "CharRNN.loss)\n"})
    entry = functions(engine.grade(sub, ["09"], keys={"rnn.CharRNN"}))["rnn.CharRNN"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "a second batch and new parameter values of the same shapes on the same model" in \
        entry["message"], entry
    assert "something is kept from an earlier call" in entry["hint"], entry


def test_a_temporal_softmax_loss_summed_in_float32_fails(tmp_path):
    """The loss summed in float32 (dscores float64) had full marks, in CharRNN too;
    notebook 09's numerical gradient check of CharRNN then prints False."""
    sub = make_submission(tmp_path, replace={"rnn.py": [(
        "    loss = -(log_probs[rows, labels] * weight).sum() / count\n",
        "    loss = -(log_probs[rows, labels] * weight).astype(np.float32).sum() / count\n")]})
    found = functions(engine.grade(sub, ["09"], keys={"rnn.temporal_softmax_loss",
                                                      "rnn.CharRNN"}))
    for key in ("rnn.temporal_softmax_loss", "rnn.CharRNN"):
        entry = found[key]
        assert entry["status"] == "failed" and entry["score"] == 0, entry
        assert "comes from float32 arithmetic" in entry["message"], entry


def test_unusual_but_correct_variants_keep_full_marks(tmp_path):
    """Ids drawn by Gumbel-max (argmax of log p + Gumbel noise from the rng: the same
    distribution as rng.choice, other numbers), LSTM gates by np.split with the sigmoid written
    0.5 (1 + tanh(a / 2)), and the softmax loss's log-sum-exp by np.logaddexp.reduce."""
    sub = make_submission(tmp_path, replace={"rnn.py": [
        ("            ids[n] = rng.choice(V, p=probs)\n",
         "            ids[n] = int(np.argmax(np.log(probs + 1e-300) + rng.gumbel(size=V)))\n"),
        ("    i = _sigmoid(a[:, :H])\n    f = _sigmoid(a[:, H:2 * H])\n"
         "    g = xp.tanh(a[:, 2 * H:3 * H])\n    o = _sigmoid(a[:, 3 * H:])\n",
         "    ai, af, ag, ao = xp.split(a, 4, axis=1)\n"
         "    i, f, o = (0.5 * (1.0 + xp.tanh(0.5 * v)) for v in (ai, af, ao))\n"
         "    g = xp.tanh(ag)\n"),
        ("    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
         "    rows = xp.arange(N * T)",
         "    log_probs = flat - xp.logaddexp.reduce(flat, axis=1, keepdims=True)\n"
         "    rows = xp.arange(N * T)")]})
    keys = {"rnn.CharRNN.sample", "rnn.lstm_step_forward", "rnn.lstm_forward",
            "rnn.temporal_softmax_loss"}
    found = functions(engine.grade(sub, ["09"], keys=keys))
    assert {k: e["status"] for k, e in found.items()} == dict.fromkeys(keys, "passed")


def test_a_char_rnn_loss_returning_a_list_gets_full_marks(tmp_path):
    """[loss, grads, h_last] (a list, which unpacks as the tuple does) was told it
    "should return (loss, grads, h_last), got a list of 3"."""
    sub = make_submission(tmp_path, replace={"rnn.py": [
        ("        return loss, grads, h_last", "        return [loss, grads, h_last]")]})
    key = "rnn.CharRNN"
    entry = engine.grade(sub, ["09"], keys={key})["units"]["09_rnn"]["functions"][key]
    assert entry["status"] == "passed", entry
