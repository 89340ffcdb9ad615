"""Unit 06: the landmark CNN architectures, written with PyTorch.

Having built every layer by hand in units 02-05, you now assemble the networks that made the
history of image classification, with ``torch.nn`` layers, and learn why each design won.

Conventions every module here follows (the grader relies on them):

- **Forward order.** Every module registers its layers (assigns them as attributes, or puts them
  in an ``nn.Sequential``) in the order it applies them, so ``parameters()`` lists the parameters
  in forward order. Where an attribute name is given below (``conv1``, ``bn1``, ``shortcut``,
  ``fc`` ...), use exactly that name. A module's own ``nn.Parameter`` attributes come first in
  ``parameters()``, before its layers' whatever the order: keep weights in layers.
- **Biases.** A convolution directly followed by batch normalization has no bias
  (``bias=False``: the batch norm's shift replaces it); every other convolution and linear layer
  has one.
- **Default initialisation.** Keep PyTorch's own initialisation (no custom init is graded).
- **Dropout and batch norm.** Dropout is ``nn.Dropout`` (or ``F.dropout(x, p,
  training=self.training)``) exactly where a docstring puts it: in train mode the grader seeds
  PyTorch's global generator alike for your module and the reference, so the dropout masks
  agree only when the dropout layers are in the same places. Batch norm is
  ``nn.BatchNorm2d(channels)`` with its defaults (momentum 0.1, eps 1e-5): the running mean and
  variance after a train-mode forward are graded too.
- **dtype.** Modules are float32 by default and work in float64 after ``.double()``.

Shapes use N (batch), C (channels), H, W (height, width), K (classes).
"""

import numbers

import torch
from torch import nn


# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------

def _check_int(where, what, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_probability(where, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{where}: {what} must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_pair(where, what, value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{where}: {what} must be a pair of channel counts, got {value!r}")
    return tuple(_check_int(where, f"every entry of {what}", v) for v in value)


def _check_images(where, x, channels=None, size=None):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{where}: expected images of shape (N, C, H, W), got {shape}")
    if channels is not None and x.shape[1] != channels:
        # (N, H, W, C) images (NumPy and matplotlib order) are the usual cause: say so
        hint = (" (channels last? x.permute(0, 3, 1, 2) turns (N, H, W, C) images into "
                "(N, C, H, W))" if x.shape[-1] == channels else "")
        raise ValueError(f"{where}: expected {channels} input channels, got images of shape "
                         f"{tuple(x.shape)}{hint}")
    if size is not None and tuple(x.shape[2:]) != (size, size):
        raise ValueError(f"{where}: expected {size}x{size} images, got images of shape "
                         f"{tuple(x.shape)}")


# ---------------------------------------------------------------------------------------------
# LeNet-5, AlexNet, VGG
# ---------------------------------------------------------------------------------------------

class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) on 32x32 images, with tanh and average pooling.

    Layers, in order: conv 5x5 (6 filters) - tanh - 2x2 average pooling (stride 2) - conv 5x5
    (16 filters) - tanh - 2x2 average pooling - flatten (16 * 5 * 5 = 400) - linear 120 - tanh -
    linear 84 - tanh - linear ``num_classes``. No padding. 61,706 parameters for the defaults.

    Input: x (N, in_channels, 32, 32). Returns the class scores (N, num_classes).
    """

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        num_classes = _check_int("LeNet5", "num_classes", num_classes)
        in_channels = _check_int("LeNet5", "in_channels", in_channels)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("LeNet5", x, self.in_channels, 32)
        # BEGIN SOLUTION
        scores = self.classifier(self.features(x))
        # END SOLUTION
        return scores


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) as one tower, on 227x227 images.

    Layers, in order (ReLU after every convolution and the first two linear layers):
    CONV1 96 filters 11x11 stride 4 - ReLU - LRN - max pool 3x3 stride 2;
    CONV2 256 5x5 pad 2 - ReLU - LRN - max pool 3x3 stride 2;
    CONV3 384 3x3 pad 1 - ReLU; CONV4 384 3x3 pad 1 - ReLU; CONV5 256 3x3 pad 1 - ReLU -
    max pool 3x3 stride 2; flatten (256 * 6 * 6); dropout 0.5 - FC 4096 - ReLU - dropout 0.5 -
    FC 4096 - ReLU - FC ``num_classes``. LRN is
    ``nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2)``. 62,378,344 parameters for the
    defaults. Spatial sizes: 227 -> 55 -> 27 -> 27 -> 13 -> 13 -> 13 -> 13 -> 6.

    Input: x (N, in_channels, 227, 227). Returns the class scores (N, num_classes).
    """

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__()
        num_classes = _check_int("AlexNet", "num_classes", num_classes)
        in_channels = _check_int("AlexNet", "in_channels", in_channels)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        def lrn():
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4), nn.ReLU(), lrn(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), lrn(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("AlexNet", x, self.in_channels, 227)
        # BEGIN SOLUTION
        scores = self.classifier(self.features(x))
        # END SOLUTION
        return scores


def vgg_block(num_convs, in_channels, out_channels):
    """One VGG block: ``num_convs`` times (3x3 convolution, padding 1, then ReLU), then 2x2 max
    pooling with stride 2.

    The first convolution maps in_channels to out_channels, the others out_channels to
    out_channels. Returns an ``nn.Sequential`` holding exactly these layers in this order;
    it maps (N, in_channels, H, W) to (N, out_channels, H // 2, W // 2).
    """
    num_convs = _check_int("vgg_block", "num_convs", num_convs)
    in_channels = _check_int("vgg_block", "in_channels", in_channels)
    out_channels = _check_int("vgg_block", "out_channels", out_channels)
    # BEGIN SOLUTION
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels,
                             kernel_size=3, padding=1), nn.ReLU()]
    layers.append(nn.MaxPool2d(2, stride=2))
    block = nn.Sequential(*layers)
    # END SOLUTION
    return block


class VGG(nn.Module):
    """VGG (Simonyan & Zisserman, 2014): ``vgg_block``s, then three fully connected layers.

    ``conv_arch`` is a list of ``(num_convs, out_channels)``, one ``vgg_block`` each, the first
    taking ``in_channels``. Then flatten, linear ``fc_dim`` - ReLU - dropout - linear ``fc_dim``
    - ReLU - dropout - linear ``num_classes``. Each block halves the size (floor), so the first
    linear layer has ``out_channels_of_last_block * s * s`` inputs, ``s`` being ``input_size``
    halved once per block. VGG-16 is
    ``VGG([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)])``: 138,357,544 parameters.

    Input: x (N, in_channels, input_size, input_size). Returns the scores (N, num_classes).
    """

    def __init__(self, conv_arch, *, num_classes=1000, in_channels=3, input_size=224,
                 fc_dim=4096, dropout=0.5):
        super().__init__()
        if not isinstance(conv_arch, (list, tuple)) or len(conv_arch) == 0:
            raise ValueError(f"VGG: conv_arch must be a non-empty list of (num_convs, "
                             f"out_channels), got {conv_arch!r}")
        for item in conv_arch:
            _check_pair("VGG", "every entry of conv_arch", item)
        num_classes = _check_int("VGG", "num_classes", num_classes)
        in_channels = _check_int("VGG", "in_channels", in_channels)
        input_size = _check_int("VGG", "input_size", input_size)
        fc_dim = _check_int("VGG", "fc_dim", fc_dim)
        dropout = _check_probability("VGG", "dropout", dropout)
        if input_size >> len(conv_arch) < 1:
            raise ValueError(f"VGG: input_size {input_size} is too small for {len(conv_arch)} "
                             "blocks (each halves it)")
        self.in_channels, self.input_size = in_channels, input_size
        # BEGIN SOLUTION
        blocks, channels, size = [], in_channels, input_size
        for num_convs, out_channels in conv_arch:
            blocks.append(vgg_block(num_convs, channels, out_channels))
            channels, size = out_channels, size // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * size * size, fc_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(fc_dim, fc_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(fc_dim, num_classes),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("VGG", x, self.in_channels, self.input_size)
        # BEGIN SOLUTION
        scores = self.classifier(self.features(x))
        # END SOLUTION
        return scores


# ---------------------------------------------------------------------------------------------
# NiN and Inception
# ---------------------------------------------------------------------------------------------

class NiNBlock(nn.Module):
    """A Network-in-Network block (Lin et al., 2013): a convolution, then two 1x1 convolutions,
    each of the three followed by ReLU.

    The first convolution maps in_channels to out_channels with the given kernel_size, stride
    and padding; the 1x1 convolutions keep out_channels (they act as a small MLP applied at
    every pixel). Input (N, in_channels, H, W); output (N, out_channels, H', W') with
    ``H' = (H + 2 * padding - kernel_size) // stride + 1``, likewise W'.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__()
        in_channels = _check_int("NiNBlock", "in_channels", in_channels)
        out_channels = _check_int("NiNBlock", "out_channels", out_channels)
        kernel_size = _check_int("NiNBlock", "kernel_size", kernel_size)
        stride = _check_int("NiNBlock", "stride", stride)
        padding = _check_int("NiNBlock", "padding", padding, minimum=0)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("NiNBlock", x, self.in_channels)
        # BEGIN SOLUTION
        out = self.layers(x)
        # END SOLUTION
        return out


class Inception(nn.Module):
    """GoogLeNet's inception module (Szegedy et al., 2014): four parallel branches whose outputs
    are concatenated along the channels, in this order:

    1. 1x1 conv (c1) - ReLU;
    2. 1x1 conv (c2[0]) - ReLU - 3x3 conv pad 1 (c2[1]) - ReLU;
    3. 1x1 conv (c3[0]) - ReLU - 5x5 conv pad 2 (c3[1]) - ReLU;
    4. 3x3 max pool stride 1 pad 1 - 1x1 conv (c4) - ReLU.

    The 1x1 convolutions before the 3x3 and 5x5 ones are bottlenecks: they cut the channels the
    expensive filters see. Register the branches in this order. Input (N, in_channels, H, W);
    output (N, c1 + c2[1] + c3[1] + c4, H, W).
    """

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        in_channels = _check_int("Inception", "in_channels", in_channels)
        c1 = _check_int("Inception", "c1", c1)
        c2 = _check_pair("Inception", "c2", c2)
        c3 = _check_pair("Inception", "c3", c3)
        c4 = _check_int("Inception", "c4", c4)
        self.out_channels = c1 + c2[1] + c3[1] + c4
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.branch1 = nn.Sequential(nn.Conv2d(in_channels, c1, kernel_size=1), nn.ReLU())
        self.branch2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], kernel_size=1), nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1), nn.ReLU(),
        )
        self.branch3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], kernel_size=1), nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2), nn.ReLU(),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(in_channels, c4, kernel_size=1), nn.ReLU(),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("Inception", x, self.in_channels)
        # BEGIN SOLUTION
        out = torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)],
                        dim=1)
        # END SOLUTION
        return out


# ---------------------------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------------------------

def _shortcut(in_channels, out_channels, stride):
    """The shortcut rule of both residual blocks (provided): the identity when the shape does
    not change, else a 1x1 convolution with the block's stride (no bias) and batch norm."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class ResidualBlock(nn.Module):
    """ResNet's basic block (He et al., 2015): two 3x3 convolutions and a shortcut.

    Attributes, in this order: ``conv1`` (3x3, in -> out channels, stride ``stride``, pad 1,
    no bias), ``bn1``, ``conv2`` (3x3, out -> out, pad 1, no bias), ``bn2``, ``shortcut``:
    ``nn.Identity()`` when stride is 1 and in_channels == out_channels, otherwise
    ``nn.Sequential(1x1 conv with stride ``stride`` and no bias, batch norm)``.

    out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): the ReLU comes after the addition,
    so the block learns a residual F(x) on top of x, and the gradient reaching x is
    dL/dx = dL/dH (dF/dx + 1): it never vanishes through the shortcut.
    Input (N, in_channels, H, W); output (N, out_channels, H', W'), H' = (H - 1) // stride + 1.
    """

    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__()
        in_channels = _check_int("ResidualBlock", "in_channels", in_channels)
        out_channels = _check_int("ResidualBlock", "out_channels", out_channels)
        stride = _check_int("ResidualBlock", "stride", stride)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        # END SOLUTION

    def forward(self, x):
        _check_images("ResidualBlock", x, self.in_channels)
        # BEGIN SOLUTION
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = torch.relu(out + self.shortcut(x))
        # END SOLUTION
        return out


class BottleneckBlock(nn.Module):
    """ResNet's bottleneck block: 1x1 (reduce) - 3x3 (stride) - 1x1 (expand) convolutions.

    Attributes, in this order: ``conv1`` (1x1, in -> mid), ``bn1``, ``conv2`` (3x3, mid -> mid,
    stride ``stride``, pad 1), ``bn2``, ``conv3`` (1x1, mid -> out), ``bn3``, ``shortcut`` (the
    rule of ``ResidualBlock``); no convolution has a bias.
    out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)).
    Input (N, in_channels, H, W); output (N, out_channels, (H - 1) // stride + 1, ...).
    """

    def __init__(self, in_channels, mid_channels, out_channels, *, stride=1):
        super().__init__()
        in_channels = _check_int("BottleneckBlock", "in_channels", in_channels)
        mid_channels = _check_int("BottleneckBlock", "mid_channels", mid_channels)
        out_channels = _check_int("BottleneckBlock", "out_channels", out_channels)
        stride = _check_int("BottleneckBlock", "stride", stride)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        # END SOLUTION

    def forward(self, x):
        _check_images("BottleneckBlock", x, self.in_channels)
        # BEGIN SOLUTION
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = torch.relu(out + self.shortcut(x))
        # END SOLUTION
        return out


class ResNet(nn.Module):
    """A small ResNet for little images (the CIFAR design of He et al., 2015).

    Layers, in order: a stem (3x3 conv pad 1, in_channels -> widths[0], no bias - batch norm -
    ReLU); then one stage per width, stage i holding ``block_counts[i]`` ``ResidualBlock``s
    whose first block maps the previous width to ``widths[i]`` with stride 2 for every stage but
    the first (stride 1); global average pooling; a linear classifier named ``fc``
    (widths[-1] -> num_classes). Depth: 2 + 2 * sum(block_counts) weight layers
    (``block_counts=(3, 3, 3)`` is ResNet-20).

    Input: x (N, in_channels, H, W), any H, W (one module answers inputs of every size).
    Returns the class scores (N, num_classes).
    """

    def __init__(self, block_counts, *, num_classes=10, in_channels=3, widths=(16, 32, 64)):
        super().__init__()
        if not isinstance(block_counts, (list, tuple)) or not isinstance(widths, (list, tuple)) \
                or len(block_counts) != len(widths) or len(widths) == 0:
            raise ValueError(f"ResNet: block_counts and widths must be lists of the same "
                             f"non-zero length, got {block_counts!r} and {widths!r}")
        block_counts = [_check_int("ResNet", "every block count", n) for n in block_counts]
        widths = [_check_int("ResNet", "every width", w) for w in widths]
        num_classes = _check_int("ResNet", "num_classes", num_classes)
        in_channels = _check_int("ResNet", "in_channels", in_channels)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]), nn.ReLU(),
        )
        stages, channels = [], widths[0]
        for i, (count, width) in enumerate(zip(block_counts, widths)):
            blocks = []
            for j in range(count):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(ResidualBlock(channels, width, stride=stride))
                channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        # END SOLUTION

    def forward(self, x):
        _check_images("ResNet", x, self.in_channels)
        # BEGIN SOLUTION
        out = self.pool(self.stages(self.stem(x)))
        scores = self.fc(torch.flatten(out, 1))
        # END SOLUTION
        return scores


# ---------------------------------------------------------------------------------------------
# DenseNet, SENet, MobileNet
# ---------------------------------------------------------------------------------------------

class DenseBlock(nn.Module):
    """DenseNet's dense block (Huang et al., 2016): every unit sees all earlier feature maps.

    Unit i (i = 0 .. num_convs - 1) is batch norm - ReLU - 3x3 conv pad 1 from
    ``in_channels + i * growth_rate`` to ``growth_rate`` channels (with bias: no batch norm
    follows it); its output is concatenated after its input along the channels:
    x = cat([x, unit_i(x)], dim=1). Register the units in order.
    Input (N, in_channels, H, W); output (N, in_channels + num_convs * growth_rate, H, W).
    """

    def __init__(self, num_convs, in_channels, growth_rate):
        super().__init__()
        num_convs = _check_int("DenseBlock", "num_convs", num_convs)
        in_channels = _check_int("DenseBlock", "in_channels", in_channels)
        growth_rate = _check_int("DenseBlock", "growth_rate", growth_rate)
        self.out_channels = in_channels + num_convs * growth_rate
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.units = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(in_channels + i * growth_rate), nn.ReLU(),
                          nn.Conv2d(in_channels + i * growth_rate, growth_rate, 3, padding=1))
            for i in range(num_convs)
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("DenseBlock", x, self.in_channels)
        # BEGIN SOLUTION
        for unit in self.units:
            x = torch.cat([x, unit(x)], dim=1)
        # END SOLUTION
        return x


class TransitionBlock(nn.Module):
    """DenseNet's transition between dense blocks: batch norm - ReLU - 1x1 conv (in -> out
    channels, with bias) - 2x2 average pooling (stride 2).

    Input (N, in_channels, H, W); output (N, out_channels, H // 2, W // 2).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        in_channels = _check_int("TransitionBlock", "in_channels", in_channels)
        out_channels = _check_int("TransitionBlock", "out_channels", out_channels)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.layers = nn.Sequential(
            nn.BatchNorm2d(in_channels), nn.ReLU(),
            nn.Conv2d(in_channels, out_channels, kernel_size=1),
            nn.AvgPool2d(2, stride=2),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("TransitionBlock", x, self.in_channels)
        # BEGIN SOLUTION
        out = self.layers(x)
        # END SOLUTION
        return out


class SEBlock(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2017): reweight the channels by learned gates.

    Squeeze: s = mean of x over H and W, (N, C). Excite: g = sigmoid(fc2(relu(fc1(s)))), with
    ``fc1`` an ``nn.Linear(C, max(1, C // reduction))`` and ``fc2`` an ``nn.Linear`` back to C.
    Output: x with channel c of example n multiplied by g[n, c] (gates in (0, 1)).
    Input and output (N, C, H, W), any H and W (one module answers inputs of every size).
    """

    def __init__(self, channels, *, reduction=16):
        super().__init__()
        channels = _check_int("SEBlock", "channels", channels)
        reduction = _check_int("SEBlock", "reduction", reduction)
        self.channels = channels
        # BEGIN SOLUTION
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        # END SOLUTION

    def gates(self, x):
        """The excitation g (N, C) of x (N, C, H, W): the factor each channel is scaled by."""
        _check_images("SEBlock", x, self.channels)
        # BEGIN SOLUTION
        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        # END SOLUTION
        return g

    def forward(self, x):
        _check_images("SEBlock", x, self.channels)
        # BEGIN SOLUTION
        out = x * self.gates(x)[:, :, None, None]
        # END SOLUTION
        return out


class DepthwiseSeparableConv(nn.Module):
    """MobileNet's depthwise separable convolution (Howard et al., 2017).

    Attributes, in this order: ``depthwise`` (3x3 conv pad 1 with stride ``stride`` and
    ``groups=in_channels``: one filter per input channel, in -> in channels, no bias), ``bn1``,
    then ReLU, ``pointwise`` (1x1 conv in -> out, no bias), ``bn2``, then ReLU.
    Parameters of the two convolutions: 9 * C_in + C_in * C_out, instead of 9 * C_in * C_out
    for a full 3x3 convolution. Input (N, in_channels, H, W); output
    (N, out_channels, (H - 1) // stride + 1, (W - 1) // stride + 1).
    """

    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__()
        in_channels = _check_int("DepthwiseSeparableConv", "in_channels", in_channels)
        out_channels = _check_int("DepthwiseSeparableConv", "out_channels", out_channels)
        stride = _check_int("DepthwiseSeparableConv", "stride", stride)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride=stride, padding=1,
                                   groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        # END SOLUTION

    def forward(self, x):
        _check_images("DepthwiseSeparableConv", x, self.in_channels)
        # BEGIN SOLUTION
        out = torch.relu(self.bn1(self.depthwise(x)))
        out = torch.relu(self.bn2(self.pointwise(out)))
        # END SOLUTION
        return out


# ---------------------------------------------------------------------------------------------
# Transfer learning
# ---------------------------------------------------------------------------------------------

def freeze(model, *, trainable=()):
    """Freeze a model for transfer learning, except the parameters named in ``trainable``.

    Sets ``requires_grad = False`` on every parameter whose name (as ``named_parameters()``
    gives it, e.g. ``"fc.weight"``) does not start with one of the strings of ``trainable``;
    the parameters that do are left as they are. Returns the number of trainable scalar
    parameters left: the sum of ``numel()`` over the parameters whose ``requires_grad`` is
    True afterwards. ``freeze(model, trainable=("fc",))`` keeps only the classifier trainable
    (a frozen feature extractor).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"freeze: model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(trainable, str) or not isinstance(trainable, (tuple, list, set, frozenset)) \
            or not all(isinstance(p, str) for p in trainable):
        raise TypeError(f"freeze: trainable must be a tuple of name prefixes, got {trainable!r}")
    # BEGIN SOLUTION
    prefixes = tuple(trainable)
    for name, param in model.named_parameters():
        if not name.startswith(prefixes):
            param.requires_grad = False
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # END SOLUTION
    return count
