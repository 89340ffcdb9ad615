"""The spec toolkit: the tests of layer-like functions, for every coursework module.

A *layer* is a forward/backward pair of one module that follows the layer contract of
``docs/design.md``:

- stateless: ``name_forward(*inputs, **hyper) -> (out, cache)`` and
  ``name_backward(dout, cache) -> grads`` (one gradient per array input, in the inputs' order; a
  single array when the layer has one input);
- stateful (running statistics): ``name_forward(*inputs, state, *, train=True, **hyper) ->
  (out, cache, new_state)``, where ``state`` is a dict of arrays that the forward never modifies
  in place; the backward is still ``name_backward(dout, cache)``.

Cases are ``spec.Case`` objects: ``args`` holds the forward's positional inputs followed by
``dout`` (``(x, w, b, dout)``; for a stateful layer ``(x, gamma, beta, state, dout)``) and
``kwargs`` its keyword arguments (``{"stride": 2, "pad": 1}``, ``{"train": False}``; a random
layer gets ``{"rng": wire.Seed(n)}``, which the worker and the reference both turn into
``np.random.default_rng(n)``, afresh for every call). A case function ``cases(t)`` returns the
public cases plus ``t.hidden(module, ...)``.

The forward test calls the student's forward (the cache stays in the worker as a Handle),
checks that no input was modified in place (arrays, and the arrays of a state dict), and compares
``out`` (and ``new_state``) with the reference. The backward test calls the student's own forward
for a cache, passes it to the student's backward, and compares the gradients with the reference
forward-then-backward through the reference's own cache. A failing answer is compared with the
known mistakes of the function (``autograder/mistakes/<module>.py``), run through the same recipe
with the function replaced, for a hint.

Usage, a stateless pair (the whole test of it; registers ``affine_forward`` and
``affine_backward`` with ``SPEC``)::

    from ..spec import Case, Spec
    from .toolkit import Layer

    SPEC = Spec("layers")

    def affine_cases(t):
        return [Case("x (4, 5), w (5, 3)", affine_inputs(1, (4, 5), 3)),  # (x, w, b, dout)
                ...] + t.hidden("layers", "affine_cases", affine_inputs)

    AFFINE = Layer(SPEC, "affine", argnames=("x", "w", "b"), grads=("dx", "dw", "db"),
                   cases=affine_cases)
    affine_forward, affine_backward = AFFINE.tests(
        points=(1, 2), docs=("out = x_flat @ w + b.", "dx, dw and db of the affine layer."))

Usage, a stateful forward (batch-norm-like; ``out`` and ``new_state`` are both compared, and a
forward that changes ``state`` in place fails, naming ``state['running_mean']``)::

    def batchnorm_cases(t):
        x, gamma, beta, dout = ...
        state = {"running_mean": np.zeros(D), "running_var": np.ones(D)}
        return [Case("train, N=4, D=3", (x, gamma, beta, state, dout), {"train": True}),
                Case("eval mode", (x, gamma, beta, state, dout), {"train": False}), ...]

    BATCHNORM = Layer(SPEC, "batchnorm", argnames=("x", "gamma", "beta", "state"),
                      grads=("dx", "dgamma", "dbeta"), cases=batchnorm_cases, stateful=True)
    batchnorm_forward, batchnorm_backward = BATCHNORM.tests(points=(2, 3))

Usage, hand-written tests (other names, extra rules after the comparisons)::

    CONV = Layer(SPEC, "conv", forward="conv_forward", backward="conv_backward",
                 argnames=("x", "w", "b"), grads=("dx", "dw", "db"), cases=conv_cases)

    @SPEC.test("conv_forward", points=3)
    def conv_forward(t):
        '''Same results as the naive forward, vectorized.'''
        CONV.forward_test(t)
        at_most_two_nested_loops(t, "conv.conv_forward")

One call at a time: ``check_forward(t, target, inputs, kwargs, label, argnames, stateful=...)``
and ``check_backward(t, forward, backward, inputs, dout, kwargs, label, argnames, grads)``.

The recipes ``forward_out``, ``forward_out_state`` and ``forward_backward`` are module-level
functions: their names key the reference outputs recorded for the student release. Every
``Layer`` is also listed in ``LAYERS``, where ``tests/test_layer_gradients.py`` finds it and checks
the reference backward against a numerical gradient of the reference forward on every case, so a
new layer gets that reference test without writing one.
"""

import contextlib
import re

import numpy as np

from ..compare import DEFAULT_RTOL, Failed, close, describe
from ..runner import StudentError
from ..wire import Seed

# Every declared layer: (forward target, backward target) -> Layer.
LAYERS = {}


# ---------------------------------------------------------------------------------------------
# Recipes: reference results (module-level; their names key recorded outputs)
# ---------------------------------------------------------------------------------------------

def _function(cw, target):
    module, _, name = target.partition(".")
    return getattr(getattr(cw, module), name)


def fresh(value):
    """``value`` with every ``wire.Seed(n)`` replaced by a new ``numpy.random.default_rng(n)``,
    as the worker does for the student: a layer that draws random numbers (dropout) gets the same
    stream in both, and on every call."""
    if isinstance(value, Seed):
        return np.random.default_rng(value.n)
    if isinstance(value, (list, tuple)):
        return type(value)(fresh(v) for v in value)
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    return value


def call_forward(cw, forward, inputs, kwargs):
    """The reference ``forward`` on ``inputs`` (Seeds made into fresh generators)."""
    return _function(cw, forward)(*fresh(list(inputs)), **fresh(dict(kwargs)))


def forward_out(cw, forward, inputs, **kwargs):
    """The ``out`` of the reference ``forward`` ('module.function')."""
    return call_forward(cw, forward, inputs, kwargs)[0]


def forward_out_state(cw, forward, inputs, **kwargs):
    """``(out, new_state)`` of the reference stateful ``forward``."""
    result = call_forward(cw, forward, inputs, kwargs)
    return result[0], result[2]


def forward_backward(cw, forward, backward, inputs, dout, **kwargs):
    """The reference ``backward`` of ``dout`` through the cache of the reference ``forward``."""
    cache = call_forward(cw, forward, inputs, kwargs)[1]
    return _function(cw, backward)(dout, cache)


# ---------------------------------------------------------------------------------------------
# One call
# ---------------------------------------------------------------------------------------------

def _name(target):
    return target.split(".", 1)[1] if "." in target else target


_ENTRY = re.compile(r"^(\d+)(\[.*\])$")


def modified_names(modified, argnames):
    """The worker's names of modified inputs ('0', '3['running_mean']') in the words of the
    function's signature ('x', "state['running_mean']")."""
    out = []
    for m in modified:
        match = _ENTRY.match(m)
        if match and argnames and int(match.group(1)) < len(argnames):
            out.append(argnames[int(match.group(1))] + match.group(2))
        else:
            out.append(m)
    return out


def student_forward(t, target, inputs, kwargs, label, argnames, *, stateful=False):
    """Call the student's forward, its cache kept in the worker; return the tuple it returned
    (``(out, cache)`` or ``(out, cache, new_state)``), or raise Failed."""
    with t.explaining_errors(target, forward_out, target, list(inputs), **kwargs):
        got, modified = t.student.call_full(target, *inputs, opaque=[1], **kwargs)
    t.no_input_modified(target, modified_names(modified, argnames), argnames, label)
    size = 3 if stateful else 2
    if not isinstance(got, (tuple, list)) or len(got) != size:
        if stateful:
            raise Failed(f"{_name(target)}({label}): should return (out, cache, new_state), got "
                         f"{describe(got)}",
                         hint="a layer with running state returns its output, the cache for its "
                              "backward and the new state: `return out, cache, new_state`")
        raise Failed(f"{_name(target)}({label}): should return the pair (out, cache), got "
                     f"{describe(got)}",
                     hint="end the function with `return out, cache`: every forward returns its "
                          "output and the cache for its backward")
    return tuple(got)


def check_forward(t, target, inputs, kwargs, label, argnames, *, stateful=False,
                  rtol=DEFAULT_RTOL):
    """Compare the student's ``out`` (and ``new_state``) of one call with the reference."""
    inputs = list(inputs)
    got = student_forward(t, target, inputs, kwargs, label, argnames, stateful=stateful)
    if stateful:
        recipe, names, answer = forward_out_state, ("out", "new_state"), (got[0], got[2])
    else:
        recipe, names, answer = forward_out, ("out",), got[0]
    expected = t.ref.run(recipe, target, inputs, **kwargs)
    t.compare(target, answer, expected, names=names, label=label, rtol=rtol,
              mistakes=lambda: t.ref.mistakes(target, recipe, target, inputs, **kwargs))
    return got


def check_backward(t, forward, backward, inputs, dout, kwargs, label, argnames, grads, *,
                   stateful=False, rtol=DEFAULT_RTOL):
    """The student's backward of ``dout`` through the cache of the student's own forward,
    compared with the reference forward-then-backward."""
    inputs = list(inputs)
    cache = student_forward(t, forward, inputs, kwargs, label, argnames, stateful=stateful)[1]
    args = (forward, backward, inputs, dout)
    with t.explaining_errors(backward, forward_backward, *args, **kwargs):
        got, modified = t.student.call_full(backward, dout, cache)
    t.no_input_modified(backward, outside_cache(modified, 1), ("dout",), label)
    expected = t.ref.run(forward_backward, *args, **kwargs)
    try:
        t.compare(backward, got, expected, names=tuple(grads), label=label, rtol=rtol,
                  mistakes=lambda: t.ref.mistakes(backward, forward_backward, *args, **kwargs))
    except Failed as failure:
        changed = [m for m in modified if m == "1" or m.startswith("1[")]
        if failure.hint or not changed:
            raise
        raise Failed(failure.message, CACHE_CHANGED_HINT.format(
            changed="cache" + changed[0][1:]), kind=failure.kind, error=failure.error) from None
    check_cache_reusable(t, backward, (dout,), cache, got, grads, label)
    return got


CACHE_CHANGED_HINT = ("your backward changed {changed} in place (-=, +=, *= or an assignment "
                      "into a cached array, or into a view of it such as a window x[...]): "
                      "what it reads afterwards no longer holds the forward's values, and the "
                      "caller's x changes too if that array is x; work on copies or build new "
                      "arrays")


def outside_cache(modified, index):
    """The names of ``modified`` but the cache (argument ``index``) and what is inside it: a
    backward may do as it likes with its cache as long as a second call through it answers the
    same (``check_cache_reusable``)."""
    return [m for m in modified if m != str(index) and not m.startswith(f"{index}[")]


def check_cache_reusable(t, backward, upstream, cache, first, grads, label):
    """Call the student's backward a second time through the same cache: it must return what
    it returned the first time. A backward that changes its cache in place (``h *= ...`` on a
    cached array) or uses it up (``pop`` from a cached list) gives a different answer, or none,
    the second time: a gradient check, or a second loss through the same forward, reads the
    cache again."""
    name = _name(backward)
    try:
        again, _ = t.student.call_full(backward, *upstream, cache)
    except (Failed, StudentError) as failure:
        raise Failed(f"{name}({label}): the first call was right, but a second call through "
                     f"the same cache raised {failure.message}",
                     hint="leave the cache as the forward made it: no in-place changes to "
                          "cached arrays, no pop() from a cached list",
                     kind="other") from None
    try:
        if len(grads) > 1:
            if not isinstance(again, (tuple, list)) or len(again) != len(grads):
                raise Failed(f"it returned {describe(again)}")
            for grad, a, f in zip(grads, again, first):
                close(grad, a, f, rtol=1e-9)
        else:
            close(grads[0], again, first, rtol=1e-9)
    except Failed as failure:
        raise Failed(f"{name}({label}): the first call was right, but a second call through "
                     f"the same cache returned something else ({failure.message})",
                     hint="the backward changed its cache (an in-place operation such as "
                          "`x *= ...` or `+=` on a cached array, or pop() from a cached "
                          "list): leave the cache as the forward made it and build new arrays",
                     kind="values", error=failure.error) from None


def new_values(case, argnames):
    """``case`` with every float array among its inputs replaced by other values of the same
    shape and dtype (-0.7 v + 0.3), labelled so; None when it has none. A forward that
    remembers its results by the shapes of its inputs (or keeps ``w.reshape(F, -1)`` by ``w``'s
    shape) returns the first case's output again."""
    inputs = case.args[:len(argnames)]
    changed = [name for name, value in zip(argnames, inputs)
               if isinstance(value, np.ndarray) and value.dtype.kind == "f"]
    if not changed:
        return None
    args = [(-0.7 * value + 0.3).astype(value.dtype) if name in changed else value
            for name, value in zip(argnames, inputs)] + list(case.args[len(argnames):])
    names = (", ".join(changed[:-1]) + " and " + changed[-1]) if len(changed) > 1 else changed[0]
    return type(case)(f"{case.label}, the same shapes with new values of {names}", tuple(args),
                      dict(case.kwargs))


@contextlib.contextmanager
def remembered_hint():
    """A values verdict on the first case's shapes with new values, which has no hint of its
    own, gets one: the same shapes were right with the first values."""
    try:
        yield
    except Failed as failure:
        if failure.hint or failure.kind != "values" or failure.float32_sized():
            raise  # an error of float32's size: its verdict says so, nothing was remembered
        raise Failed(failure.message, kind=failure.kind, error=failure.error,
                     hint="right on the first case, wrong on the same shapes with other values: "
                          "something is remembered between calls (a result or a reshaped "
                          "weight kept by shape in a module-level dict or an attribute); "
                          "compute everything from this call's inputs") from None


def check_backward_after_another_forward(t, layer, case, other):
    """The student's forward on ``case``, then on ``other``, then the backward through the first
    cache: it must give ``case``'s gradients. A backward that reads what the forward left outside
    its cache (a module-level variable, an attribute of a function) gets the second forward's."""
    inputs, dout = layer.split(case)
    label = f"{case.label}, its backward called after a forward on other values"
    cache = student_forward(t, layer.forward, list(inputs), case.kwargs, label, layer.argnames,
                            stateful=layer.stateful)[1]
    student_forward(t, layer.forward, list(layer.split(other)[0]), other.kwargs, label,
                    layer.argnames, stateful=layer.stateful)
    got, _ = t.student.call_full(layer.backward, dout, cache)
    expected = t.ref.run(forward_backward, layer.forward, layer.backward, list(inputs), dout,
                         **case.kwargs)
    try:
        t.compare(layer.backward, got, expected, names=layer.grads, label=label, rtol=layer.rtol)
    except Failed as failure:
        if failure.float32_sized():
            raise  # float32 rounding, not a value read outside the cache: its verdict says so
        raise Failed(failure.message, kind=failure.kind, error=failure.error,
                     hint="right straight after its own forward, wrong after another one: the "
                          "backward reads something the forward left outside the cache (a "
                          "module-level variable, an attribute of a function); put everything "
                          "the backward needs in the cache and read it from there") from None


# ---------------------------------------------------------------------------------------------
# A layer: its cases and its two tests
# ---------------------------------------------------------------------------------------------

class Layer:
    """A forward/backward pair of ``spec``'s module and how to test it.

    ``name`` gives the default function names ``name_forward`` and ``name_backward``
    (``forward=``/``backward=`` override them); ``argnames`` names the forward's positional inputs
    (the state last for a stateful layer); ``grads`` names the backward's outputs; ``cases(t)``
    returns the cases (inputs, then dout).
    """

    def __init__(self, spec, name, *, argnames, grads, cases, forward=None, backward=None,
                 stateful=False, rtol=DEFAULT_RTOL):
        self.spec = spec
        self.name = name
        self.forward = f"{spec.module}.{forward or name + '_forward'}"
        self.backward = f"{spec.module}.{backward or name + '_backward'}"
        self.argnames = tuple(argnames)
        self.grads = tuple(grads)
        self.cases = cases
        self.stateful = stateful
        self.rtol = rtol
        LAYERS[(self.forward, self.backward)] = self

    def split(self, case):
        """(inputs, dout) of a case."""
        n = len(self.argnames)
        return case.args[:n], case.args[n]

    def public_first(self, t):
        """The cases, the public ones first: the checks that call the first case again come
        between them and the hidden ones, in the same process as the first case's calls (after
        a hidden case the code runs in a fresh process, where nothing remembered by an earlier
        call is left to find)."""
        cases = self.cases(t)
        public = [c for c in cases if not getattr(c, "hidden", False)]
        return public, [c for c in cases if getattr(c, "hidden", False)]

    def forward_test(self, t):
        """Every public case through the student's forward, then the first case again with new
        values of the same shapes (``new_values``), then the hidden cases."""
        public, hidden = self.public_first(t)
        for case in public:
            inputs, _ = self.split(case)
            check_forward(t, self.forward, inputs, case.kwargs, case.label, self.argnames,
                          stateful=self.stateful, rtol=self.rtol)
        again = new_values(public[0], self.argnames)
        if again is not None:
            t.no_case()
            inputs, _ = self.split(again)
            with remembered_hint():
                check_forward(t, self.forward, inputs, again.kwargs, again.label, self.argnames,
                              stateful=self.stateful, rtol=self.rtol)
        for case in hidden:
            inputs, _ = self.split(case)
            check_forward(t, self.forward, inputs, case.kwargs, case.label, self.argnames,
                          stateful=self.stateful, rtol=self.rtol)

    def backward_test(self, t):
        """Every public case through the student's forward, then the student's backward; then
        the first case again with new values of the same shapes, dout included (a backward that
        remembers its gradients by the shapes of its inputs returns the first case's again);
        then the first case's backward called after a forward on those new values
        (``check_backward_after_another_forward``); then the hidden cases."""
        public, hidden = self.public_first(t)
        for case in public:
            inputs, dout = self.split(case)
            check_backward(t, self.forward, self.backward, inputs, dout, case.kwargs, case.label,
                           self.argnames, self.grads, stateful=self.stateful, rtol=self.rtol)
        again = new_values(public[0], self.argnames)
        _, dout = self.split(public[0])
        if again is not None and isinstance(dout, np.ndarray) and dout.dtype.kind == "f":
            t.no_case()
            inputs, _ = self.split(again)
            with remembered_hint():
                check_backward(t, self.forward, self.backward, inputs,
                               (-0.7 * dout + 0.3).astype(dout.dtype), again.kwargs,
                               f"{again.label} and dout", self.argnames, self.grads,
                               stateful=self.stateful, rtol=self.rtol)
            check_backward_after_another_forward(t, self, public[0], again)
        for case in hidden:
            inputs, dout = self.split(case)
            check_backward(t, self.forward, self.backward, inputs, dout, case.kwargs, case.label,
                           self.argnames, self.grads, stateful=self.stateful, rtol=self.rtol)

    def tests(self, *, points, docs=(None, None), after=(None, None)):
        """Register the forward and the backward test with the spec; return both functions.

        ``points`` is (forward points, backward points); ``docs`` their one-line descriptions;
        ``after`` a check to run after each of them when its cases pass (a promise of the
        docstring that the values cannot show, such as a sigmoid's exp that never overflows).
        """
        made = []
        for target, method, score, doc, extra in zip((self.forward, self.backward),
                                                     (self.forward_test, self.backward_test),
                                                     points, docs, after):
            function = target.split(".", 1)[1]

            def test(t, method=method, extra=extra):
                method(t)
                if extra is not None:
                    extra(t)

            test.__name__ = test.__qualname__ = function
            test.__doc__ = doc or f"{function}: compared with the reference on every case."
            self.spec.test(function, points=score)(test)
            made.append(test)
        return tuple(made)
