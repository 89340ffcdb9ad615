"""Slips of units 03 and 06-10 that lost their points with a generic verdict (wrong values, a
bare ZeroDivisionError, a shape error), each graded as a submission: each must cost its function
all its points with the words that name what the student likely did.

The known mistakes behind them: NMS against the top-scoring box only, YOLO slots filled from the
last, box areas with the '+1' of pixels, an 11-point AP from t = 0.1, max_pool_with_indices'
windows placed by pool_size or by 1 instead of the stride or its window offsets read column-major
(mistakes/detection.py, mistakes/segmentation.py); an LSTM
CharRNN whose h0 = (h, c) starts c from zeros or from h (mistakes/rnn.py); a ResidualBlock's conv2
or a DenseBlock's convolutions without padding, nearest upsampling repeated twice along the
rows, a soft Dice smoothed inside the doubled intersection, a U-Net bottleneck that does not
double its channels (mistakes/architectures.py, segmentation.py, segnets.py). LeNet5's
width computed from a height already updated divides by zero in He's scale
(``specs/cnn.ZERO_SIZE_HINT``); a linear head given an unflattened map is named in the error's
advice (``engine._unflattened``). The U-Net's two slips that pair a skip with a map of another
size (the skip kept after its pooling, the skips in the encoder's order) raise the same error;
a U-Net of depth 1 (one skip) tells them apart (``specs/segnets.skip_size_hint``).

Slips of one group are graded together, in one submission, at most one per function (none of a
group calls another of it), one grading run per group.
"""

import pytest

from autograder.units import UNITS as COURSE_UNITS

from .submissions import grader_by_group, make_submission

UNITS = {"03": "03_cnn", "06": "06_architectures", "07": "07_segmentation", "08": "08_detection",
         "09": "09_rnn"}

NMS_LOOP = ("""    for i in order.tolist():
        if suppressed[i]:
            continue
        kept.append(i)
        suppressed |= iou[i] > iou_threshold
""")
POOL_INDEX = ("    rows = xp.arange(Ho).reshape(Ho, 1) * stride + best // pool_size\n"
              "    cols = xp.arange(Wo).reshape(1, Wo) * stride + best % pool_size")
LSTM_STATE = "if h0 is None else h0\n            h, cache_rnn, c_last"

# name: (group, module file, key, [(old, new)], where the words are, words)
CASES = {
    "LeNet5: W from the height already updated (ZeroDivisionError)": (
        "03", "cnn.py", "cnn.LeNet5",
        [("W = conv_output_size(W, k, pad=pad) // 2", "W = conv_output_size(H, k, pad=pad) // 2")],
        "hint", "a width computed from the height"),
    "ResidualBlock: conv2 without padding": (
        "06", "architectures.py", "architectures.ResidualBlock",
        [("self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)",
          "self.conv2 = nn.Conv2d(out_channels, out_channels, 3, bias=False)")],
        "hint", "conv2 is a 3x3 convolution with padding=1"),
    "DenseBlock: the units' convolutions without padding": (
        "06", "architectures.py", "architectures.DenseBlock",
        [("nn.Conv2d(in_channels + i * growth_rate, growth_rate, 3, padding=1)",
          "nn.Conv2d(in_channels + i * growth_rate, growth_rate, 3)")],
        "hint", "each unit's 3x3 convolution has padding=1"),
    "upsample_nearest: both repeats along the rows": (
        "07a", "segmentation.py", "segmentation.upsample_nearest",
        [("    out = x.repeat(scale, axis=2).repeat(scale, axis=3)",
          "    out = x.repeat(scale, axis=2).repeat(scale, axis=2)")],
        "hint", "the second repeat ran along the rows again"),
    "max_pool_with_indices: windows offset by pool_size": (
        "07a", "segmentation.py", "segmentation.max_pool_with_indices",
        [(POOL_INDEX, POOL_INDEX.replace("* stride", "* pool_size"))],
        "hint", "offset the position inside it by the stride, not by pool_size"),
    "soft_dice_loss: 2 * (intersection + smooth)": (
        "07a", "segmentation.py", "segmentation.soft_dice_loss",
        [("2 * intersection + smooth", "2 * (intersection + smooth)")],
        "hint", "adds it twice"),
    "UNet: bottleneck without doubling": (
        "07a", "segnets.py", "segnets.UNet",
        [("self.bottleneck = DoubleConv(channels[self.depth - 1], channels[self.depth])",
          "self.bottleneck = DoubleConv(channels[self.depth - 1], channels[self.depth - 1])")],
        "hint", "the bottleneck doubles the channels"),
    "max_pool_with_indices: window offsets column-major": (
        "07b", "segmentation.py", "segmentation.max_pool_with_indices",
        [(POOL_INDEX, POOL_INDEX.replace("+ best // pool_size", "+ best % POOL").replace(
            "+ best % pool_size", "+ best // pool_size").replace("POOL", "pool_size"))],
        "hint", "the row offset is best // pool_size"),
    "UNet: skip kept after its pooling": (
        "07b", "segnets.py", "segnets.UNet",
        [("            skips.append(x)\n            x = self.pool(x)",
          "            x = self.pool(x)\n            skips.append(x)")],
        "hint", "even in a U-Net of depth 1"),
    "max_pool_with_indices: windows not strided": (
        "07c", "segmentation.py", "segmentation.max_pool_with_indices",
        [(POOL_INDEX, POOL_INDEX.replace(" * stride", ""))],
        "hint", "multiply the window's position by the stride"),
    "UNet: skips in the encoder's order": (
        "07c", "segnets.py", "segnets.UNet",
        [("zip(self.decoders, reversed(skips))", "zip(self.decoders, skips)")],
        "hint", "take the skips in the encoder's order"),
    "nms: suppression by the top-scoring box only": (
        "08", "detection.py", "detection.nms",
        [(NMS_LOOP, "    for i in order.tolist():\n"
                    "        if kept and iou[kept[0], i] > iou_threshold:\n"
                    "            continue\n"
                    "        kept.append(i)\n")],
        "hint", "suppression repeats for every kept box"),
    "yolo_encode: slots filled from the last": (
        "08", "detection.py", "detection.yolo_encode",
        [("        used[row][col] += 1\n",
          "        used[row][col] += 1\n        slot = B - 1 - slot\n")],
        "hint", "the first object of a cell goes to slot 0"),
    "LocalizationNet: no flatten before the linear head": (
        "08", "detectors.py", "detectors.LocalizationNet",
        [("nn.AdaptiveAvgPool2d(4), nn.Flatten(),", "nn.AdaptiveAvgPool2d(4),")],
        "message", "the feature map reached the layer without a flatten"),
    "box_iou: '+1' in the areas only": (
        "08b", "detection.py", "detection.box_iou",
        [("    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])",
          "    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)"),
         ("    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])",
          "    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1] + 1)")],
        "hint", "a '+1' in the areas only"),
    # on the grader's recalls (multiples of 0.1) the same AP as recall > t: one hint names both
    "average_precision: the 11 points from t = 0.1": (
        "08b", "detection.py", "detection.average_precision",
        [("        for k in range(11):", "        for k in range(1, 11):")],
        "hint", "a loop that starts at t = 0.1"),
    "CharRNN: the LSTM's c of h0 ignored (zeros)": (
        "09a", "rnn.py", "rnn.CharRNN",
        [(LSTM_STATE, LSTM_STATE.replace("else h0", "else (h0[0], None)"))],
        "hint", "start the cell state from its c"),
    "CharRNN: the LSTM's h of h0 used for c too": (
        "09b", "rnn.py", "rnn.CharRNN",
        [(LSTM_STATE, LSTM_STATE.replace("else h0", "else (h0[0], h0[0])"))],
        "hint", "h was used for both"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """group -> {key: report entry}, graded once per group on first use."""
    def build(group, folder):
        names = [n for n, case in CASES.items() if case[0] == group]
        keys = {CASES[n][2] for n in names}
        assert len(keys) == len(names), f"group {group} grades a function twice"
        replace = {}
        for name in names:
            _, module, _, edits, _, _ = CASES[name]
            replace.setdefault(module, []).extend(edits)
        return make_submission(folder, replace=replace), UNITS[group[:2]], keys

    return grader_by_group(tmp_path_factory, build)


@pytest.mark.parametrize("name", list(CASES))
def test_a_slip_loses_its_points_with_the_words_that_name_it(graded, name):
    group, _, key, _, where, words = CASES[name]
    if "torch" in getattr(COURSE_UNITS[UNITS[group[:2]]], "packages", ()):
        pytest.importorskip("torch")
    entry = graded(group)[key]
    assert entry["status"] in ("failed", "error") and entry["score"] == 0, entry
    assert words in (entry[where] or ""), entry
    assert "calls your" not in (entry["hint"] or ""), entry  # not blamed on another function


def test_the_unflattened_advice_needs_a_whole_batch_of_rows():
    """A linear layer given a flattened input of the wrong size gets no word of a missing
    flatten; an (N, C, H, W) map read by its last axis does."""
    from autograder.engine import _unflattened

    assert "without a flatten" in _unflattened(256, 4, 512, 128)  # (2, 32, 4, 4), 512 features
    assert _unflattened(2, 400, 512, 128) == ""  # flattened, another size
    assert _unflattened(2, 1024, 512, 128) == ""  # more features than in_features
    assert _unflattened(3, 4, 8, 2) == ""  # 12 numbers are no whole rows of 8
    assert _unflattened(0, 4, 512, 128) == ""  # an empty batch: nothing to tell
