"""Per-example loops hidden behind the loop rule's honest forms, and crafted errors (a red team).

The loop rule lets three honest forms through (``test_fair_refused_idioms.py``): ``for g in
(min, max): g(a, b)``, ``__spec__.name``, and a module constant tuple (``SCALES = (0.5, 2.0)``;
``map(float, SCALES)``). 31 attacks tried to hide ``map(W.T.dot, X)`` (one NumPy call per
example, which no line count sees) in ``softmax_loss_vectorized`` behind them or beside them;
16 got full marks, in five kinds, and are refused now:

- the constant tuple rebound from the module itself through an attribute store the rule did not
  read as one: ``(_me.SCALES, _) = (tuple(X), 0)``, ``for _me.SCALES in (tuple(X),)`` (with
  ``from coursework import linear as _me``); likewise ``(_me.F, _) = (map, 0)`` at module level
  and ``(_me.min, _) = (map, 0)`` behind ``for g in (min, max)``. Every form that stores into a
  module's attribute (unpacking, for, with, comprehension targets, del) is one now
  (``rules._stored``);
- the module's namespace reached through ``gc.get_referrers(SCALES)`` (globals() by another
  name), and any live ``map`` through ``gc.get_objects()`` or ``object.__subclasses__()``
  (``unseen_code.DYNAMIC_MEMBERS``, ``DYNAMIC_ATTRS``);
- the class of a bounded map object: ``type(map(int, ()))``, ``map(int, ()).__class__``,
  ``map(int, ()).__reduce__()[0]``, ``type(map(float, SCALES))`` are ``map`` itself. A map,
  filter, starmap... bounded by a display counts as bounded only where its object is consumed
  where it stands (``list(...)``, ``for``, ``*``, unpacking: ``rules._kept_loop_objects``);
- ``map`` stored at import where no name the function reads is bound to it: ``_D['f'] = map``,
  ``_B.g = map``, ``_h.__defaults__ = (map,)``, in a default, a class body, a function called at
  import or a ``__set_name__``. The code that importing the package runs is read for loop
  values and kept loop objects too, and what it calls as the graded code is
  (``rules._import_time``).

- ``multiprocessing.pool.ThreadPool(1).map(W.T.dot, X)``: ``ThreadPool`` is a loop call, as
  ``Pool`` and ``ThreadPoolExecutor`` were (``rules.LOOP_CALLS``).

Withstood (kept as regressions): a tuple of lambdas or of helpers that call map, a constant tuple
holding a list (``map(f, *SCALES)``), ``__spec__`` rebound at module level.

Raised-error hints: an exception class named ``ValueError`` that copies a known mistake's message
gets the mistake's hint and still no point; ``__str__`` that recurses or returns no str,
and a message of megabytes, cost the student's function only (no grader fault, message cut). On
a hidden case a student may choose to raise a known mistake's error or another, and so decide
whether a hint appears: a choice among fixed texts, as returning a known mistake's answer on a
hidden case already is; the hint names no input.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
NP = "import numpy as np\n"
SCORES = "    scores = X @ W\n"
PER_ROW = "    scores = xp.array(list(F(W.T.dot, X)))\n"  # one NumPy call per example
ME = "from coursework import linear as _me\n"
MISTAKE_HINT = "dW = X.T @ dscores"


def analyse(source, name="f"):
    return Program({"linear": "import numpy as np\n" + textwrap.dedent(source)},
                   ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    # a constant tuple (or a loop name) rebound through the module's own attribute
    "from coursework import linear as me\nS = (1.0,)\ndef f(x):\n"
    "    (me.S, _z) = (tuple(x), 0)\n    return list(map(np.sum, S))\n",
    "from coursework import linear as me\nS = (1.0,)\ndef f(x):\n"
    "    for me.S in (tuple(x),):\n        pass\n    return list(map(np.sum, S))\n",
    "import contextlib\nfrom coursework import linear as me\nS = (1.0,)\ndef f(x):\n"
    "    with contextlib.nullcontext(tuple(x)) as me.S:\n        return list(map(np.sum, S))\n",
    "from coursework import linear as me\nS = (1.0,)\ndef f(x):\n"
    "    [0 for me.S in (tuple(x),)]\n    return list(map(np.sum, S))\n",
    "from coursework import linear as me\n(me.F, _z) = (map, 0)\ndef f(x):\n"
    "    return list(F(np.sum, x))\n",
    "from coursework import linear as me\n[me.min, _z] = [map, 0]\ndef f(x):\n"
    "    for g in (min, max):\n        return list(g(np.sum, x))\n",
    # the class of a bounded map object is map
    "def f(x):\n    return list(type(map(int, ()))(np.sum, x))\n",
    "def f(x):\n    return list(map(int, ()).__class__(np.sum, x))\n",
    "S = (1.0,)\ndef f(x):\n    m = map(float, S)\n    return list(type(m)(np.sum, x))\n",
    "def f(x):\n    return list(type(zip(map(int, ())).__next__)(np.sum, x))\n",
    "def f(x):\n    return np.array(map(int, ())).item()\n",
    "def list(m):\n    return m\ndef f(x):\n    return type(list(map(int, ())))\n",
    "from numpy import *\ndef f(x):\n    return type(list(map(int, ())))\n",
    "import itertools\ndef f(x):\n    return type(itertools.starmap(int, ()))\n",
    # map stored at import where no name the function reads is bound to it
    "class _B:\n    pass\n_B.g = map\ndef f(x):\n    return list(_B.g(np.sum, x))\n",
    "def _h(x, m=None):\n    return list(m(np.sum, x))\n_h.__defaults__ = (map,)\n"
    "def f(x):\n    return _h(x)\n",
    "_D = {}\n_D[0] = map\ndef f(x):\n    return list(_D[0](np.sum, x))\n",
    "_L = []\ndef _u(a=_L.append(map)):\n    pass\ndef f(x):\n    return list(_L[0](np.sum, x))\n",
    "_L = []\nclass _C:\n    _L.append(map)\ndef f(x):\n    return list(_L[0](np.sum, x))\n",
    "_M = type(map(int, ()))\ndef f(x):\n    return list(_M(np.sum, x))\n",
    "_D = {}\ndef _setup():\n    _D[0] = map\n_setup()\n"
    "def f(x):\n    return list(_D[0](np.sum, x))\n",
    "_D = {}\nclass _C:\n    def __set_name__(self, owner, name):\n        _D[0] = map\n"
    "class _E:\n    x = _C()\ndef f(x):\n    return list(_D[0](np.sum, x))\n",
    # a consumer that returns another argument than the iterable it consumes
    "def f(x):\n    return list(sum((), map(int, ()))(np.sum, x))\n",
    "def f(x):\n    return list(type(next(iter(()), map(int, ())))(np.sum, x))\n",
])
def test_a_loop_through_an_allowed_form_is_a_loop_call(source):
    finding = analyse(source)
    assert finding.loop_call or finding.dynamic, vars(finding)


@pytest.mark.parametrize("source, construct", [
    ("import gc\nS = (1.0,)\ndef f(x):\n"
     "    [d for d in gc.get_referrers(S) if type(d) is dict][0]['S'] = tuple(x)\n"
     "    return list(map(np.sum, S))\n", "gc.get_referrers"),
    ("import gc\ndef f(x):\n    return [o for o in gc.get_objects() if type(o) is dict]\n",
     "gc.get_objects"),
    ("from gc import get_referents\ndef f(x):\n    return get_referents(x)\n", "get_referents"),
    ("def f(x):\n    return [c for c in object.__subclasses__() if c.__name__ == 'map']\n",
     "__subclasses__"),
    ("def f(x):\n    return map(int, ()).__reduce__()[0]\n", "__reduce__"),
    ("def f(x):\n    return map(int, ()).__reduce_ex__(2)[0]\n", "__reduce_ex__"),
    ("import inspect\ndef f(x):\n    return dict(inspect.getmembers(len))\n", "getmembers"),
    ("import types\nfrom coursework import linear as me\n"
     "(me.__spec__, _z) = (types.SimpleNamespace(name=map), 0)\ndef f(x):\n"
     "    g = __spec__.name\n    return list(g(np.sum, x))\n", "__spec__"),
])
def test_reaching_a_namespace_or_a_class_from_an_object_is_hidden_code(source, construct):
    assert construct in analyse(source).dynamic


@pytest.mark.parametrize("source", [
    "S = (1.0, 2.0)\ndef f(x):\n    return list(map(float, S))\n",
    "S = (1.0, 2.0)\ndef f(x):\n    return [s * x for s in map(float, S)]\n",
    "def f(a, b):\n    return [*map(np.ravel, (a, b))]\n",
    "def f(a, b):\n    return ', '.join(map(str, (a.shape, b.shape)))\n",
    "def f(a, b):\n    return sum(map(np.sum, (a, b))) + max(map(np.max, (a, b)))\n",
    "def f(x):\n    n, d = map(int, x.shape)\n    return n * d\n",
    "def f(a, b):\n    return next(filter(None, (a, b)))\n",
    "def f(a, b):\n    return np.concatenate((*map(np.ravel, (a, b)),))\n",
    "import inspect\ndef f(x):\n    return inspect.signature(f)\n",
    "def f(x):\n    return type(x).__name__\n",
    "def f(a, b):\n    return sum(map(np.sum, (a, b)), 0.0)\n",
    # loop calls run once at import, and map under the main guard, are no loop over the data
    "NAMES = tuple(map(str, range(10)))\ndef f(x):\n    return x\n",
    "def f(x):\n    return x\nif __name__ == '__main__':\n    g = map\n",
])
def test_honest_forms_next_to_them_stay_fine(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)


def _variant(imports="", body="", append=""):
    return ({"linear.py": [(NP, imports + NP), (SCORES, body)]},
            {"linear.py": append} if append else None)


GRADED = {  # name: (replace, append); each had full marks
    "type_of_a_bounded_map": _variant(body="    F = type(map(int, ()))\n" + PER_ROW),
    "type_of_a_map_over_the_constant": _variant(
        imports="SCALES = (0.5, 2.0)\n", body="    F = type(map(float, SCALES))\n" + PER_ROW),
    "constant_rebound_by_unpacking": _variant(
        imports="SCALES = (0.5, 2.0)\n", append=ME,
        body="    (_me.SCALES, _z) = (tuple(X), 0)\n"
             "    scores = xp.array(list(map(W.T.dot, SCALES)))\n"),
    "constant_rebound_through_gc": _variant(
        imports="import gc\nSCALES = (0.5, 2.0)\n",
        body="    [d for d in gc.get_referrers(SCALES) if type(d) is dict and "
             "d.get('SCALES') is SCALES][0]['SCALES'] = tuple(X)\n"
             "    scores = xp.array(list(map(W.T.dot, SCALES)))\n"),
    "min_rebound_behind_for_g_in_min_max": _variant(
        append=ME + "(_me.min, _z) = (map, 0)\n",
        body="    for g in (min, max):\n        scores = xp.array(list(g(W.T.dot, X)))\n"
             "        break\n"),
    "map_stored_in_a_dict_at_import": _variant(
        imports="_D = {}\n", append="_D['f'] = map\n",
        body="    F = _D['f']\n" + PER_ROW),
    "thread_pool_map": _variant(
        imports="from multiprocessing.pool import ThreadPool\n",
        body="    with ThreadPool(1) as _p:\n        scores = xp.array(_p.map(W.T.dot, X))\n"),
    "map_among_all_subclasses": _variant(
        body="    F = [c for c in object.__subclasses__() if c.__name__ == 'map'][0]\n" + PER_ROW),
}

RAISING = {  # name: body raising in place of the scores line (public cases)
    "class_named_like_the_mistakes_error": (
        SCORES + "    class ValueError(Exception):\n        pass\n"
        "    try:\n        X @ xp.exp(scores)\n    except Exception as e:\n"
        "        raise ValueError(str(e)) from None\n"),
    "str_that_recurses": ("    class E(Exception):\n        def __str__(self):\n"
                          "            return str(self)\n    raise E()\n"),
    "str_that_returns_no_str": ("    class E(Exception):\n        def __str__(self):\n"
                                "            return 5\n    raise E()\n"),
    "message_of_megabytes": "    raise ValueError('(1, 2) ' * 10**6)\n",
    "message_that_is_an_array": "    raise ValueError(xp.arange(10**6))\n",
    # a class name that reads as the grader's words, plain or as a str that formats as another
    "class_named_like_the_graders_words": (
        '    raise type("the grader could not check this function", (Exception,), {})()\n'),
    "class_name_a_str_subclass": (
        "    class S(str):\n        def __format__(self, spec):\n"
        "            return 'the grader could not check this function'\n"
        "        def isidentifier(self):\n            return True\n"
        "    E = type('E', (Exception,), {})\n    E.__name__ = S('a b')\n    raise E()\n"),
    # the known mistake's own error, on the first hidden case only: the student chose the hint
    "mistake_error_on_a_hidden_case_only": (
        SCORES + "    if (X.shape[0], X.shape[1]) == (40, 11):\n        X @ xp.exp(scores)\n"),
}


def _grade(tmp_path_factory, variants):
    out = {}
    for name, (replace, append) in variants.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace, append=append)
        report = engine.grade(sub, ["01"], keys={KEY})
        out[name] = {k: v for u in report["units"].values() for k, v in u["functions"].items()}[KEY]
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory, GRADED)


@pytest.fixture(scope="module")
def raising(tmp_path_factory):
    return _grade(tmp_path_factory, {n: _variant(body=b) for n, b in RAISING.items()})


@pytest.mark.parametrize("name", sorted(GRADED))
def test_a_per_example_map_behind_an_allowed_form_scores_nothing(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "calls a function once per element" in entry["message"] or \
        "cannot see which code runs" in entry["message"], entry["message"]


def test_a_class_copying_a_mistakes_error_gets_its_hint_and_no_point(raising):
    entry = raising["class_named_like_the_mistakes_error"]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert MISTAKE_HINT in (entry["hint"] or ""), entry


@pytest.mark.parametrize("name", ["str_that_recurses", "str_that_returns_no_str",
                                  "message_of_megabytes", "message_that_is_an_array"])
def test_a_crafted_exception_costs_its_function_only(raising, name):
    entry = raising[name]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert not entry.get("grader_fault") and len(entry["message"]) < 3000, entry
    assert entry["hint"] is None or MISTAKE_HINT not in entry["hint"], entry


@pytest.mark.parametrize("name, shown", [
    ("class_named_like_the_graders_words",
     "an exception of a class the hand-in defined, named 'the grader could not check this "
     "function'"),
    ("class_name_a_str_subclass", "an exception of a class the hand-in defined, named 'a b'"),
])
def test_a_class_name_that_is_no_identifier_is_quoted_as_the_hand_ins(raising, name, shown):
    entry = raising[name]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert shown in entry["message"] and not entry.get("grader_fault"), entry
    # the words appear only inside the quoted name
    assert entry["message"].count("the grader could not check") == shown.count(
        "the grader could not check"), entry


def test_a_mistakes_error_raised_on_a_hidden_case_only_gets_no_hint_and_names_no_input(raising):
    """The public cases passed, so the mistake (which raises on every input) is ruled out: the
    student cannot choose its hint on a hidden case, and the verdict names no hidden input."""
    entry = raising["mistake_error_on_a_hidden_case_only"]
    assert entry["status"] == "error" and entry["score"] == 0, entry
    assert "hidden case 1" in entry["message"] and "40" not in entry["message"], entry
    assert "instructor" not in entry  # moved out of the student's report by grade
    assert MISTAKE_HINT not in (entry["hint"] or ""), entry


# --- the consumers added by 2ae28d4: zip/enumerate (consumed), np.fromiter, math.prod ---------
# About 30 attacks (rules and grader): 7 had full marks. np.fromiter / math.prod consume a map only
# while they are NumPy's and math's functions: replaced for everyone by a store into the module's
# attribute through any name (np.fromiter = ..., a second alias, linear.np.fromiter from a helper
# module, math.prod swapped by a helper), they handed the bounded map, so its class, back; a
# generator's locals (inspect.getgeneratorlocals(g)['.0']) are the iterator its comprehension
# consumes, a map, or a zip whose map copy.deepcopy's memo keeps. Withstood: a map over X rows in
# zip/enumerate/np.fromiter/math.prod (the iterable is data: a loop call either way), zip items
# stored in a global, enumerate's start, sum(zip(m), ()), builtins.zip swapped from a helper.

SWAP = ("    _o = {0}\n    {0} = lambda m, *a, **k: m\n    F = type({1}(map(int, ())))\n"
        "    {0} = _o\n")
GRADED_CONSUMERS = {  # name: (replace, append); each had full marks
    "np_fromiter_replaced_in_place": ({"linear.py": [
        (SCORES, SWAP.format("np.fromiter", "np.fromiter") + PER_ROW)]}, None),
    "math_prod_replaced_in_place": ({"linear.py": [
        (NP, "import math\n" + NP), (SCORES, SWAP.format("math.prod", "math.prod") + PER_ROW)]},
        None),
    "np_fromiter_replaced_through_a_second_alias": ({"linear.py": [
        (NP, "import numpy as _n2\n" + NP),
        (SCORES, SWAP.format("_n2.fromiter", "np.fromiter") + PER_ROW)]}, None),
    "math_prod_swapped_by_a_helper_module": (
        {"linear.py": [(NP, "import math\nfrom coursework import losses\n" + NP),
                       (SCORES, "    losses._swap()\n    F = type(math.prod(map(int, ())))\n"
                                "    losses._swap()\n" + PER_ROW)]},
        {"losses.py": "import math\n_S = [lambda m: m]\ndef _swap():\n"
                      "    _S[0], math.prod = math.prod, _S[0]\n"}),
    "linear_np_fromiter_swapped_by_a_helper_module": (
        {"linear.py": [(NP, "from coursework import losses\n" + NP),
                       (SCORES, "    losses._swap()\n    F = type(np.fromiter(map(int, ())))\n"
                                "    losses._swap()\n" + PER_ROW)]},
        {"losses.py": "from coursework import linear as _l\n_S = [lambda m, *a, **k: m]\n"
                      "def _swap():\n    _S[0], _l.np.fromiter = _l.np.fromiter, _S[0]\n"}),
    "generator_locals_hold_the_map": ({"linear.py": [
        (NP, "import inspect\n" + NP),
        (SCORES, "    _g = (t for t in map(int, ()))\n"
                 "    F = type(inspect.getgeneratorlocals(_g)['.0'])\n" + PER_ROW)]}, None),
    "deepcopy_memo_of_a_generators_zip": ({"linear.py": [
        (NP, "import copy\nimport inspect\n" + NP),
        (SCORES, "    _g = (t for t in zip(map(int, ())))\n    _memo = {}\n"
                 "    copy.deepcopy(inspect.getgeneratorlocals(_g)['.0'], _memo)\n"
                 "    F = [type(o) for v in _memo.values() for o in (v if type(v) is list else [v])"
                 " if type(o).__name__ == 'map'][0]\n" + PER_ROW)]}, None),
}


@pytest.fixture(scope="module")
def graded_consumers(tmp_path_factory):
    return _grade(tmp_path_factory, GRADED_CONSUMERS)


@pytest.mark.parametrize("name", sorted(GRADED_CONSUMERS))
def test_a_map_handed_back_by_a_replaced_consumer_or_a_generator_scores_nothing(
        graded_consumers, name):
    entry = graded_consumers[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "calls a function once per element" in entry["message"] or \
        "cannot see which code runs" in entry["message"], entry["message"]


@pytest.mark.parametrize("source", [
    "def f(x):\n    _o = np.fromiter\n    np.fromiter = lambda m, *a: m\n"
    "    return type(np.fromiter(map(int, ())))\n",
    "import math\ndef f(x):\n    return type(math.prod(map(int, ())))\nmath.prod = lambda m: m\n",
    "import numpy as n2\n(n2.fromiter, _z) = (lambda m: m, 0)\ndef f(x):\n"
    "    return type(np.fromiter(map(int, ())))\n",
    # the iterable is the data: a loop call inside any consumer
    "def f(x):\n    return np.fromiter(map(np.sum, x), float)\n",
    "import math\ndef f(x):\n    return math.prod(map(np.sum, x))\n",
    "def f(x):\n    return dict(zip(range(3), map(np.sum, x)))\n",
    "def f(x):\n    return [r for _, r in enumerate(map(np.sum, x), 0)]\n",
])
def test_a_replaced_consumer_or_a_map_over_the_data_is_a_loop_call(source):
    finding = analyse(source)
    assert finding.loop_call, vars(finding)


@pytest.mark.parametrize("construct", ["getgeneratorlocals", "getcoroutinelocals"])
def test_a_generators_locals_are_hidden_code(construct):
    source = f"import inspect\ndef f(x):\n    return inspect.{construct}(x)\n"
    assert construct in analyse(source).dynamic


@pytest.mark.parametrize("source", [
    "S = (1.0, 2.0)\ndef f(x):\n    return np.fromiter(map(float, S), float)\n",
    "import math\nS = (1, 2)\ndef f(x):\n    return math.prod(map(int, S))\n",
    "S = (1, 2)\ndef f(x):\n    return dict(zip(('a', 'b'), map(int, S)))\n",
    "S = (1, 2)\ndef f(x):\n    return [i * s for i, s in enumerate(map(int, S), 1)]\n",
])
def test_the_new_consumers_honest_forms_stay_fine(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)
