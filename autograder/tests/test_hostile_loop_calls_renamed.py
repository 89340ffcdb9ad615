"""Per-element loops hidden from the static loop rule (as loosened for honest idioms).

``softmax_loss_vectorized`` must not loop over the examples; a ``map(np.dot, X, ...)`` runs one
line of student code whatever N, so the line counts cannot see it and the static rule must. Before
this round each of these kept full marks (graded by the engine below):

- a loop function reached under another name or as a value: ``_m = map``, a default argument
  ``_m=map``, ``from itertools import starmap as _sm``, ``import itertools as _it;
  _it.starmap``, ``import functools as _ft; _ft.reduce``, ``functools.partial(map, np.dot)``,
  ``_s = sorted; _s(X, key=np.sum)`` (the rule only knew calls written ``map(...)``);
- per-element calls the rule did not list: ``itertools.filterfalse`` (and ``takewhile``,
  ``dropwhile``), ``heapq.merge(..., key=...)``;
- code no import statement names: a package file run by ``imp.load_source`` or by the module's
  own loader class (``type(__loader__)(name, path).load_module()``), never read by the rule;
- the main-guard exemption: ``from __main__ import __name__`` made the guarded block run at
  import, and what it ran (``exec``) was not read.

Tried and already withstood (report): starred unpacking of a map, ``key=functools.partial``,
``key=operator.itemgetter``, a staticmethod key of a class, a map over a generator bound to a
name or a key lambda over the examples (the line counts grow), ``a, b = map(...)`` over the
rows (only N == 2 unpacks; the fallback must be vectorized anyway).

Left open (report): object arrays of arrays (every ufunc over them loops over the elements in C)
and the builtin ``sum``/``math.prod`` over an array's rows (N adds in C): no line runs per
example and the rule does not tell such an argument from a list of window offsets.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import SOFTMAX_AROUND_SCORES as VECTORIZED
from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
LOOP = "np.array(list(map(np.dot, X, [W] * len(X))))"  # one line, N calls of np.dot


def hidden(map_name):
    return LOOP.replace("map(", f"{map_name}(")


GUARDED = "if __name__ == '__main__':\n    exec('_scores = lambda W, X: ' + " + repr(LOOP) + ")\n"
SIDE_FILE = ("import numpy as np\nif __name__ == '__main__':\n"
             f"    _scores = lambda W, X: {LOOP}\n")
PER_ELEMENT = "calls a function once per element"
BLIND = "the grader cannot see which code runs"
ATTACKS = {  # name: (code appended to linear.py, words of the message)
    "alias": (f"_m = map\ndef _scores(W, X):\n    return {hidden('_m')}\n", PER_ELEMENT),
    "default_argument": (f"def _scores(W, X, _m=map):\n    return {hidden('_m')}\n",
                         PER_ELEMENT),
    "imported_as": ("from itertools import starmap as _sm\ndef _scores(W, X):\n"
                    "    return np.array(list(_sm(np.dot, zip(X, [W] * len(X)))))\n",
                    PER_ELEMENT),
    "module_alias": ("import itertools as _it\ndef _scores(W, X):\n"
                     "    return np.array(list(_it.starmap(np.dot, zip(X, [W] * len(X)))))\n",
                     PER_ELEMENT),
    "reduce_module_alias": ("import functools as _ft\ndef _scores(W, X):\n"
                            "    return X @ W + 0 * _ft.reduce(np.add, X[:, :1] @ W[:1])\n",
                            PER_ELEMENT),
    "partial_of_map": ("import functools\ndef _scores(W, X):\n"
                       "    return np.array(list(functools.partial(map, np.dot)"
                       "(X, [W] * len(X))))\n", PER_ELEMENT),
    "sorted_alias": ("_s = sorted\ndef _scores(W, X):\n    _s(X, key=np.sum)\n"
                     "    return X @ W\n", PER_ELEMENT),
    "filterfalse": ("import itertools\ndef _scores(W, X):\n"
                    "    list(itertools.filterfalse(np.isnan, X[:, 0]))\n    return X @ W\n",
                    PER_ELEMENT),
    "heapq_merge_key": ("import heapq, operator\ndef _scores(W, X):\n"
                        "    list(heapq.merge(X, key=operator.methodcaller('sum')))\n"
                        "    return X @ W\n", PER_ELEMENT),
    "from_main_name": ("from __main__ import __name__\n" + GUARDED +
                       "    globals()['__name__'] = 'coursework.linear'\n", BLIND),
    "imp_side_file": ("import imp as _imp, os as _os\n_scores = _imp.load_source('__main__', "
                      "_os.path.join(_os.path.dirname(__file__), 'helpers_x.py'))._scores\n",
                      BLIND),
    "loader_side_file": ("import os as _os\n_scores = type(__loader__)('__main__', _os.path.join("
                         "_os.path.dirname(__file__), 'helpers_x.py')).load_module()._scores\n",
                         BLIND),
}
HONEST = {  # names that look like the loop functions but are not, in vectorized code
    "honest": "def _scores(W, X):\n    return X @ W\n",
    "honest_lookalikes": '''
import functools as _ft
import itertools as _it
from functools import reduce as _reduce


def _scores(W, X):
    filter = W                                   # a variable named filter
    red = np.add.reduce                          # NumPy's reduce as a value
    parts = _reduce(np.add, (X @ filter, 0 * X[:, :1]))   # over a written-out pair
    pairs = list(_it.product(range(1), range(1)))          # not a loop call
    return _ft.reduce(np.add, (parts, red(0 * W, axis=0)[None, :] * len(pairs)))
''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every attack and honest variant graded once by the engine (a submission each)."""
    out = {}
    for name, code in {**{k: v[0] for k, v in ATTACKS.items()}, **HONEST}.items():
        sub = make_submission(tmp_path_factory.mktemp(name),
                              append={"linear.py": code + VECTORIZED})
        (sub / "coursework" / "helpers_x.py").write_text(SIDE_FILE)  # imported by no statement
        report = engine.grade(sub, ["01"], keys={KEY})
        out[name] = report["units"]["01_linear"]["functions"][KEY]
    return out


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_loop_hidden_from_the_rule_loses_the_points(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert ATTACKS[name][1] in entry["message"], entry


@pytest.mark.parametrize("name", sorted(HONEST))
def test_vectorized_code_with_lookalike_names_keeps_its_points(graded, name):
    assert graded[name]["status"] == "passed", graded[name]


def analyse(source, name="f"):
    return Program({"linear": "import numpy as np\n" + textwrap.dedent(source)},
                   ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "v = np.vectorize\ndef f(x):\n    return v(np.sin)(x)\n",
    "from numpy import vectorize as vz\ndef f(x):\n    return vz(np.sin)(x)\n",
    "import itertools as it\ndef f(x):\n    return list(it.takewhile(np.isfinite, x))\n",
    "def f(x, key=max):\n    return key(x, key=np.sum)\n",
    "import functools\ndef f(x):\n    g = functools.partial(functools.reduce, np.add)\n"
    "    return g(x)\n",
])
def test_loop_functions_as_values_or_renamed_are_loop_calls(source):
    assert analyse(source).loop_call


@pytest.mark.parametrize("source", [
    "def f(x):\n    filter = x[0]\n    return x * filter\n",          # its own variable
    "def f(x):\n    m = np.maximum.reduce\n    return m(x, axis=0)\n",   # NumPy's reduce
    "import functools as ft\ndef f(a, b):\n    return ft.reduce(np.maximum, (a, b))\n",
    "from itertools import product as pr\ndef f(x):\n    return len(list(pr((0, 1), (0,))))\n",
    "def f(x):\n    return x.max(axis=0) - np.min(x)\n",
])
def test_honest_lookalikes_are_no_loop_calls(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)


def test_the_main_guard_is_read_when_the_module_binds_its_name_by_an_import():
    guarded = "def f(x):\n    return x\nif __name__ == '__main__':\n    exec('1')\n"
    assert not analyse(guarded).dynamic                        # the idiom: never runs
    assert analyse("from os import sep as __name__\n" + guarded).dynamic
    assert analyse("def __name__():\n    pass\n" + guarded).dynamic
