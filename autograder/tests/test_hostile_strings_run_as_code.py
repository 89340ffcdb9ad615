"""A "vectorized" function whose per-element loop (``map(np.dot, X, ...)``:
one line, whatever N, so the line counts cannot see it) is hidden from the static rule.

Before this round ``softmax_loss_vectorized`` kept full marks when that ``map`` was written in a
string run by a module the rule did not name (``cProfile.runctx``, ``profile``, ``doctest``, a
string annotation evaluated by ``typing.get_type_hints``, ``typing.ForwardRef`` or
``inspect.signature(eval_str=True)``, ``PyRun_SimpleString`` through ``ctypes.pythonapi`` or
``ctypes.PyDLL(None)["PyRun_SimpleString"]``), or when the builtin ``map`` was reached without
its name (``len.__self__.map``, ``operator.attrgetter("__self__.map")``,
``pkgutil.resolve_name("builtins:map")``, ``pydoc.locate``, logging.config's ``ext://``). Each is
now refused with "the grader cannot see which code runs"; honest code that merely shares a name
(``np.trace``, ``from numpy import trace``, ``import typing as t``, ``getattr(x, "shape")``)
is not.

Attacks that the grader already withstood (listed in the round's report): objects equal to
anything, ``__array__`` lies, NaN answers, scanning ``gc``/frames/fds/environment of the worker
for the reference, frames forged on every fd, closing every fd, ``atexit`` plus a thread left
running, raising rlimits, patching NumPy's comparison functions, signalling the parent."""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import SOFTMAX_AROUND_SCORES as VECTORIZED
from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
# a per-example loop of C calls: one line of code however many examples
PER_ELEMENT = "np.array(list(map(np.dot, X, [W] * len(X))))"
LAMBDA = f"lambda W, X: {PER_ELEMENT}"
ATTACKS = {
    "cprofile": f'''
import cProfile as _cp
_NS = {{"np": np}}
_cp.runctx("f = {LAMBDA}", _NS, _NS)
_scores = _NS["f"]
''',
    "doctest": f'''
import doctest as _dt
def _holder():
    """
    >>> _OUT.append((lambda np: {LAMBDA})(np))
    """
_OUT = []
_dt.run_docstring_examples(_holder, {{"np": np, "_OUT": _OUT}})
_scores = _OUT[0]
''',
    "typing_hints": f'''
import typing as _ty
def _h(a: "{LAMBDA}"): pass
_scores = _ty.get_type_hints(_h, {{"np": np}})["a"]
''',
    "inspect_eval_str": f'''
import inspect as _ins
def _h(a: "{LAMBDA}"): pass
_scores = _ins.signature(_h, eval_str=True, globals={{"np": np}}).parameters["a"].annotation
''',
    "pydll_item": f'''
import ctypes as _c
_c.PyDLL(None)["PyRun_SimpleString"](b"import numpy as np\\nnp._r26 = {LAMBDA}")
_scores = np._r26
''',
    "builtins_through_self": f'''
def _scores(W, X, _m=len.__self__.map):
    return {PER_ELEMENT.replace("map(", "_m(")}
''',
    "attrgetter": f'''
import operator as _op
_m = _op.attrgetter("__self__.map")(len)
def _scores(W, X):
    return {PER_ELEMENT.replace("map(", "_m(")}
''',
    "resolve_name": f'''
import pkgutil as _pk
_m = _pk.resolve_name("builtins:map")
def _scores(W, X):
    return {PER_ELEMENT.replace("map(", "_m(")}
''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every attack graded once (a folder each), plus the honest reference, by the engine."""
    reports = {}
    for name, code in {**ATTACKS, "honest": ""}.items():
        root = tmp_path_factory.mktemp(name)
        sub = make_submission(root, append={"linear.py": code + VECTORIZED} if code else None)
        report = engine.grade(sub, ["01"], keys={KEY})
        reports[name] = report["units"]["01_linear"]["functions"][KEY]
    return reports


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_per_element_loop_hidden_from_the_rules_loses_the_points(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the grader cannot see which code runs" in entry["message"], entry


def test_the_honest_vectorized_loss_keeps_its_points(graded):
    """The attacks compute the right loss: only the rule takes their points."""
    assert graded["honest"]["status"] == "passed", graded["honest"]


def analyse(source, name="f"):
    return Program({"linear": textwrap.dedent(source)}, ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "import pdb\ndef f(x):\n    return pdb.runeval(x)\n",
    "from bdb import Bdb\ndef f(x):\n    return Bdb().runeval(x)\n",
    "import trace\ndef f(x):\n    return trace.Trace().runctx(x)\n",
    "import pydoc\ndef f(x):\n    return pydoc.locate(x)\n",
    "from typing import ForwardRef\ndef f(x):\n    return ForwardRef(x)\n",
    "import logging.config\ndef f(x):\n    return x\n",
    "from logging import config\ndef f(x):\n    return config.BaseConfigurator({}).convert(x)\n",
    "import ctypes\ndef f(x):\n    return ctypes.pythonapi.Py_CompileString(x, b'', 257)\n",
    "import operator\ndef f(x, name):\n    return operator.attrgetter(name)(x)\n",
    "import operator\ndef f(x):\n    return operator.methodcaller('reduce', len, x)(x)\n",
    "def f(x):\n    return getattr(x, 'frompyfunc')(len, 1, 1)(x)\n",
])
def test_more_of_the_class_is_refused(source):
    assert analyse(source).dynamic, source


@pytest.mark.parametrize("source", [
    "import numpy as np\ndef f(x):\n    return np.trace(x)\n",
    "from numpy import trace\ndef f(x):\n    return trace(x)\n",
    "def f(x):\n    trace = x.sum()\n    profile = x.mean()\n    return trace + profile\n",
    "import typing as t\ndef f(x: t.Optional[int]):\n    return x\n",
    "import operator\ndef f(x):\n    return operator.itemgetter(0, 1)(x)\n",
    "def f(x):\n    return getattr(x, 'shape', None)\n",
    "import logging\ndef f(x):\n    logging.getLogger('a').info('PyTorch_ready')\n    return x\n",
])
def test_honest_code_sharing_those_names_is_not_refused(source):
    finding = analyse(source)
    assert not finding.dynamic, (source, finding)


def test_a_doctest_run_under_the_main_guard_is_not_refused():
    """``if __name__ == "__main__": import doctest; doctest.testmod()`` never runs when the
    grader imports the module; the same lines anywhere else, or with ``__name__`` assigned by
    the module (which would make the guard run), are refused."""
    guarded = ("import numpy as np\ndef f(x):\n    return np.sum(x)\n\n\n"
               "if __name__ == '__main__':\n    import doctest\n    doctest.testmod()\n")
    assert not analyse(guarded).dynamic
    assert analyse(guarded.replace("if __name__ == '__main__'", "if True")).dynamic
    assert analyse("__name__ = '__main__'\n" + guarded).dynamic


NAIVE = "linear.softmax_loss_naive"
# attacks the grader already withstood: the function loses its points, the others keep theirs
WITHSTOOD = {
    "equal_to_anything": ('''
class _Any(float):
    def __eq__(self, other):
        return True
class _AnyArray(np.ndarray):
    __array_priority__ = 1e9
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)
def softmax_loss_naive(W, X, y, reg):
    return _Any(0.0), np.zeros_like(W).view(_AnyArray)
''', ("failed",), "loss is 0 but should be"),
    "frames_forged_on_every_fd": ('''
import os as _os
def softmax_loss_naive(W, X, y, reg):
    for fd in range(12):
        try:
            _os.write(fd, b'\\x00\\x00\\x00\\x10{"id":1,"ok":1}')
        except OSError:
            pass
    return 0.0, np.zeros_like(W)
''', ("error", "failed", "crashed"), ""),
    "request_channel_replaced": ('''
import os as _os
def softmax_loss_naive(W, X, y, reg):
    for fd in range(3, 64):
        try:
            _os.dup2(1, fd)
        except OSError:
            pass
    return 0.0, W
''', ("crashed", "error"), ""),
}


@pytest.fixture(scope="module")
def withstood(tmp_path_factory):
    reports = {}
    for name, (code, _, _) in WITHSTOOD.items():
        sub = make_submission(tmp_path_factory.mktemp(name), append={"linear.py": code})
        report = engine.grade(sub, ["01"], keys={NAIVE, "linear.svm_loss_naive"})
        reports[name] = report["units"]["01_linear"]["functions"]
    return reports


@pytest.mark.parametrize("name", sorted(WITHSTOOD))
def test_attacks_on_the_wire_and_the_comparison_score_nothing(withstood, name):
    _, statuses, words = WITHSTOOD[name]
    entry = withstood[name][NAIVE]
    assert entry["status"] in statuses and entry["score"] == 0, entry
    assert words in entry["message"], entry
    assert withstood[name]["linear.svm_loss_naive"]["status"] == "passed", withstood[name]
