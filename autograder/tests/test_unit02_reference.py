"""Unit 02: the reference layers and losses agree with PyTorch in float64 (forward values and
autograd gradients), and the reference gradient checkers agree with analytic gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from autograder.oracle import load_reference  # noqa: E402

cw = load_reference()
RTOL = 1e-10


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def assert_close(got, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rtol, atol=atol)


def away_from_zero(rng, shape, scale=2.0, gap=1e-3):
    x = scale * rng.standard_normal(shape)
    return np.where(np.abs(x) < gap, np.sign(x + 1e-300) * gap * 2 + x, x)


@pytest.mark.parametrize("shape_x,M", [((4, 5), 3), ((1, 7), 2), ((3, 2, 3, 4), 5)])
def test_affine(shape_x, M):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape_x)
    D = int(np.prod(shape_x[1:]))
    w, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((shape_x[0], M))
    out, cache = cw.layers.affine_forward(x, w, b)
    dx, dw, db = cw.layers.affine_backward(dout, cache)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    tout = tx.reshape(shape_x[0], -1) @ tw + tb
    tout.backward(t64(dout))
    assert_close(out, tout.detach())
    assert_close(dx, tx.grad)
    assert_close(dw, tw.grad)
    assert_close(db, tb.grad)
    assert dx.shape == x.shape


ACTS = [
    ("relu", {}, lambda t: torch.relu(t)),
    ("sigmoid", {}, lambda t: torch.sigmoid(t)),
    ("tanh", {}, lambda t: torch.tanh(t)),
    ("leaky_relu", {}, lambda t: torch.nn.functional.leaky_relu(t, 0.01)),
    ("leaky_relu", {"alpha": 0.2}, lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
    ("elu", {}, lambda t: torch.nn.functional.elu(t, 1.0)),
    ("elu", {"alpha": 0.5}, lambda t: torch.nn.functional.elu(t, 0.5)),
]


@pytest.mark.parametrize("name,kwargs,torch_fn", ACTS, ids=[f"{a[0]}{a[1]}" for a in ACTS])
@pytest.mark.parametrize("scale", [2.0, 30.0])
def test_activation(name, kwargs, torch_fn, scale):
    rng = np.random.default_rng(1)
    x = away_from_zero(rng, (3, 4, 5), scale=scale)
    dout = rng.standard_normal(x.shape)
    forward = getattr(cw.layers, f"{name}_forward")
    backward = getattr(cw.layers, f"{name}_backward")
    out, cache = forward(x, **kwargs)
    dx = backward(dout, cache)
    tx = t64(x, True)
    tout = torch_fn(tx)
    tout.backward(t64(dout))
    assert_close(out, tout.detach())
    assert_close(dx, tx.grad)


def test_sigmoid_extreme_inputs_do_not_overflow():
    x = np.array([-1000.0, -800.0, 0.5, 800.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = cw.layers.sigmoid_forward(x)
        cw.layers.sigmoid_backward(np.ones_like(x), cache)
    assert_close(out, torch.sigmoid(t64(x)))


def scores_labels(seed, N, C, offset=0.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, C)) * 3 + offset, rng.integers(0, C, N).astype(np.int64)


@pytest.mark.parametrize("N,C,offset", [(6, 4, 0.0), (1, 2, 0.0), (5, 3, 1000.0)])
def test_softmax_loss(N, C, offset):
    scores, y = scores_labels(2, N, C, offset)
    loss, dscores = cw.losses.softmax_loss(scores, y)
    ts = t64(scores, True)
    tloss = torch.nn.functional.cross_entropy(ts, torch.tensor(y))
    tloss.backward()
    assert_close(loss, tloss.item())
    assert_close(dscores, ts.grad)


@pytest.mark.parametrize("N,C,offset", [(6, 4, 0.0), (1, 2, 0.0), (5, 3, 1000.0)])
def test_svm_loss(N, C, offset):
    scores, y = scores_labels(3, N, C, offset)
    loss, dscores = cw.losses.svm_loss(scores, y)
    ts = t64(scores, True)
    # multi_margin_loss divides by C; the course's hinge loss sums over classes
    tloss = torch.nn.functional.multi_margin_loss(ts, torch.tensor(y), margin=1.0) * C
    tloss.backward()
    assert_close(loss, tloss.item())
    assert_close(dscores, ts.grad)


@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
def test_mse_loss(shape):
    rng = np.random.default_rng(4)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, dpred = cw.losses.mse_loss(pred, target)
    tp = t64(pred, True)
    tloss = torch.nn.functional.mse_loss(tp, t64(target))
    tloss.backward()
    assert_close(loss, tloss.item())
    assert_close(dpred, tp.grad)


@pytest.mark.parametrize("soft", [False, True])
def test_bce_loss(soft):
    rng = np.random.default_rng(5)
    prob = rng.uniform(0.02, 0.98, (5, 3))
    target = rng.uniform(0, 1, (5, 3)) if soft else rng.integers(0, 2, (5, 3)).astype(float)
    loss, dprob = cw.losses.bce_loss(prob, target)
    tp = t64(prob, True)
    tloss = torch.nn.functional.binary_cross_entropy(tp, t64(target))
    tloss.backward()
    assert_close(loss, tloss.item())
    assert_close(dprob, tp.grad)


def test_bce_loss_clips():
    prob = np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    target = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    loss, dprob = cw.losses.bce_loss(prob, target)
    eps = cw.losses.BCE_EPS
    p = np.clip(prob, eps, 1 - eps)
    expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    assert np.isfinite(loss) and np.all(np.isfinite(dprob))
    assert_close(loss, expected)


@pytest.mark.parametrize("scale,offset", [(2.0, 0.0), (1.0, 800.0), (1.0, -800.0), (300.0, 0.0)])
def test_bce_with_logits_loss(scale, offset):
    rng = np.random.default_rng(6)
    logits = scale * rng.standard_normal((4, 5)) + offset
    target = rng.integers(0, 2, (4, 5)).astype(float)
    target[0] = rng.uniform(0, 1, 5)  # soft labels too
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = cw.losses.bce_with_logits_loss(logits, target)
    tl = t64(logits, True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(tl, t64(target))
    tloss.backward()
    assert_close(loss, tloss.item())
    assert_close(dlogits, tl.grad)


def test_bce_with_logits_matches_bce_of_sigmoid():
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((3, 4))
    target = rng.integers(0, 2, (3, 4)).astype(float)
    prob, _ = cw.layers.sigmoid_forward(logits)
    assert_close(cw.losses.bce_with_logits_loss(logits, target)[0],
                 cw.losses.bce_loss(prob, target)[0], rtol=1e-9)


def test_numerical_gradient_matches_analytic():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((3, 4))
    x0 = x.copy()
    grad = cw.gradcheck.numerical_gradient(lambda v: float(np.sum(w * np.sin(v))), x)
    assert np.array_equal(x, x0)
    assert cw.gradcheck.relative_error(grad, w * np.cos(x)) < 1e-7


def test_numerical_gradient_array_matches_backward():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4))
    w, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((2, 5))
    _, cache = cw.layers.affine_forward(x, w, b)
    dx, dw, db = cw.layers.affine_backward(dout, cache)
    num_dx = cw.gradcheck.numerical_gradient_array(
        lambda v: cw.layers.affine_forward(v, w, b)[0], x.copy(), dout)
    num_dw = cw.gradcheck.numerical_gradient_array(
        lambda v: cw.layers.affine_forward(x, v, b)[0], w.copy(), dout)
    assert cw.gradcheck.relative_error(num_dx, dx) < 1e-7
    assert cw.gradcheck.relative_error(num_dw, dw) < 1e-7


def test_relative_error():
    assert cw.gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert cw.gradcheck.relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == \
        pytest.approx(0.2 / 4.2)
    with pytest.raises(ValueError):
        cw.gradcheck.relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("x_shape,M,K", [((5, 4), 3, 2), ((1, 6), 2, 3), ((3, 2, 3), 4, 5),
                                         ((4, 3), 2, 1)])
def test_maxout(x_shape, M, K):
    """Maxout as PyTorch users write it: one linear layer to M * K outputs, viewed as (N, M, K),
    then the max over the pieces (autograd routes the gradient to the winning piece)."""
    rng = np.random.default_rng(6)
    N, D = x_shape[0], int(np.prod(x_shape[1:]))
    x, w = rng.standard_normal(x_shape), rng.standard_normal((D, M, K))
    b, dout = rng.standard_normal((M, K)), rng.standard_normal((N, M))
    out, cache = cw.layers.maxout_forward(x, w, b)
    dx, dw, db = cw.layers.maxout_backward(dout, cache)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    linear = torch.nn.functional.linear(tx.reshape(N, D), tw.reshape(D, M * K).T,
                                        tb.reshape(M * K))
    tout = linear.view(N, M, K).amax(dim=2)
    tout.backward(t64(dout))
    assert_close(out, tout.detach())
    assert_close(dx, tx.grad)
    assert_close(dw, tw.grad)
    assert_close(db, tb.grad)
    assert dx.shape == x.shape


def test_maxout_of_two_pieces_with_one_zero_is_relu_of_affine():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((6, 4)), rng.standard_normal((4, 3, 2))
    b = rng.standard_normal((3, 2))
    w[:, :, 1], b[:, 1] = 0.0, 0.0
    out, _ = cw.layers.maxout_forward(x, w, b)
    assert_close(out, torch.relu(t64(x) @ t64(w[:, :, 0]) + t64(b[:, 0])))
