"""Known mistakes of unit 02, gradcheck: wrong variants with the signature of the function they
imitate. Each is tested to be recognised (tests/test_hints.py)."""

import itertools

import numpy as np

from ..specs.gradcheck import IN_PLACE_HINT, RESTORE_HINT, VIEW_HINT


def _indices(x):
    return itertools.product(*(range(n) for n in x.shape))


def _numerical(f, x, h=1e-5, *, kind="centered", restore=True, fixed_h=None):
    h = fixed_h or h
    grad = np.zeros_like(x)
    for ix in _indices(x):
        old = x[ix]
        x[ix] = old + h
        fp = f(x)
        if kind == "forward":
            x[ix] = old
            fm = f(x)
            grad[ix] = (fp - fm) / h
        else:
            x[ix] = old - h
            fm = f(x)
            grad[ix] = (fp - fm) / (2 * h if kind == "centered" else h)
        if restore:
            x[ix] = old
    return grad


def _numerical_on_copies(f, x, h=1e-5):
    """Each probe on a perturbed copy of x: x itself never changes."""
    grad = np.zeros_like(x)
    for ix in _indices(x):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[ix] += h
        x_minus[ix] -= h
        grad[ix] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


def numerical_gradient_mistakes():
    return [
        ("use the centered difference (f(x + h) - f(x - h)) / (2 h); the one-sided "
         "(f(x + h) - f(x)) / h is much less accurate",
         lambda f, x, *, h=1e-5: _numerical(f, x, h, kind="forward")),
        ("the centered difference divides by 2 h, the distance between x - h and x + h",
         lambda f, x, *, h=1e-5: _numerical(f, x, h, kind="over_h")),
        (RESTORE_HINT,
         lambda f, x, *, h=1e-5: _numerical(f, x, h, restore=False)),
        ("use the step h you are given, not a fixed 1e-5",
         lambda f, x, *, h=1e-5: _numerical(f, x, h, fixed_h=1e-5)),
        (IN_PLACE_HINT,
         lambda f, x, *, h=1e-5: _numerical_on_copies(f, x, h)),
    ]


def _numerical_array(f, x, dout, h=1e-5, *, kind="centered", diagonal=False, use_dout=True,
                     restore=True, copy=True):
    """``copy=False``: the outputs kept as f returns them (a view of x changes with x)."""
    keep = np.array if copy else (lambda y: y)
    grad = np.zeros_like(x)
    for ix in _indices(x):
        old = x[ix]
        x[ix] = old + h
        yp = keep(f(x))
        x[ix] = old if kind == "forward" else old - h
        ym = keep(f(x))
        if restore:
            x[ix] = old
        diff = (yp - ym) / (h if kind == "forward" else 2 * h)
        if diagonal:
            grad[ix] = diff[ix] * dout[ix]
        elif use_dout:
            grad[ix] = (diff * dout).sum()
        else:
            grad[ix] = diff.sum()
    return grad


def numerical_gradient_array_mistakes():
    return [
        ("use the centered difference (f(x + h) - f(x - h)) / (2 h); the one-sided one is much "
         "less accurate",
         lambda f, x, dout, *, h=1e-5: _numerical_array(f, x, dout, h, kind="forward")),
        ("x[i] can change every output element: sum (f(x + h) - f(x - h)) * dout over all of "
         "them, not only the element at the same index",
         lambda f, x, dout, *, h=1e-5: _numerical_array(f, x, dout, h, diagonal=True)),
        ("weight the change of the output by dout: sum((f(x + h) - f(x - h)) * dout) / (2 h)",
         lambda f, x, dout, *, h=1e-5: _numerical_array(f, x, dout, h, use_dout=False)),
        (RESTORE_HINT,
         lambda f, x, dout, *, h=1e-5: _numerical_array(f, x, dout, h, restore=False)),
        (VIEW_HINT,
         lambda f, x, dout, *, h=1e-5: _numerical_array(f, x, dout, h, copy=False)),
    ]


def _relative(a, b, *, floor=True, reduce="max", denominator="sum", absolute=True,
              added=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = np.abs(a - b) if absolute else a - b
    den = {"sum": np.abs(a) + np.abs(b), "max": np.maximum(np.abs(a), np.abs(b)),
           "abs_of_sum": np.abs(a + b)}[denominator]
    if added:
        den = den + 1e-8
    elif floor:
        den = np.maximum(1e-8, den)
    with np.errstate(all="ignore"):
        error = diff / den
    return float(error.max() if reduce == "max" else error.mean())


def relative_error_mistakes():
    return [
        ("where a and b are both 0 the denominator is 0: use max(1e-8, |a| + |b|)",
         lambda a, b: _relative(a, b, floor=False)),
        ("report the largest elementwise error (max), not the mean",
         lambda a, b: _relative(a, b, reduce="mean")),
        ("the denominator is |a| + |b|, not max(|a|, |b|)",
         lambda a, b: _relative(a, b, denominator="max")),
        ("the denominator is |a| + |b|, the sum of the absolute values, not |a + b|: where a "
         "and b have opposite signs |a + b| is small and the error blows up",
         lambda a, b: _relative(a, b, denominator="abs_of_sum")),
        ("take the absolute value of a - b: a negative difference hides under the max",
         lambda a, b: _relative(a, b, absolute=False)),
        ("the floor 1e-8 is a lower bound of the denominator, max(1e-8, |a| + |b|), not a term "
         "added to it: for values near 1e-8 the two differ",
         lambda a, b: _relative(a, b, added=True)),
    ]


MISTAKES = {
    "gradcheck.numerical_gradient": numerical_gradient_mistakes(),
    "gradcheck.numerical_gradient_array": numerical_gradient_array_mistakes(),
    "gradcheck.relative_error": relative_error_mistakes(),
}


X_I_IS_A_ROW = ("x[i] of an array of two or more dimensions is a whole row, not one number: "
                "visit every element by its full index, for index in np.ndindex(x.shape) (or "
                "itertools.product over the ranges of x.shape)")


def _x_i(target, after):
    """``target`` looping over range(x.size) and indexing x[i], as if x were 1-D."""
    from ._edited import edited

    head = "        old = x[index].item()\n        x[index] = old + h\n        " + after
    return edited(target, ("for index in itertools.product(*(range(n) for n in x.shape)):\n"
                           + head, "for index in range(x.size):\n" + head))


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``): their error gives the hint."""
    return {"gradcheck.numerical_gradient": [
        (X_I_IS_A_ROW, _x_i("gradcheck.numerical_gradient", "f_plus"))],
        "gradcheck.numerical_gradient_array": [
        (X_I_IS_A_ROW, _x_i("gradcheck.numerical_gradient_array", "y_plus"))]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
