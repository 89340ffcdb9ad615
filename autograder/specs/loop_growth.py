"""Loops that grow with the data, found by counting the lines a call runs.

A "fast" layer may loop over the offsets inside its window (k, l) and over nothing else: not over
examples, channels, filters or output positions (unit 03's fast convolution and pooling, unit 07's
transposed and dilated convolutions). The static rule (``rules``: loops nested at most two deep)
lets a single loop over examples with a vectorized body through, and timing cannot tell it from
honest code on a shared machine. Counting can: the worker counts the lines of the student's own
code that a call runs (``worker.LineCounter``; one per iteration of a loop, comprehensions
included), and ``no_loop_over`` calls the function on inputs that differ in one size only
(2 examples, then 11, 20, 130 and 260; the window the same), each twice, keeping the second
count (a first call may fill a cache for its shape). Vectorized code runs the same lines for
all of them; code that loops over that size runs more lines for every larger size, and code
that loops over blocks of it (64 examples at a time) more at least twice, while a branch on the
size changes the count once at most (``_grows``). So the verdict depends on no clock
and no tolerance, and a loop over the kernel offsets, which does not change between the calls,
is never counted against the student. A call of a function once per element (map,
np.vectorize...) runs no line of student code per element when the function is NumPy's, so
those are refused outright in fast functions (``no_per_element_calls``), and so is an array of
Python objects (``dtype=object``: every operation on it calls NumPy once per element). The
builtins that go through an iterable in C (``sum(X)`` adds X's rows one by one; ``min``,
``max``, ``sorted``, ``math.prod``, ``math.fsum``) run no line per item either: the worker counts
the items they take (``worker.count_consumers``), and those counts must not grow with the size
either (``sum([a, b, c])``, ``sum(x.shape)``, ``max(h, w)`` take as many at every size). Nor
may the lines run in library Python code (``statistics.mean``, ``heapq.nsmallest``,
``np.stack([*rows])`` go through the data there; vectorized NumPy code runs as many at every
size), and an array of Python objects held during a counted call, however its dtype was spelled,
fails it (``worker.LineCounter``).

The check is public (its inputs are random and small; only the student's own calls are made, so
the student release needs nothing recorded for it).
"""

import numpy as np

from ..compare import Failed
from ..rules import OBJECT_ARRAY
from ..spec import BLIND_HINT

SMALL = 2                    # the size of every axis in the base call
LARGER = (11, 20, 130, 260)  # the sizes of the one axis that grows, in the other calls


PER_ELEMENT_HINT = ("write the loop as a plain for loop over what may be looped over, and work on "
                    "whole arrays inside it")
# what to write instead of a builtin that goes through an array's rows (worker.count_consumers)
CONSUMER_ADVICE = {
    "sum": "X.sum(axis=0) / np.sum(..., axis=0)",
    "math.fsum": "X.sum(axis=0) / np.sum(..., axis=0)",
    "math.prod": "X.prod(axis=0) / np.prod(..., axis=0)",
    "min": "X.min(axis=0) / np.min(..., axis=0)",
    "max": "X.max(axis=0) / np.max(..., axis=0)",
    "sorted": "np.sort(X, axis=0)",
}
CONSUMER_HINT = ("reduce over the whole array with NumPy, along the axis (X.sum(axis=0), "
                 "np.max(..., axis=0)); the builtins sum, min, max, sorted and math.prod are "
                 "for a few numbers (sum(x.shape), max(h, w)) or a short list of arrays")
OBJECT_WORDS = ("every operation on an array of Python objects calls NumPy once per element, a "
                "Python loop in disguise that the grader cannot see; fast functions keep numbers "
                "in numeric arrays (a new axis, X[:, :, None], and broadcasting instead of an "
                "array of arrays)")
OBJECT_HINT = ("keep the data in one numeric array and work on it whole: broadcasting, np.stack, "
               "X.sum(axis=0)")
LIBRARY_HINT = ("work on whole arrays with NumPy's array operations (X.mean(axis=0), np.sort(X, "
                "axis=0), broadcasting): statistics, heapq, np.apply_along_axis and the like go "
                "through the data one item at a time")


def no_hidden_code(t, target):
    """Fail when the package hides which code runs (exec, eval, globals()...: ``rules``): lines
    compiled from a string are not counted, so ``no_loop_over`` could not see them."""
    t.no_case()  # a rule on the code: no case of the test before it is concerned
    finding = t.loops(target)
    if finding.dynamic:
        raise Failed(f"{_name(target)}: the grader cannot see which code runs: the package uses "
                     f"{finding.dynamic}; write the function as plain code",
                     hint=BLIND_HINT)
    no_per_element_calls(target, finding)


def no_per_element_calls(target, finding):
    """Fail on map, filter, functools.reduce, np.vectorize, np.frompyfunc, np.apply_along_axis
    and the like in the code that runs: each calls a function once per element, a loop that the
    line counts cannot see when the function is NumPy's or a builtin. (Over a list or tuple
    written out in the call, map and the like make a fixed number of calls: no loop,
    ``rules.BOUNDED_BY_DISPLAY``; over a comprehension, one call per item it makes, and the
    comprehension is counted; unpacked into names, one call per name. A key= that is a lambda
    or a def of the package runs student lines, which the line counts see.)"""
    if finding.loop_call.startswith(OBJECT_ARRAY):
        raise Failed(f"{_name(target)}: makes {finding.loop_call}: {OBJECT_WORDS}",
                     hint=OBJECT_HINT)
    if finding.loop_call:
        raise Failed(f"{_name(target)}: calls a function once per element ({finding.loop_call}):"
                     " a Python loop in disguise, and the grader cannot see over what it runs; "
                     "fast functions may not use map, filter, functools.reduce, np.vectorize, "
                     "np.frompyfunc, np.apply_along_axis, threads, or sorted, min and max "
                     "with a NumPy or builtin key (map and the like over a list or tuple "
                     "written out in the call, such as map(np.ravel, (pred, target)), or over "
                     "a comprehension, or unpacked into names, such as H, W = map(int, "
                     "x.shape[2:]), are fine, and so is a key that is a lambda)",
                     hint=PER_ELEMENT_HINT)


def _name(target):
    return target.split(".", 1)[1]


def _lines(t, target, args, kwargs, label):
    """(value, lines, consumed, library, objects): the value ``target(*args, **kwargs)``
    returned, the lines of student code it ran, the items the builtins that go through an
    iterable in C took ({"sum": 260}), the lines of library Python code it ran (None where the
    worker did not count them) and where it first held an array of Python objects (or None)."""
    t._label(label)  # an error raised by the call names this case
    value, lines, consumed, changes = t.student.call_counting(target, *args, **kwargs)
    if lines == -1:
        raise Failed(f"{_name(target)}({label}): the code turned off the grader's line counting "
                     "(sys.settrace): the grader cannot see whether it loops over the data",
                     hint="do not call sys.settrace or sys.setprofile in coursework")
    if changes.objects:
        raise Failed(f"{_name(target)}({label}): holds an array of Python objects (dtype "
                     f"object, in {changes.objects}): {OBJECT_WORDS}", hint=OBJECT_HINT)
    return value, lines, consumed, changes.library_lines


def _backward_lines(t, forward, backward, args, kwargs, label, rng):
    """(lines, consumed, library) of ``backward`` on the cache of the student's own ``forward``."""
    t._label(label)
    got = t.student.call(forward, *args, opaque=[1], **kwargs)
    if not isinstance(got, (tuple, list)) or len(got) < 2:
        raise Failed(f"{_name(forward)}({label}): should return the pair (out, cache)")
    dout = rng.standard_normal(np.shape(got[0]))
    return _lines(t, backward, [dout, got[1]], {}, label)[1:]


def no_loop_over(t, target, build, axes, *, forward=None, allowed="the kernel offsets (k, l)",
                 hint=None):
    """Fail when the lines of student code that ``target`` runs grow with one of ``axes``, or
    the lines of library Python code it runs, or the items that the builtins which go through
    an iterable in C take (``sum(X)``: X's rows); or when it holds an array of Python objects.

    ``build(sizes, rng)`` returns the (args, kwargs) of a call for ``sizes``, a dict of the
    axis names in ``axes`` (each SMALL, or LARGE for the one that grows); ``axes`` maps those
    names to words ("examples"). With ``forward``, ``target`` is a backward: it is called on
    the cache of the student's ``forward`` of those inputs with a random upstream gradient.
    ``hint`` replaces the hint built from ``allowed`` (for functions that may loop over nothing
    that grows with the data).
    """
    t.no_case()
    base = dict.fromkeys(axes, SMALL)

    def count(sizes):
        """(lines, consumed, library) of the second of two calls on these sizes: a first call
        may run code once only (an import, a cache filled for this shape: functools.lru_cache)."""
        label = ", ".join(f"{k}={v}" for k, v in sizes.items())
        counted = (None, {}, None)
        for _ in range(2):
            rng = np.random.default_rng(7)
            args, kwargs = build(sizes, rng)
            if forward is None:
                counted = _lines(t, target, args, kwargs, label)[1:]
            else:
                counted = _backward_lines(t, forward, target, args, kwargs, label, rng)
        return counted

    first = count(base)
    if first[0] is None:  # a worker that does not count (never the grader's own)
        return
    sizes = ", ".join(str(n) for n in (SMALL,) + LARGER)
    for axis, words in axes.items():
        counted = [first] + [count(dict(base, **{axis: n})) for n in LARGER]
        counts = [lines for lines, _, _ in counted]
        if None in counts:
            continue
        if _grows(counts):
            raise Failed(
                f"{_name(target)}: loops over {words}: with {axis} = {sizes} (all else the same) "
                f"it runs {', '.join(str(c) for c in counts)} lines of your code, more as "
                f"the size grows; a fast version must not loop over {words}, not even in "
                "blocks",
                hint=hint or f"loop over {allowed} at most, each step working on all the "
                             f"{words} at once (slices and broadcasting over the whole array)")
        library = [lines for _, _, lines in counted]
        if None not in library and _grows(library):
            raise Failed(
                f"{_name(target)}: hands a loop over {words} to library code: with {axis} = "
                f"{sizes} (all else the same) the Python code of the standard library and NumPy "
                f"that it calls runs {', '.join(str(n) for n in library)} lines, more as the "
                f"size grows (statistics.mean, heapq, np.apply_along_axis, np.vectorize... go "
                f"through the {words} one at a time); vectorized NumPy code runs as many lines "
                "for every size",
                hint=LIBRARY_HINT)
        taken = [sum(consumed.values()) for _, consumed, _ in counted]
        if _grows(taken):
            largest = counted[-1][1]
            name = max(sorted(largest), key=largest.get)
            raise Failed(
                f"{_name(target)}: the builtin {name} goes over the array's {axis} rows "
                f"({words}) one at a time, each a NumPy operation of its own (a loop in C): "
                f"with {axis} = {sizes} (all else the same) the builtins sum, min, max, "
                f"sorted, math.prod take {', '.join(str(n) for n in taken)} items, more as "
                f"the size grows; use {CONSUMER_ADVICE.get(name, 'the array methods')} over the "
                f"whole array instead",
                hint=CONSUMER_HINT)


def _grows(counts):
    """Whether line counts (one per size, smallest first) grow with the size: they never fall
    and rise at least twice. A branch on the size changes the count once; a loop over the size
    raises it at every step, and a loop over blocks of the size (64 at a time) at least from 130
    to 260."""
    steps = [b - a for a, b in zip(counts, counts[1:])]
    return all(step >= 0 for step in steps) and sum(step > 0 for step in steps) >= 2
