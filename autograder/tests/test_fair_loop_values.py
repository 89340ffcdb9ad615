"""Honest code next to the tightened loop rule keeps its points.

The loop rule counts a loop function named without being called where it stands (``m = map``,
a default argument, ``partial(map, f)``: ``rules.LOOP_VALUES``) as the loop call itself, refuses
``__spec__``/``__loader__``/``__main__`` module-wide, and lets a plain ``import pdb`` through.
25 honest variants were tried in the loop-checked functions and beside them in the same modules
(units 01, 03, 04, 07). Three kinds lost every point of a correct vectorized function:

- ``functools.reduce(max, (H_out, W_out))`` (and ``max``/``min``/``sorted`` given as the function
  of ``map``/``filter``/``reduce``/``accumulate`` or as a ``key=``): "max as a value", although
  those call it with items by position, never with a ``key=``. Now no loop of its own
  (``rules.KEYWORD_KEYED``); the call that receives it is judged by its own rule.
- ``import cProfile, pstats`` / ``import pdb, sys``: the plain-import exemption covered only a
  statement importing nothing else; each debugging module imported as itself is now exempt
  wherever it stands in the statement (its uses are still refused).
- ``if "__main__" == __name__:`` (the guard written the other way round) was read as code that
  runs, so the ``doctest.testmod()`` under it refused the module; both orders are the guard now.

Still refused (left alone, see the report): ``for f in (min, max): f(a, b)`` (``f`` may be called
with a key=), ``max(shapes, key=len)`` over a list name, ``functools.reduce(operator.mul,
x.shape[1:])`` (a name or attribute may be as long as the data), ``__spec__.name`` in a log line.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

POOL_OLD = "    out = None\n    for k in range(pool_size):"
POOL_NEW = ("    widest = functools.reduce(max, (H_out, W_out))  # for a log line\n"
            "    assert widest >= 1\n" + POOL_OLD)
GUARD = '\n\nif "__main__" == __name__:\n    import doctest\n    doctest.testmod()\n'
VARIANTS = {  # name: (unit, key, replace, append)
    "reduce_max_over_a_pair": (
        "03", "conv.max_pool_forward",
        {"conv.py": [("from .backend import xp_of",
                      "import functools\n\nfrom .backend import xp_of"),
                     (POOL_OLD, POOL_NEW)]}, {}),
    "import_cprofile_pstats": (
        "01", "linear.softmax_loss_vectorized",
        {"linear.py": [("import numpy as np\n", "import cProfile, pstats  # noqa: E401,F401\n"
                                                "import numpy as np\n")]}, {}),
    "import_pdb_sys": (
        "07", "segmentation.pixel_accuracy",
        {"segmentation.py": [("import numbers\n", "import numbers\nimport pdb, sys  # noqa\n")]},
        {}),
    "guard_written_the_other_way": (
        "04", "normalization.batchnorm_backward_alt", {}, {"normalization.py": GUARD}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = {}
    for name, (unit, key, replace, append) in VARIANTS.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace, append=append)
        report = engine.grade(sub, [unit], keys={key})
        out[name] = {k: v for u in report["units"].values()
                     for k, v in u["functions"].items()}[key]
    return out


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_honest_variant_keeps_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def analyse(source, name="f"):
    return Program({"linear": "import numpy as np\n" + textwrap.dedent(source)},
                   ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "import functools\ndef f(h, w):\n    return functools.reduce(max, (h, w))\n",
    "from functools import reduce\ndef f(h, w):\n    return reduce(min, [h, w])\n",
    "import itertools\ndef f(a, b):\n    return list(itertools.accumulate((a, b), max))\n",
    "def f(a, b):\n    return list(map(sorted, ([b, a], [a])))\n",
    "def f(a, b):\n    return sorted(((a, b), (b,)), key=max)\n",
    "def f(x):\n    pass\nif '__main__' == __name__:\n    import doctest\n    doctest.testmod()\n",
    "import cProfile, pstats\ndef f(x):\n    return x\n",
])
def test_honest_forms_are_neither_loop_calls_nor_hidden(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)


@pytest.mark.parametrize("source", [
    # the package's own map may call what it is given with a key=
    "def map(g, it):\n    return g(it[0], key=np.sum)\n"
    "def f(x):\n    return list(map(max, (x,)))\n",
    "from itertools import starmap as map\ndef f(x):\n    return list(map(max, ((x,),)))\n",
    "from .helpers import *\ndef f(x):\n    return list(map(max, (x,)))\n",
    # a value that may be called with a key= later
    "def f(x):\n    for g in (min, max):\n        g(x, key=np.sum)\n    return x\n",
    "import functools\ndef f(x):\n    return functools.partial(max, key=np.sum)(x)\n",
    # heapq.nsmallest takes its key by position
    "import heapq\ndef f(x):\n    return list(map(heapq.nsmallest, (1,), (x,), (np.sum,)))\n",
    # the function argument of a loop over the data is that loop
    "import functools\ndef f(x):\n    return functools.reduce(max, x)\n",
])
def test_loop_values_that_may_hide_a_key_stay_loop_calls(source):
    assert analyse(source).loop_call


@pytest.mark.parametrize("source", [
    "import pdb, sys\ndef f(x):\n    pdb.set_trace()\n    return x\n",
    "import cProfile, importlib\ndef f(x):\n    return x\n",
    "import pdb as p, sys\ndef f(x):\n    return x\n",
    "if '__main__' == __name__:\n    exec('1')\nelse:\n    exec('2')\ndef f(x):\n    return x\n",
    "__name__ = '__main__'\nif '__main__' == __name__:\n    exec('1')\ndef f(x):\n    return x\n",
])
def test_debugging_imports_and_the_guard_still_refuse_what_runs(source):
    assert analyse(source).dynamic
