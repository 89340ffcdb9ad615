"""Loops that grow with the data, found by counting the lines a call runs.

A "fast" layer may loop over the offsets inside its window (k, l) and over nothing else: not over
examples, channels, filters or output positions (unit 03's fast convolution and pooling, unit 07's
transposed and dilated convolutions). The static rule (``rules``: loops nested at most two deep)
lets a single loop over examples with a vectorized body through, and timing cannot tell it from
honest code on a shared machine. Counting can: the worker counts the lines of the student's own
code that a call runs (``worker.LineCounter``; one per iteration of a loop, comprehensions
included), and ``no_loop_over`` calls the function on two inputs that differ in one size only
(2 examples, then 11; the window the same). Vectorized code runs the same lines for both; code
that loops over that size runs at least one more line per added example. So the verdict depends
on no clock and no tolerance, and a loop over the kernel offsets, which does not change between
the two calls, is never counted against the student.

The check is public (its inputs are random and small; only the student's own calls are made, so
the student release needs nothing recorded for it).
"""

import numpy as np

from ..compare import Failed

SMALL = 2   # the size of every axis in the base call
LARGE = 11  # the one axis that grows, in the other calls


def no_hidden_code(t, target):
    """Fail when the package hides which code runs (exec, eval, globals()...: ``rules``): lines
    compiled from a string are not counted, so ``no_loop_over`` could not see them."""
    finding = t.loops(target)
    if finding.dynamic:
        raise Failed(f"{_name(target)}: the grader cannot see which code runs: the package uses "
                     f"{finding.dynamic}; write the function as plain code",
                     hint="no exec, eval, globals(), setattr or sys.modules tricks in coursework")


def _name(target):
    return target.split(".", 1)[1]


def _lines(t, target, args, kwargs, label):
    """Lines of student code that ``target(*args, **kwargs)`` runs; the value it returned."""
    t._label(label)  # an error raised by the call names this case
    value, lines = t.student.call_counting(target, *args, **kwargs)
    if lines == -1:
        raise Failed(f"{_name(target)}({label}): the code turned off the grader's line counting "
                     "(sys.settrace): the grader cannot see whether it loops over the data",
                     hint="do not call sys.settrace or sys.setprofile in coursework")
    return value, lines


def _backward_lines(t, forward, backward, args, kwargs, label, rng):
    """Lines that ``backward`` runs on the cache of the student's own ``forward``."""
    t._label(label)
    got = t.student.call(forward, *args, opaque=[1], **kwargs)
    if not isinstance(got, (tuple, list)) or len(got) < 2:
        raise Failed(f"{_name(forward)}({label}): should return the pair (out, cache)")
    dout = rng.standard_normal(np.shape(got[0]))
    return _lines(t, backward, [dout, got[1]], {}, label)[1]


def no_loop_over(t, target, build, axes, *, forward=None, allowed="the kernel offsets (k, l)"):
    """Fail when the lines of student code that ``target`` runs grow with one of ``axes``.

    ``build(sizes, rng)`` returns the (args, kwargs) of a call for ``sizes``, a dict of the
    axis names in ``axes`` (each SMALL, or LARGE for the one that grows); ``axes`` maps those
    names to words ("examples"). With ``forward``, ``target`` is a backward: it is called on
    the cache of the student's ``forward`` of those inputs with a random upstream gradient.
    """
    t.no_case()
    base = dict.fromkeys(axes, SMALL)

    def count(sizes):
        rng = np.random.default_rng(7)
        args, kwargs = build(sizes, rng)
        label = ", ".join(f"{k}={v}" for k, v in sizes.items())
        if forward is None:
            return _lines(t, target, args, kwargs, label)[1]
        return _backward_lines(t, forward, target, args, kwargs, label, rng)

    count(base)  # once to warm up: a first call may run code once only (a cached import)
    lines = count(base)
    if lines is None:  # a worker that does not count (never the grader's own)
        return
    for axis, words in axes.items():
        grown = count(dict(base, **{axis: LARGE}))
        if grown is not None and grown - lines >= LARGE - SMALL:
            raise Failed(
                f"{_name(target)}: loops over {words}: with {axis}={SMALL} it runs {lines} "
                f"lines of your code, with {axis}={LARGE} (all else the same) {grown}; a fast "
                f"version must not loop over {words}",
                hint=f"loop over {allowed} at most, each step working on all the {words} at "
                     "once (slices and broadcasting over the whole array)")
