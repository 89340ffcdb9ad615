"""Known mistakes of unit 05: wrong update rules, clipping and schedules, each with the signature
of the function it imitates (a rule keeps its own state in its config, as a student's would).

When a student's output matches one of these where it is wrong, the verdict names the mistake.
Each is tested to be recognised (autograder/tests/test_hints.py).
"""

import math

import numpy as np

DEFAULTS = {
    "sgd": {"learning_rate": 1e-2, "weight_decay": 0.0},
    "momentum": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-10, "weight_decay": 0.0},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8, "weight_decay": 0.0},
    "adadelta": {"learning_rate": 1.0, "decay_rate": 0.9, "epsilon": 1e-6, "weight_decay": 0.0},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
             "weight_decay": 0.0, "decoupled": False},
}


def _config(kind, config):
    config = dict(config or {})
    for key, value in DEFAULTS[kind].items():
        config.setdefault(key, value)
    return config


# ---------------------------------------------------------------- SGD

def sgd_variant(*, ascent=False, decay="in_g"):
    def sgd(w, dw, config=None):
        config = _config("sgd", config)
        lr, wd = config["learning_rate"], config["weight_decay"]
        g = {"in_g": dw + wd * w, "ignored": dw, "twice": dw + 2 * wd * w}.get(decay, dw)
        step = lr * g + (wd * w if decay == "no_lr" else 0.0)
        return (w + step if ascent else w - step), config
    return sgd


SGD = [
    ("the step goes up the gradient: SGD moves against it, next_w = w - learning_rate * g",
     sgd_variant(ascent=True)),
    ("weight_decay is ignored: the step must use g = dw + weight_decay * w",
     sgd_variant(decay="ignored")),
    ("the weight-decay term of g is weight_decay * w (the gradient of weight_decay / 2 * ||w||^2), "
     "not 2 * weight_decay * w", sgd_variant(decay="twice")),
    ("the weight decay is subtracted without the learning rate: it belongs in the gradient, "
     "g = dw + weight_decay * w, and the whole g is multiplied by learning_rate",
     sgd_variant(decay="no_lr")),
]


# ---------------------------------------------------------------- momentum and Nesterov

def momentum_variant(*, nesterov=False, ascent=False, lr_inside=False, average=False,
                     old_velocity=False, decay_outside=False, plain=False, full_lookahead=False,
                     forget=False, no_decay=False, starts_at_g=False):
    """SGD with (Nesterov) momentum; each flag is one mistake."""
    def rule(w, dw, config=None):
        config = _config("momentum", config)
        lr, mu, wd = config["learning_rate"], config["momentum"], config["weight_decay"]
        g = dw if decay_outside or no_decay else dw + wd * w
        v_old = config.get("_v", g if starts_at_g else np.zeros_like(w))
        if lr_inside:  # v holds steps: v = mu * v - lr * g, w + v (or Nesterov's CS231n form)
            v = mu * v_old - lr * g
            step = (-mu * v_old + (1 + mu) * v) if nesterov else v
            return w + step, dict(config, _v=v)
        v = mu * v_old + ((1 - mu) * g if average else g)
        if nesterov and not plain:
            step = g + (v if full_lookahead else mu * v)
        else:
            step = v_old if old_velocity else v
        if decay_outside:
            step = step + wd * w
        next_w = w + lr * step if ascent else w - lr * step
        return next_w, (config if forget else dict(config, _v=v))
    return rule


LR_INSIDE = ("the learning rate is inside the velocity (v = momentum * v - learning_rate * g): "
             "the same steps while the rate is constant, but a schedule's new rate must apply at "
             "once; keep v = momentum * v + g and multiply by learning_rate in the step")
SIGN = ("the velocity and the step have opposite signs, so the point climbs: with "
        "v = momentum * v + g the step is w - learning_rate * (...)")

NO_DECAY = "weight_decay is ignored: the rule must work on g = dw + weight_decay * w"
FORGET_VELOCITY = ("the velocity is not kept between calls: store the new v in the returned config "
                   "and start from it at the next call (v = g only on the first step)")

# config.get("velocity", g): the old velocity defaults to g, so the first v is (1 + momentum) * g
STARTS_AT_G = ("the velocity starts at 0, not at g: the first step has v = momentum * 0 + g = g "
               "(v = g when there is no velocity yet), not momentum * g + g")

MOMENTUM = [
    (SIGN, momentum_variant(ascent=True)),
    (FORGET_VELOCITY, momentum_variant(forget=True)),
    (LR_INSIDE, momentum_variant(lr_inside=True)),
    ("the velocity is a running average (v = momentum * v + (1 - momentum) * g): momentum sums "
     "the gradients, v = momentum * v + g", momentum_variant(average=True)),
    ("the step uses the velocity of the previous step: update v = momentum * v + g first, then "
     "step with the new v (the first step must move by learning_rate * g)",
     momentum_variant(old_velocity=True)),
    ("the weight decay must go into the velocity: g = dw + weight_decay * w, then "
     "v = momentum * v + g", momentum_variant(decay_outside=True)),
    (NO_DECAY, momentum_variant(no_decay=True)),
    (STARTS_AT_G, momentum_variant(starts_at_g=True)),
]

NESTEROV = [
    (SIGN, momentum_variant(nesterov=True, ascent=True)),
    (FORGET_VELOCITY, momentum_variant(nesterov=True, forget=True)),
    ("this is plain momentum (w - learning_rate * v): Nesterov's step looks ahead, "
     "w - learning_rate * (g + momentum * v)", momentum_variant(nesterov=True, plain=True)),
    ("the look-ahead term is momentum * v: the step is w - learning_rate * (g + momentum * v), "
     "not g + v", momentum_variant(nesterov=True, full_lookahead=True)),
    (LR_INSIDE, momentum_variant(nesterov=True, lr_inside=True)),
    ("the weight decay must go into the velocity: g = dw + weight_decay * w is used in both v "
     "and the step", momentum_variant(nesterov=True, decay_outside=True)),
    (NO_DECAY, momentum_variant(nesterov=True, no_decay=True)),
    (STARTS_AT_G, momentum_variant(nesterov=True, starts_at_g=True)),
]


# ---------------------------------------------------------------- AdaGrad and RMSProp

def adagrad_variant(*, no_sum=False, eps_inside=False, no_sqrt=False, sum_after=False,
                    no_decay=False):
    def adagrad(w, dw, config=None):
        config = _config("adagrad", config)
        lr, eps = config["learning_rate"], config["epsilon"]
        g = dw if no_decay else dw + config["weight_decay"] * w
        r_old = config.get("_r", np.zeros_like(w))
        r = g * g if no_sum else r_old + g * g
        used = r_old if sum_after else r
        denom = np.sqrt(used + eps) if eps_inside else (used if no_sqrt else np.sqrt(used) + eps)
        return w - lr * g / denom, dict(config, _r=r)
    return adagrad


EPS_INSIDE = "epsilon goes outside the square root: divide by sqrt(r) + epsilon"

ADAGRAD = [
    ("the squared gradients must be accumulated: r = r + g * g sums over all steps, not only "
     "this step's g * g", adagrad_variant(no_sum=True)),
    (EPS_INSIDE, adagrad_variant(eps_inside=True)),
    ("the step divides by the square root of r: g / (sqrt(r) + epsilon)",
     adagrad_variant(no_sqrt=True)),
    ("add this step's g * g to r before the step, not after (the first step must divide by "
     "|g| + epsilon)", adagrad_variant(sum_after=True)),
    (NO_DECAY, adagrad_variant(no_decay=True)),
]


def rmsprop_variant(*, swapped=False, eps_inside=False, start_at_g2=False, not_squared=False,
                    no_sqrt=False, forget=False, no_decay=False):
    def rmsprop(w, dw, config=None):
        config = _config("rmsprop", config)
        lr, rho, eps = config["learning_rate"], config["decay_rate"], config["epsilon"]
        g = dw if no_decay else dw + config["weight_decay"] * w
        g2 = g if not_squared else g * g
        if "_r" not in config and start_at_g2:
            r = g2
        else:
            r_old = config.get("_r", np.zeros_like(w))
            r = (1 - rho) * r_old + rho * g2 if swapped else rho * r_old + (1 - rho) * g2
        denom = np.sqrt(r + eps) if eps_inside else (r + eps if no_sqrt else np.sqrt(r) + eps)
        return w - lr * g / denom, (config if forget else dict(config, _r=r))
    return rmsprop


RMSPROP = [
    ("the weights of the running average are swapped: r = decay_rate * r "
     "+ (1 - decay_rate) * g * g keeps most of the old r", rmsprop_variant(swapped=True)),
    (EPS_INSIDE, rmsprop_variant(eps_inside=True)),
    # a bias correction r / (1 - decay_rate**t), as Adam's, gives the same first step
    ("the running average starts at 0, not at the first g * g, and is not bias-corrected (no "
     "division by 1 - decay_rate**t, as in PyTorch): the first step has "
     "r = (1 - decay_rate) * g * g", rmsprop_variant(start_at_g2=True)),
    ("the running average is of the squared gradients: (1 - decay_rate) * g * g, not "
     "(1 - decay_rate) * g", rmsprop_variant(not_squared=True)),
    ("the step divides by the square root of r: g / (sqrt(r) + epsilon)",
     rmsprop_variant(no_sqrt=True)),
    ("the running average is not kept between calls: store the new r in the returned config and "
     "start from it at the next call", rmsprop_variant(forget=True)),
    (NO_DECAY, rmsprop_variant(no_decay=True)),
]


# ---------------------------------------------------------------- AdaDelta

def adadelta_variant(*, new_u=False, eps_outside=False, eps_denominator_only=False, u_of_g2=False,
                     no_numerator=False, no_lr=False, swapped=False, forget=False,
                     no_decay=False, u_of_step=False, old_v=False, decoupled=False,
                     v_starts_at_g2=False):
    """AdaDelta; each flag is one mistake."""
    def adadelta(w, dw, config=None):
        config = _config("adadelta", config)
        lr, rho, eps = config["learning_rate"], config["decay_rate"], config["epsilon"]
        keep, new = (1 - rho, rho) if swapped else (rho, 1 - rho)
        g = dw if no_decay or decoupled else dw + config["weight_decay"] * w
        v_old = config.get("_v", np.zeros_like(w))
        v = g * g if v_starts_at_g2 and "_v" not in config else keep * v_old + new * g * g
        u_old = config.get("_u", np.zeros_like(w))

        def ratio(u):
            if eps_outside:
                return (np.sqrt(u) + eps) / (np.sqrt(v) + eps)
            if eps_denominator_only:
                return np.sqrt(u) / np.sqrt(v + eps)
            if no_numerator:
                return 1.0 / np.sqrt(v + eps)
            return np.sqrt(u + eps) / np.sqrt((v_old if old_v else v) + eps)

        delta = ratio(u_old) * g
        step = (1.0 if no_lr else lr) * delta
        u = keep * u_old + new * (g * g if u_of_g2 else step * step if u_of_step
                                  else delta * delta)
        if new_u:  # every average updated first, then the step taken with the new u
            delta = ratio(u) * g
            step = (1.0 if no_lr else lr) * delta
        next_w = w - step
        if decoupled:
            next_w = next_w - lr * config["weight_decay"] * w
        return next_w, (config if forget else dict(config, _v=v, _u=u))
    return adadelta


ADADELTA = [
    ("your numerator already uses the u updated with this step's delta: compute delta = "
     "sqrt(u + epsilon) / sqrt(v + epsilon) * g with the u of the previous steps (0 on the first "
     "step), step by that delta, and only then update u with delta * delta",
     adadelta_variant(new_u=True)),
    ("epsilon goes inside both square roots: delta = sqrt(u + epsilon) / sqrt(v + epsilon) * g, "
     "not (sqrt(u) + epsilon) / (sqrt(v) + epsilon) * g (unlike RMSProp)",
     adadelta_variant(eps_outside=True)),
    ("epsilon is missing from the numerator: with u starting at 0, sqrt(u) stays 0 and w never "
     "moves; the numerator is sqrt(u + epsilon)", adadelta_variant(eps_denominator_only=True)),
    ("u is the running average of the squared steps, u = decay_rate * u + (1 - decay_rate) * "
     "delta * delta, not of the squared gradients (that is v)", adadelta_variant(u_of_g2=True)),
    ("the numerator sqrt(u + epsilon) is missing: AdaDelta multiplies RMSProp's g / sqrt(v + "
     "epsilon) by sqrt(u + epsilon), the size of the recent steps", adadelta_variant(
         no_numerator=True)),
    ("learning_rate is ignored: the step is next_w = w - learning_rate * delta (the default 1.0 "
     "hides this; a config or a schedule may set another rate)", adadelta_variant(no_lr=True)),
    ("the weights of the running averages are swapped: v = decay_rate * v + (1 - decay_rate) * "
     "g * g (and the same for u) keeps most of the old average", adadelta_variant(swapped=True)),
    ("the running averages are not kept between calls: store the new v and u in the returned "
     "config and start from them at the next call", adadelta_variant(forget=True)),
    (NO_DECAY, adadelta_variant(no_decay=True)),
    ("u averages the squared delta, before the learning rate: u = decay_rate * u + (1 - "
     "decay_rate) * delta * delta with delta = sqrt(u + epsilon) / sqrt(v + epsilon) * g, not "
     "the squared step learning_rate * delta (the two agree only at learning_rate 1)",
     adadelta_variant(u_of_step=True)),
    ("update v with this step's g * g first, then compute delta with the new v (only u is used "
     "from the earlier steps)", adadelta_variant(old_v=True)),
    ("weight_decay is an L2 penalty added to the gradient, g = dw + weight_decay * w, before the "
     "averages (as torch.optim.Adadelta), not a separate decoupled shrinking of w",
     adadelta_variant(decoupled=True)),
    ("v starts at 0, not at the first g * g: the first step has v = (1 - decay_rate) * g * g",
     adadelta_variant(v_starts_at_g2=True)),
]


# ---------------------------------------------------------------- Adam

def adam_variant(*, no_correction=False, t_offset=0, eps_inside=False, sqrt_outside=False,
                 coupled_always=False, decay_without_lr=False, decay_after=False,
                 no_decay=False, folded=False, forget_t=False, coupled_ignored=False,
                 decay_twice=False, swapped=False, swapped_correction=False,
                 v_uncorrected=False):
    def adam(w, dw, config=None):
        config = _config("adam", config)
        lr, b1, b2, eps = (config["learning_rate"], config["beta1"], config["beta2"],
                           config["epsilon"])
        wd = config["weight_decay"]
        decoupled = config["decoupled"] and not coupled_always
        w_in = w
        if decoupled:
            g = dw + wd * w if decay_twice else dw
            if not decay_after and not no_decay:
                w = w * (1 - (wd if decay_without_lr else lr * wd))
        else:
            g = dw if coupled_ignored else dw + wd * w
        t = config.get("_t", 0) + 1
        keep1, keep2 = (1 - b1, 1 - b2) if swapped else (b1, b2)
        m = keep1 * config.get("_m", np.zeros_like(w_in)) + (1 - keep1) * g
        v = keep2 * config.get("_v", np.zeros_like(w_in)) + (1 - keep2) * g * g
        power = t + t_offset
        if folded:  # the paper's "efficient" form: the correction folded into the step size
            step_size = lr * math.sqrt(1 - b2 ** power) / (1 - b1 ** power)
            next_w = w - step_size * m / (np.sqrt(v) + eps)
        else:
            c1 = 1.0 if no_correction else 1 - b1 ** power
            c2 = 1.0 if no_correction or v_uncorrected else 1 - b2 ** power
            if swapped_correction:
                c1, c2 = c2, c1
            m_hat = m / c1
            if eps_inside:
                denom = np.sqrt(v / c2 + eps)
            elif sqrt_outside:
                denom = np.sqrt(v) / c2 + eps
            else:
                denom = np.sqrt(v / c2) + eps
            next_w = w - lr * m_hat / denom
        if decoupled and decay_after:
            next_w = next_w * (1 - lr * wd)
        return next_w, dict(config, _m=m, _v=v, _t=0 if forget_t else t)
    return adam


ADAM = [
    ("no bias correction: divide m by 1 - beta1**t and v by 1 - beta2**t (at t = 1 m is only "
     "(1 - beta1) * g)", adam_variant(no_correction=True)),
    ("the bias correction counts from t = 0: the first step has t = 1 (1 - beta**0 = 0 divides "
     "by zero)", adam_variant(t_offset=-1)),
    ("the bias correction uses the wrong power of t (t + 1 on the first step: is the counter "
     "incremented twice?); the first step has t = 1", adam_variant(t_offset=1)),
    ("the step counter t is not kept between calls: store it in the returned config, so that the "
     "k-th call uses t = k", adam_variant(forget_t=True)),
    (EPS_INSIDE.replace("sqrt(r)", "sqrt(v_hat)"), adam_variant(eps_inside=True)),
    ("v's bias correction goes inside the square root: sqrt(v / (1 - beta2**t)), not "
     "sqrt(v) / (1 - beta2**t)", adam_variant(sqrt_outside=True)),
    ("with decoupled=True (AdamW) the weight decay is not added to the gradient: shrink "
     "w * (1 - learning_rate * weight_decay) first, then the Adam step with g = dw",
     adam_variant(coupled_always=True)),
    ("AdamW's decay is multiplied by the learning rate: w * (1 - learning_rate * weight_decay), "
     "not w * (1 - weight_decay)", adam_variant(decay_without_lr=True)),
    ("AdamW shrinks w before the Adam step (w' = w * (1 - learning_rate * weight_decay), then "
     "w' - step), not after it", adam_variant(decay_after=True)),
    ("with decoupled=True the weight decay still applies, as w * (1 - learning_rate * "
     "weight_decay) before the step", adam_variant(no_decay=True)),
    ("with decoupled=True (AdamW) the decay is the shrinking of w alone: the gradient is dw, "
     "without weight_decay * w (that is Adam's L2 penalty, decoupled=False)",
     adam_variant(decay_twice=True)),
    ("weight_decay is ignored: with decoupled=False Adam works on g = dw + weight_decay * w",
     adam_variant(coupled_ignored=True)),
    ("epsilon is added to sqrt(v_hat), after the bias correction: folding the correction into "
     "the step size (learning_rate * sqrt(1 - beta2**t) / (1 - beta1**t)) changes what epsilon "
     "is compared with", adam_variant(folded=True)),
    ("the weights of the running averages are swapped: m = beta1 * m + (1 - beta1) * g and v = "
     "beta2 * v + (1 - beta2) * g * g keep most of the old averages",
     adam_variant(swapped=True)),
    ("the bias corrections are swapped: m (the average of g, weight beta1) is divided by "
     "1 - beta1**t and v (of g * g, weight beta2) by 1 - beta2**t",
     adam_variant(swapped_correction=True)),
    ("v needs its bias correction too: sqrt(v / (1 - beta2**t)), not sqrt(v); at t = 1 v is "
     "only (1 - beta2) * g * g", adam_variant(v_uncorrected=True)),
]


# ---------------------------------------------------------------- clipping

def clip_variant(*, per_array=False, always=False, no_sqrt=False, norm_after=False,
                 inverted=False, never=False, sum_of_norms=False):
    def clip_grad_norm(grads, max_norm):
        squares = {k: float((g * g).sum()) for k, g in grads.items()}
        total = sum(squares.values())
        total = total if no_sqrt else math.sqrt(total)
        if sum_of_norms:
            total = sum(math.sqrt(s) for s in squares.values())
        clipped = {}
        for k, g in grads.items():
            norm = math.sqrt(squares[k]) if per_array else total
            if norm == 0 or never:
                scale = 1.0
            elif inverted:
                scale = min(1.0, norm / max_norm)
            else:
                scale = max_norm / norm if always else min(1.0, max_norm / norm)
            clipped[k] = g * scale
        if norm_after:
            total = math.sqrt(sum(float((g * g).sum()) for g in clipped.values()))
        return clipped, total
    return clip_grad_norm


CLIP = [
    ("you clipped each array by its own norm: clip them all together by total_norm, the norm "
     "of all the gradients together (sqrt of the sum of every array's sum of squares)",
     clip_variant(per_array=True)),
    ("gradients whose norm is already at most max_norm are left unchanged: the factor is "
     "min(1, max_norm / total_norm)", clip_variant(always=True)),
    ("total_norm is the square root of the sum of squares, not the sum of squares itself",
     clip_variant(no_sqrt=True)),
    ("total_norm is the norm before clipping, not that of the clipped gradients",
     clip_variant(norm_after=True)),
    ("the factor is max_norm / total_norm (at most 1), not total_norm / max_norm",
     clip_variant(inverted=True)),
    ("the gradients came back unscaled although their total norm is above max_norm: multiply "
     "every array by max_norm / total_norm whenever total_norm > max_norm",
     clip_variant(never=True)),
    ("total_norm is not the sum of the arrays' norms: it is the norm of all the gradients as one "
     "vector, sqrt(sum over every array of sum(grad**2))", clip_variant(sum_of_norms=True)),
]


# ---------------------------------------------------------------- schedules

STEP_DECAY = [
    ("the exponent is floor(step / step_size) (integer division): the rate drops in steps, not "
     "continuously",
     lambda step, *, lr0, step_size, gamma=0.1: lr0 * gamma ** (step / step_size)),
    ("off by one: the first drop comes at step = step_size (step is counted from 0)",
     lambda step, *, lr0, step_size, gamma=0.1: lr0 * gamma ** ((step + 1) // step_size)),
    ("gamma is raised to the power floor(step / step_size), not multiplied by it",
     lambda step, *, lr0, step_size, gamma=0.1: lr0 * gamma * (step // step_size)),
    ("round() is not floor: the exponent is floor(step / step_size), the number of whole "
     "periods of step_size steps done, so the first drop comes at step = step_size; rounding "
     "drops halfway through a period (round(2 / 3) is already 1): use integer division",
     lambda step, *, lr0, step_size, gamma=0.1: lr0 * gamma ** round(step / step_size)),
]

EXPONENTIAL_DECAY = [
    ("the rate is lr0 * gamma**step (gamma is the factor per step), not lr0 * exp(-gamma * step)",
     lambda step, *, lr0, gamma: lr0 * math.exp(-gamma * step)),
    ("off by one: at step 0 the rate is lr0 (gamma**0), step is counted from 0",
     lambda step, *, lr0, gamma: lr0 * gamma ** (step + 1)),
    ("gamma is the factor kept at each step: lr0 * gamma**step, not lr0 * (1 - gamma)**step",
     lambda step, *, lr0, gamma: lr0 * (1 - gamma) ** step),
]


def cosine_variant(*, no_half=False, from_zero=False, no_min=False, no_clamp=False,
                   warmup_plus_one=False, cosine_plus_one=False, warmup_from_min=False):
    def cosine_annealing(step, *, lr0, total_steps, lr_min=0.0, warmup_steps=0):
        low = 0.0 if no_min else lr_min
        if step < warmup_steps:
            if warmup_from_min:
                return lr_min + (lr0 - lr_min) * step / warmup_steps
            return lr0 * ((step + 1) if warmup_plus_one else step) / warmup_steps
        if step >= total_steps and not no_clamp:
            return low
        if from_zero:
            progress = step / total_steps
        else:
            progress = (step - warmup_steps + cosine_plus_one) / (total_steps - warmup_steps)
        shape = math.cos(math.pi * progress) if no_half else (1 + math.cos(math.pi * progress)) / 2
        return low + (lr0 - low) * shape
    return cosine_annealing


COSINE = [
    ("the cosine factor is (1 + cos(pi * s)) / 2, which goes from 1 to 0 (cos(pi * s) alone goes "
     "to -1)", cosine_variant(no_half=True)),
    ("after the warm-up the progress restarts from 0: s = (step - warmup_steps) / "
     "(total_steps - warmup_steps)", cosine_variant(from_zero=True)),
    ("lr_min is ignored: the cosine goes from lr0 down to lr_min, lr_min + (lr0 - lr_min) * ...",
     cosine_variant(no_min=True)),
    ("from total_steps on the rate stays at lr_min (the cosine must not rise again)",
     cosine_variant(no_clamp=True)),
    ("off by one in the warm-up: lr0 * step / warmup_steps is 0 at step 0 and lr0 at step "
     "warmup_steps", cosine_variant(warmup_plus_one=True)),
    ("off by one in the cosine: s = (step - warmup_steps) / (total_steps - warmup_steps) is 0 "
     "at step warmup_steps, where the rate is lr0", cosine_variant(cosine_plus_one=True)),
    ("the warm-up starts from 0, not from lr_min: lr = lr0 * step / warmup_steps (lr_min is "
     "only where the cosine ends)", cosine_variant(warmup_from_min=True)),
]


# ---------------------------------------------------------------- ReduceOnPlateau

def plateau_variant(*, early=False, no_reset=False, ties_improve=False, vs_previous=False,
                    ignore_mode=False, best_zero=False, from_lr0=False):
    class ReduceOnPlateau:
        def __init__(self, *, lr0, factor=0.1, patience=10, mode="min"):
            self.lr, self.factor, self.patience = float(lr0), factor, patience
            self.lr0 = float(lr0)
            self.mode = "min" if ignore_mode else mode
            self.best = math.inf if self.mode == "min" else -math.inf
            if best_zero and self.mode == "max":
                self.best = 0.0
            self.num_bad_steps = 0

        def step(self, metric):
            sign = 1 if self.mode == "min" else -1
            better = sign * metric <= sign * self.best if ties_improve else \
                sign * metric < sign * self.best
            if better:
                self.num_bad_steps = 0
            else:
                self.num_bad_steps += 1
            if better or vs_previous:
                self.best = metric
            if (self.num_bad_steps >= self.patience if early else
                    self.num_bad_steps > self.patience):
                self.lr = self.lr0 * self.factor if from_lr0 else self.lr * self.factor
                if not no_reset:
                    self.num_bad_steps = 0
            return self.lr
    return ReduceOnPlateau


PLATEAU = [
    ("mode='max' means larger is better (an accuracy): best starts at -inf and an improvement "
     "is a larger value", plateau_variant(ignore_mode=True)),
    ("the rate drops one step too early: only when the steps without an improvement exceed "
     "patience (the (patience + 1)-th in a row)", plateau_variant(early=True)),
    ("after a reduction the count of steps without an improvement starts again from 0",
     plateau_variant(no_reset=True)),
    ("an improvement is strictly better than the best so far: an equal value counts as a step "
     "without an improvement", plateau_variant(ties_improve=True)),
    ("compare with the best value so far, not with the previous value",
     plateau_variant(vs_previous=True)),
    ("in mode 'max' best starts at -inf, not 0: the first value is always an improvement, even "
     "a negative one", plateau_variant(best_zero=True)),
    ("each reduction multiplies the current rate by factor (lr = lr * factor), not the initial "
     "one: after two reductions the rate is lr0 * factor**2", plateau_variant(from_lr0=True)),
]


MISTAKES = {
    "optim.sgd": SGD,
    "optim.sgd_momentum": MOMENTUM,
    "optim.nesterov": NESTEROV,
    "optim.adagrad": ADAGRAD,
    "optim.rmsprop": RMSPROP,
    "optim.adadelta": ADADELTA,
    "optim.adam": ADAM,
    "optim.clip_grad_norm": CLIP,
    "optim.step_decay": STEP_DECAY,
    "optim.exponential_decay": EXPONENTIAL_DECAY,
    "optim.cosine_annealing": COSINE,
    "optim.ReduceOnPlateau": PLATEAU,
}


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``): their error gives the hint."""
    from ._edited import edited

    def first_step(state, start):
        return (f"KeyError on the first step: a fresh config (config=None, or hyperparameters "
                f"only) holds no {state} yet. Read the stored {state} only when the config has "
                f"it (an if on the key, or config.get); on the first step {start}")

    velocity = first_step("velocity", "v is simply g (the velocity starts at 0)")
    return {
        "optim.sgd_momentum": [(velocity, edited(
            "optim.sgd_momentum",
            ('    if "velocity" in config:\n'
             '        v = config["momentum"] * config["velocity"] + g  # a new array: the old '
             'one is kept\n'
             '    else:\n'
             '        v = g  # first step: momentum * 0 + g (g is a new array, never dw itself)\n',
             '    v = config["momentum"] * config["velocity"] + g\n')))],
        "optim.nesterov": [(velocity, edited(
            "optim.nesterov",
            ('    if "velocity" in config:\n'
             '        v = config["momentum"] * config["velocity"] + g\n'
             '    else:\n'
             '        v = g\n'
             '    next_w = w - config["learning_rate"] * (g + ',
             '    v = config["momentum"] * config["velocity"] + g\n'
             '    next_w = w - config["learning_rate"] * (g + ')))],
        "optim.adagrad": [(first_step("sum of squared gradients ('sum_sq')",
                                      "the sum is just this step's g * g"), edited(
            "optim.adagrad",
            ('r = config["sum_sq"] + g * g if "sum_sq" in config else g * g',
             'r = config["sum_sq"] + g * g')))],
        "optim.rmsprop": [(first_step("running average ('sq_avg')",
                                      "the old average counts as 0, so r is "
                                      "(1 - decay_rate) * g * g"), edited(
            "optim.rmsprop",
            ('    r = (1 - decay) * g * g\n    if "sq_avg" in config:\n'
             '        r = decay * config["sq_avg"] + r\n'
             '    next_w = w - config["learning_rate"] * g / (xp.sqrt(r) + config["epsilon"])',
             '    r = decay * config["sq_avg"] + (1 - decay) * g * g\n'
             '    next_w = w - config["learning_rate"] * g / (xp.sqrt(r) + config["epsilon"])')))],
        "optim.adadelta": [(first_step("average of the squared steps ('delta_sq_avg', u)",
                                       "u is an array of zeros shaped like w"), edited(
            "optim.adadelta",
            ('u = config["delta_sq_avg"] if "delta_sq_avg" in config else xp.zeros_like(g)',
             'u = config["delta_sq_avg"]')))],
        "optim.adam": [
            (first_step("moments ('m' and 'v')", "the old moments count as 0, so m is "
                        "(1 - beta1) * g and v is (1 - beta2) * g * g"), edited(
                "optim.adam",
                ('    if "m" in config:\n        m = beta1 * config["m"] + m\n'
                 '        v = beta2 * config["v"] + v\n',
                 '    m = beta1 * config["m"] + m\n    v = beta2 * config["v"] + v\n'))),
            (first_step("step counter ('t')", "the counter counts as 0, so this step has t = 1"),
             edited("optim.adam", ('t = config.get("t", 0) + 1', 't = config["t"] + 1'))),
        ],
        "optim.clip_grad_norm": [
        ("sum each gradient's squares to one number first, then add the numbers: "
         "sum(float((g * g).sum()) for g in grads.values()); arrays of different shapes cannot "
         "be added together",
         edited("optim.clip_grad_norm",
                ("math.sqrt(sum(float((g * g).sum()) for g in grads.values()))",
                 "math.sqrt(float(sum(g * g for g in grads.values()).sum()))"))),
    ]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs


def _edited_slips():
    """Slips written as one edit of the reference (``_edited``), most of them right on nice
    inputs only (no weight decay, a single step, no warm-up)."""
    from ._edited import edited

    decayed = ("the {avg} must use the same g as the step, g = dw + weight_decay * w (the "
               "weight-decay term included), not dw: the two agree only when weight_decay is 0")
    return {
        "optim.adam": [
            ("v averages the squared gradients, (1 - beta2) * g * g: with g alone v turns "
             "negative and its square root is NaN",
             edited("optim.adam", ("    v = (1 - beta2) * g * g\n", "    v = (1 - beta2) * g\n"))),
            ("the moments start at 0: on the first step m = (1 - beta1) * g and v = (1 - beta2) "
             "* g * g, and the bias correction then makes m_hat = g; starting them at g and "
             "g * g and still dividing by 1 - beta**t corrects twice",
             edited("optim.adam",
                    ('    m = (1 - beta1) * g\n    v = (1 - beta2) * g * g\n'
                     '    if "m" in config:\n        m = beta1 * config["m"] + m\n'
                     '        v = beta2 * config["v"] + v\n',
                     '    m = g\n    v = g * g\n    if "m" in config:\n'
                     '        m = beta1 * config["m"] + (1 - beta1) * g\n'
                     '        v = beta2 * config["v"] + (1 - beta2) * g * g\n'))),
            (decayed.format(avg="average of squares v"),
             edited("optim.adam", ("    v = (1 - beta2) * g * g\n",
                                   "    v = (1 - beta2) * dw * dw\n"))),
        ],
        "optim.adagrad": [(decayed.format(avg="sum of squares r"), edited(
            "optim.adagrad",
            ('r = config["sum_sq"] + g * g if "sum_sq" in config else g * g',
             'r = config["sum_sq"] + dw * dw if "sum_sq" in config else dw * dw')))],
        "optim.rmsprop": [(decayed.format(avg="running average of squares r"), edited(
            "optim.rmsprop",
            ("    r = (1 - decay) * g * g\n", "    r = (1 - decay) * dw * dw\n")))],
        "optim.clip_grad_norm": [(
            "clip by the global norm: every array is multiplied by one factor, min(1, max_norm "
            "/ total_norm), with total_norm the norm of all the gradients together; np.clip(g, "
            "-max_norm, max_norm) clips each entry on its own (clipping by value) and turns the "
            "gradient's direction",
            edited("optim.clip_grad_norm",
                   ("clipped = {name: g * scale for name, g in grads.items()}",
                    "clipped = {name: g.clip(-max_norm, max_norm) for name, g in grads.items()}"))
        )],
        "optim.cosine_annealing": [(
            "the cosine runs over the steps after the warm-up only: s = (step - warmup_steps) / "
            "(total_steps - warmup_steps), not divided by total_steps (the two agree only "
            "without a warm-up)",
            edited("optim.cosine_annealing",
                   ("progress = (step - warmup_steps) / (total_steps - warmup_steps)",
                    "progress = (step - warmup_steps) / total_steps")))],
    }


for _key, _pairs in _edited_slips().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs


def _examiner_slips():
    """Slips of a first attempt found by the examiner's sweep of unit 05, each one edit of the
    reference; without them the verdict named no cause, or the wrong one."""
    from ._edited import edited

    return {
        # torch.optim.SGD's dampening=momentum: the buffer starts at g and is then a running
        # average; the first step is right, so only the second one tells
        "optim.sgd_momentum": [(
            "from the second step on the velocity is a running average, momentum * v + "
            "(1 - momentum) * g (PyTorch's dampening): momentum adds the whole gradient, "
            "v = momentum * v + g",
            edited("optim.sgd_momentum",
                   ('v = config["momentum"] * config["velocity"] + g  # a new array',
                    'v = config["momentum"] * config["velocity"] + (1 - config["momentum"]) * g'
                    '  # a new array')))],
        # the bias-corrected moments stored as the state: the first step is right
        "optim.adam": [(
            "the state holds the running averages m and v themselves; storing the "
            "bias-corrected m_hat and v_hat makes the next step average (and correct) them again",
            edited("optim.adam", ("    config.update(m=m, v=v, t=t)",
                                  "    config.update(m=m_hat, v=v_hat, t=t)")))],
        # the rate saved before the reduction and returned: one step late at every reduction
        "optim.ReduceOnPlateau": [(
            "step returns the rate to use from now on: when this call reduces it, return the "
            "reduced rate (the rate read before the reduction is one step late)",
            edited("optim.ReduceOnPlateau",
                   ("        if self.num_bad_steps > self.patience:\n"
                    "            self.lr *= self.factor\n"
                    "            self.num_bad_steps = 0\n"
                    "        # END SOLUTION\n"
                    "        return self.lr",
                    "        lr = self.lr\n"
                    "        if self.num_bad_steps > self.patience:\n"
                    "            self.lr *= self.factor\n"
                    "            self.num_bad_steps = 0\n"
                    "        # END SOLUTION\n"
                    "        return lr")))],
    }


for _key, _pairs in _examiner_slips().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
