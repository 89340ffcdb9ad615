"""Tests of unit 09, ``coursework/rnn.py``: RNN and LSTM steps and sequences, forward and backward
through time; embedding, temporal affine and masked softmax layers; the ``CharRNN`` model.

The RNN step and sequence, the embedding and the temporal affine layer follow the layer contract
and are declared with the spec toolkit (``toolkit.Layer``): forward tests compare ``out`` (the
cache stays opaque in the worker); backward tests pass the cache of the student's own forward to
the student's backward and compare with the reference forward-then-backward. The LSTM returns a
second state (``c_next``, ``c_last``) and its step backward takes two upstream gradients, so it has
checks of its own below, built the same way. Inputs: non-square
weights (D != H), non-zero biases and initial states, N = 1, T = 1 and H = 1 among the cases,
pre-activations large enough to saturate tanh and the gates in one case. Upstream gradients are
non-zero at every step, and dc_next is non-zero for the LSTM step.

``CharRNN`` is built in the worker with ``rng=Seed(n)``: its initial parameters are checked by
shape and statistics only; then the judge sets ``params`` (biases non-zero) and compares
``loss(x, y, h0)`` with the reference holding the same parameters. ``CharRNN.sample`` is graded
by properties: length, range, the same rng seed giving the same ids, the greedy choice at a tiny
temperature (also for scores that spread little, where a step drawn without the temperature
shows), and frequencies matching softmax(scores / temperature).
"""

import numpy as np

from ..compare import Failed, as_array, describe
from ..runner import StudentError
from ..spec import Case, Spec
from ..wire import Seed
from .model_checks import check_init, check_no_extra_grads, check_uses_rng, copy_params
from .toolkit import Layer, check_cache_reusable, new_values, outside_cache, remembered_hint

SPEC = Spec("rnn")


# ---------------------------------------------------------------- inputs

def step_inputs(seed, N, D, H, *, gates=1, scale=0.6, bias_scale=0.5):
    """x (N, D), h_prev (N, H), c_prev (N, H), Wx (D, G), Wh (H, G), b (G,), dh (N, H),
    dc (N, H) with G = gates * H."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    h_prev = np.tanh(rng.standard_normal((N, H)))
    c_prev = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, gates * H))
    Wh = scale * rng.standard_normal((H, gates * H))
    b = bias_scale * rng.standard_normal(gates * H)
    dh = rng.standard_normal((N, H))
    dc = rng.standard_normal((N, H))
    return x, h_prev, c_prev, Wx, Wh, b, dh, dc


def sequence_inputs(seed, N, T, D, H, *, gates=1, scale=0.5, bias_scale=0.5):
    """x (N, T, D), h0 (N, H), c0 (N, H), Wx, Wh, b, dh (N, T, H)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = np.tanh(rng.standard_normal((N, H)))
    c0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, gates * H))
    Wh = scale * rng.standard_normal((H, gates * H))
    b = bias_scale * rng.standard_normal(gates * H)
    dh = rng.standard_normal((N, T, H))
    return x, h0, c0, Wx, Wh, b, dh


def step_cases(t, gates):
    cases = [
        Case("N=3, D=4, H=5", step_inputs(1, 3, 4, 5, gates=gates)),
        Case("N=1, D=2, H=3", step_inputs(2, 1, 2, 3, gates=gates)),
        Case("H=1, D=3, N=4", step_inputs(3, 4, 3, 1, gates=gates)),
        Case("D=6 > H=2, large biases", step_inputs(4, 2, 6, 2, gates=gates, bias_scale=3.0)),
        Case("large weights: saturated nonlinearities", step_inputs(5, 3, 3, 4, gates=gates,
                                                                     scale=3.0)),
    ]
    return cases + t.hidden("rnn", "step_cases", step_inputs, gates)


def sequence_cases(t, gates):
    cases = [
        Case("N=2, T=4, D=3, H=5", sequence_inputs(11, 2, 4, 3, 5, gates=gates)),
        Case("T=1, N=3, D=2, H=4", sequence_inputs(12, 3, 1, 2, 4, gates=gates)),
        Case("N=1, T=6, D=4, H=3", sequence_inputs(13, 1, 6, 4, 3, gates=gates)),
        Case("H=1, T=5, D=2", sequence_inputs(14, 3, 5, 2, 1, gates=gates)),
        Case("D=1, H=6, T=3, large recurrent weights", sequence_inputs(15, 2, 3, 1, 6,
                                                                       gates=gates, scale=1.5)),
    ]
    return cases + t.hidden("rnn", "sequence_cases", sequence_inputs, gates)


def embedding_inputs(seed, N, T, V, D):
    """x (N, T) ids with repeats (x[0, 0] == x[-1, -1]), W (V, D), dout (N, T, D)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, V, (N, T)).astype(np.int64)
    x[-1, -1] = x[0, 0]
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    return x, W, dout


def embedding_cases(t):
    cases = [
        Case("N=2, T=4, V=5, D=3, repeated ids", embedding_inputs(21, 2, 4, 5, 3)),
        Case("N=1, T=1", embedding_inputs(22, 1, 1, 4, 2)),
        Case("every id the same", (np.full((2, 3), 2, dtype=np.int64),
                                   *embedding_inputs(23, 2, 3, 4, 3)[1:])),
        Case("V=10 larger than N*T (unused rows), D=1", embedding_inputs(24, 2, 2, 10, 1)),
    ]
    return cases + t.hidden("rnn", "embedding_cases", embedding_inputs)


def temporal_affine_inputs(seed, N, T, H, M, *, bias_scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, T, H)), rng.standard_normal((H, M)),
            bias_scale * rng.standard_normal(M), rng.standard_normal((N, T, M)))


def temporal_affine_cases(t):
    cases = [
        Case("N=2, T=3, H=4, M=5", temporal_affine_inputs(31, 2, 3, 4, 5)),
        Case("N=1, T=1, H=1", temporal_affine_inputs(32, 1, 1, 1, 3)),
        Case("T=5, M=1, large biases", temporal_affine_inputs(33, 3, 5, 2, 1, bias_scale=10.0)),
    ]
    return cases + t.hidden("rnn", "temporal_affine_cases", temporal_affine_inputs)


def softmax_inputs(seed, N, T, V, *, kept=0.6, offset=0.0, masked_label=None):
    """scores (N, T, V), y (N, T), mask (N, T) with about ``kept`` of the positions kept; labels
    at masked positions set to ``masked_label`` when given (any value, even out of range)."""
    rng = np.random.default_rng(seed)
    scores = 2.0 * rng.standard_normal((N, T, V)) + offset
    y = rng.integers(0, V, (N, T)).astype(np.int64)
    mask = rng.random((N, T)) < kept
    mask[0, 0] = True
    if kept < 1:
        mask[-1, -1] = False
    if masked_label is not None:
        y = np.where(mask, y, masked_label)
    return scores, y, mask


def softmax_cases(t):
    none_kept = softmax_inputs(44, 2, 3, 4)
    cases = [
        Case("N=3, T=5, V=4, some positions masked", softmax_inputs(41, 3, 5, 4)),
        Case("no position masked", softmax_inputs(42, 2, 4, 6, kept=1.0)),
        Case("N=1, T=1, V=3", softmax_inputs(43, 1, 1, 3, kept=1.0)),
        Case("every position masked: loss 0, gradient 0",
             (none_kept[0], none_kept[1], np.zeros((2, 3), dtype=bool))),
        Case("scores around +1000", softmax_inputs(45, 2, 4, 5, offset=1000.0)),
        Case("label -1 at masked positions", softmax_inputs(46, 3, 4, 5,
                                                                    masked_label=-1)),
        Case("labels out of range at masked positions", softmax_inputs(47, 2, 6, 3, kept=0.3,
                                                                       masked_label=99)),
    ]
    return cases + t.hidden("rnn", "softmax_cases", softmax_inputs)


# ---------------------------------------------------------------- layers of the toolkit

RNN_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def rnn_step_cases(t):
    """(x, h_prev, Wx, Wh, b, dh_next) of every step case."""
    return [Case(c.label, (c.args[0], c.args[1], *c.args[3:7]), c.kwargs)
            for c in step_cases(t, 1)]


def rnn_cases(t):
    """(x, h0, Wx, Wh, b, dh) of every sequence case."""
    return [Case(c.label, (c.args[0], c.args[1], *c.args[3:7]), c.kwargs)
            for c in sequence_cases(t, 1)]


RNN_STEP = Layer(SPEC, "rnn_step", argnames=("x", "h_prev", "Wx", "Wh", "b"), grads=RNN_GRADS,
                 cases=rnn_step_cases)
rnn_step_forward, rnn_step_backward = RNN_STEP.tests(
    points=(1, 2), docs=("h_next = tanh(x @ Wx + h_prev @ Wh + b).",
                         "dx, dh_prev, dWx, dWh and db of one RNN step."))

RNN = Layer(SPEC, "rnn", argnames=("x", "h0", "Wx", "Wh", "b"), grads=SEQ_GRADS, cases=rnn_cases)
rnn_forward, rnn_backward = RNN.tests(
    points=(1, 3), docs=("The hidden states (N, T, H) of every step.",
                         "Backpropagation through time: dx, dh0 and the weights' gradients "
                         "summed over the steps."))

# ---------------------------------------------------------------- the LSTM's own checks
#
# lstm_step_forward returns (h_next, c_next, cache) and its backward takes two upstream
# gradients; lstm_forward returns (h, cache, c_last). Outside the layer contract of the toolkit,
# so checked here, with the outputs named as the docstrings name them.

CACHE_INDEX = {"lstm_step_forward": 2, "lstm_forward": 1}


def lstm_outputs(cw, forward, inputs, **kwargs):
    """The outputs of the reference ``rnn.<forward>`` other than its cache."""
    result = getattr(cw.rnn, forward)(*inputs, **kwargs)
    return tuple(v for i, v in enumerate(result) if i != CACHE_INDEX[forward])


def lstm_forward_backward(cw, forward, backward, inputs, upstream, **kwargs):
    """The reference backward of the upstream gradients (a tuple) through the cache of the
    reference forward."""
    cache = getattr(cw.rnn, forward)(*inputs, **kwargs)[CACHE_INDEX[forward]]
    return getattr(cw.rnn, backward)(*upstream, cache)


def _student_lstm(t, forward, inputs, kwargs, label, argnames, names):
    target = f"rnn.{forward}"
    with t.explaining_errors(target, lstm_outputs, forward, list(inputs), **kwargs):
        got, modified = t.student.call_full(target, *inputs, opaque=[CACHE_INDEX[forward]],
                                            **kwargs)
    t.no_input_modified(target, modified, argnames, label)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failed(f"{forward}({label}): should return the three values ({', '.join(names)}) "
                     f"its docstring lists, got {describe(got)}",
                     hint=f"end the function with `return {', '.join(names)}`")
    return tuple(got)


def check_lstm_forward(t, forward, inputs, kwargs, label, argnames, names):
    target = f"rnn.{forward}"
    returned = {"lstm_step_forward": ("h_next", "c_next", "cache"),
                "lstm_forward": ("h", "cache", "c_last")}[forward]
    got = _student_lstm(t, forward, inputs, kwargs, label, argnames, returned)
    answer = tuple(v for i, v in enumerate(got) if i != CACHE_INDEX[forward])
    expected = t.ref.run(lstm_outputs, forward, list(inputs), **kwargs)
    t.compare(target, answer, expected, names=names, label=label,
              mistakes=lambda: t.ref.mistakes(target, lstm_outputs, forward, list(inputs),
                                              **kwargs))


SEQUENCE_CACHE_HINT = (
    "lstm_backward runs on the cache your lstm_forward made: if lstm_step_backward passes, "
    "check that every step's cache keeps its own arrays (c_prev of step t is the c of step "
    "t - 1; writing each step into one buffer, c[...] = c_next, leaves every cache with the "
    "last step's values), then that dh_next and dc_next carry from step t back to step t - 1")


def check_lstm_backward(t, forward, backward, inputs, upstream, kwargs, label, argnames,
                        upstream_names, names):
    target = f"rnn.{backward}"
    returned = {"lstm_step_forward": ("h_next", "c_next", "cache"),
                "lstm_forward": ("h", "cache", "c_last")}[forward]
    got = _student_lstm(t, forward, inputs, kwargs, label, argnames, returned)
    args = (forward, backward, list(inputs), tuple(upstream))
    with t.explaining_errors(target, lstm_forward_backward, *args, **kwargs):
        result, modified = t.student.call_full(target, *upstream, got[CACHE_INDEX[forward]])
    t.no_input_modified(target, outside_cache(modified, len(upstream)), upstream_names, label)
    expected = t.ref.run(lstm_forward_backward, *args, **kwargs)
    try:
        t.compare(target, result, expected, names=names, label=label,
                  mistakes=lambda: t.ref.mistakes(target, lstm_forward_backward, *args,
                                                  **kwargs))
    except Failed as failure:
        if failure.hint is None and forward == "lstm_forward":
            failure.hint = SEQUENCE_CACHE_HINT
        raise
    check_cache_reusable(t, target, tuple(upstream), got[CACHE_INDEX[forward]], result, names,
                         label)


# ---------------------------------------------------------------- LSTM

def in_order(t, run, public, again, hidden, then=None):
    """``run`` on the public cases, then on ``again`` (the first case with new values, under
    ``remembered_hint``), then ``then()`` (a further public check), then on the hidden cases:
    the public checks come before any hidden case (a fresh process follows a hidden one)."""
    for case in public:
        run(case)
    t.no_case()
    with remembered_hint():
        run(again)
    if then is not None:
        then()
    for case in hidden:
        run(case)


def public_again_hidden(cases, argnames, *, backward):
    """The public cases, the first of them with new values of its float inputs (and, for a
    ``backward`` test, of its upstream gradients; ``toolkit.new_values``: the same shapes), and
    the hidden cases. Outside the
    toolkit, the LSTM gets the toolkit's checks for remembered answers and stale state this way:
    the new-values case runs after the public cases and before the hidden ones."""
    public = [c for c in cases if not getattr(c, "hidden", False)]
    hidden = [c for c in cases if getattr(c, "hidden", False)]
    again = new_values(public[0], argnames)
    if backward:
        upstream = [(-0.7 * v + 0.3).astype(v.dtype) for v in again.args[len(argnames):]]
        again = Case(again.label + " and of the upstream gradients",
                     (*again.args[:len(argnames)], *upstream), again.kwargs)
    return public, again, hidden


STEP_ARGNAMES = ("x", "h_prev", "c_prev", "Wx", "Wh", "b")
SEQUENCE_ARGNAMES = ("x", "h0", "Wx", "Wh", "b")


def check_lstm_backward_after_another_forward(t, forward, backward, case, other, argnames,
                                              names):
    """The student's forward on ``case``, then on ``other``, then the backward through the
    first cache: a backward that reads what its forward left outside the cache (a module-level
    list of the steps' caches) gets the second forward's (``toolkit``'s check of the same
    name, for the LSTM's own outputs)."""
    n = len(argnames)
    inputs, upstream = case.args[:n], case.args[n:]
    label = f"{case.label}, its backward called after a forward on other values"
    target = f"rnn.{backward}"
    returned = {"lstm_step_forward": ("h_next", "c_next", "cache"),
                "lstm_forward": ("h", "cache", "c_last")}[forward]
    first = _student_lstm(t, forward, inputs, case.kwargs, label, argnames, returned)
    _student_lstm(t, forward, other.args[:n], other.kwargs, label, argnames, returned)
    got, _ = t.student.call_full(target, *upstream, first[CACHE_INDEX[forward]])
    expected = t.ref.run(lstm_forward_backward, forward, backward, list(inputs),
                         tuple(upstream), **case.kwargs)
    try:
        t.compare(target, got, expected, names=names, label=label)
    except Failed as failure:
        raise Failed(failure.message, kind=failure.kind, error=failure.error,
                     hint="right straight after its own forward, wrong after another one: the "
                          "backward reads something the forward left outside the cache (a "
                          "module-level variable, an attribute of a function); put everything "
                          "the backward needs in the cache and read it from there") from None


@SPEC.test("lstm_step_forward", points=2)
def lstm_step_forward(t):
    """h_next and c_next of one LSTM step, gate blocks in the order i, f, g, o; the first case
    again with new values (the same shapes)."""
    public, again, hidden = public_again_hidden(step_cases(t, 4), STEP_ARGNAMES,
                                                backward=False)

    def run(case):
        check_lstm_forward(t, "lstm_step_forward", case.args[:6], {}, case.label, STEP_ARGNAMES,
                           ("h_next", "c_next"))

    in_order(t, run, public, again, hidden)


@SPEC.test("lstm_step_backward", points=3)
def lstm_step_backward(t):
    """dx, dh_prev, dc_prev, dWx, dWh and db of one LSTM step, from dh_next and dc_next; the
    first case again with new values, and its backward after a forward on those."""
    public, again, hidden = public_again_hidden(step_cases(t, 4), STEP_ARGNAMES,
                                                backward=True)
    names = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")

    def run(case):
        check_lstm_backward(t, "lstm_step_forward", "lstm_step_backward", case.args[:6],
                            case.args[6:], {}, case.label, STEP_ARGNAMES,
                            ("dh_next", "dc_next"), names)

    in_order(t, run, public, again, hidden, then=lambda: check_lstm_backward_after_another_forward(
        t, "lstm_step_forward", "lstm_step_backward", public[0], again, STEP_ARGNAMES, names))


def lstm_sequence_cases(t):
    """The sequence cases, each with c0 None and (for some) a given c0."""
    out = []
    for index, case in enumerate(sequence_cases(t, 4)):
        x, h0, c0, Wx, Wh, b, dh = case.args
        out.append(Case(case.label + ", c0=None", (x, h0, Wx, Wh, b, dh), {}))
        if index % 2 == 0:
            out.append(Case(case.label + ", c0 given", (x, h0, Wx, Wh, b, dh), {"c0": c0}))
    return out


@SPEC.test("lstm_forward", points=1)
def lstm_forward(t):
    """The hidden states (N, T, H) and the last cell state, with c0 None (zeros) or given; the
    first case again with new values (the same shapes)."""
    public, again, hidden = public_again_hidden(lstm_sequence_cases(t), SEQUENCE_ARGNAMES,
                                                backward=False)

    def run(case):
        check_lstm_forward(t, "lstm_forward", case.args[:5], case.kwargs, case.label,
                           SEQUENCE_ARGNAMES, ("h", "c_last"))

    in_order(t, run, public, again, hidden)


@SPEC.test("lstm_backward", points=3)
def lstm_backward(t):
    """Backpropagation through time for the LSTM: dx, dh0, dWx, dWh, db; the first case again
    with new values, and its backward after a forward on those (a backward that reads the
    steps' caches from a module-level list, not from its cache, fails)."""
    public, again, hidden = public_again_hidden(lstm_sequence_cases(t), SEQUENCE_ARGNAMES,
                                                backward=True)

    def run(case):
        check_lstm_backward(t, "lstm_forward", "lstm_backward", case.args[:5], case.args[5:],
                            case.kwargs, case.label, SEQUENCE_ARGNAMES, ("dh",), SEQ_GRADS)

    in_order(t, run, public, again, hidden, then=lambda: check_lstm_backward_after_another_forward(
        t, "lstm_forward", "lstm_backward", public[0], again, SEQUENCE_ARGNAMES, SEQ_GRADS))


# ---------------------------------------------------------------- embedding and output layers

WORD_EMBEDDING = Layer(SPEC, "word_embedding", argnames=("x", "W"), grads=("dW",),
                       cases=embedding_cases)
word_embedding_forward, word_embedding_backward = WORD_EMBEDDING.tests(
    points=(0.5, 1), docs=("out[n, t] = W[x[n, t]].",
                           "dW: the gradients of repeated ids add up; unused rows are zero."))

TEMPORAL_AFFINE = Layer(SPEC, "temporal_affine", argnames=("x", "w", "b"),
                        grads=("dx", "dw", "db"), cases=temporal_affine_cases)
temporal_affine_forward, temporal_affine_backward = TEMPORAL_AFFINE.tests(
    points=(0.5, 1), docs=("out[n, t] = x[n, t] @ w + b.",
                           "dx, and dw and db summed over all N x T positions."))


# ---------------------------------------------------------------- loss

@SPEC.test("temporal_softmax_loss", points=2)
def temporal_softmax_loss(t):
    """The mean cross entropy over the unmasked positions and its gradient; 0 when all are
    masked; stable for scores around 1000; labels at masked positions ignored; the first case
    again with other scores (the same shapes). The loss of float64 scores is compared within
    1e-10 (``float64_loss``): notebook 09 checks CharRNN's gradients numerically, which a loss
    summed in float32 fails."""
    argnames = ("scores", "y", "mask")
    public, again, hidden = public_again_hidden(softmax_cases(t), argnames, backward=False)

    def run(case):
        t.check("rnn.temporal_softmax_loss", *case.args, label=case.label,
                names=("loss", "dscores"), argnames=argnames, float64_loss=True)

    in_order(t, run, public, again, hidden)


# ---------------------------------------------------------------- CharRNN

def char_params(seed, V, H, D, cell, *, weight_scale=0.5, bias_scale=0.3):
    """Parameters of a CharRNN (W_embed only when D is not None), biases non-zero."""
    rng = np.random.default_rng(seed)
    G = H if cell == "rnn" else 4 * H
    shapes = {"Wx": (V if D is None else D, G), "Wh": (H, G), "W_out": (H, V)}
    if D is not None:
        shapes["W_embed"] = (V, D)
    params = {k: weight_scale * rng.standard_normal(s) for k, s in shapes.items()}
    params["b"] = bias_scale * rng.standard_normal(G)
    params["b_out"] = bias_scale * rng.standard_normal(V)
    return params


def char_case(label, seed, N, T, V, H, D, cell, *, with_h0=False):
    rng = np.random.default_rng(seed + 1000)
    x = rng.integers(0, V, (N, T)).astype(np.int64)
    y = rng.integers(0, V, (N, T)).astype(np.int64)
    h0 = None
    if with_h0:
        h0 = np.tanh(rng.standard_normal((N, H)))
        if cell == "lstm":
            h0 = (h0, rng.standard_normal((N, H)))
    kwargs = {} if D is None else {"embed_dim": D}
    return Case(label, ((V, H), kwargs, cell, char_params(seed, V, H, D, cell), x, y, h0))


def char_cases(t):
    cases = [
        char_case("rnn, one-hot inputs, N=2, T=5, V=6, H=4", 51, 2, 5, 6, 4, None, "rnn"),
        char_case("lstm, embed_dim=3, N=3, T=4, V=5, H=3", 52, 3, 4, 5, 3, 3, "lstm"),
        char_case("rnn, embed_dim=2, h0 given (a carried state)", 53, 2, 3, 4, 5, 2, "rnn",
                  with_h0=True),
        char_case("lstm, one-hot, h0 = (h, c) given", 54, 2, 4, 5, 3, None, "lstm",
                  with_h0=True),
        char_case("lstm, N=1, T=1, H=1", 55, 1, 1, 3, 1, 2, "lstm"),
    ]
    return cases + t.hidden("rnn", "char_cases", char_case)


def char_loss(cw, dims, kwargs, cell, params, x, y, h0):
    """The reference CharRNN with ``params``: (loss, grads, h_last)."""
    model = cw.rnn.CharRNN(*dims, cell=cell, rng=np.random.default_rng(0), **kwargs)
    model.params = copy_params(params)
    return model.loss(x, y, h0=h0)


def _flat_loss(value, keys, cell):
    """(loss, grads, h_last) -> (loss, grads[k] for k in keys, h_last parts); else as it is."""
    if not (isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], dict)
            and all(k in value[1] for k in keys)):
        return value
    last = value[2]
    if cell == "lstm":
        parts = tuple(last) if isinstance(last, (tuple, list)) and len(last) == 2 else (last, None)
    else:
        parts = (last,)
    return (value[0], *(value[1][k] for k in keys), *parts)


def check_char_loss(t, model, case):
    target = "rnn.CharRNN"
    dims, kwargs, cell, params, x, y, h0 = case.args
    label = case.label
    got, modified = t.student.method_full(model, "loss", x, y, h0=h0)
    if isinstance(got, list) and len(got) == 3:  # [loss, grads, h_last] unpacks as the tuple
        got = tuple(got)
    t.no_input_modified(target, modified, ("x", "y"), label)
    expected = t.ref.run(char_loss, dims, kwargs, cell, params, x, y, h0)
    keys = sorted(expected[1])
    where = f"CharRNN(loss(x, y, h0), {label}): "
    if not isinstance(got, tuple) or len(got) != 3:
        raise Failed(f"{where}should return (loss, grads, h_last), got {describe(got)}")
    if not isinstance(got[1], dict) or set(keys) - set(got[1]):
        missing = sorted(set(keys) - set(got[1])) if isinstance(got[1], dict) else keys
        raise Failed(f"{where}grads should be a dict with the keys {keys}; missing {missing}",
                     hint="return a gradient for every parameter, keyed like params")
    check_no_extra_grads(where, got[1], keys)
    if cell == "lstm" and not (isinstance(got[2], (tuple, list)) and len(got[2]) == 2):
        raise Failed(f"{where}for the LSTM h_last should be the pair (h, c), got "
                     f"{describe(got[2])}", hint="the next chunk needs both the hidden and the "
                                                 "cell state")
    last_names = ("h_last[0] (h)", "h_last[1] (c)") if cell == "lstm" else ("h_last",)
    t.compare(target, _flat_loss(got, keys, cell), _flat_loss(expected, keys, cell),
              names=("loss", *(f"grads[{k!r}]" for k in keys), *last_names),
              label=f"loss(x, y, h0), {label}", float64_loss=True,
              mistakes=lambda: [(d, _flat_loss(v, keys, cell)) for d, v in t.ref.mistakes(
                  target, char_loss, dims, kwargs, cell, params, x, y, h0)])


def second_char_case(case):
    """``case`` with other ids (x + 1 and y rolled, modulo V) and other parameter values of the
    same shapes (-0.7 p + 0.3), for a second loss call on the same model."""
    dims, kwargs, cell, params, x, y, h0 = case.args
    V = dims[0]
    other = {k: -0.7 * v + 0.3 for k, v in params.items()}
    return Case(case.label + ", a second batch and new parameter values of the same shapes on "
                "the same model", (dims, kwargs, cell, other, (x + 1) % V,
                                   np.roll(y, 1, axis=1), h0), case.kwargs)


STALE_HINT = ("the same model was right on the first batch: something is kept from an earlier "
              "call (caches stored on self, a result remembered by shape, a value computed "
              "once); each call of loss must work from its own x, y, h0 and the current params")

STATE_CARRIED = ("with h0=None the state starts from zero at every call: do not keep h_last on "
                 "the model for the next call (the caller passes it back as h0 when it wants to)")


@SPEC.test("CharRNN", points=3)
def char_rnn(t):
    """Initial parameters (shapes, dtype, zero biases, weight statistics, the rng); loss,
    gradients and h_last for given parameters, both cells, with and without embedding and h0."""
    target = "rnn.CharRNN"
    V, H, D = 30, 40, 20
    model = t.student.new(target, V, H, embed_dim=D, cell="lstm", weight_scale=0.05,
                          rng=Seed(0))
    check_init(t, target, model, {"W_embed": (V, D), "Wx": (D, 4 * H), "Wh": (H, 4 * H),
                                  "b": (4 * H,), "W_out": (H, V), "b_out": (V,)}, 0.05,
               "30, 40, embed_dim=20, cell='lstm', weight_scale=0.05")
    model = t.student.new(target, V, H, cell="rnn", weight_scale=0.2, dtype="float32",
                          rng=Seed(1))
    check_init(t, target, model, {"Wx": (V, H), "Wh": (H, H), "b": (H,), "W_out": (H, V),
                                  "b_out": (V,)}, 0.2,
               "30, 40, cell='rnn', weight_scale=0.2, dtype='float32'", dtype=np.float32)
    check_uses_rng(t, target, (6, 4), {"cell": "rnn", "weight_scale": 0.1},
                   {"Wx": (6, 4), "Wh": (4, 4), "b": (4,), "W_out": (4, 6), "b_out": (6,)},
                   "6, 4, cell='rnn'")
    # W_embed is drawn first, before Wx, Wh and W_out (the docstring's order)
    check_uses_rng(t, target, (6, 4), {"embed_dim": 3, "cell": "lstm", "weight_scale": 0.1},
                   {"W_embed": (6, 3), "Wx": (3, 16), "Wh": (4, 16), "b": (16,),
                    "W_out": (4, 6), "b_out": (6,)}, "6, 4, embed_dim=3, cell='lstm'")
    for case in char_cases(t):
        dims, kwargs, cell, params, _, _, _ = case.args
        model = t.student.new(target, *dims, cell=cell, rng=Seed(1), **kwargs)
        t.student.setattr(model, "params", copy_params(params))
        check_char_loss(t, model, case)
        if case.args[6] is None and not getattr(case.label, "hidden", False):
            # h0=None again on the same model: a zero state again
            try:
                check_char_loss(t, model, Case(case.label + ", a second loss call on the same "
                                               "model", case.args, case.kwargs))
            except Failed as failure:
                raise Failed(failure.message + " (the first call was right)", STATE_CARRIED,
                             kind=failure.kind, error=failure.error) from None
            # other ids and parameters of the same shapes on the same model: a loss that keeps
            # anything of an earlier call (caches, a result by shape, a weight prepared once)
            # fails
            second = second_char_case(case)
            t.student.setattr(model, "params", copy_params(second.args[3]))
            try:
                check_char_loss(t, model, second)
            except Failed as failure:
                raise Failed(failure.message + " (the first call was right)",
                             failure.hint or STALE_HINT, kind=failure.kind,
                             error=failure.error) from None


# ---------------------------------------------------------------- CharRNN.sample

STATE_CARRIED_SAMPLE = ("start the hidden state from zero at every call of sample (a local "
                        "variable), not from the state a previous call left on self")

def greedy_ids(cw, dims, kwargs, cell, params, prefix, length):
    """The greedy continuation (argmax at every step) of ``prefix`` and the smallest gap between
    the best and second-best score along it."""
    model = cw.rnn.CharRNN(*dims, cell=cell, rng=np.random.default_rng(0), **kwargs)
    model.params = copy_params(params)
    seq, gap = list(prefix), np.inf
    V = dims[0]
    for _ in range(length):
        x = np.array([seq], dtype=np.int64)
        _, _, last = model.loss(x, x)  # only the state after the last id is used
        h = last[0] if cell == "lstm" else last
        scores = h[0] @ params["W_out"] + params["b_out"]
        order = np.sort(scores)
        gap = min(gap, float(order[-1] - order[-2])) if V > 1 else gap
        seq.append(int(np.argmax(scores)))
    return np.array(seq[len(prefix):], dtype=np.int64), gap


def _sample(t, model, prefix, length, temperature, seed, label):
    t._label(label)  # an error raised by sample names this call, not the model's constructor
    got = t.student.method(model, "sample", prefix, length, temperature=temperature,
                           rng=Seed(seed))
    where = f"CharRNN.sample({label}): "
    if isinstance(got, np.ndarray) and got.shape != (length,):
        with_prefix = got.shape == (len(prefix) + length,)
        raise Failed(f"{where}should return {length} ids (shape ({length},)), got shape "
                     f"{got.shape}",
                     hint="return the new ids only, without the prefix" if with_prefix else
                     "draw exactly `length` ids, one per step of `for _ in range(length)` "
                     "(none for length 0)")
    try:
        ids = as_array("ids", got, np.zeros(length, dtype=np.int64))
    except Failed as failure:
        raise Failed(where + failure.message) from None
    return ids


def sample_model(t, V, H, D, cell, seed, params=None):
    if params is None:
        params = char_params(seed, V, H, D, cell, weight_scale=1.5, bias_scale=0.5)
    kwargs = {} if D is None else {"embed_dim": D}
    model = t.student.new("rnn.CharRNN", V, H, cell=cell, rng=Seed(2), **kwargs)
    t.student.setattr(model, "params", copy_params(params))
    return model, params, kwargs


ARRAY_PREFIX_HINT = ("prefix_ids may be a list or a 1-D array: read its ids one by one (for "
                     "token in prefix_ids), or through the provided prefix = "
                     "np.asarray(prefix_ids); adding a list to it adds numbers to an array")


@SPEC.test("CharRNN.sample", points=2)
def char_rnn_sample(t):
    """Length, range, determinism given the rng, the greedy choice at a tiny temperature, and
    frequencies matching softmax(scores / temperature)."""
    for cell, D, seed in (("rnn", None, 64), ("lstm", 3, 72)):
        V, H = 6, 5
        model, params, kwargs = sample_model(t, V, H, D, cell, seed)
        label = f"cell={cell!r}, prefix [1, 4, 2], length 40"
        ids = _sample(t, model, [1, 4, 2], 40, 1.0, 3, label)
        if ids.min() < 0 or ids.max() >= V:
            raise Failed(f"CharRNN.sample({label}): ids must lie in [0, {V}), got values from "
                         f"{ids.min()} to {ids.max()}")
        again = _sample(t, model, [1, 4, 2], 40, 1.0, 3, label)
        if not np.array_equal(ids, again):
            fresh, _, _ = sample_model(t, V, H, D, cell, seed)
            first_of_fresh = _sample(t, fresh, [1, 4, 2], 40, 1.0, 3, label)
            if np.array_equal(first_of_fresh, ids):
                raise Failed(f"CharRNN.sample({label}): two calls on the same model with the same "
                             "rng seed gave different ids, while a new model's first call gave "
                             "the first call's ids: the first call left state behind",
                             STATE_CARRIED_SAMPLE)
            raise Failed(f"CharRNN.sample({label}): two calls with the same rng seed gave "
                         "different ids", hint="draw every random number from the rng argument")
        # the docstring: prefix_ids is a list or a 1-D array; the same ids either way
        from_array = _sample(t, model, np.array([1, 4, 2]), 40, 1.0, 3,
                             f"cell={cell!r}, prefix np.array([1, 4, 2]), length 40")
        if not np.array_equal(ids, from_array):
            raise Failed(f"CharRNN.sample(cell={cell!r}, prefix np.array([1, 4, 2]), length 40):"
                         " the prefix as a 1-D array gave other ids than the same prefix as a "
                         "list with the same rng seed; the docstring allows either",
                         hint=ARRAY_PREFIX_HINT)
        _sample(t, model, [1, 4, 2], 0, 1.0, 3, f"cell={cell!r}, prefix [1, 4, 2], length 0")
        other = _sample(t, model, [1, 4, 2], 40, 1.0, 4, label)
        if np.array_equal(ids, other):
            raise Failed(f"CharRNN.sample({label}): calls with different rng seeds gave the same "
                         "40 ids", hint="draw the ids at random from softmax(scores / "
                                        "temperature) with the rng, not the most likely id")
        check_greedy(t, model, (V, H), kwargs, cell, params, [3, 0], 12, (5,),
                     f"cell={cell!r}, prefix [3, 0], temperature=1e-3")
    check_frequencies(t)
    check_feeds_drawn_ids(t)
    for case in t.hidden("rnn", "flat_greedy_cases", flat_greedy_case):  # hidden cases last
        (V, H), D, cell, params, prefix, length = case.args
        model, _, kwargs = sample_model(t, V, H, D, cell, None, params)
        check_greedy(t, model, (V, H), kwargs, cell, params, prefix, length, (11, 12, 13),
                     case.label)


GREEDY_HINT = (
    "feed every prefix id, then divide the scores by the temperature at every step (the first "
    "new id included), subtract their max before exp, and feed each drawn id back in; the state "
    "h (and the LSTM's c) runs on from one step to the next, from the prefix to the last id, "
    "starting from zeros only once")
TINY_TEMPERATURE_HINT = (
    "at a tiny temperature the probabilities under- or overflow (p ** (1 / temperature) is 0 "
    "for every id, exp(scores / temperature) is inf) and their ratio is 0 / 0 or inf / inf = "
    "NaN: divide the scores by the temperature, subtract their max, then exponentiate")


def check_greedy(t, model, dims, kwargs, cell, params, prefix, length, seeds, label):
    """At temperature 1e-3 every id must be the most likely one, for each rng seed."""
    expected, gap = t.ref.run(greedy_ids, dims, kwargs, cell, params, prefix, length)
    assert gap > 0.05, "the greedy test needs clear winners"  # a fault of the grader
    for seed in seeds:
        try:
            got = _sample(t, model, prefix, length, 1e-3, seed, label)
        except StudentError as error:
            if "probabilities" not in error.message.lower():
                raise
            from ..engine import error_message  # the message with its place in the file

            raise Failed(f"CharRNN.sample({label}): {error_message(error)}",
                         hint=TINY_TEMPERATURE_HINT) from None
        if not np.array_equal(got, expected):
            first = int(np.argmax(got != expected))
            raise Failed(f"CharRNN.sample({label}): at a tiny temperature the ids should be the "
                         f"most likely ones (greedy), {expected.tolist()}; got {got.tolist()} "
                         f"(first differs at position {first})",
                         hint=GREEDY_HINT)


def flat_greedy_case(label, seed, V, H, D, cell, prefix, length, *, weight_scale, out_scale):
    """A greedy case whose scores spread little (W_out scaled by ``out_scale``, small b_out):
    at temperature 1 the most likely id has a probability of about 0.2 to 0.3, so a step that
    ignores the temperature (the first new id drawn before the loop, say) rarely gives it; the
    best and second-best scores still differ by more than 0.05 at every step."""
    params = char_params(seed, V, H, D, cell, weight_scale=weight_scale, bias_scale=0.1)
    params["W_out"] = out_scale * params["W_out"]
    return Case(label, ((V, H), D, cell, params, prefix, length))


# A chain over 4 ids that a CharRNN with one-hot inputs can hold exactly: from 0 the next id is
# 1 (probability 0.55) or 2 (0.45); 1 is followed by 3, and 2 and 3 by 0.
CHAIN = {0: {1: 0.55, 2: 0.45}, 1: {3: 1.0}, 2: {0: 1.0}, 3: {0: 1.0}}


def chain_params():
    """CharRNN ('rnn', one-hot inputs, V = H = 4) parameters whose next-id distribution depends
    only on the id just fed: Wx = 10 I and Wh = 0 make h = tanh(10) one_hot(id) (1 to 8
    digits), and row ``id`` of W_out holds the log-probabilities of the next id (-30 where
    ``CHAIN`` allows none)."""
    V = len(CHAIN)
    W_out = np.full((V, V), -30.0)
    for state, nexts in CHAIN.items():
        for nxt, p in nexts.items():
            W_out[state, nxt] = np.log(p)
    return {"Wx": 10.0 * np.eye(V), "Wh": np.zeros((V, V)), "b": np.zeros(V),
            "W_out": W_out / np.tanh(10.0), "b_out": np.zeros(V)}


def check_feeds_drawn_ids(t):
    """Each id drawn must be the one fed to the next step. With ``chain_params`` the id after
    2 is always 0; an implementation that feeds back the most likely id (1) instead of the
    drawn one (2) follows 2 with 3, which the chain never does."""
    V = len(CHAIN)
    model = t.student.new("rnn.CharRNN", V, V, cell="rnn", rng=Seed(2))
    t.student.setattr(model, "params", chain_params())
    label = "a 4-id chain: 0 -> 1 (0.55) or 2 (0.45), 1 -> 3, 2 -> 0, 3 -> 0; prefix [3]"
    for k in range(3):
        ids = _sample(t, model, [3], 60, 1.0, 31 + k, label)
        if ids.min() < 0 or ids.max() >= V:
            raise Failed(f"CharRNN.sample({label}): ids must lie in [0, {V})")
        seq = [3] + ids.tolist()
        for position, (a, b) in enumerate(zip(seq, seq[1:])):
            if b not in CHAIN[a]:
                raise Failed(f"CharRNN.sample({label}): id {b} follows id {a} (at position "
                             f"{position}), which the model gives probability about 1e-13; "
                             f"ids {seq[1:][:position + 3]}...",
                             hint="feed each id you drew into the next step (not the most "
                                  "likely id, not the prefix again): the next distribution "
                                  "depends on what was actually drawn")


def check_frequencies(t):
    """W_out = 0: the scores are b_out at every step, so the ids are independent draws from
    softmax(b_out / temperature)."""
    V, H = 4, 3
    b_out = np.array([1.0, 0.0, -1.0, 0.5])
    params = char_params(71, V, H, None, "rnn")
    params["W_out"] = np.zeros((H, V))
    params["b_out"] = b_out
    model = t.student.new("rnn.CharRNN", V, H, cell="rnn", rng=Seed(2))
    t.student.setattr(model, "params", params)
    # several calls of 200 ids, so that an implementation that reruns the whole sequence for
    # every new id (quadratic, but correct) stays well within the time limit of a call
    calls, length = 8, 200
    n = calls * length
    for temperature in (0.5, 2.0):
        label = f"W_out = 0, b_out = {b_out.tolist()}, temperature={temperature}, {n} ids"
        ids = np.concatenate([_sample(t, model, [0], length, temperature, 7 + k, label)
                              for k in range(calls)])
        if ids.min() < 0 or ids.max() >= V:
            raise Failed(f"CharRNN.sample({label}): ids must lie in [0, {V})")
        p = np.exp(b_out / temperature)
        p /= p.sum()
        freq = np.bincount(ids, minlength=V) / n
        # each frequency has a standard deviation of sqrt(p (1 - p) / n); allow 6 of those
        if np.any(np.abs(freq - p) > 6 * np.sqrt(p * (1 - p) / n) + 1e-3):
            raise Failed(f"CharRNN.sample({label}): frequencies {np.round(freq, 3).tolist()}, "
                         f"expected about softmax(b_out / temperature) = "
                         f"{np.round(p, 3).tolist()}",
                         hint="draw from softmax(scores / temperature): divide the scores by the "
                              "temperature (do not multiply), and draw with rng.choice(V, p=p)")

