"""Unit 09: recurrent networks, a vanilla RNN and an LSTM, forward and backward through time.

A recurrent network reads a sequence one step at a time and carries a hidden state from each
step to the next: ``h_t = f(h_{t-1}, x_t)``, with the same function (the same weights) at every
step. Unrolled over T steps it is a deep network of T layers that share their weights,
``h_3 = f(f(f(h_0, x_1), x_2), x_3)``, and backpropagation through time (BPTT) is
backpropagation through that unrolled graph: each hidden state receives gradient from its own
output *and* from the next step, and the gradients of the shared weights are sums over all steps.

Shapes: N sequences in a batch, T time steps, D input features, H hidden units, V the vocabulary
(the number of distinct tokens). Time is axis 1: x is (N, T, D) and the hidden states are
(N, T, H). The layer contract of the course holds: ``x_forward(...) -> (out, cache)`` and
``x_backward(dout, cache) -> gradients`` in the order and shapes of the forward's array inputs.
Inputs are never modified in place, and the code takes its array module from its inputs
(``xp = xp_of(x)``).

The LSTM's four gate blocks are laid out as in PyTorch (``nn.LSTM``), in the order input, forget,
cell candidate, output (i, f, g, o): columns ``[0:H]`` of Wx, Wh and b belong to i, ``[H:2H]`` to
f, ``[2H:3H]`` to g and ``[3H:4H]`` to o.
"""

import numbers

import numpy as np

from .backend import add_at, to_numpy, xp_of
from .checks import check_positive_int

CELLS = ("rnn", "lstm")


# ---------------------------------------------------------------- argument checks (provided)

def _shape(a):
    return tuple(getattr(a, "shape", ()))


def _check_array(name, what, a, ndim):
    if type(a).__module__.split(".")[0] == "torch":  # NumPy would fail on it, naming nothing
        raise TypeError(f"{name}: {what} must be a NumPy array, got a torch.Tensor (convert it "
                        f"with {what}.detach().cpu().numpy())")
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise TypeError(f"{name}: {what} must be an array, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: {what} must have {ndim} dimensions, got shape {_shape(a)}")


def _check_step(name, x, h_prev, Wx, Wh, b, gates):
    """x (N, D), h_prev (N, H), Wx (D, gates*H), Wh (H, gates*H), b (gates*H,)."""
    for what, a, ndim in (("x", x, 2), ("h_prev", h_prev, 2), ("Wx", Wx, 2), ("Wh", Wh, 2),
                          ("b", b, 1)):
        _check_array(name, what, a, ndim)
    _check_weights(name, x.shape[-1], h_prev, Wx, Wh, b, gates)
    if h_prev.shape[0] != x.shape[0]:
        raise ValueError(f"{name}: h_prev{_shape(h_prev)} must have one row per example of "
                         f"x{_shape(x)}")


def _check_weights(name, D, h, Wx, Wh, b, gates):
    H = h.shape[-1]
    blocks = "" if gates == 1 else f"{gates} gate blocks of "
    if Wx.shape != (D, gates * H) or Wh.shape != (H, gates * H) or b.shape != (gates * H,):
        raise ValueError(f"{name}: with D={D} inputs and H={H} hidden units expected Wx "
                         f"{(D, gates * H)}, Wh {(H, gates * H)} and b {(gates * H,)} "
                         f"({blocks}H columns), got Wx{_shape(Wx)}, Wh{_shape(Wh)}, b{_shape(b)}")


def _check_sequence(name, x, h0, Wx, Wh, b, gates):
    """x (N, T, D), h0 (N, H) and the weights."""
    for what, a, ndim in (("x", x, 3), ("h0", h0, 2), ("Wx", Wx, 2), ("Wh", Wh, 2), ("b", b, 1)):
        _check_array(name, what, a, ndim)
    if x.shape[1] < 1:
        raise ValueError(f"{name}: x{_shape(x)} must have at least one time step")
    if h0.shape[0] != x.shape[0]:
        raise ValueError(f"{name}: h0{_shape(h0)} must have one row per sequence of x{_shape(x)}")
    _check_weights(name, x.shape[2], h0, Wx, Wh, b, gates)


def _check_ids(name, what, ids, V, ndim=2):
    _check_array(name, what, ids, ndim)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must hold integer ids, got dtype {ids.dtype}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= V):
        raise ValueError(f"{name}: {what} must lie in [0, {V}), got values from "
                         f"{int(ids.min())} to {int(ids.max())}")


def _sigmoid(x):
    """Logistic sigmoid (provided), computed so that exp never overflows."""
    xp = xp_of(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ---------------------------------------------------------------- vanilla RNN

def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a vanilla (Elman) RNN with a tanh nonlinearity.

        h_next = tanh(x @ Wx + h_prev @ Wh + b)

    Inputs:
        x: (N, D) the inputs of this step.
        h_prev: (N, H) the hidden state of the previous step.
        Wx: (D, H) input-to-hidden weights. Wh: (H, H) hidden-to-hidden (recurrent) weights.
        b: (H,) biases.
    Returns:
        h_next: (N, H) the new hidden state.
        cache: whatever ``rnn_step_backward`` needs.

    Right for pre-activations of any size: tanh(1000) is 1 (a tanh written with exp overflows
    there and gives NaN).
    """
    _check_step("rnn_step_forward", x, h_prev, Wx, Wh, b, 1)
    # BEGIN SOLUTION
    xp = xp_of(x, h_prev, Wx, Wh, b)
    h_next = xp.tanh(x @ Wx + h_prev @ Wh + b)
    cache = (x, h_prev, Wx, Wh, h_next)
    # END SOLUTION
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    """Backward pass of one RNN step.

    With a = x @ Wx + h_prev @ Wh + b and h_next = tanh(a), da = dh_next * (1 - h_next**2) (the
    derivative of tanh written with its output), and then
        dx = da @ Wx.T, dh_prev = da @ Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da, db = sum of da
        over the batch.

    Inputs:
        dh_next: (N, H) the gradient of the loss with respect to h_next (all of it: what reaches
            h_next from its output and from the later steps).
        cache: what ``rnn_step_forward`` returned.
    Returns:
        dx: (N, D). dh_prev: (N, H). dWx: (D, H). dWh: (H, H). db: (H,).
    """
    # BEGIN SOLUTION
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1.0 - h_next * h_next)  # tanh'(a) = 1 - tanh(a)**2
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    # END SOLUTION
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence: ``rnn_step_forward`` at t = 0, ..., T-1.

        h[:, t] = tanh(x[:, t] @ Wx + h[:, t-1] @ Wh + b), with h[:, -1] read as h0.

    Inputs:
        x: (N, T, D) N sequences of T steps. h0: (N, H) the initial hidden state.
        Wx: (D, H). Wh: (H, H). b: (H,).
    Returns:
        h: (N, T, H) the hidden state after every step (h0 is not included).
        cache: whatever ``rnn_backward`` needs.
    """
    _check_sequence("rnn_forward", x, h0, Wx, Wh, b, 1)
    # BEGIN SOLUTION
    xp = xp_of(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    H = h0.shape[1]
    h = xp.zeros((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b))
    steps = []
    prev = h0
    for t in range(T):
        prev, step_cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        steps.append(step_cache)
    cache = steps
    # END SOLUTION
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagation through time for the vanilla RNN of ``rnn_forward``.

    ``dh[:, t]`` is the gradient that reaches h[:, t] from its own output (the loss at step t)
    only. The hidden state h[:, t] also feeds step t + 1, so the total gradient of h[:, t] is
    dh[:, t] plus the dh_prev that the backward of step t + 1 sends back. Walk the steps from
    t = T-1 down to 0, carrying that gradient; the weights are shared by every step, so dWx, dWh
    and db are sums over the steps.

    Inputs:
        dh: (N, T, H) upstream gradients of every hidden state.
        cache: what ``rnn_forward`` returned.
    Returns:
        dx: (N, T, D). dh0: (N, H) the gradient of the initial state. dWx: (D, H). dWh: (H, H).
        db: (H,).
    """
    # BEGIN SOLUTION
    xp = xp_of(dh)
    steps = cache
    N, T, H = dh.shape
    D = steps[0][0].shape[1]
    dx = xp.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dh_prev = xp.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        # the gradient of h_t: from its own output, plus from the step that read it
        dx[:, t], dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    dh0 = dh_prev
    # END SOLUTION
    return dx, dh0, dWx, dWh, db


# ---------------------------------------------------------------- LSTM

def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM (gate blocks in PyTorch's order i, f, g, o).

        a = x @ Wx + h_prev @ Wh + b                      (N, 4H), split in four blocks of H
        i = sigmoid(a[:, 0:H])      input gate
        f = sigmoid(a[:, H:2H])     forget gate
        g = tanh(a[:, 2H:3H])       cell candidate
        o = sigmoid(a[:, 3H:4H])    output gate
        c_next = f * c_prev + i * g
        h_next = o * tanh(c_next)
    (The provided ``_sigmoid`` at the top of this module computes the sigmoid without overflow.)

    Inputs:
        x: (N, D). h_prev: (N, H). c_prev: (N, H) the previous cell state.
        Wx: (D, 4H). Wh: (H, 4H). b: (4H,).
    Returns:
        h_next: (N, H). c_next: (N, H).
        cache: whatever ``lstm_step_backward`` needs.
    """
    _check_step("lstm_step_forward", x, h_prev, Wx, Wh, b, 4)
    _check_array("lstm_step_forward", "c_prev", c_prev, 2)
    if c_prev.shape != h_prev.shape:
        raise ValueError(f"lstm_step_forward: c_prev{_shape(c_prev)} must have the shape of "
                         f"h_prev{_shape(h_prev)}")
    # BEGIN SOLUTION
    xp = xp_of(x, h_prev, c_prev, Wx, Wh, b)
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = _sigmoid(a[:, :H])
    f = _sigmoid(a[:, H:2 * H])
    g = xp.tanh(a[:, 2 * H:3 * H])
    o = _sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    tanh_c = xp.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    # END SOLUTION
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass of one LSTM step.

    The cell state receives gradient along two paths: directly (dc_next, from the next step) and
    through h_next = o * tanh(c_next):
        dc = dc_next + dh_next * o * (1 - tanh(c_next)**2)
        do = dh_next * tanh(c_next), di = dc * g, df = dc * c_prev, dg = dc * i,
        dc_prev = dc * f.
    Through the nonlinearities (sigmoid' = s * (1 - s), tanh' = 1 - tanh**2) this gives da, the
    gradient of the pre-activations (N, 4H) in the block order i, f, g, o; then as for any affine
    map: dx = da @ Wx.T, dh_prev = da @ Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da, db = sum of da
    over the batch.

    Inputs:
        dh_next: (N, H) the gradient of h_next. dc_next: (N, H) the gradient of c_next.
        cache: what ``lstm_step_forward`` returned.
    Returns:
        dx: (N, D). dh_prev: (N, H). dc_prev: (N, H). dWx: (D, 4H). dWh: (H, 4H). db: (4H,).
    """
    # BEGIN SOLUTION
    xp = xp_of(dh_next, dc_next)
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)  # both paths into c_next
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = xp.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g),
                         do * o * (1.0 - o)], axis=1)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    # END SOLUTION
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None):
    """An LSTM over a whole sequence: ``lstm_step_forward`` at t = 0, ..., T-1.

    Inputs:
        x: (N, T, D). h0: (N, H) the initial hidden state.
        Wx: (D, 4H). Wh: (H, 4H). b: (4H,), gate blocks in the order i, f, g, o.
        c0: (N, H) the initial cell state, or None for zeros. (Truncated BPTT passes the c_last
            of the previous chunk; it is treated as a constant: no gradient flows into it.)
    Returns:
        h: (N, T, H) the hidden state after every step (h0 not included).
        cache: whatever ``lstm_backward`` needs.
        c_last: (N, H) the cell state after the last step.
    """
    _check_sequence("lstm_forward", x, h0, Wx, Wh, b, 4)
    if c0 is not None:
        _check_array("lstm_forward", "c0", c0, 2)
        if c0.shape != h0.shape:
            raise ValueError(f"lstm_forward: c0{_shape(c0)} must have the shape of "
                             f"h0{_shape(h0)}")
    # BEGIN SOLUTION
    xp = xp_of(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    H = h0.shape[1]
    dtype = xp.result_type(x, h0, Wx, Wh, b)
    h = xp.zeros((N, T, H), dtype=dtype)
    c = xp.zeros((N, H), dtype=dtype) if c0 is None else c0
    prev = h0
    steps = []
    for t in range(T):
        prev, c, step_cache = lstm_step_forward(x[:, t], prev, c, Wx, Wh, b)
        h[:, t] = prev
        steps.append(step_cache)
    cache = steps
    c_last = c
    # END SOLUTION
    return h, cache, c_last


def lstm_backward(dh, cache):
    """Backpropagation through time for the LSTM of ``lstm_forward``.

    As for the vanilla RNN, the total gradient of h[:, t] is dh[:, t] plus the dh_prev sent back
    by step t + 1; the cell state carries its own gradient dc from step to step (zero after the
    last step: the loss does not depend on c_last directly). The weights' gradients are sums over
    the steps. No gradient is returned for c0.

    Inputs:
        dh: (N, T, H) upstream gradients of every hidden state.
        cache: what ``lstm_forward`` returned.
    Returns:
        dx: (N, T, D). dh0: (N, H). dWx: (D, 4H). dWh: (H, 4H). db: (4H,).
    """
    # BEGIN SOLUTION
    xp = xp_of(dh)
    steps = cache
    N, T, H = dh.shape
    D = steps[0][0].shape[1]
    dx = xp.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dh_prev = xp.zeros((N, H), dtype=dh.dtype)
    dc_prev = xp.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dh_prev, dc_prev, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_prev, dc_prev, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    dh0 = dh_prev
    # END SOLUTION
    return dx, dh0, dWx, dWh, db


# ---------------------------------------------------------------- embedding and output layers

def word_embedding_forward(x, W):
    """Look up the vector of every token id: out[n, t] = W[x[n, t]].

    Inputs:
        x: (N, T) integer ids in [0, V).
        W: (V, D) one row of D numbers per token of the vocabulary.
    Returns:
        out: (N, T, D).
        cache: whatever ``word_embedding_backward`` needs.
    """
    _check_array("word_embedding_forward", "W", W, 2)
    _check_ids("word_embedding_forward", "x", x, W.shape[0])
    # BEGIN SOLUTION
    out = W[x]
    cache = (x, W.shape)
    # END SOLUTION
    return out, cache


def word_embedding_backward(dout, cache):
    """Backward pass of the embedding: the gradient of row v of W is the sum of dout[n, t] over
    every position (n, t) where x[n, t] == v.

    An id that occurs several times accumulates the gradients of all its positions (with NumPy,
    ``np.add.at(dW, x, dout)``: ``dW[x] += dout`` keeps only one of the repeated rows); rows of ids
    that do not occur are zero.

    Inputs:
        dout: (N, T, D) upstream gradient.
        cache: what ``word_embedding_forward`` returned.
    Returns:
        dW: (V, D).
    """
    # BEGIN SOLUTION
    xp = xp_of(dout)
    x, shape = cache
    dW = xp.zeros(shape, dtype=dout.dtype)
    D = shape[1]
    # add_at sums the rows of repeated ids (np.add.at on NumPy, cupyx.scatter_add on CuPy)
    add_at(dW, x.reshape(-1), dout.reshape(-1, D))
    # END SOLUTION
    return dW


def temporal_affine_forward(x, w, b):
    """The same affine map applied at every time step: out[n, t] = x[n, t] @ w + b.

    Inputs:
        x: (N, T, H). w: (H, M). b: (M,).
    Returns:
        out: (N, T, M).
        cache: whatever ``temporal_affine_backward`` needs.
    """
    for what, a, ndim in (("x", x, 3), ("w", w, 2), ("b", b, 1)):
        _check_array("temporal_affine_forward", what, a, ndim)
    if w.shape[0] != x.shape[2] or b.shape[0] != w.shape[1]:
        raise ValueError(f"temporal_affine_forward: expected x (N, T, H), w (H, M), b (M,), got "
                         f"x{_shape(x)}, w{_shape(w)}, b{_shape(b)}")
    # BEGIN SOLUTION
    out = x @ w + b
    cache = (x, w, b)
    # END SOLUTION
    return out, cache


def temporal_affine_backward(dout, cache):
    """Backward pass of the temporal affine layer: w and b are shared by all N x T positions,
    so their gradients are sums over all of them.

        dx = dout @ w.T, dw = sum over n, t of outer(x[n, t], dout[n, t]), db = sum of dout over
        n and t.

    Inputs:
        dout: (N, T, M) upstream gradient.
        cache: what ``temporal_affine_forward`` returned.
    Returns:
        dx: (N, T, H). dw: (H, M). db: (M,).
    """
    # BEGIN SOLUTION
    x, w, _ = cache
    H, M = w.shape
    dx = dout @ w.T
    dw = x.reshape(-1, H).T @ dout.reshape(-1, M)
    db = dout.reshape(-1, M).sum(axis=0)
    # END SOLUTION
    return dx, dw, db


def temporal_softmax_loss(scores, y, mask):
    """Softmax cross entropy at every time step, averaged over the positions the mask keeps.

    With p[n, t] = softmax(scores[n, t]) and K = the number of True entries of mask:
        L = (1/K) * sum over (n, t) with mask[n, t] of -log p[n, t, y[n, t]]
        dL/dscores[n, t] = (p[n, t] - one_hot(y[n, t])) / K where mask[n, t], else 0.
    This is PyTorch's ``cross_entropy`` with the masked positions ignored (``ignore_index``):
    padding, or the part of a sequence the loss should not grade. Labels at masked positions are
    ignored whatever their value (they may lie outside [0, V)). With K = 0 the loss is 0 and the
    gradient is zero. Subtract each position's largest score before exponentiating, so that
    scores in the thousands do not overflow.

    Inputs:
        scores: (N, T, V). y: (N, T) integer labels. mask: (N, T) booleans.
    Returns:
        loss: float. dscores: (N, T, V).
    """
    name = "temporal_softmax_loss"
    _check_array(name, "scores", scores, 3)
    _check_array(name, "y", y, 2)
    _check_array(name, "mask", mask, 2)
    if y.shape != scores.shape[:2] or mask.shape != scores.shape[:2]:
        raise ValueError(f"{name}: expected scores (N, T, V), y (N, T) and mask (N, T), got "
                         f"scores{_shape(scores)}, y{_shape(y)} and mask{_shape(mask)}")
    if mask.dtype.kind != "b":
        raise TypeError(f"{name}: mask must be an array of booleans, got dtype {mask.dtype}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels y must be integers, got dtype {y.dtype}")
    V = scores.shape[2]
    kept = y[mask]
    if kept.size and (int(kept.min()) < 0 or int(kept.max()) >= V):
        raise ValueError(f"{name}: unmasked labels must lie in [0, {V}), got values from "
                         f"{int(kept.min())} to {int(kept.max())}")
    # BEGIN SOLUTION
    xp = xp_of(scores)
    N, T, V = scores.shape
    flat = scores.reshape(N * T, V)
    labels = xp.where(mask, y, 0).reshape(-1)  # any valid index; masked positions get weight 0
    weight = mask.reshape(-1).astype(scores.dtype)
    count = max(int(mask.sum()), 1)
    shifted = flat - flat.max(axis=1, keepdims=True)  # the largest exponent is 0
    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    rows = xp.arange(N * T)
    loss = -(log_probs[rows, labels] * weight).sum() / count
    dflat = xp.exp(log_probs)
    dflat[rows, labels] -= 1.0
    dflat *= weight[:, None] / count
    dscores = dflat.reshape(N, T, V)
    # END SOLUTION
    return float(loss), dscores


# ---------------------------------------------------------------- a character-level model

class CharRNN:
    """A character-level language model: embedding - RNN or LSTM - temporal affine - softmax.

    At every position it reads one token id and scores every token of the vocabulary as the next
    one:
        e = W_embed[x]                  (N, T, D), or the one-hot vectors of x (D = V) when
                                        embed_dim is None
        h = rnn_forward(e, h0, Wx, Wh, b)  or  lstm_forward(e, h0, Wx, Wh, b, c0=c0)
        scores = h @ W_out + b_out      (N, T, V)
        L = the mean cross entropy of softmax(scores) against y over all N x T positions

    Inputs:
        vocab_size: V. hidden_dim: H.
        embed_dim: D, the size of a learned embedding, or None for one-hot inputs (no W_embed).
        cell: "rnn" (tanh RNN) or "lstm".
        weight_scale: the standard deviation of the initial weights.
        dtype: the floating dtype of the parameters.
        rng: a ``numpy.random.Generator`` for the initial weights.
    Attributes:
        params: {"W_embed": (V, D) (only with embed_dim), "Wx": (D, G), "Wh": (H, G), "b": (G,),
            "W_out": (H, V), "b_out": (V,)} with G = H for "rnn" and 4H for "lstm" (blocks
            i, f, g, o); each weight is ``weight_scale * rng.standard_normal(shape)`` drawn in
            that order, the biases b and b_out start at zero; all of ``dtype``.
        vocab_size, hidden_dim, embed_dim, cell, dtype: as given.
    """

    def __init__(self, vocab_size, hidden_dim, *, embed_dim=None, cell="lstm", weight_scale=0.1,
                 dtype=np.float64, rng):
        check_positive_int("CharRNN", "vocab_size", vocab_size)
        check_positive_int("CharRNN", "hidden_dim", hidden_dim)
        if embed_dim is not None:
            check_positive_int("CharRNN", "embed_dim", embed_dim)
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be 'rnn' or 'lstm', got {cell!r}")
        if isinstance(weight_scale, bool) or not isinstance(weight_scale, numbers.Real):
            raise TypeError(f"CharRNN: weight_scale must be a number, got {weight_scale!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"CharRNN: rng must be a numpy.random.Generator "
                            f"(np.random.default_rng(seed)), got {type(rng).__name__}")
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:  # torch.float32, "f32": NumPy's own message names no argument
            raise TypeError(f"CharRNN: dtype must be a NumPy floating type such as np.float64, "
                            f"got {dtype!r}") from None
        if self.dtype.kind != "f":
            raise TypeError(f"CharRNN: dtype must be a floating type, got {dtype!r}")
        self.vocab_size, self.hidden_dim = int(vocab_size), int(hidden_dim)
        self.embed_dim = None if embed_dim is None else int(embed_dim)
        self.cell = cell
        self.params = {}
        # BEGIN SOLUTION
        V, H = self.vocab_size, self.hidden_dim
        D = V if embed_dim is None else self.embed_dim
        G = H if cell == "rnn" else 4 * H
        shapes = {"Wx": (D, G), "Wh": (H, G), "W_out": (H, V)}
        if embed_dim is not None:
            shapes = {"W_embed": (V, D), **shapes}
        for key, shape in shapes.items():
            self.params[key] = (weight_scale * rng.standard_normal(shape)).astype(self.dtype)
        self.params["b"] = np.zeros(G, dtype=self.dtype)
        self.params["b_out"] = np.zeros(V, dtype=self.dtype)
        # END SOLUTION

    def _check_state(self, name, state, N):
        """h0 for "rnn": None or (N, H); for "lstm": None or the pair (h, c), each (N, H)."""
        if state is None:
            return
        parts = state if self.cell == "lstm" else (state,)
        if self.cell == "lstm" and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise TypeError(f"{name}: for the LSTM h0 must be None or the pair (h, c) returned "
                            f"as h_last, got {type(state).__name__}")
        for part in parts:
            if not hasattr(part, "shape") or tuple(part.shape) != (N, self.hidden_dim):
                raise ValueError(f"{name}: each part of h0 must be ({N}, {self.hidden_dim}), got "
                                 f"{_shape(part) if hasattr(part, 'shape') else type(part)}")

    def loss(self, x, y, h0=None):
        """The mean cross entropy of the next-token predictions, its gradients, and the last state.

        Inputs:
            x: (N, T) input ids in [0, V). y: (N, T) target ids in [0, V) (usually x shifted by
                one position: y[:, t] is the token after x[:, t]).
            h0: the initial state: None (zeros), or the ``h_last`` of a previous call, to carry
                the state into the next chunk of a long sequence (truncated BPTT). It is used as
                a constant: no gradient flows into it or into the previous chunk.
        Returns:
            loss: float, the mean over all N x T positions.
            grads: dict with the keys and shapes of ``params``.
            h_last: the state after the last step: h[:, T-1] (N, H) for "rnn"; the pair
                (h[:, T-1], c_last) for "lstm".
        """
        V = self.vocab_size
        _check_ids("CharRNN.loss", "x", x, V)
        _check_ids("CharRNN.loss", "y", y, V)
        if y.shape != x.shape:
            raise ValueError(f"CharRNN.loss: y{_shape(y)} must have the shape of x{_shape(x)}")
        self._check_state("CharRNN.loss", h0, x.shape[0])
        # BEGIN SOLUTION
        p = self.params
        xp = xp_of(*p.values())
        N, T = x.shape
        H = self.hidden_dim
        if self.embed_dim is None:
            e = xp.eye(V, dtype=self.dtype)[x]  # one-hot inputs (N, T, V)
        else:
            e, cache_embed = word_embedding_forward(x, p["W_embed"])
        if self.cell == "rnn":
            h_init = xp.zeros((N, H), dtype=self.dtype) if h0 is None else h0
            h, cache_rnn = rnn_forward(e, h_init, p["Wx"], p["Wh"], p["b"])
            h_last = h[:, -1].copy()
        else:
            h_init, c_init = (xp.zeros((N, H), dtype=self.dtype), None) if h0 is None else h0
            h, cache_rnn, c_last = lstm_forward(e, h_init, p["Wx"], p["Wh"], p["b"], c0=c_init)
            h_last = (h[:, -1].copy(), c_last)
        scores, cache_out = temporal_affine_forward(h, p["W_out"], p["b_out"])
        loss, dscores = temporal_softmax_loss(scores, y, xp.ones((N, T), dtype=bool))
        grads = {}
        dh, grads["W_out"], grads["b_out"] = temporal_affine_backward(dscores, cache_out)
        backward = rnn_backward if self.cell == "rnn" else lstm_backward
        de, _, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, cache_rnn)
        if self.embed_dim is not None:
            grads["W_embed"] = word_embedding_backward(de, cache_embed)
        # END SOLUTION
        return loss, grads, h_last

    def sample(self, prefix_ids, length, *, temperature=1.0, rng):
        """Generate ``length`` new ids after a prefix, one at a time.

        Start from the zero state, feed the prefix ids one by one; after the last one draw the
        next id from softmax(scores / temperature), feed it back in, and so on. A temperature
        below 1 sharpens the distribution (close to 0: always the most likely id), above 1
        flattens it (towards uniform). Subtract the largest score before exponentiating, so that
        any temperature > 0 works.

        Inputs:
            prefix_ids: a sequence (list or 1-D array) of at least one id in [0, V).
            length: how many new ids to draw (>= 0).
            temperature: a number > 0.
            rng: a ``numpy.random.Generator``, the only source of randomness.
        Returns:
            ids: (length,) integer array, the new ids only (the prefix is not included).
        """
        prefix = np.asarray(prefix_ids)
        if prefix.ndim != 1 or prefix.size < 1:
            raise ValueError(f"CharRNN.sample: prefix_ids must be a 1-D sequence of at least one "
                             f"id, got shape {prefix.shape}")
        _check_ids("CharRNN.sample", "prefix_ids", prefix, self.vocab_size, ndim=1)
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(f"CharRNN.sample: length must be an integer >= 0, got {length!r}")
        if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
                or not temperature > 0):
            raise ValueError(f"CharRNN.sample: temperature must be a number > 0, got "
                             f"{temperature!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"CharRNN.sample: rng must be a numpy.random.Generator, got "
                            f"{type(rng).__name__}")
        ids = np.zeros(int(length), dtype=np.int64)
        # BEGIN SOLUTION
        p = self.params
        xp = xp_of(*p.values())
        V, H = self.vocab_size, self.hidden_dim
        h = xp.zeros((1, H), dtype=self.dtype)
        c = xp.zeros((1, H), dtype=self.dtype)

        def step(token, h, c):
            e = p["W_embed"][[token]] if self.embed_dim is not None else \
                xp.eye(V, dtype=self.dtype)[[token]]
            if self.cell == "rnn":
                h, _ = rnn_step_forward(e, h, p["Wx"], p["Wh"], p["b"])
            else:
                h, c, _ = lstm_step_forward(e, h, c, p["Wx"], p["Wh"], p["b"])
            return h, c

        for token in prefix:
            h, c = step(int(token), h, c)
        for n in range(int(length)):
            scores = to_numpy(h @ p["W_out"] + p["b_out"])[0] / temperature
            probs = np.exp(scores - scores.max())
            probs /= probs.sum()
            ids[n] = rng.choice(V, p=probs)
            h, c = step(int(ids[n]), h, c)
        # END SOLUTION
        return ids
