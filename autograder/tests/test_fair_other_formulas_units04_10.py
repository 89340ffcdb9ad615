"""Fair as well as strict (units 04-10): implementations that are right by the
docstrings but written otherwise than the reference keep full marks.

Shapes of implementation not covered by the earlier fairness tests: batch norm's backward as
Kratzert's staged graph with a cache of raw inputs, layer norm as batch norm of the transpose,
group norm grouped group-major, instance norm as group norm; optimizer states under other names,
stacked in one array, updated in place on a copy, Adam's bias correction folded into the step
size (epsilon scaled by sqrt(1 - beta2**t) so that the step is exactly the docstring's), PyTorch's
clip_grad_norm form; transposed convolution by zero insertion and a flipped kernel, dilated
convolution by a kernel spread with zeros, bilinear upsampling by tent-kernel matrices, metrics
by one-hot matrix products and per-class masks; NMS as py-faster-rcnn's shrinking loop, batched
NMS by torchvision's coordinate offsets, boxes converted by matrices; LSTM gates by four matmul
pairs, the whole sequence's gradients summed once by einsum, inverse-CDF sampling; GAN losses in
the softplus and log-sigmoid forms, the VAE's KL from torch.distributions, a generator step with
D frozen; modules built from OrderedDicts, flat ModuleLists and functional layers.

The finding: np.fromfunction (one call on index grids), np.apply_over_axes with its axes
written out (one call per axis) and np.piecewise with its functions written out (one call per
piece, on whole sub-arrays) were refused as "calls a function once per element" wherever a
function must be vectorized (0 points for a right, vectorized answer), and so was a map over a
written-out pair in batchnorm_backward_alt, whose docstring forbids loops over the examples or
features only (its test allows "a fixed number of things"). ``rules.py`` now counts these calls
as loops only where the code does not fix the number of calls (``[f] * n``, ``map(f, x)``, axes
in a variable).
"""

import textwrap

import numpy as np
import pytest

from autograder import engine
from autograder.oracle import load_reference
from autograder.paths import REFERENCE_PACKAGE
from autograder.rules import Program, provided_fingerprints
from autograder.sandbox import Limits

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unusual-but-correct")

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)


def graded(report):
    return {k: (e["status"], e["score"], e["message"]) for u in report["units"].values()
            for k, e in u["functions"].items()}


def keys_of(*modules):
    """Every graded name of the given spec modules ("segmentation", "optim"...)."""
    import importlib

    return {key for m in modules
            for key in importlib.import_module(f"autograder.specs.{m}").SPEC.tests}


def assert_full_marks(report, keys):
    got = graded(report)
    assert set(got) == keys
    assert {k: v for k, v in got.items() if v[0] != "passed"} == {}


# ---------------------------------------------------------------- the variants

NORM = '''

def batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    _check_bn("batchnorm_forward", x, gamma, beta, state, train, momentum, eps, 2, "(N, D)")
    xp = xp_of(x, gamma, beta)
    if not train:
        out = gamma * (x - state["running_mean"]) / xp.sqrt(state["running_var"] + eps) + beta
        return out, None, state                 # the state itself (the docstring allows it)
    mu = xp.mean(x, axis=0)
    var = xp.var(x, axis=0)                     # NumPy's two-pass biased variance
    new_state = dict(state)                     # a new dict, new arrays assigned into it
    new_state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    new_state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
    out = gamma * ((x - mu) / xp.sqrt(var + eps)) + beta
    return out, (x, mu, var, gamma, eps), new_state   # raw inputs, recomputed in backward


def batchnorm_backward(dout, cache):
    # Kratzert's staged graph, one node at a time
    x, mu, var, gamma, eps = cache
    xp = xp_of(dout)
    N = x.shape[0]
    xmu = x - mu
    sq = xmu ** 2
    v = sq.sum(axis=0) / N
    sqrtvar = xp.sqrt(v + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / sqrtvar ** 2 * divar
    dv = 0.5 / xp.sqrt(v + eps) * dsqrtvar
    dsq = xp.ones_like(sq) / N * dv
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0)
    dx2 = xp.ones_like(x) / N * dmu
    return dx1 + dx2, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    x, mu, var, gamma, eps = cache
    N = x.shape[0]
    ivar = (var + eps) ** -0.5
    xmu = x - mu
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xmu).sum(axis=0) * ivar
    dx = gamma * ivar / N * (N * dout - dbeta - xmu * ivar ** 2 * (dout * xmu).sum(axis=0))
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    _check_bn("spatial_batchnorm_forward", x, gamma, beta, state, train, momentum, eps, 4,
              "(N, C, H, W)")
    xp = xp_of(x, gamma, beta)
    g, b = gamma[:, None, None], beta[:, None, None]      # broadcast over (C, H, W)
    if not train:
        m = state["running_mean"][:, None, None]
        v = state["running_var"][:, None, None]
        return g * (x - m) / xp.sqrt(v + eps) + b, None, state
    mu = x.mean(axis=(0, 2, 3), keepdims=True)            # no transpose, no flattening
    var = ((x - mu) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    xhat = (x - mu) / xp.sqrt(var + eps)
    new_state = {"running_var": momentum * state["running_var"] + (1 - momentum) * var.ravel(),
                 "running_mean": momentum * state["running_mean"] + (1 - momentum) * mu.ravel()}
    return g * xhat + b, {"xhat": xhat, "ivar": 1 / xp.sqrt(var + eps), "g": g}, new_state


def spatial_batchnorm_backward(dout, cache):
    xhat, ivar, g = cache["xhat"], cache["ivar"], cache["g"]
    M = dout.shape[0] * dout.shape[2] * dout.shape[3]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    dx = g * ivar / M * (M * dout - dbeta[:, None, None] - xhat * dgamma[:, None, None])
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    # layer norm is batch norm of the transpose, with gamma 1 and beta 0, then scaled
    _check_affine_params("layernorm_forward", x, gamma, beta, 2, "(N, D)")
    _check_eps("layernorm_forward", eps)
    xp = xp_of(x, gamma, beta)
    N = x.shape[0]
    st = {"running_mean": xp.zeros(N, dtype=x.dtype), "running_var": xp.ones(N, dtype=x.dtype)}
    xhat_t, bn_cache, _ = batchnorm_forward(x.T, xp.ones(N, dtype=x.dtype),
                                            xp.zeros(N, dtype=x.dtype), st, train=True, eps=eps)
    xhat = xhat_t.T
    return gamma * xhat + beta, (bn_cache, xhat, gamma)


def layernorm_backward(dout, cache):
    bn_cache, xhat, gamma = cache
    dx_t, _, _ = batchnorm_backward_alt((dout * gamma).T, bn_cache)
    return dx_t.T, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def groupnorm_forward(x, gamma, beta, *, groups, eps=1e-5):
    _check_affine_params("groupnorm_forward", x, gamma, beta, 4, "(N, C, H, W)")
    _check_eps("groupnorm_forward", eps)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError("groupnorm_forward: groups must be a positive integer")
    if x.shape[1] % groups:
        raise ValueError("groupnorm_forward: groups does not divide C")
    xp = xp_of(x, gamma, beta)
    N, C, H, W = x.shape
    # (N, G, C/G, H, W): statistics over the last three axes; then the groups become the
    # rows of a (G*N)-row matrix, group-major (another order than the reference's)
    g5 = x.reshape(N, groups, C // groups, H, W).transpose(1, 0, 2, 3, 4)
    rows = g5.reshape(groups * N, -1)
    mu = rows.mean(axis=1)[:, None]
    var = rows.var(axis=1)[:, None]
    ivar = 1 / xp.sqrt(var + eps)
    xhat = ((rows - mu) * ivar).reshape(groups, N, C // groups, H, W).transpose(1, 0, 2, 3, 4)
    xhat = xhat.reshape(N, C, H, W)
    out = xp.einsum("nchw,c->nchw", xhat, gamma) + beta[:, None, None]
    return out, (xhat, ivar, gamma, groups)


def groupnorm_backward(dout, cache):
    xhat, ivar, gamma, groups = cache
    xp = xp_of(dout)
    N, C, H, W = dout.shape
    dgamma = xp.einsum("nchw,nchw->c", dout, xhat)
    dbeta = xp.einsum("nchw->c", dout)
    def rows(a):
        return a.reshape(N, groups, C // groups, H, W).transpose(1, 0, 2, 3, 4).reshape(
            groups * N, -1)
    dxh = rows(dout * gamma[:, None, None])
    xh = rows(xhat)
    M = xh.shape[1]
    drows = ivar / M * (M * dxh - dxh.sum(axis=1, keepdims=True)
                        - xh * (dxh * xh).sum(axis=1, keepdims=True))
    dx = drows.reshape(groups, N, C // groups, H, W).transpose(1, 0, 2, 3, 4).reshape(N, C, H, W)
    return dx, dgamma, dbeta


def instancenorm_forward(x, gamma, beta, *, eps=1e-5):
    # instance norm is group norm with one channel per group
    return groupnorm_forward(x, gamma, beta, groups=x.shape[1] if x.ndim == 4 else 1, eps=eps)


def instancenorm_backward(dout, cache):
    return groupnorm_backward(dout, cache)
'''

REG = '''

def dropout_forward(x, *, p, train=True, rng):
    check_array("dropout_forward", "x", x)
    _check_probability("dropout_forward", p)
    _check_rng("dropout_forward", rng)
    if not isinstance(train, bool):
        raise TypeError("dropout_forward: train must be True or False")
    if not train:
        return x, None                                  # the identity: x itself
    keep = rng.binomial(1, 1.0 - p, size=x.shape).astype(bool)   # Bernoulli(1 - p) draws
    return np.where(keep, x / (1.0 - p), 0.0).astype(x.dtype), (keep, p)


def dropout_backward(dout, cache):
    if cache is None:
        return dout
    keep, p = cache
    return np.where(keep, dout / (1.0 - p), 0.0).astype(dout.dtype)


def l2_penalty(weights, reg):
    _check_weights_reg("l2_penalty", weights, reg)
    total = 0.0
    for w in weights:
        total += np.linalg.norm(w.ravel()) ** 2            # ||w||^2 through the norm
    return reg / 2 * total, [w * reg for w in weights]


def l1_penalty(weights, reg):
    _check_weights_reg("l1_penalty", weights, reg)
    flat = np.concatenate([np.ravel(w) for w in weights]) if weights else np.zeros(0)
    grads = [reg * ((w > 0).astype(w.dtype) - (w < 0).astype(w.dtype)) for w in weights]
    return reg * float(np.linalg.norm(flat, 1)), grads


class EarlyStopping:
    # a history of the values; the wait counted from best_step
    def __init__(self, *, patience, min_delta=0.0, mode="max"):
        check_positive_int("EarlyStopping", "patience", patience)
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or \\
                not min_delta >= 0:
            raise ValueError("EarlyStopping: min_delta must be a number >= 0")
        if mode not in ("max", "min"):
            raise ValueError("EarlyStopping: mode must be 'max' or 'min'")
        self.patience, self.min_delta, self.mode = int(patience), float(min_delta), mode
        self.best = self.best_step = None
        self.should_stop = False
        self.history = []

    def step(self, value):
        value = check_scalar("EarlyStopping.step", "value", value)
        self.history.append(value)
        sign = 1 if self.mode == "max" else -1
        if self.best is None or sign * (value - self.best) > self.min_delta:
            self.best, self.best_step = value, len(self.history) - 1
        if len(self.history) - 1 - self.best_step >= self.patience:
            self.should_stop = True
        return self.should_stop
'''

REG_NET = [
    # the L2 term through l2_penalty, the weights' gradients added in one pass
    ("        for layer in range(1, num_layers + 1):\n"
     "            W = self.params[f\"W{layer}\"]\n"
     "            loss += 0.5 * self.reg * float((W * W).sum())  # weights only\n"
     "            grads[f\"W{layer}\"] = grads[f\"W{layer}\"] + self.reg * W\n",
     "        names = [f\"W{layer}\" for layer in range(1, num_layers + 1)]\n"
     "        penalty, dpen = l2_penalty([self.params[k] for k in names], self.reg)\n"
     "        loss = loss + penalty\n"
     "        for k, d in zip(names, dpen):\n"
     "            grads[k] = grads[k] + d\n"),
    # the parameters created in another order: every weight first, then the biases
    ("        for layer in range(1, self.num_layers + 1):\n"
     "            fan_in = dims[layer - 1]\n"
     "            scale = np.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale\n"
     "            self.params[f\"W{layer}\"] = (scale * rng.standard_normal((fan_in, "
     "dims[layer]))\n"
     "                                        ).astype(self.dtype)\n"
     "            self.params[f\"b{layer}\"] = np.zeros(dims[layer], dtype=self.dtype)\n",
     "        for layer in range(self.num_layers, 0, -1):\n"
     "            self.params[f\"b{layer}\"] = np.zeros(dims[layer], dtype=self.dtype)\n"
     "        for layer in range(1, self.num_layers + 1):\n"
     "            fan_in = dims[layer - 1]\n"
     "            scale = (2.0 / fan_in) ** 0.5 if weight_scale is None else weight_scale\n"
     "            self.params[f\"W{layer}\"] = (scale * rng.standard_normal((fan_in, "
     "dims[layer]))\n"
     "                                        ).astype(self.dtype)\n"),
]

AUG = '''

def random_horizontal_flip(images, *, p=0.5, rng):
    _check_images("random_horizontal_flip", images)
    _check_unit_interval("random_horizontal_flip", "p", p)
    _check_rng("random_horizontal_flip", rng)
    out = images.copy()
    flip = rng.binomial(1, p, size=images.shape[0]).astype(bool)
    out[flip] = np.flip(images[flip], axis=3)
    return out


def random_crop(images, *, size, padding=0, rng):
    _check_images("random_crop", images)
    _check_int("random_crop", "size", size, 1)
    _check_int("random_crop", "padding", padding, 0)
    _check_rng("random_crop", rng)
    N, C, H, W = images.shape
    if size > min(H, W) + 2 * padding:
        raise ValueError("random_crop: the window does not fit")
    from numpy.lib.stride_tricks import sliding_window_view
    padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=images.dtype)
    padded[:, :, padding:padding + H, padding:padding + W] = images
    corners = rng.integers(0, [H + 2 * padding - size + 1, W + 2 * padding - size + 1],
                           size=(N, 2))                 # (i, j) drawn together per image
    windows = sliding_window_view(padded, (size, size), axis=(2, 3))  # (N, C, I, J, s, s)
    return windows[np.arange(N), :, corners[:, 0], corners[:, 1]].copy()


def color_jitter(images, *, brightness=0.0, contrast=0.0, saturation=0.0, rng):
    _check_images("color_jitter", images)
    for what, value in (("brightness", brightness), ("contrast", contrast),
                        ("saturation", saturation)):
        _check_unit_interval("color_jitter", what, value)
    _check_rng("color_jitter", rng)
    N = images.shape[0]
    u = rng.random((N, 3)) * 2 - 1                     # one draw of the three, then scaled
    f = 1 + u * np.array([brightness, contrast, saturation])
    b, c, s = (f[:, k, None, None, None] for k in range(3))
    x = images * b
    x = c * x + (1 - c) * x.mean(axis=(1, 2, 3), keepdims=True)
    x = s * x + (1 - s) * x.mean(axis=1, keepdims=True)
    return x.astype(images.dtype)


def cutout(images, *, size, rng):
    _check_images("cutout", images)
    _check_int("cutout", "size", size, 1)
    _check_rng("cutout", rng)
    N, C, H, W = images.shape
    out = images.copy()
    for n in range(N):                                  # one slice per image, clipped by hand
        cy, cx = int(rng.integers(H)), int(rng.integers(W))
        top, left = cy - size // 2, cx - size // 2
        out[n, :, max(top, 0):max(top + size, 0), max(left, 0):max(left + size, 0)] = 0
    return out


def mixup(images, targets, *, alpha, rng):
    _check_images("mixup", images)
    if getattr(targets, "ndim", None) != 2 or targets.shape[0] != images.shape[0]:
        raise ValueError("mixup: targets must be (N, K)")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError("mixup: alpha must be a positive number")
    _check_rng("mixup", rng)
    g1, g2 = rng.gamma(alpha, size=2)                  # Beta(a, a) as a ratio of two Gammas
    lam = float(g1 / (g1 + g2))
    perm = np.argsort(rng.random(images.shape[0]))     # a uniform random permutation
    other, other_t = images[perm], targets[perm]
    return other + lam * (images - other), other_t + lam * (targets - other_t)
'''

OPTIM = '''

def sgd(w, dw, config=None):
    _check_arrays("sgd", w, dw)
    config = _settings("sgd", config, SGD_DEFAULTS)
    next_w = w.copy()                                  # a copy, then updated in place
    next_w -= config["learning_rate"] * (dw + config["weight_decay"] * w)
    return next_w, config


def sgd_momentum(w, dw, config=None):
    _check_arrays("sgd_momentum", w, dw)
    config = _settings("sgd_momentum", config, MOMENTUM_DEFAULTS)
    xp = xp_of(w, dw)
    old = config.get("buf", xp.zeros_like(w))        # an explicit zero velocity, key "buf"
    v = old * config["momentum"]                       # a new array ...
    v += dw                                            # ... added to in place
    v += config["weight_decay"] * w
    config["buf"] = v
    return w - config["learning_rate"] * v, config


def nesterov(w, dw, config=None):
    # the step written as (1 + momentum) * g + momentum**2 * v_old (expanded)
    _check_arrays("nesterov", w, dw)
    config = _settings("nesterov", config, MOMENTUM_DEFAULTS)
    xp = xp_of(w, dw)
    mu = config["momentum"]
    g = dw + config["weight_decay"] * w
    old = config["state"][0] if "state" in config else xp.zeros_like(w)
    step = (1 + mu) * g + mu * mu * old
    config["state"] = xp.stack([mu * old + g])         # the velocity in a (1, *shape) array
    return w - config["learning_rate"] * step, config


def adagrad(w, dw, config=None):
    _check_arrays("adagrad", w, dw)
    config = _settings("adagrad", config, ADAGRAD_DEFAULTS)
    xp = xp_of(w, dw)
    g = dw + config["weight_decay"] * w
    r = xp.add(config.get("G", 0.0), xp.square(g))     # out of place, 0.0 before the first step
    config["G"] = r
    return w - config["learning_rate"] * g / (xp.sqrt(r) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    _check_arrays("rmsprop", w, dw)
    config = _settings("rmsprop", config, RMSPROP_DEFAULTS)
    xp = xp_of(w, dw)
    g = dw + config["weight_decay"] * w
    r = config["cache"].copy() if "cache" in config else xp.zeros_like(w)
    r += (1 - config["decay_rate"]) * (g * g - r)      # the "moving toward" form, in place
    config["cache"] = r
    return w - config["learning_rate"] * g / (xp.sqrt(r) + config["epsilon"]), config


def adadelta(w, dw, config=None):
    _check_arrays("adadelta", w, dw)
    config = _settings("adadelta", config, ADADELTA_DEFAULTS)
    xp = xp_of(w, dw)
    rho, eps = config["decay_rate"], config["epsilon"]
    g = dw + config["weight_decay"] * w
    acc = config["acc"] if "acc" in config else xp.zeros((2,) + w.shape, dtype=w.dtype)
    v = rho * acc[0] + (1 - rho) * g ** 2              # both averages in one (2, *shape) array
    delta = g * xp.sqrt((acc[1] + eps) / (v + eps))    # one square root of the ratio
    u = rho * acc[1] + (1 - rho) * delta ** 2
    config["acc"] = xp.stack([v, u])
    return w - config["learning_rate"] * delta, config


def adam(w, dw, config=None):
    # Kingma and Ba's efficient form: the corrections folded into the step size, epsilon scaled
    # by sqrt(1 - beta2**t) so that the step is exactly the docstring's
    _check_arrays("adam", w, dw)
    config = _settings("adam", config, ADAM_DEFAULTS)
    xp = xp_of(w, dw)
    lr, b1, b2, eps = (config[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))
    wd = config["weight_decay"]
    g = dw if config["decoupled"] else dw + wd * w
    t = config.get("step", 0.0) + 1.0                  # a float counter
    mv = config["mv"] if "mv" in config else xp.zeros((2,) + w.shape, dtype=w.dtype)
    m = b1 * mv[0] + (1 - b1) * g
    v = b2 * mv[1] + (1 - b2) * g * g
    c2 = math.sqrt(1 - b2 ** t)
    lr_t = lr * c2 / (1 - b1 ** t)
    base = w - lr * wd * w if config["decoupled"] else w
    config["mv"] = xp.stack([m, v])
    config["step"] = t
    return base - lr_t * m / (xp.sqrt(v) + eps * c2), config


def clip_grad_norm(grads, max_norm):
    # PyTorch's form: max_norm / (total_norm + 1e-6), the norm by np.linalg.norm of one vector
    if not isinstance(grads, dict):
        raise TypeError("clip_grad_norm: grads must be a dict of arrays")
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm > 0:
        raise ValueError("clip_grad_norm: max_norm must be a number > 0")
    import numpy as np
    flat = np.concatenate([np.ravel(g) for g in grads.values()]) if grads else np.zeros(0)
    total_norm = float(np.linalg.norm(flat))
    coef = min(max_norm / (total_norm + 1e-6), 1.0)
    return {k: g * coef for k, g in grads.items()}, total_norm


def step_decay(step, *, lr0, step_size, gamma=0.1):
    _check_step("step_decay", step)
    _check_positive("step_decay", "lr0", lr0)
    _check_positive("step_decay", "step_size", step_size, integer=True)
    _check_positive("step_decay", "gamma", gamma)
    lr = lr0
    for _ in range(step // step_size):                 # StepLR's repeated multiplication
        lr *= gamma
    return lr


def exponential_decay(step, *, lr0, gamma):
    _check_step("exponential_decay", step)
    _check_positive("exponential_decay", "lr0", lr0)
    _check_positive("exponential_decay", "gamma", gamma)
    return lr0 * math.exp(step * math.log(gamma))


def cosine_annealing(step, *, lr0, total_steps, lr_min=0.0, warmup_steps=0):
    _check_step("cosine_annealing", step)
    _check_positive("cosine_annealing", "lr0", lr0)
    _check_positive("cosine_annealing", "total_steps", total_steps, integer=True)
    _check_positive("cosine_annealing", "lr_min", lr_min, allow_zero=True)
    _check_positive("cosine_annealing", "warmup_steps", warmup_steps, integer=True,
                    allow_zero=True)
    if lr_min > lr0 or warmup_steps >= total_steps:
        raise ValueError("cosine_annealing: bad arguments")
    if step < warmup_steps:
        return step / warmup_steps * lr0
    s = min(step - warmup_steps, total_steps - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * s / 2) ** 2   # (1 + cos x) / 2


class ReduceOnPlateau:
    # the rate recomputed from the number of reductions; the bad steps from the last
    # improvement's call number
    def __init__(self, *, lr0, factor=0.1, patience=10, mode="min"):
        _check_positive("ReduceOnPlateau", "lr0", lr0)
        _check_positive("ReduceOnPlateau", "factor", factor)
        if factor >= 1:
            raise ValueError("ReduceOnPlateau: factor must be below 1")
        _check_positive("ReduceOnPlateau", "patience", patience, integer=True, allow_zero=True)
        if mode not in ("min", "max"):
            raise ValueError("ReduceOnPlateau: mode must be 'min' or 'max'")
        self.factor, self.patience, self.mode = float(factor), int(patience), mode
        self._lr0, self._cuts, self._calls, self._since = float(lr0), 0, 0, 0
        self._sign = 1.0 if mode == "min" else -1.0
        self.best = self._sign * math.inf

    @property
    def lr(self):
        return self._lr0 * self.factor ** self._cuts

    @property
    def num_bad_steps(self):
        return self._calls - self._since

    def step(self, metric):
        metric = check_scalar("ReduceOnPlateau.step", "metric", metric)
        if math.isnan(metric):
            raise ValueError("ReduceOnPlateau.step: metric is nan")
        self._calls += 1
        if self._sign * metric < self._sign * self.best:
            self.best = float(metric)
            self._since = self._calls
        elif self.num_bad_steps > self.patience:
            self._cuts += 1
            self._since = self._calls
        return self.lr
'''

SEG = '''

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view as _windows


def conv_transpose_forward(x, w, b, *, stride=1, pad=0, output_padding=0):
    # zero insertion between the input pixels, a full padding of kernel - 1, and an ordinary
    # convolution with the flipped kernel; then the crop
    name = "conv_transpose_forward"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    _check_ndim(name, "w", w, 4, "(C, F, HH, WW)")
    _check_ndim(name, "b", b, 1, "(F,)")
    if x.shape[1] != w.shape[0] or b.shape[0] != w.shape[1]:
        raise ValueError(f"{name}: shapes disagree")
    H_out, W_out = [conv_transpose_output_size(n, k, stride=stride, pad=pad,
                                               output_padding=output_padding)
                    for n, k in zip(x.shape[2:], w.shape[2:])]
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    FH = max((H - 1) * stride + HH, pad + H_out)     # the full result, output_padding included
    FW = max((W - 1) * stride + WW, pad + W_out)
    xd = np.zeros((N, C, FH + HH - 1, FW + WW - 1), dtype=np.result_type(x, w))
    xd[:, :, HH - 1:HH - 1 + (H - 1) * stride + 1:stride,
       WW - 1:WW - 1 + (W - 1) * stride + 1:stride] = x
    wf = w[:, :, ::-1, ::-1]
    full = np.zeros((N, F, FH, FW), dtype=xd.dtype)
    for k in range(HH):
        for m in range(WW):
            full += np.einsum("nchw,cf->nfhw", xd[:, :, k:k + FH, m:m + FW], wf[:, :, k, m])
    out = full[:, :, pad:pad + H_out, pad:pad + W_out] + b[None, :, None, None]
    return out, (xd, wf, stride, pad, (H, W), (FH, FW))


def conv_transpose_backward(dout, cache):
    xd, wf, stride, pad, (H, W), (FH, FW) = cache
    C, F, HH, WW = wf.shape
    N = xd.shape[0]
    H_out, W_out = dout.shape[2:]
    dfull = np.zeros((N, F, FH, FW), dtype=dout.dtype)
    dfull[:, :, pad:pad + H_out, pad:pad + W_out] = dout
    dxd = np.zeros(xd.shape, dtype=np.result_type(dout, wf))
    dwf = np.zeros(wf.shape, dtype=np.result_type(dout, xd))
    for k in range(HH):
        for m in range(WW):
            dxd[:, :, k:k + FH, m:m + FW] += np.einsum("nfhw,cf->nchw", dfull, wf[:, :, k, m])
            dwf[:, :, k, m] = np.einsum("nchw,nfhw->cf", xd[:, :, k:k + FH, m:m + FW], dfull)
    dx = dxd[:, :, HH - 1:HH - 1 + (H - 1) * stride + 1:stride,
             WW - 1:WW - 1 + (W - 1) * stride + 1:stride]
    return dx, dwf[:, :, ::-1, ::-1], dout.sum(axis=(0, 2, 3))


def max_pool_with_indices(x, *, pool_size=2, stride=2):
    name = "max_pool_with_indices"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    pool_size = _as_int(name, "pool_size", pool_size, 1)
    stride = _as_int(name, "stride", stride, 1)
    _check_window(name, "pooling window", x.shape[2:], (pool_size, pool_size), stride, 0)
    W = x.shape[3]
    win = _windows(x, (pool_size, pool_size), axis=(2, 3))[:, :, ::stride, ::stride]
    flat = win.reshape(*win.shape[:4], -1)
    arg = flat.argmax(axis=-1)
    Ho, Wo = arg.shape[2:]
    i = np.arange(Ho)[:, None] * stride + arg // pool_size
    j = np.arange(Wo)[None, :] * stride + arg % pool_size
    return flat.max(axis=-1), (i * W + j).astype(np.int64)


def max_unpool_forward(x, indices, *, output_size):
    H, W = _as_pair("max_unpool_forward", "output_size", output_size, 1)
    N, C = x.shape[:2]
    plane = (np.arange(N * C) * (H * W)).reshape(N, C, 1, 1)
    out = np.zeros(N * C * H * W, dtype=x.dtype)
    np.add.at(out, (indices + plane).ravel(), x.ravel())     # one flat index over every plane
    return out.reshape(N, C, H, W), (indices + plane, x.shape)


def max_unpool_backward(dout, cache):
    where, shape = cache
    return dout.reshape(-1)[where]                           # shape (N, C, H', W') already


def dilated_conv_forward(x, w, b, *, dilation=1, stride=1, pad=0):
    # the kernel spread out with zeros between its taps, then a plain strided convolution
    F, C, HH, WW = w.shape
    d = dilation
    wd = np.zeros((F, C, d * (HH - 1) + 1, d * (WW - 1) + 1), dtype=w.dtype)
    wd[:, :, ::d, ::d] = w
    xp_ = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    KH, KW = wd.shape[2:]
    Ho = (xp_.shape[2] - KH) // stride + 1
    Wo = (xp_.shape[3] - KW) // stride + 1
    out = np.zeros((x.shape[0], F, Ho, Wo), dtype=np.result_type(x, w, b))
    for k in range(KH):
        for m in range(KW):
            patch = xp_[:, :, k:k + stride * Ho:stride, m:m + stride * Wo:stride]
            out += np.einsum("nchw,fc->nfhw", patch, wd[:, :, k, m])
    return out + b[None, :, None, None], (xp_, wd, d, stride, pad, x.shape)


def dilated_conv_backward(dout, cache):
    xp_, wd, d, stride, pad, shape = cache
    KH, KW = wd.shape[2:]
    Ho, Wo = dout.shape[2:]
    dxp = np.zeros(xp_.shape, dtype=np.result_type(dout, wd))
    dwd = np.zeros(wd.shape, dtype=np.result_type(dout, xp_))
    for k in range(KH):
        for m in range(KW):
            patch = xp_[:, :, k:k + stride * Ho:stride, m:m + stride * Wo:stride]
            dwd[:, :, k, m] = np.einsum("nchw,nfhw->fc", patch, dout)
            dxp[:, :, k:k + stride * Ho:stride, m:m + stride * Wo:stride] += np.einsum(
                "nfhw,fc->nchw", dout, wd[:, :, k, m])
    H, W = shape[2:]
    return (dxp[:, :, pad:pad + H, pad:pad + W], dwd[:, :, ::d, ::d],
            dout.sum(axis=(0, 2, 3)))


def upsample_nearest(x, *, scale):
    N, C, H, W = x.shape
    rows = np.arange(H * scale) // scale                     # index arrays, no repeat
    cols = np.arange(W * scale) // scale
    return x[:, :, rows[:, None], cols[None, :]], (scale, x.shape)


def upsample_nearest_backward(dout, cache):
    scale, (N, C, H, W) = cache
    s = dout.reshape(N, C, H, scale, W * scale).sum(axis=3)
    return s.reshape(N, C, H, W, scale).sum(axis=4)


def upsample_bilinear(x, *, size):
    # the triangle ("tent") kernel: weight max(0, 1 - |s - i|) on every input row i, with s
    # clipped to [0, H - 1]; the two resampling matrices applied by one einsum
    H_out, W_out = _as_pair("upsample_bilinear", "size", size, 1)
    H, W = x.shape[2:]

    def matrix(n_in, n_out):
        s = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        return np.maximum(0.0, 1.0 - np.abs(s[:, None] - np.arange(n_in)[None, :])).astype(
            x.dtype)

    return np.einsum("ih,nchw,jw->ncij", matrix(H, H_out), x, matrix(W, W_out))


def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
    # one-hot rows of the truth times one-hot rows of the prediction: a matrix product
    num_classes = _as_int("confusion_matrix", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("confusion_matrix", pred, target, num_classes, ignore_index)
    t, p = target.ravel(), pred.ravel()
    if ignore_index is not None:
        keep = t != ignore_index
        t, p = t[keep], p[keep]
    eye = np.eye(num_classes, dtype=np.int64)
    return eye[t.astype(np.int64)].T @ eye[p.astype(np.int64)]


def pixel_accuracy(pred, target, *, ignore_index=None):
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    if not keep.any():
        return float("nan")
    return float(np.mean(pred[keep] == target[keep]))


def iou_per_class(pred, target, *, num_classes, ignore_index=None):
    # by masks, one class at a time (a loop over the classes)
    num_classes = _as_int("iou_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("iou_per_class", pred, target, num_classes, ignore_index)
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    out = np.empty(num_classes)
    for c in range(num_classes):
        p, t = (pred == c) & keep, (target == c) & keep
        union = np.count_nonzero(p | t)
        out[c] = np.count_nonzero(p & t) / union if union else np.nan
    return out


def mean_iou(pred, target, *, num_classes, ignore_index=None):
    iou = iou_per_class(pred, target, num_classes=num_classes, ignore_index=ignore_index)
    defined = iou[iou == iou]
    return float(defined.sum() / defined.size) if defined.size else float("nan")


def dice_per_class(pred, target, *, num_classes, ignore_index=None):
    iou = iou_per_class(pred, target, num_classes=num_classes, ignore_index=ignore_index)
    return 2 * iou / (1 + iou)                               # the docstring's identity


def precision_recall_per_class(pred, target, *, num_classes, ignore_index=None):
    num_classes = _as_int("precision_recall_per_class", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("precision_recall_per_class", pred, target, num_classes,
                                    ignore_index)
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    classes = np.arange(num_classes).reshape((-1,) + (1,) * pred.ndim)
    P = (pred[None] == classes) & keep                     # (K, ...) masks, broadcast
    T = (target[None] == classes) & keep
    axes = tuple(range(1, P.ndim))
    tp = (P & T).sum(axis=axes)
    npred, nact = P.sum(axis=axes), T.sum(axis=axes)
    precision = np.where(npred > 0, tp / np.maximum(npred, 1), np.nan)
    recall = np.where(nact > 0, tp / np.maximum(nact, 1), np.nan)
    return precision, recall


def pixel_cross_entropy(logits, target, *, class_weights=None, ignore_index=None):
    # classes last, one row per pixel, log-sum-exp by logaddexp.reduce
    ignore_index = _check_logits("pixel_cross_entropy", logits, target, ignore_index)
    class_weights = _check_class_vector("pixel_cross_entropy", "class_weights", class_weights,
                                        logits.shape[1])
    N, K, H, W = logits.shape
    z = logits.transpose(0, 2, 3, 1).reshape(-1, K)
    y = target.reshape(-1)
    keep = np.ones(y.shape, bool) if ignore_index is None else y != ignore_index
    y = np.where(keep, y, 0)
    wts = (np.ones(K) if class_weights is None else class_weights)[y] * keep
    total = wts.sum()
    if total == 0:
        return 0.0, np.zeros_like(logits)
    lse = np.logaddexp.reduce(z, axis=1)
    rows = np.arange(len(y))
    loss = np.dot(wts, lse - z[rows, y]) / total
    d = np.exp(z - lse[:, None])
    d[rows, y] -= 1
    d *= (wts / total)[:, None]
    return float(loss), d.reshape(N, H, W, K).transpose(0, 3, 1, 2)


def focal_loss(logits, target, *, gamma=2.0, alpha=None):
    # the gradient as dL/dp_y through the softmax's column y, with 1 / p_y cancelled by hand
    alpha = _check_class_vector("focal_loss", "alpha", alpha, logits.shape[1])
    N, K, H, W = logits.shape
    M = N * H * W
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    onehot = np.moveaxis(np.eye(K, dtype=bool)[target], -1, 1)
    logpy = np.where(onehot, logp, 0.0).sum(axis=1)          # the true class's entry
    py = np.exp(logpy)
    a = np.ones((N, H, W)) if alpha is None else alpha[target]
    q = -np.expm1(logpy)                                     # 1 - p_y, computed from log p_y
    loss = -(a * q ** gamma * logpy).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.where(q > 0, gamma * q ** (gamma - 1) * py * logpy, 0.0) if gamma else 0.0
    g = a * (q ** gamma - extra)
    return float(loss), (p - onehot) * g[:, None] / M


def soft_dice_loss(logits, target, *, smooth=1.0):
    # everything per class with classes first: (K, N*H*W)
    N, K, H, W = logits.shape
    z = np.moveaxis(logits, 1, 0).reshape(K, -1)
    z = z - z.max(axis=0)
    p = np.exp(z) / np.exp(z).sum(axis=0)
    t = (np.arange(K)[:, None] == target.reshape(1, -1)).astype(float)
    num = 2 * np.einsum("kp,kp->k", p, t) + smooth
    den = p.sum(axis=1) + t.sum(axis=1) + smooth
    loss = 1 - np.mean(num / den)
    dp = -(2 * t / den[:, None] - (num / den ** 2)[:, None]) / K
    dz = p * dp - p * np.einsum("kp,kp->p", p, dp)[None]
    return float(loss), np.moveaxis(dz.reshape(K, N, H, W), 0, 1)
'''

DET = '''

import numpy as np


def box_convert(boxes, *, src, dst):
    # through cxcywh... no: through xyxy with a matrix per format (linear maps)
    if src not in FORMATS or dst not in FORMATS:
        raise ValueError("box_convert: unknown format")
    if src == dst:
        return boxes.copy()
    to_xyxy = {"xyxy": np.eye(4),
               "xywh": np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1.0]]),
               "cxcywh": np.array([[1, 0, 1, 0], [0, 1, 0, 1], [-.5, 0, .5, 0], [0, -.5, 0, .5]])}
    xyxy = boxes @ to_xyxy[src]                           # rows are boxes: box @ M
    return xyxy @ np.linalg.inv(to_xyxy[dst])


def box_area(boxes):
    _check_xyxy("box_area", boxes)
    wh = np.diff(boxes.reshape(-1, 2, 2), axis=1)[:, 0]  # (x2 - x1, y2 - y1)
    return wh.prod(axis=1)


def box_iou(boxes1, boxes2):
    _check_xyxy("box_iou", boxes1, "boxes1")
    _check_xyxy("box_iou", boxes2, "boxes2")
    lt = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes, scores, *, iou_threshold=0.5):
    # the py-faster-rcnn loop: take the best, drop what overlaps it, repeat on the rest
    _check_xyxy("nms", boxes)
    _check_scores("nms", scores, boxes.shape[0])
    _check_threshold("nms", iou_threshold)
    order = np.lexsort((np.arange(len(scores)), -scores))
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        order = rest[box_iou(boxes[i:i + 1], boxes[rest])[0] <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, *, iou_threshold=0.5):
    # one NMS per label, merged by a stable sort on the scores
    _check_xyxy("batched_nms", boxes)
    _check_scores("batched_nms", scores, boxes.shape[0])
    _check_labels("batched_nms", labels, boxes.shape[0])
    _check_threshold("batched_nms", iou_threshold)
    keep = np.zeros(len(scores), dtype=bool)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        keep[idx[nms(boxes[idx], scores[idx], iou_threshold=iou_threshold)]] = True
    kept = np.flatnonzero(keep)
    return kept[np.argsort(-scores[kept], kind="mergesort")].astype(np.int64)


def yolo_encode(boxes, labels, *, grid_size, num_classes, boxes_per_cell=1):
    _check_boxes("yolo_encode", boxes)
    _check_labels("yolo_encode", labels, boxes.shape[0], num_classes)
    S, B, C = grid_size, boxes_per_cell, num_classes
    target = np.zeros((S, S, B, 5 + C))
    cols = np.minimum((boxes[:, 0] * S).astype(np.int64), S - 1)   # truncation = floor here
    rows = np.minimum((boxes[:, 1] * S).astype(np.int64), S - 1)
    filled = {}
    dropped = []
    for k, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())):
        slot = filled.get((r, c), 0)
        if slot == B:
            dropped.append(k)
            continue
        filled[(r, c)] = slot + 1
        target[r, c, slot, 0] = boxes[k, 0] * S - c
        target[r, c, slot, 1] = boxes[k, 1] * S - r
        target[r, c, slot, 2:4] = boxes[k, 2:4]
        target[r, c, slot, 4] = 1
        target[r, c, slot, 5 + labels[k]] = 1
    return target, np.array(dropped, dtype=np.int64)


def yolo_decode(pred, *, conf_threshold=0.5):
    S = pred.shape[0]
    probs = pred[..., 5:]
    score = pred[..., 4] * probs.max(axis=-1)
    i, j, b = np.nonzero(score >= conf_threshold)            # row-major: cell, then slot
    sel = pred[i, j, b]
    boxes = np.stack([(j + sel[:, 0]) / S, (i + sel[:, 1]) / S, sel[:, 2], sel[:, 3]], axis=1)
    return boxes.reshape(-1, 4), score[i, j, b], probs[i, j, b].argmax(axis=-1).astype(np.int64)


def yolo_loss(pred, target, *, lambda_coord=5.0, lambda_noobj=0.5):
    # the two kinds of slot as 0/1 masks multiplied in, the sqrt's gradient as 1 - sqrt(w'/w)
    N = pred.shape[0]
    obj = (target[..., 4] == 1).astype(pred.dtype)[..., None]
    noobj = 1.0 - obj
    dxy = pred[..., :2] - target[..., :2]
    dwh = np.sqrt(pred[..., 2:4]) - np.sqrt(np.maximum(target[..., 2:4], 0))
    do = pred[..., 4:5] - 1.0
    dcls = pred[..., 5:] - target[..., 5:]
    loss = (obj * (lambda_coord * (dxy ** 2 + dwh ** 2).sum(-1, keepdims=True)
                   + do ** 2 + (dcls ** 2).sum(-1, keepdims=True))
            + noobj * lambda_noobj * pred[..., 4:5] ** 2).sum() / N
    grad = np.concatenate([
        obj * 2 * lambda_coord * dxy,
        obj * lambda_coord * (1 - np.sqrt(np.maximum(target[..., 2:4], 0) / pred[..., 2:4])),
        obj * 2 * do + noobj * 2 * lambda_noobj * pred[..., 4:5],
        obj * 2 * dcls], axis=-1) / N
    return float(loss), grad


def match_detections(boxes, scores, gt_boxes, *, iou_threshold=0.5):
    _check_xyxy("match_detections", boxes)
    _check_xyxy("match_detections", gt_boxes, "gt_boxes")
    D, G = len(boxes), len(gt_boxes)
    is_tp = np.zeros(D, dtype=bool)
    if G == 0:
        return is_tp
    iou = box_iou(boxes, gt_boxes)
    best = iou.argmax(axis=1)                                # the lowest index on ties
    best_iou = iou[np.arange(D), best]
    taken = np.zeros(G, dtype=bool)
    for d in sorted(range(D), key=lambda k: (-scores[k], k)):
        if best_iou[d] >= iou_threshold and not taken[best[d]]:
            taken[best[d]] = is_tp[d] = True
    return is_tp


def precision_recall(scores, is_tp, num_gt):
    num_gt = check_int("precision_recall", "num_gt", num_gt, minimum=0)
    order = np.lexsort((np.arange(len(scores)), -scores))
    tp = np.cumsum(is_tp[order])
    k = np.arange(1, len(scores) + 1)
    return tp / k, (tp / num_gt if num_gt else np.zeros(len(scores)))


def mean_average_precision(detections, ground_truths, *, num_classes, iou_threshold=0.5,
                           method="all"):
    # every class's detections pooled first and sorted once (image order, then input order);
    # then matched greedily against their own image's ground truths
    num_classes = _check_images("mean_average_precision", detections, ground_truths,
                                num_classes)
    aps = np.full(num_classes, np.nan)
    for c in range(num_classes):
        gts = [gb[gl == c] for gb, gl in ground_truths]
        num_gt = sum(len(g) for g in gts)
        if not num_gt:
            continue
        entries = [(float(s), img, k) for img, (b, sc, lab) in enumerate(detections)
                   for k, s in enumerate(sc.tolist()) if lab[k] == c]
        entries.sort(key=lambda e: -e[0])                     # stable: image, then input order
        taken = [np.zeros(len(g), dtype=bool) for g in gts]
        hits = []
        for s, img, k in entries:
            g = gts[img]
            hit = False
            if len(g):
                iou = box_iou(detections[img][0][k:k + 1], g)[0]
                best = int(np.argmax(iou))
                if iou[best] >= iou_threshold and not taken[img][best]:
                    taken[img][best] = hit = True
            hits.append(hit)
        scores = np.array([e[0] for e in entries])
        p, r = precision_recall(scores, np.array(hits, dtype=bool), num_gt)
        aps[c] = average_precision(p, r, method=method)
    return (float(np.nanmean(aps)) if not np.isnan(aps).all() else float("nan")), aps


def coco_map(detections, ground_truths, *, num_classes, method="all"):
    # per class, the mean AP over the thresholds; then the mean over the classes
    per = np.array([mean_average_precision(detections, ground_truths, num_classes=num_classes,
                                           iou_threshold=t, method=method)[1]
                    for t in np.linspace(0.5, 0.95, 10)])
    if np.isnan(per).all():
        return float("nan")
    return float(np.nanmean(per.mean(axis=0)))
'''

UNET = '''

class UNet(nn.Module):
    # one flat ModuleList in forward order (encoders, bottleneck, then up/conv pairs, deepest
    # first, then the output convolution); functional pooling; torch.concat
    def __init__(self, in_channels, num_classes, *, base_channels=16, depth=3):
        super().__init__()
        self.depth, self.in_channels = depth, in_channels
        c = [base_channels << level for level in range(depth + 1)]
        layers = [DoubleConv(in_channels if level == 0 else c[level - 1], c[level])
                  for level in range(depth)]
        layers.append(DoubleConv(c[depth - 1], c[depth]))
        for level in range(depth - 1, -1, -1):
            layers.append(nn.ConvTranspose2d(c[level + 1], c[level], kernel_size=2, stride=2))
            layers.append(DoubleConv(2 * c[level], c[level]))
        layers.append(nn.Conv2d(c[0], num_classes, kernel_size=1))
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        _check_input("UNet", x, self.in_channels, 2 ** self.depth)
        d = self.depth
        skips = []
        for level in range(d):
            x = self.layers[level](x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.layers[d](x)
        for k in range(d):
            up, conv = self.layers[d + 1 + 2 * k], self.layers[d + 2 + 2 * k]
            x = conv(torch.concat((skips[d - 1 - k], up(x)), dim=1))
        return self.layers[-1](x)
'''

BATCHED_NMS_OFFSET = '''

def batched_nms(boxes, scores, labels, *, iou_threshold=0.5):
    # torchvision's trick: shift every label's boxes by its own offset, so that boxes of
    # different labels never overlap, and run one NMS
    _check_xyxy("batched_nms", boxes)
    _check_scores("batched_nms", scores, boxes.shape[0])
    _check_labels("batched_nms", labels, boxes.shape[0])
    _check_threshold("batched_nms", iou_threshold)
    xp = xp_of(boxes, scores)
    if boxes.shape[0] == 0:
        return xp.zeros(0, dtype=xp.int64)
    offsets = labels.astype(boxes.dtype) * (float(boxes.max()) - float(boxes.min()) + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold=iou_threshold)
'''

RNN_VANILLA = '''

def rnn_step_forward(x, h_prev, Wx, Wh, b):
    # one matmul on the concatenation [x, h_prev] @ [[Wx], [Wh]]
    z = np.concatenate([x, h_prev], axis=1)
    W = np.concatenate([Wx, Wh], axis=0)
    h = np.tanh(z @ W + b)
    return h, (z, W, h, x.shape[1])


def rnn_step_backward(dh_next, cache):
    z, W, h, D = cache
    da = dh_next * (1 - h * h)
    dz = da @ W.T
    dW = z.T @ da
    return dz[:, :D], dz[:, D:], dW[:D], dW[D:], da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    xa = x @ Wx + b                                        # every step's input projection
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(xa[:, t] + hs[-1] @ Wh))
    h = np.stack(hs[1:], axis=1)
    return h, (x, h0, h, Wx, Wh)


def rnn_backward(dh, cache):
    # the pre-activation gradients of every step kept, the sums done once at the end
    x, h0, h, Wx, Wh = cache
    N, T, H = dh.shape
    das = np.empty_like(dh)
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        das[:, t] = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        carry = das[:, t] @ Wh.T
    prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (das @ Wx.T, carry, np.einsum("ntd,nth->dh", x, das),
            np.einsum("ntk,nth->kh", prev, das), das.sum(axis=(0, 1)))
'''

RNN = '''

def _sig(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))                   # the sigmoid through tanh


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    # four matmul pairs, one per gate, and a dict as cache
    H = h_prev.shape[1]
    gate = {}
    for k, name in enumerate("ifgo"):
        cols = slice(k * H, (k + 1) * H)
        a = x @ Wx[:, cols] + h_prev @ Wh[:, cols] + b[cols]
        gate[name] = np.tanh(a) if name == "g" else _sig(a)
    c_next = gate["f"] * c_prev + gate["i"] * gate["g"]
    h_next = gate["o"] * np.tanh(c_next)
    return h_next, c_next, dict(gate, x=x, h_prev=h_prev, c_prev=c_prev, c=c_next, Wx=Wx, Wh=Wh)


def lstm_step_backward(dh_next, dc_next, cache):
    i, f, g, o = (cache[k] for k in "ifgo")
    tc = np.tanh(cache["c"])                                  # recomputed, not cached
    dc = dc_next + dh_next * o * (1 - tc ** 2)
    das = [dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f), dc * i * (1 - g ** 2),
           dh_next * tc * o * (1 - o)]
    H = i.shape[1]
    Wx, Wh = cache["Wx"], cache["Wh"]
    dx = sum(da @ Wx[:, k * H:(k + 1) * H].T for k, da in enumerate(das))
    dh_prev = sum(da @ Wh[:, k * H:(k + 1) * H].T for k, da in enumerate(das))
    dWx = np.hstack([cache["x"].T @ da for da in das])
    dWh = np.hstack([cache["h_prev"].T @ da for da in das])
    db = np.concatenate([da.sum(axis=0) for da in das])
    return dx, dh_prev, dc * f, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None):
    # the input projection of every step at once; the gates of every step kept in (T, N, 4H)
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, Wx, Wh, b)
    xa = np.einsum("ntd,dg->tng", x, Wx) + b                  # (T, N, 4H)
    gates = np.empty((T, N, 4 * H), dtype=dtype)
    cs = np.empty((T + 1, N, H), dtype=dtype)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    hs[0] = h0
    cs[0] = 0 if c0 is None else c0
    for t in range(T):
        a = xa[t] + hs[t] @ Wh
        gates[t] = np.concatenate([_sig(a[:, :2 * H]), np.tanh(a[:, 2 * H:3 * H]),
                                   _sig(a[:, 3 * H:])], axis=1)
        i, f, g, o = np.split(gates[t], 4, axis=1)
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    return hs[1:].transpose(1, 0, 2).copy(), (x, Wx, Wh, gates, cs, hs), cs[T].copy()


def lstm_backward(dh, cache):
    # the gate gradients of every step kept, the weights' gradients summed once at the end
    x, Wx, Wh, gates, cs, hs = cache
    N, T, H = dh.shape
    das = np.empty_like(gates)
    dh_next = np.zeros((N, H))
    dc = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        i, f, g, o = np.split(gates[t], 4, axis=1)
        tc = np.tanh(cs[t + 1])
        dht = dh[:, t] + dh_next
        dc = dc + dht * o * (1 - tc * tc)
        das[t] = np.concatenate([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f),
                                 dc * i * (1 - g * g), dht * tc * o * (1 - o)], axis=1)
        dh_next = das[t] @ Wh.T
        dc = dc * f
    dx = np.einsum("tng,dg->ntd", das, Wx)
    dWx = np.einsum("ntd,tng->dg", x, das)
    dWh = np.einsum("tnh,tng->hg", hs[:-1], das)
    return dx, dh_next, dWx, dWh, das.sum(axis=(0, 1))


def temporal_softmax_loss(scores, y, mask):
    # log-sum-exp written as scipy writes it, m + log(sum(exp(s - m))); the picked scores by
    # take_along_axis; everything kept 3-D
    m = scores.max(axis=2, keepdims=True)
    lse = m + np.log(np.exp(scores - m).sum(axis=2, keepdims=True))
    yy = np.where(mask, y, 0)[..., None]
    picked = np.take_along_axis(scores, yy, axis=2)
    K = int(np.count_nonzero(mask))
    if K == 0:
        return 0.0, np.zeros_like(scores)
    loss = ((lse - picked)[..., 0] * mask).sum() / K
    onehot = np.arange(scores.shape[2]) == yy
    d = (np.exp(scores - lse) - onehot) * mask[..., None] / K
    return float(loss), d
'''

SAMPLE = [
    # inverse-CDF sampling: one uniform draw against the unnormalized cumulative sum
    ("            probs = np.exp(scores - scores.max())\n"
     "            probs /= probs.sum()\n"
     "            ids[n] = rng.choice(V, p=probs)",
     "            cdf = np.cumsum(np.exp(scores - scores.max()))\n"
     "            ids[n] = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side='right')),"
     " V - 1)"),
]

ARCH = '''

from collections import OrderedDict

import torch.nn.functional as F


def vgg_block(num_convs, in_channels, out_channels):
    # an nn.Sequential from an OrderedDict of named layers
    num_convs = _check_int("vgg_block", "num_convs", num_convs)
    in_channels = _check_int("vgg_block", "in_channels", in_channels)
    out_channels = _check_int("vgg_block", "out_channels", out_channels)
    layers = OrderedDict()
    for i in range(num_convs):
        layers[f"conv{i}"] = nn.Conv2d(out_channels if i else in_channels, out_channels, 3,
                                       padding=1)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)
    layers["pool"] = nn.MaxPool2d(2)
    return nn.Sequential(layers)


class NiNBlock(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__()
        self.in_channels = in_channels
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        self.mlp = nn.ModuleList([nn.Conv2d(out_channels, out_channels, 1) for _ in range(2)])

    def forward(self, x):
        _check_images("NiNBlock", x, self.in_channels)
        x = F.relu(self.conv(x))
        for layer in self.mlp:
            x = F.relu(layer(x))
        return x


class BottleneckBlock(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels, *, stride=1):
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)

    def forward(self, x):
        _check_images("BottleneckBlock", x, self.in_channels)
        identity = self.shortcut(x)
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        out += identity                                  # in place on a fresh tensor
        return F.relu(out, inplace=True)


class DenseBlock(nn.Module):
    # torchvision's way: keep every map, concatenate them all before each unit
    def __init__(self, num_convs, in_channels, growth_rate):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = in_channels + num_convs * growth_rate
        for i in range(num_convs):
            c = in_channels + i * growth_rate
            self.add_module(f"denselayer{i + 1}", nn.Sequential(OrderedDict(
                norm=nn.BatchNorm2d(c), relu=nn.ReLU(inplace=True),
                conv=nn.Conv2d(c, growth_rate, 3, padding=1))))

    def forward(self, x):
        _check_images("DenseBlock", x, self.in_channels)
        features = [x]
        for unit in self.children():
            features.append(unit(torch.cat(features, 1)))
        return torch.cat(features, 1)


class TransitionBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.in_channels = in_channels
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        _check_images("TransitionBlock", x, self.in_channels)
        return F.avg_pool2d(self.conv(F.relu(self.norm(x))), 2)


class SEBlock(nn.Module):
    def __init__(self, channels, *, reduction=16):
        super().__init__()
        self.channels = channels
        self.fc1 = nn.Linear(channels, max(1, channels // reduction))
        self.fc2 = nn.Linear(max(1, channels // reduction), channels)

    def gates(self, x):
        _check_images("SEBlock", x, self.channels)
        s = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc2(self.fc1(s).clamp(min=0)).sigmoid()

    def forward(self, x):
        _check_images("SEBlock", x, self.channels)
        return torch.einsum("nchw,nc->nchw", x, self.gates(x))


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, in_channels, out_channels, *, stride=1):
        super().__init__()
        self.in_channels = in_channels
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size=(3, 3), stride=stride,
                                   padding=(1, 1), groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 1), bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        _check_images("DepthwiseSeparableConv", x, self.in_channels)
        x = F.relu(self.bn1(self.depthwise(x)), inplace=True)
        return F.relu(self.bn2(self.pointwise(x)), inplace=True)


def freeze(model, *, trainable=()):
    if not isinstance(model, nn.Module):
        raise TypeError("freeze: model must be a torch.nn.Module")
    if isinstance(trainable, str) or not isinstance(trainable, (tuple, list, set, frozenset)):
        raise TypeError("freeze: trainable must be a tuple of name prefixes")
    count = 0
    for name, param in model.named_parameters():
        if any(name.startswith(prefix) for prefix in trainable):
            count += param.numel() if param.requires_grad else 0
        else:
            param.requires_grad_(False)
    return int(count)
'''

GEN = '''


def discriminator_loss(logits_real, logits_fake):
    _check_logits("discriminator_loss", ("logits_real", logits_real),
                  ("logits_fake", logits_fake))
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()   # softplus form


def generator_loss(logits_fake):
    _check_logits("generator_loss", ("logits_fake", logits_fake))
    return -F.logsigmoid(logits_fake).mean()                                  # log-sigmoid form


def minimax_generator_loss(logits_fake):
    _check_logits("minimax_generator_loss", ("logits_fake", logits_fake))
    return F.logsigmoid(-logits_fake).mean()             # log(1 - sigmoid(s)) = logsigmoid(-s)


def ls_discriminator_loss(scores_real, scores_fake):
    _check_logits("ls_discriminator_loss", ("scores_real", scores_real),
                  ("scores_fake", scores_fake))
    return 0.5 * (F.mse_loss(scores_real, torch.ones_like(scores_real))
                  + F.mse_loss(scores_fake, torch.zeros_like(scores_fake)))


def ls_generator_loss(scores_fake):
    _check_logits("ls_generator_loss", ("scores_fake", scores_fake))
    return F.mse_loss(scores_fake, torch.ones_like(scores_fake)) / 2


def reparameterize(mu, logvar, eps):
    return torch.addcmul(mu, eps, logvar.mul(0.5).exp())


def vae_loss(logits, x, mu, logvar):
    # the cross entropy by hand in the softplus form; the KL from torch.distributions
    n = x.shape[0]
    rec = (x * F.softplus(-logits) + (1 - x) * F.softplus(logits)).sum(dim=1).mean()
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    kl = torch.distributions.kl_divergence(q, prior).sum() / n
    return rec + kl, rec, kl


def sample_noise(batch_size, dim, *, generator):
    return torch.empty(batch_size, dim).uniform_(-1, 1, generator=generator)


def corrupt(x, *, noise_std, generator):
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x.clone().add_(noise, alpha=noise_std)        # in place on a copy


def gan_step(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    # fakes made under no_grad; D frozen (requires_grad off) during the generator's update
    d_fn, g_fn = ((discriminator_loss, generator_loss) if loss == "bce"
                  else (ls_discriminator_loss, ls_generator_loss))
    n = real.shape[0]
    with torch.no_grad():
        fakes = G(sample_noise(n, noise_dim, generator=generator).to(real.dtype))
    d_optimizer.zero_grad()
    d_loss = d_fn(D(real), D(fakes))
    d_loss.backward()
    d_optimizer.step()
    z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)
    flags = [p.requires_grad for p in D.parameters()]
    for p in D.parameters():
        p.requires_grad_(False)
    try:
        g_optimizer.zero_grad()
        g_loss = g_fn(D(G(z)))
        g_loss.backward()
        g_optimizer.step()
    finally:
        for p, flag in zip(D.parameters(), flags):
            p.requires_grad_(flag)
    return float(d_loss), float(g_loss)
'''

FROMFUNCTION = '''

import numpy as np


def upsample_bilinear(x, *, size):
    # the tent-kernel matrices built by np.fromfunction: one call on index grids
    H_out, W_out = _as_pair("upsample_bilinear", "size", size, 1)
    H, W = x.shape[2:]

    def matrix(n_in, n_out):
        s = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        return np.fromfunction(lambda i, j: np.maximum(0.0, 1.0 - np.abs(s[i] - j)),
                               (n_out, n_in), dtype=int).astype(x.dtype)

    return matrix(H, H_out) @ x @ matrix(W, W_out).T
'''

APPLY_OVER_AXES = '''

import numpy as np


def upsample_nearest_backward(dout, cache):
    # the sum over every block's two inner axes by np.apply_over_axes (one np.sum per axis)
    scale, (N, C, H, W) = cache
    blocks = dout.reshape(N, C, H, scale, W, scale)
    return np.apply_over_axes(np.sum, blocks, [3, 5]).reshape(N, C, H, W)
'''

APPLY_OVER_AXES_BN = '''

def batchnorm_backward_alt(dout, cache):
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = np.apply_over_axes(np.sum, dout, [0])[0]
    dgamma = np.apply_over_axes(np.sum, dout * xhat, [0])[0]
    return (gamma / (N * std)) * (N * dout - dbeta - xhat * dgamma), dgamma, dbeta
'''

PIECEWISE = '''

import numpy as np


def focal_loss(logits, target, *, gamma=2.0, alpha=None):
    # the focusing term by np.piecewise: one call per piece (q > 0, q == 0), not per element
    N, K, H, W = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    onehot = np.arange(K)[None, :, None, None] == target[:, None]
    logpy = np.where(onehot, logp, 0.0).sum(axis=1)
    py = np.exp(logpy)
    q = 1.0 - py
    a = np.ones(target.shape) if alpha is None else alpha[target]
    focusing = np.piecewise(q, [q > 0], [lambda v: gamma * v ** (gamma - 1), 0.0]) * py * logpy \\
        if gamma else 0.0
    g = a * (q ** gamma - focusing)
    dlogits = (np.exp(logp) - onehot) * g[:, None] / (N * H * W)
    return float(-(a * q ** gamma * logpy).mean()), dlogits
'''

CACHED = '''

import numpy as np


_OFFSETS = {}


def max_pool_with_indices(x, *, pool_size=2, stride=2):
    name = "max_pool_with_indices"
    _check_ndim(name, "x", x, 4, "(N, C, H, W)")
    pool_size = _as_int(name, "pool_size", pool_size, 1)
    stride = _as_int(name, "stride", stride, 1)
    _check_window(name, "pooling window", x.shape[2:], (pool_size, pool_size), stride, 0)
    N, C, H, W = x.shape
    key = (H, W, pool_size, stride)
    if key not in _OFFSETS:                                  # flat indices of every window's
        Ho, Wo = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1   # cells, cached
        k = np.arange(pool_size)
        r = (np.arange(Ho) * stride)[:, None, None, None] + k[None, None, :, None]
        c = (np.arange(Wo) * stride)[None, :, None, None] + k[None, None, None, :]
        _OFFSETS[key] = (r * W + c).reshape(Ho, Wo, -1)
    flat_idx = _OFFSETS[key]
    windows = x.reshape(N, C, H * W)[:, :, flat_idx]         # (N, C, Ho, Wo, k*k)
    arg = windows.argmax(axis=-1)
    out = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
    return out, np.take_along_axis(np.broadcast_to(flat_idx, windows.shape), arg[..., None],
                                   axis=-1)[..., 0].astype(np.int64)
'''


MAP_BN = '''

def batchnorm_backward_alt(dout, cache):
    # the two sums over the batch by one map over a written-out pair
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dgamma, dbeta = map(lambda a: a.sum(axis=0), (dout * xhat, dout))
    return (gamma / (N * std)) * (N * dout - dbeta - xhat * dgamma), dgamma, dbeta
'''

CODE_NAME = '''

def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
    num_classes = _as_int("confusion_matrix", "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps("confusion_matrix", pred, target, num_classes, ignore_index)
    xp = xp_of(pred, target)
    keep = (target != ignore_index) if ignore_index is not None else xp.ones(target.shape, bool)
    code = target[keep].astype(xp.int64) * num_classes + pred[keep].astype(xp.int64)
    counts = bincount(code.ravel(), minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(xp.int64)
'''

# ---------------------------------------------------------------- tests


def test_numpy_units_written_otherwise_keep_full_marks(tmp_path):
    sub = make_submission(
        tmp_path, replace={"regularization.py": REG_NET, "rnn.py": SAMPLE},
        append={"normalization.py": NORM, "regularization.py": REG, "augmentation.py": AUG,
                "optim.py": OPTIM, "segmentation.py": SEG,
                "detection.py": DET + BATCHED_NMS_OFFSET, "rnn.py": RNN + RNN_VANILLA})
    keys = keys_of("normalization", "regularization", "augmentation", "optim", "segmentation",
                   "detection", "rnn")
    report = engine.grade(sub, ["04", "05", "07", "08", "09"], keys=keys, limits=LIMITS)
    assert_full_marks(report, keys)


def test_torch_modules_written_otherwise_keep_full_marks(tmp_path):
    pytest.importorskip("torch")
    sub = make_submission(tmp_path, append={"architectures.py": ARCH, "segnets.py": UNET,
                                            "generative.py": GEN})
    blocks = ("vgg_block", "NiNBlock", "BottleneckBlock", "DenseBlock", "TransitionBlock",
              "SEBlock", "DepthwiseSeparableConv", "freeze")
    generative = ("discriminator_loss", "generator_loss", "minimax_generator_loss",
                  "ls_discriminator_loss", "ls_generator_loss", "reparameterize", "vae_loss",
                  "sample_noise", "corrupt", "gan_step")
    keys = {f"architectures.{name}" for name in blocks} | {"segnets.UNet"} | \
        {f"generative.{name}" for name in generative}
    report = engine.grade(sub, ["06", "07", "10"], keys=keys, limits=LIMITS)
    assert_full_marks(report, keys)


# ---------------------------------------------------------------- the finding

def _with(module, code):
    """The namespace of reference ``module`` with ``code`` run in it (the variant's functions
    replacing the reference's, as appending them to the file does)."""
    namespace = dict(vars(module))
    exec(compile(textwrap.dedent(code), "<variant>", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_per_call_variants_are_right():
    """The finding's variants agree with the reference on random inputs (checked here, not by
    the grader): np.fromfunction, np.apply_over_axes and np.piecewise are plain vectorized
    NumPy."""
    reference = load_reference()
    seg, norm = reference.segmentation, reference.normalization
    ns = _with(seg, FROMFUNCTION + APPLY_OVER_AXES + PIECEWISE + CACHED)
    rng = np.random.default_rng(25)
    x = rng.standard_normal((2, 3, 6, 8))
    for size in [(9, 4), (6, 8), (1, 1), (13, 20)]:
        np.testing.assert_allclose(ns["upsample_bilinear"](x, size=size),
                                   seg.upsample_bilinear(x, size=size), rtol=1e-12, atol=1e-14)
    out, cache = seg.upsample_nearest(x, scale=3)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(ns["upsample_nearest_backward"](dout, cache),
                               seg.upsample_nearest_backward(dout, cache), rtol=1e-12)
    for kwargs in ({}, {"pool_size": 3, "stride": 1}, {"pool_size": 2, "stride": 3}):
        xx = rng.standard_normal((2, 3, 8, 8))
        for got, want in zip(ns["max_pool_with_indices"](xx, **kwargs),
                             seg.max_pool_with_indices(xx, **kwargs)):
            np.testing.assert_array_equal(got, want)
    logits = 3 * rng.standard_normal((2, 4, 3, 5))
    target = rng.integers(0, 4, (2, 3, 5))
    alpha = rng.uniform(0.2, 1.0, 4)
    for gamma in (0.0, 0.5, 2.0, 3.5):
        got, want = ns["focal_loss"](logits, target, gamma=gamma, alpha=alpha), \
            seg.focal_loss(logits, target, gamma=gamma, alpha=alpha)
        assert abs(got[0] - want[0]) < 1e-12
        np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-15)
    ns = _with(norm, APPLY_OVER_AXES_BN)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    out, cache, _ = norm.batchnorm_forward(x, gamma, beta, norm.initial_state(4))
    dout = rng.standard_normal(out.shape)
    for got, want in zip(ns["batchnorm_backward_alt"](dout, cache),
                         norm.batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_vectorized_numpy_calls_with_a_written_out_count_keep_full_marks(tmp_path):
    """Each scored 0, "calls a function once per element (fromfunction() ...)"."""
    sub = make_submission(tmp_path, append={
        "segmentation.py": FROMFUNCTION + APPLY_OVER_AXES + PIECEWISE + CACHED,
        "normalization.py": APPLY_OVER_AXES_BN})
    keys = {"segmentation.upsample_bilinear", "segmentation.upsample_nearest_backward",
            "segmentation.focal_loss", "segmentation.max_pool_with_indices",
            "normalization.batchnorm_backward_alt"}
    report = engine.grade(sub, ["04", "07"], keys=keys, limits=LIMITS)
    assert_full_marks(report, keys)


def test_a_map_over_a_written_out_pair_is_no_loop_over_the_batch(tmp_path):
    """batchnorm_backward_alt's docstring asks for whole-array operations and no loop over the
    examples or the features; its test allows "a fixed number of things". A map over
    the pair (dout * xhat, dout) scored 0 as a per-element call."""
    reference = load_reference()
    norm = reference.normalization
    ns = _with(norm, MAP_BN)
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.standard_normal((7, 3)), rng.standard_normal(3), rng.standard_normal(3)
    out, cache, _ = norm.batchnorm_forward(x, gamma, beta, norm.initial_state(3))
    dout = rng.standard_normal(out.shape)
    for got, want in zip(ns["batchnorm_backward_alt"](dout, cache),
                         norm.batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    sub = make_submission(tmp_path, append={"normalization.py": MAP_BN})
    keys = {"normalization.batchnorm_backward_alt"}
    assert_full_marks(engine.grade(sub, ["04"], keys=keys, limits=LIMITS), keys)


def analyse(source, name="f"):
    return Program({"segmentation": textwrap.dedent(source)}, ()).analyse("segmentation", name)


@pytest.mark.parametrize("call", [
    "np.fromfunction(lambda i, j: i + j, x.shape, dtype=int)",
    "np.apply_over_axes(np.sum, x, [0, 2])",
    "np.apply_over_axes(np.sum, x, axes=(0, 1, 3))",
    "np.apply_over_axes(np.sum, x, 1)",
    "np.apply_over_axes(np.sum, x, -1)",
    "np.piecewise(x, [x > 0], [lambda v: v, lambda v: 0.1 * v])",
    "np.piecewise(x, condlist=[x < 0, x > 1], funclist=(np.exp, 1.0, np.sqrt))",
    "list(map(np.ravel, (x, x.T)))",
    "functools.reduce(np.add, [x, x.T, x])",
    "list(filter(None, (x, x)))",
    "list(itertools.starmap(np.add, [(x, x), (x, 1)]))",
    "list(itertools.accumulate([x, x], np.maximum))",
])
def test_a_fixed_number_of_whole_array_calls_is_no_loop(call):
    finding = analyse(f"import functools\nimport itertools\nimport numpy as np\n"
                      f"def f(x):\n    return {call}\n")
    assert finding.depth == 0 and not finding.loop_call, finding


@pytest.mark.parametrize("call", [
    "np.apply_over_axes(np.cumsum, x, [0] * x.shape[0])",   # as many calls as examples
    "np.apply_over_axes(np.cumsum, x, axes)",               # a length the code does not fix
    "np.apply_over_axes(np.cumsum, x, [*axes])",
    "np.piecewise(x, list(np.eye(len(x), dtype=bool)), [np.sin] * len(x))",
    "np.piecewise(x, conds, funcs)",
    "np.piecewise(x, conds, funclist=[*funcs])",
    "np.apply_along_axis(np.sum, 1, x)",
    "np.vectorize(float)(x)",
    "list(map(float, x))",                                    # once per row of the data
    "list(map(np.ravel, [x] * len(x)))",
    "list(map(np.ravel, (*x,)))",
    "functools.reduce(np.add, x)",
    "list(itertools.starmap(np.add, zip(x, x)))",
    "list(itertools.accumulate(x))",
])
def test_a_call_count_that_may_grow_with_the_data_is_still_a_loop(call):
    finding = analyse("import functools\nimport itertools\nimport numpy as np\n"
                      "axes = conds = funcs = []\n"
                      f"def f(x):\n    return {call}\n")
    assert finding.depth >= 1 and finding.loop_call, finding


def test_the_reference_fingerprints_still_exempt_the_provided_helpers():
    """The change touches only which calls count as loops: the reference itself has none."""
    sources = {p.stem: p.read_text() for p in REFERENCE_PACKAGE.glob("*.py")}
    program = Program(sources, provided_fingerprints(sources))
    for name in ("upsample_bilinear", "upsample_nearest_backward", "focal_loss"):
        assert program.analyse("segmentation", name).depth == 0


CODE_VARIABLE = """
import numpy as np


def f(pred, target, num_classes):
    code = target.astype(np.int64) * num_classes + pred      # a variable named code
    return np.bincount(code.ravel(), minlength=num_classes ** 2)


def g(x, code=None):
    for code in range(2):
        x = x + code
    return x
"""


def test_a_variable_named_like_a_stdlib_module_hides_no_code():
    """A variable named ``code`` anywhere in segmentation.py (code = target * K +
    pred, in confusion_matrix) failed every vectorized function of the module with "the
    grader cannot see which code runs: the package uses code"."""
    for name in ("f", "g"):
        finding = analyse(CODE_VARIABLE, name)
        assert not finding.dynamic and finding.depth <= 1, finding


@pytest.mark.parametrize("source", [
    "import code\ndef f(x):\n    return x\n",
    "from code import interact\ndef f(x):\n    return x\n",
    "import codeop as c\ndef f(x):\n    return x\n",
    "from .helpers import *\ndef f(x):\n    return importlib.import_module(x)\n",
    "def f(x):\n    return code.InteractiveInterpreter().runsource(x)\n",
    "def f(x):\n    __builtins__ = {}\n    return x\n",
    "def f(x, builtins=None):\n    return builtins.exec(x)\n",
    # only ``code`` is an ordinary variable name; another module's attribute is the module
    "import pkgutil\nimportlib = pkgutil.importlib\ndef f(x):\n    return x\n",
    "import pkgutil\ndef f(x):\n    return pkgutil.importlib.import_module(x)\n",
    "def f(x, marshal=None):\n    return marshal.loads(x)\n",
])
def test_the_stdlib_modules_that_run_strings_are_still_refused(source):
    finding = analyse(source)
    assert finding.dynamic, source


def test_a_variable_named_code_in_a_graded_module_keeps_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"segmentation.py": CODE_NAME})
    keys = {"segmentation.confusion_matrix", "segmentation.upsample_bilinear"}
    assert_full_marks(engine.grade(sub, ["07"], keys=keys, limits=LIMITS), keys)

