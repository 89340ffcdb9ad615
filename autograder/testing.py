"""Helpers for the grader's own tests: run a spec against trusted code in this process.

``FakeStudent`` answers like a worker (same methods as ``runner.Student``) but calls the reference
package directly, optionally with one function replaced by a known mistake. It makes the tests of
specs and hints fast and free of subprocesses; the real worker is tested separately.
"""

import numpy as np

from . import wire
from .compare import Failed
from .oracle import Oracle, Patched, load_reference
from .runner import NotImplementedByStudent, StudentError
from .spec import Trial
from .units import specs_of


class FakeStudent:
    """A stand-in for ``runner.Student`` that runs trusted code in-process."""

    def __init__(self, cw=None, submission=None):
        self.cw = cw or load_reference()
        self.objects = {}
        self.worker = type("W", (), {"submission": submission})()

    def _target(self, target):
        module, _, attr = target.partition(".")
        obj = getattr(self.cw, module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def _keep(self, obj):
        ident = len(self.objects) + 1
        self.objects[ident] = obj
        return wire.Handle(ident, type(obj).__name__)

    def _resolve(self, value):
        # Round-trip through the wire, as a worker would see the values.
        def resolve(tag, item):
            if tag == "ref":
                return self.objects[item.id]
            if tag == "rng":
                return np.random.default_rng(item.n)
            from . import worker_fns
            return worker_fns.make(item.name, item.params)
        return wire.decode(wire.encode(value), resolve)

    def _invoke(self, func, args, kwargs, opaque):
        from .runner import Changes
        from .worker import as_parts, drawn, generator_states

        args, kwargs = self._resolve(list(args)), self._resolve(dict(kwargs))
        before = _snapshot(args)
        generators = generator_states(args, kwargs)
        try:
            with np.errstate(all="ignore"):
                value = func(*args, **kwargs)
        except NotImplementedError as exc:
            raise NotImplementedByStudent(str(exc)) from None
        except Exception as exc:
            raise StudentError(f"{type(exc).__name__}: {exc}") from None
        modified = Changes(_modified(before), drawn=drawn(generators))
        value = as_parts(value, opaque)
        if isinstance(value, tuple) and opaque:
            value = tuple(self._keep(v) if i in opaque else v for i, v in enumerate(value))
        elif opaque == [0] or opaque == (0,):
            value = self._keep(value)
        try:
            return wire.decode(wire.encode(value)), modified
        except wire.Unencodable:
            return self._keep(value), modified

    def call_full(self, target, *args, opaque=(), **kwargs):
        return self._invoke(self._target(target), args, kwargs, list(opaque))

    def call(self, target, *args, opaque=(), **kwargs):
        return self.call_full(target, *args, opaque=opaque, **kwargs)[0]

    def call_watching_overflow(self, target, *args, opaque=(), **kwargs):
        """As the worker's: the value and whether a NumPy operation overflowed in the call."""
        from .worker import watching_overflow

        overflows = []
        func = self._target(target)

        def watched(*a, **k):
            with watching_overflow(overflows):
                return func(*a, **k)

        value = self._invoke(watched, args, kwargs, list(opaque))[0]
        return value, bool(overflows)

    def call_counting(self, target, *args, opaque=(), **kwargs):
        """As the worker's: the value and the lines of the reference's and the known mistakes'
        files that the call ran (no consumer's items, no library lines, no object arrays: the
        worker alone counts them)."""
        from .paths import MISTAKES_DIR, REFERENCE_PACKAGE
        from .runner import Changes
        from .worker import LineCounter

        counter = LineCounter(str(REFERENCE_PACKAGE), str(MISTAKES_DIR))
        counter.start()
        try:
            value = self.call(target, *args, opaque=opaque, **kwargs)
        finally:
            lines = counter.stop()
        return value, lines, {}, Changes([])

    def new(self, target, *args, **kwargs):
        return self.call_full(target, *args, opaque=[0], **kwargs)[0]

    def method_full(self, handle, name, *args, opaque=(), **kwargs):
        return self._invoke(getattr(self.objects[handle.id], name), args, kwargs, list(opaque))

    def method(self, handle, name, *args, opaque=(), **kwargs):
        return self.method_full(handle, name, *args, opaque=opaque, **kwargs)[0]

    def getattr(self, handle, name):
        value = getattr(self.objects[handle.id], name)
        return wire.decode(wire.encode(dict(value) if isinstance(value, dict) else value))

    def getitem(self, handle, key):
        return wire.decode(wire.encode(self.objects[handle.id][key]))

    def setattr(self, handle, name, value):
        from .worker import owned

        subject = self.objects[handle.id]
        setattr(subject, name, owned(self._resolve(value), subject))

    def torch(self, name, *args, opaque=()):
        """A ``torch_ops`` request, with coursework names resolved in this package."""
        from . import torch_ops

        func = torch_ops.OPS[name]
        if name in ("build", "freeze", "tensor_call", "gan_step", "repeated_call"):
            def func(*a, _op=func):
                return _op(*a, lookup=self._target)
        return self._invoke(func, args, {}, list(opaque))[0]

    def import_module(self, module):
        getattr(self.cw, module)

    def output(self):
        return ""


def _snapshot(args):
    """As the worker's: every array argument, and every dict argument with each of its arrays."""
    snapshot = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            snapshot.append((str(i), a, a.copy()))
        elif type(a) is dict:
            snapshot.append((str(i), a, dict(a)))
            snapshot += [(f"{i}[{k!r}]", v, v.copy()) for k, v in a.items()
                         if isinstance(v, np.ndarray)]
    return snapshot


def _modified(before):
    """As the worker's ``_modified``: a dict is named by the entries assigned or removed."""
    from .worker import dict_entries_changed

    modified = []
    for name, a, saved in before:
        if not _changed(a, saved):
            continue
        if isinstance(saved, dict) and type(a) is dict:
            modified += dict_entries_changed(name, a, saved) or [name]
        else:
            modified.append(name)
    return modified


def _changed(a, before):
    if isinstance(before, dict):
        return a.keys() != before.keys() or any(a[k] is not v for k, v in before.items())
    return a.shape != before.shape or not np.array_equal(a, before, equal_nan=True)


def run_spec_test(key, student, *, public_only=False):
    """Run the test of ``key`` against ``student``; return None if it passed, else the Failed
    (or the StudentError its code raised: ``message`` and ``hint`` as a Failed's)."""
    module = key.split(".", 1)[0]
    from .units import unit_of_key

    for spec in specs_of(unit_of_key(key)):
        if spec.module == module:
            test = spec.tests[key]
            break
    else:
        raise KeyError(key)
    trial = Trial(student, Oracle(), public_only=public_only)
    try:
        test.func(trial)
    except Failed as failure:
        return failure
    except StudentError as fault:  # the code raised: the fault, with the hint a mistake gives
        return fault
    return None


def mistaken_student(key, func):
    """A FakeStudent whose ``key`` ('module.function') is replaced by ``func``."""
    return FakeStudent(Patched(load_reference(), key, func))
