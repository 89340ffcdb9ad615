"""Comparisons that produce verdicts a student can act on.

Every check raises ``Failed(message, hint)`` with the first thing that is wrong, in this order:
nothing returned, wrong type, wrong shape, wrong dtype, NaN or inf, wrong values. The pass criterion
is elementwise and relative (to each entry, or to 0.1% of the largest entry for small ones) and
meant for float64: an implementation that is mathematically right passes whatever order it sums in.
A float64 loss is held to a tighter tolerance too (``close_loss``): float32 arithmetic in it hides
inside the default one.
A verdict on values reports the figure that rule measured: the entry with the largest elementwise
relative error, that error, the tolerance, and the two values there (when every entry is off and
that one is near 0, the entry most off among those of ordinary size instead).

``Failed.kind`` says what went wrong ("missing", "type", "shape", "dtype", "nonfinite",
"values", "other") and ``Failed.error`` the relative error when values were compared: a verdict on
a hidden case shows the student only these two.
"""

import math
import re

import numpy as np

DEFAULT_RTOL = 1e-6
# A float64 loss (a Python float computed from float64 inputs) agrees with the reference to
# about 1e-13 whatever the order of its sums, its stable form (log-sum-exp, p then log, log1p or
# log(1 + exp)) or the way it is vectorised; float32 arithmetic anywhere in it (a float32 array,
# an np.float32 accumulator) leaves about 6e-8, inside DEFAULT_RTOL, and breaks the numerical
# gradient of that loss (a centred difference with h = 1e-5 divides its rounding by 2e-5). Such
# losses are compared within LOSS_RTOL too, with LOSS_ATOL as an absolute floor: near 0 a loss
# of scores around 1000 keeps absolute rounding of about 1e-13 (``close_loss``).
LOSS_RTOL = 1e-10
LOSS_ATOL = 1e-11


class Failed(AssertionError):
    """A verdict: what is wrong (message) and, when recognised, the likely mistake (hint)."""

    def __init__(self, message, hint=None, *, kind="other", error=None, tolerance=None,
                 quantity=None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.kind = kind
        self.error = error
        self.tolerance = tolerance
        self.quantity = quantity  # the output that is wrong ("loss", "grads['W1']"), when known

    def summary(self):
        """What a student may see of this failure on a hidden case: its kind, its error size
        against the tolerance (never two equal-looking numbers), and whether an error that small
        is float32 rounding (``float32_sized``)."""
        words = {"missing": "nothing was returned", "type": "a result of the wrong type",
                 "shape": "a result of the wrong shape", "dtype": "a result of the wrong dtype",
                 "nonfinite": "NaN or inf in the result", "values": "wrong values"}
        text = words.get(self.kind, "a wrong result")
        if self.error is not None:
            tolerance = self.tolerance if self.tolerance is not None else _tolerance_in(
                self.message)
            if tolerance:
                shown, allowed = _two_figures(self.error, tolerance)
                text += f" (largest relative error {shown}, tolerance {allowed})"
            else:
                text += f" (largest relative error {self.error:.2g})"
        if self.float32_sized():
            text += FLOAT32_REMARK
        return text

    def float32_sized(self):
        """Whether the verdict put this error down to float32 arithmetic (its size says so)."""
        return self.kind == "values" and FLOAT32_WORDS in self.message


def _tolerance_in(message):
    """The tolerance a verdict's message states ("tolerance 1e-06"), for a Failed re-raised
    without it; None when it states none."""
    found = re.search(r"tolerance (\d[\d.]*(?:e[-+]?\d+)?)", message or "")
    try:
        return float(found.group(1)) if found else None
    except ValueError:
        return None


def _fmt(x):
    if isinstance(x, (float, np.floating)):
        return f"{float(x) + 0.0:.6g}"  # + 0.0: -0.0 shows as 0
    return str(x)


def digits_apart(got, expected):
    """``got`` and ``expected`` as text with as many digits as it takes to tell them apart (6 at
    least): ("-0.5741792", "-0.5741793"), never two equal-looking numbers."""
    got, expected = float(got) + 0.0, float(expected) + 0.0  # -0.0 shows as 0
    for digits in range(6, 18):
        a, b = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            break
    return a, b


def _two_figures(error, tolerance):
    """An error and its tolerance in two significant figures, or more when two would make the
    error read as the tolerance ("1.04e-06" against "1e-06", never "1e-06" against "1e-06")."""
    for digits in range(2, 8):
        a, b = f"{error:.{digits}g}", f"{tolerance:.{digits}g}"
        if a != b:
            break
    return a, f"{tolerance:.2g}"


FLOAT32_WORDS = "an error this small comes from float32 arithmetic"
FLOAT32_REMARK = (f"; {FLOAT32_WORDS} (compute in float64, the inputs' dtype) or from a small "
                  "constant such as eps used differently")
# What an error just above the tolerance is where the expected answer is exact and the student's
# an approximation (a numerical gradient against the analytic one): said instead of
# FLOAT32_REMARK (``spec.Trial.compare``'s ``small_error_remark``).
NUMERICAL_GRADIENT_REMARK = ("; an error of this size is what a one-sided difference "
                             "(f(x + h) - f(x)) / h or a step other than h gives: the centered "
                             "difference with the given h is right to about 1e-8 here")


def float32_remark(error):
    """What a relative error just above the tolerance usually is (FLOAT32_REMARK), or ''."""
    if 1e-8 <= error <= 1e-4:
        return FLOAT32_REMARK
    return ""


def scale_remark(got, expected):
    """When every entry is the same multiple of the expected one (a sign error, a mean for a
    sum, a count divided once too often or not at all), say so; else ''. A remark never breaks
    the verdict it is added to: any arithmetic trouble gives ''."""
    try:
        return _scale_remark(got, expected)
    except (ArithmeticError, ValueError):
        return ""


def scalar_scale_remark(got, expected):
    """For one number: when it is exactly -1, 2 or a whole count (3 or more) times the expected
    one, or the expected one divided by it (one number is always *some* multiple: only these
    say something), say so; else ''."""
    try:
        got, expected = float(got), float(expected)
        if expected == 0 or got == 0 or not (math.isfinite(got) and math.isfinite(expected)):
            return ""
        factor = got / expected
        if abs(factor + 1) < 1e-6:
            return "; it has the opposite sign of the expected value: a sign error"
        for k, what in ((factor, "a sum where a mean belongs, or a division by a count "
                                 "missing?"),
                        (1 / factor, "a mean where a sum belongs, or a division by a count too "
                                     "many?")):
            if abs(k - 2) < 1e-6:
                return (f"; it is {factor:.4g} times the expected value (a factor 2, such as "
                        "the 2 of d(x**2)/dx, or a count of 2?)")
            if k >= 3 and abs(k - round(k)) < 1e-6 * k:
                return (f"; it is {factor:.4g} times the expected value ({round(k)} is a "
                        f"count: {what})")
    except (ArithmeticError, ValueError, OverflowError):
        return ""
    return ""


def _scale_remark(got, expected):
    got = np.asarray(got, dtype=np.float64).ravel()
    expected = np.asarray(expected, dtype=np.float64).ravel()
    if got.size < 2 or not np.all(np.isfinite(got)):
        return ""
    floor = 1e-3 * float(np.max(np.abs(expected), initial=0.0))
    large = np.abs(expected) > floor
    if floor == 0 or large.sum() < 2:
        return ""
    with np.errstate(all="ignore"):  # the judge raises on floating-point errors elsewhere
        factor = float(np.median(got[large] / expected[large]))
        if not math.isfinite(factor) or abs(factor - 1) < 1e-3 or factor == 0:
            return ""
        # one factor for every entry, the small ones included (each to 1e-6 of its own size,
        # or of 0.1% of the largest): a few huge entries scaled while the small ones are right
        # (a gradient's clipped entries) are not "every entry"
        scaled = factor * expected
        allowed = 1e-6 * np.maximum(np.abs(scaled), 1e-3 * float(np.max(np.abs(scaled))))
        if not np.all(np.abs(got - scaled) <= allowed):
            return ""
    if abs(factor + 1) < 1e-6:
        return "; every entry has the opposite sign of the expected one: a sign error"
    text = f"; every entry is {factor:.4g} times the expected one"
    for k, what in ((factor, "a sum where a mean belongs, or a division by a count missing?"),
                    (1 / factor, "a mean where a sum belongs, or a division by a count too "
                                 "many?")):
        if not math.isfinite(k):
            continue
        if abs(abs(k) - 2) < 1e-6:
            return text + " (a factor 2, such as the 2 of d(x**2)/dx, or a count of 2?)"
        if abs(k) >= 3 and abs(abs(k) - round(abs(k))) < 1e-6 * abs(k):
            return text + f" ({round(abs(k))} is a count: {what})"
    return text


def _where(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"a NumPy scalar of dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    if isinstance(value, list):
        return f"a list of {len(value)} values"
    if type(value).__name__ == "Handle":  # an object the worker could not send as plain data
        kind = getattr(value, "type_name", "") or "unknown"
        if kind in ("tuple", "list", "dict"):  # a container of something that is not data
            return (f"a {kind} that holds something other than arrays, numbers, strings, "
                    "tuples, lists and dicts (with string or integer keys)")
        if not kind.isidentifier() or len(kind) > 80:  # no words of the hand-in's as the grader's
            return (f"an object of a class the hand-in defined, named {kind[:200]!r} (not an "
                    "array, number, tuple, list or dict)")
        return f"an object of type {kind} (not an array, number, tuple, list or dict)"
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**64:
        return f"an int of {len(str(abs(value)))} digits, beyond what a 64-bit integer holds"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


COMPLEX_CAUSE = ("a power such as x ** 0.5 of a negative Python number, np.emath/cmath, or a 1j "
                 "makes numbers complex")


def complex_failure(name, got):
    """The verdict for a complex ``got`` (a Python complex, or a complex NumPy scalar or array)
    where real numbers belong: what made it complex, and what to return instead."""
    dtype = np.asarray(got).dtype
    if isinstance(got, np.ndarray) and got.ndim > 0:
        what, want = f"has complex entries (dtype {dtype})", "a real (float) array"
    else:
        what, want = f"is a complex number ({dtype})", "a float"
    return Failed(f"{name} {what}: {COMPLEX_CAUSE}; keep the computation real (what goes into "
                  f"the square root or power must not be negative) and return {want}",
                  kind="dtype")


def as_scalar(name, got):
    """A real number from ``got`` (Python number, NumPy scalar or 0-d array), or Failed."""
    if got is None:
        raise Failed(f"{name} is None: did you forget to return it?", kind="missing")
    if isinstance(got, (bool, np.bool_)):
        raise Failed(f"{name} should be a number, got a bool", kind="type")
    if isinstance(got, int) and abs(got) >= 2**1024:  # float() would raise OverflowError
        raise Failed(f"{name} is {describe(got)} or a float", kind="values")
    if isinstance(got, (int, float)):
        return float(got)
    if isinstance(got, complex):
        raise complex_failure(name, got)
    if isinstance(got, (np.ndarray, np.generic)) and np.ndim(got) == 0:
        if np.asarray(got).dtype.kind in "iuf":
            return float(got)
        if np.asarray(got).dtype.kind == "c":
            raise complex_failure(name, got)
    raise Failed(f"{name} should be a single number (a float), got {describe(got)}", kind="type")


def close_scalar(name, got, expected, *, rtol=DEFAULT_RTOL, atol=0.0):
    """Check a scalar such as a loss."""
    value = as_scalar(name, got)
    if math.isnan(expected):
        # An undefined answer (a metric of a class that never occurs): only NaN matches it.
        if not math.isnan(value):
            raise Failed(f"{name} is {_fmt(value)} but should be NaN (undefined here: read the "
                         "docstring's rule for this case)", kind="values", error=1.0)
        return
    if math.isnan(value):
        raise Failed(f"{name} is nan but should be {_fmt(expected)}: a division of 0 by 0 "
                     "(a mean over nothing, a count of 0), inf - inf, 0 * inf, or a NaN in an "
                     "input of this step?", kind="nonfinite")
    if math.isinf(value):
        raise Failed(f"{name} is {value} but should be {_fmt(expected)}: an overflow (exp of "
                     "large scores), log of 0, or a division by 0?", kind="nonfinite")
    error = abs(value - expected) / max(abs(expected), 1e-12)
    if abs(value - expected) > atol and error > rtol:
        shown, should = digits_apart(value, expected)
        shown_error, shown_rtol = _two_figures(error, rtol)
        raise Failed(f"{name} is {shown} but should be {should} (relative error {shown_error}, "
                     f"tolerance {shown_rtol}){float32_remark(error)}"
                     f"{scalar_scale_remark(value, expected)}", kind="values", error=error,
                     tolerance=rtol)


def close_loss(name, got, expected, *, rtol=DEFAULT_RTOL):
    """Check a float64 loss: as ``close_scalar`` with ``rtol``, then within LOSS_RTOL (or
    LOSS_ATOL absolute), with a verdict that names float32 arithmetic."""
    close_scalar(name, got, expected, rtol=rtol)
    value = as_scalar(name, got)
    if loss_right(value, expected):
        return
    difference = abs(value - expected)
    error = difference / max(abs(expected), 1e-12)
    shown, should = digits_apart(value, expected)
    raise Failed(f"{name} is {shown} but should be {should} (relative error {error:.2g}, "
                 f"tolerance {LOSS_RTOL:.0e} for a float64 loss, which is right to about 1e-13 "
                 "whatever the order of its sums): an error this small comes from float32 "
                 "arithmetic; compute the loss in float64, the inputs' dtype, or a gradient "
                 "check of your loss fails (float32 rounding swamps its numerical gradient)",
                 hint="keep every step of the loss in float64, the inputs' dtype: no "
                      ".astype(np.float32), no np.float32(0.0) to add into, no float32 array "
                      "to hold the terms",
                 kind="values", error=error, tolerance=LOSS_RTOL)


def loss_right(value, expected):
    """Whether the number ``value`` is a float64 loss ``expected`` (within LOSS_RTOL, or
    LOSS_ATOL absolute), not just within float32 precision of it."""
    if not (math.isfinite(value) and math.isfinite(expected)):
        return value == expected
    return abs(value - expected) <= max(LOSS_RTOL * abs(expected), LOSS_ATOL)


def as_array(name, got, expected):
    """Check type, shape and dtype of ``got`` against the expected array; return it."""
    if got is None:
        raise Failed(f"{name} is None: did you forget to return it?", kind="missing")
    if not isinstance(got, np.ndarray):
        if isinstance(got, (list, tuple)):
            raise Failed(f"{name} should be a NumPy array of shape {expected.shape}, got "
                         f"{describe(got)}", kind="type")
        if expected.ndim == 0 and isinstance(got, int) and not -2**63 <= got < 2**64:
            # a Python int beyond 64 bits (the wire keeps it an int): NumPy would make it an
            # array of Python objects; its value is what is wrong
            raise Failed(f"{name} is {describe(got)}; it should be {_fmt(expected[()])}",
                         kind="values")
        if expected.ndim == 0 and isinstance(got, (int, float, complex, np.generic)):
            got = np.asarray(got)  # a number where a 0-d array is expected: compare the value
        else:
            raise Failed(f"{name} should be an array of shape {expected.shape}, got "
                         f"{describe(got)}", kind="type")
    if got.shape != expected.shape:
        extra = ""
        if got.ndim == 2 and got.shape[::-1] == expected.shape:
            extra = " (transposed?)"
        elif got.size == expected.size:
            extra = " (same number of elements: reshape it?)"
        raise Failed(f"{name} has shape {got.shape} but should have shape {expected.shape}"
                     f"{extra}", kind="shape")
    if expected.dtype.kind in "f" and got.dtype.kind == "c":
        raise complex_failure(name, got)
    if expected.dtype.kind == "f":
        if got.dtype.kind not in "f":
            raise Failed(f"{name} has dtype {got.dtype} but should be floating point "
                         f"({expected.dtype}); integer arithmetic loses the fractions",
                         kind="dtype")
        if got.dtype.itemsize < expected.dtype.itemsize:
            raise Failed(f"{name} has dtype {got.dtype} but should keep {expected.dtype}: "
                         "do not cast to a lower precision", kind="dtype")
    elif expected.dtype.kind in "iu" and got.dtype.kind not in "iu":
        empty = (" (an empty list or array is float64 unless told otherwise: give "
                 "dtype=np.int64, e.g. xp.asarray(keep, dtype=xp.int64))" if got.size == 0
                 else "")
        raise Failed(f"{name} has dtype {got.dtype} but should hold integers "
                     f"({expected.dtype}){empty}", kind="dtype")
    return got


def array_error(got, expected):
    """Elementwise relative error (relative to the element, or to 0.1% of the largest element
    when the element is small) and the index of the worst one."""
    got = got.astype(np.float64) if got.dtype.kind != "c" else got
    expected = expected.astype(np.float64) if expected.dtype.kind != "c" else expected
    if expected.size == 0:
        return 0.0, ()
    scale = float(np.max(np.abs(expected)))
    floor = max(1e-3 * scale, 1e-12)
    error = np.abs(got - expected) / np.maximum(np.abs(expected), floor)
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    return float(error[worst]), worst


def close_array(name, got, expected, *, rtol=DEFAULT_RTOL):
    """Check an array against the expected one; raise Failed with the worst element."""
    expected = np.asarray(expected)
    got = as_array(name, got, expected)
    if got.dtype.kind in "fc":
        bad = ~np.isfinite(got) & np.isfinite(expected)
        if bad.any():
            index = tuple(np.argwhere(bad)[0])
            kind = "NaN" if np.isnan(got[index]) else "inf"
            raise Failed(f"{name} contains {kind} (first at {_where(index)}, {int(bad.sum())} "
                         "elements in all): an overflow, a division by zero, or log of 0?",
                         kind="nonfinite")
        undefined = np.isnan(expected)
        if undefined.any():
            # NaN marks an undefined entry: it must be NaN exactly there, and the other entries
            # are compared as usual (a NaN in the expected array must not hide them).
            wrong = undefined != np.isnan(got)
            if wrong.any():
                index = tuple(np.argwhere(wrong)[0])
                should = "NaN (undefined)" if undefined[index] else _fmt(expected[index])
                raise Failed(f"{name} is wrong at {_where(index)}: got {_fmt(got[index])}, "
                             f"expected {should}; {int(wrong.sum())} of {wrong.size} entries "
                             "differ in being undefined", kind="values", error=1.0)
            keep = ~undefined
            got, expected = got[keep], expected[keep]
    if expected.dtype.kind in "iub":
        wrong = got != expected
        if wrong.any():
            index = tuple(np.argwhere(wrong)[0])
            raise Failed(f"{name} differs in {int(wrong.sum())} of {wrong.size} entries; first "
                         f"at {_where(index)}: got {got[index]}, expected {expected[index]}",
                         kind="values", error=1.0)
        return
    error, worst = array_error(got, expected)
    if error > rtol:
        # Report the figure the pass rule measured: the entry with the largest elementwise
        # relative error, that error and the tolerance, so the number never contradicts the
        # verdict (when every entry is off, the worst of ordinary size: see below).
        floor = max(1e-3 * float(np.max(np.abs(expected))), 1e-12)
        count = _count_off(got, expected, rtol)
        shown_at = error
        if count == expected.size and abs(expected[worst]) < floor:
            # Every entry is off: one of ordinary size (10% of the largest or more) says more
            # than the one near 0, measured against 0.1% of the largest entry; it is off too,
            # by the relative error shown.
            shown_at, worst = _worst_of_ordinary_size(got, expected) or (error, worst)
        where = f"entry {_where(worst)}" if worst else "the value"
        shown, should = digits_apart(got[worst], expected[worst])
        if abs(expected[worst]) < floor:  # near 0: measured against 0.1% of the largest entry
            difference = abs(complex(got[worst]) - complex(expected[worst]))
            off = (f"is off by {difference:.2g}, where {rtol * floor:.2g} is allowed (this "
                   f"entry is near 0, so the tolerance {rtol:.2g} applies to {floor:.2g}, 0.1% "
                   f"of the largest entry)")
        else:
            shown_error, shown_rtol = _two_figures(shown_at, rtol)
            off = f"is off by {shown_error} relative (tolerance {shown_rtol})"
        raise Failed(f"{name} is wrong: {where} {off}: got {shown}, expected {should}"
                     + (f"; {count} of {expected.size} entries are off" if expected.size > 1
                        else "") + (scale_remark(got, expected) or float32_remark(error)),
                     kind="values", error=error, tolerance=rtol)


def _worst_of_ordinary_size(got, expected):
    """(relative error, index) of the entry most off among those of ``expected`` of ordinary
    size (at least 10% of the largest), or None when there is none."""
    got = got.astype(np.float64) if got.dtype.kind != "c" else got
    expected = expected.astype(np.float64) if expected.dtype.kind != "c" else expected
    size = np.abs(expected)
    ordinary = size >= 0.1 * float(np.max(size))
    if not ordinary.any() or float(np.max(size)) == 0:
        return None
    error = np.where(ordinary, np.abs(got - expected) / np.where(ordinary, size, 1.0), -1.0)
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    return float(error[worst]), worst


def _count_off(got, expected, rtol):
    got = got.astype(np.float64) if got.dtype.kind != "c" else got
    expected = expected.astype(np.float64) if expected.dtype.kind != "c" else expected
    floor = max(1e-3 * float(np.max(np.abs(expected))), 1e-12)
    return int((np.abs(got - expected) / np.maximum(np.abs(expected), floor) > rtol).sum())


def close(name, got, expected, *, rtol=DEFAULT_RTOL):
    """Compare any expected value: a number, an array, or a tuple/list/dict of those."""
    if isinstance(expected, (float, int, np.floating, np.integer)) and not isinstance(
            expected, bool):
        close_scalar(name, got, float(expected), rtol=rtol)
    elif isinstance(expected, np.ndarray):
        close_array(name, got, expected, rtol=rtol)
    elif isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise Failed(f"{name} should be {len(expected)} values, got {describe(got)}",
                         kind="type")
        for i, (g, e) in enumerate(zip(got, expected)):
            close(f"{name}[{i}]", g, e, rtol=rtol)
    elif isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Failed(f"{name} should be a dict with keys {sorted(expected)}, got "
                         f"{describe(got)}", kind="type")
        missing = sorted(set(expected) - set(got))
        if missing:
            raise Failed(f"{name} lacks the keys {missing}", kind="type")
        for key in expected:
            close(f"{name}[{key!r}]", got[key], expected[key], rtol=rtol)
    elif expected is None:
        if got is not None:
            raise Failed(f"{name} should be None, got {describe(got)}", kind="type")
    else:
        raise TypeError(f"close: cannot compare with a {type(expected).__name__}")


def matches(got, expected, rtol=DEFAULT_RTOL):
    """True when ``close`` would accept ``got``."""
    try:
        close("value", got, expected, rtol=rtol)
    except Failed:
        return False
    return True
