"""Honest code that the loop rule refused, graded in real unit modules (a fairness audit).

18 honest forms were tried beside the loop-checked functions (units 01 and 03). Three kinds cost a
correct vectorized function all its points and are accepted now:

- ``for g in (min, max): g(a, b)`` (or ``[g(a, b) for g in (min, max)]``): "min as a value",
  although ``g`` is only ever called by position. The builtins written in a list or tuple display
  that a loop goes through into a name the module only ever calls without ``key=`` and without
  ``**`` are no loop of their own (``rules._keyless_values``).
- ``log.debug("%s", __spec__.name)``: ``__spec__`` refused the module; reading its ``.name``,
  ``.parent`` or ``.origin`` (strings, like ``__name__`` and ``__file__``) is fine now where the
  module binds ``__spec__`` in no way (``unseen_code.spec_reads``); its loader stays refused.
- ``SCALES = (0.5, 2.0)`` at module level, then ``map(float, SCALES)``: a tuple bound once, at
  top level, and in no other way in the module, and assigned from no other module, cannot grow
  (``rules._constant_tuples``).

Still refused, with a message that names the allowed way: a loop call over a shape or over a name
(``functools.reduce(operator.mul, x.shape[1:], 1)``, ``tuple(map(int, x.shape))``,
``Counter(x.shape)``: any object may have a ``.shape`` as long as the data, and objects with
attributes named by a string are too many ways to build (SimpleNamespace(**d), type(), argparse,
logging.makeLogRecord) to rule out; ``math.prod(x.shape[1:])``, ``N, D = map(int, x.shape)``,
``tuple(int(n) for n in x.shape)`` pass), ``Counter(y.tolist())`` (a loop over the labels: use
``np.bincount``), and ``doctest.testmod()`` in a ``def main()`` outside the main guard (a function
may be called from anywhere: call it directly under the guard).
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
OLD = "    xp = xp_of(W, X)\n    num_train = X.shape[0]\n"
NP = "import numpy as np\n"
POOL_KEY = "conv.max_pool_forward"
POOL_OLD = "    out = None\n    for k in range(pool_size):"
MAIN = ("def main():\n    import doctest\n    doctest.testmod()\n\n\n"
        "if __name__ == '__main__':\n    main()\n")


def _linear(imports="", body="", append=""):
    return ("01", KEY, {"linear.py": [(NP, imports + NP), (OLD, OLD + body)]},
            {"linear.py": append} if append else {})


HONEST = {  # name: (unit, key, replace, append); each scored 0 before this round
    "comprehension_over_min_max": _linear(
        body="    low, high = [g(X.shape[0], X.shape[1]) for g in (min, max)]\n"
             "    assert low <= high\n"),
    "for_over_min_max_before_the_offsets": (
        "03", POOL_KEY,
        {"conv.py": [(POOL_OLD, "    for g in (min, max):\n        assert g(H_out, W_out) >= 1\n"
                                + POOL_OLD)]}, {}),
    "spec_name_in_a_log_line": _linear(
        imports="import logging\n",
        body="    logging.getLogger(__name__).debug('%s %s', __spec__.name, __spec__.parent)\n"),
    "module_tuple_of_hyper_parameters": _linear(
        imports="SCALES = (0.5, 2.0)\n",
        body="    assert list(map(float, SCALES)) == [0.5, 2.0]\n"),
    # the allowed ways the messages below name (passed before too; the advice must hold)
    "math_prod_of_a_shape": _linear(
        imports="import math\n", body="    assert math.prod(X.shape[1:]) == X.shape[1]\n"),
    "comprehension_over_a_shape": _linear(
        body="    assert tuple(int(n) for n in X.shape) == X.shape\n"),
}
REFUSED = {  # name: (unit, key, replace, append, words in the message)
    "key_given_to_the_loop_value": _linear(
        body="    for g in (min, max):\n        g(X, key=np.sum)\n") + ("min as a value",),
    "reduce_over_a_shape": _linear(
        imports="import functools\nimport operator\n",
        body="    assert functools.reduce(operator.mul, X.shape[1:], 1) == X.shape[1]\n")
    + ("math.prod(x.shape[1:])",),
    "map_over_a_shape": _linear(body="    assert tuple(map(int, X.shape)) == X.shape\n")
    + ("tuple(int(n) for n in x.shape)",),
    "counter_over_the_labels_in_a_helper": _linear(
        imports="import collections\n",
        body="    assert sum(_counts(y).values()) == num_train\n",
        append="def _counts(y):\n    return collections.Counter(y.tolist())\n")
    + ("np.bincount(y)",),
    "module_tuple_rebound_elsewhere": _linear(
        imports="SCALES = (0.5, 2.0)\n",
        body="    assert len(list(map(float, SCALES))) >= 0\n",
        append="def _rebind(x):\n    global SCALES\n    SCALES = tuple(x)\n") + ("map()",),
    "doctest_in_a_main_outside_the_guard": _linear(append=MAIN)
    + ("directly under 'if __name__ == \"__main__\":'",),
    "spec_loader": _linear(body="    assert __spec__.loader is not None\n")
    + ("only __spec__.name",),
}


def _grade(tmp_path_factory, variants):
    out = {}
    for name, (unit, key, replace, append, *_) in variants.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace, append=append)
        report = engine.grade(sub, [unit], keys={key})
        out[name] = {k: v for u in report["units"].values()
                     for k, v in u["functions"].items()}[key]
    return out


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    return _grade(tmp_path_factory, HONEST)


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    return _grade(tmp_path_factory, REFUSED)


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_variant_keeps_full_marks(honest, name):
    entry = honest[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_nearest_loopy_neighbour_fails_with_the_allowed_way(refused, name):
    entry = refused[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert REFUSED[name][-1] in entry["message"], entry["message"]


def analyse(source, name="f"):
    return Program({"linear": "import numpy as np\n" + textwrap.dedent(source)},
                   ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "def f(a, b):\n    return [g(a, b) for g in [min, max]]\n",
    "def f(a, b):\n    for g in (min, max, sorted):\n        print(g(a, b))\n",
    "def f(x):\n    return (__spec__.origin, __spec__.parent)\n",
    # another function's own g (a parameter) is another variable
    "def f(x):\n    for g in (min, max):\n        g(1, 2)\n    return x\n"
    "def h(g, x):\n    return g(x, key=np.sum)\n",
    "SCALES = (1e-3, 1e-2)\ndef f(x):\n    return sorted(SCALES, key=np.log)\n",
    "import functools\nimport operator\nDIMS = (2, 3)\n"
    "def f(x):\n    return functools.reduce(operator.mul, DIMS, 1)\n",
])
def test_honest_forms_are_neither_loop_calls_nor_hidden(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)


@pytest.mark.parametrize("source", [
    # the loop name escapes, or is called with a key (by keyword or through **)
    "def f(x):\n    for g in (min, max):\n        h = g\n    return h(x, key=np.sum)\n",
    "def f(x, kw):\n    return [g(x, **kw) for g in (min, max)]\n",
    "import functools\ndef f(x):\n    for g in (min, max):\n        pass\n"
    "    return functools.partial(g, key=np.sum)(x)\n",
    "def f(x):\n    for g in (min, max):\n        g(1, 2)\n    def h():\n"
    "        return g(x, key=np.sum)\n    return h()\n",
    "def f(x):\n    global g\n    for g in (min, max):\n        g(1, 2)\n    return x\n",
    # the tuple may have grown: rebound, a parameter, a starred entry, a star import, a list
    "SCALES = (1.0,)\nSCALES = tuple(np.ones(9))\ndef f(x):\n    return list(map(float, SCALES))\n",
    "SCALES = (1.0,)\ndef f(x, SCALES=()):\n    return list(map(float, SCALES))\n",
    "SCALES = (*np.ones(9),)\ndef f(x):\n    return list(map(float, SCALES))\n",
    "from .other import *\nSCALES = (1.0,)\ndef f(x):\n    return list(map(float, SCALES))\n",
    "SCALES = [1.0]\ndef f(x):\n    SCALES.extend(x)\n    return list(map(float, SCALES))\n",
    # a shape or a name the rule cannot bound
    "import functools\nimport operator\ndef f(x):\n"
    "    return functools.reduce(operator.mul, x.shape[1:], 1)\n",
    "import collections\ndef f(x):\n    return collections.Counter(x.shape)\n",
])
def test_loop_values_and_unbounded_iterables_stay_loop_calls(source):
    assert analyse(source).loop_call


@pytest.mark.parametrize("source", [
    "def f(x):\n    return __spec__.loader.load_module()\n",
    "def f(x):\n    return __spec__.name(x)\n",
    "from . import other as __spec__\ndef f(x):\n    return __spec__.name\n",
    "def f(x, __spec__=None):\n    return __spec__.name\n",
    "def f(x):\n    __spec__.name = 'm'\n    return x\n",
    "def f(x):\n    return x\ndef main():\n    import doctest\n    doctest.testmod()\n"
    "if __name__ == '__main__':\n    main()\n",
])
def test_spec_beyond_its_names_and_doctest_outside_the_guard_stay_hidden_code(source):
    assert analyse(source).dynamic
