"""Unit 06: the reference ``architectures`` checked independently of its own code.

Parameter counts come from the layer formulas (k*k*C_in*C_out + bias per convolution, in*out +
out per linear layer) and from the numbers the issue and the papers state; AlexNet and VGG-16
are built on the "meta" device, so nothing big is allocated. Every module's output is compared
with a functional re-implementation (``torch.nn.functional``) that takes the module's parameters
in the order ``parameters()`` lists them, which checks the forward order as well as the maths;
odd input sizes (33x35), stride 2, float64, train and eval mode. Residual blocks' identity path,
gradients reaching every parameter and ``freeze``'s count are checked too.
"""

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn

arch = load_reference().architectures

VGG16 = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]


def conv_count(k, cin, cout, bias=True, groups=1):
    return k * k * (cin // groups) * cout + (cout if bias else 0)


def linear_count(din, dout):
    return din * dout + dout


def shapes(module):
    return [tuple(p.shape) for p in module.parameters()]


def images(*shape, seed=0, dtype=torch.float64):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def randomize(module, seed=1):
    """Non-trivial parameters and running statistics (biases and BN shifts not zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.2 * torch.randn(b.shape, generator=gen, dtype=b.dtype))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen, dtype=b.dtype))
    return module


class Params:
    """The module's parameters and BN buffers, consumed in forward order."""

    def __init__(self, module):
        self.params = list(module.parameters())
        self.buffers = [b for n, b in module.named_buffers()
                        if not n.endswith("num_batches_tracked")]
        self.i = self.j = 0

    def take(self, n=1):
        out = self.params[self.i:self.i + n]
        self.i += n
        return out if n > 1 else out[0]

    def bn(self, x, train):
        w, b = self.take(2)
        mean, var = self.buffers[self.j:self.j + 2]
        self.j += 2
        if train:
            mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
        return (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-5) * \
            w[:, None, None] + b[:, None, None]

    def conv(self, x, stride=1, padding=0, bias=True, groups=1):
        w = self.take()
        b = self.take() if bias else None
        return F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)

    def linear(self, x):
        w, b = self.take(2)
        return x @ w.T + b

    def done(self):
        assert self.i == len(self.params), "parameters left over: wrong order or extra layers"


def relu(x):
    return torch.clamp(x, min=0)


# --- counts and shapes ------------------------------------------------------------------------

def test_lenet5_count_shapes_and_output():
    model = arch.LeNet5()
    expected = (conv_count(5, 1, 6) + conv_count(5, 6, 16) + linear_count(400, 120)
                + linear_count(120, 84) + linear_count(84, 10))
    assert expected == 61_706  # the number the issue states
    assert sum(p.numel() for p in model.parameters()) == expected
    assert shapes(model) == [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,),
                             (84, 120), (84,), (10, 84), (10,)]
    x = images(2, 3, 32, 32)
    model = randomize(arch.LeNet5(num_classes=7, in_channels=3).double())
    p = Params(model)
    h = F.avg_pool2d(torch.tanh(p.conv(x)), 2)
    h = F.avg_pool2d(torch.tanh(p.conv(h)), 2).flatten(1)
    h = p.linear(torch.tanh(p.linear(torch.tanh(p.linear(h)))))
    p.done()
    torch.testing.assert_close(model(x), h)
    with pytest.raises(ValueError, match="33"):
        model(images(1, 3, 33, 35))


def test_alexnet_counted_on_meta_device():
    with torch.device("meta"):
        model = arch.AlexNet()
        assert all(p.is_meta for p in model.parameters())
        out = model(torch.empty(2, 3, 227, 227))
    expected = (conv_count(11, 3, 96) + conv_count(5, 96, 256) + conv_count(3, 256, 384)
                + conv_count(3, 384, 384) + conv_count(3, 384, 256)
                + linear_count(256 * 6 * 6, 4096) + linear_count(4096, 4096)
                + linear_count(4096, 1000))
    assert expected == 62_378_344
    assert sum(p.numel() for p in model.parameters()) == expected
    assert shapes(model)[::2] == [(96, 3, 11, 11), (256, 96, 5, 5), (384, 256, 3, 3),
                                  (384, 384, 3, 3), (256, 384, 3, 3), (4096, 9216),
                                  (4096, 4096), (1000, 4096)]
    assert tuple(out.shape) == (2, 1000)
    kinds = [type(m).__name__ for m in model.modules()
             if type(m).__name__ in ("Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
                                     "Dropout", "Linear")]
    assert kinds == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
                     "Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
                     "Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d",
                     "Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear"]
    lrn = [m for m in model.modules() if isinstance(m, nn.LocalResponseNorm)][0]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2)


def test_alexnet_values_eval_mode():
    model = randomize(arch.AlexNet(num_classes=5, in_channels=1), seed=3).eval()
    x = images(1, 1, 227, 227, dtype=torch.float32)
    p = Params(model)

    def lrn(h):
        return F.local_response_norm(h, 5, alpha=1e-4, beta=0.75, k=2.0)

    h = F.max_pool2d(lrn(relu(p.conv(x, stride=4))), 3, 2)
    h = F.max_pool2d(lrn(relu(p.conv(h, padding=2))), 3, 2)
    h = relu(p.conv(relu(p.conv(relu(p.conv(h, padding=1)), padding=1)), padding=1))
    h = F.max_pool2d(h, 3, 2).flatten(1)
    h = p.linear(relu(p.linear(relu(p.linear(h)))))
    p.done()
    with torch.no_grad():
        torch.testing.assert_close(model(x), h, rtol=1e-4, atol=1e-4)


def test_vgg16_counted_on_meta_device():
    with torch.device("meta"):
        model = arch.VGG(VGG16)
        out = model(torch.empty(1, 3, 224, 224))
    expected, cin = 0, 3
    for n, cout in VGG16:
        for i in range(n):
            expected += conv_count(3, cin if i == 0 else cout, cout)
        cin = cout
    expected += linear_count(512 * 7 * 7, 4096) + linear_count(4096, 4096) \
        + linear_count(4096, 1000)
    assert expected == 138_357_544
    assert sum(p.numel() for p in model.parameters()) == expected
    assert tuple(out.shape) == (1, 1000)


@pytest.mark.parametrize("train", [False, True])
def test_small_vgg_values_and_floor_sizes(train):
    model = randomize(arch.VGG([(1, 4), (2, 5)], num_classes=3, in_channels=2, input_size=11,
                               fc_dim=6, dropout=0.0).double()).train(train)
    x = images(2, 2, 11, 11)
    p = Params(model)
    h = F.max_pool2d(relu(p.conv(x, padding=1)), 2)
    h = F.max_pool2d(relu(p.conv(relu(p.conv(h, padding=1)), padding=1)), 2)
    assert h.shape[2:] == (2, 2)  # 11 -> 5 -> 2
    h = p.linear(relu(p.linear(relu(p.linear(h.flatten(1))))))
    p.done()
    torch.testing.assert_close(model(x), h)


def test_vgg_block():
    block = arch.vgg_block(3, 2, 5)
    assert isinstance(block, nn.Sequential)
    assert [type(m).__name__ for m in block] == ["Conv2d", "ReLU"] * 3 + ["MaxPool2d"]
    assert shapes(block) == [(5, 2, 3, 3), (5,), (5, 5, 3, 3), (5,), (5, 5, 3, 3), (5,)]
    assert tuple(block(images(1, 2, 33, 35, dtype=torch.float32)).shape) == (1, 5, 16, 17)


def test_nin_block():
    block = randomize(arch.NiNBlock(3, 4, 5, 2, 1).double())
    assert shapes(block) == [(4, 3, 5, 5), (4,), (4, 4, 1, 1), (4,), (4, 4, 1, 1), (4,)]
    x = images(2, 3, 33, 35)
    p = Params(block)
    h = relu(p.conv(relu(p.conv(relu(p.conv(x, stride=2, padding=1))))))
    p.done()
    out = block(x)
    assert tuple(out.shape) == (2, 4, 16, 17)
    torch.testing.assert_close(out, h)


def test_inception_branch_order_and_values():
    block = randomize(arch.Inception(5, 2, (3, 4), (2, 3), 6).double())
    assert shapes(block) == [(2, 5, 1, 1), (2,), (3, 5, 1, 1), (3,), (4, 3, 3, 3), (4,),
                             (2, 5, 1, 1), (2,), (3, 2, 5, 5), (3,), (6, 5, 1, 1), (6,)]
    x = images(2, 5, 33, 35)
    p = Params(block)
    b1 = relu(p.conv(x))
    b2 = relu(p.conv(relu(p.conv(x)), padding=1))
    b3 = relu(p.conv(relu(p.conv(x)), padding=2))
    b4 = relu(p.conv(F.max_pool2d(x, 3, 1, 1)))
    p.done()
    out = block(x)
    assert tuple(out.shape) == (2, 15, 33, 35)
    torch.testing.assert_close(out, torch.cat([b1, b2, b3, b4], dim=1))


# --- residual blocks ----------------------------------------------------------------------------

def residual_reference(block, x, train, bottleneck=False):
    p = Params(block)
    stride = block.conv2.stride[0] if bottleneck else block.conv1.stride[0]
    if bottleneck:
        h = relu(p.bn(p.conv(x, bias=False), train))
        h = relu(p.bn(p.conv(h, stride=stride, padding=1, bias=False), train))
        h = p.bn(p.conv(h, bias=False), train)
    else:
        h = relu(p.bn(p.conv(x, stride=stride, padding=1, bias=False), train))
        h = p.bn(p.conv(h, padding=1, bias=False), train)
    if isinstance(block.shortcut, nn.Identity):
        s = x
    else:
        s = p.bn(p.conv(x, stride=stride, bias=False), train)
    p.done()
    return relu(h + s)


@pytest.mark.parametrize("cin,cout,stride", [(4, 4, 1), (3, 5, 1), (4, 4, 2), (3, 6, 2)])
@pytest.mark.parametrize("train", [False, True])
def test_residual_block(cin, cout, stride, train):
    block = randomize(arch.ResidualBlock(cin, cout, stride=stride).double()).train(train)
    assert [n for n, _ in block.named_children()] == ["conv1", "bn1", "conv2", "bn2", "shortcut"]
    assert block.conv1.bias is None and block.conv2.bias is None
    identity = stride == 1 and cin == cout
    assert isinstance(block.shortcut, nn.Identity) == identity
    expected = [(cout, cin, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,), (cout,)]
    if not identity:
        expected += [(cout, cin, 1, 1), (cout,), (cout,)]
    assert shapes(block) == expected
    x = images(2, cin, 33, 35)
    ref = residual_reference(block, x, train)
    out = block(x)
    assert tuple(out.shape) == (2, cout, (33 - 1) // stride + 1, (35 - 1) // stride + 1)
    torch.testing.assert_close(out, ref)


@pytest.mark.parametrize("cin,mid,cout,stride", [(6, 2, 6, 1), (4, 3, 8, 2), (5, 2, 7, 1)])
@pytest.mark.parametrize("train", [False, True])
def test_bottleneck_block(cin, mid, cout, stride, train):
    block = randomize(arch.BottleneckBlock(cin, mid, cout, stride=stride).double()).train(train)
    names = [n for n, _ in block.named_children()]
    assert names == ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "shortcut"]
    assert block.conv2.stride == (stride, stride) and block.conv1.stride == (1, 1)
    assert isinstance(block.shortcut, nn.Identity) == (stride == 1 and cin == cout)
    x = images(2, cin, 33, 35)
    torch.testing.assert_close(block(x), residual_reference(block, x, train, bottleneck=True))


@pytest.mark.parametrize("make", [lambda: arch.ResidualBlock(3, 3),
                                  lambda: arch.ResidualBlock(3, 5, stride=2),
                                  lambda: arch.BottleneckBlock(4, 2, 4),
                                  lambda: arch.BottleneckBlock(4, 2, 6, stride=2)])
def test_identity_path(make):
    """With the last batch norm's weight and bias zeroed, the block is relu(shortcut(x))."""
    block = randomize(make().double()).eval()
    last = block.bn3 if hasattr(block, "bn3") else block.bn2
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    x = images(2, block.conv1.in_channels, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(block(x), relu(block.shortcut(x)))
        if isinstance(block.shortcut, nn.Identity):
            torch.testing.assert_close(block(x), relu(x))


def test_resnet_structure_and_output():
    model = arch.ResNet([2, 1, 2], num_classes=7, in_channels=2, widths=(4, 6, 8))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is None for c in convs)  # every convolution is followed by batch norm
    blocks = [m for m in model.modules() if isinstance(m, arch.ResidualBlock)]
    assert [(b.conv1.in_channels, b.conv1.out_channels, b.conv1.stride[0]) for b in blocks] == \
        [(4, 4, 1), (4, 4, 1), (4, 6, 2), (6, 8, 2), (8, 8, 1)]
    assert isinstance(model.fc, nn.Linear) and (model.fc.in_features, model.fc.out_features) \
        == (8, 7)
    first = list(model.parameters())[0]
    assert tuple(first.shape) == (4, 2, 3, 3)
    assert list(model.parameters())[-2] is model.fc.weight
    out = model.double()(images(3, 2, 33, 35))
    assert tuple(out.shape) == (3, 7)
    # stem + 2 per block + fc
    assert len(convs) - sum(not isinstance(b.shortcut, nn.Identity) for b in blocks) == 1 + 10


# --- DenseNet, SE, MobileNet ----------------------------------------------------------------------

@pytest.mark.parametrize("train", [False, True])
def test_dense_and_transition_blocks(train):
    block = randomize(arch.DenseBlock(3, 2, 4).double()).train(train)
    assert shapes(block) == [(2,), (2,), (4, 2, 3, 3), (4,), (6,), (6,), (4, 6, 3, 3), (4,),
                             (10,), (10,), (4, 10, 3, 3), (4,)]
    x = images(2, 2, 33, 35)
    p = Params(block)
    h = x
    for _ in range(3):
        h = torch.cat([h, p.conv(relu(p.bn(h, train)), padding=1)], dim=1)
    p.done()
    out = block(x)
    assert tuple(out.shape) == (2, 14, 33, 35)
    torch.testing.assert_close(out, h)
    torch.testing.assert_close(out[:, :2], x)  # the input is carried unchanged

    trans = randomize(arch.TransitionBlock(14, 5).double()).train(train)
    p = Params(trans)
    expected = F.avg_pool2d(p.conv(relu(p.bn(out, train))), 2)
    p.done()
    got = trans(out)
    assert tuple(got.shape) == (2, 5, 16, 17)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("channels,reduction,hidden", [(32, 16, 2), (20, 4, 5), (6, 16, 1)])
def test_se_block(channels, reduction, hidden):
    block = randomize(arch.SEBlock(channels, reduction=reduction).double())
    assert (block.fc1.in_features, block.fc1.out_features) == (channels, hidden)
    assert (block.fc2.in_features, block.fc2.out_features) == (hidden, channels)
    assert shapes(block) == [(hidden, channels), (hidden,), (channels, hidden), (channels,)]
    x = images(2, channels, 5, 7)
    s = x.mean(dim=(2, 3))
    g = 1 / (1 + torch.exp(-(relu(s @ block.fc1.weight.T + block.fc1.bias) @ block.fc2.weight.T
                             + block.fc2.bias)))
    torch.testing.assert_close(block(x), x * g[:, :, None, None])
    torch.testing.assert_close(block.gates(x), g)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [False, True])
def test_depthwise_separable(stride, train):
    block = randomize(arch.DepthwiseSeparableConv(3, 5, stride=stride).double()).train(train)
    assert shapes(block) == [(3, 1, 3, 3), (3,), (3,), (5, 3, 1, 1), (5,), (5,)]
    assert block.depthwise.groups == 3 and block.depthwise.bias is None
    x = images(2, 3, 33, 35)
    p = Params(block)
    h = relu(p.bn(p.conv(x, stride=stride, padding=1, bias=False, groups=3), train))
    h = relu(p.bn(p.conv(h, bias=False), train))
    p.done()
    torch.testing.assert_close(block(x), h)
    full = conv_count(3, 3, 5, bias=False)
    separable = conv_count(3, 3, 3, bias=False, groups=3) + conv_count(1, 3, 5, bias=False)
    assert (full, separable) == (135, 42)


# --- every module: gradients, float32 default, freeze ---------------------------------------------

MODULES = [
    ("LeNet5", lambda: arch.LeNet5(), (2, 1, 32, 32)),
    ("VGG", lambda: arch.VGG([(1, 3), (1, 4)], num_classes=3, input_size=9, fc_dim=5,
                             dropout=0.0), (2, 3, 9, 9)),
    ("NiNBlock", lambda: arch.NiNBlock(2, 3, 3, 2, 0), (2, 2, 33, 35)),
    ("Inception", lambda: arch.Inception(3, 2, (2, 3), (1, 2), 2), (2, 3, 9, 11)),
    ("ResidualBlock", lambda: arch.ResidualBlock(3, 4, stride=2), (2, 3, 9, 11)),
    ("BottleneckBlock", lambda: arch.BottleneckBlock(4, 2, 5, stride=2), (2, 4, 9, 11)),
    ("ResNet", lambda: arch.ResNet([1, 1], widths=(3, 4), num_classes=3), (2, 3, 9, 11)),
    ("DenseBlock", lambda: arch.DenseBlock(2, 3, 2), (2, 3, 9, 11)),
    ("TransitionBlock", lambda: arch.TransitionBlock(3, 2), (2, 3, 9, 11)),
    ("SEBlock", lambda: arch.SEBlock(8, reduction=4), (2, 8, 5, 7)),
    ("DepthwiseSeparableConv", lambda: arch.DepthwiseSeparableConv(3, 4, stride=2),
     (2, 3, 9, 11)),
]


@pytest.mark.parametrize("name,make,shape", MODULES, ids=[m[0] for m in MODULES])
def test_gradients_reach_every_parameter_and_dtypes(name, make, shape):
    model = make()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    torch.manual_seed(0)
    out = model(torch.randn(shape))
    assert out.dtype == torch.float32
    model = model.double()
    out = model(images(*shape))
    assert out.dtype == torch.float64
    (out * images(*out.shape, seed=5)).sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name}.{pname} gets no gradient"


def test_freeze_counts_and_flags():
    model = arch.ResNet([1, 1], widths=(3, 4), num_classes=5)
    total = sum(p.numel() for p in model.parameters())
    assert arch.freeze(model, trainable=("fc",)) == linear_count(4, 5)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    model = arch.ResNet([1, 1], widths=(3, 4), num_classes=5)
    stage = sum(p.numel() for n, p in model.named_parameters() if n.startswith("stages.1"))
    assert arch.freeze(model, trainable=("fc", "stages.1")) == linear_count(4, 5) + stage
    assert arch.freeze(model) == 0
    model = arch.ResNet([1, 1], widths=(3, 4), num_classes=5)
    assert arch.freeze(model, trainable=("",)) == total  # every name starts with ""
    with pytest.raises(TypeError):
        arch.freeze(model, trainable="fc")


@pytest.mark.parametrize("call", [
    lambda: arch.LeNet5(num_classes=0), lambda: arch.VGG([]), lambda: arch.VGG([(2, 3)] * 6,
                                                                               input_size=32),
    lambda: arch.Inception(3, 1, (1,), (1, 1), 1), lambda: arch.ResidualBlock(3, 4, stride=0),
    lambda: arch.ResNet([1, 1], widths=(4,)), lambda: arch.SEBlock(8, reduction=0),
    lambda: arch.NiNBlock(1, 2, 3, 1, -1), lambda: arch.DenseBlock(0, 2, 2),
])
def test_bad_arguments_rejected(call):
    with pytest.raises(ValueError):
        call()
