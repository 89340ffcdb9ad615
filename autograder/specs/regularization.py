"""Tests of unit 04, ``coursework/regularization.py``: dropout, the L2 and L1 penalties,
EarlyStopping and RegularizedNet.

Dropout is random, so it is graded by properties that every correct use of ``rng`` has, never by
matching a random stream: each output is 0 or x / (1 - p); the dropped fraction of a large input
is within sampling error of p, in every row and every column; the same seed gives the same mask
and another seed another; test mode is the identity; the backward uses the forward's mask. An
input of both signs with exact zeros checks that the mask is kept, not read off the output (a
kept unit whose x is 0 has out 0, yet passes its gradient). The hints for these properties are
decided here, from the student's own outputs (the names below are also the descriptions of the
registered known mistakes).

The penalties, EarlyStopping (a trace of step() and the attributes after each step) and
RegularizedNet (given parameters and running statistics; dropout 0) are compared with the
reference, the loss within 1e-10 (a float64 loss; float32 arithmetic in it would break the
numerical-gradient check of dropout below). After the public cases the first batch-norm model gets
new params and running_stats dicts (as the Trainer sets them when it restores the best epoch or
loads a checkpoint) and a second batch: a model that kept a copy of either, or anything else of an
earlier call, is right before and wrong then. RegularizedNet's dropout is checked by properties:
test mode ignores it, two training calls draw different masks, the same seed the same ones, a
network without hidden layers drops nothing, the gradients agree with the numerical gradient of the
student's own loss with the same masks (a network built again with the same seed), and the
gradients must be finite (a NaN compares False with everything, so it is refused first). Where
dropout acts and with which p is read off the gradients of a one-example network (grads['W2'] =
outer(h, grads['b2']) shows the last hidden layer after dropout): each unit 0 or relu(norm(a)) /
(1 - p), about a fraction p dropped, whatever way the mask is drawn.
"""

import math

import numpy as np

from ..compare import (Failed, as_array, as_scalar, close_loss, describe, digits_apart,
                      float32_remark)
from ..runner import StudentError
from ..spec import Case, Spec
from ..wire import Seed
from .model_checks import (_flat, as_pair, check_no_extra_grads, check_uses_rng,
                           check_zero_weights, copy_params, params_of, second_batch)
from .toolkit import outside_cache

SPEC = Spec("regularization")

# Hints of dropout, decided from the student's outputs (and registered as known mistakes).
NOT_SCALED = ("inverted dropout scales the kept units by 1 / (1 - p) at training time, so that "
              "the expected output equals the input")
MULTIPLIED = "scale the kept units by 1 / (1 - p): divide by 1 - p, do not multiply"
P_IS_KEEP = ("p is the probability of dropping a unit (PyTorch's convention): keep each unit with "
             "probability 1 - p, e.g. mask = rng.random(x.shape) >= p")
SCALED_BY_P = ("the units are dropped with probability p, as they should be, but the kept ones "
               "are scaled by 1 / p: scale them by 1 / (1 - p), one over the probability of "
               "keeping a unit")
SCALED_BY_1_OVER_P = ("the kept units come out scaled by 1 / p: p is the probability of dropping a "
                      "unit, so keep each with probability 1 - p (mask = rng.random(x.shape) >= "
                      "p) and scale the kept ones by 1 / (1 - p)")
SHARED_MASK = ("draw an independent random number for every entry of x (rng.random(x.shape)), not "
               "one per row or per column")
TEST_SCALED = ("in test mode dropout is the identity: inverted dropout already scaled at training "
               "time, so nothing is scaled at test time")
TEST_DROPPED = "no unit is dropped in test mode: return x unchanged (a copy)"
TEST_DRAWS = "draw the mask inside the train branch (if train: ...), not before it"
BACKWARD_NOT_SCALED = ("the kept units were scaled by 1 / (1 - p) in the forward pass: scale their "
                       "gradient the same way, dx = dout * mask / (1 - p)")
BACKWARD_NO_MASK = ("the dropped units did not reach the output: their gradient is 0, dx = dout * "
                    "mask / (1 - p) with the forward's mask")
BACKWARD_NO_DOUT = "multiply the local gradient mask / (1 - p) by the upstream gradient dout"
BACKWARD_OUTPUT = ("the local gradient of x * mask / (1 - p) is mask / (1 - p), not the forward's "
                   "output")
GLOBAL_RNG = ("draw every random number from the rng argument (rng.random(x.shape)), not from "
              "np.random's global generator")
TEST_MODE_BACKWARD = ("your backward failed on the cache of your forward with train=False: "
                      "test mode drops nothing and keeps no mask, so there dx = dout (a copy); "
                      "tell the two modes apart by the cache")
MASK_FROM_OUTPUT = ("keep the forward's mask in the cache: a kept unit whose x is 0 has out == 0 "
                    "but still passes its gradient, so out != 0 is not the mask")


# ---------------------------------------------------------------- dropout

def positive(seed, shape):
    """Values in [0.5, 1.5]: a zero in the output can only be a dropped unit."""
    return 0.5 + np.random.default_rng(seed).random(shape)


def signed_with_zeros(seed, shape, zeros=0.3):
    """Values of size in [0.5, 1.5] and either sign, a fraction ``zeros`` of them exactly 0: a zero
    in the output is a dropped unit or a zero input, which may have been kept."""
    rng = np.random.default_rng(seed)
    x = (0.5 + rng.random(shape)) * np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    x[rng.random(shape) < zeros] = 0.0
    return x


def dropout_cases(t):
    cases = [
        Case("x (300, 400), p=0.3", (positive(1, (300, 400)),), {"p": 0.3}),
        Case("x (50, 40, 5, 6), p=0.5", (positive(2, (50, 40, 5, 6)),), {"p": 0.5}),
        Case("x (400, 200), p=0.9", (positive(3, (400, 200)),), {"p": 0.9}),
        Case("x (300, 200) of both signs, 30% of it exactly 0, p=0.4",
             (signed_with_zeros(6, (300, 200)),), {"p": 0.4}),
    ]
    return cases + t.hidden("regularization", "dropout_cases", positive, signed_with_zeros)


def _where(label):
    return f"dropout_forward({label}): "


def _out_cache(target, got, label):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failed(f"{target.split('.')[1]}({label}): should return (out, cache), got "
                     f"{describe(got)}", hint="end the function with `return out, cache`")
    return got


def student_dropout(t, x, p, train, seed, label, *, drawn=None):
    """The student's (out, cache); ``drawn``, a list, gets the names of the generator arguments
    the call drew from (dropout_forward's own test: test mode draws nothing)."""
    target = "regularization.dropout_forward"
    got, modified = t.student.call_full(target, x, opaque=[1], p=p, train=train, rng=Seed(seed))
    t.no_input_modified(target, modified, ("x",), label)
    out, cache = _out_cache(target, got, label)
    if drawn is not None:
        drawn.extend(modified.drawn)
    return as_array("out", out, x), cache


# A kept unit is x / (1 - p) to the default tolerance of design.md: a mask or a scale held in
# float32 (1 / 0.7 to 2.4e-8) is as right as one in float64.
KEPT_RTOL = 1e-6


def _scaled_by_1_over_p(dropped, units, p):
    """The hint for kept units scaled by 1 / p, from how many of ``units`` were ``dropped``:
    p taken as the probability of keeping (about 1 - p of them dropped), or only the scale
    wrong (about p dropped, as it should be)."""
    fraction = dropped / max(units, 1)
    sigma = math.sqrt(p * (1 - p) / max(units, 1))
    near_p, near_keep = abs(fraction - p) <= 6 * sigma, abs(fraction - (1 - p)) <= 6 * sigma
    if near_p != near_keep:
        return SCALED_BY_P if near_p else P_IS_KEEP
    return SCALED_BY_1_OVER_P  # too few units to tell


def check_train_output(out, x, p, label):
    """Every entry 0 or x / (1 - p); the fractions dropped within sampling error of p, counted
    where x != 0 (a zero input gives a zero output, kept or dropped)."""
    where = _where(label)
    kept = out != 0
    scaled = x / (1 - p)
    if not np.allclose(out[kept], scaled[kept], rtol=KEPT_RTOL, atol=0):
        if np.allclose(out[kept], x[kept], rtol=KEPT_RTOL, atol=0):
            hint = NOT_SCALED
        elif np.allclose(out[kept], x[kept] * (1 - p), rtol=KEPT_RTOL, atol=0):
            hint = MULTIPLIED
        elif np.allclose(out[kept], x[kept] / p, rtol=KEPT_RTOL, atol=0):
            shown = x != 0
            hint = _scaled_by_1_over_p(int((~kept & shown).sum()), int(shown.sum()), p)
        else:
            hint = None
        bad = np.argwhere(kept & ~np.isclose(out, scaled, rtol=KEPT_RTOL, atol=0))[0]
        index = tuple(int(i) for i in bad)
        got, expected = digits_apart(out[index], scaled[index])
        error = abs(float(out[index]) - float(scaled[index])) / abs(float(scaled[index]))
        raise Failed(f"{where}out{list(index)} is {got}; a kept unit must be x / (1 - p) = "
                     f"{expected} and a dropped one 0{float32_remark(error)}", hint)
    shown = (x != 0).reshape(x.shape[0], -1)  # the entries whose fate the output shows
    drop = (~kept).reshape(x.shape[0], -1) & shown
    if shown.all() and ((x.shape[0] > 1 and (drop == drop[:1]).all()) or
                        (drop == drop[:, :1]).all()):
        raise Failed(f"{where}every row (or every column) has the same mask", SHARED_MASK)
    dropped = drop.sum() / shown.sum()
    sigma = math.sqrt(p * (1 - p) / shown.sum())
    if abs(dropped - p) > 6 * sigma + 1e-12:
        hint = P_IS_KEEP if abs(dropped - (1 - p)) <= 6 * sigma else None
        raise Failed(f"{where}dropped a fraction {dropped:.4f} of the units; with p={p} it should "
                     f"be within {6 * sigma:.4f} of {p}", hint)
    for axis, what in ((1, "row (example)"), (0, "column (feature)")):
        n = np.maximum(shown.sum(axis=axis), 1)
        fractions = drop.sum(axis=axis) / n
        off = np.abs(fractions - p) - (8 * np.sqrt(p * (1 - p) / n) + 1e-12)
        worst = int(np.argmax(off))
        if off[worst] > 0:
            raise Failed(f"{where}{what} {worst} has a fraction {fractions[worst]:.3f} dropped, "
                         f"far from p={p}: the units must be dropped independently", SHARED_MASK)


@SPEC.test("dropout_forward", points=2)
def dropout_forward(t):
    """Train: 0 or x / (1 - p), fraction p dropped independently; test mode: identity; rng only."""
    for case in dropout_cases(t):
        (x,), p = case.args, case.kwargs["p"]
        out, _ = student_dropout(t, x, p, True, 11, case.label)
        check_train_output(out, x, p, case.label)
        again, _ = student_dropout(t, x, p, True, 11, case.label)
        if not np.array_equal(again, out):
            raise Failed(f"{_where(case.label)}two calls with the same rng seed gave different "
                         "masks", hint=GLOBAL_RNG)
        other, _ = student_dropout(t, x, p, True, 12, case.label)
        if np.array_equal(other, out):
            raise Failed(f"{_where(case.label)}two calls with different rng seeds gave the same "
                         "mask", hint="draw the mask from the rng argument")
        label = case.label + ", train=False"
        drawn = []
        out, _ = student_dropout(t, x, p, False, 11, label, drawn=drawn)
        if not np.array_equal(out, x):
            hint = None
            if np.allclose(out, x * (1 - p)) or np.allclose(out, x / (1 - p)):
                hint = TEST_SCALED
            elif np.any(out == 0):
                hint = TEST_DROPPED
            raise Failed(f"{_where(label)}test mode should return x unchanged", hint)
        if "rng" in drawn:  # the right output, but the training's next masks changed
            raise Failed(f"{_where(label)}test mode drew numbers from rng; the docstring says "
                         "test mode draws nothing (every evaluation would change the masks of "
                         "the training that follows)", hint=TEST_DRAWS)
    x = positive(5, (20, 30))
    t.no_case()
    label = "x (20, 30), p=0.5, rng seeds 21 to 26"
    counts = {int(np.sum(student_dropout(t, x, 0.5, True, seed, label)[0] == 0))
              for seed in range(21, 27)}
    if len(counts) == 1:
        raise Failed(f"{_where(label)}every call dropped exactly {counts.pop()} of the 600 units; "
                     "dropping each unit independently with probability p, the number dropped "
                     "varies from call to call (about 300 +- 12)",
                     hint="draw one independent random number per unit, keep = rng.random("
                          "x.shape) >= p, rather than choosing a fixed number of units to drop")
    x = positive(4, (20, 30))
    t.case("p=0")
    out, _ = student_dropout(t, x, 0.0, True, 13, "p=0")
    if not np.array_equal(out, x):
        raise Failed(f"{_where('p=0')}with p=0 no unit is dropped and the scale is 1: out should "
                     "equal x")


def dropout_backward_candidates(dout, kept, p, train):
    """(description, dx) of the known mistakes, from the forward's mask."""
    if not train:
        return [(TEST_SCALED, dout / (1 - p)), (TEST_SCALED, dout * (1 - p))]
    return [(BACKWARD_NOT_SCALED, dout * kept), (BACKWARD_NO_MASK, dout / (1 - p)),
            (BACKWARD_NO_MASK, dout.copy()), (BACKWARD_NO_DOUT, kept / (1 - p)),
            (MULTIPLIED, dout * kept * (1 - p))]


def kept_units(out, x, dx, dout):
    """The forward's mask as 0.0/1.0: where x != 0 the output shows it (out != 0); where x == 0
    it does not, and the student's own dx says whether the unit passed its gradient."""
    passed = ~np.isclose(dx, 0.0, rtol=0, atol=1e-12 * np.abs(dout).max()) \
        if isinstance(dx, np.ndarray) and dx.shape == x.shape else np.zeros(x.shape, dtype=bool)
    return np.where(x != 0, out != 0, passed).astype(np.float64)


def check_zero_inputs_kept(kept, x, p, label):
    """Among the units whose x is exactly 0, a fraction about 1 - p was kept (passed dx)."""
    zero = x == 0
    n = int(zero.sum())
    if n == 0:
        return
    fraction = float(kept[zero].mean())
    sigma = math.sqrt(p * (1 - p) / n)
    if abs(fraction - (1 - p)) > 6 * sigma + 1e-12:
        hint = MASK_FROM_OUTPUT if fraction == 0 else None
        raise Failed(f"dropout_backward({label}): of the {n} units whose x is exactly 0, a "
                     f"fraction {fraction:.4f} passed a gradient (dx != 0); the mask keeps each "
                     f"unit with probability 1 - p = {1 - p:g}, whatever its value", hint)


@SPEC.test("dropout_backward", points=2)
def dropout_backward(t):
    """dx = dout * mask / (1 - p) with the mask of the forward that made the cache, for units
    whose x is 0 too; test mode dx = dout."""
    target = "regularization.dropout_backward"
    for case in dropout_cases(t) + [Case("x (30, 20), p=0.4", (positive(5, (30, 20)),),
                                         {"p": 0.4})]:
        (x,), p = case.args, case.kwargs["p"]
        dout = np.random.default_rng(7).standard_normal(x.shape)
        for train in (True, False):
            label = case.label + ("" if train else ", train=False")
            out, cache = student_dropout(t, x, p, train, 21, label)
            t._label(label)  # an error raised by the backward names its mode too
            try:
                got, modified = t.student.call_full(target, dout, cache)
            except StudentError as error:
                if train:
                    raise
                from ..engine import error_message  # the error and its line, as usual

                raise Failed(f"dropout_backward({label}): {error_message(error)}",
                             hint=TEST_MODE_BACKWARD) from None
            t.no_input_modified(target, outside_cache(modified, 1), ("dout",), label)
            kept = kept_units(out, x, got, dout)
            expected = dout * kept / (1 - p) if train else dout
            candidates = dropout_backward_candidates(dout, kept, p, train)
            if train:
                candidates.append((BACKWARD_OUTPUT, dout * out))
            t.compare(target, got, expected, names=("dx",), label=label,
                      mistakes=lambda c=candidates: c)
            if train:
                check_zero_inputs_kept(kept, x, p, label)


# ---------------------------------------------------------------- penalties

def penalty_cases(t):
    rng = np.random.default_rng(31)
    three = [rng.standard_normal((4, 3)), rng.standard_normal(5), rng.standard_normal((2, 3, 2))]
    cases = [
        Case("three arrays (4, 3), (5,), (2, 3, 2), reg=0.3", (three, 0.3)),
        Case("one array (6, 2), reg=2.5", ([rng.standard_normal((6, 2))], 2.5)),
        Case("reg=0", ([rng.standard_normal((3, 3))], 0.0)),
        Case("weights with exact zeros (L1's gradient is 0 there), reg=0.4",
             (with_zeros(np.random.default_rng(32)), 0.4)),
    ]
    return cases + t.hidden("regularization", "penalty_cases", rng)


def with_zeros(rng):
    """Two arrays with some weights exactly 0 (a sparse model), of both signs elsewhere."""
    w = rng.standard_normal((4, 5))
    w[:, ::2] = 0.0
    v = rng.standard_normal(6)
    v[[1, 4]] = 0.0
    return [w, v]


def penalty_in_float64(t, target, case, got):
    """The penalty is a term of the loss (RegularizedNet adds it), so it is held to the float64
    loss's tolerance too (``compare.close_loss``): float32 arithmetic in it passes 1e-6 and
    breaks the numerical gradient of the regularized loss."""
    expected = t.ref.run(target, *case.args)[0]
    try:
        close_loss("penalty", got[0], float(expected))
    except Failed as failure:
        raise Failed(f"{target.split('.', 1)[1]}({case.label}): {failure}",
                     hint=failure.hint, kind=failure.kind, error=failure.error,
                     tolerance=failure.tolerance) from None


@SPEC.test("l2_penalty", points=1)
def l2_penalty(t):
    """penalty = 0.5 * reg * sum of squares; grads = reg * w, one per array."""
    for case in penalty_cases(t):
        got = t.check("regularization.l2_penalty", *case.args, label=case.label,
                      names=("penalty", "grads"), argnames=("weights", "reg"))
        penalty_in_float64(t, "regularization.l2_penalty", case, got)


@SPEC.test("l1_penalty", points=1)
def l1_penalty(t):
    """penalty = reg * sum of |w|; grads = reg * sign(w), one per array."""
    for case in penalty_cases(t):
        got = t.check("regularization.l1_penalty", *case.args, label=case.label,
                      names=("penalty", "grads"), argnames=("weights", "reg"))
        penalty_in_float64(t, "regularization.l1_penalty", case, got)


# ---------------------------------------------------------------- early stopping

def early_stopping_cases(t):
    cases = [
        Case("patience=2, mode='max'", ([0.5, 0.6, 0.6, 0.55, 0.7, 0.65, 0.68, 0.69, 0.9],),
             {"patience": 2}),
        Case("patience=3, min_delta=0.05, mode='max'",
             ([0.2, 0.3, 0.33, 0.36, 0.34, 0.38, 0.5, 0.52, 0.53, 0.54, 0.56],),
             {"patience": 3, "min_delta": 0.05}),
        Case("patience=1, mode='min' (a loss)", ([2.0, 1.5, 1.5, 1.2, 1.3, 0.9],),
             {"patience": 1, "mode": "min"}),
        Case("patience=2, min_delta=0.1, mode='min'", ([1.0, 0.95, 0.85, 0.8, 0.79, 0.5],),
             {"patience": 2, "min_delta": 0.1, "mode": "min"}),
        # the first value always counts as an improvement, whatever it is
        Case("patience=2, mode='max', negative values (the first always improves)",
             ([-2.0, -1.5, -1.6, -1.4, -1.45, -1.5],), {"patience": 2}),
        Case("patience=2, mode='min', values below 0 (the first always improves)",
             ([-0.5, -0.7, -0.6, -0.65, -0.8],), {"patience": 2, "mode": "min"}),
    ]
    return cases + t.hidden("regularization", "early_stopping_cases")


def trace(returned, best, best_step, should_stop):
    """One row of a trace, comparable exactly: floats, NaN for None."""
    def number(v):
        if v is None:
            return math.nan
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v)
        raise Failed(f"EarlyStopping: expected a number, True/False or None, got {describe(v)}")
    return [number(returned), number(best), number(best_step), number(should_stop)]


def early_stopping_trace(cw, values, **kwargs):
    """The reference's trace: before any step (step returned None), then after each step."""
    stopper = cw.regularization.EarlyStopping(**kwargs)
    rows = [trace(None, stopper.best, stopper.best_step, stopper.should_stop)]
    for value in values:
        returned = stopper.step(value)
        rows.append(trace(returned, stopper.best, stopper.best_step, stopper.should_stop))
    return np.array(rows)


def _same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _show(v, kind):
    if math.isnan(v):
        return "None"
    if kind in ("returned", "should_stop"):
        return str(bool(v))
    return f"{int(v)}" if kind == "best_step" else f"{v:g}"


@SPEC.test("EarlyStopping", points=2)
def early_stopping(t):
    """step()'s answers, best, best_step and should_stop after every step, for both modes."""
    target = "regularization.EarlyStopping"
    names = ("returned", "best", "best_step", "should_stop")
    for case in early_stopping_cases(t):
        (values,), kwargs = case.args, case.kwargs
        stopper = t.student.new(target, **kwargs)
        rows = []
        for step, value in enumerate([None] + values):
            returned = None if value is None else t.student.method(stopper, "step", value)
            rows.append(trace(returned, t.student.getattr(stopper, "best"),
                              t.student.getattr(stopper, "best_step"),
                              t.student.getattr(stopper, "should_stop")))
        got = np.array(rows)
        expected = t.ref.run(early_stopping_trace, values, **kwargs)
        if _same(got, expected):
            continue
        row, col = (int(i) for i in np.argwhere(~((got == expected) |
                                                  (np.isnan(got) & np.isnan(expected))))[0])
        # a known mistake that gives all these answers, or else the answers up to the first
        # wrong one
        mistakes = [(d, np.asarray(w)) for d, w in t.ref.mistakes(
            target, early_stopping_trace, values, **kwargs)]
        hint = next((d for d, wrong in mistakes if _same(got, wrong)), None) or next(
            (d for d, wrong in mistakes if _same(got[:row + 1], wrong[:row + 1])), None) or \
            _closest(got, [(d, w) for d, w in mistakes if _first_wrong_alike(got, w, row, col)])
        when = "before the first step" if row == 0 else \
            f"after step({values[row - 1]!r}), the step number {row - 1} (counting from 0)"
        what = "step returned" if col == 0 else f"{names[col]} is"
        renamed = _renamed(t, stopper, names[col], expected[-1, col]) \
            if col > 0 and np.isnan(got[row, col]) else ""
        raise Failed(f"EarlyStopping({case.label}): {when}: {what} "
                     f"{_show(got[row, col], names[col])}, expected "
                     f"{_show(expected[row, col], names[col])}{renamed}", hint)


def _first_wrong_alike(got, wrong, row, col):
    """The known mistake gives every answer before the first wrong one and that wrong answer
    too, though not the rest of its row (a best updated on a small gain without its best_step:
    before, such a half-made mistake went without a hint)."""
    return got.shape == wrong.shape and _same(got[:row], wrong[:row]) and _same(
        got[row, :col + 1], wrong[row, :col + 1])


def _closest(got, mistakes):
    """The description of the mistake whose trace agrees with ``got`` in the most cells (the
    first of those on a tie), or None when there is none."""
    def agreeing(wrong):
        return int(((got == wrong) | (np.isnan(got) & np.isnan(wrong))).sum())
    return max(mistakes, key=lambda m: agreeing(m[1]))[0] if mistakes else None


def _renamed(t, stopper, name, expected):
    """When an attribute the docstring names is None: the student's attribute of a close name
    that holds its expected value after the last step (``expected``; the trace has run to the
    end), in words (``best_epoch`` for ``best_step``), else ""."""
    import difflib

    try:
        attributes = t.student.getattr(stopper, "__dict__")
    except Exception:  # noqa: BLE001 - a student object without a readable __dict__
        return ""
    if not isinstance(attributes, dict):
        return ""
    candidates = [k for k, v in attributes.items() if isinstance(k, str) and k != name
                  and isinstance(v, (int, float)) and not isinstance(v, bool)
                  and float(v) == expected]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        return ""
    return (f"; after the last step the object has {close[0]} = {_show(expected, name)}, the "
            f"value {name} should hold: the docstring names this attribute {name}")


# ---------------------------------------------------------------- RegularizedNet

def net_params(seed, dims, normalization):
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = 0.5 * rng.standard_normal((dims[layer - 1], dims[layer]))
        params[f"b{layer}"] = 0.3 * rng.standard_normal(dims[layer])
        if normalization is not None and layer < len(dims) - 1:
            params[f"gamma{layer}"] = rng.uniform(0.5, 1.5, dims[layer])
            params[f"beta{layer}"] = 0.2 * rng.standard_normal(dims[layer])
    return params


def running_stats(seed, dims, normalization):
    if normalization != "batchnorm":
        return {}
    rng = np.random.default_rng(seed)
    stats = {}
    for layer in range(1, len(dims) - 1):
        stats[f"running_mean{layer}"] = rng.standard_normal(dims[layer])
        stats[f"running_var{layer}"] = rng.uniform(0.5, 2.0, dims[layer])
    return stats


def net_case(label, seed, x_shape, hidden, C, normalization, reg):
    D = math.prod(x_shape[1:])
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal(x_shape), rng.integers(0, C, x_shape[0]).astype(np.int64)
    dims = [D, *hidden, C]
    return Case(label, (list(hidden), (D, C), normalization, float(reg),
                        net_params(seed + 1, dims, normalization),
                        running_stats(seed + 2, dims, normalization), X, y))


def net_cases(t):
    cases = [
        net_case("batchnorm, hidden [6, 5], X (5, 2, 4), reg=0.3", 1, (5, 2, 4), [6, 5], 3,
                 "batchnorm", 0.3),
        net_case("layernorm, hidden [7], reg=0.1", 3, (4, 6), [7], 4, "layernorm", 0.1),
        net_case("no normalization, hidden [5, 4, 3], reg=0.2", 5, (6, 5), [5, 4, 3], 2, None,
                 0.2),
        net_case("batchnorm, N=2, hidden [4, 4, 4], reg=0", 7, (2, 3), [4, 4, 4], 3,
                 "batchnorm", 0.0),
        net_case("layernorm, N=1, hidden [3, 5], reg=0.5", 9, (1, 4), [3, 5], 2, "layernorm",
                 0.5),
    ]
    return cases + t.hidden("regularization", "net_cases", net_case)


def _reference_net(cw, hidden, dims, normalization, reg, params, stats):
    model = cw.regularization.RegularizedNet(hidden, *dims, normalization=normalization, reg=reg,
                                             rng=np.random.default_rng(0))
    model.params = copy_params(params)
    model.running_stats = copy_params(stats)
    return model


def net_loss(cw, hidden, dims, normalization, reg, params, stats, X, y=None):
    """Scores (test mode, given running statistics), or (loss, grads) in training mode."""
    model = _reference_net(cw, hidden, dims, normalization, reg, params, stats)
    return model.loss(X) if y is None else model.loss(X, y)


def net_after_training_step(cw, hidden, dims, normalization, reg, params, stats, X, y):
    """(running_stats, test-mode scores) after one loss(X, y)."""
    model = _reference_net(cw, hidden, dims, normalization, reg, params, stats)
    model.loss(X, y)
    return dict(model.running_stats), model.loss(X)


def check_net_loss(t, target, model, args, X, y, label, zero_keys):
    """Scores, then (loss, grads), against the reference with the same parameters.

    ``zero_keys``: the biases that feed a batch norm, whose gradient is exactly 0 (any shift is
    subtracted again): theirs must be 0 up to rounding, and are not compared elementwise (a
    relative error of two rounding errors means nothing)."""
    t._label("loss(X), " + label)  # an error raised in a call names that call
    with t.explaining_errors(target, net_loss, *args, X):
        scores, modified = t.student.method_full(model, "loss", X)
    t.no_input_modified(target, modified, ("X",), label)
    expected = t.ref.run(net_loss, *args, X)
    t.compare(target, scores, expected, names=("scores",), label=f"loss(X), {label}",
              mistakes=lambda: t.ref.mistakes(target, net_loss, *args, X))
    t._label("loss(X, y), " + label)
    with t.explaining_errors(target, net_loss, *args, X, y):
        got, modified = t.student.method_full(model, "loss", X, y)
    got = as_pair(got)
    t.no_input_modified(target, modified, ("X", "y"), label)
    expected = t.ref.run(net_loss, *args, X, y)
    keys = sorted(expected[1])
    where = f"RegularizedNet(loss(X, y), {label}): "
    if not isinstance(got, tuple) or len(got) != 2 or not isinstance(got[1], dict):
        raise Failed(f"{where}should return (loss, grads) with grads a dict with the keys "
                     f"{keys}, got {describe(got)}")
    if set(keys) - set(got[1]):
        raise Failed(f"{where}grads lacks the keys {sorted(set(keys) - set(got[1]))}",
                     hint="return a gradient for every parameter, keyed like params")
    check_no_extra_grads(where, got[1], keys)
    scale = max([1.0] + [float(np.abs(v).max()) for k, v in expected[1].items()
                         if k not in zero_keys])
    for key in zero_keys:
        grad = as_array(f"grads[{key!r}]", got[1][key], expected[1][key])
        if np.max(np.abs(grad)) > 1e-8 * scale:
            hint = next((d for d, v in t.ref.mistakes(target, net_loss, *args, X, y)
                         if np.allclose(v[1][key], grad, rtol=1e-6, atol=1e-8 * scale)), None)
            raise Failed(f"{where}grads[{key!r}] should be 0 (up to rounding): batch norm "
                         "subtracts the batch mean of every feature, so the bias before it has no "
                         f"effect on the loss; got values up to {np.max(np.abs(grad)):.3g}", hint)

    def zeroed(value):
        value = list(_flat(value, keys))
        if len(value) == len(keys) + 1:
            for key in zero_keys:
                value[1 + keys.index(key)] = np.zeros_like(expected[1][key])
        return tuple(value)

    # float64 params and X: the loss within 1e-10 too (float32 arithmetic in it passes 1e-6
    # and then fails the numerical-gradient check of dropout with a hint about the mask)
    t.compare(target, zeroed(got), zeroed(expected),
              names=("loss", *(f"grads[{k!r}]" for k in keys)), label=f"loss(X, y), {label}",
              mistakes=lambda: [(d, zeroed(v)) for d, v in t.ref.mistakes(
                  target, net_loss, *args, X, y)], float64_loss=True)


NET_STALE_HINT = ("the same model was right before: something is kept from an earlier call "
                  "(a copy of params or running_stats, caches stored on self, a value computed "
                  "once); the Trainer assigns model.params[name] at every step and "
                  "model.running_stats when it restores the best epoch, so every call of loss "
                  "must read self.params and self.running_stats as they are now")


def check_net_after_changes(t, target, model, case, zero_keys):
    """The model of ``case``, already called, given new params and running statistics (as the
    Trainer does when it restores the best epoch or loads a checkpoint: new dicts) and a second
    batch: scores, loss and gradients must follow them."""
    hidden, dims, normalization, reg, params, stats, X, y = case.args
    D, C = dims
    new_params = net_params(77, [D, *hidden, C], normalization)
    new_stats = running_stats(78, [D, *hidden, C], normalization)
    t.student.setattr(model, "params", new_params)
    t.student.setattr(model, "running_stats", new_stats)
    X2, y2 = second_batch(X, y)
    args = (hidden, dims, normalization, reg, new_params, new_stats)
    label = (case.label + "; then new params and running_stats (new dicts, as the Trainer sets "
             "them) and a second batch")
    try:
        check_net_loss(t, target, model, args, X2, y2, label, zero_keys)
    except Failed as failure:
        raise Failed(failure.message, hint=failure.hint or NET_STALE_HINT, kind=failure.kind,
                     error=failure.error) from None


DTYPE_HINT = ("make every parameter and running statistic in the model's dtype "
              "(np.zeros(n, dtype=self.dtype)): np.zeros and np.ones give float64 by default")


def check_initial(t, target, label, args, kwargs, normalization, dtype=np.float64):
    """Parameter keys, shapes, dtypes and initial values; running statistics zeros and ones."""
    hidden, D, C = args
    dims = [D, *hidden, C]
    model = t.student.new(target, *args, normalization=normalization, rng=Seed(0), **kwargs)
    shapes = {}
    for layer in range(1, len(dims)):
        shapes[f"W{layer}"] = (dims[layer - 1], dims[layer])
        shapes[f"b{layer}"] = (dims[layer],)
    norm_shapes, normalized = {}, normalization is not None
    if normalized:
        for layer in range(1, len(dims) - 1):
            norm_shapes[f"gamma{layer}"] = norm_shapes[f"beta{layer}"] = (dims[layer],)
    params = params_of(t, target, model, {**shapes, **norm_shapes}, label, dtype)
    extra = sorted(set(t.student.getattr(model, "params")) - set(shapes) - set(norm_shapes),
                   key=str)
    if extra:
        raise Failed(f"RegularizedNet({label}): params has unexpected keys {extra}",
                     hint="params holds W1, b1, ..., and gamma{l}, beta{l} for each normalized "
                          "hidden layer; running statistics go to running_stats")
    scale = kwargs.get("weight_scale", 1e-2)
    for key, value in params.items():
        if value.dtype != dtype:
            raise Failed(f"RegularizedNet({label}): params[{key!r}] has dtype {value.dtype}, "
                         f"expected {np.dtype(dtype)}", DTYPE_HINT)
        fill = 1.0 if key.startswith("gamma") else 0.0 if key[0] == "b" else None
        if fill is not None:
            if np.any(value != fill):
                raise Failed(f"RegularizedNet({label}): {key} should start as all "
                              f"{'ones' if fill else 'zeros'}")
            continue
        if scale == 0:
            check_zero_weights("RegularizedNet", label, key, value)
            continue
        expected = math.sqrt(2.0 / value.shape[0]) if scale is None else scale
        std = float(value.astype(np.float64).std())
        if abs(std / expected - 1) > 6 / math.sqrt(2 * value.size) + 0.01:
            raise Failed(f"RegularizedNet({label}): {key} has standard deviation {std:.4g}; it "
                         f"should be about {expected:.4g}",
                         hint="draw each W as scale * rng.standard_normal(shape), scale = "
                              "weight_scale, or sqrt(2 / fan_in) when weight_scale is None")
    stats = t.student.getattr(model, "running_stats")
    if not isinstance(stats, dict):
        raise Failed(f"RegularizedNet({label}): running_stats should be a dict, got "
                     f"{describe(stats)}")
    want, with_bn = {}, normalization == "batchnorm"
    if with_bn:
        for layer in range(1, len(dims) - 1):
            want[f"running_mean{layer}"] = np.zeros(dims[layer], dtype=dtype)
            want[f"running_var{layer}"] = np.ones(dims[layer], dtype=dtype)
    if set(stats) != set(want):
        raise Failed(f"RegularizedNet({label}): running_stats has the keys "
                     f"{sorted(stats, key=str)}, expected {sorted(want)}",
                     hint="with batch norm, running_mean{l} (zeros) and running_var{l} (ones) "
                          "for every hidden layer l; otherwise an empty dict")
    for key, value in want.items():
        got = as_array(f"running_stats[{key!r}]", stats[key], value)
        if got.dtype != dtype:
            raise Failed(f"RegularizedNet({label}): running_stats[{key!r}] has dtype "
                         f"{got.dtype}, expected {np.dtype(dtype)}", DTYPE_HINT)
        if not np.array_equal(got, value):
            raise Failed(f"RegularizedNet({label}): {key} should start as all "
                         f"{'zeros' if 'mean' in key else 'ones'}")


DROPOUT_BACKWARD = ("backpropagate through every dropout layer with the mask of its forward pass "
                    "(dh = dropout_backward(dh, cache) before relu_backward), and drop only the "
                    "hidden units: never the input X or the scores")
NOTHING_TO_DROP = ("dropout acts on the hidden layers only, after each ReLU: with no hidden layer "
                   "nothing is dropped, neither the input X nor the scores")


def check_dropout_in_net(t, target):
    """Test mode ignores dropout; training draws new masks from the model's rng each call; a
    network without hidden layers drops nothing; the gradients are those of the loss with the
    masks drawn."""
    check_nothing_to_drop(t, target)
    hidden, dims, normalization = [8, 6], (5, 3), "batchnorm"
    case = net_case("dropout=0.5", 41, (6, 5), hidden, 3, normalization, 0.1)
    _, _, _, reg, params, stats, X, y = case.args
    label = "batchnorm, dropout=0.5"

    def build(seed, given=params):
        model = t.student.new(target, hidden, *dims, normalization=normalization, dropout=0.5,
                              reg=reg, rng=Seed(seed))
        t.student.setattr(model, "params", given)
        t.student.setattr(model, "running_stats", stats)
        return model

    model = build(3)
    t._label("loss(X), " + label)
    scores = t.student.method(model, "loss", X)
    expected = t.ref.run(net_loss, hidden, dims, normalization, reg, params, stats, X)
    try:
        t.compare(target, scores, expected, names=("scores",), label=f"loss(X), {label}")
    except Failed as failure:
        if failure.hint is None and isinstance(scores, np.ndarray):
            again = t.student.method(model, "loss", X)
            if isinstance(again, np.ndarray) and again.shape == scores.shape and \
                    not np.array_equal(again, scores):
                raise Failed(failure.message + "; a second loss(X) gave other scores",
                             TEST_MODE_DROPOUT, kind=failure.kind, error=failure.error) from None
        raise
    t._label("loss(X, y), " + label)
    first = as_pair(t.student.method(model, "loss", X, y))
    second = as_pair(t.student.method(model, "loss", X, y))
    if not all(isinstance(got, tuple) and len(got) == 2 for got in (first, second)):
        raise Failed(f"RegularizedNet(loss(X, y), {label}): should return (loss, grads), got "
                     f"{describe(first)}")
    no_dropout = t.ref.run(net_loss, hidden, dims, normalization, reg, params, stats, X, y)[0]
    for got in (first, second):
        finite_loss(got[0], label)
        if isinstance(got[1], dict):
            for key in sorted(set(params) & set(got[1])):
                finite_grad(key, got[1][key], params[key],
                            f"RegularizedNet(loss(X, y), {label}): ")
    if abs(float(first[0]) - no_dropout) < 1e-9:
        raise Failed(f"RegularizedNet(loss(X, y), {label}): a training call gave the loss "
                     "without dropout: is dropout applied in training mode?",
                     hint="in loss(X, y) call dropout_forward(h, p=self.dropout, train=True, "
                          "rng=self.rng) after each hidden ReLU")
    if float(first[0]) == float(second[0]):
        raise Failed(f"RegularizedNet(loss(X, y), {label}): two training calls gave the same "
                     f"loss ({float(first[0]):.6g}, not the loss without dropout): the same "
                     "dropout masks on every call?",
                     hint="draw new masks on every call of loss(X, y) (dropout_forward with "
                          "rng=self.rng each time); keep no mask from one call to the next")
    again = build(3)
    twin = as_pair(t.student.method(again, "loss", X, y))
    if not isinstance(twin, tuple) or len(twin) != 2 or \
            as_scalar("loss", twin[0]) != float(first[0]):
        raise Failed(f"RegularizedNet(loss(X, y), {label}): two networks built with the same rng "
                     "seed and given the same parameters drew different dropout masks",
                     hint="draw the dropout masks from the model's rng (self.rng), nothing else")
    check_dropout_gradients(t, lambda given: build(3, given), params, X, y, twin[1], label)


TEST_MODE_DROPOUT = ("loss(X) is test mode: dropout is off there (the identity), so the scores "
                     "are the same at every call; apply dropout in loss(X, y) only (if train and "
                     "self.dropout > 0)")
DROPOUT_PLACE = ("apply dropout to the output of each hidden ReLU, h = dropout(relu(norm(a))), "
                 "not to the affine output a before the normalization")


EVERY_LAYER = ("dropout acts after the ReLU of every hidden layer (h_l = dropout(relu(...)) for "
               "l = 1 .. L-1), not only after some of them")
INPUT_DROPPED = ("dropout acts on the hidden layers only (after each hidden ReLU), not on the "
                 "input X")


def layernorm_relu(below, params, layer):
    """h = relu(layernorm(below @ W + b)) of hidden layer ``layer`` of a layer-norm network,
    in float64 (``below``: the layer's input, (N, fan-in))."""
    a = below @ params[f"W{layer}"] + params[f"b{layer}"]
    mu, var = a.mean(axis=1, keepdims=True), a.var(axis=1, keepdims=True)
    return np.maximum(0.0, params[f"gamma{layer}"] * (a - mu) / np.sqrt(var + 1e-5)
                      + params[f"beta{layer}"])


def _input_dropped(shown, X, params, p):
    """Whether the first hidden layer ``shown`` (after dropout) is what dropout on the input X
    too gives: relu(layernorm(X * m / (1 - p) @ W1 + b1)) / (1 - p) or 0, for a mask m of the
    D inputs (at most 2 ** 10 masks are tried)."""
    x = X.reshape(1, -1)
    D = x.shape[1]
    if D > 10:
        return False
    for bits in range(2 ** D):
        mask = np.array([(bits >> i) & 1 for i in range(D)], dtype=np.float64)
        h = layernorm_relu(x * mask / (1 - p), params, 1)[0]
        kept = np.isclose(shown, h / (1 - p), rtol=1e-6, atol=0)
        zero = np.abs(shown) <= 1e-9 * max(float(np.abs(h).max()), 1e-12)
        if np.all(kept | zero) and np.any(kept & (h > 0)):
            return True
    return False


def check_dropout_placement(t, target, p=0.3, calls=12, hidden=(30,)):
    """Where dropout acts and with which p: one example (N=1), layer norm, reg 0. Then
    grads['W(l+1)'] = outer(h_l after dropout, grads['b(l+1)']) for every hidden layer l, so
    every call shows each hidden layer after its dropout: each unit must be 0 (dropped, or
    ReLU'd to 0) or relu(norm(a)) / (1 - p) (kept), a being computed from the layer below as
    the student's own gradients show it, whatever way the masks were drawn; and about a
    fraction p of the units that the ReLU lets through must be dropped, in every layer."""
    D, C = 6, 4
    sizes = ", ".join(str(n) for n in hidden)
    case = net_case(f"layernorm, hidden [{sizes}], N=1, reg=0, dropout={p}", 45, (1, D),
                    list(hidden), C, "layernorm", 0.0)
    _, _, _, reg, params, stats, X, y = case.args
    label = case.label
    layers = len(hidden)
    keys = {f"{kind}{layer + 1}" for layer in range(1, layers + 1) for kind in "Wb"}
    model = t.student.new(target, list(hidden), D, C, normalization="layernorm", dropout=p,
                          reg=reg, rng=Seed(6))
    t.student.setattr(model, "params", params)
    t.student.setattr(model, "running_stats", stats)
    dropped, through = [0] * layers, [0] * layers
    for _ in range(calls):
        got = as_pair(t.student.method(model, "loss", X, y))
        where = f"RegularizedNet(loss(X, y), {label}): "
        if not isinstance(got, tuple) or len(got) != 2 or not isinstance(got[1], dict) or \
                keys - set(got[1]):
            raise Failed(f"{where}should return (loss, grads) with grads a dict with the keys "
                         f"{sorted(params)}, got {describe(got)}")
        finite_loss(got[0], label)
        below = X.reshape(1, -1)
        for layer in range(1, layers + 1):
            if layers > 1:
                where = (f"RegularizedNet(loss(X, y), {label}): hidden layer {layer} of "
                         f"{layers}: ")
            h = layernorm_relu(below, params, layer)[0]
            on = h > 1e-6 * h.max()  # the units the ReLU lets through
            shown = _shown_layer(got[1], params, layer + 1, h, p, where)
            scale = float(np.abs(h).max()) / (1 - p)
            zero = np.abs(shown) <= 1e-9 * scale
            kept = np.isclose(shown, h / (1 - p), rtol=1e-6, atol=0) & on
            bad = ~(zero | kept)
            if np.any(bad):
                j = int(np.argmax(bad))
                unscaled = np.allclose(shown[bad], h[bad], rtol=1e-6, atol=0)
                hint = _scaled_by_1_over_p(int(np.sum(zero & on)), int(on.sum()), p) \
                    if np.allclose(shown[bad], h[bad] / p, rtol=1e-6, atol=0) \
                    else EVERY_LAYER if unscaled and layers > 1 \
                    else INPUT_DROPPED if layer == 1 and _input_dropped(shown, X, params, p) \
                    else DROPOUT_PLACE if not np.all(on[bad]) or not np.allclose(
                        shown[bad], h[bad] / (1 - p), rtol=1e-3, atol=0) else None
                raise Failed(f"{where}hidden unit {j} after dropout is {shown[j]:.6g} (read off "
                             f"grads['W{layer + 1}'] = outer(h, grads['b{layer + 1}'])); after "
                             "ReLU then dropout it must be 0 (dropped) or relu(layernorm(a)) / "
                             f"(1 - p) = {h[j] / (1 - p):.6g} (kept)", hint, kind="values")
            dropped[layer - 1] += int(np.sum(zero & on))
            through[layer - 1] += int(on.sum())
            below = shown.reshape(1, -1)  # the next layer's input, as the student computed it
    for layer in range(1, layers + 1):
        n = through[layer - 1]
        where = f"RegularizedNet(loss(X, y), {label}): " + (
            f"hidden layer {layer} of {layers}: " if layers > 1 else "")
        sigma = math.sqrt(p * (1 - p) / n)
        fraction = dropped[layer - 1] / n
        if abs(fraction - p) > 6 * sigma:
            every_layer = dropped[layer - 1] == 0 and layers > 1
            raise Failed(f"{where}dropped a fraction {fraction:.3f} of the hidden units the "
                         f"ReLU let through over {calls} calls; with dropout={p} it should be "
                         f"within {6 * sigma:.3f} of {p}",
                         EVERY_LAYER if every_layer else
                         P_IS_KEEP if abs(fraction - (1 - p)) <= 6 * sigma else None)


def _shown_layer(grads, params, above, h, p, where):
    """The hidden layer after dropout as grads['W<above>'] = outer(h_drop, grads['b<above>'])
    shows it (one example, reg 0)."""
    gw = finite_grad(f"W{above}", grads[f"W{above}"], params[f"W{above}"], where)
    gb = finite_grad(f"b{above}", grads[f"b{above}"], params[f"b{above}"], where)
    gw, gb = gw.astype(np.float64), gb.astype(np.float64)
    if not np.any(gb):
        raise Failed(f"{where}grads['b{above}'] is 0: it should be the gradient of the loss "
                     "with respect to that layer's output")
    shown = gw @ gb / (gb @ gb)
    scale = float(np.abs(h).max()) / (1 - p)
    atol = 1e-9 * scale * float(np.abs(gb).max())
    if not np.allclose(gw, np.outer(shown, gb), rtol=1e-6, atol=atol):
        raise Failed(f"{where}with one example and reg=0, grads['W{above}'] should be "
                     f"h.T @ (the gradient at the layer's output) and grads['b{above}'] its sum, "
                     f"so grads['W{above}'] = outer(h, grads['b{above}']) (h the hidden layer "
                     "after dropout); it is not", DROPOUT_BACKWARD)
    return shown


def check_nothing_to_drop(t, target):
    """With no hidden layer there is no hidden unit to drop: loss(X, y) with dropout=0.5 gives
    the loss and gradients of the network without dropout (the reference's)."""
    case = net_case("no hidden layer, dropout=0.5", 43, (5, 4), [], 3, None, 0.2)
    hidden, dims, normalization, reg, params, stats, X, y = case.args
    model = t.student.new(target, hidden, *dims, normalization=normalization, dropout=0.5,
                          reg=reg, rng=Seed(4))
    t.student.setattr(model, "params", params)
    t.student.setattr(model, "running_stats", stats)
    try:
        check_net_loss(t, target, model, case.args[:6], X, y, case.label, [])
    except Failed as failure:
        raise Failed(failure.message, failure.hint or NOTHING_TO_DROP, kind=failure.kind,
                     error=failure.error) from None


def training_loss(t, model, X, y, label):
    """The loss of one training step of ``model``."""
    got = as_pair(t.student.method(model, "loss", X, y))
    if not isinstance(got, tuple) or len(got) != 2:
        raise Failed(f"RegularizedNet(loss(X, y), {label}): should return (loss, grads), got "
                     f"{describe(got)}")
    return finite_loss(got[0], label)


def finite_loss(value, label):
    """The loss as a float; NaN or inf fails (a comparison with NaN is always False)."""
    loss = as_scalar("loss", value)
    if not math.isfinite(loss):
        raise Failed(f"RegularizedNet(loss(X, y), {label}): the loss is {loss} with dropout on; "
                     "it should be a finite number", kind="nonfinite")
    return loss


def finite_grad(key, value, like, where):
    """grads[key] as an array; NaN or inf anywhere fails, naming the entry."""
    grad = as_array(f"grads[{key!r}]", value, like)
    if grad.dtype.kind in "fc" and not np.all(np.isfinite(grad)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(grad))[0])
        raise Failed(f"{where}grads[{key!r}]{list(bad)} is {grad[bad]}: with dropout on every "
                     "gradient should be a finite number (NaN or inf is never a gradient)",
                     DROPOUT_BACKWARD, kind="nonfinite")
    return grad


def check_dropout_gradients(t, build, params, X, y, grads, label):
    """``grads`` against the numerical gradient of the student's own loss with the same dropout
    masks (``build(params)`` makes a network that draws them: built with the same seed).

    Along a random unit direction v of each parameter, sum(grads[key] * v) must equal the rate
    (L(p + h v) - L(p - h v)) / 2h. A ReLU kink that one of the two steps happens to cross spoils
    that rate but not the one-sided rate of the other step, so either one-sided rate may agree
    instead (more loosely: its truncation error is of the order of h)."""
    where = f"RegularizedNet(loss(X, y), {label}): "
    if not isinstance(grads, dict) or set(params) - set(grads):
        raise Failed(f"{where}grads should be a dict with the keys {sorted(params)}, got "
                     f"{describe(grads)}")
    rng, h = np.random.default_rng(5), 1e-6
    base = training_loss(t, build(params), X, y, label)
    rates = {}
    for key in sorted(params):
        v = rng.standard_normal(params[key].shape)
        v /= np.linalg.norm(v)
        up = training_loss(t, build({**params, key: params[key] + h * v}), X, y, label)
        down = training_loss(t, build({**params, key: params[key] - h * v}), X, y, label)
        grad = finite_grad(key, grads[key], params[key], where)
        rates[key] = ((up - down) / (2 * h), (up - base) / h, (base - down) / h,
                      float(np.sum(grad.astype(np.float64) * v)))
    scale = max(abs(rate[0]) for rate in rates.values())

    def off(rate, analytic, rtol):
        # written as "not within" so that a NaN (which compares False) counts as off
        return not abs(rate - analytic) <= rtol * max(abs(rate), abs(analytic)) + \
            0.1 * rtol * scale

    for key, (central, forward, backward, analytic) in rates.items():
        if off(central, analytic, 1e-5) and off(forward, analytic, 1e-3) and \
                off(backward, analytic, 1e-3):
            error = abs(central - analytic) / max(abs(central), abs(analytic), 1e-12)
            raise Failed(f"{where}grads[{key!r}] disagrees with the numerical gradient of your own "
                         "loss with the same dropout masks (a network built again with the same "
                         f"seed): along a random direction of {key} the loss changes at the rate "
                         f"{central:.6g}, the gradients give {analytic:.6g}; without dropout the "
                         "gradients were right", DROPOUT_BACKWARD, kind="values", error=error)


@SPEC.test("RegularizedNet", points=4)
def regularized_net(t):
    """Initial parameters and running statistics; scores, loss, gradients and the running
    statistics' update with batch norm, layer norm or neither; dropout by its properties."""
    target = "regularization.RegularizedNet"
    check_initial(t, target, "[30, 20], 40, 10, batchnorm, weight_scale=0.05", ([30, 20], 40, 10),
                  {"weight_scale": 0.05}, "batchnorm")
    # fan_in differs from layer to layer (8, 60, 12): sqrt(2 / input_dim) for every layer, or
    # sqrt(2 / fan_out), is off by far more than sampling allows
    check_initial(t, target, "[60, 12], 8, 5, layernorm, weight_scale=None (He)",
                  ([60, 12], 8, 5), {"weight_scale": None}, "layernorm")
    check_initial(t, target, "[6], 5, 3, weight_scale=0.0", ([6], 5, 3), {"weight_scale": 0.0},
                  None)
    for normalization in (None, "batchnorm", "layernorm"):
        check_initial(t, target, f"[20, 12], 16, 4, {normalization or 'no normalization'}, "
                      "dtype=float32", ([20, 12], 16, 4),
                      {"weight_scale": 0.1, "dtype": "float32"}, normalization, dtype=np.float32)
    check_uses_rng(t, target, ([4], 6, 3), {"weight_scale": 0.1, "normalization": "batchnorm"},
                   {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}, "[4], 6, 3")
    stale_checked, first_public = False, None
    for case in net_cases(t):
        if case.hidden and not stale_checked:  # after the public cases, before the hidden ones
            check_net_after_changes(t, target, *first_public)
            stale_checked = True
        hidden, dims, normalization, reg, params, stats, X, y = case.args
        model = t.student.new(target, hidden, *dims, normalization=normalization, reg=reg,
                              rng=Seed(1))
        t.student.setattr(model, "params", params)
        t.student.setattr(model, "running_stats", stats)
        args = (hidden, dims, normalization, reg, params, stats)
        zero_keys = [f"b{layer}" for layer in range(1, len(hidden) + 1)] \
            if normalization == "batchnorm" else []
        check_net_loss(t, target, model, args, X, y, case.label, zero_keys)
        if normalization == "batchnorm":
            got_stats = t.student.getattr(model, "running_stats")
            got_scores = t.student.method(model, "loss", X)
            expected_stats, expected_scores = t.ref.run(net_after_training_step, *args, X, y)
            label = f"after loss(X, y), {case.label}"
            t.compare(target, got_stats, expected_stats, names=("running_stats",), label=label,
                      mistakes=lambda a=args: [(d, v[0]) for d, v in t.ref.mistakes(
                          target, net_after_training_step, *a, X, y)])
            t.compare(target, got_scores, expected_scores, names=("scores in test mode",),
                      label=label)
        if not stale_checked and normalization == "batchnorm" and first_public is None:
            first_public = (model, case, zero_keys)
    if not stale_checked:  # no hidden case (the student release)
        check_net_after_changes(t, target, *first_public)
    check_dropout_in_net(t, target)
    check_dropout_placement(t, target)
    check_dropout_placement(t, target, hidden=(30, 20))
