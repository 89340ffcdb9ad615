"""Unit 04: the reference ``normalization`` and ``regularization`` checked against PyTorch.

Forward values and autograd gradients in float64 (and float32 at float32 tolerances) for
``batch_norm`` in both modes with its running statistics, spatial batch norm, ``layer_norm``,
``group_norm`` and ``instance_norm``; dropout's scaling; the L1/L2 penalties; and RegularizedNet,
against an equivalent torch network and against numerical gradients.

One difference is by design and is tested as such: both libraries normalize a batch with the
*biased* variance (divided by N), but PyTorch updates its running variance with the *unbiased*
one (divided by N - 1), while this course uses the biased one throughout, as the issue specifies.
PyTorch's ``momentum`` is also the weight of the *new* value, our ``1 - momentum``.
"""

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional

cw = load_reference()
norm = cw.normalization
reg = cw.regularization


def assert_close(a, b, what, rtol=1e-9, atol=1e-10):
    assert np.shape(a) == np.shape(b), (what, np.shape(a), np.shape(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def tensors(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def grads_of(*ts):
    return [t.grad.numpy() for t in ts]


def state_of(rng, size, dtype=np.float64):
    return {"running_mean": rng.standard_normal(size).astype(dtype),
            "running_var": (rng.random(size) + 0.5).astype(dtype)}


def copy_state(state):
    return {k: v.copy() for k, v in state.items()}


# ---------------------------------------------------------------- batch norm

BN_CASES = [  # N, D, momentum, eps, offset
    (6, 5, 0.9, 1e-5, 0.0), (2, 3, 0.5, 1e-3, 10.0), (32, 7, 0.0, 1e-5, -3.0),
    (5, 1, 1.0, 1e-1, 100.0), (13, 4, 0.99, 1e-5, 0.5),
]


@pytest.mark.parametrize("N,D,momentum,eps,offset", BN_CASES)
def test_batchnorm_train_matches_torch(N, D, momentum, eps, offset):
    rng = np.random.default_rng(N * D)
    x = offset + 3 * rng.standard_normal((N, D))
    gamma, beta, dout = rng.standard_normal(D), rng.standard_normal(D), rng.standard_normal((N, D))
    state = state_of(rng, D)
    given = copy_state(state)
    xt, gt, bt = tensors(x, gamma, beta)
    rm, rv = torch.tensor(state["running_mean"]), torch.tensor(state["running_var"])
    out_t = F.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=1 - momentum, eps=eps)
    out_t.backward(torch.tensor(dout))

    out, cache, new_state = norm.batchnorm_forward(x, gamma, beta, state, train=True,
                                                   momentum=momentum, eps=eps)
    assert_close(out, out_t.detach().numpy(), "out")
    for backward in (norm.batchnorm_backward, norm.batchnorm_backward_alt):
        for name, got, want in zip(("dx", "dgamma", "dbeta"), backward(dout, cache),
                                   grads_of(xt, gt, bt)):
            assert_close(got, want, f"{backward.__name__} {name}")
    # the running mean is PyTorch's; the running variance differs by design (biased vs unbiased)
    assert_close(new_state["running_mean"], rm.numpy(), "running_mean")
    biased, unbiased = x.var(axis=0), x.var(axis=0, ddof=1)
    assert_close(new_state["running_var"],
                 momentum * given["running_var"] + (1 - momentum) * biased, "running_var")
    assert_close(rv.numpy(), momentum * given["running_var"] + (1 - momentum) * unbiased,
                 "torch's running_var uses the unbiased variance")
    assert_close(new_state["running_var"] - rv.numpy(), (1 - momentum) * (biased - unbiased),
                 "the difference is (1 - momentum) * (biased - unbiased)")
    for key in state:  # the given state is not modified in place
        assert np.array_equal(state[key], given[key])


@pytest.mark.parametrize("N,D", [(6, 5), (1, 3), (4, 8)])
def test_batchnorm_test_mode_matches_torch(N, D):
    rng = np.random.default_rng(N + 10 * D)
    x = 2 + rng.standard_normal((N, D))
    gamma, beta, dout = rng.standard_normal(D), rng.standard_normal(D), rng.standard_normal((N, D))
    state = state_of(rng, D)
    given = copy_state(state)
    xt, gt, bt = tensors(x, gamma, beta)
    rm, rv = torch.tensor(state["running_mean"]), torch.tensor(state["running_var"])
    out_t = F.batch_norm(xt, rm, rv, gt, bt, training=False, eps=1e-5)
    out_t.backward(torch.tensor(dout))
    out, cache, new_state = norm.batchnorm_forward(x, gamma, beta, state, train=False)
    assert_close(out, out_t.detach().numpy(), "out")
    for backward in (norm.batchnorm_backward, norm.batchnorm_backward_alt):
        for name, got, want in zip(("dx", "dgamma", "dbeta"), backward(dout, cache),
                                   grads_of(xt, gt, bt)):
            assert_close(got, want, f"test mode {backward.__name__} {name}")
    for key in state:
        assert np.array_equal(new_state[key], given[key]) and new_state[key] is not state[key]
        assert np.array_equal(state[key], given[key])
    # each example's output is independent of the rest of the batch
    one, _, _ = norm.batchnorm_forward(x[:1], gamma, beta, state, train=False)
    assert_close(one, out[:1], "test mode, batch of one")


def test_running_statistics_converge_to_the_data_statistics():
    rng = np.random.default_rng(3)
    mean, std = np.array([5.0, -2.0, 0.0]), np.array([2.0, 0.5, 10.0])
    state = norm.initial_state(3)
    for _ in range(1000):
        x = mean + std * rng.standard_normal((64, 3))
        _, _, state = norm.batchnorm_forward(x, np.ones(3), np.zeros(3), state, momentum=0.99)
    # an average of about 200 batches: within 5 of its standard deviations
    assert np.all(np.abs(state["running_mean"] - mean) < 0.05 * std)
    # the biased batch variance is on average (N - 1) / N = 63 / 64 of the variance
    np.testing.assert_allclose(state["running_var"], std ** 2 * 63 / 64, rtol=0.06)


@pytest.mark.parametrize("shape,train", [((2, 3, 4, 5), True), ((1, 2, 3, 3), True),
                                         ((4, 1, 2, 7), True), ((3, 3, 2, 2), False)])
def test_spatial_batchnorm_matches_torch(shape, train):
    rng = np.random.default_rng(sum(shape))
    N, C, H, W = shape
    x = 1.5 + 2 * rng.standard_normal(shape)
    gamma, beta, dout = rng.standard_normal(C), rng.standard_normal(C), rng.standard_normal(shape)
    state = state_of(rng, C)
    xt, gt, bt = tensors(x, gamma, beta)
    rm, rv = torch.tensor(state["running_mean"]), torch.tensor(state["running_var"])
    out_t = F.batch_norm(xt, rm, rv, gt, bt, training=train, momentum=0.1, eps=1e-5)
    out_t.backward(torch.tensor(dout))
    out, cache, new_state = norm.spatial_batchnorm_forward(x, gamma, beta, state, train=train)
    assert_close(out, out_t.detach().numpy(), "out")
    for name, got, want in zip(("dx", "dgamma", "dbeta"),
                               norm.spatial_batchnorm_backward(dout, cache),
                               grads_of(xt, gt, bt)):
        assert_close(got, want, name)
    assert_close(new_state["running_mean"], rm.numpy(), "running_mean")
    if train:
        biased = x.transpose(1, 0, 2, 3).reshape(C, -1).var(axis=1)
        assert_close(new_state["running_var"], 0.9 * state["running_var"] + 0.1 * biased,
                     "running_var (biased, per channel over N, H, W)")


# ---------------------------------------------------------------- layer, group, instance norm

@pytest.mark.parametrize("N,D,eps", [(4, 6, 1e-5), (1, 5, 1e-5), (3, 1, 1e-2), (7, 30, 1e-3)])
def test_layernorm_matches_torch(N, D, eps):
    rng = np.random.default_rng(N * 100 + D)
    x = 4 + 3 * rng.standard_normal((N, D))
    gamma, beta, dout = rng.standard_normal(D), rng.standard_normal(D), rng.standard_normal((N, D))
    xt, gt, bt = tensors(x, gamma, beta)
    out_t = F.layer_norm(xt, (D,), gt, bt, eps=eps)
    out_t.backward(torch.tensor(dout))
    out, cache = norm.layernorm_forward(x, gamma, beta, eps=eps)
    assert_close(out, out_t.detach().numpy(), "out")
    for name, got, want in zip(("dx", "dgamma", "dbeta"), norm.layernorm_backward(dout, cache),
                               grads_of(xt, gt, bt)):
        assert_close(got, want, name)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 4), 3), ((2, 6, 3, 4), 1),
                                          ((2, 6, 3, 4), 6), ((1, 4, 5, 2), 2),
                                          ((3, 8, 1, 1), 4), ((2, 2, 2, 3), 2)])
def test_groupnorm_matches_torch(shape, groups):
    rng = np.random.default_rng(sum(shape) + groups)
    C = shape[1]
    x = -2 + 2 * rng.standard_normal(shape)
    gamma, beta, dout = rng.standard_normal(C), rng.standard_normal(C), rng.standard_normal(shape)
    xt, gt, bt = tensors(x, gamma, beta)
    out_t = F.group_norm(xt, groups, gt, bt, eps=1e-5)
    out_t.backward(torch.tensor(dout))
    out, cache = norm.groupnorm_forward(x, gamma, beta, groups=groups)
    assert_close(out, out_t.detach().numpy(), "out")
    for name, got, want in zip(("dx", "dgamma", "dbeta"), norm.groupnorm_backward(dout, cache),
                               grads_of(xt, gt, bt)):
        assert_close(got, want, name)


def test_groupnorm_that_does_not_divide_names_c_and_groups():
    x = np.zeros((2, 6, 3, 3))
    with pytest.raises(ValueError, match=r"groups=4 does not divide the C=6"):
        norm.groupnorm_forward(x, np.ones(6), np.zeros(6), groups=4)
    with pytest.raises(ValueError, match="positive integer"):
        norm.groupnorm_forward(x, np.ones(6), np.zeros(6), groups=0)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 3, 3), (3, 2, 1, 6)])
def test_instancenorm_matches_torch(shape):
    rng = np.random.default_rng(sum(shape) * 7)
    C = shape[1]
    x = 3 + rng.standard_normal(shape)
    gamma, beta, dout = rng.standard_normal(C), rng.standard_normal(C), rng.standard_normal(shape)
    xt, gt, bt = tensors(x, gamma, beta)
    out_t = F.instance_norm(xt, weight=gt, bias=bt, eps=1e-5)
    out_t.backward(torch.tensor(dout))
    out, cache = norm.instancenorm_forward(x, gamma, beta)
    assert_close(out, out_t.detach().numpy(), "out")
    for name, got, want in zip(("dx", "dgamma", "dbeta"),
                               norm.instancenorm_backward(dout, cache), grads_of(xt, gt, bt)):
        assert_close(got, want, name)


def test_group_norm_extremes_are_layer_and_instance_norm():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 2, 5))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    as_instance = norm.groupnorm_forward(x, gamma, beta, groups=4)[0]
    assert_close(as_instance, norm.instancenorm_forward(x, gamma, beta)[0], "groups=C")
    flat = norm.layernorm_forward(x.reshape(3, -1), np.ones(40), np.zeros(40))[0]
    as_layer = norm.groupnorm_forward(x, np.ones(4), np.zeros(4), groups=1)[0]
    assert_close(as_layer, flat.reshape(x.shape), "groups=1")


@pytest.mark.parametrize("which", ["batchnorm", "spatial", "layernorm", "groupnorm", "instance"])
def test_float32_matches_torch_float32_and_keeps_its_dtype(which):
    rng = np.random.default_rng(11)
    shape = (8, 6) if which in ("batchnorm", "layernorm") else (4, 6, 3, 3)
    C = shape[1]
    x, dout = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    gamma, beta = (rng.standard_normal(C).astype(np.float32) for _ in range(2))
    state = state_of(rng, C, np.float32)
    xt, gt, bt = tensors(x, gamma, beta)
    if which in ("batchnorm", "spatial"):
        forward = norm.batchnorm_forward if which == "batchnorm" else \
            norm.spatial_batchnorm_forward
        backward = norm.batchnorm_backward if which == "batchnorm" else \
            norm.spatial_batchnorm_backward
        out, cache, new_state = forward(x, gamma, beta, state)
        assert all(v.dtype == np.float32 for v in new_state.values())
        out_t = F.batch_norm(xt, torch.tensor(state["running_mean"]),
                             torch.tensor(state["running_var"]), gt, bt, training=True)
    elif which == "layernorm":
        out, cache = norm.layernorm_forward(x, gamma, beta)
        backward = norm.layernorm_backward
        out_t = F.layer_norm(xt, (C,), gt, bt)
    elif which == "groupnorm":
        out, cache = norm.groupnorm_forward(x, gamma, beta, groups=2)
        backward = norm.groupnorm_backward
        out_t = F.group_norm(xt, 2, gt, bt)
    else:
        out, cache = norm.instancenorm_forward(x, gamma, beta)
        backward = norm.instancenorm_backward
        out_t = F.instance_norm(xt, weight=gt, bias=bt)
    out_t.backward(torch.tensor(dout))
    assert out.dtype == np.float32
    assert_close(out, out_t.detach().numpy(), "out", rtol=1e-4, atol=1e-5)
    for name, got, want in zip(("dx", "dgamma", "dbeta"), backward(dout, cache),
                               grads_of(xt, gt, bt)):
        assert got.dtype == np.float32, name
        assert_close(got, want, name, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------- dropout and penalties

@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_dropout_scales_like_torch(p):
    rng = np.random.default_rng(int(p * 10))
    x = rng.random((400, 250)) + 0.5  # no zeros: a zero output means a dropped unit
    out, cache = reg.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(1))
    torch.manual_seed(0)
    out_t = F.dropout(torch.tensor(x), p=p, training=True).numpy()
    for got, who in ((out, "ours"), (out_t, "torch")):
        kept = got != 0
        assert_close(got[kept], x[kept] / (1 - p), f"{who}: kept units scaled by 1 / (1 - p)")
        # both drop a fraction p, within 6 standard deviations of the sampling error
        assert abs((~kept).mean() - p) <= 6 * np.sqrt(p * (1 - p) / x.size) + 1e-12, who
    # the backward multiplies by the same scaled mask: torch's autograd through that mask
    xt = torch.tensor(x, requires_grad=True)
    mask = torch.tensor((out != 0) / (1 - p))
    dout = rng.standard_normal(x.shape)
    (xt * mask).backward(torch.tensor(dout))
    assert_close(reg.dropout_backward(dout, cache), xt.grad.numpy(), "dx")
    # test mode: the identity, in both libraries
    out, cache = reg.dropout_forward(x, p=p, train=False, rng=np.random.default_rng(1))
    assert np.array_equal(out, x) and np.array_equal(
        F.dropout(torch.tensor(x), p=p, training=False).numpy(), x)
    assert np.array_equal(reg.dropout_backward(dout, cache), dout)


def test_dropout_same_seed_same_mask_and_p_out_of_range():
    x = np.ones((5, 7))
    first = reg.dropout_forward(x, p=0.5, rng=np.random.default_rng(3))[0]
    again = reg.dropout_forward(x, p=0.5, rng=np.random.default_rng(3))[0]
    other = reg.dropout_forward(x, p=0.5, rng=np.random.default_rng(4))[0]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    for p in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=str(p)):
            reg.dropout_forward(x, p=p, rng=np.random.default_rng(0))


def test_penalties_match_torch_autograd():
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal(5), rng.standard_normal((2, 2, 3))]
    weights[1][2] = 0.0  # the L1 subgradient at exactly 0 is 0, as torch's
    for strength in (0.0, 0.3, 2.0):
        ts = tensors(*weights)
        (0.5 * strength * sum((t ** 2).sum() for t in ts)).backward()
        penalty, grads = reg.l2_penalty(weights, strength)
        assert isinstance(penalty, float)
        assert abs(penalty - 0.5 * strength * sum((w ** 2).sum() for w in weights)) < 1e-12
        for g, t in zip(grads, ts):
            assert_close(g, t.grad.numpy(), "l2 grad")
        ts = tensors(*weights)
        (strength * sum(t.abs().sum() for t in ts)).backward()
        penalty, grads = reg.l1_penalty(weights, strength)
        assert abs(penalty - strength * sum(np.abs(w).sum() for w in weights)) < 1e-12
        for g, t in zip(grads, ts):
            assert_close(g, t.grad.numpy(), "l1 grad")
    assert reg.l1_penalty(weights, 1.0)[1][1][2] == 0.0


# ---------------------------------------------------------------- early stopping

def test_early_stopping_counts_steps_without_improvement():
    stop = reg.EarlyStopping(patience=2, min_delta=0.05, mode="max")
    assert (stop.best, stop.best_step, stop.should_stop) == (None, None, False)
    decisions = [stop.step(v) for v in (0.5, 0.6, 0.62, 0.7, 0.69, 0.74, 0.9)]
    # 0.62 is not better than 0.6 by more than 0.05; 0.69 and 0.74 are not better than 0.7
    assert decisions == [False, False, False, False, False, True, True]
    assert (stop.best, stop.best_step) == (0.9, 6)  # an improvement after stopping still counts
    assert stop.should_stop
    low = reg.EarlyStopping(patience=1, mode="min")
    assert [low.step(v) for v in (3.0, 2.0, 2.0)] == [False, False, True]
    assert (low.best, low.best_step) == (2.0, 1)


# ---------------------------------------------------------------- RegularizedNet

def perturbed(model, rng):
    model.params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in model.params.items()}
    return model


def torch_net(params, X, y, normalization, strength, num_layers, running=None):
    """The same network written with torch.nn.functional: (loss, scores)."""
    h = torch.tensor(X.reshape(len(X), -1))
    for layer in range(1, num_layers):
        a = h @ params[f"W{layer}"] + params[f"b{layer}"]
        if normalization == "batchnorm":
            rm, rv = running[layer] if running else (None, None)
            a = F.batch_norm(a, rm, rv, params[f"gamma{layer}"], params[f"beta{layer}"],
                             training=y is not None, eps=1e-5)
        elif normalization == "layernorm":
            a = F.layer_norm(a, a.shape[1:], params[f"gamma{layer}"], params[f"beta{layer}"],
                             eps=1e-5)
        h = F.relu(a)
    scores = h @ params[f"W{num_layers}"] + params[f"b{num_layers}"]
    if y is None:
        return None, scores
    penalty = sum((params[f"W{layer}"] ** 2).sum() for layer in range(1, num_layers + 1))
    return F.cross_entropy(scores, torch.tensor(y)) + 0.5 * strength * penalty, scores


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_regularized_net_matches_torch(normalization):
    rng = np.random.default_rng(7)
    model = perturbed(cw.regularization.RegularizedNet(
        [6, 5], 8, 4, normalization=normalization, reg=0.3, rng=rng), rng)
    X, y = rng.standard_normal((5, 2, 4)), rng.integers(0, 4, 5)
    before = {k: v.copy() for k, v in model.running_stats.items()}
    loss, grads = model.loss(X, y)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    loss_t, _ = torch_net(params, X, y, normalization, 0.3, 3)
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-10
    assert set(grads) == set(model.params)
    for key in params:
        assert_close(grads[key], params[key].grad.numpy(), key)
    # test mode uses the running statistics (updated by loss(X, y) with momentum 0.9)
    running = None
    if normalization == "batchnorm":  # replay the training pass: momentum 0.9, biased variance
        running = {}
        with torch.no_grad():
            h = torch.tensor(X.reshape(5, -1))
            for layer in (1, 2):
                a = h @ params[f"W{layer}"] + params[f"b{layer}"]
                rm = torch.tensor(before[f"running_mean{layer}"])
                rv = torch.tensor(before[f"running_var{layer}"])
                running[layer] = (0.9 * rm + 0.1 * a.mean(dim=0),
                                  0.9 * rv + 0.1 * a.var(dim=0, unbiased=False))
                h = F.relu(F.batch_norm(a, None, None, params[f"gamma{layer}"],
                                        params[f"beta{layer}"], training=True, eps=1e-5))
        for layer in (1, 2):
            assert_close(model.running_stats[f"running_mean{layer}"], running[layer][0].numpy(),
                         f"running_mean{layer}")
            assert_close(model.running_stats[f"running_var{layer}"], running[layer][1].numpy(),
                         f"running_var{layer}")
    with torch.no_grad():
        _, scores_t = torch_net(params, X, None, normalization, 0.3, 3, running)
    assert_close(model.loss(X), scores_t.numpy(), "test-mode scores")


def numeric_gradient(f, a, h=1e-6):
    grad = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        old = a[index]
        a[index] = old + h
        plus = f()
        a[index] = old - h
        minus = f()
        a[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def normwise_error(analytic, numeric):
    return np.linalg.norm(analytic - numeric) / max(
        np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-8)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_regularized_net_gradients_match_numeric(normalization):
    """||analytic - numeric|| / max(||analytic|| + ||numeric||, 1e-8) < 1e-6 for every parameter.

    With batch norm the biases b_1 .. b_{L-1} feed a normalization that subtracts any shift of a
    feature (layer norm only removes a shift of all features together): the loss is exactly
    constant along them, and their gradient is exactly 0. A centered difference with the usual
    step h = 1e-6 then measures only the rounding of the loss (about 1e-16 / h = 1e-10 per entry,
    far above the floor 1e-8 of the ratio); since the loss is constant along these directions
    (not only to first order), the centered difference is exact for any step, and a step of 1
    brings the rounding down to 1e-16. Both are checked.
    """
    rng = np.random.default_rng(3)
    model = perturbed(cw.regularization.RegularizedNet(
        [7, 6, 5], 9, 4, normalization=normalization, dropout=0.0, reg=0.2, rng=rng), rng)
    X, y = rng.standard_normal((6, 9)), rng.integers(0, 4, 6)
    _, grads = model.loss(X, y)
    invariant = {f"b{layer}" for layer in range(1, model.num_layers)
                 if normalization == "batchnorm"}
    for key, value in model.params.items():
        numeric = numeric_gradient(lambda: model.loss(X, y)[0], value)
        if key in invariant:
            assert np.linalg.norm(grads[key]) < 1e-12, key      # exactly 0 up to rounding
            assert np.linalg.norm(numeric) < 1e-8, key          # noise of the small step
            numeric = numeric_gradient(lambda: model.loss(X, y)[0], value, h=1.0)
        else:
            assert np.linalg.norm(grads[key]) > 1e-3, key       # a gradient worth checking
        error = normwise_error(grads[key], numeric)
        assert error < 1e-6, (normalization, key, error)


def test_regularized_net_parameters_running_stats_and_dropout():
    rng = np.random.default_rng(0)
    model = cw.regularization.RegularizedNet([5, 4], 6, 3, normalization="batchnorm",
                                             dropout=0.5, weight_scale=0.1, rng=rng)
    assert sorted(model.params) == sorted(["W1", "b1", "W2", "b2", "W3", "b3", "gamma1",
                                           "beta1", "gamma2", "beta2"])
    assert np.array_equal(model.params["gamma2"], np.ones(4))
    assert np.array_equal(model.params["beta1"], np.zeros(5))
    assert sorted(model.running_stats) == ["running_mean1", "running_mean2", "running_var1",
                                           "running_var2"]
    assert np.array_equal(model.running_stats["running_var1"], np.ones(5))
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    scores = model.loss(X)
    assert np.array_equal(model.loss(X), scores)  # test mode: deterministic, no dropout
    first, second = model.loss(X, y)[0], model.loss(X, y)[0]
    assert first != second  # training mode: a fresh dropout mask each call
    layer_norm = cw.regularization.RegularizedNet([5], 6, 3, normalization="layernorm", rng=rng)
    assert layer_norm.running_stats == {} and "gamma1" in layer_norm.params


def test_trainer_accepts_early_stopping_and_restores_running_stats():
    rng = np.random.default_rng(0)
    digits = cw.data.load_digits_split()
    data = {k: (v / 16 - 0.5 if k.startswith("X_") else v) for k, v in digits.items()}
    data["X_train"], data["y_train"] = data["X_train"][:100], data["y_train"][:100]
    model = cw.regularization.RegularizedNet([50], 64, 10, normalization="batchnorm",
                                             weight_scale=None, rng=rng)
    stopper = cw.regularization.EarlyStopping(patience=2, mode="max")
    trainer = cw.training.Trainer(model, data, optim_config={"learning_rate": 0.5},
                                  num_epochs=200, batch_size=20, rng=rng, progress=False,
                                  early_stopping=stopper)
    trainer.train()
    assert trainer.stopped_early and trainer.epoch < 200
    assert stopper.best == trainer.best_val_acc
    # the stopper sees the epochs after the first (val_acc_history[0] is before training)
    assert stopper.best_step == int(np.argmax(trainer.val_acc_history[1:]))
    # the model holds the best epoch's parameters *and* the running statistics that went with them
    assert trainer.check_accuracy(data["X_val"], data["y_val"]) == trainer.best_val_acc
    for key, value in trainer.best_running_stats.items():
        assert np.array_equal(model.running_stats[key], value)


def test_checkpoints_keep_the_running_statistics(tmp_path):
    rng = np.random.default_rng(1)
    digits = cw.data.load_digits_split()
    data = {k: v / 16 if k.startswith("X_") else v for k, v in digits.items()}
    model = cw.regularization.RegularizedNet([20], 64, 10, normalization="batchnorm",
                                             weight_scale=None, rng=rng)
    trainer = cw.training.Trainer(model, data, num_epochs=2, batch_size=100, rng=rng,
                                  progress=False, optim_config={"learning_rate": 0.1})
    trainer.train()
    path = tmp_path / "checkpoint.npz"
    trainer.save_checkpoint(path)
    fresh = cw.regularization.RegularizedNet([20], 64, 10, normalization="batchnorm", rng=rng)
    restored = cw.training.Trainer(fresh, data, rng=rng, progress=False).load_checkpoint(path)
    for key, value in model.running_stats.items():
        assert np.array_equal(fresh.running_stats[key], value)
        assert np.array_equal(restored.best_running_stats[key], trainer.best_running_stats[key])
    assert np.array_equal(restored.model.loss(data["X_test"]), model.loss(data["X_test"]))
