"""Unit 05: update rules (optimizers), gradient clipping and learning-rate schedules.

Every update rule has the contract the ``Trainer`` uses::

    next_w, next_config = rule(w, dw, config=None)

- ``w``: the parameter array (any shape), ``dw``: the gradient of the loss with respect to it (the
  same shape). Neither is modified in place: ``next_w`` is a new array.
- ``config``: a dict with the rule's hyperparameters (``learning_rate``, ``momentum``...) and, after
  the first call, the rule's state (a velocity, running averages, a step counter). ``None``, or a
  dict without some hyperparameter, means the defaults listed in the rule's docstring. The given
  dict is not modified, nor any array it holds: the rule returns a new dict, ``next_config``,
  with every hyperparameter (defaults filled in) and the new state, which the caller passes to the
  next call for the same parameter. A fresh config (no state yet) means "first step".
- The state is yours to name (the docstrings say what the reference calls it), under keys other
  than the hyperparameters', and holds only arrays and numbers (the Trainer saves configs in its
  checkpoints). The rule reads ``config["learning_rate"]`` at every call: a learning-rate schedule
  changes it between calls, and the new rate applies from that step on.

In each rule the provided first lines check the arrays and turn ``config`` into a new dict with
every default filled in (the caller's dict is copied, not changed): your code reads the
hyperparameters and the state from that dict, stores the new state in it (as new arrays, never by
changing the old ones in place: they are shared with the caller's config) and returns it.

Every rule accepts ``weight_decay`` (default 0), the L2 penalty ``weight_decay / 2 * ||w||^2`` added
to the loss, and works on the gradient of the penalized loss ``g = dw + weight_decay * w``
(except Adam with ``decoupled=True``, which is AdamW). The formulas are those of ``torch.optim``
(``SGD``, ``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam``, ``AdamW``), so the results can be
compared with PyTorch step by step.

The schedules are plain functions of the step (or epoch) number, as in
``torch.optim.lr_scheduler``; ``ReduceOnPlateau`` keeps the state it needs in an object.

The code takes its array module from its inputs (``xp = xp_of(w)``), so it runs on NumPy arrays
on a CPU and on CuPy arrays on a GPU.
"""

import math
import numbers

from .backend import xp_of
from .checks import check_scalar

# ---------------------------------------------------------------- checks (provided)

SGD_DEFAULTS = {"learning_rate": 1e-2, "weight_decay": 0.0}
MOMENTUM_DEFAULTS = {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}
ADAGRAD_DEFAULTS = {"learning_rate": 1e-2, "epsilon": 1e-10, "weight_decay": 0.0}
RMSPROP_DEFAULTS = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8,
                    "weight_decay": 0.0}
ADADELTA_DEFAULTS = {"learning_rate": 1.0, "decay_rate": 0.9, "epsilon": 1e-6,
                     "weight_decay": 0.0}
ADAM_DEFAULTS = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                 "weight_decay": 0.0, "decoupled": False}

# hyperparameter -> (lowest allowed, highest allowed, is the highest excluded)
_RANGES = {
    "learning_rate": (0.0, math.inf, False),
    "weight_decay": (0.0, math.inf, False),
    "epsilon": (0.0, math.inf, False),
    "momentum": (0.0, 1.0, True),
    "decay_rate": (0.0, 1.0, True),
    "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
}


def _settings(name, config, defaults):
    """A new dict: ``config`` (not modified) with the missing hyperparameters set to their
    defaults, each checked. The state the rule stored in ``config`` comes along unchanged."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError(f"{name}: config must be a dict or None, got {type(config).__name__}")
    if "lr" in config and "learning_rate" not in config:  # else the default rate, silently
        raise ValueError(f"{name}: config has the key 'lr', which no update rule reads: write "
                         f"{{'learning_rate': {config['lr']!r}}}")
    settings = dict(config)
    for key, default in defaults.items():
        settings.setdefault(key, default)
        value = settings[key]
        if key == "decoupled":
            if not isinstance(value, bool):
                raise TypeError(f"{name}: decoupled must be True or False, got {value!r}")
            continue
        low, high, open_high = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: {key} must be a number, got {value!r}")
        if not (low <= value <= high) or (open_high and value == high) or math.isnan(value):
            bound = f"< {high:g}" if open_high else f"<= {high:g}"
            raise ValueError(f"{name}: {key} must be >= {low:g} and {bound}, got {value!r}")
    return settings


def _check_arrays(name, w, dw):
    for what, a in (("w", w), ("dw", dw)):
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            raise TypeError(f"{name}: {what} must be an array, got {type(a).__name__}")
    if w.shape != dw.shape:
        raise ValueError(f"{name}: w{tuple(w.shape)} and dw{tuple(dw.shape)} must have the same "
                         "shape")
    if w.dtype.kind != "f":
        raise TypeError(f"{name}: w must hold floating-point numbers, got dtype {w.dtype}")


# ---------------------------------------------------------------- update rules

def sgd(w, dw, config=None):
    """Stochastic gradient descent: one step against the gradient.

        g = dw + weight_decay * w
        next_w = w - learning_rate * g

    Inputs:
        w: array of any shape, the parameter.
        dw: array of w's shape, the gradient of the loss with respect to w.
        config: None or a dict with
            learning_rate: the step size (default 1e-2).
            weight_decay: L2 penalty strength (default 0).
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict with the hyperparameters (defaults filled in). SGD has no state.
    """
    _check_arrays("sgd", w, dw)
    config = _settings("sgd", config, SGD_DEFAULTS)
    raise NotImplementedError("sgd: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: the step follows a velocity, a running sum of past gradients.

        g = dw + weight_decay * w
        v = momentum * v + g          (v = g on the first step: the velocity starts at 0)
        next_w = w - learning_rate * v

    Along a direction where the gradient keeps its sign the velocity grows to about
    g / (1 - momentum) (10 times the gradient for momentum 0.9); along a direction where it
    changes sign from step to step (the walls of a narrow valley) the terms cancel. So momentum
    speeds up the slow progress along shallow directions and damps the jitter along steep ones,
    and it carries the point through flat regions and saddle points.

    This is PyTorch's form: the velocity holds gradients only, and the learning rate multiplies it
    at each step. (The form v = momentum * v - learning_rate * g, next_w = w + v gives the same
    steps while the learning rate is constant; when a schedule changes the rate, PyTorch's form
    applies the new rate at once to the whole step, and that is the form graded here.)

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient.
        config: None or a dict with
            learning_rate: default 1e-2.
            momentum: the fraction of the velocity kept at each step, in [0, 1) (default 0.9).
            weight_decay: default 0.
            and, after the first call, the state: the velocity v, an array of w's shape (the
            reference calls it "velocity").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new velocity.
    """
    _check_arrays("sgd_momentum", w, dw)
    config = _settings("sgd_momentum", config, MOMENTUM_DEFAULTS)
    raise NotImplementedError("sgd_momentum: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def nesterov(w, dw, config=None):
    """SGD with Nesterov momentum: a momentum step that looks ahead.

        g = dw + weight_decay * w
        v = momentum * v + g          (v = g on the first step)
        next_w = w - learning_rate * (g + momentum * v)

    Nesterov's idea, in the look-ahead form of the lecture notes (rho = momentum, alpha =
    learning_rate, u a velocity of steps): first move along the velocity, take the gradient
    *there*, at the look-ahead point, and so correct the step before it overshoots:

        u_k = rho * u_{k-1} - alpha * grad L(w_k + rho * u_{k-1}),   w_{k+1} = w_k + u_k.

    That form needs the gradient at a point other than the parameters. Store the look-ahead point
    p_k = w_k + rho * u_{k-1} instead of w_k (p is what this function receives and returns as w)
    and the same method needs only the gradient g = grad L(p_k) at the stored point:

        u_k = rho * u_{k-1} - alpha * g,
        p_{k+1} = w_{k+1} + rho * u_k = p_k - alpha * g + rho * u_k.

    With u = -alpha * v (PyTorch's velocity holds gradients, not steps; alpha constant) this is the
    update above: the step is the current gradient plus momentum times the *new* velocity, where
    plain momentum steps by the velocity alone.

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient at w.
        config: None or a dict with learning_rate (default 1e-2), momentum in [0, 1) (default
            0.9), weight_decay (default 0), and after the first call the velocity v (the reference
            calls it "velocity").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new velocity.
    """
    _check_arrays("nesterov", w, dw)
    config = _settings("nesterov", config, MOMENTUM_DEFAULTS)
    raise NotImplementedError("nesterov: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def adagrad(w, dw, config=None):
    """AdaGrad: a learning rate per entry, divided by the root of its summed squared gradients.

        g = dw + weight_decay * w
        r = r + g * g                 (r starts at 0: elementwise, the sum over all steps so far)
        next_w = w - learning_rate * g / (sqrt(r) + epsilon)

    Entries with large gradients get small steps and entries with small gradients large ones,
    which evens out an ill-conditioned problem. Since r only grows, every step shrinks: good for
    convex problems, often too early a stop for networks. epsilon (outside the square root) only
    prevents a division by 0 where an entry's gradients have all been 0.

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient.
        config: None or a dict with learning_rate (default 1e-2), epsilon (default 1e-10),
            weight_decay (default 0), and after the first call the sum r, an array of w's shape
            (the reference calls it "sum_sq").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new sum.
    """
    _check_arrays("adagrad", w, dw)
    config = _settings("adagrad", config, ADAGRAD_DEFAULTS)
    raise NotImplementedError("adagrad: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: AdaGrad with a leaky sum, a running average of the squared gradients.

        g = dw + weight_decay * w
        r = decay_rate * r + (1 - decay_rate) * g * g      (r starts at 0)
        next_w = w - learning_rate * g / (sqrt(r) + epsilon)

    The average forgets old gradients (with decay_rate 0.99, over roughly the last 100 steps), so
    the steps no longer shrink for ever as AdaGrad's do. As in PyTorch, r is not bias-corrected:
    it starts at 0, so the first steps are larger (about learning_rate / sqrt(1 - decay_rate)
    per entry on the first step).

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient.
        config: None or a dict with learning_rate (default 1e-2), decay_rate in [0, 1) (default
            0.99), epsilon (default 1e-8), weight_decay (default 0), and after the first call the
            average r, an array of w's shape (the reference calls it "sq_avg").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new average.
    """
    _check_arrays("rmsprop", w, dw)
    config = _settings("rmsprop", config, RMSPROP_DEFAULTS)
    raise NotImplementedError("rmsprop: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def adadelta(w, dw, config=None):
    """AdaDelta: RMSProp whose step size comes from a second running average, that of the steps
    themselves, so that no learning rate has to be tuned.

        g = dw + weight_decay * w
        v = decay_rate * v + (1 - decay_rate) * g * g              (v starts at 0)
        delta = sqrt(u + epsilon) / sqrt(v + epsilon) * g          (u starts at 0; this is the
                                                                    u of the previous step)
        u = decay_rate * u + (1 - decay_rate) * delta * delta      (then u takes in this delta)
        next_w = w - learning_rate * delta

    v is RMSProp's running average of the squared gradients; u is a running average, with the
    same decay_rate, of the squared steps delta * delta (Zeiler 2012, "ADADELTA: an adaptive
    learning rate method": v is E[g^2], u is E[dx^2]). The order matters: delta is computed with
    the u of the earlier steps, and only then is u updated with this step's delta * delta.

    Why no learning rate is needed: in RMSProp the step is learning_rate * g / sqrt(v), and
    g / sqrt(v) is a pure number (about +-1 per entry): it has none of w's units or scale, so
    learning_rate has to supply them, and has to be tuned. In AdaDelta the numerator sqrt(u) is
    the size of the recent steps, in w's own units, so the step sqrt(u) / sqrt(v) * g has w's
    units (as a Newton step does): it scales itself from the steps taken so far. learning_rate
    stays only as an extra factor on the step, 1.0 by default (as ``torch.optim.Adadelta``'s
    lr=1.0); a schedule may still change it.

    epsilon goes inside both square roots (unlike RMSProp and AdaGrad, which add it to sqrt(r)).
    In the denominator it prevents a division by 0; in the numerator it starts the rule: u is 0
    before the first step, so the first step is about learning_rate * sqrt(epsilon) /
    sqrt(1 - decay_rate) per entry whatever the gradient's size (about 3e-3 with the defaults,
    for gradients well above that), and the steps grow from there as u fills; without epsilon in
    the numerator u would stay 0 and w would never move.

    The decay is called decay_rate, the name RMSProp's running average has in this file, since it
    plays the same part here, for both averages (PyTorch and Zeiler call it rho).

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient.
        config: None or a dict with learning_rate (default 1.0), decay_rate in [0, 1) (default
            0.9), epsilon (default 1e-6), weight_decay (default 0), and after the first call the
            state: the averages v and u, arrays of w's shape (the reference calls them "sq_avg"
            and "delta_sq_avg").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new averages.
    """
    _check_arrays("adadelta", w, dw)
    config = _settings("adadelta", config, ADADELTA_DEFAULTS)
    raise NotImplementedError("adadelta: not implemented yet; write it in coursework/optim.py")
    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum (a running average m of the gradients) with RMSProp's per-entry scaling
    (a running average v of their squares), both corrected for starting at 0.

        t = t + 1                                 (t = 1 on the first call)
        g = dw + weight_decay * w                 (decoupled=False: L2 penalty, as torch's Adam)
        m = beta1 * m + (1 - beta1) * g           (m and v start at 0)
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)                bias correction
        v_hat = v / (1 - beta2**t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Bias correction: on the first step m = (1 - beta1) * g, a tenth of the gradient for beta1 = 0.9,
    and v a thousandth of g * g; dividing by 1 - beta**t undoes exactly that (m_hat = g and
    v_hat = g * g at t = 1) and fades out as beta**t goes to 0.

    decoupled=True is AdamW (Loshchilov and Hutter): the weight decay is not added to the
    gradient, where Adam's scaling would weaken it for entries with large gradients; the weights
    shrink directly before the Adam step, which then uses g = dw:

        w' = w * (1 - learning_rate * weight_decay)
        next_w = w' - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Inputs:
        w: array of any shape. dw: array of w's shape, the gradient.
        config: None or a dict with learning_rate (default 1e-3), beta1 (default 0.9), beta2
            (default 0.999), both in [0, 1), epsilon (default 1e-8), weight_decay (default 0),
            decoupled (default False); and after the first call the state: m and v, arrays of
            w's shape, and the number of steps taken t (the reference calls them "m", "v", "t").
    Returns:
        next_w: a new array of w's shape.
        next_config: a new dict: the hyperparameters and the new state.
    """
    _check_arrays("adam", w, dw)
    config = _settings("adam", config, ADAM_DEFAULTS)
    raise NotImplementedError("adam: not implemented yet; write it in coursework/optim.py")
    return next_w, config


# ---------------------------------------------------------------- gradient clipping

def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``.

        total_norm = sqrt(sum over every array of sum(grad**2))
        clipped[name] = grads[name] * min(1, max_norm / total_norm)

    The norm is that of all the gradients as one long vector (not one norm per array), so the
    direction of the whole step is kept; gradients whose norm is already at most max_norm (zero
    gradients included) are returned unchanged. (PyTorch's ``clip_grad_norm_`` divides by
    total_norm + 1e-6; either is accepted.)

    Inputs:
        grads: a dict name -> array (any shapes), e.g. the grads of a model's loss.
        max_norm: a number > 0.
    Returns:
        clipped: a new dict with the keys of grads and new arrays (grads and its arrays are not
            modified).
        total_norm: a float, the global norm of the gradients before clipping.
    """
    if not isinstance(grads, dict):
        raise TypeError(f"clip_grad_norm: grads must be a dict of arrays, got "
                        f"{type(grads).__name__}")
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a number > 0, got {max_norm!r}")
    raise NotImplementedError(
        "clip_grad_norm: not implemented yet; write it in coursework/optim.py")
    return clipped, total_norm


# ---------------------------------------------------------------- learning-rate schedules

def _check_step(name, step):
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"{name}: step must be an integer >= 0, got {step!r}")


def _check_positive(name, what, value, *, integer=False, allow_zero=False):
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name}: {what} must be {'an integer' if integer else 'a number'}, got "
                        f"{value!r}")
    if not (value >= 0 if allow_zero else value > 0):
        raise ValueError(f"{name}: {what} must be {'>= 0' if allow_zero else '> 0'}, got "
                         f"{value!r}")


def step_decay(step, *, lr0, step_size, gamma=0.1):
    """Step decay: the rate is multiplied by ``gamma`` every ``step_size`` steps.

        lr = lr0 * gamma ** floor(step / step_size)

    ``torch.optim.lr_scheduler.StepLR``. The step is counted from 0 (the first update, or the first
    epoch when the schedule is applied per epoch).

    Inputs:
        step: an integer >= 0. lr0: the initial rate (> 0). step_size: an integer > 0.
        gamma: the factor (> 0, default 0.1).
    Returns:
        lr: a float.
    """
    _check_step("step_decay", step)
    _check_positive("step_decay", "lr0", lr0)
    _check_positive("step_decay", "step_size", step_size, integer=True)
    _check_positive("step_decay", "gamma", gamma)
    raise NotImplementedError("step_decay: not implemented yet; write it in coursework/optim.py")
    return float(lr)


def exponential_decay(step, *, lr0, gamma):
    """Exponential decay: the rate is multiplied by ``gamma`` at every step.

        lr = lr0 * gamma ** step

    ``torch.optim.lr_scheduler.ExponentialLR``.

    Inputs:
        step: an integer >= 0. lr0: the initial rate (> 0). gamma: the factor per step (> 0).
    Returns:
        lr: a float.
    """
    _check_step("exponential_decay", step)
    _check_positive("exponential_decay", "lr0", lr0)
    _check_positive("exponential_decay", "gamma", gamma)
    raise NotImplementedError(
        "exponential_decay: not implemented yet; write it in coursework/optim.py")
    return float(lr)


def cosine_annealing(step, *, lr0, total_steps, lr_min=0.0, warmup_steps=0):
    """Cosine annealing from ``lr0`` down to ``lr_min``, after an optional linear warm-up.

        step < warmup_steps:                  lr = lr0 * step / warmup_steps
        warmup_steps <= step < total_steps:   lr = lr_min + (lr0 - lr_min) * (1 + cos(pi * s)) / 2
                                              with s = (step - warmup_steps)
                                                       / (total_steps - warmup_steps)
        step >= total_steps:                  lr = lr_min

    The warm-up starts from 0 and reaches lr0 at step warmup_steps, where the cosine starts; the
    cosine falls slowly at first, fastest halfway, and slowly again near lr_min. Without warm-up
    this is ``torch.optim.lr_scheduler.CosineAnnealingLR`` with T_max = total_steps and
    eta_min = lr_min (which, unlike this schedule, rises again after T_max).

    Inputs:
        step: an integer >= 0. lr0: the peak rate (> 0). total_steps: an integer > 0, the step
        at which lr_min is reached. lr_min: the final rate, 0 <= lr_min <= lr0 (default 0).
        warmup_steps: an integer, 0 <= warmup_steps < total_steps (default 0).
    Returns:
        lr: a float.
    """
    _check_step("cosine_annealing", step)
    _check_positive("cosine_annealing", "lr0", lr0)
    _check_positive("cosine_annealing", "total_steps", total_steps, integer=True)
    _check_positive("cosine_annealing", "lr_min", lr_min, allow_zero=True)
    _check_positive("cosine_annealing", "warmup_steps", warmup_steps, integer=True,
                    allow_zero=True)
    if lr_min > lr0:
        raise ValueError(f"cosine_annealing: lr_min={lr_min!r} is above lr0={lr0!r}")
    if warmup_steps >= total_steps:
        raise ValueError(f"cosine_annealing: warmup_steps={warmup_steps!r} must be below "
                         f"total_steps={total_steps!r}")
    raise NotImplementedError(
        "cosine_annealing: not implemented yet; write it in coursework/optim.py")
    return float(lr)


class ReduceOnPlateau:
    """Divide the learning rate when a monitored metric stops improving.

    ``torch.optim.lr_scheduler.ReduceLROnPlateau`` with ``threshold=0`` and no cooldown: call
    ``step(metric)`` once per epoch with the validation loss (mode "min") or accuracy (mode "max").

    - An improvement is a value strictly better than the best so far (for mode "min", below
      ``best``; for "max", above it). The first value is always one (``best`` starts at +inf for
      "min", -inf for "max").
    - ``num_bad_steps`` counts the calls since the last improvement (0 after an improvement).
    - When it exceeds ``patience`` (the (patience + 1)-th call in a row without an improvement),
      the rate is multiplied by ``factor`` and ``num_bad_steps`` starts again from 0.
      Unit 04's ``EarlyStopping`` counts differently: it stops at the patience-th call without an
      improvement. Patience here is how many bad calls are tolerated, as in PyTorch.

    Inputs:
        lr0: the initial learning rate (> 0).
        factor: the multiplier applied at each reduction, 0 < factor < 1 (default 0.1).
        patience: how many calls without an improvement are tolerated, an integer >= 0 (default
            10).
        mode: "min" or "max" (default "min").
    Attributes:
        lr: the current learning rate (lr0 before the first call).
        best: the best metric seen so far. num_bad_steps: as above. factor, patience, mode.
    """

    def __init__(self, *, lr0, factor=0.1, patience=10, mode="min"):
        _check_positive("ReduceOnPlateau", "lr0", lr0)
        _check_positive("ReduceOnPlateau", "factor", factor)
        if factor >= 1:
            raise ValueError(f"ReduceOnPlateau: factor must be below 1, got {factor!r}")
        _check_positive("ReduceOnPlateau", "patience", patience, integer=True, allow_zero=True)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceOnPlateau: mode must be 'min' or 'max', got {mode!r}")
        self.factor, self.patience, self.mode = float(factor), int(patience), mode
        raise NotImplementedError(
            "ReduceOnPlateau.__init__: not implemented yet; write it in coursework/optim.py")

    def step(self, metric):
        """Record one value of the metric; return the learning rate to use from now on (a float).

        Inputs:
            metric: a number (the epoch's validation loss or accuracy): a float, or an array or
                tensor with no dimensions.
        """
        metric = check_scalar("ReduceOnPlateau.step", "metric", metric)
        if math.isnan(metric):
            raise ValueError("ReduceOnPlateau.step: metric is nan (did the loss diverge? a lower "
                             "learning rate may help)")
        raise NotImplementedError(
            "ReduceOnPlateau.step: not implemented yet; write it in coursework/optim.py")
        return self.lr
