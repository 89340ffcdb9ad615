"""A student's walk through notebooks 07 and 08: what the check cells say to first attempts.

Found by writing each function of units 07 and 08 with a plausible first-attempt slip and reading
the check cell's verdict (most slips already got a fitting hint):

- conv_transpose_forward cropped as ``full[:, :, pad:H_out, pad:W_out]`` (the crop ending at
  H_out, not pad + H_out) was told "output_padding ignored", though the student's H_out came from
  the provided sizes with output_padding in them: on the first public case (pad 1,
  output_padding 1) the two slips give the same output. The hint now names both.
- pixel_cross_entropy, focal_loss and soft_dice_loss with the softmax taken over axis 0 (the
  examples) instead of axis 1 (the classes) got the size of the loss's error and no hint.
- dilated_conv_forward with unit 03's output size, (H + 2 * pad - HH) // stride + 1, stopped
  with NumPy's "could not broadcast input array from shape (2,3,9,10) into shape (2,3,9,11)"
  and no hint; conv_transpose_backward reading dfull[:, :, k:k + H] (without the stride) got
  "dx is wrong" and no hint.
- a U-Net whose decoder DoubleConv reads c_l channels (the concatenation's doubling forgotten)
  got "parameter 21 in forward order has shape (8, 8, 3, 3), expected (8, 16, 3, 3)" and no hint.
- precision_recall with the recall divided by the detections so far (TP / (TP + FP), the
  precision's denominator) got "recall is wrong" and no hint.
"""

import pytest

from autograder import engine
from autograder.mistakes import detection as det_mistakes
from autograder.mistakes import segmentation as seg_mistakes

from .submissions import bwrap, make_submission

CROP_ENDS_AT_H_OUT = (
    "    out = full[:, :, pad:pad + H_out, pad:pad + W_out] + b.reshape(1, F, 1, 1)",
    "    out = full[:, :, pad:H_out, pad:W_out] + b.reshape(1, F, 1, 1)")
# the normalising sum over axis 0 (the shift over axis 1 as written)
CE_SUM_OVER_BATCH = (
    "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
    "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)",
    "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=0, keepdims=True))\n"
    "    log_py = xp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]  # (N, H, W)")
# the shift and the sum both over axis 0
FOCAL_SOFTMAX_OVER_BATCH = (
    "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
    "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n"
    "    probs = xp.exp(log_probs)",
    "    shifted = logits - logits.max(axis=0, keepdims=True)\n"
    "    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=0, keepdims=True))\n"
    "    probs = xp.exp(log_probs)")
DILATED_SIZE_FROM_HH = ("    H_out = (H + 2 * pad - effective[0]) // stride + 1\n"
                        "    W_out = (W + 2 * pad - effective[1]) // stride + 1",
                        "    H_out = (H + 2 * pad - HH) // stride + 1\n"
                        "    W_out = (W + 2 * pad - WW) // stride + 1")
TRANSPOSE_BACKWARD_WITHOUT_STRIDE = (
    "            part = dfull[:, :, k:k + stride * H:stride, m:m + stride * W:stride]",
    "            part = dfull[:, :, k:k + H, m:m + W]")
DICE_SUM_OVER_BATCH = ("    p = e / e.sum(axis=1, keepdims=True)",
                       "    p = e / e.sum(axis=0, keepdims=True)")


@pytest.fixture(scope="module")
def unit07(tmp_path_factory):
    sub = make_submission(tmp_path_factory.mktemp("walk07"), replace={
        "segmentation.py": [CROP_ENDS_AT_H_OUT, CE_SUM_OVER_BATCH, FOCAL_SOFTMAX_OVER_BATCH,
                            DICE_SUM_OVER_BATCH]})
    keys = {"segmentation.conv_transpose_forward", "segmentation.pixel_cross_entropy",
            "segmentation.focal_loss", "segmentation.soft_dice_loss"}
    report = engine.grade(sub, ["07"], keys=keys, use_bwrap=bwrap("07_segmentation"))
    return {k: v for u in report["units"].values() for k, v in u["functions"].items()}


@pytest.fixture(scope="module")
def unit07_sizes(tmp_path_factory):
    sub = make_submission(tmp_path_factory.mktemp("walk07sizes"), replace={
        "segmentation.py": [DILATED_SIZE_FROM_HH, TRANSPOSE_BACKWARD_WITHOUT_STRIDE]})
    keys = {"segmentation.dilated_conv_forward", "segmentation.conv_transpose_backward"}
    report = engine.grade(sub, ["07"], keys=keys, use_bwrap=bwrap("07_segmentation"))
    return {k: v for u in report["units"].values() for k, v in u["functions"].items()}


def test_a_crop_that_ends_at_h_out_is_named_beside_output_padding(unit07):
    entry = unit07["segmentation.conv_transpose_forward"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "should have shape (2, 2, 6, 7)" in entry["message"], entry
    hint = entry["hint"]
    assert "output_padding ignored" in hint, hint
    assert "the crop ends at row H_out instead of pad + H_out" in hint, hint
    assert "full[:, :, pad:pad + H_out, pad:pad + W_out]" in hint, hint


@pytest.mark.parametrize("key", ["segmentation.pixel_cross_entropy", "segmentation.focal_loss",
                                 "segmentation.soft_dice_loss"])
def test_a_softmax_over_the_examples_gets_the_class_axis_hint(unit07, key):
    entry = unit07[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] == seg_mistakes._BATCH_AXIS, entry
    assert "axis 1 of logits (N, K, H, W)" in entry["hint"]


def test_both_batch_axis_variants_are_registered_for_each_loss():
    for key in ("segmentation.pixel_cross_entropy", "segmentation.focal_loss",
                "segmentation.soft_dice_loss"):
        hints = [hint for hint, _ in seg_mistakes.MISTAKES[key]]
        assert hints.count(seg_mistakes._BATCH_AXIS) == 2, key


def test_unit03_s_output_size_in_a_dilated_convolution_gets_a_hint(unit07_sizes):
    entry = unit07_sizes["segmentation.dilated_conv_forward"]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert "could not broadcast input array" in entry["message"], entry
    assert "the effective size dilation * (HH - 1) + 1" in entry["hint"], entry


def test_a_transposed_backward_that_reads_dfull_without_the_stride_gets_a_hint(unit07_sizes):
    entry = unit07_sizes["segmentation.conv_transpose_backward"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "read without the stride" in entry["hint"], entry
    assert "k:k + stride * H:stride" in entry["hint"], entry


RECALL_OVER_DETECTIONS = ("    recall = tp / num_gt if num_gt > 0 else xp.zeros_like(tp)",
                          "    recall = tp / (tp + fp)")


def test_recall_divided_by_the_detections_gets_a_hint(tmp_path):
    sub = make_submission(tmp_path, replace={"detection.py": [RECALL_OVER_DETECTIONS]})
    report = engine.grade(sub, ["08"], keys={"detection.precision_recall"},
                          use_bwrap=bwrap("08_detection"))
    entry = report["units"]["08_detection"]["functions"]["detection.precision_recall"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "recall is wrong" in entry["message"], entry
    hints = [hint for hint, _ in det_mistakes.MISTAKES["detection.precision_recall"]]
    assert entry["hint"] in hints, entry
    assert "recall = TP / num_gt" in entry["hint"], entry


DECODER_WITHOUT_THE_SKIP_S_CHANNELS = (
    "            stage.conv = DoubleConv(2 * channels[level], channels[level])",
    "            stage.conv = DoubleConv(channels[level], channels[level])")


def test_a_decoder_conv_without_the_skip_s_channels_gets_a_hint(tmp_path):
    sub = make_submission(tmp_path, replace={"segnets.py": [DECODER_WITHOUT_THE_SKIP_S_CHANNELS]})
    report = engine.grade(sub, ["07"], keys={"segnets.UNet"}, use_bwrap=bwrap("07_segmentation"))
    entry = report["units"]["07_segmentation"]["functions"]["segnets.UNet"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "has shape (8, 8, 3, 3), expected (8, 16, 3, 3)" in entry["message"], entry
    assert "DoubleConv(2 * c_l, c_l), not DoubleConv(c_l, c_l)" in entry["hint"], entry
