"""An examiner's sweep of units 01-04, graded through the real worker: realistic mistakes that
kept their points (a cache kept by shape alone) or lost them with a verdict that did not say why
(no hint) before the cases and known mistakes they test were added; and the correct variants
beside them (the same caches keyed by everything they depend on), which keep full marks."""

import pytest

from autograder import engine
from autograder.units import resolve_units

from .submissions import bwrap, make_submission

pytestmark = pytest.mark.xdist_group("examiner-sweep-units01-04")


def grade(path, unit, key):
    report = engine.grade(path, [unit], keys={key}, use_bwrap=bwrap(resolve_units([unit])[0]))
    return next(u for u in report["units"].values())["functions"][key]


# A fast convolution that keeps its im2col indices in a module-level dict, keyed by the shapes of
# x and w but not by stride and pad: right on every case until two cases share their shapes.
IM2COL_INDEX_CACHE = '''
import numpy as np

_IDX = {}


def _indices(C, H, W, HH, WW, stride, pad, key):
    if key not in _IDX:
        H_out = (H + 2 * pad - HH) // stride + 1
        W_out = (W + 2 * pad - WW) // stride + 1
        i0 = np.tile(np.repeat(np.arange(HH), WW), C)
        i1 = stride * np.repeat(np.arange(H_out), W_out)
        j0 = np.tile(np.arange(WW), HH * C)
        j1 = stride * np.tile(np.arange(W_out), H_out)
        k = np.repeat(np.arange(C), HH * WW)[:, None]
        _IDX[key] = (k, i0[:, None] + i1[None, :], j0[:, None] + j1[None, :], H_out, W_out)
    return _IDX[key]


def conv_forward(x, w, b, *, stride=1, pad=0):
    _check_conv("conv_forward", x, w, b, stride, pad)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    k, i, j, H_out, W_out = _indices(C, H, W, HH, WW, stride, pad, KEY)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = xpad[:, k, i, j]
    out = (w.reshape(F, -1) @ cols + b[None, :, None]).reshape(N, F, H_out, W_out)
    return out, (x, w, b, stride, pad, None)
'''


def test_conv_indices_kept_by_shape_alone_are_stale_on_another_stride_and_pad(tmp_path):
    """Before, no two cases of conv_forward shared the shapes of x and w, so indices kept by
    shape alone were never stale: full marks. A case with the first case's shapes and another
    stride and pad now follows the first, and its label says why it is there."""
    sub = make_submission(tmp_path, append={"conv.py": IM2COL_INDEX_CACHE.replace(
        "KEY", "(x.shape, w.shape)")})
    entry = grade(sub, "03", "conv.conv_forward")
    assert entry["score"] == 0 and entry["status"] in ("failed", "error"), entry
    assert "the first case's shapes with another stride and pad" in entry["message"], entry
    assert "kept from an earlier call by shapes alone is stale" in entry["message"], entry


def test_conv_indices_kept_by_shape_stride_and_pad_keep_full_marks(tmp_path):
    """The same module-level index cache keyed by everything the indices depend on is a correct
    (and common) speed-up: the new case must not cost it anything."""
    sub = make_submission(tmp_path, append={"conv.py": IM2COL_INDEX_CACHE.replace(
        "KEY", "(x.shape, w.shape, stride, pad)")})
    entry = grade(sub, "03", "conv.conv_forward")
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_count_parameters_summed_with_np_sum_is_told_why_it_is_a_float(tmp_path):
    """np.sum over a list of sizes gives the right count, but the float 0.0 for a model without
    parameters: before, the verdict said "should return an int, got a float" and no more."""
    sub = make_submission(tmp_path, replace={"cnn.py": [
        ("    count = int(sum(int(np.prod(p.shape)) for p in params.values()))",
         "    count = np.sum([np.prod(p.shape) for p in params.values()])")]})
    entry = grade(sub, "03", "cnn.count_parameters")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "no parameters" in entry["message"] and "of the right value 0" in entry["message"]
    assert "sum of an empty list is 0.0" in entry["hint"], entry


@pytest.mark.parametrize("eps", ["1e-12", "1e-15"])
def test_bce_clipped_with_another_eps_is_told_the_docstrings_eps(tmp_path, eps):
    """Clipping with 1e-12 or 1e-15 (scikit-learn's log_loss) instead of the docstring's 1e-7:
    only the probabilities of exactly 0 and 1 tell it apart. Before: "loss is 5.34 but should be
    3.42" and no hint; now a known mistake names the eps."""
    sub = make_submission(tmp_path, replace={"losses.py": [
        ("    p = xp.clip(prob, BCE_EPS, 1.0 - BCE_EPS)",
         f"    p = xp.clip(prob, {eps}, 1.0 - {eps})")]})
    entry = grade(sub, "02", "losses.bce_loss")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "exactly 0 and 1" in entry["message"], entry
    assert f"eps = BCE_EPS = 1e-7, as the docstring says, not {float(eps):g}" in entry["hint"]


def test_early_stopping_best_moved_by_a_small_gain_alone_gets_the_best_hint(tmp_path):
    """best updated on any gain while best_step, the count and the answers follow the
    improvements of more than min_delta: no known mistake gave the whole row, so the verdict had
    no hint. Now the known mistake that explains the first wrong answer (and most of the rest)
    gives it."""
    sub = make_submission(tmp_path, replace={"regularization.py": [
        ("        else:\n            self.waited += 1\n        self.steps += 1",
         "        else:\n            self.waited += 1\n"
         "            if (value > self.best) if self.mode == 'max' else (value < self.best):\n"
         "                self.best = value\n        self.steps += 1")]})
    entry = grade(sub, "04", "regularization.EarlyStopping")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "best is 0.33, expected 0.3" in entry["message"], entry
    assert "best changes only on an improvement of more than min_delta" in entry["hint"], entry


# A fast max pooling that keeps the indices of its windows in a module-level dict keyed by the
# shape of x alone, not by pool_size and stride.
POOL_INDEX_CACHE = '''
import numpy as np

_PIDX = {}


def _pool_idx(x, p, s, key):
    if key not in _PIDX:
        N, C, H, W = x.shape
        Ho, Wo = (H - p) // s + 1, (W - p) // s + 1
        r = np.arange(Ho)[:, None] * s + np.arange(p)[None, :]
        c = np.arange(Wo)[:, None] * s + np.arange(p)[None, :]
        _PIDX[key] = (r[:, None, :, None], c[None, :, None, :], Ho, Wo)
    return _PIDX[key]


def max_pool_forward(x, *, pool_size=2, stride=2):
    _check_pool("max_pool_forward", x, pool_size, stride)
    r, c, Ho, Wo = _pool_idx(x, pool_size, stride, KEY)
    N, C = x.shape[:2]
    out = x[:, :, r, c].reshape(N, C, Ho, Wo, -1).max(axis=-1)
    return out, (x, pool_size, stride, out)
'''


def test_pool_indices_kept_by_shape_alone_are_stale_on_another_stride(tmp_path):
    """Before, no two pooling cases shared the shape of x: full marks. A case with the first
    case's shape and another stride now follows the first, its label saying why."""
    sub = make_submission(tmp_path, append={"conv.py": POOL_INDEX_CACHE.replace(
        "KEY", "x.shape")})
    entry = grade(sub, "03", "conv.max_pool_forward")
    assert entry["score"] == 0 and entry["status"] in ("failed", "error"), entry
    assert "the first case's shape with another stride" in entry["message"], entry
    assert "should have shape (2, 3, 5, 7)" in entry["message"], entry


def test_pool_indices_kept_by_shape_size_and_stride_keep_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": POOL_INDEX_CACHE.replace(
        "KEY", "(x.shape, pool_size, stride)")})
    report = engine.grade(sub, ["03"], keys={"conv.max_pool_forward", "conv.max_pool_backward"},
                          use_bwrap=bwrap("03_cnn"))
    for entry in report["units"]["03_cnn"]["functions"].values():
        assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_relative_error_over_the_absolute_sum_is_named(tmp_path):
    """|a + b| for |a| + |b| in the denominator: equal where a and b share their sign, wrong only
    on the case of opposite signs. Before: the error value alone and no hint."""
    sub = make_submission(tmp_path, replace={"gradcheck.py": [
        ("xp.maximum(1e-8, xp.abs(a) + xp.abs(b))", "xp.maximum(1e-8, xp.abs(a + b))")]})
    entry = grade(sub, "02", "gradcheck.relative_error")
    assert entry["score"] == 0 and entry["status"] == "failed", entry
    assert "opposite signs" in entry["message"], entry
    assert "not |a + b|" in entry["hint"], entry
