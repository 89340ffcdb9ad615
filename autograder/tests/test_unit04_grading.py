"""Unit 04 graded fairly: unusual but correct implementations get full marks (other cache layouts,
other formulas, other ways of drawing from ``rng``: the random functions are graded by properties,
not by a random stream), and the stubs get nothing."""

import re

import numpy as np
import pytest

from autograder import engine
from autograder.specs import augmentation, normalization, regularization
from autograder.testing import FakeStudent, run_spec_test
from autograder.units import specs_of

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit04-grading")

NORMALIZATION = '''
import numpy as np


def batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    if train:
        mean, var = np.mean(x, axis=0), np.var(x, axis=0)
        new_state = {key: momentum * state[key] + (1 - momentum) * value
                     for key, value in (("running_mean", mean), ("running_var", var))}
    else:
        mean, var = state["running_mean"], state["running_var"]
        new_state = {key: np.array(value) for key, value in state.items()}
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv
    return xhat * gamma + beta, {"xhat": xhat, "inv": inv, "g": gamma, "train": train}, new_state


def batchnorm_backward(dout, cache):
    xhat, inv, gamma = cache["xhat"], cache["inv"], cache["g"]
    n = len(dout)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xhat, axis=0) * -0.5 * inv ** 2        # through 1 / sqrt(var + eps)
    dmean = -np.sum(dxhat, axis=0) * inv
    dx = dxhat * inv + dvar * 2 * xhat / (n * inv) + dmean / n
    return dx, np.einsum("nd,nd->d", dout, xhat), np.add.reduce(dout, axis=0)


def batchnorm_backward_alt(dout, cache):
    xhat, inv, gamma = cache["xhat"], cache["inv"], cache["g"]
    dg, db = (dout * xhat).sum(0), dout.sum(0)
    return inv * gamma * (dout - db / len(dout) - xhat * dg / len(dout)), dg, db


def spatial_batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    moved = np.moveaxis(x, 1, -1)
    out, cache, new_state = batchnorm_forward(moved.reshape(-1, x.shape[1]), gamma, beta, state,
                                              train=train, momentum=momentum, eps=eps)
    return np.moveaxis(out.reshape(moved.shape), -1, 1), (cache, moved.shape), new_state


def spatial_batchnorm_backward(dout, cache):
    inner, shape = cache
    dx, dg, db = batchnorm_backward(np.moveaxis(dout, 1, -1).reshape(-1, shape[-1]), inner)
    return np.moveaxis(dx.reshape(shape), -1, 1), dg, db


def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    one, zero = np.ones(len(x), dtype=x.dtype), np.zeros(len(x), dtype=x.dtype)
    out, cache, _ = batchnorm_forward(x.T, one, zero, {"running_mean": zero, "running_var": one},
                                      eps=eps)
    return out.T * gamma + beta, (cache, gamma)


def layernorm_backward(dout, cache):
    inner, gamma = cache
    dxt, _, _ = batchnorm_backward((dout * gamma).T, inner)
    return dxt.T, (dout * inner["xhat"].T).sum(0), dout.sum(0)


def groupnorm_forward(x, gamma, beta, *, groups, eps=1e-5):
    n, c, h, w = x.shape
    flat, gamma_c, beta_c = x.reshape(n * groups, -1), gamma.reshape(1, c, 1, 1), \\
        beta.reshape(1, c, 1, 1)
    ones = np.ones(flat.shape[1], dtype=x.dtype)
    out, cache = layernorm_forward(flat, ones, 0 * ones, eps=eps)
    xhat = out.reshape(x.shape)
    return xhat * gamma_c + beta_c, (cache, xhat, gamma_c)


def groupnorm_backward(dout, cache):
    inner, xhat, gamma_c = cache
    dflat, _, _ = layernorm_backward((dout * gamma_c).reshape(inner[0]["xhat"].shape[::-1]),
                                     inner)
    return dflat.reshape(dout.shape), (dout * xhat).sum((0, 2, 3)), dout.sum((0, 2, 3))


def instancenorm_forward(x, gamma, beta, *, eps=1e-5):
    return groupnorm_forward(x, gamma, beta, groups=x.shape[1], eps=eps)


def instancenorm_backward(dout, cache):
    return groupnorm_backward(dout, cache)
'''

REGULARIZATION = '''
import numpy as np


def dropout_forward(x, *, p, train=True, rng):
    if not train:
        return x + 0.0, None
    keep = rng.binomial(1, 1 - p, size=x.shape).astype(bool)   # another way to draw the mask
    return np.where(keep, x / (1 - p), 0.0), {"keep": keep, "p": p}


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    return np.where(cache["keep"], dout / (1 - cache["p"]), 0.0)


def l2_penalty(weights, reg):
    return 0.5 * reg * float(sum(np.vdot(w, w) for w in weights)), [w * reg for w in weights]


def l1_penalty(weights, reg):
    grads = [reg * ((w > 0).astype(float) - (w < 0)) for w in weights]
    return float(reg * sum(np.sum(np.abs(w)) for w in weights)), grads


class EarlyStopping:
    def __init__(self, *, patience, min_delta=0.0, mode="max"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = None
        self.best_step = None
        self.should_stop = False
        self.history = []

    def step(self, value):
        self.history.append(value)
        gain = (value - self.best if self.mode == "max" else self.best - value) \\
            if self.best is not None else np.inf
        if gain > self.min_delta:        # the difference, not best + min_delta
            self.best, self.best_step = value, len(self.history) - 1
        if len(self.history) - 1 - self.best_step >= self.patience:
            self.should_stop = True
        return self.should_stop
'''

AUGMENTATION = '''
import numpy as np


def random_horizontal_flip(images, *, p=0.5, rng):
    out = images.copy()
    for n in range(len(images)):
        if rng.uniform() < p:
            out[n] = images[n, :, :, ::-1]
    return out


def random_crop(images, *, size, padding=0, rng):
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    tops = rng.integers(0, h + 2 * padding - size, n, endpoint=True)
    lefts = rng.choice(w + 2 * padding - size + 1, n)
    rows = tops[:, None] + np.arange(size)
    cols = lefts[:, None] + np.arange(size)
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def color_jitter(images, *, brightness=0.0, contrast=0.0, saturation=0.0, rng):
    out = np.empty_like(images)
    for n, x in enumerate(images):        # one image at a time, saturation before contrast
        s = 1 + saturation * (2 * rng.random() - 1)
        c = 1 + contrast * (2 * rng.random() - 1)
        b = 1 + brightness * (2 * rng.random() - 1)
        g = x.mean(axis=0)
        x = g + s * (x - g)
        m = x.mean()
        out[n] = b * (m + c * (x - m))
    return out


def cutout(images, *, size, rng):
    n, c, h, w = images.shape
    centres = rng.integers(0, [h, w], size=(n, 2))
    out = images.copy()
    for k, (cy, cx) in enumerate(centres):
        for row in range(cy - size // 2, cy - size // 2 + size):
            if 0 <= row < h:
                out[k, :, row, max(cx - size // 2, 0):max(cx - size // 2 + size, 0)] = 0
    return out


def mixup(images, targets, *, alpha, rng):
    perm = np.argsort(rng.random(len(images)))         # a permutation drawn another way
    lam = rng.beta(alpha, alpha)
    return (1 - lam) * images + lam * images[perm], (1 - lam) * targets + lam * targets[perm]
'''


def test_unusual_but_correct_unit04_gets_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"normalization.py": NORMALIZATION,
                                            "regularization.py": REGULARIZATION,
                                            "augmentation.py": AUGMENTATION})
    report = engine.grade(sub, ["04"])
    wrong = {k: (e["status"], e["message"]) for u in report["units"].values()
             for k, e in u["functions"].items() if e["status"] != "passed"}
    assert wrong == {}
    assert report["total"] == report["max"] == 42


def test_a_dropout_mask_scaled_in_float32_gets_full_marks(tmp_path):
    """1 / 0.7 held in float32 is off by 2.4e-8, and the docstring fixes no dtype for
    the mask; the check of the kept units lost it 2 points at a tolerance of 1e-9."""
    sub = make_submission(tmp_path, append={"regularization.py": """
        import numpy as np

        def dropout_forward(x, *, p, train=True, rng):
            if not train:
                return x, None
            mask = rng.binomial(1, 1.0 - p, size=x.shape).astype(np.float32)
            mask /= (1.0 - p)
            return x * mask, mask

        def dropout_backward(dout, cache):
            return dout if cache is None else dout * cache
        """})
    report = engine.grade(sub, ["04"], keys=["regularization.dropout_forward",
                                              "regularization.dropout_backward"])
    functions = report["units"]["04_normalization"]["functions"]
    assert {k: e["status"] for k, e in functions.items()} == {
        "regularization.dropout_forward": "passed", "regularization.dropout_backward": "passed"}


def test_a_dropout_scale_just_outside_the_tolerance_fails_with_digits_that_differ():
    """Kept units off by 3e-6: the verdict prints the two values with as many digits as tell
    them apart (at 6 digits they read the same), and says where such small errors come from."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 40))
    out = np.where(rng.random(x.shape) >= 0.3, x / (0.7 * (1 - 3e-6)), 0.0)
    with pytest.raises(regularization.Failed) as failed:
        regularization.check_train_output(out, x, 0.3, "x (50, 40), p=0.3")
    found = re.search(r"is (\S+); a kept unit must be x / \(1 - p\) = (\S+) and a dropped one 0",
                      failed.value.message)
    assert found and found[1] != found[2], failed.value.message
    assert "float32 arithmetic" in failed.value.message


def test_stubs_get_nothing(tmp_path):
    report = engine.grade(make_submission(tmp_path, base="stubs"), ["04"])
    statuses = {e["status"] for u in report["units"].values() for e in u["functions"].values()}
    assert statuses == {"not_implemented"} and report["total"] == 0


class CountingStudent(FakeStudent):
    """The reference, counting the calls made to it."""

    calls = 0

    def call_full(self, target, *args, **kwargs):
        self.calls += 1
        return super().call_full(target, *args, **kwargs)


@pytest.mark.parametrize("key", [k for spec in specs_of("04_normalization")
                                 if spec.module in ("augmentation", "regularization")
                                 for k in spec.tests])
def test_hidden_cases_are_used(key):
    """Property-graded tests ask the reference for nothing, so the release test cannot see their
    hidden cases in the recorded outputs: count the calls instead."""
    public, full = CountingStudent(), CountingStudent()
    assert run_spec_test(key, public, public_only=True) is None
    assert run_spec_test(key, full) is None
    assert full.calls > public.calls, key


# ------------------------------------------------------------------ wrong variants the audit found

NET = "regularization.RegularizedNet"
WRONG = {
    "dropout applied but not backpropagated": (
        "regularization.py", NET,
        [("            if cache_drop is not None:\n"
          "                dh = dropout_backward(dh, cache_drop)\n", "")],
        regularization.DROPOUT_BACKWARD, "numerical gradient of your own loss"),
    "dropout on the scores too": (
        "regularization.py", NET,
        [("                                            self.params[f\"b{num_layers}\"])\n",
          "                                            self.params[f\"b{num_layers}\"])\n"
          "        if train and self.dropout > 0:\n"
          "            scores, _ = dropout_forward(scores, p=self.dropout, train=True, "
          "rng=self.rng)\n")],
        regularization.NOTHING_TO_DROP, "no hidden layer"),
    "beta and running statistics float64 in a float32 net": (
        "regularization.py", NET,
        [('self.params[f"beta{layer}"] = np.zeros(dims[layer], dtype=self.dtype)',
          'self.params[f"beta{layer}"] = np.zeros(dims[layer])'),
         ("np.zeros(dims[layer],\n" + " " * 74 + "dtype=self.dtype)", "np.zeros(dims[layer])"),
         ("np.ones(dims[layer],\n" + " " * 72 + "dtype=self.dtype)", "np.ones(dims[layer])")],
        regularization.DTYPE_HINT, "has dtype float64, expected float32"),
    "NaN gradients whenever a dropout mask was drawn": (
        "regularization.py", NET,
        [("            grads[f\"W{layer}\"] = grads[f\"W{layer}\"] + self.reg * W\n",
          "            grads[f\"W{layer}\"] = grads[f\"W{layer}\"] + self.reg * W\n"
          "        if train and self.dropout > 0 and num_layers > 1:\n"
          "            grads = {k: np.full_like(v, np.nan) for k, v in grads.items()}\n")],
        regularization.DROPOUT_BACKWARD, "is nan"),
    "net's dropout given the keep probability": (
        "regularization.py", NET,
        [("dropout_forward(h, p=self.dropout, train=True", "dropout_forward(h, p=1 - self.dropout, "
          "train=True")],
        # 30 hidden units in one call cannot tell 1 - p dropped from p: the hint says both
        regularization.SCALED_BY_1_OVER_P, "dropout=0.3"),
    "net's dropout on the affine output, before the normalization": (
        "regularization.py", NET,
        [("            cache_norm = cache_drop = None\n",
          "            cache_norm = cache_drop = None\n"
          "            if train and self.dropout > 0:\n"
          "                a, cache_drop = dropout_forward(a, p=self.dropout, train=True, "
          "rng=self.rng)\n"),
         ("            if train and self.dropout > 0:\n"
          "                h, cache_drop = dropout_forward(h, p=self.dropout, train=True, "
          "rng=self.rng)\n", ""),
         ("            if cache_drop is not None:\n"
          "                dh = dropout_backward(dh, cache_drop)\n", ""),
         ("            dh, grads[f\"W{layer}\"], grads[f\"b{layer}\"] = affine_backward(da, "
          "cache_affine)",
          "            if cache_drop is not None:\n"
          "                da = dropout_backward(da, cache_drop)\n"
          "            dh, grads[f\"W{layer}\"], grads[f\"b{layer}\"] = affine_backward(da, "
          "cache_affine)")],
        regularization.DROPOUT_PLACE, "after ReLU then dropout"),
    # new arrays assigned into the caller's state were told to "build new arrays"
    "batch norm assigning into the caller's state": (
        "normalization.py", "normalization.batchnorm_forward",
        [('        new_state = {"running_mean": momentum * running_mean + (1 - momentum) * mu,\n'
          '                     "running_var": momentum * running_var + (1 - momentum) * var}',
          '        state["running_mean"] = momentum * running_mean + (1 - momentum) * mu\n'
          '        state["running_var"] = momentum * running_var + (1 - momentum) * var\n'
          '        new_state = state')],
        "never change the arrays or dicts you are given: the caller still needs them",
        "changed a dict it was given (assigned state['running_mean'], state['running_var']); "
        "build a new dict"),
    # only the first layer's dropout was looked at in a deeper network
    "dropout after the first hidden layer only": (
        "regularization.py", NET,
        [("            if train and self.dropout > 0:\n"
          "                h, cache_drop = dropout_forward(",
          "            if train and self.dropout > 0 and layer == 1:\n"
          "                h, cache_drop = dropout_forward(")],
        regularization.EVERY_LAYER, "hidden layer 2 of 2: hidden unit"),
    # dropout on the input too was told it acted before the normalization
    "dropout on the input too": (
        "regularization.py", NET,
        [("        h = X\n        for layer in range(1, num_layers):",
          "        h = X\n        if train and self.dropout > 0 and num_layers > 1:\n"
          "            h, _ = dropout_forward(h, p=self.dropout, train=True, rng=self.rng)\n"
          "        for layer in range(1, num_layers):")],
        regularization.INPUT_DROPPED, "after ReLU then dropout"),
    "dropout mask read off the output": (
        "regularization.py", "regularization.dropout_backward",
        [("    cache = scaled_mask\n",
          "    cache = None if scaled_mask is None else (out != 0) / (1 - p)\n")],
        regularization.MASK_FROM_OUTPUT, "whose x is exactly 0"),
    "L1 gradient +reg at a zero weight": (
        "regularization.py", "regularization.l1_penalty",
        [("grads = [reg * xp_of(w).sign(w) for w in weights]",
          "grads = [reg * xp_of(w).where(w >= 0, 1.0, -1.0) for w in weights]")],
        "at a weight that is exactly 0 the gradient is 0 (np.sign(0) is 0), not +reg or -reg",
        "exact zeros"),
    "flip returns the input itself when p == 0": (
        "augmentation.py", "augmentation.random_horizontal_flip",
        [("    xp = xp_of(images)\n    flip = ",
          "    if p == 0:\n        return images\n    xp = xp_of(images)\n    flip = ")],
        augmentation.NOT_NEW, "p=0"),
    "flip returns a view of the input when p == 1": (
        "augmentation.py", "augmentation.random_horizontal_flip",
        [("    xp = xp_of(images)\n    flip = ",
          "    if p == 1:\n        return images[:, :, :, ::-1]\n    xp = xp_of(images)\n"
          "    flip = ")],
        augmentation.NOT_NEW, "p=1"),
    "flip returns a view of an ndarray subclass whose fill() does nothing": (
        "augmentation.py", "augmentation.random_horizontal_flip",
        [("def random_horizontal_flip(",
          "class _Keep(np.ndarray):\n    def fill(self, value):\n        pass\n\n\n"
          "def random_horizontal_flip("),
         ("    xp = xp_of(images)\n    flip = ",
          "    if p == 0:\n        return images.view(_Keep)\n    xp = xp_of(images)\n"
          "    flip = ")],
        augmentation.NOT_NEW, "its input images itself"),
    "color_jitter returns the input itself with all factors 0": (
        "augmentation.py", "augmentation.color_jitter",
        [("    N = images.shape[0]\n    b, c, s = ",
          "    N = images.shape[0]\n    if brightness == contrast == saturation == 0:\n"
          "        return images\n    b, c, s = ")],
        augmentation.NOT_NEW, "all factors 0"),
    "contrast mean taken before the brightness change": (
        "augmentation.py", "augmentation.color_jitter",
        [("    m = out.mean(axis=(1, 2, 3), keepdims=True)",
          "    m = images.mean(axis=(1, 2, 3), keepdims=True)")],
        augmentation.JITTER_MEAN_FIRST, "brightness factors"),
    "cutout centre column drawn among H": (
        "augmentation.py", "augmentation.cutout",
        [("left = xp.asarray(rng.integers(0, W, N)", "left = xp.asarray(rng.integers(0, H, N)")],
        augmentation.CUTOUT_SQUARE, "(1500, 2, 6, 5)"),
    "random_crop left offset drawn with H": (
        "augmentation.py", "augmentation.random_crop",
        [("lefts = rng.integers(0, W + 2 * padding", "lefts = rng.integers(0, H + 2 * padding")],
        augmentation.CROP_SQUARE, "left columns 4 and 5 never occurred"),
    "random_crop one window position for the whole batch": (
        "augmentation.py", "augmentation.random_crop",
        [("    lefts = rng.integers(0, W + 2 * padding - size + 1, N)\n",
          "    lefts = rng.integers(0, W + 2 * padding - size + 1, N)\n"
          "    tops, lefts = tops * 0 + tops[0], lefts * 0 + lefts[0]\n")],
        augmentation.CROP_SHARED, "at the same position"),
    "color_jitter saturation blended with the grey of the input": (
        "augmentation.py", "augmentation.color_jitter",
        [("    g = out.mean(axis=1, keepdims=True)", "    g = images.mean(axis=1, keepdims=True)")],
        augmentation.JITTER_GREY_FIRST, "with the grey of the input image they all fit"),
    # the grey of the brightened image (before the contrast change) was told only
    # that the contrast factors left their range
    "color_jitter saturation blended with the grey of the brightened image": (
        "augmentation.py", "augmentation.color_jitter",
        [("    g = out.mean(axis=1, keepdims=True)",
          "    g = (b * images).mean(axis=1, keepdims=True)")],
        augmentation.JITTER_GREY_BETWEEN, "with the grey of the brightened image"),
    "mixup lam folded to max(lam, 1 - lam)": (
        "augmentation.py", "augmentation.mixup",
        [("    lam = float(rng.beta(alpha, alpha))",
          "    lam = float(rng.beta(alpha, alpha))\n    lam = max(lam, 1 - lam)")],
        augmentation.MIXUP_FOLDED, "below 0.5 in 0 of"),
    # the mask drawn before the branch: every evaluation changes the training masks
    "dropout drawing its mask in test mode too": (
        "regularization.py", "regularization.dropout_forward",
        [("    if train:\n        keep = xp.asarray(rng.random(x.shape) >= p)",
          "    keep = xp.asarray(rng.random(x.shape) >= p)\n    if train:")],
        regularization.TEST_DRAWS, "test mode drew numbers from rng"),
    # the attribute named after the epochs it counts
    "best_step named best_epoch": (
        "regularization.py", "regularization.EarlyStopping",
        [("self.best, self.best_step, self.waited = value, self.steps, 0",
          "self.best, self.best_epoch, self.waited = value, self.steps, 0")],
        None, "the object has best_epoch = 8, the value best_step should hold"),
    # the loss compared within 1e-6 only: a float32 loss passed, then failed the
    # dropout gradient check with a hint about the mask
    "RegularizedNet's loss rounded to float32": (
        "regularization.py", NET,
        [("            loss += 0.5 * self.reg * float((W * W).sum())  # weights only\n",
          "            loss += 0.5 * self.reg * float((W * W).sum())  # weights only\n"
          "            loss = np.float32(loss)\n")],
        "keep every step of the loss in float64, the inputs' dtype: no .astype(np.float32), no "
        "np.float32(0.0) to add into, no float32 array to hold the terms",
        "tolerance 1e-10 for a float64 loss"),
    # params and running_stats were set once, before the first call; the Trainer
    # assigns both later (every step; the best epoch restored, a checkpoint loaded)
    "RegularizedNet keeping its own copy of the running statistics": (
        "regularization.py", NET,
        [('                state = {"running_mean": self.running_stats[f"running_mean{layer}"],\n'
          '                         "running_var": self.running_stats[f"running_var{layer}"]}\n',
          '                if not hasattr(self, "bn_params"):\n'
          '                    self.bn_params = dict(self.running_stats)\n'
          '                state = {"running_mean": self.bn_params[f"running_mean{layer}"],\n'
          '                         "running_var": self.bn_params[f"running_var{layer}"]}\n'),
         ('                    self.running_stats[f"running_var{layer}"] = state["running_var"]\n',
          '                    self.running_stats[f"running_var{layer}"] = state["running_var"]\n'
          '                    self.bn_params = dict(self.running_stats)\n')],
        regularization.NET_STALE_HINT, "then new params and running_stats"),
    "RegularizedNet's penalty on the weights of its first call": (
        "regularization.py", NET,
        [("        train = y is not None\n",
          "        train = y is not None\n"
          "        if not hasattr(self, \"_weights\"):\n"
          "            self._weights = {k: v for k, v in self.params.items() if k[0] == \"W\"}\n"),
         ("            loss += 0.5 * self.reg * float((W * W).sum())  # weights only\n",
          "            loss += 0.5 * self.reg * float((self._weights[f\"W{layer}\"] ** 2)"
          ".sum())\n")],
        regularization.NET_STALE_HINT, "then new params and running_stats"),
    # float64 images worked on in float32 and cast back (right to 7 digits) were told
    # the output is not a window / a jitter / a mix at all, with no hint
    "color_jitter on a float32 copy of float64 images": (
        "augmentation.py", "augmentation.color_jitter",
        [("    out = b * images\n", "    out = b * images.astype(np.float32)\n")],
        augmentation.ROUNDED, "relative misfit"),
    "random_horizontal_flip rounded to float32, cast back": (
        "augmentation.py", "augmentation.random_horizontal_flip",
        [("    out = xp.where(flip[:, None, None, None], images[:, :, :, ::-1], images)\n",
          "    out = xp.where(flip[:, None, None, None], images[:, :, :, ::-1], images)\n"
          "    out = out.astype(np.float32).astype(images.dtype)\n")],
        augmentation.ROUNDED, "neither the input image nor its left-right mirror"),
    "random_crop padding into a float32 array": (
        "augmentation.py", "augmentation.random_crop",
        [("    padded = xp.pad(images, ", "    padded = xp.pad(images.astype(np.float32), ")],
        augmentation.ROUNDED, "is not a 4x4 window of image 0"),
    "cutout on a float32 copy, cast back": (
        "augmentation.py", "augmentation.cutout",
        [("    out = xp.where(square[:, None], xp.zeros((), dtype=images.dtype), images)",
          "    out = xp.where(square[:, None], 0.0, images.astype(np.float32))"
          ".astype(images.dtype)")],
        augmentation.ROUNDED, "changed but not set to 0"),
    "mixup rounded to float32, cast back": (
        "augmentation.py", "augmentation.mixup",
        [("    mixed_targets = lam * targets + (1 - lam) * targets[perm]\n    # END",
          "    mixed_targets = lam * targets + (1 - lam) * targets[perm]\n"
          "    mixed_images = mixed_images.astype(np.float32).astype(images.dtype)\n    # END")],
        augmentation.ROUNDED, "is not lam * image"),
    # the dtype verdict named neither the function nor the case
    "color_jitter always returning float32": (
        "augmentation.py", "augmentation.color_jitter",
        [("    out = out.astype(images.dtype, copy=False)", "    out = out.astype(np.float32)")],
        None, "color_jitter(brightness=0.4 alone, images (600, 3, 3, 4)): the output has dtype "
              "float32"),
    # batch norm left in training mode for loss(X) had no hint
    "RegularizedNet's batch norm in training mode for loss(X) too": (
        "regularization.py", NET,
        [("                    train=train, momentum=BN_MOMENTUM, eps=NORM_EPS)\n"
          "                if train:\n",
          "                    train=True, momentum=BN_MOMENTUM, eps=NORM_EPS)\n"
          "                if True:\n")],
        "loss(X) is test mode: batch norm normalizes with the running statistics (train=False), "
        "not with the statistics of the batch, so that each example's scores do not depend on "
        "the rest of the batch", "loss(X), batchnorm"),
    # dropout left on in loss(X) (test mode) had no hint
    "RegularizedNet's dropout on in test mode too": (
        "regularization.py", NET,
        [("            if train and self.dropout > 0:\n"
          "                h, cache_drop = dropout_forward(",
          "            if self.dropout > 0:\n"
          "                h, cache_drop = dropout_forward(")],
        regularization.TEST_MODE_DROPOUT, "a second loss(X) gave other scores"),
    # running statistics kept in a module-level dict were told only "wrong"
    "batch norm keeping its running statistics in a global": (
        "normalization.py", "normalization.batchnorm_forward",
        [('    running_mean, running_var = state["running_mean"], state["running_var"]\n',
          '    if x.shape[1] not in _RUN:\n'
          '        _RUN[x.shape[1]] = (state["running_mean"], state["running_var"])\n'
          '    running_mean, running_var = _RUN[x.shape[1]]\n'),
         ("    out = gamma * xhat + beta\n    # END SOLUTION\n    return out, cache, new_state\n",
          "    out = gamma * xhat + beta\n"
          '    _RUN[x.shape[1]] = (new_state["running_mean"], new_state["running_var"])\n'
          "    # END SOLUTION\n    return out, cache, new_state\n\n\n_RUN = {}\n")],
        normalization.STATE_ELSEWHERE, "new_state['running_mean'] is wrong"),
    # a running variance averaging the standard deviation had no hint
    "batch norm averaging the std into the running variance": (
        "normalization.py", "normalization.batchnorm_forward",
        [('"running_var": momentum * running_var + (1 - momentum) * var}',
          '"running_var": momentum * running_var + (1 - momentum) * xp.sqrt(var)}')],
        "the running variance averages the batch variance var, not the standard deviation "
        "sqrt(var + eps): running_var = momentum * running_var + (1 - momentum) * var",
        "new_state['running_var'] is wrong"),
    # test mode updating the running statistics had no hint
    "batch norm updating its running statistics in test mode": (
        "normalization.py", "normalization.batchnorm_forward",
        [('new_state = {"running_mean": running_mean.copy(), "running_var": running_var.copy()}',
          'new_state = {"running_mean": momentum * running_mean + (1 - momentum) * x.mean(0),\n'
          '                     "running_var": momentum * running_var '
          '+ (1 - momentum) * x.var(0)}')],
        "test mode only reads the running statistics: return them unchanged (as copies); only "
        "training mode updates them with the batch's mean and variance",
        "(test mode, N=5, D=4): new_state['running_mean'] is wrong"),
    # a backward multiplying by a test-mode cache raised with the label of the
    # training case and no hint
    "dropout backward using the cache as a mask in test mode too": (
        "regularization.py", "regularization.dropout_backward",
        [("    dx = dout.copy() if scaled_mask is None else dout * scaled_mask\n",
          "    dx = dout * scaled_mask\n")],
        regularization.TEST_MODE_BACKWARD, "(x (300, 400), p=0.3, train=False): TypeError"),
    # sign(0) taken as -1 (np.where(w > 0, 1, -1)) had no hint; 0 taken as +1 had one
    "L1 gradient -reg at exact zeros": (
        "regularization.py", "regularization.l1_penalty",
        [("    grads = [reg * xp_of(w).sign(w) for w in weights]\n",
          "    grads = [reg * xp_of(w).where(w > 0, 1.0, -1.0) for w in weights]\n")],
        "at a weight that is exactly 0 the gradient is 0 (np.sign(0) is 0), not +reg or -reg",
        "got -0.4, expected 0"),
    # a luminance-weighted grey was told only that the image is not the three steps
    "color jitter with a BT.709 luminance for the grey": (
        "augmentation.py", "augmentation.color_jitter",
        [("    g = out.mean(axis=1, keepdims=True)\n",
          "    g = 0.2126 * out[:, :1] + 0.7152 * out[:, 1:2] + 0.0722 * out[:, 2:3]\n")],
        augmentation.JITTER_WEIGHTED_GREY, "(saturation=0.6 alone): image"),
    "mixup pairs with the reversed batch": (
        "augmentation.py", "augmentation.mixup",
        [("perm = xp.asarray(rng.permutation(images.shape[0]))",
          "perm = xp.arange(images.shape[0])[::-1]")],
        augmentation.MIXUP_FIXED, "[5, 4, 3, 2, 1, 0]"),
}


@pytest.mark.parametrize("what", list(WRONG))
def test_wrong_variant_loses_its_points_with_the_right_hint(tmp_path, what):
    module, key, pairs, hint, words = WRONG[what]
    sub = make_submission(tmp_path, replace={module: pairs})
    entry = engine.grade(sub, ["04"], keys=[key])["units"]["04_normalization"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] == hint, entry
    assert words in entry["message"], entry


def test_crop_hints_claim_a_mistake_only_when_both_axes_confirm_it():
    complete4, last4 = np.full(4, 9), np.array([9, 9, 9, 0])
    last5, last6 = np.array([9, 9, 9, 9, 0]), np.array([9, 9, 9, 9, 9, 0])
    # a missing last column alone is an off-by-one or the height used for the width
    assert augmentation.crop_hint(complete4, last5, 1) is None
    assert augmentation.crop_hint(last4, last5, 1) == augmentation.CROP_OFF_BY_ONE
    two_missing = np.array([9, 9, 9, 9, 0, 0])
    assert augmentation.crop_hint(complete4, two_missing, 1) == augmentation.CROP_SQUARE
    assert augmentation.crop_hint(complete4, last6, 1) is None


def test_cutout_count_hints_claim_a_mistake_only_when_both_axes_confirm_it():
    rows, cols = np.full(5, 9), np.array([9, 9, 9, 9, 9, 0])
    assert augmentation.cutout_count_hint(rows, cols, 3, 5, 6) is None  # W - H = 1: ambiguous
    rows_last = np.array([9, 9, 9, 9, 0])
    assert augmentation.cutout_count_hint(rows_last, cols, 3, 5, 6) == \
        augmentation.CUTOUT_OFF_BY_ONE
    wide = np.array([9, 9, 9, 9, 9, 0, 0])
    assert augmentation.cutout_count_hint(rows, wide, 3, 5, 7) == augmentation.CUTOUT_SQUARE


def test_a_loop_in_batchnorm_backward_alt_gets_advice_in_its_own_terms(tmp_path):
    """The loop verdict of batchnorm_backward_alt carried unit 01's hint about
    scores[np.arange(N), y]; batch norm has neither scores nor labels."""
    sub = make_submission(tmp_path, append={"normalization.py": '''

def batchnorm_backward_alt(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    dx = dx.copy()
    for j in range(dx.shape[1]):
        dx[:, j] = dx[:, j] * 1.0
    return dx, dgamma, dbeta
'''})
    key = "normalization.batchnorm_backward_alt"
    entry = engine.grade(sub, ["04"], keys=[key])["units"]["04_normalization"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "loops over features" in entry["message"], entry
    assert "axis=0" in entry["hint"] and "scores" not in entry["hint"], entry


def test_batchnorm_backward_alt_may_loop_over_the_few_entries_of_its_cache(tmp_path):
    """Any comprehension failed batchnorm_backward_alt as "a Python loop ... looping
    over examples or features", a generator over the cache's keys too; loops are now counted in
    lines run, as they grow with N or D."""
    sub = make_submission(tmp_path, append={"normalization.py": '''

def batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    new_state = {k: momentum * state[k] + (1 - momentum) * v
                 for k, v in (("running_mean", mu), ("running_var", var))}
    return gamma * xhat + beta, {"x": x, "mu": mu, "var": var, "eps": eps, "gamma": gamma}, \\
        new_state


def batchnorm_backward(dout, cache):
    return batchnorm_backward_alt(dout, cache)


def batchnorm_backward_alt(dout, cache):
    x, mu, var, eps, gamma = (cache[k] for k in ("x", "mu", "var", "eps", "gamma"))
    N = x.shape[0]
    xhat = (x - mu) / np.sqrt(var + eps)
    dbeta, dgamma = dout.sum(axis=0), (dout * xhat).sum(axis=0)
    dx = gamma / (N * np.sqrt(var + eps)) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
'''})
    keys = ["normalization.batchnorm_backward_alt"]  # the forward here is for training only
    report = engine.grade(sub, ["04"], keys=keys)["units"]["04_normalization"]["functions"]
    assert {k: (e["status"], e["message"]) for k, e in report.items()} == \
        dict.fromkeys(keys, ("passed", "all checks passed")), report
