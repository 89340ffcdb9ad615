"""How tests are declared: one ``Spec`` per coursework module, one test per graded function.

A test is a function of a ``Trial``; it builds inputs, asks the student's code for outputs through
``t.student`` (a worker), asks ``t.ref`` for the reference, and raises ``Failed`` at the first
wrong answer. Points sit beside the test::

    SPEC = Spec("linear")

    @SPEC.test("svm_loss_naive", points=2)
    def svm_loss_naive(t):
        for case in loss_cases(t):
            t.check("linear.svm_loss_naive", *case.args, label=case.label, names=("loss", "dW"))

Public cases live in the spec; hidden ones in ``autograder/hidden/<module>.py`` (absent from the
student release) and are reached with ``t.hidden(...)``, which marks every case it returns as
hidden. The trial tracks the case in progress (the ``Case`` whose inputs were taken last, or the
hidden tuple last unpacked, or the ``label`` given to ``check``/``compare``): an error raised by
student code is reported with that case's label, and whatever happens on a hidden case is shown
to the student as its verdict and error size only (the full text goes to the instructor).
"""

import importlib
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

from .compare import (DEFAULT_RTOL, FLOAT32_REMARK, Failed, close, close_loss, describe,
                      float32_remark, loss_right)
from .paths import HIDDEN_DIR


# The hint of a rule the analysis cannot decide (rules.Program: a construct that hides the code,
# or more code than the judge analyses).
BLIND_HINT = ("no exec, eval, globals(), setattr or sys.modules tricks in coursework, and no "
              "modules of generated code: the grader reads the code it grades")


class _CaseTracker:
    """The case in progress: its label, whether it is hidden, and the number of hidden cases
    entered so far in this test (to name them to the student without their inputs)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.label = ""
        self.auto = False  # the label names a constructor call, not a Case
        self.hidden = False
        self.hidden_seen = 0  # the number of the hidden case in progress, from 1
        self._last = None
        # Hidden cases are numbered in the order the student's code is first called on them
        # (a case built from another, or entered again on a second pass, is not a new one to
        # the student): ident -> (number, the case, kept so that its id stays its own).
        self._numbers = {}
        self._ident = self._key = None

    def enter(self, label, hidden, key=None):
        if hidden:
            self._ident = object() if key is None else (
                ("label", str(key)) if isinstance(key, str) else id(key))
            known = self._numbers.get(self._ident)
            self.hidden_seen = known[0] if known else len(self._numbers) + 1
            self._key = key
        self._last = key
        self.label = label or ""
        self.hidden = bool(hidden)
        self.auto = False

    def called(self):
        """The student's code is called now: whether on a hidden case (numbered from here on)."""
        if self.hidden and self._ident not in self._numbers:
            self._numbers[self._ident] = (len(self._numbers) + 1, self._key)
            self.hidden_seen = len(self._numbers)
        return self.hidden

    def leave(self):
        """No case in progress (a rule about the source, a speed test)."""
        self.label = ""
        self.hidden = False
        self.auto = False
        self._last = None

    def public(self, label):
        self.label = label or ""
        self.hidden = False
        self.auto = False
        self._last = None


CURRENT = _CaseTracker()


def _constructor_case(target, args, kwargs):
    """A model built outside any ``Case``: its constructor call is the case in progress, so an
    error raised by the model names the arguments it was built with."""
    if CURRENT.hidden or (CURRENT.label and not CURRENT.auto):
        return
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()
                                         if k != "rng"]
    CURRENT.public(f"{target.rpartition('.')[2]}({', '.join(parts)})")
    CURRENT.auto = True


def _short(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class HiddenLabel(str):
    """The label of a hidden case: passing it as ``label=`` marks the case hidden, and so does
    a ``Case`` made with it. A label extended with ``+`` stays hidden (a case derived from a
    hidden one, ``case.label + ", c0=None"``, is hidden too)."""

    hidden = True

    def __add__(self, other):
        return HiddenLabel(str.__add__(self, other))

    def __radd__(self, other):
        return HiddenLabel(str.__add__(other, self))


class _HiddenItem(tuple):
    """A hidden case that is a plain tuple: unpacking it enters a hidden case."""

    def __iter__(self):
        CURRENT.enter("", True, self)
        return tuple.__iter__(self)

    def __getitem__(self, index):
        CURRENT.enter("", True, self)
        return tuple.__getitem__(self, index)


@dataclass
class Case:
    """Inputs of one call, with a label that says what is special about them. Taking its
    ``args`` or ``kwargs`` makes it the case in progress."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    hidden: bool = False

    def __post_init__(self):
        # A case made from a hidden case's label is hidden (its inputs come from that case).
        if self.hidden or getattr(self.label, "hidden", False):
            self.hidden = True
            self.label = HiddenLabel(self.label)

    def __getattribute__(self, name):
        if name in ("args", "kwargs"):
            CURRENT.enter(object.__getattribute__(self, "label"),
                          object.__getattribute__(self, "hidden"), self)
        return object.__getattribute__(self, name)


def mark_hidden(item):
    """A hidden case, marked so wherever it is used."""
    if isinstance(item, Case):
        item.hidden = True
        item.label = HiddenLabel(item.label)
        return item
    if isinstance(item, tuple):
        return _HiddenItem(item)
    return item


@dataclass
class Test:
    key: str  # "module.function" or "module.Class"
    points: float
    func: object
    doc: str = ""


class Spec:
    """The tests of one coursework module."""

    def __init__(self, module):
        self.module = module
        self.tests = {}

    def test(self, name, *, points):
        def register(func):
            key = f"{self.module}.{name}"
            if key in self.tests:
                raise ValueError(f"{key} is declared twice")
            self.tests[key] = Test(key, float(points), func, (func.__doc__ or "").strip())
            return func
        return register


class Trial:
    """What a test works with: the student's code, the reference, and the check helpers."""

    def __init__(self, student, ref, *, public_only=False):
        self.student = student
        self.ref = ref
        self.public_only = public_only
        # (target, recipe) -> the student's calls that returned, and those it got right
        # (``explaining_errors`` rules out the known mistakes they contradict)
        self._returned, self._passed = {}, {}
        if hasattr(student, "hidden_case"):
            student.hidden_case = CURRENT.called
        if hasattr(student, "on_new"):
            student.on_new = _constructor_case

    def source(self, module):
        """The text of the submission's ``coursework/<module>.py`` (read, never executed)."""
        submission = getattr(self.student.worker, "submission", None)
        if submission is None:
            return ""
        path = submission / "coursework" / f"{module}.py"
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read(2_000_000)
        except OSError:
            return ""

    def package_sources(self, limit=200):
        """{module: text} of every module file of the submission's package (read, never run)."""
        submission = getattr(self.student.worker, "submission", None)
        if submission is None:
            return {}
        folder = submission / "coursework"
        try:
            names = sorted(p.name for p in folder.iterdir()
                           if p.name.endswith(".py") and p.is_file() and not p.is_symlink())
        except OSError:
            return {}
        return {name[:-3]: self.source(name[:-3]) for name in names[:limit]}

    def loops(self, target):
        """How deep the loops of the code that runs for ``module.name`` nest (``rules``)."""
        from .rules import Program

        if getattr(self, "_program", None) is None:
            self._program = Program(self.package_sources(), getattr(self.ref, "provided", ()))
        module, _, name = target.partition(".")
        # The analysis walks the syntax tree recursively: an expression of a thousand terms,
        # which CPython compiles (up to about 3000), is deeper than the default limit.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20000))
        try:
            return self._program.analyse(module, name)
        except RecursionError:
            raise Failed(f"{name}: coursework/{module}.py is nested too deeply for the grader "
                         "to read (an expression of thousands of terms?)",
                         hint="write long sums as a loop or with NumPy (np.sum) rather than "
                              "as one expression") from None
        finally:
            sys.setrecursionlimit(limit)

    def hidden(self, module, name, *args, **kwargs):
        """Hidden cases: ``name(*args, **kwargs)`` of ``autograder/hidden/<module>.py``, a list
        of ``Case``, each marked hidden. None in public-only runs, nor in the student release
        (which has no ``hidden/`` folder); in the instructor's checkout a missing file is an
        error naming it, never zero hidden cases."""
        if self.public_only or not HIDDEN_DIR.is_dir():
            return []
        if not (HIDDEN_DIR / f"{module}.py").exists():
            raise FileNotFoundError(
                f"t.hidden({module!r}, {name!r}): no autograder/hidden/{module}.py (write it "
                f"with a function {name}(...) returning a list of Case)")
        mod = importlib.import_module(f"autograder.hidden.{module}")
        return [mark_hidden(item) for item in getattr(mod, name)(*args, **kwargs)]

    # -- the case in progress -----------------------------------------------------------------
    @staticmethod
    def case(label):
        """Declare the public case in progress (for tests that build inputs without ``Case``)."""
        CURRENT.public(label)

    @staticmethod
    def no_case():
        """No case in progress: what follows (a rule, a speed test) concerns no hidden input."""
        CURRENT.leave()

    @staticmethod
    def _label(label):
        """Make ``label`` the case in progress when given; a HiddenLabel marks it hidden."""
        if label:
            if getattr(label, "hidden", False):
                CURRENT.enter(label, True, label if CURRENT.label != label else CURRENT._last)
            elif not CURRENT.hidden:
                CURRENT.label = label

    def check(self, target, *args, label="", names=None, argnames=None, rtol=DEFAULT_RTOL,
              recipe=None, opaque=(), float64_loss=False, **kwargs):
        """Call the student's ``target`` and compare with the reference (``recipe`` or target).

        ``names`` names the outputs when the function returns several ("loss", "dW"). Known
        mistakes of ``target`` are compared too, to turn a failure into a hint.
        ``float64_loss``: see ``compare``.
        """
        self._label(label)
        with self.explaining_errors(target, recipe or target, *args, **kwargs):
            got, modified = self.student.call_full(target, *args, opaque=opaque, **kwargs)
        self.no_input_modified(target, modified, argnames, label)
        expected = self.ref.run(recipe or target, *args, **kwargs)
        self.compare(target, got, expected, names=names, label=label, rtol=rtol,
                     mistakes=lambda: self.ref.mistakes(target, recipe or target, *args, **kwargs),
                     float64_loss=float64_loss)
        self.passed_call(target, recipe or target, args, kwargs, expected, rtol)
        return got

    def passed_call(self, target, recipe, args, kwargs, expected, rtol=DEFAULT_RTOL):
        """Note a call of ``target`` the student got right (``recipe`` on these inputs gave
        ``expected``): a known mistake answering it otherwise cannot explain a later error
        (``explaining_errors``)."""
        self._passed.setdefault((target, recipe), []).append(
            (args, dict(kwargs), expected, rtol))

    @contextmanager
    def explaining_errors(self, target, recipe, *args, **kwargs):
        """Around a call of the student's ``target`` on these inputs: when it raises (a
        ``StudentError``), the known mistake of ``target`` that raises the same error on the
        same inputs, run through ``recipe`` as ``compare``'s mistakes are, gives its hint
        (``raised_hint``). The error itself propagates unchanged: the verdict still names the
        call and the error, with the hint below."""
        try:
            yield
        except Exception as fault:
            if getattr(fault, "status", None) == "error" and not getattr(fault, "hint", None):
                raised = self.ref.raised(target, recipe, *args, **kwargs)
                if raised:
                    excluded = self._ruled_out_raising(target, recipe)
                    raised = [(d, e) for d, e in raised if d not in excluded]
                fault.hint = raised_hint(getattr(fault, "message", ""), raised) or \
                    raised_elsewhere_hint(target, getattr(fault, "detail", ""))
            raise
        self._returned.setdefault((target, recipe), []).append(
            (args, dict(kwargs)))

    def _ruled_out_raising(self, target, recipe):
        """The known mistakes of ``target`` that the student's earlier calls rule out: one that
        raises where the student's call returned, or answers otherwise a call the student got
        right (as ``Oracle.ruled_out`` does for wrong answers)."""
        out = set()
        for args, kwargs in self._returned.get((target, recipe), []):
            out |= {d for d, _ in self.ref.raised(target, recipe, *args, **kwargs)}
        for args, kwargs, expected, rtol in self._passed.get((target, recipe), []):
            out |= self.ref.ruled_out(target, recipe, [(args, kwargs, expected)],
                                      lambda v, e, rtol=rtol: _agrees(v, e, rtol))
        return out

    def no_input_modified(self, target, modified, argnames=None, label=""):
        if not modified:
            return
        shown, assigned, removed = [], [], []
        for m in modified:
            # '2', "2['running_mean']", '0[3][1]': a positional argument (or a keyword
            # argument, or one a spec named already) and where inside it; "2['running_mean']
            # (assigned)": an entry of a dict argument assigned or removed
            match = re.fullmatch(r"(\w+)(\[.*?\])?( \((assigned|removed)\))?", m)
            if match is None:
                shown.append(m)
                continue
            first, inside = match.group(1), match.group(2) or ""
            if not first.isdigit():
                name = first
            elif argnames and int(first) < len(argnames):
                name = argnames[int(first)]
            else:
                name = f"argument {int(first) + 1}"
            {None: shown, "assigned": assigned, "removed": removed}[match.group(4)].append(
                name + inside)
        if assigned or removed:
            done = "; ".join(f"{what} {', '.join(entries)}" for what, entries in
                             (("assigned", assigned), ("removed", removed)) if entries)
            raise Failed(f"{_where(target, label)}changed a dict it was given ({done}); build "
                         "a new dict and return it (new_state = {...}), even when the arrays "
                         "in it are new",
                         hint="never change the arrays or dicts you are given: the caller "
                              "still needs them")
        first = shown[0]
        copy = (f"{first} = {first}.copy()" if re.fullmatch(r"[A-Za-z_]\w*", first)
                else f"copy {first} first with .copy()")
        if len(shown) > 4:
            shown = shown[:3] + [f"{len(shown) - 3} more"]
        raise Failed(f"{_where(target, label)}modified its input {', '.join(shown)} in place; "
                     f"work on a copy ({copy}) or build new arrays",
                     hint="never change the arrays you are given: the caller still needs them")

    def returns_new(self, target, changes, argnames=None, label=""):
        """Fail when the result of the call that reported ``changes`` (``call_full``'s second
        value) is one of its inputs, or a view of one, where the docstring promises a new array
        (or dict): the caller's input would change whenever the result is changed."""
        aliases = getattr(changes, "aliases", ())
        if not aliases:
            return
        out, source = aliases[0]
        match = re.fullmatch(r"(\d+)(\[.*\])?", source)
        if match:
            index, inside = int(match.group(1)), match.group(2) or ""
            source = (argnames[index] if argnames and index < len(argnames)
                      else f"argument {index + 1}") + inside
        what = "its result" if out == "result" else out
        self._label(label)
        raise Failed(f"{_where(target, label)}{what} is its input {source} itself (or a view of "
                     "it), not a new object as the docstring asks: changing the result would "
                     "change the caller's input",
                     hint="return a new array or dict even when nothing needs to change "
                          "(x.copy(), dict(state)), never the argument itself")

    def compare(self, target, got, expected, *, names=None, label="", rtol=DEFAULT_RTOL,
                mistakes=None, float64_loss=False, small_error_remark=None):
        """Compare outputs; on failure look for a known mistake that explains them.

        ``float64_loss``: the first output, named "loss", is a number computed from float64
        inputs, compared within ``compare.LOSS_RTOL`` too (``close_loss``): float32 arithmetic
        in it passes ``rtol`` and breaks the numerical gradient of the student's loss.
        ``small_error_remark``: what an error just above ``rtol`` means in this test, said
        instead of ``compare.FLOAT32_REMARK`` (``compare.NUMERICAL_GRADIENT_REMARK``). A known
        mistake that explains the answer drops that remark: its hint is the diagnosis.
        """
        self._label(label)
        where = _where(target, label)
        quantity = None
        try:
            if names and len(names) > 1:
                if not isinstance(got, (tuple, list)) or len(got) != len(names):
                    raise Failed(f"should return {len(names)} values ({', '.join(names)}), "
                                 f"got {describe(got)}")
                _check_order(got, expected, names)
                for index, (name, g, e) in enumerate(zip(names, got, expected)):
                    try:
                        if index == 0 and float64_loss and name == "loss" and \
                                isinstance(e, float):  # np.float64 too, not float32
                            close_loss(name, g, float(e), rtol=rtol)
                        else:
                            close(name, g, e, rtol=rtol)
                    except Failed as failure:
                        quantity = name
                        if index > 0 and names[0] == "loss" and is_gradient(name) and \
                                failure.kind in ("values", "nonfinite") and \
                                not float32_remark(failure.error or 0.0) and \
                                _loss_right(got[0], expected[0]):
                            # The loss was right, so the numerical gradient of the student's own
                            # loss is the expected gradient: say so, it locates the bug. Not
                            # when the loss is right only within float32's precision (its
                            # numerical gradient is then noise) or the gradient's error is of
                            # float32's size (the verdict already says where that comes from).
                            failure.message += ("; the loss is right, so this gradient disagrees "
                                                "with the numerical gradient of your own loss")
                        raise
            else:
                quantity = names[0] if names else None
                close(names[0] if names else "the result", got, expected, rtol=rtol)
        except Failed as failure:
            mistake = None if failure.hint else self._hint(got, expected, names, rtol, mistakes)
            message = failure.message
            if mistake is not None:  # the hint names the cause: no guess about float32 or eps
                message = message.replace(FLOAT32_REMARK, "")
            elif small_error_remark is not None:
                message = message.replace(FLOAT32_REMARK, small_error_remark)
            raise Failed(where + message, failure.hint or mistake, kind=failure.kind,
                         error=failure.error, quantity=quantity) from None

    @staticmethod
    def _hint(got, expected, names, rtol, mistakes):
        """The description of the known mistake that explains the most of what is wrong."""
        if mistakes is None:
            return None
        best, best_rank = None, None
        for description, wrong in mistakes():
            explained, unexplained = _explained_parts(got, wrong, expected, names, rtol)
            rank = (explained, -unexplained)
            if explained and (best_rank is None or rank > best_rank):
                best, best_rank = description, rank
        return best


# A TypeError raised by calling a function with arguments its def line does not take: said of a
# mistake's own lambda, it tells nothing about a student's code.
_CALL_MISFIT = re.compile(r"TypeError: \S+\(\) (takes |missing \d+ required |got an unexpected "
                          r"keyword|got multiple values)")
_SHAPE = re.compile(r"\([\d, ]*\)|\[[\d, ]*\]")
_NUMBER = re.compile(r"-?\d+")


def _error_signature(error):
    """What two errors must share to be the same mistake: the exception's name and words, the
    shapes it names and the other numbers in it, each as a multiset (``a + b`` and ``b + a``
    name the same two shapes in another order). Spacing inside a shape is ignored."""
    shapes = sorted(re.sub(r"\s", "", m) for m in _SHAPE.findall(error))
    rest = _SHAPE.sub("()", error)
    numbers = sorted(int(n) for n in _NUMBER.findall(rest))
    return _NUMBER.sub("#", " ".join(rest.split())), tuple(shapes), tuple(numbers)


def raised_hint(error, raised):
    """The hint for a student's call that raised ``error`` ("ValueError: ..."), given
    ``raised``, [(description, error)] of the known mistakes that raise on the same inputs: the
    description of the one mistake that raises the same error (``_error_signature``), or of
    several that do when their descriptions agree; else None (a hint that may not fit is never
    given)."""
    if not error or not raised:
        return None
    signature = _error_signature(" ".join(str(error).split()))
    matching = {description for description, theirs in raised
                if not _CALL_MISFIT.match(theirs)
                and _error_signature(" ".join(str(theirs).split())) == signature}
    return matching.pop() if len(matching) == 1 else None


def _agrees(value, expected, rtol):
    """Whether ``value`` passes the comparison with ``expected`` (``close``)."""
    try:
        close("value", value, expected, rtol=rtol)
    except Failed:
        return False
    except Exception:  # noqa: BLE001 - an answer of another form
        return False
    return True


# The last frame of the student's files in a traceback: File "coursework/layers.py", line 9, in f
_FRAME = re.compile(r'File "coursework/(\w+)\.py", line \d+, in (\w+)')


def raised_elsewhere_hint(target, detail):
    """For an error of ``target`` (a model's loss, a module) that the traceback shows raised in
    another graded function of the student's (affine_forward in coursework/layers.py under
    TwoLayerNet.loss): a hint naming that function, whose own known mistakes cannot be run on
    inputs only the student's code built; else None."""
    frames = _FRAME.findall(str(detail or ""))
    if not frames:
        return None
    module, function = frames[-1]
    if module == target.split(".", 1)[0]:
        return None
    key = f"{module}.{function}"
    try:
        from .units import unit_of_key
        unit_of_key(key)
        graded = key in importlib.import_module(f"autograder.specs.{module}").SPEC.tests
    except Exception:  # noqa: BLE001 - not a graded module (checks.py, backend.py)
        return None
    if not graded:
        return None
    return (f"the error was raised inside {function} (coursework/{module}.py), which "
            f"{target.split('.', 1)[1]} calls: if {function}'s own test fails, fix {function} "
            f"first; if it passes, the call gives {function} an input of the wrong shape (print "
            f"the shapes just before that call)")


def _form(value):
    """What a value is, without its numbers: a number, an array of a shape, a dict of keys..."""
    import numpy as np

    if isinstance(value, bool):
        return ("bool",)
    if isinstance(value, (int, float, np.integer, np.floating)) or (
            isinstance(value, np.ndarray) and value.ndim == 0):
        return ("number",)
    if isinstance(value, np.ndarray):
        return ("array", tuple(value.shape))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(map(str, value))))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, len(value))
    return (type(value).__name__,)


def _check_order(got, expected, names):
    """Fail when the parts of ``got`` are those of ``expected`` in another order (``return dW,
    loss``): each is then of the form (number, array shape, dict keys) of another part."""
    try:
        got_forms = [_form(g) for g in got]
        expected_forms = [_form(e) for e in expected]
        if got_forms == expected_forms or sorted(got_forms, key=repr) != sorted(
                expected_forms, key=repr):
            return
    except Exception:  # noqa: BLE001 - an odd value: the comparison says what is wrong
        return
    order = []
    for form in got_forms:
        index = next(i for i, f in enumerate(expected_forms) if f == form and i not in order)
        order.append(index)
    moved = [(names[k], names[i]) for k, i in enumerate(order) if i != k]
    if all("[" in a and "[" in b for a, b in moved):  # entries of a dict: keys mixed up
        raise Failed("values stored under each other's keys: "
                     + ", ".join(f"{a} holds what belongs in {b}" for a, b in moved),
                     hint="store each value under its own key", kind="type")
    shown = ", ".join(names[i] for i in order)
    raise Failed(f"returns its values in another order: ({shown}) where the docstring has "
                 f"({', '.join(names)})", hint=f"return ({', '.join(names)}), in this order",
                 kind="type")


def _similar(got, wrong, rtol):
    """Loose equality for recognising a mistake: NaN matches NaN, shapes must agree."""
    import numpy as np

    if isinstance(wrong, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(wrong)
                and all(_similar(g, w, rtol) for g, w in zip(got, wrong)))
    if isinstance(wrong, dict):
        return (isinstance(got, dict) and set(got) == set(wrong)
                and all(_similar(got[k], wrong[k], rtol) for k in wrong))
    try:
        if np.iscomplexobj(got) != np.iscomplexobj(wrong):  # no real mistake explains 1j
            return False
        g = np.asarray(got, dtype=np.float64)
        w = np.asarray(wrong, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # an int beyond float's range: no mistake
        return False
    if g.shape != w.shape:
        return False
    finite = w[np.isfinite(w)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    return bool(np.allclose(g, w, rtol=rtol, atol=1e-9 * max(scale, 1.0), equal_nan=True))


def _split(value, like):
    """The parts of ``value`` when it has the structure of ``like`` (a tuple, list or dict with
    the same length or keys), else None: hints are matched part by part."""
    if isinstance(like, (tuple, list)) and isinstance(value, (tuple, list)) \
            and len(value) == len(like):
        return list(value)
    if isinstance(like, dict) and isinstance(value, dict) and set(value) == set(like):
        return [value[k] for k in like]
    return None


def _explained_parts(got, wrong, expected, names, rtol):
    """(explained, unexplained): how many wrong parts of ``got`` (the loss, each gradient, each
    entry of a dict...) the mistake's output matches where the mistake itself is wrong, and how
    many wrong parts it does not match.

    Matching works on the part of the output that is wrong: a mistake that explains the loss
    gets its hint even when the student's gradient is wrong in another way too. A part that is
    right is ignored, and a mistake whose part is right cannot explain a wrong one.
    """
    from .compare import matches

    rtol = max(rtol, 1e-6)
    if names is not None and len(names) <= 1 and not isinstance(expected, (tuple, list, dict)):
        parts = None
    else:
        parts = _split(expected, expected)
    if parts is not None:
        got_parts, wrong_parts = _split(got, expected), _split(wrong, expected)
        if got_parts is None:
            return 0, 1
        if wrong_parts is None:
            return 0, sum(not matches(g, e, rtol) for g, e in zip(got_parts, parts))
        explained = unexplained = 0
        for g, w, e in zip(got_parts, wrong_parts, parts):
            more, less = _explained_parts(g, w, e, None, rtol)
            explained, unexplained = explained + more, unexplained + less
        return explained, unexplained
    if matches(got, expected, rtol):
        return 0, 0
    if not matches(wrong, expected, rtol) and _similar(got, wrong, rtol):
        return 1, 0
    return 0, 1


def _explains(got, wrong, expected, names, rtol):
    """True when the mistake's output matches ``got`` on at least one wrong part of it (where
    the mistake is wrong too; see ``_explained_parts``)."""
    explained, _ = _explained_parts(got, wrong, expected, names, rtol)
    return explained > 0


def _loss_right(got, expected):
    """Whether a loss that passed its comparison is right as a float64 loss is (not only within
    float32's precision): see ``compare.loss_right``."""
    import numpy as np

    if not all(isinstance(v, (int, float, np.integer, np.floating)) or (
            isinstance(v, np.ndarray) and v.ndim == 0) for v in (got, expected)):
        return False
    return loss_right(float(got), float(expected))


def is_gradient(name):
    """Whether an output named ``name`` is a gradient ("dW", "dscores", "grads['W']"), not a
    second value such as h_last or a KL term."""
    return name.startswith(("d", "grads[", "grad_"))


def _where(target, label):
    name = target.split(".", 1)[1] if "." in target else target
    if label.startswith(f"{name.rpartition('.')[2]}("):  # the label is the call itself
        return f"{label}: "
    return f"{name}({label}): " if label else f"{name}: "
