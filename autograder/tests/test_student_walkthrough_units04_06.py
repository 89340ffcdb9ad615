"""A student's walk through notebooks 04, 05 and 06: what the check cells say to first attempts.

Found by writing each function of units 04-06 with a plausible first-attempt slip and reading the
check cell's verdict:

- batchnorm_forward that forgot to put "std" in its cache (its own check passes: the cache is not
  compared) made batchnorm_backward stop with "KeyError: 'std' ...; a dict was asked for the key
  'std' ...: check ... that whatever fills the dict reached that key (a loop's range over the
  layers, say)": nothing said the dict is the cache the forward pass built. A KeyError raised
  on a line that reads ``cache[...]`` now says so, and what to do.
- color_jitter's contrast taken around the mean of the whole batch (``out.mean()``) got the hint
  that the grey must not be a luminance with weights 0.299, 0.587, 0.114, though the student
  wrote no grey: the luminance test fitted any output o = B * x + beta. It now needs the grey to
  matter, and the batch mean has a hint of its own.
- instancenorm_backward and groupnorm_backward with dgamma and dbeta summed over the positions
  only (shape (N, C)) got "dgamma has shape (2, 3) but should have shape (3,)" and no hint (layer
  norm's version of the slip had one).
- random_crop and cutout said "centre row [0, 5] never occurred", which reads as one pixel's
  coordinates: now "centre rows 0 and 5 never occurred".
- freeze said "requires_grad is wrong for stem.1.weight, stem.1.bias of the parameters", without
  which value was wrong: it now says "(requires_grad True, should be False)".
- Inception with a branch that shrinks the image (the pooling branch without padding=1, the 5x5
  convolution without padding=2) stopped with PyTorch's "Sizes of tensors must match except in
  dimension 1 ... for tensor number 3 in the list" and no hint.
- l1_penalty with the gradient written as reg * |w| (the penalty itself) got "grads[0] is wrong"
  and no hint.
"""

import numpy as np
import pytest

from autograder import engine
from autograder.compare import Failed
from autograder.mistakes import normalization as norm_mistakes
from autograder.specs import augmentation as aug_spec

from .submissions import bwrap, make_submission

BN_CACHE_WITHOUT_STD = (
    '        cache = {"train": True, "xc": xc, "std": std, "xhat": xhat, "gamma": gamma}',
    '        cache = {"train": True, "xc": xc, "xhat": xhat, "gamma": gamma}')
IN_DGAMMA_PER_EXAMPLE = (
    "    dgamma = (dout * xhat).sum(axis=(0, 2, 3))\n    dbeta = dout.sum(axis=(0, 2, 3))\n"
    "    dxhat = dout * gamma.reshape(1, C, 1, 1)\n",
    "    dgamma = (dout * xhat).sum(axis=(2, 3))\n    dbeta = dout.sum(axis=(2, 3))\n"
    "    dxhat = dout * gamma.reshape(1, C, 1, 1)\n")
GN_DGAMMA_PER_EXAMPLE = (
    "    dgamma = (dout * xhat).sum(axis=(0, 2, 3))\n    dbeta = dout.sum(axis=(0, 2, 3))\n"
    "    dxhat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, groups, -1)",
    "    dgamma = (dout * xhat).sum(axis=(2, 3))\n    dbeta = dout.sum(axis=(2, 3))\n"
    "    dxhat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, groups, -1)")
JITTER_BATCH_MEAN = ("    m = out.mean(axis=(1, 2, 3), keepdims=True)", "    m = out.mean()")
# the square kept inside the image: its centre never on the first or last rows
CUTOUT_INSIDE = (
    "    top = xp.asarray(rng.integers(0, H, N) - size // 2).reshape(N, 1)\n"
    "    left = xp.asarray(rng.integers(0, W, N) - size // 2).reshape(N, 1)",
    "    top = xp.asarray(rng.integers(0, H - size + 1, N)).reshape(N, 1)\n"
    "    left = xp.asarray(rng.integers(0, W - size + 1, N)).reshape(N, 1)")
FREEZE_SETS_EVERY_FLAG = ("        if not name.startswith(prefixes):\n"
                          "            param.requires_grad = False",
                          "        param.requires_grad = name.startswith(prefixes)")


def functions(report):
    return {k: v for u in report["units"].values() for k, v in u["functions"].items()}


@pytest.fixture(scope="module")
def unit04(tmp_path_factory):
    sub = make_submission(tmp_path_factory.mktemp("walk04"), replace={
        "normalization.py": [BN_CACHE_WITHOUT_STD, IN_DGAMMA_PER_EXAMPLE, GN_DGAMMA_PER_EXAMPLE],
        "augmentation.py": [JITTER_BATCH_MEAN, CUTOUT_INSIDE]})
    keys = {"normalization.batchnorm_forward", "normalization.batchnorm_backward",
            "normalization.instancenorm_backward", "normalization.groupnorm_backward",
            "augmentation.color_jitter", "augmentation.cutout"}
    return functions(engine.grade(sub, ["04"], keys=keys, use_bwrap=bwrap("04_normalization")))


def test_a_key_missing_from_the_forward_s_cache_is_said_to_be_the_cache(unit04):
    assert unit04["normalization.batchnorm_forward"]["status"] == "passed"
    entry = unit04["normalization.batchnorm_backward"]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    message = entry["message"]
    assert "KeyError: 'std'" in message and "coursework/normalization.py" in message, message
    assert "the cache holds only what your batchnorm_forward put in it" in message, message
    assert "store that value in the cache" in message, message
    assert "a loop's range over the layers" not in message, message


def _fault(message, detail):
    return type("Fault", (), {"message": message, "detail": detail})()


def _traceback(function, line, key):
    return ('Traceback (most recent call last):\n'
            f'  File "coursework/layers.py", line 12, in {function}\n'
            f'    {line}\n'
            '    ~~~~~^^^^^\n'
            f"KeyError: '{key}'\n")


@pytest.mark.parametrize("function, line, forward", [
    ("batchnorm_backward_alt", 'xhat = cache["xhat"]', "your batchnorm_forward"),
    ("rnn_step_backward", "h = cache['h_prev']", "your rnn_step_forward"),
    ("backward", 'x = self.cache["x"]', "the forward pass"),
])
def test_the_cache_advice_names_the_forward_that_fills_the_cache(function, line, forward):
    key = line.split("[")[1].strip("'\"]")
    message = engine.error_message(_fault(f"KeyError: '{key}'", _traceback(function, line, key)))
    assert f"the cache holds only what {forward} put in it, and it has no key '{key}'" in \
        message, message
    assert "print its keys" not in message, message


def test_a_key_error_elsewhere_keeps_the_general_advice():
    # a dict that is not a cache, and a cache read on another line than the one that raised
    for line in ('W = self.params["W0"]', 'W = self.params["W0"]  # cache["W0"] later'):
        message = engine.error_message(_fault("KeyError: 'W0'",
                                              _traceback("loss", line, "W0")))
        assert "print its keys there" in message and "the cache holds" not in message, message
    message = engine.error_message(_fault("KeyError: 'xc'",
                                          _traceback("f", 'std = cache["std"]', "xc")))
    assert "the cache holds" not in message, message


@pytest.mark.parametrize("key", ["normalization.instancenorm_backward",
                                 "normalization.groupnorm_backward"])
def test_dgamma_summed_over_the_positions_only_gets_a_hint(unit04, key):
    entry = unit04[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "dgamma has shape (2, " in entry["message"], entry
    assert entry["hint"] == norm_mistakes.DGAMMA_PER_EXAMPLE, entry


def test_contrast_around_the_batch_mean_gets_its_own_hint(unit04):
    entry = unit04["augmentation.color_jitter"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] == aug_spec.JITTER_BATCH_MEAN, entry
    assert "luminance" not in entry["hint"]


def test_the_luminance_hint_needs_the_grey_to_shape_the_output():
    rng = np.random.default_rng(0)
    x = rng.random((3, 4, 5))
    weights = aug_spec.LUMINANCE_WEIGHTS[0]
    # o = B * x + beta: no grey in it, whatever its weights
    assert not aug_spec._weighted_grey_fits(x, 0.7 * x + 0.2, weights)
    # the three steps with the weighted grey (saturation 0.5): its hint stays
    grey = np.tensordot(np.asarray(weights), x, axes=1)[None]
    assert aug_spec._weighted_grey_fits(x, grey + 0.5 * (x - grey), weights)


def test_positions_that_never_occurred_are_listed_in_words(unit04):
    entry = unit04["augmentation.cutout"]
    assert entry["status"] == "failed", entry
    assert "centre rows 0 and 5 never occurred" in entry["message"], entry
    with pytest.raises(Failed) as single:
        aug_spec.check_uniform_counts("random_crop", "case", "the window's top row",
                                      np.array([9, 9, 9, 0]))
    assert "the window's top row 3 never occurred in 27 draws" in str(single.value.message)
    with pytest.raises(Failed) as three:
        aug_spec.check_uniform_counts("cutout", "case", "centre column",
                                      np.array([0, 9, 0, 9, 0]))
    assert "centre columns 0, 2 and 4 never occurred" in str(three.value.message)


def test_freeze_says_which_way_the_flags_are_wrong(tmp_path):
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, replace={"architectures.py": [FREEZE_SETS_EVERY_FLAG]})
    report = engine.grade(sub, ["06"], keys={"architectures.freeze"},
                          use_bwrap=bwrap("06_architectures"))
    entry = functions(report)["architectures.freeze"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert ("requires_grad is wrong for stem.1.weight, stem.1.bias (requires_grad True, should "
            "be False)") in entry["message"], entry
    assert "of the parameters" not in entry["message"], entry


@pytest.mark.parametrize("edit, words", [
    (("nn.MaxPool2d(3, stride=1, padding=1)", "nn.MaxPool2d(3, stride=1)"),
     "the 3x3 max pooling (stride 1) of branch4 needs padding=1"),
    (("nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)",
      "nn.Conv2d(c2[0], c2[1], kernel_size=3)"), "the 3x3 convolution of branch2 needs padding=1"),
    (("nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)",
      "nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=1)"), "(padding=1 suits a 3x3 filter)"),
])
def test_an_inception_branch_that_shrinks_the_image_gets_a_hint(tmp_path, edit, words):
    """torch.cat's "Sizes of tensors must match except in dimension 1 ... tensor number 3" had no
    hint: which branch, and which padding it lacks."""
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, replace={"architectures.py": [edit]})
    report = engine.grade(sub, ["06"], keys={"architectures.Inception"},
                          use_bwrap=bwrap("06_architectures"))
    entry = functions(report)["architectures.Inception"]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert "Sizes of tensors must match" in entry["message"], entry
    assert words in (entry["hint"] or ""), entry


def test_an_l1_gradient_written_as_the_penalty_gets_a_hint(tmp_path):
    """grads = reg * |w| (the penalty itself, not its gradient) had no hint."""
    sub = make_submission(tmp_path, replace={"regularization.py": [
        ("    grads = [reg * xp_of(w).sign(w) for w in weights]",
         "    grads = [reg * xp_of(w).abs(w) for w in weights]")]})
    report = engine.grade(sub, ["04"], keys={"regularization.l1_penalty"},
                          use_bwrap=bwrap("04_normalization"))
    entry = functions(report)["regularization.l1_penalty"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "grads[0] is wrong" in entry["message"], entry
    assert "not reg * |w| (the penalty itself)" in (entry["hint"] or ""), entry
