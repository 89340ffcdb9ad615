"""Unit 07: segmentation networks in PyTorch: U-Net, and a SegNet-style decoder.

Both are *encoder-decoder* networks: the encoder downsamples (a larger receptive field, cheap
features), the decoder upsamples back to the input's resolution and outputs K class scores per
pixel, (N, K, H, W), trained with a per-pixel loss (``segmentation.pixel_cross_entropy`` and its
friends, or ``torch.nn.functional.cross_entropy``).

- **U-Net** (Ronneberger et al., 2015) upsamples with learned 2x2 stride-2 transposed
  convolutions and *concatenates* the encoder's feature map of the same resolution (the skip
  connection) before convolving: the fine detail lost by pooling comes back from the skip.
- **SegNet** (Badrinarayanan et al., 2017) remembers where every maximum of the encoder's max
  pooling came from, and its decoder *max-unpools* to those positions (no weights to learn for
  the upsampling, sparse maps that the following convolutions fill in).

Conventions (as unit 06): modules register their layers in the order they apply them, so
``parameters()`` lists them in forward order; a convolution followed by batch normalization has no
bias; PyTorch's default initialisation. Shapes: N, C (channels), H, W, K (classes).
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


def _check_input(where, x, channels, multiple):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{where}: expected images of shape (N, C, H, W), got {shape}")
    if x.shape[1] != channels:
        raise ValueError(f"{where}: expected {channels} input channels, got images of shape "
                         f"{tuple(x.shape)}")
    H, W = x.shape[2:]
    if H % multiple or W % multiple:
        raise ValueError(f"{where}: the image sides must be multiples of {multiple} (one halving "
                         f"per level), got {H}x{W}")


# ---------------------------------------------------------------------------------------------
# U-Net
# ---------------------------------------------------------------------------------------------

class DoubleConv(nn.Sequential):
    """Two (3x3 convolution with padding 1 and no bias, batch norm, ReLU): (N, in_channels, H, W)
    -> (N, out_channels, H, W). Provided."""

    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """U-Net (Ronneberger et al., 2015), with padded convolutions so the output has the input's
    size.

    Level l (0..depth) has ``c_l = base_channels * 2**l`` channels.

    - Encoder: for l = 0..depth-1, a ``DoubleConv`` to c_l channels (from ``in_channels`` at
      level 0, from c_{l-1} after) whose output is kept as the skip of level l, then 2x2 max
      pooling (stride 2).
    - Bottleneck (level depth): a ``DoubleConv`` from c_{depth-1} to c_depth channels.
    - Decoder: for l = depth-1 down to 0, a 2x2 stride-2 transposed convolution (with bias) from
      c_{l+1} to c_l channels (doubling the size), the concatenation ``[skip_l, upsampled]``
      along channels (the skip first: 2 * c_l channels) and a ``DoubleConv`` back to c_l.
    - Output: a 1x1 convolution (with bias) from c_0 to ``num_classes``.

    Register the layers in that order (encoder level 0, 1, ..., bottleneck, then per decoder
    level its transposed convolution and its DoubleConv, deepest level first, then the output
    convolution), so that ``parameters()`` lists them in forward order.

    Input: x (N, in_channels, H, W), H and W multiples of 2**depth (ValueError otherwise,
    provided). Returns the class scores (N, num_classes, H, W).
    """

    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__()
        in_channels = _check_int("UNet", "in_channels", in_channels)
        num_classes = _check_int("UNet", "num_classes", num_classes)
        base_channels = _check_int("UNet", "base_channels", base_channels)
        self.depth = _check_int("UNet", "depth", depth)
        self.in_channels = in_channels
        # BEGIN SOLUTION
        channels = [base_channels * 2 ** level for level in range(self.depth + 1)]
        self.encoders = nn.ModuleList()
        previous = in_channels
        for level in range(self.depth):
            self.encoders.append(DoubleConv(previous, channels[level]))
            previous = channels[level]
        self.pool = nn.MaxPool2d(2, 2)
        self.bottleneck = DoubleConv(channels[self.depth - 1], channels[self.depth])
        # One decoder stage per level, deepest first: (transposed convolution, DoubleConv).
        self.decoders = nn.ModuleList()
        for level in reversed(range(self.depth)):
            stage = nn.Module()
            stage.up = nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2)
            stage.conv = DoubleConv(2 * channels[level], channels[level])
            self.decoders.append(stage)
        self.out = nn.Conv2d(channels[0], num_classes, 1)
        # END SOLUTION

    def forward(self, x):
        _check_input("UNet", x, self.in_channels, 2 ** self.depth)
        # BEGIN SOLUTION
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for stage, skip in zip(self.decoders, reversed(skips)):
            x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))
        scores = self.out(x)
        # END SOLUTION
        return scores


# ---------------------------------------------------------------------------------------------
# SegNet-style network (for the notebook; not graded)
# ---------------------------------------------------------------------------------------------

class SegNetLite(nn.Module):
    """A small SegNet-style network: the U-Net's encoder, but a decoder that upsamples by
    max-unpooling to the positions the encoder's max pooling took its maxima from (or, with
    ``upsample="transpose"``, by a learned 2x2 stride-2 transposed convolution), with no skip
    concatenation. Provided, for the notebook's comparison of the two ways to upsample.

    Input: x (N, in_channels, H, W), H and W multiples of 2**depth. Returns (N, num_classes, H, W).
    """

    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3,
                 upsample="unpool"):
        super().__init__()
        if upsample not in ("unpool", "transpose"):
            raise ValueError(f"SegNetLite: upsample must be 'unpool' or 'transpose', got "
                             f"{upsample!r}")
        self.depth = _check_int("SegNetLite", "depth", depth)
        self.in_channels = _check_int("SegNetLite", "in_channels", in_channels)
        base_channels = _check_int("SegNetLite", "base_channels", base_channels)
        num_classes = _check_int("SegNetLite", "num_classes", num_classes)
        self.upsample = upsample
        channels = [base_channels * 2 ** level for level in range(self.depth + 1)]
        self.encoders = nn.ModuleList()
        previous = in_channels
        for level in range(self.depth):
            self.encoders.append(DoubleConv(previous, channels[level + 1] if level else
                                            channels[0]))
            previous = channels[level + 1] if level else channels[0]
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        self.decoders = nn.ModuleList()
        self.ups = nn.ModuleList()
        widths = [channels[0]] + [channels[level + 1] for level in range(1, self.depth)]
        for level in reversed(range(self.depth)):
            width = widths[level]
            below = widths[level - 1] if level else channels[0]
            self.ups.append(nn.ConvTranspose2d(width, width, 2, stride=2)
                            if upsample == "transpose" else nn.Identity())
            self.decoders.append(DoubleConv(width, below))
        self.out = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x):
        _check_input("SegNetLite", x, self.in_channels, 2 ** self.depth)
        indices, sizes = [], []
        for encoder in self.encoders:
            x = encoder(x)
            sizes.append(x.shape[2:])
            x, where = self.pool(x)
            indices.append(where)
        for up, decoder, where, size in zip(self.ups, self.decoders, reversed(indices),
                                            reversed(sizes)):
            if self.upsample == "unpool":
                x = self.unpool(x, where, output_size=size)
            else:
                x = up(x)
            x = decoder(x)
        return self.out(x)


# ---------------------------------------------------------------------------------------------
# Training helpers (provided)
# ---------------------------------------------------------------------------------------------

def torch_focal_loss(logits, target, *, gamma=2.0, alpha=None):
    """The focal loss of ``segmentation.focal_loss`` in PyTorch (autograd gives the gradient):
    the mean over pixels of -alpha[y] * (1 - p_y)**gamma * log p_y. logits (N, K, H, W),
    target (N, H, W) int64, alpha a (K,) tensor or None."""
    if alpha is not None and not isinstance(alpha, torch.Tensor):
        raise TypeError(f"torch_focal_loss: alpha must be a (K,) tensor or None, got "
                        f"{type(alpha).__name__} (torch.as_tensor(alpha) converts it)")
    log_p = torch.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
    weight = (1 - log_p.exp()) ** gamma
    if alpha is not None:
        weight = weight * alpha.to(logits.dtype)[target]
    return -(weight * log_p).mean()


def fit_segmentation(model, images, masks, *, loss_fn=None, epochs=10, lr=3e-3, batch_size=32,
                     seed=0):
    """Train ``model`` with Adam on (images (N, C, H, W) float, masks (N, H, W) int) arrays or
    tensors; ``loss_fn(logits, target)`` defaults to the pixel cross entropy. The learning rate
    follows a cosine from ``lr`` down to 0 over the epochs. Returns the mean training loss of
    every epoch (a list). The same seed gives the same batches."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    images = torch.as_tensor(images, dtype=torch.float32)
    masks = torch.as_tensor(masks, dtype=torch.int64)
    if images.dim() != 4 or masks.shape != (len(images), *images.shape[2:]):
        raise ValueError(f"fit_segmentation: expected images (N, C, H, W) and masks of class "
                         f"indices (N, H, W), got images {tuple(images.shape)} and masks "
                         f"{tuple(masks.shape)}")
    _check_int("fit_segmentation", "batch_size", batch_size)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            batch = order[start:start + batch_size]
            loss = loss_fn(model(images[batch]), masks[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        history.append(total / len(images))
        schedule.step()
    return history


@torch.no_grad()
def predict_masks(model, images, *, batch_size=128):
    """The most likely class of every pixel, (N, H, W) int64 NumPy, in eval mode."""
    model.eval()
    images = torch.as_tensor(images, dtype=torch.float32)
    out = [model(images[i:i + batch_size]).argmax(dim=1)
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()
