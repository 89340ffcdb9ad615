"""Unit 02: the reference networks. Their analytic gradients agree with numeric ones (float64,
with regularization, every activation) and with PyTorch's autograd."""

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()
ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu", "elu"]


def small_problem(seed, N=5, input_shape=(3, 2, 2), C=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, *input_shape)), rng.integers(0, C, N).astype(np.int64)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_fully_connected_gradients_match_numeric(activation, reg):
    X, y = small_problem(1)
    model = cw.mlp.FullyConnectedNet([6, 5], 12, 4, activation=activation, reg=reg,
                                     weight_scale=0.5, rng=np.random.default_rng(2))
    # non-zero biases, so that a forgotten bias shows up
    for name in model.params:
        if name.startswith("b"):
            model.params[name] = np.random.default_rng(3).standard_normal(model.params[name].shape)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = cw.gradcheck.numerical_gradient(lambda _: model.loss(X, y)[0], param)
        error = cw.gradcheck.relative_error(numeric, grads[name])
        assert error < 1e-6, f"{activation}: {name} relative error {error:.2g}"


def test_two_layer_gradients_match_numeric():
    X, y = small_problem(4, input_shape=(6,), C=3)
    model = cw.mlp.TwoLayerNet(6, 7, 3, weight_scale=0.5, reg=0.3, rng=np.random.default_rng(5))
    model.params["b1"] = np.linspace(-0.5, 0.5, 7)
    loss, grads = model.loss(X, y)
    for name, param in model.params.items():
        numeric = cw.gradcheck.numerical_gradient(lambda _: model.loss(X, y)[0], param)
        assert cw.gradcheck.relative_error(numeric, grads[name]) < 1e-6, name


torch = pytest.importorskip("torch")

TORCH_ACT = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
    "elu": lambda t: torch.nn.functional.elu(t, 1.0),
}


def torch_loss(params, num_layers, act, X, y, reg):
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(X.reshape(len(X), -1), dtype=torch.float64)
    for layer in range(1, num_layers):
        h = act(h @ tp[f"W{layer}"] + tp[f"b{layer}"])
    scores = h @ tp[f"W{num_layers}"] + tp[f"b{num_layers}"]
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y))
    loss = loss + 0.5 * reg * sum((tp[f"W{i}"] ** 2).sum() for i in range(1, num_layers + 1))
    loss.backward()
    return scores.detach().numpy(), loss.item(), {k: v.grad.numpy() for k, v in tp.items()}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [[], [7], [6, 5, 4]])
def test_fully_connected_matches_torch(activation, hidden):
    X, y = small_problem(6, N=8)
    model = cw.mlp.FullyConnectedNet(hidden, 12, 4, activation=activation, reg=0.2,
                                     weight_scale=0.4, rng=np.random.default_rng(7))
    for name in model.params:
        if name.startswith("b"):
            model.params[name] = 0.3 * np.random.default_rng(8).standard_normal(
                model.params[name].shape)
    scores = model.loss(X)
    loss, grads = model.loss(X, y)
    t_scores, t_loss, t_grads = torch_loss(model.params, len(hidden) + 1, TORCH_ACT[activation],
                                           X, y, 0.2)
    np.testing.assert_allclose(scores, t_scores, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss, t_loss, rtol=1e-10)
    for name in model.params:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-9, atol=1e-12)


def test_two_layer_matches_torch():
    X, y = small_problem(9, N=6, input_shape=(5,), C=3)
    model = cw.mlp.TwoLayerNet(5, 8, 3, weight_scale=0.5, reg=0.4, rng=np.random.default_rng(10))
    model.params["b1"] = np.linspace(-0.3, 0.3, 8)
    model.params["b2"] = np.array([0.1, -0.2, 0.3])
    loss, grads = model.loss(X, y)
    t_scores, t_loss, t_grads = torch_loss(model.params, 2, torch.relu, X, y, 0.4)
    np.testing.assert_allclose(model.loss(X), t_scores, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss, t_loss, rtol=1e-10)
    for name in model.params:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-9, atol=1e-12)


def test_initialisation():
    model = cw.mlp.FullyConnectedNet([300, 200], 100, 10, weight_scale=0.05,
                                     dtype=np.float32, rng=np.random.default_rng(11))
    assert model.num_layers == 3
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {"W1": (100, 300), "b1": (300,), "W2": (300, 200), "b2": (200,),
                      "W3": (200, 10), "b3": (10,)}
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert abs(model.params["W1"].std() / 0.05 - 1) < 0.05
    assert not model.params["b2"].any()
    X = np.random.default_rng(12).standard_normal((4, 100))
    loss, grads = model.loss(X, np.array([0, 1, 2, 3]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_bad_arguments_are_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="swish"):
        cw.mlp.FullyConnectedNet([3], 4, 2, activation="swish", rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        cw.mlp.TwoLayerNet(4, 3, 2, rng=0)
    with pytest.raises(ValueError, match="w\\(5, 3\\)"):
        cw.layers.affine_forward(np.zeros((2, 4)), np.zeros((5, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="prob"):
        cw.losses.bce_loss(np.array([1.5]), np.array([1.0]))
