"""Known mistakes of unit 06, ``architectures``: wrong modules with the constructor of the one
they imitate.

Each subclasses the reference module and changes one thing (a layer, an order, a missing piece),
so that only that differs; a failing student module whose parameter shapes or outputs match one
of them gets its description as hint. Each is tested to be recognised (tests/test_hints.py).
The few whose forward raises (``_raising``) are the reference with one edit of its source.
"""

import torch
from torch import nn

from ..oracle import load_reference

A = load_reference().architectures


# -- LeNet5 --------------------------------------------------------------------------------------

class LeNetMaxPool(A.LeNet5):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__(num_classes, in_channels)
        self.features[2] = nn.MaxPool2d(2)
        self.features[5] = nn.MaxPool2d(2)


class LeNetReLU(A.LeNet5):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__(num_classes, in_channels)
        for seq in (self.features, self.classifier):
            for i, layer in enumerate(seq):
                if isinstance(layer, nn.Tanh):
                    seq[i] = nn.ReLU()


# -- AlexNet -------------------------------------------------------------------------------------

class AlexNetSmallPool(A.AlexNet):
    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        for i, layer in enumerate(self.features):
            if isinstance(layer, nn.MaxPool2d):
                self.features[i] = nn.MaxPool2d(2, stride=2)


class AlexNetNoLRN(A.AlexNet):
    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        self.features[2] = nn.Identity()
        self.features[6] = nn.Identity()


class AlexNetLRNDefaultK(A.AlexNet):
    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        self.features[2] = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)
        self.features[6] = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)


class AlexNetLRNAlphaNotAveraged(A.AlexNet):
    """The paper's formula written out, k + alpha * sum of squares: nn.LocalResponseNorm (the
    docstring's) divides alpha by the window size, k + alpha / n * sum."""

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        self.features[2] = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        self.features[6] = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)


class AlexNetPoolBeforeLRN(A.AlexNet):
    """ReLU - max pool - LRN (CaffeNet's order) in the first two stages."""

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        f = self.features
        f[2], f[3], f[6], f[7] = f[3], f[2], f[7], f[6]


class AlexNetDropoutAfterReLU(A.AlexNet):
    """Linear - ReLU - Dropout instead of Dropout - Linear - ReLU in the classifier."""

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__(num_classes, in_channels)
        c = self.classifier
        self.classifier = nn.Sequential(c[0], c[2], c[3], nn.Dropout(0.5), c[5], c[6],
                                        nn.Dropout(0.5), c[7])


# -- vgg_block / VGG ----------------------------------------------------------------------------

def vgg_block_no_padding(num_convs, in_channels, out_channels):
    block = A.vgg_block(num_convs, in_channels, out_channels)
    for layer in block:
        if isinstance(layer, nn.Conv2d):
            layer.padding = (0, 0)
    return block


def vgg_block_no_relu(num_convs, in_channels, out_channels):
    block = A.vgg_block(num_convs, in_channels, out_channels)
    return nn.Sequential(*[layer for layer in block if not isinstance(layer, nn.ReLU)])


class VGGUnhalvedInput(nn.Module):
    """The first linear layer sized from input_size without the halvings."""

    def __init__(self, conv_arch, *, num_classes=1000, in_channels=3, input_size=224,
                 fc_dim=4096, dropout=0.5):
        super().__init__()
        ref = A.VGG(conv_arch, num_classes=num_classes, in_channels=in_channels,
                    input_size=input_size, fc_dim=fc_dim, dropout=dropout)
        self.features = ref.features
        self.classifier = ref.classifier
        self.classifier[1] = nn.Linear(conv_arch[-1][1] * input_size * input_size, fc_dim)

    def forward(self, x):
        return self.classifier(self.features(x))


class VGGRoundedSize(VGGUnhalvedInput):
    """The first linear layer sized from input_size / 2**blocks rounded, not floored at each
    pooling (11 -> 3 where the pooling gives 11 -> 5 -> 2)."""

    def __init__(self, conv_arch, *, num_classes=1000, in_channels=3, input_size=224,
                 fc_dim=4096, dropout=0.5):
        super().__init__(conv_arch, num_classes=num_classes, in_channels=in_channels,
                         input_size=input_size, fc_dim=fc_dim, dropout=dropout)
        size = round(input_size / 2 ** len(conv_arch))
        self.classifier[1] = nn.Linear(conv_arch[-1][1] * size * size, fc_dim)


class VGGNoHiddenReLU(A.VGG):
    def __init__(self, conv_arch, **kwargs):
        super().__init__(conv_arch, **kwargs)
        for i, layer in enumerate(self.classifier):
            if isinstance(layer, nn.ReLU):
                self.classifier[i] = nn.Identity()


# -- NiN, Inception -----------------------------------------------------------------------------

class NiNOneReLU(A.NiNBlock):
    def __init__(self, *args):
        super().__init__(*args)
        self.layers[1] = nn.Identity()
        self.layers[3] = nn.Identity()


class NiNStrideEverywhere(A.NiNBlock):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)
        self.layers[2].stride = (stride, stride)
        self.layers[4].stride = (stride, stride)


class InceptionPoolFirst(A.Inception):
    def forward(self, x):
        return torch.cat([self.branch4(x), self.branch1(x), self.branch2(x), self.branch3(x)],
                         dim=1)


class InceptionSwapped(A.Inception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch2(x), self.branch4(x)],
                         dim=1)


class InceptionNoReductionReLU(A.Inception):
    def __init__(self, *args):
        super().__init__(*args)
        self.branch2[1] = nn.Identity()
        self.branch3[1] = nn.Identity()


# -- residual blocks ------------------------------------------------------------------------------

class ResidualNoProjection(nn.Module):
    """No shortcut at all when the shape changes (only the identity when it does not)."""

    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__()
        ref = A.ResidualBlock(in_channels, out_channels, stride=stride)
        self.conv1, self.bn1, self.conv2, self.bn2 = ref.conv1, ref.bn1, ref.conv2, ref.bn2
        self.same = stride == 1 and in_channels == out_channels
        self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + x) if self.same else torch.relu(out)


def _without_shortcut_norm(block):
    """``block`` with its projection shortcut reduced to the 1x1 convolution (no batch norm)."""
    if isinstance(block.shortcut, nn.Sequential):
        block.shortcut = block.shortcut[0]
    return block


class ResidualShortcutNoNorm(A.ResidualBlock):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        _without_shortcut_norm(self)


class ResidualReLUBeforeAdd(A.ResidualBlock):
    def forward(self, x):
        out = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return out + self.shortcut(x)


class ResidualNormAfterAdd(A.ResidualBlock):
    """bn2 applied to the sum: relu(bn2(conv2(...) + shortcut(x)))."""

    def forward(self, x):
        out = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return torch.relu(self.bn2(out + self.shortcut(x)))


class ResidualStrideOnConv2(A.ResidualBlock):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.conv1.stride = (1, 1)
        self.conv2.stride = (stride, stride)


class ResidualConvBias(A.ResidualBlock):
    """conv1 and conv2 with PyTorch's default bias=True before their batch norms."""

    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)


class ResidualMomentum(A.ResidualBlock):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.bn1.momentum = 0.9
        self.bn2.momentum = 0.9


class BottleneckNoProjection(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels, *, stride=1):
        super().__init__()
        ref = A.BottleneckBlock(in_channels, mid_channels, out_channels, stride=stride)
        for name in ("conv1", "bn1", "conv2", "bn2", "conv3", "bn3"):
            setattr(self, name, getattr(ref, name))
        self.same = stride == 1 and in_channels == out_channels
        self.shortcut = nn.Identity()

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + x) if self.same else torch.relu(out)


class BottleneckShortcutNoNorm(A.BottleneckBlock):
    def __init__(self, in_channels, mid_channels, out_channels, *, stride=1):
        super().__init__(in_channels, mid_channels, out_channels, stride=stride)
        _without_shortcut_norm(self)


class BottleneckReLUBeforeAdd(A.BottleneckBlock):
    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        return torch.relu(self.bn3(self.conv3(out))) + self.shortcut(x)


class BottleneckStrideFirst(A.BottleneckBlock):
    def __init__(self, in_channels, mid_channels, out_channels, *, stride=1):
        super().__init__(in_channels, mid_channels, out_channels, stride=stride)
        self.conv1.stride = (stride, stride)
        self.conv2.stride = (1, 1)


class ResNetNoDownsampling(A.ResNet):
    def __init__(self, block_counts, **kwargs):
        super().__init__(block_counts, **kwargs)
        for stage in self.stages:
            block = stage[0]
            if block.conv1.stride != (1, 1):
                block.conv1.stride = (1, 1)
                block.shortcut[0].stride = (1, 1)


class ResNetFirstStageStrided(A.ResNet):
    """Stride 2 in the first block of every stage, the first too (``stride = 2 if j == 0``):
    that block gets a projection shortcut it does not need."""

    def __init__(self, block_counts, **kwargs):
        super().__init__(block_counts, **kwargs)
        first = self.stages[0][0]
        self.stages[0][0] = A.ResidualBlock(first.conv1.in_channels, first.conv1.out_channels,
                                            stride=2)


class ResNetStrideWhereWidthChanges(A.ResNet):
    """Stride 2 only where the width changes (``stride = 2 if j == 0 and channels != width``):
    a later stage of the same width as the one before keeps the full size, and its first block
    no projection shortcut."""

    def __init__(self, block_counts, *, widths=(16, 32, 64), **kwargs):
        super().__init__(block_counts, widths=widths, **kwargs)
        for i in range(1, len(widths)):
            if widths[i] == widths[i - 1] and block_counts[i] > 0:
                self.stages[i][0] = A.ResidualBlock(widths[i], widths[i], stride=1)


class ResNetMaxPoolHead(A.ResNet):
    def __init__(self, block_counts, **kwargs):
        super().__init__(block_counts, **kwargs)
        self.pool = nn.AdaptiveMaxPool2d(1)


# -- DenseNet, SE, MobileNet ----------------------------------------------------------------------

class DenseNewFirst(A.DenseBlock):
    def forward(self, x):
        for unit in self.units:
            x = torch.cat([unit(x), x], dim=1)
        return x


class DenseSumInsteadOfConcat(nn.Module):
    """Each unit sees only the previous unit's output (a plain chain, no concatenation)."""

    def __init__(self, num_convs, in_channels, growth_rate):
        super().__init__()
        self.units = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(in_channels if i == 0 else growth_rate), nn.ReLU(),
                          nn.Conv2d(in_channels if i == 0 else growth_rate, growth_rate, 3,
                                    padding=1))
            for i in range(num_convs))

    def forward(self, x):
        for unit in self.units:
            x = unit(x)
        return x


class TransitionMaxPool(A.TransitionBlock):
    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels)
        self.layers[3] = nn.MaxPool2d(2)


class TransitionNoReLU(A.TransitionBlock):
    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels)
        self.layers[1] = nn.Identity()


class SENoSigmoid(A.SEBlock):
    def gates(self, x):
        return self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3)))))


class SESoftmax(A.SEBlock):
    """The gates as a softmax over the channels (attention's habit)."""

    def gates(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))), dim=1)


class SEAdded(A.SEBlock):
    """The gates added to the channels instead of scaling them."""

    def forward(self, x):
        return x + self.gates(x)[:, :, None, None]


class SENoReLU(A.SEBlock):
    def gates(self, x):
        return torch.sigmoid(self.fc2(self.fc1(x.mean(dim=(2, 3)))))


class SEMaxSqueeze(A.SEBlock):
    def gates(self, x):
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.amax(dim=(2, 3))))))


class SESumSqueeze(A.SEBlock):
    """The squeeze as a sum over the positions: the gates then depend on the image size."""

    def gates(self, x):
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.sum(dim=(2, 3))))))


class SECeil(A.SEBlock):
    """The hidden size rounded up: ceil(channels / reduction)."""

    def __init__(self, channels, *, reduction=16):
        super().__init__(channels, reduction=reduction)
        hidden = -(-channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)


class SENoFloor(A.SEBlock):
    """channels // reduction hidden units without max(1, ...) (zero for few channels)."""

    def __init__(self, channels, *, reduction=16):
        super().__init__(channels, reduction=reduction)
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)


class DepthwiseNoGroups(A.DepthwiseSeparableConv):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride=stride, padding=1,
                                   bias=False)


class DepthwiseStrideOnPointwise(A.DepthwiseSeparableConv):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__(in_channels, out_channels, stride=stride)
        self.depthwise.stride = (1, 1)
        self.pointwise.stride = (stride, stride)


class DepthwiseNoFirstReLU(A.DepthwiseSeparableConv):
    def forward(self, x):
        return torch.relu(self.bn2(self.pointwise(self.bn1(self.depthwise(x)))))


class DepthwiseReLU6(A.DepthwiseSeparableConv):
    def forward(self, x):
        out = nn.functional.relu6(self.bn1(self.depthwise(x)))
        return nn.functional.relu6(self.bn2(self.pointwise(out)))


class DepthwiseNormAfterReLU(A.DepthwiseSeparableConv):
    def forward(self, x):
        out = self.bn1(torch.relu(self.depthwise(x)))
        return self.bn2(torch.relu(self.pointwise(out)))


# -- freeze ---------------------------------------------------------------------------------------

def freeze_counts_all(model, *, trainable=()):
    A.freeze(model, trainable=trainable)
    return sum(p.numel() for p in model.parameters())


def freeze_exact_names(model, *, trainable=()):
    for name, param in model.named_parameters():
        if name not in trainable:
            param.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_counts_tensors(model, *, trainable=()):
    A.freeze(model, trainable=trainable)
    return sum(1 for p in model.parameters() if p.requires_grad)


def freeze_substring(model, *, trainable=()):
    for name, param in model.named_parameters():
        if not any(prefix in name for prefix in trainable):
            param.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_module_names(model, *, trainable=()):
    for name, param in model.named_parameters():
        if not any(name == p or name.startswith(p + ".") for p in trainable):
            param.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_unfreezes(model, *, trainable=()):
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(tuple(trainable))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_counts_by_name(model, *, trainable=()):
    A.freeze(model, trainable=trainable)
    return sum(p.numel() for name, p in model.named_parameters()
               if name.startswith(tuple(trainable)))


def freeze_top_level(model, *, trainable=()):
    """Only the first part of each name (its top-level module) compared with trainable."""
    for name, param in model.named_parameters():
        if name.split(".")[0] not in trainable:
            param.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_state_dict(model, *, trainable=()):
    """The flags set on the tensors of state_dict(): detached copies, so nothing is frozen."""
    for name, tensor in model.state_dict().items():
        if not name.startswith(tuple(trainable)):
            tensor.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


MISTAKES = {
    "architectures.LeNet5": [
        ("max pooling instead of LeNet-5's 2x2 average pooling", LeNetMaxPool),
        ("ReLU instead of LeNet-5's tanh", LeNetReLU),
    ],
    "architectures.AlexNet": [
        ("non-overlapping 2x2 pooling: AlexNet pools 3x3 windows with stride 2",
         AlexNetSmallPool),
        ("no local response normalization after CONV1 and CONV2", AlexNetNoLRN),
        ("nn.LocalResponseNorm with PyTorch's default k=1: AlexNet's has k=2 "
         "(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2))", AlexNetLRNDefaultK),
        ("LRN as in the paper's formula, k + alpha * (sum of squares): nn.LocalResponseNorm "
         "divides alpha by the window size (k + alpha / 5 * sum), and the docstring's LRN is "
         "nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2)", AlexNetLRNAlphaNotAveraged),
        ("max pooling before the LRN in CONV1 and CONV2: the docstring's order is ReLU - LRN - "
         "max pool (normalize, then pool)", AlexNetPoolBeforeLRN),
        ("dropout after each hidden fully connected layer's ReLU: AlexNet applies dropout "
         "before FC1 and before FC2 (dropout - linear - ReLU)", AlexNetDropoutAfterReLU),
    ],
    "architectures.vgg_block": [
        ("3x3 convolutions without padding 1 (VGG keeps the size until the pooling)",
         vgg_block_no_padding),
        ("no ReLU after the convolutions", vgg_block_no_relu),
    ],
    "architectures.VGG": [
        ("the first linear layer's input sized from input_size without halving it once per "
         "block", VGGUnhalvedInput),
        ("the size after the blocks rounded (input_size / 2**blocks, rounded or ceiled): each "
         "2x2 pooling floors an odd size, 11 -> 5 -> 2, so halve it with // once per block",
         VGGRoundedSize),
        ("no ReLU between the fully connected layers", VGGNoHiddenReLU),
    ],
    "architectures.NiNBlock": [
        ("ReLU only after the last convolution: every convolution is followed by ReLU",
         NiNOneReLU),
        ("the stride applied to the 1x1 convolutions too (only the first convolution has it)",
         NiNStrideEverywhere),
    ],
    "architectures.Inception": [
        ("branches concatenated in another order (the pooling branch first): 1x1, 3x3, 5x5, "
         "pool", InceptionPoolFirst),
        ("the 3x3 and 5x5 branches swapped in the concatenation", InceptionSwapped),
        ("no ReLU after the 1x1 reductions of the 3x3 and 5x5 branches",
         InceptionNoReductionReLU),
    ],
    "architectures.ResidualBlock": [
        ("the shortcut is missing when the shape changes: use a 1x1 convolution with the "
         "stride and batch norm there", ResidualNoProjection),
        ("the projection shortcut is a 1x1 convolution (with the stride, no bias) followed by "
         "batch norm: nn.Sequential(conv, nn.BatchNorm2d(out_channels)), as the provided "
         "_shortcut builds it", ResidualShortcutNoNorm),
        ("ReLU before the addition instead of after it: relu(F(x) + shortcut(x))",
         ResidualReLUBeforeAdd),
        ("the stride on conv2 instead of conv1", ResidualStrideOnConv2),
        ("bn2 normalizes the sum: it belongs to the residual branch, before the addition "
         "(relu(bn2(conv2(h)) + shortcut(x))), so the shortcut adds x itself",
         ResidualNormAfterAdd),
        ("batch norm with momentum=0.9: PyTorch's momentum is the weight of the new batch "
         "statistic (running = 0.9 * running + 0.1 * batch for the default 0.1); keep "
         "nn.BatchNorm2d's default", ResidualMomentum),
        ("conv1 and conv2 have no bias (bias=False): the batch norm after each subtracts the "
         "mean, which would cancel a bias, and its beta is the shift", ResidualConvBias),
    ],
    "architectures.BottleneckBlock": [
        ("the shortcut is missing when the shape changes: use a 1x1 convolution with the "
         "stride and batch norm there", BottleneckNoProjection),
        ("the projection shortcut is a 1x1 convolution (with the stride, no bias) followed by "
         "batch norm: nn.Sequential(conv, nn.BatchNorm2d(out_channels)), as the provided "
         "_shortcut builds it", BottleneckShortcutNoNorm),
        ("ReLU before the addition instead of after it: relu(F(x) + shortcut(x))",
         BottleneckReLUBeforeAdd),
        ("the stride on the first 1x1 convolution instead of the 3x3 one",
         BottleneckStrideFirst),
    ],
    "architectures.ResNet": [
        ("no downsampling: the first block of every stage after the first has stride 2",
         ResNetNoDownsampling),
        ("global max pooling instead of global average pooling", ResNetMaxPoolHead),
        ("downsampling only where the width changes: every stage after the first starts with "
         "a stride-2 block and its projection shortcut, even when its width is the previous "
         "stage's", ResNetStrideWhereWidthChanges),
        ("the first stage downsamples too: its first block has stride 1 (the stem already "
         "gives widths[0] channels at full size), so it needs no projection shortcut; only the "
         "first block of every later stage has stride 2", ResNetFirstStageStrided),
    ],
    "architectures.DenseBlock": [
        ("new features concatenated before the input instead of after it", DenseNewFirst),
        ("each unit sees only the previous unit's output: concatenate every unit's output "
         "after its input", DenseSumInsteadOfConcat),
    ],
    "architectures.TransitionBlock": [
        ("max pooling instead of 2x2 average pooling", TransitionMaxPool),
        ("no ReLU between the batch norm and the 1x1 convolution", TransitionNoReLU),
    ],
    "architectures.SEBlock": [
        ("the gates without their sigmoid: the excitation must lie in (0, 1)", SENoSigmoid),
        ("the gates are a softmax over the channels: each gate is its own sigmoid, "
         "g = sigmoid(fc2(relu(fc1(s)))), so the gates need not sum to 1", SESoftmax),
        ("squeeze by max pooling instead of global average pooling", SEMaxSqueeze),
        ("squeeze by a sum over the positions instead of their mean: s = x.mean(dim=(2, 3)) "
         "(global average pooling), which does not grow with the image size", SESumSqueeze),
        ("no ReLU between fc1 and fc2: the excitation is sigmoid(fc2(relu(fc1(s))))",
         SENoReLU),
        ("the gates scale the channels: out = x * g[:, :, None, None], not x + g (the "
         "excitation multiplies each channel by its gate in (0, 1))", SEAdded),
        ("channels // reduction hidden units without max(1, ...)", SENoFloor),
        ("the hidden size rounded up: fc1 has max(1, channels // reduction) units, the "
         "division rounded down", SECeil),
    ],
    "architectures.DepthwiseSeparableConv": [
        ("a depthwise convolution without groups=in_channels (a full 3x3 convolution)",
         DepthwiseNoGroups),
        ("the stride on the pointwise convolution instead of the depthwise one",
         DepthwiseStrideOnPointwise),
        ("no ReLU after the depthwise convolution's batch norm", DepthwiseNoFirstReLU),
        ("ReLU6 (MobileNet v2's activation, clipped at 6) instead of ReLU", DepthwiseReLU6),
        ("batch norm after the ReLU: each convolution is followed by batch norm, then ReLU "
         "(relu(bn(conv(x))))", DepthwiseNormAfterReLU),
    ],
    "architectures.freeze": [
        ("the count includes the frozen parameters: count only those with requires_grad",
         freeze_counts_all),
        ("names compared whole instead of by prefix (name.startswith(prefix))",
         freeze_exact_names),
        ("counted parameter tensors instead of scalars (sum of numel())",
         freeze_counts_tensors),
        ("names matched anywhere (prefix in name) instead of at the start "
         "(name.startswith(prefix)): se.fc1.weight does not start with 'fc'", freeze_substring),
        ("parameters that were frozen before the call were made trainable again: only set "
         "requires_grad = False (the parameters named in trainable are left as they are)",
         freeze_unfreezes),
        ("the count taken from the names in trainable: count the parameters whose "
         "requires_grad is True afterwards (some were frozen before the call)",
         freeze_counts_by_name),
        ("the strings of trainable are prefixes of the names, not whole module names: "
         "'se.fc' keeps se.fc1.* and se.fc2.* trainable (name.startswith(prefix), no dot "
         "added)", freeze_module_names),
        ("only the first part of each name (its top-level module) compared with trainable: "
         "the strings of trainable are prefixes of the full names, so 'stages.1' keeps "
         "stages.1.weight and stages.1.bias trainable (name.startswith(prefix))",
         freeze_top_level),
        ("nothing was frozen: set param.requires_grad = False on the model's own parameters "
         "(model.named_parameters()); the tensors of model.state_dict() are detached, their "
         "flag is not the model's, and param.requires_grad == False compares without setting",
         freeze_state_dict),
    ],
}


def _raising():
    """Mistakes whose forward raises on the grader's inputs (``_edited``): the student's forward
    raising the same error gets the hint."""
    from ._edited import edited

    channels = ("torch.cat joins tensors along dim 0, the batch, unless told otherwise: the "
                "feature maps here differ in their number of channels, so concatenate them "
                "along the channel dimension (dim=1)")
    def same_size(branch, layer, padding):
        return (f"every branch must keep the input's height and width, or their outputs cannot "
                f"be concatenated: the {layer} of {branch} needs padding={padding}")

    return {
        "architectures.Inception": [(channels, edited(
            "architectures.Inception",
            ("self.branch4(x)],\n                        dim=1)", "self.branch4(x)])"))),
            (same_size("branch2", "3x3 convolution", 1), edited(
                "architectures.Inception",
                ("nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)",
                 "nn.Conv2d(c2[0], c2[1], kernel_size=3)"))),
            (same_size("branch3", "5x5 convolution", 2), edited(
                "architectures.Inception",
                ("nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)",
                 "nn.Conv2d(c3[0], c3[1], kernel_size=5)"))),
            (same_size("branch3", "5x5 convolution", 2) + " (padding=1 suits a 3x3 filter)",
             edited("architectures.Inception",
                    ("nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)",
                     "nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=1)"))),
            (same_size("branch4", "3x3 max pooling (stride 1)", 1), edited(
                "architectures.Inception",
                ("nn.MaxPool2d(3, stride=1, padding=1)", "nn.MaxPool2d(3, stride=1)")))],
        "architectures.DenseBlock": [(channels, edited(
            "architectures.DenseBlock",
            ("x = torch.cat([x, unit(x)], dim=1)", "x = torch.cat([x, unit(x)])"))), (
            "each unit's 3x3 convolution has padding=1: without it the new features lose a "
            "pixel on each side and cannot be concatenated with the unit's input",
            edited("architectures.DenseBlock",
                   ("nn.Conv2d(in_channels + i * growth_rate, growth_rate, 3, padding=1)",
                    "nn.Conv2d(in_channels + i * growth_rate, growth_rate, 3)")))],
        "architectures.SEBlock": [(
            "the gates are (N, C) and x is (N, C, H, W): PyTorch broadcasts from the last "
            "dimension, so the channels of the gates met W. Give the gates two trailing "
            "dimensions of size 1, (N, C, 1, 1), before multiplying x by them",
            edited("architectures.SEBlock",
                   ("out = x * self.gates(x)[:, :, None, None]", "out = x * self.gates(x)")))],
        "architectures.ResidualBlock": [(
            "conv2 is a 3x3 convolution with padding=1: without it the map loses a pixel on "
            "each side and no longer has the shortcut's size, so the two cannot be added",
            edited("architectures.ResidualBlock",
                   ("self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)",
                    "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, bias=False)")))],
        "architectures.ResNet": [(
            "after the global average pooling the features are (N, C, 1, 1), and nn.Linear "
            "works on the last dimension (of size 1): flatten them to (N, C) before the fully "
            "connected layer",
            edited("architectures.ResNet",
                   ("scores = self.fc(torch.flatten(out, 1))", "scores = self.fc(out)")))],
    }


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
