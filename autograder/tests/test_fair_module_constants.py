"""Honest module constants built by a map over constants keep a vectorized function's points.

A module of loop-checked functions may build its tables once, at import, with a map over a
constant: ``NAMES = tuple(map(str, range(10)))``, ``CLASSES = list(map(str.upper, ("cat",
"dog")))``, ``SIZES = dict(zip(("a", "b"), map(int, ("3", "4"))))``. The first lost every point of
a function that read it (``range(10)`` is no display). In the code that importing a module runs
(``rules._import_time``: statements, class bodies, defaults, decorators; not a function's or a
lambda's body, nor a generator expression) ``range()`` of int literals (the builtin), a str literal
and a set or dict display count as written out (``rules._import_time_constants``): the map makes a
fixed number of calls, once, before any data exists.

What stays refused (``test_map_over_a_constant_that_may_meet_the_data_stays_a_loop_call`` and the
graded hostile variants): the same map in a lambda or a function (called at import or not), a
range kept in a name, a ``range`` the package rebinds (a def, an import, ``linear.range = ...``
from another module), a map object kept at import, a map in a generator expression (its items are
made later), and any loop call in a module that a function imports (``def f(X): from . import
late``: its import-time code runs in that call, with the data at hand; ``Program._late``; open
before this change for any map in such a module).
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
ANCHOR = "from .backend import xp_of\n"
CHECK = '    _check_loss_inputs("softmax_loss_vectorized", W, X, y, reg)\n'
SCORES = "    scores = X @ W\n"
CONSTANTS = ('\nNAMES = tuple(map(str, range(10)))\n'
             'CLASSES = list(map(str.upper, ("cat", "dog")))\n'
             'SIZES = dict(zip(("a", "b"), map(int, ("3", "4"))))\n'
             'CODES = [*map(ord, "ab")]\n'
             'EVENS = list(filter(lambda n: n % 2 == 0, range(-4, 5, 2)))\n'
             "class _Table:\n    KEYS = sorted(map(str, {3, 1, 2}))\n"
             "_ORDER = {}\nfor _i, _n in enumerate(map(str, range(3))):\n    _ORDER[_n] = _i\n")
READS = (CHECK + '    assert len(NAMES) == 10 and CLASSES == ["CAT", "DOG"] and '
         'SIZES == {"a": 3, "b": 4}\n'
         '    assert CODES == [97, 98] and EVENS == [-4, -2, 0, 2, 4] and '
         '_Table.KEYS == ["1", "2", "3"] and _ORDER["2"] == 2\n')
# one row of X copied per example by NumPy (X.__getitem__), which no line count sees
PER_ROW = ("np.fromiter(map(X.__getitem__, range(1000000)), dtype=(X.dtype, X.shape[1]), "
           "count=X.shape[0])")

FAIR = {"module_constants_read_by_the_function": [(ANCHOR, ANCHOR + CONSTANTS), (CHECK, READS)]}
HOSTILE = {  # each hides PER_ROW behind the allowance
    "range_literal_in_a_module_lambda": [
        (ANCHOR, ANCHOR + f"\n_ROWS = lambda X: {PER_ROW}\n"),
        (SCORES, "    scores = _ROWS(X) @ W\n")],
    "range_literal_in_a_function_called_at_import": [
        (ANCHOR, ANCHOR + f"\n\ndef _rows(X):\n    return {PER_ROW}\n\n\n"
                          "_ROWS0 = _rows(np.eye(2))\n"),
        (SCORES, "    scores = _rows(X) @ W\n")],
    "range_made_at_import_kept_in_a_name": [
        (ANCHOR, ANCHOR + "\n_R = range(1000000)\n"),
        (SCORES, "    scores = np.fromiter(map(X.__getitem__, _R), dtype=(X.dtype, X.shape[1]), "
                 "count=X.shape[0]) @ W\n")],
}


def _grade(tmp_path_factory, variants):
    out = {}
    for name, pairs in variants.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace={"linear.py": pairs})
        report = engine.grade(sub, ["01"], keys={KEY})
        out[name] = {k: v for u in report["units"].values() for k, v in u["functions"].items()}[KEY]
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory, {**FAIR, **HOSTILE})


@pytest.mark.parametrize("name", sorted(FAIR))
def test_module_constants_made_by_a_map_over_constants_keep_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_per_example_map_over_a_range_literal_in_code_that_meets_the_data_scores_nothing(
        graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "calls a function once per element" in entry["message"], entry["message"]


def analyse(source, others=None, name="f"):
    sources = {"linear": "import math\nimport numpy as np\n" + textwrap.dedent(source)}
    sources.update({k: textwrap.dedent(v) for k, v in (others or {}).items()})
    return Program(sources, ()).analyse("linear", name)


@pytest.mark.parametrize("source, others", [
    ("NAMES = tuple(map(str, range(10)))\ndef f(x):\n    return NAMES\n", None),
    ("N = list(map(str, range(-2, 8, 2)))\ndef f(x):\n    return N\n", None),
    ('C = list(map(str.upper, ("cat", "dog")))\ndef f(x):\n    return C\n', None),
    ('S = dict(zip(("a", "b"), map(int, ("3", "4"))))\ndef f(x):\n    return S\n', None),
    ('C = "".join(map(str.upper, "abc"))\ndef f(x):\n    return C\n', None),
    ("K = sorted(map(str, {3, 1}))\nV = list(map(abs, {-1: 0, 2: 1}))\n"
     "def f(x):\n    return K, V\n", None),
    ("import functools, operator\nP = functools.reduce(operator.mul, range(1, 5))\n"
     "def f(x):\n    return x * P\n", None),
    ("class T:\n    K = list(map(str, range(3)))\ndef f(x):\n    return T.K\n", None),
    ("def f(x, _k=tuple(map(str, range(3)))):\n    return _k\n", None),
    ("T = {}\nfor _i in map(float, range(3)):\n    T[_i] = _i\ndef f(x):\n    return T\n", None),
    ("N = np.fromiter(map(float, range(4)), float)\ndef f(x):\n    return x * N\n", None),
    # a helper module imported at import time, and a function that imports it again
    ("from .helpers import K\ndef f(x):\n    return K\n",
     {"helpers": "K = list(map(str, range(3)))\n"}),
    ("from . import helpers\ndef f(x):\n    from .helpers import K\n    return K\n",
     {"helpers": "K = list(map(str, range(3)))\n"}),
])
def test_a_map_over_a_constant_run_once_at_import_is_no_loop_call(source, others):
    finding = analyse(source, others)
    assert not finding.loop_call and not finding.dynamic and finding.depth == 0, vars(finding)


DATA_ROWS = "np.fromiter(map({}.__getitem__, range(1000000)), float, count=3)"


@pytest.mark.parametrize("source, others", [
    # where the map may run when the data exists
    ("F = lambda x: list(map(x.__getitem__, range(3)))\ndef f(x):\n    return F(x)\n", None),
    ("def g(x):\n    return list(map(x.__getitem__, range(3)))\nK = g((1, 2, 3))\n"
     "def f(x):\n    return g(x)\n", None),
    ("R = range(1000000)\ndef f(x):\n    return list(map(x.__getitem__, R))\n", None),
    ("B = []\nG = (r for r in map(B.__getitem__, range(1000000)))\n"
     "def f(x):\n    B.extend(x)\n    return next(G)\n", None),
    ("M = map(abs, range(3))\ndef f(x):\n    return list(type(M)(np.sum, x))\n", None),
    # range rebound by the package: it may hand over a list the function fills
    ("B = []\ndef range(n):\n    return B\nK = list(map(abs, range(3)))\n"
     "def f(x):\n    return K\n", None),
    ("from .helpers import range\nK = list(map(abs, range(3)))\ndef f(x):\n    return K\n",
     {"helpers": "range = lambda n: []\n"}),
    ("from .helpers import *\nK = list(map(abs, range(3)))\ndef f(x):\n    return K\n",
     {"helpers": "range = lambda n: []\n"}),
    ("from . import helpers\nK = list(map(abs, range(3)))\ndef f(x):\n    return K\n",
     {"helpers": "from coursework import linear\nlinear.range = lambda n: []\n"}),
    # a module imported by a function runs its import-time code in that call, with the data
    ("from . import stash\ndef f(x):\n    stash.X = x\n    from . import late\n"
     "    return late.S\n",
     {"stash": "X = None\n",
      "late": "import numpy as np\nfrom . import stash\nS = "
              + DATA_ROWS.format("stash.X") + "\n"}),
    ("from . import stash\ndef f(x):\n    stash.X = x\n    from . import late\n"
     "    return late.S\n",
     {"stash": "X = None\n",
      "late": "import numpy as np\nfrom . import stash\nS = list(map(np.sum, stash.X))\n"}),
    ("from . import stash\ndef f(x):\n    stash.X = x\n    from . import late\n"
     "    return late.S\n",
     {"stash": "X = None\n", "late": "from .deeper import S\n",
      "deeper": "import numpy as np\nfrom . import stash\nS = "
                + DATA_ROWS.format("stash.X") + "\n"}),
])
def test_map_over_a_constant_that_may_meet_the_data_stays_a_loop_call(source, others):
    finding = analyse(source, others)
    assert finding.loop_call or finding.dynamic, vars(finding)


def test_a_loop_call_in_a_module_a_function_imports_says_so():
    finding = analyse("from . import stash\ndef f(x):\n    stash.X = x\n"
                      "    from . import late\n    return late.S\n",
                      {"stash": "X = None\n",
                       "late": "import numpy as np\nfrom . import stash\n"
                               "S = list(map(np.sum, stash.X))\n"})
    assert "coursework/late.py, line 3, run when a function imports" in finding.loop_call, \
        vars(finding)
