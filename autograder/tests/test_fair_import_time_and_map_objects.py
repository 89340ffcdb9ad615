"""Honest import-time code and consumed map objects keep a vectorized function's points.

The red team's tightening (a map object bounded by a display counts as bounded only where it is
consumed where it stands; the code that runs at import is checked for loop values and loop
objects) was tried against 40 honest variants in the modules of loop-checked functions:
module constants and tables built by a for loop, ``__all__``, dataclasses, ``lru_cache``,
logging, type aliases, class attributes, enums, ``sorted(CLASSES)``, ``tuple(sorted(d))``,
``np.array(list(map(float, SCALES)))``... Five lost every point of the function, all one kind:
a map object over a module constant tuple consumed whole by something other than a builtin
consumer: ``dict(zip(NAMES, map(int, SHAPE)))``, ``for n, s in zip(NAMES, map(float, SCALES))``,
``dict(enumerate(map(...)))``, ``np.fromiter(map(...), float)``, ``math.prod(map(...))``. They
are consumed where they stand now (``rules._kept_loop_objects``): an argument of the builtin
``zip`` (the first of ``enumerate``) whose own result is consumed so, and the first argument
of ``np.fromiter`` / ``math.prod`` with numpy and math imported as modules.

What stays refused: a zip kept or given to ``type()``, a ``zip`` the module binds itself, and
any consumer (a builtin's name, ``np``) that another module stores into as an attribute of this
one (``linear.list = lambda m: m`` made ``type(list(map(int, ())))`` the class ``map``: that was
open before this change too). ``map(int, x.shape)`` stays a loop call (a shape may be as long as
the data), with a message naming ``N, D = map(int, x.shape)``.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

LINEAR_ANCHOR = "from .backend import xp_of\n"
NORM_ANCHOR = "from .checks import check_int\n"
VARIANTS = {  # name: (unit, key, {file: [(old, new)]})
    "module_dict_zip_map": (
        "01", "linear.softmax_loss_vectorized",
        {"linear.py": [(LINEAR_ANCHOR, LINEAR_ANCHOR + '\nNAMES = ("N", "D")\nSHAPE = (4, 3)\n'
                        'SIZES = dict(zip(NAMES, map(int, SHAPE)))\n')]}),
    "module_np_fromiter_map": (
        "01", "linear.svm_loss_vectorized",
        {"linear.py": [(LINEAR_ANCHOR, LINEAR_ANCHOR + "\nSCALES = (0.5, 1.0)\n"
                        "_SCALES = np.fromiter(map(float, SCALES), dtype=float)\n")]}),
    "module_for_over_zip_map": (
        "04", "normalization.batchnorm_backward_alt",
        {"normalization.py": [(NORM_ANCHOR, NORM_ANCHOR + '\nNAMES = ("gamma", "beta")\n'
                               "INITS = (1.0, 0.0)\nINIT = {}\n"
                               "for _n, _v in zip(NAMES, map(float, INITS)):\n"
                               "    INIT[_n] = _v\n")]}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = {}
    for name, (unit, key, replace) in VARIANTS.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace)
        report = engine.grade(sub, [unit], keys={key})
        out[name] = {k: v for u in report["units"].values()
                     for k, v in u["functions"].items()}[key]
    return out


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_honest_module_code_keeps_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def analyse(source, other=None, name="f"):
    sources = {"linear": "import math\nimport numpy as np\n" + textwrap.dedent(source)}
    if other is not None:
        sources["helpers"] = textwrap.dedent(other)
    return Program(sources, ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    'N = ("a", "b")\nS = (1, 2)\nD = dict(zip(N, map(int, S)))\ndef f(x):\n    return x\n',
    'S = (1, 2)\ndef f(x):\n    return dict(zip(("a", "b"), map(int, S)))\n',
    'S = (1.0, 2.0)\ndef f(x):\n    for n, s in zip(("a", "b"), map(float, S)):\n'
    '        x = x * s\n    return x\n',
    'S = (1.0, 2.0)\nT = dict(enumerate(map(float, S), 1))\ndef f(x):\n    return x\n',
    'S = (1.0, 2.0)\ndef f(x):\n    return list(zip(S, map(float, S)))\n',
    'S = (1.0, 2.0)\nA = np.fromiter(map(float, S), dtype=float)\ndef f(x):\n    return x\n',
    'S = (1, 2)\ndef f(x):\n    return x * math.prod(map(int, S))\n',
    # what passed before and still does
    'S = (1.0, 2.0)\nA = np.array(list(map(float, S)))\ndef f(x):\n    return x\n',
    'C = ("cat", "dog")\nORDER = sorted(C)\nK = tuple(sorted({"b": 1, "a": 2}))\n'
    'def f(x):\n    return x\n',
    "T = {}\nfor _k in range(4):\n    T[_k] = 2 ** _k\ndef f(x):\n    return x\n",
])
def test_a_map_object_consumed_whole_is_bounded(source):
    finding = analyse(source)
    assert not finding.loop_call and not finding.dynamic, vars(finding)


@pytest.mark.parametrize("source, other", [
    # a zip that escapes carries the map object with it
    ("def f(x):\n    return list(type(zip(map(int, ())).__next__)(np.sum, x))\n", None),
    ("def f(x):\n    z = zip((), map(int, ()))\n    return z\n", None),
    ("def f(x):\n    return type(enumerate(map(int, ())))\n", None),
    ("def f(x):\n    return list(enumerate((), map(int, ())))\n", None),
    # zip, np or math that is not the builtin or the module
    ("def f(x, zip=None):\n    return list(zip(map(int, ())))\n", None),
    ("from .helpers import np\ndef f(x):\n    return type(np.fromiter(map(int, ()), float))\n",
     "np = None\n"),
    ("def f(x):\n    math = x\n    return type(math.prod(map(int, ())))\n", None),
    # a consumer's name stored into from another module is no builtin (open before, too)
    ("from . import helpers\ndef f(x):\n    return list(type(list(map(int, ())))(np.sum, x))\n",
     "from coursework import linear as L\nL.list = lambda m: m\n"),
    ("from . import helpers\ndef f(x):\n"
     "    return list(type(dict(zip(map(int, ()))))(np.sum, x))\n",
     "from coursework import linear as L\nL.zip = lambda m: m\n"),
    ("from . import helpers\ndef f(x):\n"
     "    return list(type(np.fromiter(map(int, ()), float))(np.sum, x))\n",
     "import types\nfrom coursework import linear as L\n"
     "L.np = types.SimpleNamespace(fromiter=lambda m, d: m, sum=sum)\n"),
    # a shape is not bounded, consumed or not
    ("def f(x):\n    return dict(zip('ND', map(int, x.shape)))\n", None),
])
def test_a_map_object_that_may_escape_stays_a_loop_call(source, other):
    finding = analyse(source, other)
    assert finding.loop_call or finding.dynamic, vars(finding)


def test_the_message_on_a_shape_names_the_allowed_way():
    finding = analyse("def f(x):\n    return dict(zip('ND', map(int, x.shape)))\n")
    assert "N, D = map(int, x.shape)" in finding.loop_call, vars(finding)
