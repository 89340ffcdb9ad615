"""Unit 08: the contract tests of ``detectors`` pass the reference and fail broken modules.

Each broken module breaks one clause of the contract (the softmax over the whole output, no
sigmoid on the box, a layer built but never used, a grid tied to one input size, a grid laid
over the image another way: transposed, upside down); the test of its class must fail and say
what is wrong. The known mistakes (``autograder/mistakes/detectors.py``) are recognised by
their symptoms in another architecture too, other wrong outputs keep the generic hint, and a
release's recorded data gives the same hints.
"""

import pytest

from autograder.oracle import load_reference
from autograder.runner import StudentError
from autograder.testing import FakeStudent, mistaken_student, run_spec_test

torch = pytest.importorskip("torch")
nn = torch.nn
ref = load_reference().detectors


class SoftmaxEverywhere(ref.TinyYOLO):
    def forward(self, x):
        out = super().forward(x)
        return torch.softmax(out.flatten(1), dim=1).reshape(out.shape)


class FixedGrid(ref.TinyYOLO):
    """Pools by a fixed 4x4 window instead of adaptively: the grid depends on the input size."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)
        self.backbone[-1] = nn.AvgPool2d(2)


class TransposedGrid(ref.TinyYOLO):
    """The feature map permuted (0, 3, 2, 1): cell [i, j] looks at row j, column i."""

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).permute(0, 3, 2, 1).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


class ReshapedWithoutPermute(ref.TinyYOLO):
    """A student in notebook 08: the head's (N, B * (5 + C), S, S) reshaped straight
    to (N, S, S, B, 5 + C). Every cell gets numbers from all over the feature map: no corner
    looks at a corner, so the layout check made no claim, and the detector kept full marks
    while it trained to mAP 0.095 (the reference: 0.678)."""

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


class UpsideDownGrid(ref.TinyYOLO):
    def forward(self, x):
        return super().forward(x).flip(1)


class FullyConnectedHead(ref.TinyYOLO):
    """A correct detector with a fully connected head: every cell sees the whole image, so
    where a cell looks says nothing about its layout."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * grid_size * grid_size, 64), nn.LeakyReLU(0.1),
            nn.Linear(64, grid_size * grid_size * boxes_per_cell * (5 + num_classes)))

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


class BatchNormEverywhere(ref.TinyYOLO):
    """The false fail: batch norm on the input and in the head too. With batch norm
    scales drawn near 0 every layer shrank what depends on the image tenfold, and the images'
    outputs differed by 2.5e-9 ("the output does not depend on the image")."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)

        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                    nn.ReLU()]

        self.backbone = nn.Sequential(
            nn.BatchNorm2d(in_channels), *block(in_channels, 8), nn.MaxPool2d(2),
            *block(8, 16), nn.MaxPool2d(2), *block(16, 32), *block(32, 32),
            nn.AdaptiveAvgPool2d(grid_size))
        self.head = nn.Sequential(*block(32, 64), nn.Conv2d(64, boxes_per_cell * (5 + num_classes),
                                                            1), nn.BatchNorm2d(
            boxes_per_cell * (5 + num_classes)))


class UnusedLayer(ref.LocalizationNet):
    def __init__(self, num_classes, *, in_channels=3):
        super().__init__(num_classes, in_channels=in_channels)
        self.extra = nn.Linear(4, 4)


class Ballast(ref.TinyYOLO):
    """A parameter of 144 million values on the "meta" device costs the worker no
    memory, but the judge drew and sent values for it (1.4 GB, then a grader fault); YOLO v1's
    4096-unit head (5 million) was a grader fault too."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)
        self.ballast = nn.Parameter(torch.empty(12000, 12000, device="meta"))


class RawBox(ref.LocalizationNet):
    def forward(self, x):
        h = self.features(x)
        return self.classifier(h), self.box(h)


class IgnoresImage(ref.TinyYOLO):
    """The audit's d01: one learnable table broadcast over the batch; x enters as 0 * x.sum()."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        nn.Module.__init__(self)
        self.num_classes, self.grid_size, self.boxes_per_cell = num_classes, grid_size, \
            boxes_per_cell
        self.in_channels = in_channels
        self.table = nn.Parameter(torch.zeros(grid_size, grid_size, boxes_per_cell,
                                              5 + num_classes))

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = (20 * self.table + 0 * x.sum()).expand(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


class SoftmaxLogits(ref.LocalizationNet):
    """The audit's d04: probabilities returned as class_logits."""

    def forward(self, x):
        h = self.features(x)
        return torch.softmax(self.classifier(h), dim=1), torch.sigmoid(self.box(h))


class LogSoftmaxLogits(ref.LocalizationNet):
    """Log-probabilities as class_logits: the cross entropy of them is the same (fair)."""

    def forward(self, x):
        h = self.features(x)
        return torch.log_softmax(self.classifier(h), dim=1), torch.sigmoid(self.box(h))


@pytest.mark.parametrize("key", ["detectors.TinyYOLO", "detectors.LocalizationNet"])
def test_reference_passes_the_public_contract(key):
    assert run_spec_test(key, FakeStudent(), public_only=True) is None


@pytest.mark.parametrize("key,broken,words", [
    ("detectors.TinyYOLO", SoftmaxEverywhere, "sum to 1"),
    ("detectors.TinyYOLO", FixedGrid, "shape '[2, 4, 4, 2, 8]' is invalid"),
    ("detectors.LocalizationNet", UnusedLayer, "no gradient reaches the parameter 'extra"),
    ("detectors.TinyYOLO", Ballast, "has 144,034,904 parameters; the docstring asks for fewer "
                                    "than 5,000,000"),
    ("detectors.LocalizationNet", RawBox, "should lie in [0, 1]"),
    ("detectors.TinyYOLO", IgnoresImage, "does not depend on the image"),
    ("detectors.TinyYOLO", TransposedGrid, "rows and columns are swapped (the grid is "
                                           "transposed). The output at grid cell [0, 3] (row 0, "
                                           "column 3: the top-right cell) depends mostly on the "
                                           "bottom-left of the image"),
    ("detectors.TinyYOLO", UpsideDownGrid, "the grid is upside down"),
    ("detectors.TinyYOLO", ReshapedWithoutPermute, "the numbers of grid cell [0, 0] come from "
                                                   "different parts of the image"),
    ("detectors.LocalizationNet", SoftmaxLogits, "they are probabilities, not the raw class"),
])
def test_broken_modules_fail(key, broken, words):
    # a verdict (Failed) or an error of the student's code (the reshape of a wrong grid raises)
    try:
        failure = run_spec_test(key, mistaken_student(key, broken), public_only=True)
    except StudentError as error:
        message = str(error)
    else:
        assert failure is not None, f"{broken.__name__} passed"
        message = failure.message
    assert words in message, message


# -- known mistakes: recognised by their symptoms, whatever the architecture ---------------------

class OtherYolo(nn.Module):
    """A TinyYOLO of another architecture (one convolution, no batch norm) whose forward puts
    the objectness into the class softmax, as the known mistake does."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.S, self.B, self.C = grid_size, boxes_per_cell, num_classes
        self.conv = nn.Conv2d(in_channels, boxes_per_cell * (5 + num_classes), 5, stride=2)
        self.pool = nn.AdaptiveMaxPool2d(grid_size)

    def forward(self, x):
        raw = self.pool(self.conv(x)).permute(0, 2, 3, 1)
        raw = raw.reshape(x.shape[0], self.S, self.S, self.B, 5 + self.C)
        return torch.cat([torch.sigmoid(raw[..., :4]), torch.softmax(raw[..., 4:], dim=-1)], -1)


class OtherLocalization(nn.Module):
    """A LocalizationNet of another architecture that returns (box, class_logits)."""

    def __init__(self, num_classes, *, in_channels=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 6, 3), nn.Tanh(),
                                      nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.heads = nn.Linear(24, num_classes + 4)

    def forward(self, x):
        out = self.heads(self.features(x))
        return torch.sigmoid(out[:, :4]), out[:, 4:]


class SigmoidEverywhere(ref.TinyYOLO):
    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).permute(0, 2, 3, 1)
        return torch.sigmoid(raw.reshape(x.shape[0], S, S, B, 5 + C))


def _description(key, words):
    from autograder.oracle import Oracle

    found = [d for d, _ in Oracle().known_mistakes(key) if words in d]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("key,module,words", [
    ("detectors.TinyYOLO", OtherYolo, "objectness (entry 4) went into the softmax"),
    ("detectors.LocalizationNet", OtherLocalization, "two outputs are swapped"),
])
def test_a_known_mistake_is_recognised_in_another_architecture(key, module, words):
    failure = run_spec_test(key, mistaken_student(key, module))
    assert failure is not None
    assert failure.hint == _description(key, words), (failure.message, failure.hint)


@pytest.mark.parametrize("key,broken,hint", [
    ("detectors.TinyYOLO", SoftmaxEverywhere, "apply a softmax over the last C entries"),
    ("detectors.TinyYOLO", SigmoidEverywhere, "apply a softmax over the last C entries"),
    ("detectors.LocalizationNet", RawBox, "pass the box"),
])
def test_other_wrong_outputs_keep_the_generic_hint(key, broken, hint):
    failure = run_spec_test(key, mistaken_student(key, broken))
    assert failure is not None and failure.hint.startswith(hint), failure.hint


def test_the_recorded_data_of_a_release_gives_the_same_hints():
    """Recording the reference's public tests records every known mistake's symptoms, so that a
    release (recorded oracle, wire round trip) names the same mistakes."""
    import json

    from autograder import wire
    from autograder.oracle import Oracle
    from autograder.spec import Trial
    from autograder.testing import FakeStudent
    from autograder.units import specs_of

    from autograder.release import _eager_mistakes

    spec = next(s for s in specs_of("08_detection") if s.module == "detectors")
    recording = Oracle()
    recording.recording = {"outputs": {}, "mistakes": {}}
    with _eager_mistakes():  # as release.record does
        for test in spec.tests.values():
            test.func(Trial(FakeStudent(), recording, public_only=True))
    recorded = json.loads(wire.dumps(recording.recording))
    for key, test in spec.tests.items():
        for description, func in Oracle().known_mistakes(key):
            try:
                test.func(Trial(mistaken_student(key, func), Oracle(recorded=recorded),
                                public_only=True))
            except Exception as failure:  # Failed
                assert getattr(failure, "hint", None) == description, (func, failure)
            else:
                raise AssertionError(f"{func.__name__} passed")



class CorrectOtherYolo(OtherYolo):
    """OtherYolo's architecture (one convolution, max pooling, no batch norm), done right."""

    def forward(self, x):
        raw = self.pool(self.conv(x)).permute(0, 2, 3, 1)
        raw = raw.reshape(x.shape[0], self.S, self.S, self.B, 5 + self.C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


class DropoutHead(ref.TinyYOLO):
    """A fully connected head of 32 units with dropout 0.5, as YOLO v1's. Its 12 Adam
    steps of the instructor's training check ran in train mode, where the dropout masks made
    the fall of the loss a lottery (here it fails 3 times in 3); they run in eval mode now."""

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__(num_classes, grid_size=grid_size, boxes_per_cell=boxes_per_cell,
                         in_channels=in_channels)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * grid_size * grid_size, 32), nn.LeakyReLU(0.1),
            nn.Dropout(0.5),
            nn.Linear(32, grid_size * grid_size * boxes_per_cell * (5 + num_classes)))

    def forward(self, x):
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x)).reshape(x.shape[0], S, S, B, 5 + C)
        return torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)], -1)


@pytest.mark.parametrize("key,module", [
    ("detectors.TinyYOLO", CorrectOtherYolo),
    ("detectors.TinyYOLO", DropoutHead),
    ("detectors.TinyYOLO", FullyConnectedHead),
    ("detectors.TinyYOLO", BatchNormEverywhere),
    ("detectors.LocalizationNet", LogSoftmaxLogits),
])
def test_unusual_but_correct_modules_pass(key, module):
    """Other architectures (one convolution; a fully connected head, whose cells have no
    layout to check), and log-probabilities as class_logits (the same cross entropy), pass the
    contract, the image dependence, the grid layout and the raw-scores checks included."""
    assert run_spec_test(key, mistaken_student(key, module)) is None
