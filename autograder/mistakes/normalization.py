"""Known mistakes of unit 04, ``normalization``: wrong variants with the signature of the function
they imitate. Forward variants return ``(out, None[, new_state])`` (only out and the state are
compared). Backward variants read the *reference* forward's cache:

- batch norm (training mode): a dict with "xhat" (N, D), "xc" (N, D) = x - mu, "std" (D,) =
  sqrt(var + eps), "gamma" (D,); spatial batch norm: the same dict for x moved to (N*H*W, C);
- layer norm: (xhat (N, D), std (N, 1), gamma); group norm: (xhat (N, C, H, W), std (N, G, 1),
  gamma, groups); instance norm: (xhat (N, C, H, W), std (N, C, 1, 1), gamma).

Each is recognised by the tests (tests/test_hints.py).
"""

import numpy as np

# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------


def _normalize(x, axes, eps, *, ddof=0, eps_outside=False):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    if eps_outside:
        return (x - mu) / (np.sqrt(var) + eps), mu, var
    return (x - mu) / np.sqrt(var + eps), mu, var


def _dx(dxhat, xhat, std, axes, *, mean_term=True, var_term=True):
    """dx of a normalization over ``axes`` given dL/dxhat, with terms left out on request."""
    dx = dxhat
    if mean_term:
        dx = dx - dxhat.mean(axis=axes, keepdims=True)
    if var_term:
        dx = dx - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
    return dx / std


def _channel(v):
    return v.reshape(1, -1, 1, 1)


# ---------------------------------------------------------------------------------------------
# Batch norm
# ---------------------------------------------------------------------------------------------

def _bn_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5, ddof=0,
                eps_outside=False, running_ddof=0, swap_momentum=False, keep_state=False,
                test_with_batch=False, test_without_eps=False, swap_gamma_beta=False,
                running_std=False, test_updates=False, normalize_with_new_running=False):
    rm, rv = state["running_mean"], state["running_var"]
    scale, shift = (beta, gamma) if swap_gamma_beta else (gamma, beta)
    if train or test_with_batch:
        xhat, mu, var = _normalize(x, 0, eps, ddof=ddof, eps_outside=eps_outside)
        mu, var = mu[0], var[0]
        if normalize_with_new_running:  # the running averages updated first, then used
            new_mean = momentum * rm + (1 - momentum) * mu
            xhat = (x - new_mean) / np.sqrt(momentum * rv + (1 - momentum) * var + eps)
        if train and not keep_state:
            new_var = x.var(axis=0, ddof=running_ddof)
            if running_std:
                new_var = np.sqrt(new_var + eps)
            old = 1 - momentum if swap_momentum else momentum
            state = {"running_mean": old * rm + (1 - old) * mu,
                     "running_var": old * rv + (1 - old) * new_var}
        else:
            state = {k: v.copy() for k, v in state.items()}
    else:
        xhat = (x - rm) / (np.sqrt(rv) if test_without_eps else np.sqrt(rv + eps))
        if test_updates:  # the running averages take in this batch, as in training
            state = _bn_forward(x, gamma, beta, state, momentum=momentum, eps=eps)[2]
        else:
            state = {k: v.copy() for k, v in state.items()}
    return scale * xhat + shift, None, state


def _bn_forward_per_example(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5):
    """Training mode normalizing each example over its features (axis 1, layer norm's
    statistics); the state and test mode as they should be."""
    out, cache, new_state = _bn_forward(x, gamma, beta, state, train=train, momentum=momentum,
                                        eps=eps)
    if train:
        out = gamma * _normalize(x, 1, eps)[0] + beta
    return out, cache, new_state


def batchnorm_forward_mistakes():
    return [
        ("batch norm's statistics are per feature, over the N examples of the batch: "
         "x.mean(axis=0), x.var(axis=0); over axis 1 each example is normalized over its own "
         "features, which is layer norm",
         _bn_forward_per_example),
        ("update the running variance with the biased batch variance (the one that normalized the "
         "batch); PyTorch's unbiased running variance is not this course's convention",
         lambda *a, **k: _bn_forward(*a, **k, running_ddof=1)),
        ("normalize with the biased batch variance, mean((x - mu)**2) divided by N (np.var's "
         "default), not N - 1",
         lambda *a, **k: _bn_forward(*a, **k, ddof=1, running_ddof=1)),
        ("eps goes inside the square root: (x - mu) / sqrt(var + eps)",
         lambda *a, **k: _bn_forward(*a, **k, eps_outside=True)),
        ("momentum is the weight of the old running average: running = momentum * running + "
         "(1 - momentum) * batch statistic",
         lambda *a, **k: _bn_forward(*a, **k, swap_momentum=True)),
        ("the returned state is unchanged in training mode: return running_mean and "
         "running_var updated with this batch's mean and variance, in a new dict",
         lambda *a, **k: _bn_forward(*a, **k, keep_state=True)),
        ("in test mode normalize with the running statistics of the state, not with the batch's",
         lambda *a, **k: _bn_forward(*a, **k, test_with_batch=True)),
        ("in test mode eps goes inside the square root too: sqrt(running_var + eps)",
         lambda *a, **k: _bn_forward(*a, **k, test_without_eps=True)),
        ("gamma scales and beta shifts: out = gamma * x_hat + beta",
         lambda *a, **k: _bn_forward(*a, **k, swap_gamma_beta=True)),
        ("the running variance averages the batch variance var, not the standard deviation "
         "sqrt(var + eps): running_var = momentum * running_var + (1 - momentum) * var",
         lambda *a, **k: _bn_forward(*a, **k, running_std=True)),
        ("test mode only reads the running statistics: return them unchanged (as copies); only "
         "training mode updates them with the batch's mean and variance",
         lambda *a, **k: _bn_forward(*a, **k, test_updates=True)),
        ("in training mode normalize with this batch's own mean and variance; the running "
         "averages, updated after, are only for test mode (you normalized with the updated "
         "running_mean and running_var)",
         lambda *a, **k: _bn_forward(*a, **k, normalize_with_new_running=True)),
    ]


def _bn_backward(dout, cache, *, mean_term=True, var_term=True, gamma_in_dx=True,
                 dgamma_of_x=False, dbeta_mean=False, times_n=False):
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    dxhat = dout * gamma if gamma_in_dx else dout
    dx = _dx(dxhat, xhat, std, 0, mean_term=mean_term, var_term=var_term)
    if times_n:
        dx = dx * dout.shape[0]
    dgamma = (dout * (cache["xc"] if dgamma_of_x else xhat)).sum(axis=0)
    dbeta = dout.mean(axis=0) if dbeta_mean else dout.sum(axis=0)
    return dx, dgamma, dbeta


def batchnorm_backward_mistakes():
    return [
        ("in training mode the mean and variance are functions of the whole batch: dx is not "
         "just dout * gamma / sqrt(var + eps); add the paths through mu and var",
         lambda d, c: _bn_backward(d, c, mean_term=False, var_term=False)),
        ("the batch mean depends on every x: the path through mu adds -mean(dout * gamma) / "
         "sqrt(var + eps) to dx",
         lambda d, c: _bn_backward(d, c, mean_term=False)),
        ("the batch variance depends on every x: the path through var adds -x_hat * "
         "mean(dout * gamma * x_hat) / sqrt(var + eps) to dx",
         lambda d, c: _bn_backward(d, c, var_term=False)),
        ("dx goes through out = gamma * x_hat + beta: dL/dx_hat = dout * gamma",
         lambda d, c: _bn_backward(d, c, gamma_in_dx=False)),
        ("dgamma sums dout * x_hat (the normalized input) over the batch, not dout * (x - mu): "
         "divide x - mu by sqrt(var + eps)",
         lambda d, c: _bn_backward(d, c, dgamma_of_x=True)),
        ("dbeta is the sum of dout over the batch, not the mean",
         lambda d, c: _bn_backward(d, c, dbeta_mean=True)),
    ]


def batchnorm_backward_alt_mistakes():
    return batchnorm_backward_mistakes() + [
        ("the closed form divides by N: gamma / (N * sqrt(var + eps)) * (N * dout - sum(dout) - "
         "x_hat * sum(dout * x_hat))",
         lambda d, c: _bn_backward(d, c, times_n=True)),
    ]


# ---------------------------------------------------------------------------------------------
# Spatial batch norm
# ---------------------------------------------------------------------------------------------

def _spatial_forward(x, gamma, beta, state, *, train=True, momentum=0.9, eps=1e-5, how):
    N, C, H, W = x.shape
    if how == "no_transpose":  # rows of the reshape mix channels and positions
        out, cache, new_state = _bn_forward(x.reshape(-1, C), gamma, beta, state, train=train,
                                            momentum=momentum, eps=eps)
        return out.reshape(N, C, H, W), cache, new_state
    if how == "per_example":  # instance-norm statistics, state unchanged
        xhat, _, _ = _normalize(x, (2, 3), eps)
        return _channel(gamma) * xhat + _channel(beta), None, {k: v.copy() for k, v in
                                                                 state.items()}
    # "over_n": every (c, h, w) its own feature, statistics over N only; state (C, H, W)
    flat_state = {k: np.broadcast_to(v.reshape(C, 1, 1), (C, H, W)).reshape(-1)
                  for k, v in state.items()}
    gamma_f = np.broadcast_to(gamma.reshape(C, 1, 1), (C, H, W)).reshape(-1)
    beta_f = np.broadcast_to(beta.reshape(C, 1, 1), (C, H, W)).reshape(-1)
    out, cache, new_state = _bn_forward(x.reshape(N, -1), gamma_f, beta_f, flat_state,
                                        train=train, momentum=momentum, eps=eps)
    return (out.reshape(N, C, H, W), cache,
            {k: v.reshape(C, H, W) for k, v in new_state.items()})


def spatial_batchnorm_forward_mistakes():
    return [
        ("move the channels last before flattening: x.transpose(0, 2, 3, 1).reshape(-1, C); "
         "x.reshape(-1, C) alone mixes channels and positions in each row",
         lambda *a, **k: _spatial_forward(*a, **k, how="no_transpose")),
        ("a channel's statistics are over all examples and all positions (N, H, W), one mean and "
         "variance per channel, not one per (channel, position)",
         lambda *a, **k: _spatial_forward(*a, **k, how="over_n")),
        ("batch norm's statistics cross the batch: over (N, H, W) per channel, not over (H, W) per "
         "example (that is instance norm)",
         lambda *a, **k: _spatial_forward(*a, **k, how="per_example")),
    ]


def _spatial_backward(dout, cache, *, how):
    N, C, H, W = dout.shape
    if how == "no_transpose":
        dx, dgamma, dbeta = _bn_backward(dout.reshape(-1, C), cache)
        return dx.reshape(N, C, H, W), dgamma, dbeta
    flat = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    if how == "over_n":
        dx, _, _ = _bn_backward(flat, cache)
        xhat = cache["xhat"].reshape(N, H, W, C).transpose(0, 3, 1, 2)
        return (dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), (dout * xhat).sum(axis=0),
                dout.sum(axis=0))
    dx, dgamma, dbeta = _bn_backward(flat, cache, **how)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def spatial_batchnorm_backward_mistakes():
    return [
        ("move the channels last before flattening dout: dout.transpose(0, 2, 3, 1).reshape(-1, "
         "C), and transpose dx back",
         lambda d, c: _spatial_backward(d, c, how="no_transpose")),
        ("dgamma and dbeta have one entry per channel: sum over the batch *and* the positions, "
         "axes (0, 2, 3)",
         lambda d, c: _spatial_backward(d, c, how="over_n")),
        ("in training mode the mean and variance are functions of the batch: add the paths "
         "through mu and var to dout * gamma / sqrt(var + eps)",
         lambda d, c: _spatial_backward(d, c, how={"mean_term": False, "var_term": False})),
        ("each channel's mean depends on every x of that channel: the path through mu adds "
         "-mean(dout * gamma) / sqrt(var + eps), the mean over (N, H, W)",
         lambda d, c: _spatial_backward(d, c, how={"mean_term": False})),
    ]


# ---------------------------------------------------------------------------------------------
# Layer norm
# ---------------------------------------------------------------------------------------------

def _ln_forward(x, gamma, beta, *, eps=1e-5, axis=1, ddof=0, eps_outside=False):
    xhat, _, _ = _normalize(x, axis, eps, ddof=ddof, eps_outside=eps_outside)
    return gamma * xhat + beta, None


def layernorm_forward_mistakes():
    return [
        ("layer norm's statistics are per example, over its D features (axis 1), not over the "
         "batch (axis 0, which is batch norm)",
         lambda *a, **k: _ln_forward(*a, **k, axis=0)),
        ("normalize with the biased variance, divided by D, not D - 1",
         lambda *a, **k: _ln_forward(*a, **k, ddof=1)),
        ("eps goes inside the square root: (x - mu) / sqrt(var + eps)",
         lambda *a, **k: _ln_forward(*a, **k, eps_outside=True)),
    ]


def _ln_backward(dout, cache, *, axis=1, mean_term=True, var_term=True, dgamma_axis=0):
    xhat, std, gamma = cache
    dxhat = dout * gamma
    if axis == 0:  # batch norm's formula with layer norm's x_hat and std
        dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    else:
        dx = _dx(dxhat, xhat, std, 1, mean_term=mean_term, var_term=var_term)
    return dx, (dout * xhat).sum(axis=dgamma_axis), dout.sum(axis=dgamma_axis)


def layernorm_backward_mistakes():
    return [
        ("layer norm's mean and variance are over the features of each example: the sums in dx "
         "are over axis 1, not over the batch",
         lambda d, c: _ln_backward(d, c, axis=0)),
        ("each example's mean and variance depend on all its features: add the paths through mu "
         "and var to dout * gamma / sqrt(var + eps)",
         lambda d, c: _ln_backward(d, c, mean_term=False, var_term=False)),
        ("the path through the example's mean adds -mean(dout * gamma) over the features, divided "
         "by sqrt(var + eps)",
         lambda d, c: _ln_backward(d, c, mean_term=False)),
        ("the path through the example's variance adds -x_hat * mean(dout * gamma * x_hat) over "
         "the features, divided by sqrt(var + eps)",
         lambda d, c: _ln_backward(d, c, var_term=False)),
        ("gamma and beta are shared by all examples: sum dout * x_hat and dout over the batch "
         "(axis 0), one value per feature",
         lambda d, c: _ln_backward(d, c, dgamma_axis=1)),
    ]


# ---------------------------------------------------------------------------------------------
# Group and instance norm
# ---------------------------------------------------------------------------------------------

def _gn_forward(x, gamma, beta, *, groups, eps=1e-5, how, ddof=0, eps_outside=False):
    N, C, H, W = x.shape
    if how == "groups":  # the right groups; ddof or eps_outside make it wrong
        grouped = x.reshape(N, groups, C // groups, H, W)
        xhat, _, _ = _normalize(grouped, (2, 3, 4), eps, ddof=ddof, eps_outside=eps_outside)
    elif how == "interleaved":  # channel c in group c % groups
        grouped = x.reshape(N, C // groups, groups, H, W)
        xhat, _, _ = _normalize(grouped, (1, 3, 4), eps)
    elif how == "per_channel":
        xhat, _, _ = _normalize(x, (2, 3), eps)
    else:  # "channels_only": statistics over the group's channels at each position
        grouped = x.reshape(N, groups, C // groups, H, W)
        xhat, _, _ = _normalize(grouped, 2, eps)
    return _channel(gamma) * xhat.reshape(N, C, H, W) + _channel(beta), None


def groupnorm_forward_mistakes():
    return [
        ("a group is C / groups *consecutive* channels (x.reshape(N, groups, -1)), not every "
         "groups-th channel",
         lambda *a, **k: _gn_forward(*a, **k, how="interleaved")),
        ("the statistics are over a whole group of channels, not over each channel alone (that is "
         "instance norm)",
         lambda *a, **k: _gn_forward(*a, **k, how="per_channel")),
        ("a group's statistics include all positions (H, W) of its channels, not each position "
         "separately",
         lambda *a, **k: _gn_forward(*a, **k, how="channels_only")),
        ("normalize with the biased variance, divided by the group's size, not size - 1",
         lambda *a, **k: _gn_forward(*a, **k, how="groups", ddof=1)),
        ("eps goes inside the square root: (x - mu) / sqrt(var + eps)",
         lambda *a, **k: _gn_forward(*a, **k, how="groups", eps_outside=True)),
    ]


# the statistics are per example, but gamma and beta are not: (N, C) sums left over the batch
DGAMMA_PER_EXAMPLE = ("gamma and beta are shared by all examples, one value per channel: sum "
                      "dout * x_hat and dout over the batch too, axes (0, 2, 3), not over the "
                      "positions (2, 3) alone, which leaves one value per example and channel")


def _grouped_backward(dout, xhat, std, gamma, groups, *, mean_term=True, var_term=True,
                      dgamma_axes=(0, 2, 3)):
    N, C, H, W = dout.shape
    dxhat = (dout * _channel(gamma)).reshape(N, groups, -1)
    dx = _dx(dxhat, xhat.reshape(N, groups, -1), std.reshape(N, groups, 1), 2,
             mean_term=mean_term, var_term=var_term).reshape(N, C, H, W)
    return dx, (dout * xhat).sum(axis=dgamma_axes), dout.sum(axis=dgamma_axes)


def groupnorm_backward_mistakes():
    def wrong(**how):
        return lambda d, c: _grouped_backward(d, c[0], c[1], c[2], c[3], **how)
    return [
        ("each group's mean and variance depend on all its values: add the paths through mu and "
         "var to dout * gamma / sqrt(var + eps)", wrong(mean_term=False, var_term=False)),
        ("the path through the group's mean adds -mean(dout * gamma) over the group, divided by "
         "sqrt(var + eps)", wrong(mean_term=False)),
        ("the path through the group's variance adds -x_hat * mean(dout * gamma * x_hat) over the "
         "group, divided by sqrt(var + eps)", wrong(var_term=False)),
        ("dgamma and dbeta have one entry per channel: sum over the batch and the positions, axes "
         "(0, 2, 3)", wrong(dgamma_axes=0)),
        (DGAMMA_PER_EXAMPLE, wrong(dgamma_axes=(2, 3))),
    ]


def _in_forward(x, gamma, beta, *, eps=1e-5, axes=(2, 3), ddof=0, eps_outside=False):
    xhat, _, _ = _normalize(x, axes, eps, ddof=ddof, eps_outside=eps_outside)
    return _channel(gamma) * xhat + _channel(beta), None


def instancenorm_forward_mistakes():
    return [
        ("instance norm's statistics are per example *and* channel, over (H, W) only, not over "
         "all channels (that is layer norm)",
         lambda *a, **k: _in_forward(*a, **k, axes=(1, 2, 3))),
        ("instance norm's statistics are per example, over (H, W): not over the batch (that is "
         "batch norm)",
         lambda *a, **k: _in_forward(*a, **k, axes=(0, 2, 3))),
        ("normalize with the biased variance, divided by H * W, not H * W - 1",
         lambda *a, **k: _in_forward(*a, **k, ddof=1)),
        ("eps goes inside the square root: (x - mu) / sqrt(var + eps)",
         lambda *a, **k: _in_forward(*a, **k, eps_outside=True)),
    ]


def instancenorm_backward_mistakes():
    def wrong(**how):
        def backward(d, c):
            xhat, std, gamma = c
            return _grouped_backward(d, xhat, std, gamma, d.shape[1], **how)
        return backward
    return [
        ("each (example, channel)'s mean and variance depend on all its positions: add the paths "
         "through mu and var to dout * gamma / sqrt(var + eps)",
         wrong(mean_term=False, var_term=False)),
        ("the path through the mean adds -mean(dout * gamma) over (H, W), divided by sqrt(var + "
         "eps)", wrong(mean_term=False)),
        ("the path through the variance adds -x_hat * mean(dout * gamma * x_hat) over (H, W), "
         "divided by sqrt(var + eps)", wrong(var_term=False)),
        ("dgamma and dbeta have one entry per channel: sum over the batch and the positions, axes "
         "(0, 2, 3)", wrong(dgamma_axes=0)),
        (DGAMMA_PER_EXAMPLE, wrong(dgamma_axes=(2, 3))),
    ]


MISTAKES = {
    "normalization.batchnorm_forward": batchnorm_forward_mistakes(),
    "normalization.batchnorm_backward": batchnorm_backward_mistakes(),
    "normalization.batchnorm_backward_alt": batchnorm_backward_alt_mistakes(),
    "normalization.spatial_batchnorm_forward": spatial_batchnorm_forward_mistakes(),
    "normalization.spatial_batchnorm_backward": spatial_batchnorm_backward_mistakes(),
    "normalization.layernorm_forward": layernorm_forward_mistakes(),
    "normalization.layernorm_backward": layernorm_backward_mistakes(),
    "normalization.groupnorm_forward": groupnorm_forward_mistakes(),
    "normalization.groupnorm_backward": groupnorm_backward_mistakes(),
    "normalization.instancenorm_forward": instancenorm_forward_mistakes(),
    "normalization.instancenorm_backward": instancenorm_backward_mistakes(),
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "normalization.layernorm_forward": [
        ("layer norm's mean and variance are per example (axis 1), kept as columns with "
         "keepdims=True (shape (N, 1)) so that they apply to their own row",
         edited("normalization.layernorm_forward", ("mu = x.mean(axis=1, keepdims=True)",
                                                    "mu = x.mean(axis=1)"))),
    ],
    "normalization.layernorm_backward": [
        ("the means over the features in dx are per example: take them with axis=1 and "
         "keepdims=True (shape (N, 1)) so that they apply to their own row",
         edited("normalization.layernorm_backward",
                ("dx = (dxhat - dxhat.mean(axis=1, keepdims=True)",
                 "dx = (dxhat - dxhat.mean(axis=1)"))),
    ],
    "normalization.groupnorm_forward": [
        ("gamma and beta have one entry per channel, axis 1 of x: reshape them to (1, C, 1, 1) "
         "before multiplying and adding, or they line up with the last axis",
         edited("normalization.groupnorm_forward",
                ("out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)\n"
                 "    cache = (xhat, std, gamma, groups)",
                 "out = gamma * xhat + beta\n    cache = (xhat, std, gamma, groups)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- mistakes right on nice inputs
# Each agrees with the reference on some shapes only (N == D, groups * groups == C), so the
# student who tried a square example believes it; the grader's shapes tell them apart.

for _key, _entries in {
    "normalization.batchnorm_backward": [
        ("N is the number of examples, dout.shape[0] (the batch axis), not dout.shape[1] (the "
         "features D): the means over the batch divide by N, and the two agree only when N == D",
         edited("normalization.batchnorm_backward",
                ("        N = dout.shape[0]\n        dxc = dxhat / std",
                 "        N = dout.shape[1]\n        dxc = dxhat / std"))),
    ],
    "normalization.batchnorm_backward_alt": [
        ("N is the number of examples, dout.shape[0] (the batch axis), not dout.shape[1] (the "
         "features D): the closed form divides by N, and the two agree only when N == D",
         edited("normalization.batchnorm_backward_alt",
                ("    N = dout.shape[0]\n    dbeta = dout.sum(axis=0)",
                 "    N = dout.shape[1]\n    dbeta = dout.sum(axis=0)"))),
    ],
    "normalization.spatial_batchnorm_forward": [
        ("the rows of the flattened output are (example, position) pairs with the channels "
         "last: reshape it to (N, H, W, C) and move the channels back with .transpose(0, 3, 1, "
         "2); reshape(N, C, H, W) alone gives the right shape but mixes channels and positions",
         edited("normalization.spatial_batchnorm_forward",
                ("    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
                 "    out = out_flat.reshape(N, C, H, W)"))),
    ],
    "normalization.groupnorm_forward": [
        ("x.reshape(N, groups, -1): the second axis counts the groups, not the channels per "
         "group (C // groups); the two agree only when groups * groups == C",
         edited("normalization.groupnorm_forward",
                ("    grouped = x.reshape(N, groups, -1)",
                 "    grouped = x.reshape(N, C // groups, -1)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries
