"""Unit 08: the contract tests of ``detectors`` pass the reference and fail broken modules.

Each broken module breaks one clause of the contract (the softmax over the whole output, no
sigmoid on the box, a layer built but never used, a grid tied to one input size); the test of
its class must fail and say what is wrong.
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


class UnusedLayer(ref.LocalizationNet):
    def __init__(self, num_classes, *, in_channels=3):
        super().__init__(num_classes, in_channels=in_channels)
        self.extra = nn.Linear(4, 4)


class RawBox(ref.LocalizationNet):
    def forward(self, x):
        h = self.features(x)
        return self.classifier(h), self.box(h)


@pytest.mark.parametrize("key", ["detectors.TinyYOLO", "detectors.LocalizationNet"])
def test_reference_passes_the_public_contract(key):
    assert run_spec_test(key, FakeStudent(), public_only=True) is None


@pytest.mark.parametrize("key,broken,words", [
    ("detectors.TinyYOLO", SoftmaxEverywhere, "sum to 1"),
    ("detectors.TinyYOLO", FixedGrid, "shape '[2, 4, 4, 2, 8]' is invalid"),
    ("detectors.LocalizationNet", UnusedLayer, "no gradient reaches the parameter 'extra"),
    ("detectors.LocalizationNet", RawBox, "should lie in [0, 1]"),
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
