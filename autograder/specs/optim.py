"""Tests of unit 05, ``coursework/optim.py``: update rules, gradient clipping, schedules.

Update rules are graded over several consecutive steps from a fresh config, as the Trainer uses
them: the judge feeds the student's own ``next_w`` and ``next_config`` back to the student's next
call (the config stays in the worker as a Handle and is never inspected beyond what the docstring
demands: the hyperparameters with their defaults filled in). Each step's ``next_w`` is compared
with the reference run over the same gradients, so any equivalent bookkeeping of the state passes,
and a rule that mishandles the first step or its state fails at the step where it goes wrong.
A case may change the learning rate between steps (on a copy of the student's config, as a
schedule does), or interleave two parameters with their own configs (state kept outside the config
mixes them up). At the end some steps are replayed with the config they were given: a rule that
changed that config (or an array in it) in place, or keeps state elsewhere, answers differently.

``clip_grad_norm`` is compared with the reference, and its result, even when nothing is clipped,
must be a new dict of new arrays: kept in the worker, it must not change when the given grads'
arrays are changed there after the call.

Schedules are called at every step of a range (past the end of the schedule too) and compared with
the reference; ``ReduceOnPlateau`` is built in the worker and stepped with a sequence of metrics.
A rate that is the expected one times a whole power of the schedule's factor is said to be that
many reductions off (``rate_failure``), instead of compare's remark on counts and means.
"""

import math
import re

import numpy as np

from ..compare import DEFAULT_RTOL, Failed, close, describe, matches
from ..spec import CURRENT, Case, Spec
from ..wire import Handle

SPEC = Spec("optim")

RULES = ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam")
# The defaults the docstrings (and issue #13) promise; the first step's next_config must hold them.
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2, "weight_decay": 0.0},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-10, "weight_decay": 0.0},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8, "weight_decay": 0.0},
    "adadelta": {"learning_rate": 1.0, "decay_rate": 0.9, "epsilon": 1e-6, "weight_decay": 0.0},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
             "weight_decay": 0.0, "decoupled": False},
}
# Hyperparameters of the "custom" case of each rule: every one differs from its default.
CUSTOM = {
    "sgd": {"learning_rate": 0.3, "weight_decay": 0.1},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.6, "weight_decay": 0.2},
    "nesterov": {"learning_rate": 0.05, "momentum": 0.7, "weight_decay": 0.2},
    "adagrad": {"learning_rate": 0.5, "epsilon": 1e-3, "weight_decay": 0.1},
    "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-3, "weight_decay": 0.1},
    "adadelta": {"learning_rate": 0.5, "decay_rate": 0.8, "epsilon": 1e-4, "weight_decay": 0.1},
    "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
             "weight_decay": 0.1},
}


# ---------------------------------------------------------------- inputs

def stream(seed, shape, steps, config=None, *, lrs=None, grad_scale=1.0, scales=None,
           zero_first=False, w_scale=1.0):
    """One parameter's run: its initial w, the gradient of every step (a fixed tape, so the run
    is the same for any correct rule), the config of the first call, and the learning rate set
    before each step (None: unchanged).

    ``scales`` multiplies the gradients entry by entry along the last axis (an ill-conditioned
    problem); ``zero_first`` makes some entries' first gradient exactly 0."""
    rng = np.random.default_rng(seed)
    w = w_scale * rng.standard_normal(shape)
    dws = grad_scale * rng.standard_normal((steps, *shape))
    if scales is not None:
        dws = dws * np.asarray(scales, dtype=np.float64)
    if zero_first:
        dws[0].reshape(-1)[::3] = 0.0
    return {"w": w, "dws": dws, "config": None if config is None else dict(config),
            "lrs": list(lrs) if lrs is not None else [None] * steps}


def rule_cases(t, rule):
    """Cases of an update rule; each case's args is a list of streams (parameters)."""
    custom = CUSTOM[rule]
    lr = custom["learning_rate"]
    cases = [
        Case("config=None (the defaults), w (5,), 6 steps", ([stream(1, (5,), 6)],)),
        Case(f"config {custom}, w (3, 4), 8 steps", ([stream(2, (3, 4), 8, custom)],)),
        Case(f"config {custom}, the learning rate changed before steps 3 and 5 (a schedule), "
             "w (2, 3), 7 steps",
             ([stream(3, (2, 3), 7, custom, lrs=[None, None, lr / 4, None, 2 * lr, None, None])],)),
        Case("defaults, gradients from 1e-4 to 100 across the last axis, some first gradients 0, "
             "w (2, 3, 2, 4), 6 steps",
             ([stream(4, (2, 3, 2, 4), 6, {}, scales=[100.0, 1.0, 0.01, 1e-4],
                      zero_first=True)],)),
        Case("two parameters, w (4,) and w (2, 2), updated in turn, each with its own config, "
             "5 steps",
             ([stream(5, (4,), 5, custom), stream(6, (2, 2), 5, custom)],)),
    ]
    if rule in ("adagrad", "rmsprop", "adam"):
        cases.append(Case("defaults, tiny gradients (about 1e-6: epsilon matters), w (6,), "
                          "5 steps", ([stream(7, (6,), 5, grad_scale=1e-6)],)))
    if rule == "adadelta":
        # AdaDelta's steps are then about as small as the gradients (epsilon dominates both
        # square roots): weights of that size too, or the steps would hide within the tolerance
        cases.append(Case("defaults, tiny gradients and weights (about 1e-6: epsilon matters), "
                          "w (6,), 5 steps",
                          ([stream(7, (6,), 5, grad_scale=1e-6, w_scale=1e-6)],)))
    if rule == "adam":
        adamw = {"learning_rate": 0.05, "weight_decay": 0.5, "decoupled": True}
        cases.append(Case(f"config {adamw} (AdamW), w (3, 3), 6 steps",
                          ([stream(8, (3, 3), 6, adamw, w_scale=3.0)],)))
    return cases + t.hidden("optim", "rule_cases", rule, stream, dict(custom))


def clip_cases(t):
    rng = np.random.default_rng(20)
    grads = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
             "W2": 2 * rng.standard_normal((3, 2))}
    return [
        # The unchanged case first: a clip that never scales passes it and fails the next, where
        # a factor written total_norm / max_norm (which passed nothing) is ruled out as its hint.
        Case("W1 (4, 3), b1 (3,), W2 (3, 2), total norm about 5.8, max_norm=10 (already below: "
             "unchanged)", (grads, 10.0)),
        Case("the same gradients, max_norm=1", (grads, 1.0)),
        Case("the same gradients, max_norm=4.5", (grads, 4.5)),
        Case("one array (1,) of norm 7, max_norm=2", ({"w": np.array([-7.0])}, 2.0)),
        Case("zero gradients, max_norm=1 (unchanged, norm 0)",
             ({"a": np.zeros((2, 3)), "b": np.zeros(2)}, 1.0)),
    ] + t.hidden("optim", "clip_cases")


def schedule_cases(t, name):
    """(label, kwargs, steps) for the schedule ``name``."""
    if name == "step_decay":
        cases = [Case("lr0=0.1, step_size=3 (gamma 0.1 by default)",
                      ({"lr0": 0.1, "step_size": 3}, list(range(12)))),
                 Case("lr0=1.0, step_size=1, gamma=0.5",
                      ({"lr0": 1.0, "step_size": 1, "gamma": 0.5}, list(range(8)))),
                 Case("lr0=0.05, step_size=10, gamma=0.7",
                      ({"lr0": 0.05, "step_size": 10, "gamma": 0.7}, [0, 5, 9, 10, 19, 20, 31]))]
    elif name == "exponential_decay":
        cases = [Case("lr0=0.1, gamma=0.9", ({"lr0": 0.1, "gamma": 0.9}, list(range(10)))),
                 Case("lr0=2.0, gamma=0.5", ({"lr0": 2.0, "gamma": 0.5}, [0, 1, 2, 7, 20])),
                 Case("lr0=0.01, gamma=0.99", ({"lr0": 0.01, "gamma": 0.99}, [0, 1, 50, 100]))]
    elif name == "cosine_annealing":
        cases = [Case("lr0=0.1, total_steps=10 (no warm-up, lr_min 0)",
                      ({"lr0": 0.1, "total_steps": 10}, list(range(13)))),
                 Case("lr0=0.5, total_steps=20, lr_min=0.05",
                      ({"lr0": 0.5, "total_steps": 20, "lr_min": 0.05}, [0, 3, 7, 10, 19, 20, 25])),
                 Case("lr0=0.2, total_steps=12, lr_min=0.02, warmup_steps=4",
                      ({"lr0": 0.2, "total_steps": 12, "lr_min": 0.02, "warmup_steps": 4},
                       list(range(15))))]
    else:
        raise KeyError(name)
    return cases + t.hidden("optim", "schedule_cases", name)


def plateau_cases(t):
    """(kwargs, metrics) for ReduceOnPlateau."""
    return [
        Case("mode='min', patience=2, factor=0.5",
             ({"lr0": 0.1, "patience": 2, "factor": 0.5},
              [5.0, 4.0, 4.5, 4.2, 4.3, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.9, 3.5, 3.6,
               3.7])),
        Case("mode='max', patience=1, factor=0.2",
             ({"lr0": 1.0, "patience": 1, "factor": 0.2, "mode": "max"},
              [0.1, 0.5, 0.5, 0.4, 0.6, 0.6, 0.6, 0.7, 0.65, 0.65, 0.65])),
        Case("defaults (factor 0.1, patience 10, mode 'min'), a long plateau",
             ({"lr0": 0.01}, [1.0, 0.9] + [0.95] * 12 + [0.5] + [0.6] * 11)),
        Case("patience=0: every step without an improvement reduces the rate",
             ({"lr0": 0.3, "patience": 0, "factor": 0.5}, [3.0, 3.0, 2.0, 2.5, 1.0, 1.0])),
        Case("mode='max', patience=1, factor=0.5, negative metrics (a negated loss)",
             ({"lr0": 0.2, "patience": 1, "factor": 0.5, "mode": "max"},
              [-3.0, -2.0, -2.5, -2.5, -1.0, -1.0, -1.5, -0.5, -0.7])),
    ] + t.hidden("optim", "plateau_cases")


# ---------------------------------------------------------------- recipes (reference results)

def trajectory(cw, rule, w, dws, config, lrs):
    """The reference ``next_w`` of every step of one stream."""
    update = getattr(cw.optim, rule)
    out = []
    for dw, lr in zip(dws, lrs):
        if lr is not None:
            config = dict(config or {}, learning_rate=lr)
        w, config = update(w, dw, config)
        out.append(w)
    return out


def plateau_lrs(cw, kwargs, metrics):
    """The rates a reference ReduceOnPlateau returns for ``metrics``."""
    scheduler = cw.optim.ReduceOnPlateau(**kwargs)
    return [scheduler.step(m) for m in metrics]


def plateau_attributes(cw, kwargs, metrics):
    """(best, num_bad_steps) of a reference ReduceOnPlateau before the first step and after
    each step of ``metrics``."""
    scheduler = cw.optim.ReduceOnPlateau(**kwargs)
    rows = [(scheduler.best, scheduler.num_bad_steps)]
    for m in metrics:
        scheduler.step(m)
        rows.append((scheduler.best, scheduler.num_bad_steps))
    return rows


# ---------------------------------------------------------------- update rules

def _explaining(mistakes, expected, k, got=None):
    """[(description, output at step k)] of the mistakes that agree with the reference before
    step k: the student's answers did, so only those can explain a first failure at step k.
    With ``got`` (the student's answers at every step), those that also agree with the
    student's later answers come first: two mistakes may give the same wrong rate at step k
    and part ways after."""
    before = [(d, out) for d, out in mistakes
              if len(out) > k and all(matches(out[j], expected[j], DEFAULT_RTOL)
                                      for j in range(k))]
    if got is not None:
        later = [(d, out) for d, out in before
                 if len(out) >= len(got) and all(matches(g, o, DEFAULT_RTOL)
                                                 for g, o in zip(got[k:], out[k:]))]
        before = later or before
    return [(d, out[k]) for d, out in before]


def _modified(t, target, modified, label, argnames=("w", "dw", "config")):
    """Fail naming what was changed in place: "0", "2['velocity']" -> w, config['velocity']."""
    names = []
    for m in modified:
        index, _, rest = m.partition("[")
        if index.isdigit() and int(index) < len(argnames):
            names.append(argnames[int(index)] + ("[" + rest if rest else ""))
        else:
            names.append(m)
    if names:
        t.no_input_modified(target, names, None, label)


def _with_learning_rate(t, config, lr):
    """The config for the next call with its learning rate set to ``lr``, as a schedule does; the
    student's config itself is left as it is (its copy gets the new rate)."""
    if config is None or isinstance(config, dict):
        return dict(config or {}, learning_rate=lr)
    copy = t.student.method_full(config, "copy", opaque=[0])[0]
    t.student.method(copy, "__setitem__", "learning_rate", lr)
    return copy


def _is_dict_handle(value):
    name = getattr(value, "type_name", "")
    return name.lower().endswith("dict")


def _check_defaults(t, rule, config, label):
    """next_config of a first call with config=None holds every hyperparameter's default."""
    for key, default in DEFAULTS[rule].items():
        value = t.student.method(config, "get", key)
        if value is None:
            raise Failed(f"{rule}({label}): next_config has no {key!r}; it must hold every "
                         f"hyperparameter, with the defaults filled in ({key}={default!r})",
                         hint="start from config = dict(config or {}) and setdefault each "
                              "hyperparameter: the Trainer's lr_decay and schedules change "
                              "next_config['learning_rate']")
        if isinstance(default, bool):
            boolean = isinstance(value, (bool, np.bool_)) or (
                isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype == bool)
            if not boolean or bool(value) != default:
                raise Failed(f"{rule}({label}): next_config[{key!r}] is {value!r} but should be "
                             f"{default!r} (the default)")
            continue
        try:
            close(f"next_config[{key!r}]", value, default)
        except Failed as failure:
            raise Failed(f"{rule}({label}): {failure.message} (the default)") from None


def check_rule(t, rule, case):
    """Run the streams of ``case`` in turn through the student's rule and the reference."""
    target = f"optim.{rule}"
    streams = case.args[0]
    runs = []
    for s in streams:
        args = (rule, s["w"], s["dws"], s["config"], s["lrs"])
        memo = {}

        def mistakes(args=args, memo=memo):
            if "out" not in memo:
                memo["out"] = t.ref.mistakes(target, trajectory, *args)
            return memo["out"]

        runs.append({"stream": s, "expected": t.ref.run(trajectory, *args), "mistakes": mistakes,
                     "w": s["w"], "config": s["config"], "calls": [], "outs": []})
    total = max(len(s["dws"]) for s in streams)
    for k in range(total):
        for index, run in enumerate(runs):
            s = run["stream"]
            if k >= len(s["dws"]):
                continue
            which = f", parameter {index + 1}" if len(runs) > 1 else ""
            label = f"{case.label}; step {k + 1}{which}"
            config = run["config"]
            if s["lrs"][k] is not None:
                config = _with_learning_rate(t, config, s["lrs"][k])
            # an error is explained by a known mistake that raises on this run's first k + 1
            # steps (a state read before the first step stored it: a KeyError)
            with t.explaining_errors(target, trajectory, rule, s["w"], s["dws"][:k + 1],
                                     s["config"], s["lrs"][:k + 1]):
                got, modified = t.student.call_full(target, run["w"], s["dws"][k], config,
                                                    opaque=[1])
            _modified(t, target, modified, label)
            if not isinstance(got, tuple) or len(got) != 2:
                raise Failed(f"{rule}({label}): should return the pair (next_w, next_config), "
                             f"got {describe(got)}")
            next_w, next_config = got
            if not _is_dict_handle(next_config):
                kind = getattr(next_config, "type_name", "") or type(next_config).__name__
                raise Failed(f"{rule}({label}): next_config should be a dict, got a {kind}",
                             hint="return the config dict (hyperparameters and state) with "
                                  "next_w: the caller passes it to the next call")
            t.compare(target, next_w, run["expected"][k], names=("next_w",), label=label,
                      mistakes=lambda run=run, k=k: _explaining(run["mistakes"](),
                                                                run["expected"], k))
            if k == 0 and s["config"] is None and s["lrs"][0] is None:
                _check_defaults(t, rule, next_config, label)
            run["calls"].append((run["w"], config))
            run["outs"].append(next_w)
            run["w"], run["config"] = next_w, next_config
    for index, run in enumerate(runs):
        which = f", parameter {index + 1}" if len(runs) > 1 else ""
        _check_replay(t, rule, case, which, run)
        if run["calls"]:  # last, so that a rule keeping state elsewhere is told so first
            w, config = run["calls"][0]
            check_new_state(t, target, w, run["stream"]["dws"][0], config,
                            f"{case.label}; step 1{which} again")


STATE_NEW = ("store new arrays in next_config, never w, dw or an array of the given config "
             "itself: v = dw on the first step makes the velocity the caller's gradient, which "
             "the caller overwrites at the next backward pass (v = dw.copy(), or dw + wd * w)")


def check_new_state(t, target, w, dw, config, label):
    """The first step once more, its config returned as plain data this time: next_w and every
    array of next_config must be new (the worker reports results that are an input or share
    memory with one)."""
    got, changes = t.student.call_full(target, w, dw, config)
    if isinstance(got, Handle) and got.type_name == "tuple":
        # something in the result is no plain data: next_w kept apart, is next_config data?
        got = t.student.call(target, w, dw, config, opaque=[0])
    check_plain_state(target, got, label)
    try:
        t.returns_new(target, changes, ("w", "dw", "config"), label)
    except Failed as failure:
        aliases = getattr(changes, "aliases", ())
        hint = STATE_NEW if aliases and aliases[0][0].startswith("result[1]") else failure.hint
        message = failure.message.replace("result[1]", "next_config").replace("result[0]",
                                                                               "next_w")
        raise Failed(message, hint, kind=failure.kind, error=failure.error) from None


PLAIN_STATE = ("keep each piece of state under a key of its own, as an array or a number "
               "(config['m'] = m; config['v'] = v), not a list, tuple, dict or None: the "
               "Trainer saves every entry of a config as one array in its checkpoints")


def check_plain_state(target, got, label):
    """The module docstring: the state "holds only arrays and numbers (the Trainer saves configs
    in its checkpoints)", one array per entry (``Trainer.save_checkpoint``); a list of m and v,
    a dict of them or None cannot be saved and loaded as one array."""
    rule = target.split(".", 1)[1]
    if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], Handle) \
            and _is_dict_handle(got[1]):
        # arrays of numbers and numbers always go as data: an entry did not (an array of
        # Python objects, an object of a class, a function)
        raise Failed(f"{rule}({label}): next_config holds a value that is neither an array of "
                     "numbers nor a number (an array of Python objects, an object, a "
                     "function?); the module docstring says the state holds only arrays and "
                     "numbers", hint=PLAIN_STATE)
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
        return  # the first steps of check_rule have judged what it returns
    for key, value in got[1].items():
        if isinstance(value, (bool, int, float, np.ndarray, np.generic)):
            continue
        raise Failed(f"{rule}({label}): next_config[{key!r}] is "
                     f"{'None' if value is None else describe(value)}; the module docstring "
                     "says the state holds only arrays and numbers", hint=PLAIN_STATE)


def _check_replay(t, rule, case, which, run):
    """Call again with the config given at an earlier step: the same answer, or that config was
    changed after it was given (in place), or the rule keeps state outside it."""
    steps = len(run["outs"])
    for k in sorted({1, steps - 2}):
        if not 0 < k < steps:
            continue
        w, config = run["calls"][k]
        if config is None or isinstance(config, dict):
            continue
        target = f"optim.{rule}"
        again, modified = t.student.call_full(target, w, run["stream"]["dws"][k], config,
                                              opaque=[1])
        label = f"{case.label}; step {k + 1}{which} again"
        _modified(t, target, modified, label)
        got = again[0] if isinstance(again, tuple) and again else again
        try:
            close("next_w", got, run["outs"][k], rtol=1e-9)
        except Failed:
            raise Failed(
                f"{rule}({label}): called again with the config it was given at step {k + 1} "
                f"(and the same w and dw), it returned a different next_w: a later call changed "
                "that config or an array in it (in place), or the rule keeps state outside the "
                "config",
                hint="never modify the config you are given: build a new dict "
                     "(config = dict(config)) and new arrays (v = momentum * v + g, not v *= ...; "
                     "v += ...), and keep every piece of state in the returned config") from None


def _register_rule(rule, points):
    def test(t):
        for case in rule_cases(t, rule):
            check_rule(t, rule, case)

    test.__doc__ = (f"{rule}: next_w at every step of several runs from a fresh config (the "
                    "student's own config fed back), inputs unchanged, defaults filled in.")
    test.__name__ = rule
    SPEC.test(rule, points=points)(test)
    return test


sgd = _register_rule("sgd", 1)
sgd_momentum = _register_rule("sgd_momentum", 2)
nesterov = _register_rule("nesterov", 2)
adagrad = _register_rule("adagrad", 2)
rmsprop = _register_rule("rmsprop", 2)
adadelta = _register_rule("adadelta", 2)
adam = _register_rule("adam", 3)


# ---------------------------------------------------------------- clipping

CLIP_RTOL = 1e-5  # PyTorch divides by total_norm + 1e-6: both forms pass for norms above 0.1


CLIP_NEW = ("return a new dict of new arrays even when nothing is clipped ({name: g * scale} "
            "with scale 1): the caller may change grads later")


@SPEC.test("clip_grad_norm", points=2)
def clip_grad_norm(t):
    """The clipped gradients and the norm before clipping; grads left unchanged."""
    target = "optim.clip_grad_norm"
    passed = []  # (args, kwargs, expected) of the cases the student got right
    for case in clip_cases(t):
        grads, max_norm = case.args
        with t.explaining_errors(target, target, grads, max_norm):
            got, modified = t.student.call_full(target, grads, max_norm)
        _modified(t, target, modified, case.label, ("grads", "max_norm"))
        try:  # a new dict of new arrays, even where nothing is clipped
            t.returns_new(target, modified, ("grads", "max_norm"), case.label)
        except Failed as failure:
            raise Failed(failure.message.replace("result[0]", "clipped"), CLIP_NEW,
                         kind=failure.kind,
                         error=failure.error) from None
        expected = t.ref.run(target, grads, max_norm)
        t.compare(target, got, expected, names=("clipped", "total_norm"), label=case.label,
                  rtol=CLIP_RTOL,
                  mistakes=lambda args=case.args, passed=tuple(passed): _clip_explaining(
                      t, target, args, passed))
        passed.append((case.args, {}, expected))
    # The arrays of grads must not be scaled in place: keep a grads dict in the worker (the
    # student's own unclipped copy), clip it, and read it back. (The worker also compares the
    # dicts it is given before and after each call, which catches most of this earlier.)
    grads, _ = clip_cases(t)[0].args
    kept, _ = t.student.call_full(target, grads, 1e12, opaque=[0])
    kept = kept[0] if isinstance(kept, tuple) else kept
    label = "max_norm=1 on a grads dict kept from an earlier call"
    if not _is_dict_handle(kept):
        raise Failed(f"clip_grad_norm({label}): clipped should be a dict, got "
                     f"{getattr(kept, 'type_name', '') or type(kept).__name__}")
    # kept's own arrays before the call, not grads: a result within CLIP_RTOL of grads (float32
    # arithmetic) is not a change in place
    before = {name: t.student.getitem(kept, name) for name in grads}
    t.student.call_full(target, kept, 1.0)
    for name, value in grads.items():
        now, was = t.student.getitem(kept, name), before[name]
        if not isinstance(was, np.ndarray):
            was = value
        if not isinstance(now, np.ndarray) or now.shape != value.shape or not np.allclose(
                now, was, rtol=1e-12, atol=0):
            raise Failed(f"clip_grad_norm({label}): modified grads[{name!r}] in place",
                         hint="return new arrays (g * scale), do not scale the given ones "
                              "(g *= scale): the caller may still need them")
    check_new_dict(t, target, kept, grads)


def _clip_explaining(t, target, args, passed):
    """The known mistakes of clip_grad_norm on ``args`` that answer every case in ``passed`` as
    the reference does: a clip that never scales and a factor total_norm / max_norm (capped at
    1) answer a large norm alike, but only the first leaves gradients already below max_norm
    unchanged."""
    excluded = t.ref.ruled_out(target, target, passed,
                               lambda v, e: matches(v, e, CLIP_RTOL))
    return [(d, v) for d, v in t.ref.mistakes(target, target, *args) if d not in excluded]


def check_new_dict(t, target, kept, grads):
    """Nothing clipped, the result is still a new dict of new arrays: clip the dict ``kept`` in
    the worker with a large max_norm, change kept's arrays there, and read the result again."""
    label = "max_norm=1e12 (nothing clipped) on a grads dict kept from an earlier call"
    t.case(label)
    # kept's arrays replaced by writable copies: read-only results (np.broadcast_to, setflags)
    # are new arrays all the same, and filling one would raise in the grader's call
    for name in grads:
        array = t.student.method(kept, "get", name, opaque=[0])
        t.student.method(kept, "__setitem__", name, t.student.method(array, "copy", opaque=[0]))
    got = t.student.call(target, kept, 1e12, opaque=[0])
    clipped = got[0] if isinstance(got, tuple) else got
    if not _is_dict_handle(clipped):
        raise Failed(f"clip_grad_norm({label}): clipped should be a dict, got "
                     f"{getattr(clipped, 'type_name', '') or type(clipped).__name__}")
    before = t.student.method(clipped, "copy")
    for name in grads:
        t.student.method(t.student.method(kept, "get", name, opaque=[0]), "fill", 0.0)
    after = t.student.method(clipped, "copy")
    if not (isinstance(before, dict) and isinstance(after, dict)):
        raise Failed(f"clip_grad_norm({label}): clipped should be a plain dict of arrays")
    for name in grads:
        if not np.array_equal(before.get(name), after.get(name)):
            raise Failed(f"clip_grad_norm({label}): clipped[{name!r}] changed when grads[{name!r}] "
                         "was changed after the call: the result is grads itself, or holds its "
                         "arrays",
                         hint="return a new dict of new arrays even when nothing is clipped "
                              "({name: g * scale} with scale 1): the caller may change grads "
                              "later")


# ---------------------------------------------------------------- schedules

# compare's remark on a number that is a whole multiple of the expected one ("10 is a count: a
# mean where a sum belongs ...?", "the 2 of d(x**2)/dx"), which says nothing about a rate
_COUNT_REMARK = re.compile(r"(; it is (\S+) times the expected value) \([^;]*?\?\)")


def rate_failure(failure, factor, what):
    """``failure`` of a learning rate with compare's count remark replaced: a rate that is the
    expected one times ``factor`` ** k (k a whole number) is k reductions off (``what`` names
    the factor: "gamma", "factor"); any other multiple keeps only "it is ... times"."""
    found = _COUNT_REMARK.search(failure.message)
    if found is None:
        return failure
    text = found.group(1).replace("expected value", "expected rate")
    try:
        k = math.log(float(found.group(2))) / math.log(factor) if factor else math.nan
    except (ValueError, ZeroDivisionError):
        k = math.nan
    n = round(k) if math.isfinite(k) else 0
    if n and abs(k - n) < 1e-2:
        text += (f": {what}={factor:g} applied {abs(n)} time{'s' if abs(n) > 1 else ''} too "
                 f"{'many' if n > 0 else 'few'}")
    return Failed(failure.message[:found.start()] + text + failure.message[found.end():],
                  failure.hint, kind=failure.kind, error=failure.error)


def schedule_hint(t, target, cases, failure):
    """``failure`` with the hint of the known mistake that agrees with the student's rate at
    every step of every case, where the first failing step alone matched several mistakes:
    round(step / 3) and (step + 1) // 3 agree at every step of a step_size of 3, and part ways
    at a step_size of 1, where round is right. Unchanged when the student's function raises on
    a step, when no mistake gave the hint, or when no other mistake agrees everywhere."""
    saved = vars(CURRENT).copy()  # the failing case stays the case in progress (taking a
    saved["_numbers"] = dict(saved["_numbers"])  # case's args enters it)
    try:
        calls = [(step, case.args[0]) for case in cases for step in case.args[1]]
        outputs = [t.ref.mistakes(target, target, step, **kwargs) for step, kwargs in calls]
        if failure.hint not in {d for found in outputs for d, _ in found}:
            return failure
        try:
            got = [t.student.call(target, step, **kwargs) for step, kwargs in calls]
        except Exception:  # noqa: BLE001 - a step that raises: the first failure's hint stands
            return failure
    finally:
        vars(CURRENT).update(saved)
    agreeing = [d for d in dict.fromkeys(d for found in outputs for d, _ in found)
                if all(any(desc == d and matches(g, out, DEFAULT_RTOL) for desc, out in found)
                       for g, found in zip(got, outputs))]
    if not agreeing or failure.hint in agreeing:
        return failure
    failure.hint = agreeing[0]
    return failure


def _register_schedule(name, points, doc):
    def test(t):
        target = f"optim.{name}"
        cases = schedule_cases(t, name)
        for case in cases:
            kwargs, steps = case.args
            factor = kwargs.get("gamma", 0.1) if name == "step_decay" else kwargs.get("gamma")
            for step in steps:
                try:
                    t.check(target, step, label=f"step={step}, {case.label}", **kwargs)
                except Failed as failure:
                    failure = schedule_hint(t, target, cases, failure)
                    raise rate_failure(failure, factor, "gamma") from None

    test.__doc__ = doc
    test.__name__ = name
    SPEC.test(name, points=points)(test)
    return test


step_decay = _register_schedule("step_decay", 1, "lr0 * gamma ** (step // step_size).")
exponential_decay = _register_schedule("exponential_decay", 1, "lr0 * gamma ** step.")
cosine_annealing = _register_schedule(
    "cosine_annealing", 2, "Linear warm-up, cosine from lr0 to lr_min, then lr_min.")


@SPEC.test("ReduceOnPlateau", points=2)
def reduce_on_plateau(t):
    """The rate returned by step(metric) at every step; the lr attribute."""
    target = "optim.ReduceOnPlateau"
    for case in plateau_cases(t):
        kwargs, metrics = case.args
        scheduler = t.student.new(target, **kwargs)
        lr = t.student.getattr(scheduler, "lr")
        t.compare(target, lr, float(kwargs["lr0"]), names=("lr",),
                  label=f"{case.label}; before the first step")
        expected = t.ref.run(plateau_lrs, kwargs, metrics)
        memo = {}

        def mistakes(kwargs=kwargs, metrics=metrics, memo=memo):
            if "out" not in memo:
                memo["out"] = t.ref.mistakes(target, plateau_lrs, kwargs, metrics)
            return memo["out"]

        # every step first, then the comparisons: a wrong rate's hint is the known mistake
        # that also gives the student's later rates (an error at a step is raised at its turn)
        answers, error = [], None
        for metric in metrics:
            try:
                answers.append(t.student.method(scheduler, "step", metric))
            except Exception as failure:  # noqa: BLE001 - re-raised after the steps before it
                error = failure
                break
        for k, got in enumerate(answers):
            shown = ", ".join(f"{m:g}" for m in metrics[:k + 1])
            try:
                t.compare(target, got, expected[k], names=("lr",),
                          label=f"{case.label}; step {k + 1}, metrics so far {shown}",
                          mistakes=lambda k=k, mistakes=mistakes: _explaining(
                              mistakes(), expected, k, answers if error is None else None))
            except Failed as failure:
                raise rate_failure(failure, kwargs.get("factor", 0.1), "factor") from None
        if error is not None:
            t._label(case.label + f"; step {len(answers) + 1}")  # the step that raised
            raise error
        lr = t.student.getattr(scheduler, "lr")
        t.compare(target, lr, expected[-1], names=("lr",),
                  label=f"{case.label}; the lr attribute after the last step")
        check_plateau_attributes(t, target, case, kwargs, metrics)


PLATEAU_NEGATED = ("best is the best metric itself (the largest one in mode 'max'), not its "
                   "negative: keep the sign and compare with > in mode 'max'")


def _number(value):
    """A float from an attribute, or None when it is not a real number."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) or (
            isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
        return float(value)
    return None


def check_plateau_attributes(t, target, case, kwargs, metrics):
    """The documented attributes ``best`` and ``num_bad_steps`` before the first step and after
    every step, read from a new scheduler fed the same metrics (exact: best is a metric)."""
    expected = t.ref.run(plateau_attributes, kwargs, metrics)
    scheduler = t.student.new(target, **kwargs)
    for k, (best, bad) in enumerate(expected):
        if k:
            t.student.method(scheduler, "step", metrics[k - 1])
        when = "before the first step" if k == 0 else \
            f"after step {k}, metrics so far {', '.join(f'{m:g}' for m in metrics[:k])}"
        label = f"ReduceOnPlateau({case.label}; {when}): "
        got_best = _number(t.student.getattr(scheduler, "best"))
        if got_best is None or got_best != best:
            # the rates were right (they are compared first), so a best of the opposite sign
            # is a negated metric; else a known mistake whose attributes agree before and give
            # this best now
            hint = PLATEAU_NEGATED if got_best is not None and got_best == -best != best else \
                next((d for d, rows in t.ref.mistakes(target, plateau_attributes, kwargs,
                                                       metrics)
                      if len(rows) > k and [r[0] for r in rows[:k]] == [e[0] for e in
                                                                          expected[:k]]
                      and rows[k][0] == got_best), None)
            if hint is None and k == 0:
                hint = "best starts at +inf in mode 'min' and -inf in mode 'max' (math.inf)"
            raise Failed(f"{label}the attribute best is {got_best!r}, expected {best:g} (the "
                         "best metric so far, as the docstring names it)", hint, kind="values")
        got_bad = _number(t.student.getattr(scheduler, "num_bad_steps"))
        if got_bad is None or got_bad != bad:
            raise Failed(f"{label}the attribute num_bad_steps is {got_bad!r}, expected {bad} (the "
                         "calls since the last improvement, 0 after an improvement or a "
                         "reduction)", kind="values")
