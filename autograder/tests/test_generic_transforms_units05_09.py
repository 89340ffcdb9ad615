"""Generic transforms of a graded result in units 05, 07, 08 and 09 (the sweep of
``test_generic_transforms.py`` continued): a float32 round trip, six significant digits and a
transpose of square arrays on the NumPy modules, and these plus ``.squeeze()`` on the PyTorch
modules. Two answers came out wrong:

- LocalizationNet's box (N, 4) transposed on the batch of four images kept full marks: its
  shape and ranges are right and nothing is compared with the reference's numbers (graded by
  contract). The first image run alone in eval mode must now give row 0 of the batch's outputs.
- clip_grad_norm whose arrays went through float32 (within its documented 1e-5) was told that
  it modified grads in place: the in-place check compared the kept result with grads at 1e-12,
  not with the kept result's own arrays before the call.

Each variant is the reference with the function or method wrapped (appended to its module) and
graded through the real worker.
"""

import pytest

from .submissions import bwrap, make_submission


def _grade(tmp_path, unit, module, key, code):
    from autograder import engine

    sub = make_submission(tmp_path, append={module: code})
    report = engine.grade(sub, [unit], keys={key}, use_bwrap=bwrap(unit))
    return report["units"][unit]["functions"][key]


LOCALIZATION = '''

_orig_loc_forward = LocalizationNet.forward


def _loc_forward(self, x):
    logits, box = _orig_loc_forward(self, x)
    {body}
    return logits, box


LocalizationNet.forward = _loc_forward
'''


def test_localization_box_transposed_on_a_square_batch_loses_its_points(tmp_path):
    pytest.importorskip("torch")
    code = LOCALIZATION.format(body="box = box.transpose(0, 1) if box.shape[0] == box.shape[1] "
                                    "else box")
    entry = _grade(tmp_path, "08_detection", "detectors.py", "detectors.LocalizationNet", code)
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "(4, 3, 48, 48)" in entry["message"], entry
    assert "box of the first image alone" in entry["message"], entry
    assert "batch axis" in (entry["hint"] or ""), entry


def test_localization_output_squeezed_is_told_its_shape(tmp_path):
    pytest.importorskip("torch")
    code = LOCALIZATION.format(body="logits, box = logits.squeeze(), box.squeeze()")
    entry = _grade(tmp_path, "08_detection", "detectors.py", "detectors.LocalizationNet", code)
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "has shape (10,), expected (1, 10)" in entry["message"], entry
    assert "squeeze()" in (entry["hint"] or ""), entry


def test_localization_computed_otherwise_per_example_keeps_its_points(tmp_path):
    # each image through the network on its own, then stacked: the same function of each image
    pytest.importorskip("torch")
    code = '''

import torch as _torch

_orig_loc_forward = LocalizationNet.forward


def _loc_forward(self, x):
    if self.training or x.shape[0] == 1:
        return _orig_loc_forward(self, x)
    outs = [_orig_loc_forward(self, x[i:i + 1]) for i in range(x.shape[0])]
    return _torch.cat([o[0] for o in outs]), _torch.cat([o[1] for o in outs])


LocalizationNet.forward = _loc_forward
'''
    entry = _grade(tmp_path, "08_detection", "detectors.py", "detectors.LocalizationNet", code)
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_clip_grad_norm_through_float32_is_not_told_in_place(tmp_path):
    code = '''

import numpy as _np

_orig_clip = clip_grad_norm


def clip_grad_norm(grads, max_norm):
    clipped, total = _orig_clip(grads, max_norm)
    return {k: v.astype(_np.float32).astype(v.dtype) for k, v in clipped.items()}, total
'''
    entry = _grade(tmp_path, "05_optim", "optim.py", "optim.clip_grad_norm", code)
    assert "in place" not in (entry["message"] or ""), entry
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_clip_grad_norm_scaling_its_result_in_place_later_still_fails(tmp_path):
    # the result of an earlier call given again, scaled in place: the check still finds it
    code = '''

_orig_clip = clip_grad_norm


def clip_grad_norm(grads, max_norm):
    clipped, total = _orig_clip(grads, max_norm)
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total
        return {k: g.copy() for k, g in grads.items()}, total
    return clipped, total
'''
    entry = _grade(tmp_path, "05_optim", "optim.py", "optim.clip_grad_norm", code)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "in place" in (entry["message"] or ""), entry
