"""Unit 09: the reference ``rnn`` checked against PyTorch (float64, autograd).

``nn.RNNCell``/``nn.RNN`` (tanh) and ``nn.LSTMCell``/``nn.LSTM`` with the weights mapped (PyTorch
keeps ``weight_ih`` (G, D) = Wx.T, ``weight_hh`` (G, H) = Wh.T and two biases whose sum is b; its
gate blocks are i, f, g, o like ours), ``nn.Embedding`` with repeated ids, ``cross_entropy`` with
ignored positions, over shapes that include T = 1, N = 1 and H = 1. ``CharRNN.loss`` is checked
by numeric gradients for both cells, and ``CharRNN.sample`` by its properties.
"""

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional

cw = load_reference()
rnn = cw.rnn

SHAPES = [  # N, T, D, H
    (3, 5, 4, 6), (1, 1, 3, 2), (2, 4, 1, 1), (1, 6, 5, 3), (4, 1, 2, 7), (2, 3, 6, 1),
]


def assert_close(got, expected, what, rtol=1e-9):
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-11, err_msg=what)


def inputs(seed, N, T, D, H, gates, *, scale=0.7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    c0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, gates * H))
    Wh = scale * rng.standard_normal((H, gates * H))
    b = 0.5 * rng.standard_normal(gates * H)
    dh = rng.standard_normal((N, T, H))
    return x, h0, c0, Wx, Wh, b, dh


def torch_module(kind, Wx, Wh, b, D, H):
    """A PyTorch cell or layer holding our weights (b split unevenly over its two biases)."""
    module = {"rnn_cell": lambda: torch.nn.RNNCell(D, H, nonlinearity="tanh"),
              "rnn": lambda: torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True),
              "lstm_cell": lambda: torch.nn.LSTMCell(D, H),
              "lstm": lambda: torch.nn.LSTM(D, H, batch_first=True)}[kind]().double()
    suffix = "" if kind.endswith("cell") else "_l0"
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(torch.tensor(Wx.T))
        getattr(module, "weight_hh" + suffix).copy_(torch.tensor(Wh.T))
        getattr(module, "bias_ih" + suffix).copy_(torch.tensor(0.3 * b))
        getattr(module, "bias_hh" + suffix).copy_(torch.tensor(0.7 * b))
    return module


def torch_grads(module, kind):
    suffix = "" if kind.endswith("cell") else "_l0"
    dWx = getattr(module, "weight_ih" + suffix).grad.numpy().T
    dWh = getattr(module, "weight_hh" + suffix).grad.numpy().T
    db_ih = getattr(module, "bias_ih" + suffix).grad.numpy()
    db_hh = getattr(module, "bias_hh" + suffix).grad.numpy()
    np.testing.assert_allclose(db_ih, db_hh, rtol=1e-12)  # both biases get the same gradient
    return dWx, dWh, db_ih


def unchanged(before, after):
    return all(np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_rnn_step_matches_rnncell(shape):
    N, _, D, H = shape
    x, h0, _, Wx, Wh, b, dh = inputs(sum(shape), *shape, 1)
    x, dh = x[:, 0], dh[:, 0]
    copies = [a.copy() for a in (x, h0, Wx, Wh, b)]
    cell = torch_module("rnn_cell", Wx, Wh, b, D, H)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out = cell(xt, ht)
    out.backward(torch.tensor(dh))
    h_next, cache = rnn.rnn_step_forward(x, h0, Wx, Wh, b)
    assert_close(h_next, out.detach().numpy(), "h_next")
    got = rnn.rnn_step_backward(dh, cache)
    expected = (xt.grad.numpy(), ht.grad.numpy(), *torch_grads(cell, "rnn_cell"))
    for name, g, e in zip(("dx", "dh_prev", "dWx", "dWh", "db"), got, expected):
        assert_close(g, e, name)
    assert unchanged(copies, (x, h0, Wx, Wh, b))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_rnn_matches_nn_rnn(shape):
    N, T, D, H = shape
    x, h0, _, Wx, Wh, b, dh = inputs(sum(shape) + 1, *shape, 1)
    layer = torch_module("rnn", Wx, Wh, b, D, H)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, _ = layer(xt, ht)
    out.backward(torch.tensor(dh))
    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    assert_close(h, out.detach().numpy(), "h")
    got = rnn.rnn_backward(dh, cache)
    expected = (xt.grad.numpy(), ht.grad.numpy()[0], *torch_grads(layer, "rnn"))
    for name, g, e in zip(("dx", "dh0", "dWx", "dWh", "db"), got, expected):
        assert_close(g, e, name)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_lstm_step_matches_lstmcell(shape):
    N, _, D, H = shape
    x, h0, c0, Wx, Wh, b, dh = inputs(sum(shape) + 2, *shape, 4)
    x, dh = x[:, 0], dh[:, 0]
    dc = np.random.default_rng(7).standard_normal((N, H))
    copies = [a.copy() for a in (x, h0, c0, Wx, Wh, b)]
    cell = torch_module("lstm_cell", Wx, Wh, b, D, H)
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    h_t, c_t = cell(xt, (ht, ct))
    torch.autograd.backward([h_t, c_t], [torch.tensor(dh), torch.tensor(dc)])
    h_next, c_next, cache = rnn.lstm_step_forward(x, h0, c0, Wx, Wh, b)
    assert_close(h_next, h_t.detach().numpy(), "h_next")
    assert_close(c_next, c_t.detach().numpy(), "c_next")
    got = rnn.lstm_step_backward(dh, dc, cache)
    expected = (xt.grad.numpy(), ht.grad.numpy(), ct.grad.numpy(), *torch_grads(cell, "lstm_cell"))
    for name, g, e in zip(("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"), got, expected):
        assert_close(g, e, name)
    assert unchanged(copies, (x, h0, c0, Wx, Wh, b))


@pytest.mark.parametrize("with_c0", [False, True], ids=["c0=None", "c0 given"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}T{}D{}H{}".format(*s))
def test_lstm_matches_nn_lstm(shape, with_c0):
    N, T, D, H = shape
    x, h0, c0, Wx, Wh, b, dh = inputs(sum(shape) + 3, *shape, 4)
    layer = torch_module("lstm", Wx, Wh, b, D, H)
    c_start = c0 if with_c0 else np.zeros((N, H))
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, (_, c_n) = layer(xt, (ht, torch.tensor(c_start[None])))
    out.backward(torch.tensor(dh))  # no gradient into c_last, none wanted for c0
    h, cache, c_last = rnn.lstm_forward(x, h0, Wx, Wh, b, c0=c0 if with_c0 else None)
    assert_close(h, out.detach().numpy(), "h")
    assert_close(c_last, c_n.detach().numpy()[0], "c_last")
    got = rnn.lstm_backward(dh, cache)
    expected = (xt.grad.numpy(), ht.grad.numpy()[0], *torch_grads(layer, "lstm"))
    for name, g, e in zip(("dx", "dh0", "dWx", "dWh", "db"), got, expected):
        assert_close(g, e, name)


@pytest.mark.parametrize("N,T,V,D", [(2, 5, 4, 3), (1, 1, 3, 2), (3, 4, 10, 1)])
def test_embedding_matches_nn_embedding(N, T, V, D):
    rng = np.random.default_rng(N + T + V)
    x = rng.integers(0, V, (N, T))
    x[0, 0] = x[-1, -1] = 1  # a repeated id in every case
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    emb = torch.nn.Embedding(V, D).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(W))
    out_t = emb(torch.tensor(x))
    out_t.backward(torch.tensor(dout))
    out, cache = rnn.word_embedding_forward(x, W)
    assert_close(out, out_t.detach().numpy(), "out")
    assert_close(rnn.word_embedding_backward(dout, cache), emb.weight.grad.numpy(), "dW")


@pytest.mark.parametrize("N,T,H,M", [(2, 3, 4, 5), (1, 1, 1, 3), (3, 2, 5, 1)])
def test_temporal_affine_matches_linear(N, T, H, M):
    rng = np.random.default_rng(N * T + H * M)
    x, w, b = rng.standard_normal((N, T, H)), rng.standard_normal((H, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, T, M))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = F.linear(xt, wt.T, bt)
    out_t.backward(torch.tensor(dout))
    out, cache = rnn.temporal_affine_forward(x, w, b)
    assert_close(out, out_t.detach().numpy(), "out")
    for name, g, e in zip(("dx", "dw", "db"), rnn.temporal_affine_backward(dout, cache),
                          (xt.grad, wt.grad, bt.grad)):
        assert_close(g, e.numpy(), name)


def torch_masked_ce(scores, y, mask):
    st = torch.tensor(scores, requires_grad=True)
    target = torch.tensor(np.where(mask, y, -100))
    loss = F.cross_entropy(st.reshape(-1, scores.shape[2]), target.reshape(-1), ignore_index=-100)
    loss.backward()
    return loss.item(), st.grad.numpy()


@pytest.mark.parametrize("case", ["half masked", "all kept", "N=1 T=1", "offset 1000",
                                  "one kept"])
def test_temporal_softmax_loss_matches_cross_entropy(case):
    rng = np.random.default_rng(len(case))
    N, T, V = (1, 1, 4) if case == "N=1 T=1" else (3, 5, 6)
    scores = rng.standard_normal((N, T, V))
    if case == "offset 1000":
        scores = scores + 1000.0
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) < 0.5 if case in ("half masked", "offset 1000") else \
        np.ones((N, T), dtype=bool)
    if case == "one kept":
        mask = np.zeros((N, T), dtype=bool)
        mask[1, 2] = True
    y_given = np.where(mask, y, V + 7)  # labels at masked positions are ignored, even out of range
    loss, dscores = rnn.temporal_softmax_loss(scores, y_given, mask)
    expected_loss, expected_grad = torch_masked_ce(scores, y, mask)
    assert abs(loss - expected_loss) <= 1e-10 * max(1.0, abs(expected_loss))
    assert_close(dscores, expected_grad, "dscores")


def test_temporal_softmax_loss_all_masked():
    scores = np.random.default_rng(0).standard_normal((2, 3, 4))
    loss, dscores = rnn.temporal_softmax_loss(scores, np.full((2, 3), -1),
                                              np.zeros((2, 3), dtype=bool))
    assert loss == 0.0 and dscores.shape == scores.shape and not dscores.any()


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-8)


@pytest.mark.parametrize("cell,embed_dim", [("rnn", None), ("rnn", 3), ("lstm", None),
                                            ("lstm", 4)])
def test_charrnn_loss_numeric_gradients(cell, embed_dim):
    """Every parameter: ||analytic - numeric|| / max(||analytic|| + ||numeric||, 1e-8) < 1e-6,
    with a carried-in state (h0) and non-zero biases."""
    V, H, N, T = 5, 4, 2, 6
    rng = np.random.default_rng(3)
    model = rnn.CharRNN(V, H, embed_dim=embed_dim, cell=cell, weight_scale=0.5, rng=rng)
    model.params["b"] = 0.3 * rng.standard_normal(model.params["b"].shape)
    model.params["b_out"] = 0.3 * rng.standard_normal(V)
    x, y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    h0 = rng.standard_normal((N, H))
    if cell == "lstm":
        h0 = (h0, rng.standard_normal((N, H)))
    loss, grads, h_last = model.loss(x, y, h0=h0)
    assert sorted(grads) == sorted(model.params)
    step = 1e-6
    for key, value in model.params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            old = value[index]
            value[index] = old + step
            plus = model.loss(x, y, h0=h0)[0]
            value[index] = old - step
            minus = model.loss(x, y, h0=h0)[0]
            value[index] = old
            numeric[index] = (plus - minus) / (2 * step)
        assert grads[key].shape == value.shape
        assert rel_error(grads[key], numeric) < 1e-6, (key, rel_error(grads[key], numeric))
    # h_last is the state after the last step, the same as running on without chunking
    x2 = rng.integers(0, V, (N, 3))
    whole = model.loss(np.concatenate([x, x2], axis=1), np.concatenate([y, x2], axis=1),
                       h0=h0)[2]
    chained = model.loss(x2, x2, h0=h_last)[2]
    for a, b in zip(whole if cell == "lstm" else [whole], chained if cell == "lstm" else
                    [chained]):
        assert_close(a, b, "h_last")


def test_charrnn_loss_is_mean_over_positions():
    """The loss is the mean cross entropy over all N x T positions (PyTorch's default)."""
    V, H = 6, 5
    model = rnn.CharRNN(V, H, cell="lstm", embed_dim=3, rng=np.random.default_rng(1))
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, V, (3, 4)), rng.integers(0, V, (3, 4))
    loss, _, _ = model.loss(x, y)
    p = model.params
    lstm = torch.nn.LSTM(3, H, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(p["Wx"].T))
        lstm.weight_hh_l0.copy_(torch.tensor(p["Wh"].T))
        lstm.bias_ih_l0.copy_(torch.tensor(p["b"]))
        lstm.bias_hh_l0.zero_()
        h, _ = lstm(torch.tensor(p["W_embed"][x]))
        scores = h @ torch.tensor(p["W_out"]) + torch.tensor(p["b_out"])
        expected = F.cross_entropy(scores.reshape(-1, V), torch.tensor(y).reshape(-1)).item()
    assert abs(loss - expected) < 1e-10


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_charrnn_sample_properties(cell):
    V, H = 7, 6
    model = rnn.CharRNN(V, H, cell=cell, embed_dim=4, weight_scale=0.8,
                        rng=np.random.default_rng(4))
    params = {k: v.copy() for k, v in model.params.items()}
    ids = model.sample([1, 2, 3], 40, temperature=1.0, rng=np.random.default_rng(5))
    assert ids.shape == (40,) and ids.dtype.kind == "i" and ids.min() >= 0 and ids.max() < V
    again = model.sample(np.array([1, 2, 3]), 40, rng=np.random.default_rng(5))
    assert np.array_equal(ids, again)
    assert all(np.array_equal(params[k], model.params[k]) for k in params)
    assert model.sample([0], 0, rng=np.random.default_rng(0)).shape == (0,)
    # at a tiny temperature: the greedy choice, computed here with the forward functions
    greedy = model.sample([2, 5], 12, temperature=1e-4, rng=np.random.default_rng(6))
    seq = [2, 5]
    for _ in range(12):
        x = np.array([seq])
        e, _ = rnn.word_embedding_forward(x, model.params["W_embed"])
        h0 = np.zeros((1, H))
        h = (rnn.rnn_forward(e, h0, *(model.params[k] for k in ("Wx", "Wh", "b")))[0]
             if cell == "rnn" else
             rnn.lstm_forward(e, h0, *(model.params[k] for k in ("Wx", "Wh", "b")))[0])
        scores = h[0, -1] @ model.params["W_out"] + model.params["b_out"]
        seq.append(int(np.argmax(scores)))
    assert greedy.tolist() == seq[2:]


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_charrnn_sample_frequencies(temperature):
    """With W_out = 0 the scores are b_out at every step: the ids are i.i.d. draws from
    softmax(b_out / temperature)."""
    V = 4
    model = rnn.CharRNN(V, 3, cell="rnn", rng=np.random.default_rng(0))
    model.params["W_out"][:] = 0
    model.params["b_out"] = np.array([1.0, 0.0, -1.0, 0.5])
    n = 4000
    ids = model.sample([0], n, temperature=temperature, rng=np.random.default_rng(1))
    p = np.exp(model.params["b_out"] / temperature)
    p /= p.sum()
    freq = np.bincount(ids, minlength=V) / n
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))


def test_validation_messages():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"Wx \(4, 20\)"):
        rnn.lstm_forward(x, np.zeros((2, 5)), np.zeros((4, 5)), np.zeros((5, 20)), np.zeros(20))
    with pytest.raises(ValueError, match="must lie in"):
        rnn.word_embedding_forward(np.array([[0, 9]]), np.zeros((4, 2)))
    with pytest.raises(TypeError, match="booleans"):
        rnn.temporal_softmax_loss(np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=int),
                                  np.ones((1, 2)))
    with pytest.raises(ValueError, match="cell"):
        rnn.CharRNN(5, 4, cell="gru", rng=np.random.default_rng(0))
    model = rnn.CharRNN(5, 4, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        model.sample([1], 3, temperature=0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="pair"):
        model.loss(np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=int), h0=np.zeros((2, 4)))
