"""Raised-error hints of the U-Net (unit 07), the detectors (unit 08), the augmentations and
``count_parameters``.

The U-Net's first forward (``specs/segnets.check_kept_state``) and every later one
(``architectures.check_module``), a detector's forwards (``specs/detectors._explaining``, the
known mistakes run through ``output_symptoms``), an augmentation's call (``specs/augmentation.call``
through ``seeded_call``) and ``count_parameters``'s are called inside ``Trial.explaining_errors``:
a call raising the error of a known mistake that raises (``mistakes/_edited.py``) gets its hint.
The slips below are written as a student would write them, not always as the registered mistake
is: the same error on the same inputs is enough. A detector's errors that the grader can explain
name only the output's layout (N, S, B, C), never the backbone's widths, which are the student's.
"""

import pytest

from autograder.runner import StudentError
from autograder.sandbox import Limits
from autograder.specs.segnets import SKIP_AT_DEPTH_ONE_HINT
from autograder.testing import mistaken_student, run_spec_test

from .submissions import assert_error_with_hint, graded_with_edits

pytestmark = pytest.mark.xdist_group("mistakes-that-raise-in-segmentation-and-detection-models")

LIMITS = Limits(call_seconds=60.0, cpu_seconds=60.0)
UNITS = ["03", "04", "07", "08"]

# Two submissions, each with at most one slip per graded function.
# key -> (module file, old, new, words of the error, words of the expected hint)
FIRST = {
    "segnets.UNet": (
        "segnets.py", "x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))",
        "x = stage.conv(torch.cat((skip, stage.up(x))))",
        "expected input[4, 8, 4, 6] to have 16 channels, but got 8", "dim 0, the batch"),
    "detectors.TinyYOLO": (
        "detectors.py", "nn.Conv2d(64, boxes_per_cell * (5 + num_classes), 1)",
        "nn.Conv2d(64, 5 * boxes_per_cell + num_classes, 1)",
        "is invalid for input of size 208", "YOLO v1's layout"),
    "augmentation.random_crop": (
        "augmentation.py",
        "xp.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
        "np.pad(images, padding, mode=\"constant\")",
        "could not broadcast input array", "pads every axis, the batch and the channels"),
    "augmentation.random_horizontal_flip": (
        "augmentation.py", "xp.where(flip[:, None, None, None], images[:, :, :, ::-1], images)",
        "xp.where(flip, images[..., ::-1], images)",
        "operands could not be broadcast together", "meets the columns (W)"),
    "augmentation.color_jitter": (
        "augmentation.py", "m = out.mean(axis=(1, 2, 3), keepdims=True)",
        "m = np.mean(out, axis=(1, 2, 3))",
        "operands could not be broadcast together", "without keepdims=True"),
    "augmentation.cutout": (
        "augmentation.py", "square[:, None], xp.zeros((), dtype=images.dtype)",
        "square, xp.zeros((), dtype=images.dtype)",
        "operands could not be broadcast together", "a channel axis of size 1"),
    "augmentation.mixup": (
        "augmentation.py", "lam = float(rng.beta(alpha, alpha))",
        "lam = rng.beta(alpha, alpha, size=len(images))",
        "operands could not be broadcast together", "one lam for the whole batch"),
    "cnn.count_parameters": (
        "cnn.py", "count = int(sum(int(np.prod(p.shape)) for p in params.values()))",
        "count = sum(p.size for p in params)",
        "AttributeError: 'str' object has no attribute 'size'", "runs over its keys"),
}
SECOND = {
    "segnets.UNet": (
        "segnets.py", "x = stage.conv(torch.cat([skip, stage.up(x)], dim=1))",
        "x = stage.conv(stage.up(x) + skip)",
        "expected input[2, 8, 4, 6] to have 16 channels, but got 8", "Adding the two maps"),
    "detectors.TinyYOLO": (
        "detectors.py", "raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)",
        "raw = raw.view(x.shape[0], B, 5 + C, S, S).permute(0, 2, 3, 1)",
        "input.dim() = 5 is not equal to len(dims) = 4", "a permute needs five indices"),
    # the factor drawn without its reshape: the error of the mean taken without keepdims
    "augmentation.color_jitter": (
        "augmentation.py", ".reshape(N, 1, 1, 1)\n", "\n",
        "operands could not be broadcast together with shapes (600,) (600,3,3,4)",
        "a factor drawn with rng.uniform(low, high, N)"),
    "cnn.count_parameters": (
        "cnn.py", "count = int(sum(int(np.prod(p.shape)) for p in params.values()))",
        "count = 0\n    for p in params:\n        count += int(np.prod(p.shape))",
        "AttributeError: 'str' object has no attribute 'shape'", "runs over its keys"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return [graded_with_edits(tmp_path_factory.mktemp(f"raising{i}"), slips.values(), UNITS,
                              slips, limits=LIMITS)
            for i, slips in enumerate((FIRST, SECOND))]


@pytest.mark.parametrize("batch,key", [(0, k) for k in sorted(FIRST)]
                         + [(1, k) for k in sorted(SECOND)])
def test_a_raising_slip_gets_the_hint_of_its_mistake(graded, batch, key):
    _, _, _, error, hint = (FIRST, SECOND)[batch][key]
    assert_error_with_hint(graded[batch][key], error, hint)


# ---------------------------------------------------------------- in process


def _fault(key, *edits):
    from autograder.mistakes._edited import edited

    return run_spec_test(key, mistaken_student(key, edited(key, *edits)))


def test_a_transposed_convolution_without_its_stride_is_named():
    fault = _fault("segnets.UNet", (
        "nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2)",
        "nn.ConvTranspose2d(channels[level + 1], channels[level], kernel_size=2)"))
    assert isinstance(fault, StudentError), fault
    assert "Sizes of tensors must match" in fault.message, fault.message
    assert "only with stride 2" in fault.hint, fault.hint


@pytest.mark.parametrize("key,edit,error", [
    # a concatenation along the rows: the same words as along dim 0, other shapes
    ("segnets.UNet", ("torch.cat([skip, stage.up(x)], dim=1)",
                      "torch.cat([skip, stage.up(x)], dim=2)"), "expected input[2, 8, 8, 6]"),
    # a head of B * (4 + C) channels: the reshape's error with another size
    ("detectors.TinyYOLO", ("nn.Conv2d(64, boxes_per_cell * (5 + num_classes), 1)",
                            "nn.Conv2d(64, boxes_per_cell * (4 + num_classes), 1)"),
     "is invalid for input of size 224"),
    # one mean per channel, (N, C): a broadcast error with other shapes
    ("augmentation.color_jitter", ("m = out.mean(axis=(1, 2, 3), keepdims=True)",
                                   "m = out.mean(axis=(2, 3))"),
     "operands could not be broadcast together"),
    # the window cut from the whole batch: the error of np.pad given one number, other shapes
    ("augmentation.random_crop", ("out[n] = padded[n, :, i:i + size, j:j + size]",
                                  "out[n] = padded[:, :, i:i + size, j:j + size]"),
     "could not broadcast input array from shape (800,2,4,4)"),
    # an int's size called: a TypeError, no mistake raises it
    ("cnn.count_parameters", ("int(np.prod(p.shape))", "p.size()"), "is not callable"),
])
def test_an_error_no_mistake_explains_gets_no_hint(key, edit, error):
    fault = _fault(key, edit)
    assert isinstance(fault, StudentError), fault
    assert error in fault.message, fault.message
    assert fault.hint is None, (fault.message, fault.hint)


def test_a_skip_kept_after_its_pooling_keeps_the_spec_hint():
    # its error names two sizes that no registered mistake's error names: the spec's own hint
    # on a skip and upsampled map of different sizes, not the stride mistake's; a U-Net of
    # depth 1 raises it too, so not the skips' order (specs/segnets.skip_size_hint)
    fault = _fault("segnets.UNet", ("            skips.append(x)\n            x = self.pool(x)",
                                    "            x = self.pool(x)\n            skips.append(x)"))
    assert "Sizes of tensors must match" in fault.message, fault.message
    assert fault.hint == SKIP_AT_DEPTH_ONE_HINT, fault.hint


def test_a_detector_of_another_width_with_the_slip_gets_the_hint():
    # the head's error names N, S, B and the head's channel count only: a student's head of
    # another width (48 hidden channels, not the reference's 64) raises the very same error
    fault = _fault("detectors.TinyYOLO", (
        "nn.Conv2d(32, 64, 3, padding=1), nn.LeakyReLU(0.1),\n"
        "            nn.Conv2d(64, boxes_per_cell * (5 + num_classes), 1)",
        "nn.Conv2d(32, 48, 3, padding=1), nn.LeakyReLU(0.1),\n"
        "            nn.Conv2d(48, boxes_per_cell * 5 + num_classes, 1)"))
    assert isinstance(fault, StudentError), fault
    assert "is invalid for input of size 208" in fault.message, fault.message
    assert fault.hint and "YOLO v1's layout" in fault.hint, fault.hint
