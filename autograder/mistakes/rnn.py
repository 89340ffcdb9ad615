"""Known mistakes of unit 09, rnn: wrong variants with the signature of the function they imitate.

Backward variants read the reference caches: rnn_step (x, h_prev, Wx, Wh, h_next); rnn_forward
and lstm_forward a list of step caches; lstm_step (x, h_prev, c_prev, Wx, Wh, i, f, g, o,
tanh(c_next)); word_embedding (x, W.shape); temporal_affine (x, w, b). The wrong CharRNNs are
small NumPy models built from the helpers here, initialised like the reference. Each mistake is
tested to be recognised (tests/test_hints.py).
"""

from itertools import permutations

import numpy as np


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---------------------------------------------------------------- RNN step

def _rnn_step(x, h_prev, Wx, Wh, b, *, act=np.tanh, recurrent=True, transposed=False,
              bias_outside=False):
    a = x @ Wx + (0.0 if bias_outside else b)
    if recurrent:
        a = a + h_prev @ (Wh.T if transposed else Wh)
    h_next = act(a) + (b if bias_outside else 0.0)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def rnn_step_forward_mistakes():
    return [
        ("the nonlinearity of the vanilla RNN is tanh, not ReLU",
         lambda x, h_prev, Wx, Wh, b: _rnn_step(x, h_prev, Wx, Wh, b,
                                                act=lambda a: np.maximum(a, 0))),
        ("the recurrent term h_prev @ Wh is missing: the state must carry the past",
         lambda x, h_prev, Wx, Wh, b: _rnn_step(x, h_prev, Wx, Wh, b, recurrent=False)),
        ("the recurrent term is h_prev @ Wh (Wh is (H, H), rows indexed by h_prev), not "
         "h_prev @ Wh.T",
         lambda x, h_prev, Wx, Wh, b: _rnn_step(x, h_prev, Wx, Wh, b, transposed=True)),
        ("the bias is added after the tanh: it belongs inside, h_next = tanh(x @ Wx + h_prev @ "
         "Wh + b)",
         lambda x, h_prev, Wx, Wh, b: _rnn_step(x, h_prev, Wx, Wh, b, bias_outside=True)),
    ]


def _rnn_step_backward(dh_next, cache, *, local="tanh", db_mean=False, dWh_from_next=False,
                       dh_prev_transposed=False):
    x, h_prev, Wx, Wh, h_next = cache
    if local == "tanh":
        da = dh_next * (1 - h_next ** 2)
    elif local == "no_square":
        da = dh_next * (1 - h_next)
    else:
        da = dh_next
    dx = da @ Wx.T
    dh_prev = da @ (Wh if dh_prev_transposed else Wh.T)
    dWx = x.T @ da
    dWh = (h_next if dWh_from_next else h_prev).T @ da
    db = da.mean(axis=0) if db_mean else da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


def rnn_step_backward_mistakes():
    return [
        ("the local gradient of tanh is 1 - h_next**2 (the output squared), not 1 - h_next",
         lambda dh_next, cache: _rnn_step_backward(dh_next, cache, local="no_square")),
        ("multiply dh_next by tanh's local gradient 1 - h_next**2 before the matrix products",
         lambda dh_next, cache: _rnn_step_backward(dh_next, cache, local="none")),
        ("db is the sum of da over the batch, not the mean",
         lambda dh_next, cache: _rnn_step_backward(dh_next, cache, db_mean=True)),
        ("dWh = h_prev.T @ da: Wh multiplies the previous state h_prev, not h_next",
         lambda dh_next, cache: _rnn_step_backward(dh_next, cache, dWh_from_next=True)),
        ("dh_prev = da @ Wh.T (the forward computes h_prev @ Wh); da @ Wh is the gradient of "
         "h_prev @ Wh.T",
         lambda dh_next, cache: _rnn_step_backward(dh_next, cache, dh_prev_transposed=True)),
    ]


# ---------------------------------------------------------------- RNN sequence

def _rnn_forward(x, h0, Wx, Wh, b, *, zero_h0=False, always_h0=False, shifted=False):
    """``shifted``: h[:, t] is the state before step t (h0, h_1, ..., h_{T-1})."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    steps = []
    prev = np.zeros_like(h0) if zero_h0 else h0
    for t in range(T):
        start = h0 if always_h0 else prev
        if shifted:
            h[:, t] = prev
        prev, cache = _rnn_step(x[:, t], start, Wx, Wh, b)
        if not shifted:
            h[:, t] = prev
        steps.append(cache)
    return h, steps


def rnn_forward_mistakes():
    return [
        ("the first step starts from h0 (an argument), not from zeros",
         lambda x, h0, Wx, Wh, b: _rnn_forward(x, h0, Wx, Wh, b, zero_h0=True)),
        ("each step reads the state of the step before it (h[:, t-1]), not h0 every time",
         lambda x, h0, Wx, Wh, b: _rnn_forward(x, h0, Wx, Wh, b, always_h0=True)),
        ("h[:, t] is the state after step t, h_t = tanh(x_t Wx + h_{t-1} Wh + b): store it after "
         "the step, not the state the step started from (h0 is not part of the output)",
         lambda x, h0, Wx, Wh, b: _rnn_forward(x, h0, Wx, Wh, b, shifted=True)),
    ]


def _rnn_backward(dh, steps, *, carry=True, upstream="all", accumulate=True, forwards=False,
                  skip_first=False):
    """``skip_first``: the loop stops before step 0 (reversed(range(1, T)))."""
    N, T, H = dh.shape
    D = steps[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = dWh = db = 0.0
    carried = np.zeros((N, H))
    order = range(T) if forwards else reversed(range(1 if skip_first else 0, T))
    for t in order:
        own = dh[:, t] if upstream == "all" or t == T - 1 else 0.0
        total = own + carried if carry else own
        dx[:, t], carried_t, dWx_t, dWh_t, db_t = _rnn_step_backward(total, steps[t])
        if carry:
            carried = carried_t
        else:
            carried = carried_t  # kept for dh0 only
        if accumulate:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        else:
            dWx, dWh, db = dWx_t, dWh_t, db_t
    return dx, carried, dWx, dWh, db


def rnn_backward_mistakes():
    return [
        ("the gradient of h_t is dh[:, t] plus the dh_prev carried back from step t+1: the "
         "carried gradient was dropped",
         lambda dh, cache: _rnn_backward(dh, cache, carry=False)),
        ("dh[:, t], the upstream gradient of every hidden state, must be added to the carried "
         "gradient at every step, not only at the last one",
         lambda dh, cache: _rnn_backward(dh, cache, upstream="last")),
        ("the weights are shared by every step: dWx, dWh and db are sums over the steps, not the "
         "gradients of one step",
         lambda dh, cache: _rnn_backward(dh, cache, accumulate=False)),
        ("walk the steps backwards, from t = T-1 down to 0: the gradient flows from later steps "
         "to earlier ones",
         lambda dh, cache: _rnn_backward(dh, cache, forwards=True)),
        ("the loop must reach step 0 (reversed(range(T)), down to t = 0 included): step 0 "
         "gives dx[:, 0], its share of dWx, dWh and db, and dh0",
         lambda dh, cache: _rnn_backward(dh, cache, skip_first=True)),
    ]


# ---------------------------------------------------------------- LSTM step

def _lstm_step(x, h_prev, c_prev, Wx, Wh, b, *, order="ifgo", g_act=np.tanh, tanh_out=True,
               h_from_prev=False, o_act=None):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), (o_act or _sigmoid)(blocks["o"])
    g = g_act(blocks["g"])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c if tanh_out else o * c_next
    if h_from_prev:
        h_next = o * np.tanh(c_prev)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)


def lstm_step_forward_mistakes():
    return [
        ("the gate blocks are in PyTorch's order i, f, g, o (input, forget, cell candidate, "
         "output); i, f, o, g is another layout",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         order="ifog")),
        ("the first block is the input gate and the second the forget gate (order i, f, g, o): "
         "c_next = f * c_prev + i * g",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         order="figo")),
        ("the cell candidate g goes through tanh, not the sigmoid (only i, f and o are gates)",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         g_act=_sigmoid)),
        ("h_next = o * tanh(c_next): the tanh of the cell state is missing",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         tanh_out=False)),
        ("h_next = o * tanh(c_next), the cell state just computed, not the previous one c_prev",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         h_from_prev=True)),
        ("the output gate o is a gate, in (0, 1): it goes through the sigmoid, not tanh (only "
         "the cell candidate g and the cell state use tanh)",
         lambda x, h_prev, c_prev, Wx, Wh, b: _lstm_step(x, h_prev, c_prev, Wx, Wh, b,
                                                         o_act=np.tanh)),
    ] + _other_gate_orders()


GATE_ORDER_HINT = ("the four blocks of a = x @ Wx + h_prev @ Wh + b are, in order, i, f, g, o "
                   "(a[:, 0:H] the input gate, a[:, H:2H] the forget gate, a[:, 2H:3H] the cell "
                   "candidate, a[:, 3H:4H] the output gate); yours reads them in the order {}")


def _other_gate_orders():
    """Every other assignment of the four blocks to i, f, g, o (the two above have their own
    words): a student who took another layout (Keras', a paper's) is told the order read."""
    listed = {"ifgo", "ifog", "figo"}
    return [(GATE_ORDER_HINT.format(", ".join(order)),
             lambda x, h_prev, c_prev, Wx, Wh, b, order="".join(order): _lstm_step(
                 x, h_prev, c_prev, Wx, Wh, b, order=order))
            for order in permutations("ifgo") if "".join(order) not in listed]


def _lstm_step_backward(dh_next, dc_next, cache, *, use_dc_next=True, tanh_path=True,
                        order="ifgo", df_from_next=False, forget_in_dc_prev=True, h_path=True):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    do = dh_next * tanh_c
    through_h = dh_next * o * (1 - tanh_c ** 2) if tanh_path else dh_next * o
    through_h = through_h if h_path else 0.0
    dc = (dc_next if use_dc_next else 0.0) + through_h
    c_next = f * c_prev + i * g
    di, dg = dc * g, dc * i
    df = dc * (c_next if df_from_next else c_prev)
    dc_prev = dc * f if forget_in_dc_prev else dc
    grads = {"i": di * i * (1 - i), "f": df * f * (1 - f), "g": dg * (1 - g ** 2),
             "o": do * o * (1 - o)}
    da = np.concatenate([grads[name] for name in order], axis=1)
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_step_backward_mistakes():
    return [
        ("the cell state's gradient is dc_next plus what comes through h_next = o * tanh(c): "
         "dc_next was dropped",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, use_dc_next=False)),
        ("dc = dc_next drops the second path into the cell state: h_next = o * tanh(c_next) "
         "depends on c_next too, so dc = dc_next + dh_next * o * (1 - tanh(c_next)**2)",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, h_path=False)),
        ("the path through h_next = o * tanh(c_next) carries tanh'(c_next) = 1 - tanh(c_next)**2: "
         "dc gets dh_next * o * (1 - tanh(c_next)**2), not dh_next * o",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, tanh_path=False)),
        ("the gradient blocks of the pre-activations follow the forward's order i, f, g, o, "
         "not i, f, o, g",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, order="ifog")),
        ("df = dc * c_prev: the forget gate multiplies the previous cell state, not c_next",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, df_from_next=True)),
        ("dc_prev = dc * f: the previous cell state reaches c_next through the forget gate",
         lambda dh, dc, cache: _lstm_step_backward(dh, dc, cache, forget_in_dc_prev=False)),
    ]


# ---------------------------------------------------------------- LSTM sequence

def _lstm_forward(x, h0, Wx, Wh, b, c0=None, *, ignore_c0=False, return_h=False, carry_c=True,
                  carry_h=True):
    """``carry_c``/``carry_h`` False: every step starts from the initial c (or h0)."""
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = c_init = np.zeros((N, H)) if c0 is None or ignore_c0 else c0
    prev, steps = h0, []
    for t in range(T):
        prev, c, cache = _lstm_step(x[:, t], prev if carry_h else h0, c if carry_c else c_init,
                                    Wx, Wh, b)
        h[:, t] = prev
        steps.append(cache)
    return h, steps, (prev if return_h else c)


def lstm_forward_mistakes():
    return [
        ("the initial cell state is c0 when it is given (zeros only when c0 is None)",
         lambda x, h0, Wx, Wh, b, *, c0=None: _lstm_forward(x, h0, Wx, Wh, b, c0,
                                                            ignore_c0=True)),
        ("c_last is the cell state c after the last step, not the hidden state h",
         lambda x, h0, Wx, Wh, b, *, c0=None: _lstm_forward(x, h0, Wx, Wh, b, c0,
                                                            return_h=True)),
        (LSTM_C_NOT_CARRIED,
         lambda x, h0, Wx, Wh, b, *, c0=None: _lstm_forward(x, h0, Wx, Wh, b, c0,
                                                            carry_c=False)),
        ("each step reads the hidden state of the step before it (h[:, t-1]), not h0 every time",
         lambda x, h0, Wx, Wh, b, *, c0=None: _lstm_forward(x, h0, Wx, Wh, b, c0,
                                                            carry_h=False)),
    ]


LSTM_C_NOT_CARRIED = ("the cell state carries over like h: each step reads the c_next of the step "
                      "before it, not the initial cell state (c0, or zeros) every time")


def _lstm_backward(dh, steps, *, carry_c=True, carry_h=True, accumulate=True, tanh_path=True):
    N, T, H = dh.shape
    D = steps[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = dWh = db = 0.0
    dh_prev, dc_prev = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        total = dh[:, t] + dh_prev if carry_h else dh[:, t]
        dc_in = dc_prev if carry_c else np.zeros((N, H))
        dx[:, t], dh_prev, dc_prev, dWx_t, dWh_t, db_t = _lstm_step_backward(
            total, dc_in, steps[t], tanh_path=tanh_path)
        if accumulate:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        else:
            dWx, dWh, db = dWx_t, dWh_t, db_t
    return dx, dh_prev, dWx, dWh, db


def lstm_backward_mistakes():
    return [
        ("the cell state carries its gradient from step to step: pass the dc_prev of step t+1 as "
         "dc_next of step t (it was dropped)",
         lambda dh, cache: _lstm_backward(dh, cache, carry_c=False)),
        ("the gradient of h_t is dh[:, t] plus the dh_prev carried back from step t+1: the "
         "carried gradient was dropped",
         lambda dh, cache: _lstm_backward(dh, cache, carry_h=False)),
        ("the weights are shared by every step: dWx, dWh and db are sums over the steps, not the "
         "gradients of one step",
         lambda dh, cache: _lstm_backward(dh, cache, accumulate=False)),
        ("the path through h = o * tanh(c) carries tanh'(c) = 1 - tanh(c)**2: dc gets "
         "dh * o * (1 - tanh(c)**2), not dh * o",
         lambda dh, cache: _lstm_backward(dh, cache, tanh_path=False)),
    ]


# ---------------------------------------------------------------- embedding

def _embedding_backward(dout, cache, *, how):
    x, shape = cache
    D = shape[1]
    ids, rows = x.reshape(-1), dout.reshape(-1, D)
    dW = np.zeros(shape)
    if how == "assign":
        dW[ids] = rows
        return dW
    np.add.at(dW, ids, rows)
    if how == "add":
        return dW
    if how == "mean":
        return dW / ids.size
    counts = np.bincount(ids, minlength=shape[0])
    return dW / np.maximum(counts, 1)[:, None]


def word_embedding_backward_mistakes():
    return [
        ("repeated ids must add up their gradients: dW[x] = dout (and dW[x] += dout, which "
         "NumPy buffers) keeps only one of them; use np.add.at(dW, x, dout)",
         lambda dout, cache: _embedding_backward(dout, cache, how="assign")),
        ("dW is the sum of dout over the positions of each id, not divided by N * T",
         lambda dout, cache: _embedding_backward(dout, cache, how="mean")),
        ("dW[v] is the sum of dout over the positions where x == v, not their mean",
         lambda dout, cache: _embedding_backward(dout, cache, how="per_id_mean")),
    ]


# ---------------------------------------------------------------- temporal affine

def temporal_affine_forward_mistakes():
    return [
        ("the bias is missing: out = x @ w + b",
         lambda x, w, b: (x @ w, (x, w, b))),
    ]


def _temporal_affine_backward(dout, cache, *, db_mean=False, last_only=False, over_t=False,
                              db_over_n=False):
    x, w, _ = cache
    H, M = w.shape
    dx = dout @ w.T
    if last_only:
        dw, db = x[:, -1].T @ dout[:, -1], dout[:, -1].sum(axis=0)
    else:
        dw = x.reshape(-1, H).T @ dout.reshape(-1, M)
        db = dout.reshape(-1, M).sum(axis=0)
    if db_mean:
        db = dout.reshape(-1, M).mean(axis=0)
    if over_t:
        dw, db = dw / x.shape[1], db / x.shape[1]
    if db_over_n:
        db = dout.sum(axis=0)
    return dx, dw, db


def temporal_affine_backward_mistakes():
    return [
        ("db is the sum of dout over all N x T positions, not the mean",
         lambda dout, cache: _temporal_affine_backward(dout, cache, db_mean=True)),
        ("w and b are used at every time step: dw and db sum over all of them, not only the "
         "last one",
         lambda dout, cache: _temporal_affine_backward(dout, cache, last_only=True)),
        ("dw and db are sums over the time steps, not divided by T",
         lambda dout, cache: _temporal_affine_backward(dout, cache, over_t=True)),
        (DB_OVER_N_ONLY,
         lambda dout, cache: _temporal_affine_backward(dout, cache, db_over_n=True)),
    ]


DB_OVER_N_ONLY = ("db sums dout over the batch and the time steps, both axes 0 and 1 "
                  "(dout.reshape(-1, M).sum(axis=0)): summed over axis 0 alone it is (T, M)")


# ---------------------------------------------------------------- temporal softmax loss

def _temporal_softmax(scores, y, mask, *, divide_by="kept", mask_loss=True, mask_grad=True,
                      stable=True, raw_labels=False):
    N, T, V = scores.shape
    flat = scores.reshape(-1, V)
    if stable:
        flat = flat - flat.max(axis=1, keepdims=True)
    probs = np.exp(flat) / np.exp(flat).sum(axis=1, keepdims=True)
    keep = mask.reshape(-1)
    labels = np.where(keep, y.reshape(-1), 0) if mask_loss else y.reshape(-1)
    weight_loss = keep.astype(float) if mask_loss else np.ones(N * T)
    weight_grad = keep.astype(float) if mask_grad else np.ones(N * T)
    count = {"kept": max(int(mask.sum()), 1), "all": N * T, "N": N}[divide_by]
    if not mask_loss:
        count = N * T
    rows = np.arange(N * T)
    loss = -(np.log(probs[rows, labels]) * weight_loss).sum() / count
    dflat = probs.copy()
    if raw_labels:  # the 1 subtracted at each masked position's own label (where in range)
        flat_y = y.reshape(-1)
        labels = np.where(keep | ((flat_y >= 0) & (flat_y < V)), flat_y, 0)
    dflat[rows, labels] -= 1
    dflat *= weight_grad[:, None] / count
    return float(loss), dflat.reshape(N, T, V)


MASK_GRAD = "the gradient is zero at masked positions too (they are not part of the loss)"


def temporal_softmax_loss_mistakes():
    return [
        ("average over the unmasked positions (mask.sum()), not over all N * T positions",
         lambda scores, y, mask: _temporal_softmax(scores, y, mask, divide_by="all")),
        ("average over the unmasked positions (mask.sum()), not over the N sequences",
         lambda scores, y, mask: _temporal_softmax(scores, y, mask, divide_by="N")),
        ("masked positions count neither in the loss nor in the average: the mask was ignored",
         lambda scores, y, mask: _temporal_softmax(scores, y, mask, mask_loss=False,
                                                   mask_grad=False)),
        (MASK_GRAD, lambda scores, y, mask: _temporal_softmax(scores, y, mask, mask_grad=False)),
        (MASK_GRAD, lambda scores, y, mask: _temporal_softmax(scores, y, mask, mask_grad=False,
                                                              raw_labels=True)),
        ("subtract each position's largest score before exponentiating: exp overflows for "
         "scores around 1000",
         lambda scores, y, mask: _temporal_softmax(scores, y, mask, stable=False)),
    ]


MISTAKES = {
    "rnn.rnn_step_forward": rnn_step_forward_mistakes(),
    "rnn.rnn_step_backward": rnn_step_backward_mistakes(),
    "rnn.rnn_forward": rnn_forward_mistakes(),
    "rnn.rnn_backward": rnn_backward_mistakes(),
    "rnn.lstm_step_forward": lstm_step_forward_mistakes(),
    "rnn.lstm_step_backward": lstm_step_backward_mistakes(),
    "rnn.lstm_forward": lstm_forward_mistakes(),
    "rnn.lstm_backward": lstm_backward_mistakes(),
    "rnn.word_embedding_backward": word_embedding_backward_mistakes(),
    "rnn.temporal_affine_forward": temporal_affine_forward_mistakes(),
    "rnn.temporal_affine_backward": temporal_affine_backward_mistakes(),
    "rnn.temporal_softmax_loss": temporal_softmax_loss_mistakes(),
}


# ---------------------------------------------------------------- CharRNN

def _char_rnn(*, divide_by="all", use_h0=True, detach_state=False, c_from=None):
    """A CharRNN built like the reference (same params, same rng draws) with one mistake."""

    class CharRNN:
        def __init__(self, vocab_size, hidden_dim, *, embed_dim=None, cell="lstm",
                     weight_scale=0.1, dtype=np.float64, rng):
            self.vocab_size, self.hidden_dim, self.embed_dim = vocab_size, hidden_dim, embed_dim
            self.cell, self.dtype = cell, np.dtype(dtype)
            V, H = vocab_size, hidden_dim
            D = V if embed_dim is None else embed_dim
            G = H if cell == "rnn" else 4 * H
            shapes = {"Wx": (D, G), "Wh": (H, G), "W_out": (H, V)}
            if embed_dim is not None:
                shapes = {"W_embed": (V, D), **shapes}
            self.params = {k: (weight_scale * rng.standard_normal(s)).astype(self.dtype)
                           for k, s in shapes.items()}
            self.params["b"] = np.zeros(G, dtype=self.dtype)
            self.params["b_out"] = np.zeros(V, dtype=self.dtype)

        def loss(self, x, y, h0=None):
            p, (N, T), H, V = self.params, x.shape, self.hidden_dim, self.vocab_size
            e = np.eye(V)[x] if self.embed_dim is None else p["W_embed"][x]
            if self.cell == "rnn":
                start = h0 if h0 is not None and use_h0 else np.zeros((N, H))
                h, steps = _rnn_forward(e, start, p["Wx"], p["Wh"], p["b"])
                last = h[:, -1]
            else:
                start, c0 = h0 if h0 is not None and use_h0 else (np.zeros((N, H)), None)
                if h0 is not None and c_from == "zeros":  # c of the pair ignored
                    c0 = None
                elif h0 is not None and c_from == "h":  # h given for both states
                    c0 = start
                h, steps, c_last = _lstm_forward(e, start, p["Wx"], p["Wh"], p["b"], c0)
                last = (h[:, -1], c_last)
            scores = h @ p["W_out"] + p["b_out"]
            count = {"all": N * T, "N": N}[divide_by]
            loss, dscores = _temporal_softmax(scores, y, np.ones((N, T), dtype=bool))
            loss, dscores = loss * N * T / count, dscores * N * T / count
            grads = {"W_out": h.reshape(-1, H).T @ dscores.reshape(-1, V),
                     "b_out": dscores.reshape(-1, V).sum(axis=0)}
            dh = dscores @ p["W_out"].T
            if detach_state:  # no gradient between the steps: each step backward alone
                backward = _rnn_backward if self.cell == "rnn" else _lstm_backward
                de, _, grads["Wx"], grads["Wh"], grads["b"] = backward(
                    dh, steps, **({"carry": False} if self.cell == "rnn" else
                                  {"carry_h": False, "carry_c": False}))
            elif self.cell == "rnn":
                de, _, grads["Wx"], grads["Wh"], grads["b"] = _rnn_backward(dh, steps)
            else:
                de, _, grads["Wx"], grads["Wh"], grads["b"] = _lstm_backward(dh, steps)
            if self.embed_dim is not None:
                grads["W_embed"] = _embedding_backward(de, (x, p["W_embed"].shape), how="add")
            return loss, grads, last

    return CharRNN


def char_rnn_mistakes():
    return [
        ("the loss is the mean over all N x T positions (sum over the steps divided by N * T), "
         "not divided by N only",
         _char_rnn(divide_by="N")),
        ("h0, when given, is the initial state (the h_last of the previous chunk), not zeros",
         _char_rnn(use_h0=False)),
        ("backpropagate through time: the hidden states pass gradient from each step to the one "
         "before it",
         _char_rnn(detach_state=True)),
        ("for the LSTM, h0 is the pair (h, c): start the cell state from its c (lstm_forward's "
         "c0=c), not from zeros; only h0=None starts both from zeros",
         _char_rnn(c_from="zeros")),
        ("for the LSTM, h0 is the pair (h, c): h starts the hidden state and c the cell state "
         "(lstm_forward(..., h, ..., c0=c)); h was used for both",
         _char_rnn(c_from="h")),
    ]


MISTAKES["rnn.CharRNN"] = char_rnn_mistakes()


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "rnn.rnn_step_forward": [
        ("x is multiplied by Wx (D, H) and h_prev by Wh (H, H): "
         "h_next = tanh(x @ Wx + h_prev @ Wh + b)",
         edited("rnn.rnn_step_forward", ("h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)",
                                         "h_next = xp.tanh(x @ Wh + h_prev @ Wx + b)"))),
    ],
    "rnn.rnn_step_backward": [
        ("dx = da @ Wx.T: da is (N, H) and Wx (D, H), so Wx is transposed to bring the gradient "
         "back to the D inputs",
         edited("rnn.rnn_step_backward", ("dx = da @ Wx.T\n    dh_prev = da @ Wh.T\n    dWx = "
                                          "x.T @ da\n    dWh = h_prev.T @ da\n    db = da.sum("
                                          "axis=0)\n    # END SOLUTION\n    return dx, dh_prev,"
                                          " dWx, dWh, db\n\n\ndef rnn_forward",
                                          "dx = da @ Wx\n    dh_prev = da @ Wh.T\n    dWx = "
                                          "x.T @ da\n    dWh = h_prev.T @ da\n    db = da.sum("
                                          "axis=0)\n    # END SOLUTION\n    return dx, dh_prev,"
                                          " dWx, dWh, db\n\n\ndef rnn_forward"))),
        ("dWx = x.T @ da: x is (N, D) and da (N, H), so the product that sums over the examples "
         "has x.T on the left",
         edited("rnn.rnn_step_backward", ("dWx = x.T @ da\n    dWh = h_prev.T @ da\n    db = "
                                          "da.sum(axis=0)\n    # END SOLUTION\n    return dx, "
                                          "dh_prev, dWx, dWh, db\n\n\ndef rnn_forward",
                                          "dWx = x @ da\n    dWh = h_prev.T @ da\n    db = "
                                          "da.sum(axis=0)\n    # END SOLUTION\n    return dx, "
                                          "dh_prev, dWx, dWh, db\n\n\ndef rnn_forward"))),
    ],
    "rnn.temporal_affine_backward": [
        ("dx = dout @ w.T: dout is (N, T, M) and w (H, M), so w is transposed to bring the "
         "gradient back to the H inputs",
         edited("rnn.temporal_affine_backward", ("dx = dout @ w.T\n    dw = x.reshape",
                                                 "dx = dout @ w\n    dw = x.reshape"))),
        ("flatten the time steps first: x as an (N*T, H) matrix, transposed, times dout as an "
         "(N*T, M) matrix; for the 3-dimensional x, x.T reverses all three axes",
         edited("rnn.temporal_affine_backward",
                ("dw = x.reshape(-1, H).T @ dout.reshape(-1, M)", "dw = x.T @ dout"))),
    ],
    "rnn.temporal_softmax_loss": [
        ("take each row's max and each row's sum with keepdims=True (shape (N*T, 1), not "
         "(N*T,)), so that they apply to the scores of their own row",
         edited("rnn.temporal_softmax_loss",
                ("shifted = flat - flat.max(axis=1, keepdims=True)",
                 "shifted = flat - flat.max(axis=1)"))),
        ("the mask weights one row (one time step) each: make them a column, "
         "weight[:, None], to scale every score of that row",
         edited("rnn.temporal_softmax_loss", ("dflat *= weight[:, None] / count",
                                              "dflat *= weight / count"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- mistakes right on nice inputs
# Each agrees with the reference on some inputs only (H == D, labels in range at masked
# positions, a zero initial state); the grader's inputs tell them apart.

for _key, _entries in {
    "rnn.rnn_forward": [
        ("H, the hidden size, is h0.shape[1] (or Wh.shape[0]), not x.shape[2] (D, the input "
         "size): the two agree only when H == D",
         edited("rnn.rnn_forward",
                ("    N, T, _ = x.shape\n    H = h0.shape[1]\n"
                 "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))",
                 "    N, T, H = x.shape\n"
                 "    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))"))),
    ],
    "rnn.rnn_backward": [
        ("dx has the input size D, x's last axis (from the cache: a step's x, or Wx.shape[0]), "
         "not dh's H: the two agree only when H == D",
         edited("rnn.rnn_backward",
                ("    D = steps[0][0].shape[1]\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
                 "    dWx, dWh, db = 0.0, 0.0, 0.0\n"
                 "    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
                 "    for t in reversed(range(T)):\n        # the",
                 "    D = H\n    dx = xp.zeros((N, T, D), dtype=dh.dtype)\n"
                 "    dWx, dWh, db = 0.0, 0.0, 0.0\n"
                 "    dh_prev = xp.zeros((N, H), dtype=dh.dtype)\n"
                 "    for t in reversed(range(T)):\n        # the"))),
    ],
    "rnn.lstm_step_forward": [
        ("H, the hidden size, is h_prev.shape[1] (or Wh.shape[0]), not x.shape[1] (D): the gate "
         "blocks of a are H wide, and the two agree only when H == D",
         edited("rnn.lstm_step_forward", ("    H = h_prev.shape[1]\n    a = x @ Wx",
                                          "    H = x.shape[1]\n    a = x @ Wx"))),
    ],
    "rnn.lstm_step_backward": [
        ("the cell candidate g = tanh(a_g): its local gradient is 1 - g**2; g * (1 - g) is the "
         "sigmoid's, for the gates i, f and o only",
         edited("rnn.lstm_step_backward", ("dg * (1.0 - g * g)", "dg * g * (1.0 - g)"))),
    ],
    "rnn.lstm_forward": [
        ("the first step starts from h0 (an argument), not from zeros",
         edited("rnn.lstm_forward", ("    prev = h0\n    steps = []\n    for t in range(T):\n"
                                     "        prev, c, step_cache",
                                     "    prev = xp.zeros_like(h0)\n    steps = []\n"
                                     "    for t in range(T):\n        prev, c, step_cache"))),
    ],
    "rnn.temporal_affine_backward": [
        ("x.reshape(H, -1) is not the transpose of x.reshape(-1, H): it has the right shape but "
         "regroups the numbers; take x.reshape(-1, H).T @ dout.reshape(-1, M)",
         edited("rnn.temporal_affine_backward",
                ("dw = x.reshape(-1, H).T @ dout.reshape(-1, M)",
                 "dw = x.reshape(H, -1) @ dout.reshape(-1, M)"))),
    ],
    "rnn.temporal_softmax_loss": [
        ("labels at masked positions may be anything, even outside [0, V) (padding): replace "
         "them by a valid index before indexing, labels = xp.where(mask, y, 0); their weight 0 "
         "keeps them out of the loss",
         edited("rnn.temporal_softmax_loss", ("labels = xp.where(mask, y, 0).reshape(-1)",
                                              "labels = y.reshape(-1)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- the examiner's sweep
# tanh's derivative written with the state the step started from: 1 - h_prev**2 looks like
# 1 - tanh**2, but tanh's output here is h_next.
MISTAKES["rnn.rnn_step_backward"] = MISTAKES["rnn.rnn_step_backward"] + [
    ("tanh's local gradient is 1 - h_next**2, written with this step's output h_next = "
     "tanh(a), not with the previous state h_prev",
     edited("rnn.rnn_step_backward", ("da = dh_next * (1.0 - h_next * h_next)",
                                      "da = dh_next * (1.0 - h_prev * h_prev)"))),
]

# h_last taken along the wrong axis: h[-1] is the last sequence's states (T, H), not every
# sequence's state after its last step
MISTAKES["rnn.CharRNN"] = MISTAKES["rnn.CharRNN"] + [
    ("h_last is the state after the last time step of every sequence, h[:, -1] of shape (N, H): "
     "h is (N, T, H), so h[-1] is the last sequence's states at every step (T, H)",
     edited("rnn.CharRNN", ("            h_last = h[:, -1].copy()",
                            "            h_last = h[-1].copy()"))),
]
