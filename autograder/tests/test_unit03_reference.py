"""Unit 03: the reference ``conv`` and ``cnn`` checked against PyTorch (float64, autograd).

Convolutions over strides 1 to 3, pads 0 to 2, non-square inputs and kernels, N=1 and C=1; max,
average and adaptive (global) average pooling, overlapping windows included; naive and fast
versions alike. The networks are gradient-checked numerically and their parameters counted.
"""

import itertools

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional

cw = load_reference()
conv = cw.conv
cnn = cw.cnn


def fits(n, k, stride, pad):
    return k <= n + 2 * pad and (n + 2 * pad - k) % stride == 0


def conv_configs():
    """(N, C, H, W, F, HH, WW, stride, pad) covering every stride and pad, non-square shapes."""
    shapes = [(1, 1, 7, 7, 1, 3, 3), (2, 3, 6, 9, 2, 2, 3), (2, 2, 8, 5, 3, 3, 1),
              (1, 2, 5, 5, 2, 5, 5), (3, 1, 9, 7, 2, 4, 2)]
    out = []
    for shape, stride, pad in itertools.product(shapes, (1, 2, 3), (0, 1, 2)):
        N, C, H, W, Fn, HH, WW = shape
        # grow the input until this stride and pad fit (at most stride - 1 rows/columns)
        while not fits(H, HH, stride, pad):
            H += 1
        while not fits(W, WW, stride, pad):
            W += 1
        out.append((N, C, H, W, Fn, HH, WW, stride, pad))
    return out


def torch_conv(x, w, b, dout, stride, pad):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def assert_close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("config", conv_configs(), ids=lambda c: "N{}C{}_{}x{}_F{}_{}x{}_s{}_p{}"
                         .format(*c))
def test_conv_matches_torch(config):
    N, C, H, W, Fn, HH, WW, stride, pad = config
    rng = np.random.default_rng(sum(config))
    x, w, b = (rng.standard_normal(s) for s in ((N, C, H, W), (Fn, C, HH, WW), (Fn,)))
    H_out = conv.conv_output_size(H, HH, stride=stride, pad=pad)
    W_out = conv.conv_output_size(W, WW, stride=stride, pad=pad)
    dout = rng.standard_normal((N, Fn, H_out, W_out))
    expected = torch_conv(x, w, b, dout, stride, pad)
    for fwd, bwd in ((conv.conv_forward_naive, conv.conv_backward_naive),
                     (conv.conv_forward, conv.conv_backward)):
        x0, w0, b0 = x.copy(), w.copy(), b.copy()
        out, cache = fwd(x, w, b, stride=stride, pad=pad)
        got = (out, *bwd(dout, cache))
        for name, g, e in zip(("out", "dx", "dw", "db"), got, expected):
            assert g.shape == e.shape, (fwd.__name__, name)
            assert_close(g, e, f"{fwd.__name__} {name} {config}")
        assert np.array_equal(x, x0) and np.array_equal(w, w0) and np.array_equal(b, b0)


POOLS = [  # N, C, H, W, pool_size, stride
    (1, 1, 4, 4, 2, 2), (2, 3, 7, 9, 3, 2), (2, 2, 5, 4, 2, 1), (1, 2, 8, 5, 2, 3),
    (3, 1, 3, 6, 3, 3), (2, 2, 9, 9, 3, 3), (1, 1, 7, 5, 1, 2), (2, 1, 8, 8, 4, 4),
]


def distinct(rng, shape):
    size = int(np.prod(shape))
    return 3.0 * (rng.permutation(size).reshape(shape) / size - 0.5)


@pytest.mark.parametrize("config", POOLS, ids=lambda c: "N{}C{}_{}x{}_k{}_s{}".format(*c))
def test_pooling_matches_torch(config):
    N, C, H, W, k, stride = config
    rng = np.random.default_rng(sum(config))
    x = distinct(rng, (N, C, H, W))
    H_out, W_out = (H - k) // stride + 1, (W - k) // stride + 1
    dout = rng.standard_normal((N, C, H_out, W_out))
    for torch_pool, versions in (
            (F.max_pool2d, ((conv.max_pool_forward_naive, conv.max_pool_backward_naive),
                            (conv.max_pool_forward, conv.max_pool_backward))),
            (F.avg_pool2d, ((conv.avg_pool_forward, conv.avg_pool_backward),))):
        xt = torch.tensor(x, requires_grad=True)
        out_t = torch_pool(xt, k, stride)
        out_t.backward(torch.tensor(dout))
        for fwd, bwd in versions:
            out, cache = fwd(x, pool_size=k, stride=stride)
            assert_close(out, out_t.detach().numpy(), f"{fwd.__name__} {config}")
            assert_close(bwd(dout, cache), xt.grad.numpy(), f"{bwd.__name__} {config}")


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 7, 3), (3, 2, 1, 1)])
def test_global_avg_pool_matches_torch(shape):
    rng = np.random.default_rng(len(shape) + shape[2])
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(shape[:2])
    xt = torch.tensor(x, requires_grad=True)
    out_t = F.adaptive_avg_pool2d(xt, 1).reshape(shape[:2])
    out_t.backward(torch.tensor(dout))
    out, cache = conv.global_avg_pool_forward(x)
    assert_close(out, out_t.detach().numpy(), "global_avg_pool_forward")
    assert_close(conv.global_avg_pool_backward(dout, cache), xt.grad.numpy(),
                 "global_avg_pool_backward")


def test_max_pool_ties_pass_the_gradient_once():
    """Tied maxima (ReLU zeros): each window's gradient goes to one of them, not to all."""
    x = np.zeros((1, 1, 4, 4))
    dout = np.ones((1, 1, 2, 2))
    for fwd, bwd in ((conv.max_pool_forward_naive, conv.max_pool_backward_naive),
                     (conv.max_pool_forward, conv.max_pool_backward)):
        _, cache = fwd(x)
        dx = bwd(dout, cache)
        assert dx.sum() == 4.0 and dx.max() == 1.0


def test_float32_keeps_its_dtype():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = conv.conv_forward(x, w, b, pad=1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv.conv_backward(out, cache))
    out, cache = conv.max_pool_forward(x)
    assert out.dtype == np.float32 and conv.max_pool_backward(out, cache).dtype == np.float32


@pytest.mark.parametrize("n,k,stride,pad", [(7, 3, 3, 0), (12, 5, 2, 1), (4, 9, 1, 2)])
def test_window_that_does_not_fit_is_an_error_naming_the_numbers(n, k, stride, pad):
    with pytest.raises(ValueError, match=str(n)):
        conv.conv_output_size(n, k, stride=stride, pad=pad)
    x, w, b = np.zeros((1, 1, n, n)), np.zeros((1, 1, k, k)), np.zeros(1)
    for fwd in (conv.conv_forward_naive, conv.conv_forward):
        with pytest.raises(ValueError, match=f"{k}x{k} filter with stride {stride}"):
            fwd(x, w, b, stride=stride, pad=pad)


def test_the_lecture_example_message():
    with pytest.raises(ValueError, match="a 3x3 filter with stride 3 and pad 0 does not fit a "
                                         "7x7 input"):
        conv.conv_forward(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), stride=3)


# ---------------------------------------------------------------- networks

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


def perturbed(model, rng):
    model.params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in model.params.items()}
    return model


@pytest.mark.parametrize("build,x_shape", [
    (lambda rng: cnn.ThreeLayerConvNet((2, 6, 8), 3, 3, 5, 4, weight_scale=None, reg=0.3,
                                       rng=rng), (3, 2, 6, 8)),
    (lambda rng: cnn.LeNet5((1, 10, 14), 3, filters=(2, 3), filter_size=3, hidden_dims=(5, 4),
                            reg=0.2, rng=rng), (2, 1, 10, 14)),
    (lambda rng: cnn.LeNet5((2, 8, 8), 3, filters=(2, 3), filter_size=3, pad=1, pool="avg",
                            hidden_dims=(5, 4), reg=0.1, rng=rng), (2, 2, 8, 8)),
], ids=["three_layer", "lenet_max", "lenet_avg"])
def test_network_gradients_match_numeric(build, x_shape):
    rng = np.random.default_rng(0)
    model = perturbed(build(rng), rng)
    X = rng.standard_normal(x_shape)
    y = rng.integers(0, 3, x_shape[0])
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for key, value in model.params.items():
        numeric = numeric_gradient(lambda: model.loss(X, y)[0], value)
        error = np.max(np.abs(numeric - grads[key])) / max(np.max(np.abs(grads[key])), 1e-8)
        assert error < 1e-6, (key, error)
    last_bias = max(k for k in model.params if k.startswith("b"))  # b3 or b5
    assert model.loss(X).shape == (x_shape[0], model.params[last_bias].shape[0])


def test_initial_loss_is_log_of_the_number_of_classes():
    rng = np.random.default_rng(0)
    model = cnn.ThreeLayerConvNet((1, 8, 8), 8, 3, 20, 10, weight_scale=1e-4, rng=rng)
    loss, _ = model.loss(rng.standard_normal((10, 1, 8, 8)), np.arange(10))
    assert abs(loss - np.log(10)) < 1e-3


def test_count_parameters():
    rng = np.random.default_rng(0)
    assert cnn.count_parameters(cnn.LeNet5(rng=rng)) == 61_706  # the classic LeNet-5 count
    model = cnn.ThreeLayerConvNet((3, 32, 32), 32, 7, 100, 10, rng=rng)
    expected = (32 * 3 * 7 * 7 + 32) + (32 * 16 * 16 * 100 + 100) + (100 * 10 + 10)
    assert cnn.count_parameters(model) == expected
    assert cnn.count_parameters(model.params) == expected


def test_networks_match_torch_modules():
    """ThreeLayerConvNet's scores and gradients equal an equivalent torch network's."""
    rng = np.random.default_rng(1)
    model = perturbed(cnn.ThreeLayerConvNet((2, 6, 4), 3, 3, 5, 4, reg=0.0, rng=rng), rng)
    X = rng.standard_normal((3, 2, 6, 4))
    y = rng.integers(0, 4, 3)
    loss, grads = model.loss(X, y)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X), p["W1"], p["b1"], padding=1)), 2, 2)
    h = F.relu(h.reshape(3, -1) @ p["W2"] + p["b2"])
    loss_t = F.cross_entropy(h @ p["W3"] + p["b3"], torch.tensor(y))
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-10
    for k in p:
        assert_close(grads[k], p[k].grad.numpy(), k)
