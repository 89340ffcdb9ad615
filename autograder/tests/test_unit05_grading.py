"""Grading unit 05 through the real worker: the reference gets full marks, the stubs none;
implementations that keep their state differently (but correctly) get full marks; state kept
wrongly (changed in place, hidden in a global, not returned) fails with a verdict that says so."""

import pytest

from autograder import engine
from autograder.oracle import Oracle
from autograder.units import specs_of

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit05-grading")


def grade(path):
    return engine.grade(path, ["05"])["units"]["05_optim"]["functions"]


def test_every_graded_function_has_three_known_mistakes():
    keys = list(specs_of("05_optim")[0].tests)
    assert len(keys) == 12
    for key in keys:
        assert len(Oracle().known_mistakes(key)) >= 3, key


def test_reference_gets_full_marks_and_stubs_get_zero(tmp_path):
    full = engine.grade(make_submission(tmp_path, name="ref"), ["05"])
    assert full["total"] == full["max"] == 22, full
    stubs = grade(make_submission(tmp_path, base="stubs", name="stubs"))
    assert {e["status"] for e in stubs.values()} == {"not_implemented"}


UNUSUAL = '''
import math
import numpy as np


def sgd_momentum(w, dw, config=None):
    # velocity created as zeros, kept under another name; hyperparameters set one by one
    config = dict(config) if config else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("weight_decay", 0.0)
    g = dw + config["weight_decay"] * w
    vel = config.get("vel", np.zeros_like(w))
    vel = config["momentum"] * vel + g
    return w - config["learning_rate"] * vel, {**config, "vel": vel}


def nesterov(w, dw, config=None):
    # the look-ahead expanded: g + mu * (mu * old + g) = (1 + mu) * g + mu**2 * old
    defaults = {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}
    config = {**defaults, **(config or {})}
    mu = config["momentum"]
    g = dw + config["weight_decay"] * w
    old = config.get("buf", 0.0)
    step = (1 + mu) * g + mu ** 2 * old
    config["buf"] = mu * old + g
    return w - config["learning_rate"] * step, config


def adagrad(w, dw, config=None):
    config = {"learning_rate": 1e-2, "epsilon": 1e-10, "weight_decay": 0.0, **(config or {})}
    g = dw + config["weight_decay"] * w
    total = config.get("total", 0.0) + g ** 2          # starts from the number 0
    config["total"] = total
    return w - config["learning_rate"] * g / (np.sqrt(total) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    config = {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8, "weight_decay": 0.0,
              **(config or {})}
    g = dw + config["weight_decay"] * w
    rho = config["decay_rate"]
    cache = config.get("cache", np.zeros_like(w))
    cache = cache + (1 - rho) * (g * g - cache)        # the same average, written as a lerp
    config["cache"] = cache
    return w - config["learning_rate"] * g / (np.sqrt(cache) + config["epsilon"]), config


def adadelta(w, dw, config=None):
    # both averages started from zeros, under names of their own (the state holds only arrays
    # and numbers: a nested dict could not be saved in the Trainer's checkpoints); one square
    # root of the quotient
    config = {"learning_rate": 1.0, "decay_rate": 0.9, "epsilon": 1e-6, "weight_decay": 0.0,
              **(config or {})}
    rho, eps = config["decay_rate"], config["epsilon"]
    g = dw + config["weight_decay"] * w
    acc_g2 = config.get("acc_g2", np.zeros_like(w))
    acc_dx2 = config.get("acc_dx2", np.zeros_like(w))
    g2 = rho * acc_g2 + (1 - rho) * g ** 2
    dx = np.sqrt((acc_dx2 + eps) / (g2 + eps)) * g
    dx2 = rho * acc_dx2 + (1 - rho) * dx ** 2
    return w - config["learning_rate"] * dx, {**config, "acc_g2": g2, "acc_dx2": dx2}


def adam(w, dw, config=None):
    # the counter from 0, incremented first; the state gathered in a dict while it is
    # computed, returned as entries of the config (arrays and numbers); Kingma and Ba's
    # "efficient" form with epsilon scaled to match: exactly the same steps
    config = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
              "weight_decay": 0.0, "decoupled": False, **(config or {})}
    state = {"t": config.get("state_t", 0), "m": config.get("state_m", np.zeros_like(w)),
             "v": config.get("state_v", np.zeros_like(w))}
    lr, b1, b2 = config["learning_rate"], config["beta1"], config["beta2"]
    if config["decoupled"]:
        w, g = w - lr * config["weight_decay"] * w, dw
    else:
        g = dw + config["weight_decay"] * w
    state["t"] += 1
    t = state["t"]
    state["m"] = b1 * state["m"] + (1 - b1) * g
    state["v"] = b2 * state["v"] + (1 - b2) * g * g
    corr = math.sqrt(1 - b2 ** t)
    step_size = lr * corr / (1 - b1 ** t)
    next_w = w - step_size * state["m"] / (np.sqrt(state["v"]) + config["epsilon"] * corr)
    return next_w, {**config, **{f"state_{k}": v for k, v in state.items()}}


def clip_grad_norm(grads, max_norm):
    flat = np.concatenate([g.ravel() for g in grads.values()]) if grads else np.zeros(0)
    total = float(np.linalg.norm(flat))
    factor = max_norm / (total + 1e-6)                  # PyTorch's form
    return {k: (g * factor if factor < 1 else g.copy()) for k, g in grads.items()}, total


def step_decay(step, *, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** math.floor(step / step_size)


def exponential_decay(step, *, lr0, gamma):
    return float(np.float64(lr0) * np.power(gamma, step))


def cosine_annealing(step, *, lr0, total_steps, lr_min=0.0, warmup_steps=0):
    if step < warmup_steps:
        return lr0 * step / warmup_steps
    s = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * s))


class ReduceOnPlateau:
    # an explicit comparison function, the reduction inside the else branch, best kept as the
    # metric given (an int stays an int); best and num_bad_steps are documented attributes
    def __init__(self, *, lr0, factor=0.1, patience=10, mode="min"):
        self.lr, self.factor, self.patience, self.mode = lr0, factor, patience, mode
        self.better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_steps = 0

    def step(self, metric):
        if self.better(metric, self.best):
            self.best, self.num_bad_steps = metric, 0
        else:
            self.num_bad_steps += 1
            if self.num_bad_steps > self.patience:
                self.lr, self.num_bad_steps = self.lr * self.factor, 0
        return self.lr
'''


def test_unusual_but_correct_bookkeeping_gets_full_marks(tmp_path):
    report = grade(make_submission(tmp_path, append={"optim.py": UNUSUAL}))
    failed = {k: e["message"] for k, e in report.items() if e["status"] != "passed"}
    assert not failed


WRONG = '''
import numpy as np

_velocity = {}


def sgd(w, dw, config=None):
    config = dict(config or {}, learning_rate=(config or {}).get("learning_rate", 1e-2))
    config.setdefault("weight_decay", 0.0)
    w -= config["learning_rate"] * (dw + config["weight_decay"] * w)   # in place
    return w, config


def sgd_momentum(w, dw, config=None):
    # the velocity lives in a global, not in the config
    config = {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0, **(config or {})}
    g = dw + config["weight_decay"] * w
    v = _velocity.get(w.shape, np.zeros_like(w))
    v = config["momentum"] * v + g
    _velocity[w.shape] = v
    return w - config["learning_rate"] * v, config


def nesterov(w, dw, config=None):
    # the given config is updated in place and returned
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("weight_decay", 0.0)
    g = dw + config["weight_decay"] * w
    v = config["momentum"] * config["v"] + g if "v" in config else g
    config["v"] = v
    return w - config["learning_rate"] * (g + config["momentum"] * v), config


def adagrad(w, dw, config=None):
    # the defaults are used but not stored in the returned config
    config = dict(config or {})
    g = dw + config.get("weight_decay", 0.0) * w
    r = config.get("r", 0.0) + g * g
    config["r"] = r
    return w - config.get("learning_rate", 1e-2) * g / (np.sqrt(r) + 1e-10), config


def rmsprop(w, dw, config=None):
    # the state is returned on its own, not in a config dict
    r = 0.01 * dw * dw
    return w - 1e-2 * dw / (np.sqrt(r) + 1e-8), r


def adam(w, dw, config=None):
    # the arrays of the state are updated in place (m *= beta1 ...)
    config = dict({"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                   "weight_decay": 0.0, "decoupled": False}, **(config or {}))
    g = dw + config["weight_decay"] * w
    if "m" not in config:
        config["m"], config["v"], config["t"] = np.zeros_like(w), np.zeros_like(w), 0
    m, v = config["m"], config["v"]
    m *= config["beta1"]
    m += (1 - config["beta1"]) * g
    v *= config["beta2"]
    v += (1 - config["beta2"]) * g * g
    config["t"] += 1
    t = config["t"]
    m_hat, v_hat = m / (1 - config["beta1"] ** t), v / (1 - config["beta2"] ** t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum((g * g).sum() for g in grads.values())))
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total                                      # in place
    return grads, total
'''


def test_state_kept_wrongly_is_failed_with_a_verdict_that_says_how(tmp_path):
    report = grade(make_submission(tmp_path, append={"optim.py": WRONG}))
    for key in ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam",
                "clip_grad_norm"):
        assert report[f"optim.{key}"]["status"] == "failed", (key, report[f"optim.{key}"])
    message = {k.split(".")[1]: e["message"] for k, e in report.items()}
    hint = {k.split(".")[1]: e["hint"] or "" for k, e in report.items()}
    assert "modified its input w in place" in message["sgd"]
    # a global velocity: a config given again does not give the same step
    assert "keeps state outside the config" in message["sgd_momentum"], message["sgd_momentum"]
    # the config changed in place: caught when the dict itself is checked for changes, or when
    # an earlier config is given again
    assert ("config" in message["nesterov"] and "in place" in message["nesterov"]) or \
        "modified its input config" in message["nesterov"] or \
        "changed a dict it was given (assigned config[" in message["nesterov"], \
        message["nesterov"]
    assert "next_config has no 'learning_rate'" in message["adagrad"], message["adagrad"]
    assert "next_config should be a dict, got a ndarray" in message["rmsprop"]
    assert "in place" in message["adam"] and "config" in message["adam"], message["adam"]
    assert "never modify the config" in hint["adam"] or "in place" in message["adam"]
    # its first case clips nothing, where it returns the caller's dict itself; later cases would
    # find the arrays scaled in place
    assert "modified grads['W1'] in place" in message["clip_grad_norm"] or \
        "modified its input grads['W1']" in message["clip_grad_norm"] or \
        "clipped is its input grads itself" in message["clip_grad_norm"], message["clip_grad_norm"]


def test_clip_grad_norm_returning_the_callers_dict_is_failed(tmp_path):
    """Nothing to clip, the caller's own dict returned (the audit's clip_alias_unclipped): the
    docstring promises a new dict of new arrays."""
    pairs = [("    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0\n",
              "    if total_norm <= max_norm:\n        return grads, total_norm\n"
              "    scale = max_norm / total_norm\n")]
    key = "optim.clip_grad_norm"
    report = engine.grade(make_submission(tmp_path, replace={"optim.py": pairs}), ["05"],
                          keys=[key])
    entry = report["units"]["05_optim"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    # found where the call is made (the worker reports the alias), or else by changing grads
    assert ("nothing clipped" in entry["message"] or "unchanged" in entry["message"]) and \
        "grads itself" in entry["message"], entry
    assert "new dict of new arrays" in entry["hint"], entry


# the audit's variants: key, replacements, words of the message, words of the hint
VARIANTS = {
    "velocity is the caller's dw on the first step": (
        "optim.sgd_momentum",
        [("        v = g  # first step: momentum * 0 + g (g is a new array, never dw itself)\n",
          "        v = dw if not config[\"weight_decay\"] else g\n")],
        "next_config['velocity'] is its input dw itself", "v = dw.copy()"),
    "best starts at 0 in mode 'max'": (
        "optim.ReduceOnPlateau",
        [("        self.best = math.inf if mode == \"min\" else -math.inf\n",
          "        self.best = math.inf if mode == \"min\" else 0.0\n")],
        "the attribute best is 0.0, expected -inf", "best starts at -inf, not 0"),
    "best stored as the negated metric": (
        "optim.ReduceOnPlateau",
        [("        self.best = math.inf if mode == \"min\" else -math.inf\n",
          "        self.best = math.inf\n        self.sign = 1 if mode == \"min\" else -1\n"),
         ("        better = metric < self.best if self.mode == \"min\" else metric > self.best\n"
          "        if better:\n            self.best = float(metric)\n",
          "        better = self.sign * metric < self.best\n"
          "        if better:\n            self.best = float(self.sign * metric)\n")],
        "the attribute best is inf, expected -inf", "not its negative"),
    # a rate one reduction off was told "10 is a count: a mean where a sum belongs"
    # or "the 2 of d(x**2)/dx"
    "step decay counting from 1": (
        "optim.step_decay",
        [("    lr = lr0 * gamma ** (step // step_size)\n",
          "    lr = lr0 * gamma ** ((step + 1) // step_size)\n")],
        "it is 0.1 times the expected rate: gamma=0.1 applied 1 time too many",
        "the first drop comes at step = step_size"),
    # AdamW decaying twice (the shrink and L2 in the gradient) had no hint
    "AdamW adding weight_decay * w to the gradient too": (
        "optim.adam",
        [("    if config[\"decoupled\"]:\n        g = dw\n",
          "    if config[\"decoupled\"]:\n        g = dw + config[\"weight_decay\"] * w\n")],
        "(AdamW), w (3, 3), 6 steps; step 1", "the decay is the shrinking of w alone"),
    # a cosine one step ahead had no hint
    "cosine counting its progress from step + 1": (
        "optim.cosine_annealing",
        [("        progress = (step - warmup_steps) / (total_steps - warmup_steps)\n",
          "        progress = (step - warmup_steps + 1) / (total_steps - warmup_steps)\n")],
        "the result is 0.0975528 but should be 0.1", "off by one in the cosine"),
    # RMSProp with Adam's bias correction was told only that r starts at 0
    "RMSProp with a bias correction": (
        "optim.rmsprop",
        [("    next_w = w - config[\"learning_rate\"] * g / (xp.sqrt(r) + config[\"epsilon\"])\n"
          "    config[\"sq_avg\"] = r\n",
          "    config[\"t\"] = config.get(\"t\", 0) + 1\n"
          "    r_hat = r / (1 - decay ** config[\"t\"])\n"
          "    step = config[\"learning_rate\"] * g / (xp.sqrt(r_hat) + config[\"epsilon\"])\n"
          "    next_w = w - step\n"
          "    config[\"sq_avg\"] = r\n")],
        "step 1): next_w is wrong", "not bias-corrected"),
    "plateau reducing at the patience-th bad step": (
        "optim.ReduceOnPlateau",
        [("        if self.num_bad_steps > self.patience:\n",
          "        if self.num_bad_steps >= self.patience:\n")],
        "it is 0.5 times the expected rate: factor=0.5 applied 1 time too many",
        "one step too early"),
}


@pytest.mark.parametrize("what", list(VARIANTS))
def test_audit_variant_loses_its_points_with_a_message_that_names_the_problem(tmp_path, what):
    key, pairs, words, hint = VARIANTS[what]
    report = engine.grade(make_submission(tmp_path, replace={"optim.py": pairs}), ["05"],
                          keys=[key])
    entry = report["units"]["05_optim"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert words in entry["message"], entry
    assert hint in (entry["hint"] or ""), entry


def test_best_zero_in_max_mode_fails_on_negative_metrics_alone():
    """Even where best is not read, a max-mode case with negative metrics tells 0 from -inf."""
    from types import SimpleNamespace

    from autograder.mistakes.optim import plateau_variant
    from autograder.specs.optim import plateau_cases

    negative = [c for c in plateau_cases(SimpleNamespace(hidden=lambda *a: []))
                if "negative" in c.label and c.args[0].get("mode") == "max"]
    assert negative
    kwargs, metrics = negative[0].args
    right, wrong = plateau_variant()(**kwargs), plateau_variant(best_zero=True)(**kwargs)
    assert [right.step(m) for m in metrics] != [wrong.step(m) for m in metrics]


def test_clip_grad_norm_that_never_clips_a_norm_below_one_loses_its_points(tmp_path):
    """Found by the mutation sweep: clipping only when the norm exceeded 1 (``total_norm > 1``)
    kept full marks; every case had gradients of norm above 1. A hidden case clips gradients
    of norm about 0.6 to max_norm=0.1."""
    pairs = [("if total_norm > 0 else 1.0", "if total_norm > 1 else 1.0")]
    key = "optim.clip_grad_norm"
    report = engine.grade(make_submission(tmp_path, replace={"optim.py": pairs}), ["05"],
                          keys={key})
    entry = report["units"]["05_optim"]["functions"][key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    # a hidden case: its label stays with the instructor; the student reads what went wrong
    assert entry["message"].startswith("clip_grad_norm: failed on hidden case 5: wrong values"), \
        entry
    assert "square root" not in (entry["hint"] or ""), entry  # its total_norm is right
