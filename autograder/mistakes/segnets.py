"""Known mistakes of unit 07, ``segnets``: wrong U-Nets with the constructor of the reference.

Each subclasses the reference ``UNet`` and changes one thing, so that only that differs; a
failing student module whose parameter shapes or outputs match one of them gets its description
as hint. Each is tested to be recognised (tests/test_hints.py).
"""

import torch
from torch import nn

from ..oracle import load_reference

S = load_reference().segnets


class SkipSecond(S.UNet):
    """[upsampled, skip] instead of [skip, upsampled]."""

    def forward(self, x):
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for stage, skip in zip(self.decoders, reversed(skips)):
            x = stage.conv(torch.cat([stage.up(x), skip], dim=1))
        return self.out(x)


class UpWithoutBias(S.UNet):
    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__(in_channels, num_classes, base_channels=base_channels, depth=depth)
        for stage in self.decoders:
            up = stage.up
            stage.up = nn.ConvTranspose2d(up.in_channels, up.out_channels, 2, stride=2,
                                          bias=False)


class DecodersShallowFirst(S.UNet):
    """The decoder stages registered from level 0 up (parameters out of forward order)."""

    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__(in_channels, num_classes, base_channels=base_channels, depth=depth)
        self.decoders = nn.ModuleList(list(self.decoders)[::-1])

    def forward(self, x):
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for stage, skip in zip(reversed(self.decoders), reversed(skips)):
            x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))
        return self.out(x)


class OutputWithoutBias(S.UNet):
    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__(in_channels, num_classes, base_channels=base_channels, depth=depth)
        self.out = nn.Conv2d(self.out.in_channels, num_classes, 1, bias=False)


class ScoresSoftmaxed(S.UNet):
    """A softmax over the classes applied to the output: probabilities, not scores."""

    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class OutputThreeByThree(S.UNet):
    """A 3x3 output convolution (padding 1) in place of the 1x1."""

    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__(in_channels, num_classes, base_channels=base_channels, depth=depth)
        self.out = nn.Conv2d(self.out.in_channels, num_classes, 3, padding=1)


MISTAKES = {
    "segnets.UNet": [
        ("the skip concatenation in the wrong order: torch.cat([skip, upsampled], dim=1), the "
         "encoder's map first", SkipSecond),
        ("the transposed convolutions have no bias: only convolutions followed by batch norm "
         "drop it", UpWithoutBias),
        ("the decoder stages are registered shallowest first: register them in the order "
         "forward uses them, deepest level first", DecodersShallowFirst),
        ("the 1x1 output convolution has no bias", OutputWithoutBias),
        ("a softmax applied to the output: the U-Net returns the raw class scores (logits), "
         "and the loss (cross entropy, focal, soft Dice) applies the softmax itself",
         ScoresSoftmaxed),
        ("the output layer is a 3x3 convolution: it is a 1x1 convolution from c_0 channels to "
         "num_classes, a classifier applied at every pixel", OutputThreeByThree),
    ],
}


def _raising():
    """Mistakes whose forward raises on the grader's inputs (``_edited``): a student's forward
    raising the same error gets the hint. A skip paired with a map of another size (a skip kept
    after its pooling, the skips in the encoder's order) is left to the spec's own hint: those
    errors name the same two sizes as a transposed convolution with padding, in the other order."""
    from ._edited import edited

    cat = "torch.cat([skip, stage.up(x)], dim=1)"
    up = "nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2)"
    return {"segnets.UNet": [
        ("torch.cat joins tensors along dim 0, the batch, unless told otherwise: the skip and "
         "the upsampled map were stacked as more examples, and the decoder's convolution got "
         "half the channels it expects. Concatenate them along the channel dimension (dim=1)",
         edited("segnets.UNet", (cat, "torch.cat([skip, stage.up(x)])"))),
        ("each decoder level's DoubleConv takes twice that level's channels: the skip and the "
         "upsampled map side by side, concatenated along the channels (dim=1). Adding the two "
         "maps, or leaving the skip out, keeps the level's own channel count",
         edited("segnets.UNet", (cat, "skip + stage.up(x)"))),
        ("a 2x2 transposed convolution doubles the height and width only with stride 2; with "
         "the default stride of 1 it adds one pixel to each side's length, and the upsampled "
         "map no longer has the size of the skip it is concatenated with",
         edited("segnets.UNet", (up, up.replace(", stride=2)", ")")))),
        ("the bottleneck doubles the channels of the deepest level, DoubleConv(channels[depth - "
         "1], channels[depth]) (base_channels * 2**depth out), as every level below it does",
         edited("segnets.UNet",
                ("self.bottleneck = DoubleConv(channels[self.depth - 1], channels[self.depth])",
                 "self.bottleneck = DoubleConv(channels[self.depth - 1], "
                 "channels[self.depth - 1])"))),
        # its parameter shapes tell it apart (torch_handles.check_shapes) before its forward
        # raises on the channels
        ("each decoder level's DoubleConv reads the concatenation [skip, upsampled], 2 * c_l "
         "channels (the skip's c_l and the upsampled map's c_l): DoubleConv(2 * c_l, c_l), not "
         "DoubleConv(c_l, c_l)",
         edited("segnets.UNet",
                ("stage.conv = DoubleConv(2 * channels[level], channels[level])",
                 "stage.conv = DoubleConv(channels[level], channels[level])"))),
    ]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
