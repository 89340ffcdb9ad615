"""Fair: detectors of unit 08 laid out otherwise than the reference keep full marks.

The architectures are the student's (the docstring fixes the input and output only). 7 detectors
written otherwise, graded through the engine: bias=True convolutions before batch norm, a head
split by view and permute, the output written in place into an empty tensor, GroupNorm, PReLU,
per-pixel nn.Linear layers on channels-last maps, nn.ModuleDict heads, a fully connected YOLO v1
head with dropout, strided convolutions for pooling, a softmax by hand, one linear layer for
both outputs split in two, raw nn.Parameter heads through F.linear, BatchNorm1d.

The one that lost its points: a TinyYOLO that normalises its input by a mean and std registered
as buffers. The grader drew random values for every floating-point buffer, the std among them
(about 0.1 * N(0, 1): inputs scaled tenfold, signs flipped), and the detector, right in every
check of its outputs, failed the training check ("12 Adam steps took yolo_loss only from 10.66 to
11.22"). Only batch norm's running statistics are drawn now; other buffers keep the values the
module made (``detectors._values`` gives None for them, ``torch_ops.load`` keeps them), and the
docstring says so.
"""

import numpy as np
import pytest

from autograder import engine
from autograder.sandbox import Limits

from .submissions import make_submission

torch = pytest.importorskip("torch")

LIMITS = Limits(call_seconds=60.0, cpu_seconds=60.0)


NORMALISED_INPUT = '''

import torch.nn.functional as F


class TinyYOLO(nn.Module):
    # bias=True convolutions before batch norm (redundant but harmless), a head split by view
    # and permute, the output written in place into an empty tensor, input normalised by
    # registered buffers
    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.num_classes, self.grid_size = num_classes, grid_size
        self.boxes_per_cell, self.in_channels = boxes_per_cell, in_channels
        self.register_buffer("mean", torch.full((1, in_channels, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, in_channels, 1, 1), 0.25))
        self.c1 = nn.Conv2d(in_channels, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.b2 = nn.BatchNorm2d(16)
        self.head = nn.Conv2d(16, boxes_per_cell * (5 + num_classes), 1)

    def forward(self, x):
        _check_images("TinyYOLO", x, self.in_channels)
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.leaky_relu(self.b1(self.c1(x)), 0.1), 2)
        x = F.leaky_relu(self.b2(self.c2(x)), 0.1)
        raw = self.head(F.adaptive_avg_pool2d(x, S))
        raw = raw.view(x.shape[0], B, 5 + C, S, S).permute(0, 3, 4, 1, 2)
        out = torch.empty_like(raw)
        out[..., :5] = raw[..., :5].sigmoid()
        out[..., 5:] = F.log_softmax(raw[..., 5:], dim=-1).exp()
        return out


class LocalizationNet(nn.Module):
    # one linear head for both outputs, split; global pooling by a mean; Linear before
    # BatchNorm1d with its bias
    def __init__(self, num_classes, *, in_channels=3):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.conv1 = nn.Conv2d(in_channels, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 32)
        self.norm = nn.BatchNorm1d(32)
        self.out = nn.Linear(32, num_classes + 4)

    def forward(self, x):
        _check_images("LocalizationNet", x, self.in_channels)
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = F.relu(self.norm(self.fc(h.mean(dim=(2, 3)))))
        scores = self.out(h)
        logits, box = scores.split([self.num_classes, 4], dim=1)
        return logits, torch.sigmoid(box)
'''

CHANNELS_LAST = '''

import torch.nn.functional as F


class TinyYOLO(nn.Module):
    # channels-last: per-pixel nn.Linear layers on (N, H, W, C) maps, GroupNorm, PReLU,
    # the softmax through torch.softmax, joined by torch.cat
    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.num_classes, self.grid_size = num_classes, grid_size
        self.boxes_per_cell, self.in_channels = boxes_per_cell, in_channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 12, 3, padding="same"),
                                  nn.GroupNorm(3, 12), nn.PReLU(),
                                  nn.MaxPool2d(2), nn.Conv2d(12, 16, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveMaxPool2d(grid_size)
        self.mlp = nn.ModuleDict({"hidden": nn.Linear(16, 24),
                                  "out": nn.Linear(24, boxes_per_cell * (5 + num_classes))})

    def forward(self, x):
        _check_images("TinyYOLO", x, self.in_channels)
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        h = self.pool(self.stem(x)).permute(0, 2, 3, 1)          # (N, S, S, 16)
        raw = self.mlp["out"](F.gelu(self.mlp["hidden"](h))).unflatten(-1, (B, 5 + C))
        return torch.cat((torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], -1)), -1)


class LocalizationNet(nn.Module):
    # heads in an nn.ModuleDict, dropout in train mode, flatten of an adaptive max pool
    def __init__(self, num_classes, *, in_channels=3):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.body = nn.Sequential(nn.Conv2d(in_channels, 8, 5, stride=2), nn.ELU(),
                                  nn.Conv2d(8, 16, 3), nn.ELU(), nn.AdaptiveMaxPool2d((2, 2)),
                                  nn.Flatten(), nn.Dropout(0.2))
        self.heads = nn.ModuleDict(dict(cls=nn.Linear(64, num_classes), box=nn.Linear(64, 4)))

    def forward(self, x):
        _check_images("LocalizationNet", x, self.in_channels)
        h = self.body(x)
        return self.heads["cls"](h), self.heads["box"](h).sigmoid()
'''

FULLY_CONNECTED = '''

class TinyYOLO(nn.Module):
    # a fully connected head (YOLO v1's shape, small), no layout of its own to keep
    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.num_classes, self.grid_size = num_classes, grid_size
        self.boxes_per_cell, self.in_channels = boxes_per_cell, in_channels
        S = grid_size
        self.features = nn.Sequential(nn.Conv2d(in_channels, 8, 3, padding=1),
                                      nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                                      nn.AdaptiveAvgPool2d(S))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(8 * S * S, 64), nn.ReLU(),
                                nn.Dropout(0.1),
                                nn.Linear(64, S * S * boxes_per_cell * (5 + num_classes)))

    def forward(self, x):
        _check_images("TinyYOLO", x, self.in_channels)
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.fc(self.features(x)).reshape(-1, S, S, B, 5 + C)
        box, cls = raw.split([5, C], dim=-1)
        return torch.cat([box.sigmoid(), cls.softmax(dim=-1)], dim=-1)
'''

BY_HAND = '''

import torch.nn.functional as F


class TinyYOLO(nn.Module):
    # strided convolutions instead of pooling, SiLU, the softmax by hand (max subtracted),
    # the sigmoid by torch.special.expit, unflatten after a permute
    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.num_classes, self.grid_size = num_classes, grid_size
        self.boxes_per_cell, self.in_channels = boxes_per_cell, in_channels
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
            nn.SiLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(32), nn.SiLU(), nn.AdaptiveAvgPool2d((grid_size, grid_size)))
        self.head = nn.Conv2d(32, boxes_per_cell * (5 + num_classes), kernel_size=1)

    def forward(self, x):
        _check_images("TinyYOLO", x, self.in_channels)
        B, C = self.boxes_per_cell, self.num_classes
        raw = self.head(self.body(x)).permute(0, 2, 3, 1).unflatten(-1, (B, 5 + C))
        logits = raw[..., 5:] - raw[..., 5:].amax(dim=-1, keepdim=True)
        probs = logits.exp() / logits.exp().sum(dim=-1, keepdim=True)
        return torch.cat([torch.special.expit(raw[..., :5]), probs], dim=-1)


class LocalizationNet(nn.Module):
    # raw nn.Parameter heads used with F.linear; features as a list of layers run in a loop
    def __init__(self, num_classes, *, in_channels=3):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.convs = nn.ModuleList([nn.Conv2d(in_channels, 8, 3, padding=1),
                                    nn.Conv2d(8, 16, 3, padding=1)])
        self.w_cls = nn.Parameter(torch.randn(num_classes, 16) * 0.1)
        self.b_cls = nn.Parameter(torch.zeros(num_classes))
        self.w_box = nn.Parameter(torch.randn(4, 16) * 0.1)
        self.b_box = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        _check_images("LocalizationNet", x, self.in_channels)
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        h = torch.amax(x, dim=(2, 3))
        return F.linear(h, self.w_cls, self.b_cls), F.linear(h, self.w_box, self.b_box).sigmoid()
'''


BOTH = ("detectors.TinyYOLO", "detectors.LocalizationNet")


@pytest.mark.parametrize("code, keys", [(NORMALISED_INPUT, BOTH), (CHANNELS_LAST, BOTH),
                                        (FULLY_CONNECTED, BOTH[:1]), (BY_HAND, BOTH)],
                         ids=["normalised-input", "channels-last", "fully-connected", "by-hand"])
def test_detectors_laid_out_otherwise_keep_full_marks(tmp_path, code, keys):
    sub = make_submission(tmp_path, append={"detectors.py": code})
    report = engine.grade(sub, ["08"], keys=set(keys), limits=LIMITS)
    got = {k: (e["status"], e["message"], e["hint"]) for u in report["units"].values()
           for k, e in u["functions"].items()}
    assert set(got) == set(keys)
    assert {k: v for k, v in got.items() if v[0] != "passed"} == {}


def test_only_batch_norm_statistics_are_drawn_other_buffers_are_kept():
    from autograder import torch_ops
    from autograder.specs.detectors import _values

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    model.register_buffer("std", torch.full((1, 1, 1, 1), 0.25))
    params = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    buffers = [(n, tuple(b.shape)) for n, b in model.named_buffers() if b.is_floating_point()]
    values, bufs = _values(params, buffers, seed=3)
    assert [n for n, _ in buffers] == ["std", "1.running_mean", "1.running_var"]
    assert bufs[0] is None and all(isinstance(b, np.ndarray) for b in bufs[1:])
    torch_ops.load(model, values, bufs, "float64")
    assert model.std.dtype == torch.float64 and float(model.std) == 0.25
    assert np.array_equal(model[1].running_var.numpy(), bufs[2])
    assert np.array_equal(model[0].weight.detach().numpy(), values[0])
