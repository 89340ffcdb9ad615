"""Known mistakes of unit 08, ``detectors``: wrong detectors with the constructor of the reference.

Each subclasses the reference ``TinyYOLO`` or ``LocalizationNet`` and changes one thing in
forward (or the grid). ``detectors`` is graded by contract, not by comparison with the reference's
numbers, so a mistake is recognised by its symptoms (``specs/detectors.py``: the output's shape,
which entries lie in [0, 1], which sums are 1), the same whatever the architecture: a failing
student module with exactly the symptoms of one gets its description as hint. Each is tested to
be recognised (tests/test_hints.py).
"""

import torch
from torch import nn

from ..oracle import load_reference

D = load_reference().detectors


# -- TinyYOLO ------------------------------------------------------------------------------------

class YoloChannelsFirst(D.TinyYOLO):
    """The head's (N, B * (5 + C), S, S) split into slots without moving the channels last."""

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).reshape(x.shape[0], B, 5 + C, S, S)
        return torch.cat([torch.sigmoid(raw[:, :, :5]), torch.softmax(raw[:, :, 5:], dim=2)],
                         dim=2)


class YoloGridAlwaysFour(D.TinyYOLO):
    """grid_size ignored: pooled to the default 4 x 4 and reshaped to it."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)
        self.backbone[-1] = nn.AdaptiveAvgPool2d(4)

    def forward(self, x):
        B, C = self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x))
        raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], 4, 4, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)],
                         dim=-1)


class YoloObjectnessInSoftmax(D.TinyYOLO):
    """Off by one: sigmoid on entries 0..3, softmax on entries 4 onwards (objectness included)."""

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x))
        raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :4]), torch.softmax(raw[..., 4:], dim=-1)],
                         dim=-1)


class YoloSoftmaxOverRows(D.TinyYOLO):
    """The class softmax over dim=1 (as for (N, C) logits), which is the grid's rows here."""

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x))
        raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=1)],
                         dim=-1)


# -- LocalizationNet -----------------------------------------------------------------------------

class LocalizationSwapped(D.LocalizationNet):
    def forward(self, x):
        h = self.features(x)
        return torch.sigmoid(self.box(h)), self.classifier(h)


class LocalizationSigmoidOnLogits(D.LocalizationNet):
    """The sigmoid on the class head instead of the box head."""

    def forward(self, x):
        h = self.features(x)
        return torch.sigmoid(self.classifier(h)), self.box(h)


MISTAKES = {
    "detectors.TinyYOLO": [
        ("the output is channels-first, (N, B, 5 + C, S, S): the head's convolution gives "
         "(N, B * (5 + C), S, S); move the channels last with .permute(0, 2, 3, 1) before "
         "reshaping to (N, S, S, B, 5 + C)", YoloChannelsFirst),
        ("the grid is always 4 x 4, whatever grid_size: use self.grid_size in "
         "nn.AdaptiveAvgPool2d(grid_size) and in the reshape, not the default 4",
         YoloGridAlwaysFour),
        ("the objectness (entry 4) went into the softmax with the classes: the sigmoid takes "
         "entries 0 to 4 (x, y, w, h, objectness: raw[..., :5]), the softmax only the C classes "
         "(raw[..., 5:])", YoloObjectnessInSoftmax),
        ("the class softmax runs over dim=1, the grid's rows: the output is (N, S, S, B, 5 + C), "
         "so take the softmax over the classes, dim=-1", YoloSoftmaxOverRows),
    ],
    "detectors.LocalizationNet": [
        ("the two outputs are swapped: return (class_logits, box), the class scores first",
         LocalizationSwapped),
        ("the sigmoid is on the class scores instead of the box: class_logits stay raw (the "
         "cross entropy does the softmax) and box = torch.sigmoid(...) of the box head",
         LocalizationSigmoidOnLogits),
    ],
}


def _raising():
    """Mistakes whose forward raises on the grader's inputs (``_edited``). Their errors name only
    the output's layout (N, S, B, C and the head's channel count), not the backbone's widths, so
    a student's detector of another architecture with the same slip raises the same error."""
    from ._edited import edited

    head = "nn.Conv2d(64, boxes_per_cell * (5 + num_classes), 1)"
    return {"detectors.TinyYOLO": [
        ("the head gives B * 5 + C numbers per cell (YOLO v1's layout: the class scores shared "
         "by the cell's boxes), but the output has 5 + C numbers in each of the B slots: make "
         "the head's last layer output B * (5 + C) channels",
         edited("detectors.TinyYOLO", (head, "nn.Conv2d(64, boxes_per_cell * 5 + num_classes, "
                                             "1)"))),
        ("the head gives 5 + C numbers per cell, one slot's worth, but the output has B slots "
         "per cell: make the head's last layer output boxes_per_cell * (5 + C) channels",
         edited("detectors.TinyYOLO", (head, "nn.Conv2d(64, 5 + num_classes, 1)"))),
        ("after the reshape to five dimensions (N, B, 5 + C, S, S) a permute needs five indices; "
         "permute the head's four-dimensional output (N, channels, S, S) first, moving the "
         "channels last, and then reshape to (N, S, S, B, 5 + C)",
         edited("detectors.TinyYOLO",
                ("raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)",
                 "raw = raw.reshape(x.shape[0], B, 5 + C, S, S).permute(0, 2, 3, 1)"))),
    ]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
