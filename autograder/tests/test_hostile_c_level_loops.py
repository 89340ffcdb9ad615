"""Per-example loops that run in C: builtins that go through an array's rows, object arrays.

In a function that must be vectorized, ``sum(X[:, :, None] * d[:, None, :])`` adds the N rows
one by one (N NumPy additions in C) and ``np.array([*X[:, :, None], None], dtype=object)[:-1]``
makes an array whose every ufunc calls NumPy once per element: neither runs a line of student
code per example, so both passed the loop rule and the line counts with full marks.

- The builtins that go through an iterable in C (``sum``, ``min``, ``max``, ``sorted``,
  ``math.prod``, ``math.fsum``) are replaced in the worker, before any student code is
  imported, by functions that count the items they take while a loop-checked call runs
  (``worker.count_consumers``); those counts must not grow with the size (``loop_growth``),
  whatever name the builtin is reached by (``s = sum`` or ``from math import prod`` at import)
  and wherever it is called from (``statistics.fmean`` calls ``fsum``).
- An object dtype written out (``dtype=object``, ``"O"``, ``np.object_``, ``astype(object)``,
  ``dtype=list``) in the code that runs is a per-element call (``rules._object_dtype``).

Fair forms keep full marks: a short list (``sum([a, b, c])``), a shape (``sum(x.shape)``,
``math.prod(x.shape[1:])``, ``min(W.shape)``), two numbers (``max(h, w)``), a generator over a
few parameters, a fixed 3-element array.
"""

import textwrap

import numpy as np
import pytest

from autograder import engine
from autograder.rules import Program

from .submissions import make_submission

KEY = "linear.softmax_loss_vectorized"
DW = "    dW = X.T @ dscores / num_train + 2 * reg * W\n"
LOSS = "    loss = -log_probs[rows, y].sum() / num_train + reg * (W * W).sum()\n"
OUTER = "X[:, :, None] * dscores[:, None, :]"  # (N, D, C): one (D, C) outer product per example
TAIL = " / num_train + 2 * reg * W\n"
SUM = "X.sum(axis=0) / np.sum(..., axis=0)"  # what the message says to use instead of sum


def _variant(*, dw=None, loss=None, imports="", append=""):
    """The reference with dW (and the loss) of softmax_loss_vectorized written otherwise."""
    pairs = [("import numpy as np\n", "import numpy as np\n" + imports)]
    if dw is not None:
        pairs.append((DW, dw))
    if loss is not None:
        pairs.append((LOSS, loss))
    return {"linear.py": pairs}, ({"linear.py": append} if append else None)


HOSTILE = {  # name: (variant, the builtin named in the message, the advice it gives)
    "builtin_sum_over_the_rows": (
        _variant(dw=f"    dW = sum({OUTER})" + TAIL), "sum", SUM),
    "sum_bound_to_a_name_at_import": (
        _variant(dw=f"    dW = _total({OUTER})" + TAIL, append="_total = sum\n"),
        "sum", SUM),
    "sum_over_a_list_of_the_rows": (
        _variant(dw=f"    dW = sum(list({OUTER}))" + TAIL), "sum", SUM),
    "sum_over_an_iterator_with_start": (
        _variant(dw=f"    dW = sum(iter({OUTER}), start=xp.zeros_like(W))" + TAIL),
        "sum", SUM),
    "math_prod_imported_by_name": (
        _variant(imports="from math import prod\n",
                 dw=f"    dW = xp.log(prod(xp.exp({OUTER})))" + TAIL),
        "math.prod", "X.prod(axis=0) / np.prod(..., axis=0)"),
    "sum_over_the_per_example_losses": (
        _variant(loss="    loss = -sum(log_probs[rows, y]) / num_train + reg * (W * W).sum()\n"),
        "sum", SUM),
    "fsum_reached_through_statistics": (
        _variant(imports="import statistics\n",
                 loss="    loss = -statistics.fmean(log_probs[rows, y]) + reg * (W * W).sum()\n"),
        "math.fsum", SUM),
    "max_over_the_labels": (
        _variant(dw="    _classes = max(y) + 1\n" + DW), "max",
        "X.max(axis=0) / np.max(..., axis=0)"),
    "sorted_labels": (
        _variant(dw="    _order = sorted(y)\n" + DW), "sorted", "np.sort(X, axis=0)"),
    "min_over_the_labels_unpacked": (
        _variant(dw="    _least = min(0, *y)\n" + DW), "min",
        "X.min(axis=0) / np.min(..., axis=0)"),
}

OBJECT_ARRAYS = {  # name: variant (the object dtype written out)
    "object_array_of_the_rows": _variant(
        dw="    _a = np.array([*X[:, :, None], None], dtype=object)[:-1]\n"
           "    _b = np.array([*dscores[:, None, :], None], dtype=object)[:-1]\n"
           "    dW = (_a * _b).sum()" + TAIL),
    "astype_object": _variant(
        dw=f"    dW = ({OUTER}).astype('O').sum(axis=0).astype(float)" + TAIL),
    "object_dtype_from_a_helper": _variant(
        dw="    dW = _rows(X[:, :, None]) @ _rows(dscores[:, None, :])" + TAIL,
        append="def _rows(a):\n    return np.array([*a, None], np.object_)[:-1]\n"),
}

FAIR = {
    "sum_of_a_short_list": _variant(
        loss="    data = -log_probs[rows, y].sum() / num_train\n"
             "    loss = sum([data, reg * (W * W).sum(), 0.0])\n"),
    "sizes_of_a_shape": _variant(
        imports="import math\nfrom math import prod\n",
        dw="    _d = sum(X.shape) + max(X.shape[0], 1) + min(W.shape) + math.prod(X.shape[1:])\n"
           "    _s = sorted(W.shape) + [prod(W.shape)]\n" + DW),
    "sizes_of_a_few_parameters": _variant(
        dw="    _n = sum(p.size for p in (W, X))\n" + DW),
    "sum_over_a_fixed_three_element_array": _variant(
        dw="    _w = sum(np.array([1.0, 2.0, 3.0])) / 6.0\n"
           "    dW = _w * (X.T @ dscores)" + TAIL),
    "sum_over_the_classes_of_the_weights_kept_fixed": _variant(
        dw="    dW = sum([X.T @ dscores[:, :1] * 0.0, X.T @ dscores])" + TAIL),
}


def _grade(tmp_path_factory, variants):
    out = {}
    for name, (replace, append) in variants.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace, append=append)
        report = engine.grade(sub, ["01"], keys={KEY})
        out[name] = {k: v for u in report["units"].values()
                     for k, v in u["functions"].items()}[KEY]
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory, {**{n: v for n, (v, _, _) in HOSTILE.items()},
                                     **OBJECT_ARRAYS, **FAIR})


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_builtin_that_goes_over_the_rows_scores_nothing_and_says_what_to_use(graded, name):
    _, builtin, advice = HOSTILE[name]
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    message = entry["message"]
    assert f"the builtin {builtin} goes over the array's N rows (examples) one at a time" in \
        message, message
    assert f"use {advice}" in message, message
    assert "2, 11, 20, 130, 260 items" in message or "items, more as the size grows" in message


@pytest.mark.parametrize("name", sorted(OBJECT_ARRAYS))
def test_an_object_array_scores_nothing(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "an array of Python objects" in entry["message"], entry["message"]
    assert "calls NumPy once per element" in entry["message"], entry["message"]


@pytest.mark.parametrize("name", sorted(FAIR))
def test_a_builtin_over_a_few_things_keeps_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def test_the_builtins_over_the_data_really_were_the_loop():
    """The hostile variants compute the right values: only the loop in C is wrong with them."""
    rng = np.random.default_rng(0)
    X, d = rng.standard_normal((7, 3)), rng.standard_normal((7, 4)) * 0.1
    outer = X[:, :, None] * d[:, None, :]
    np.testing.assert_allclose(sum(outer), X.T @ d)
    np.testing.assert_allclose(np.log(np.prod(np.exp(outer), axis=0)), X.T @ d)
    a = np.array([*X[:, :, None], None], dtype=object)[:-1]
    b = np.array([*d[:, None, :], None], dtype=object)[:-1]
    np.testing.assert_allclose((a * b).sum(), X.T @ d)


def analyse(source, name="f"):
    return Program({"linear": "import numpy as np\n" + textwrap.dedent(source)},
                   ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "def f(x):\n    return np.array(list(x), dtype=object)\n",
    "def f(x):\n    return np.array(list(x), object)\n",
    "def f(x):\n    return np.empty(3, 'O')\n",
    "def f(x):\n    return np.zeros(3, dtype='|O')\n",
    "def f(x):\n    return x.astype(object)\n",
    "def f(x):\n    return x.astype(dtype='object')\n",
    "def f(x):\n    return np.full(3, None, np.object_)\n",
    "from numpy import object_\ndef f(x):\n    return np.array(list(x), object_)\n",
    "def f(x):\n    return np.array(list(x), dtype=list)\n",
    "def f(x):\n    return np.array(list(x), dtype=type(None))\n",
    "def f(x):\n    return np.array(list(x), dtype=np.dtypes.ObjectDType())\n",
    "OBJ = np.dtype(object)\ndef f(x):\n    return np.array(list(x), dtype=OBJ)\n",
    # the class object kept as a value, given as a dtype elsewhere; a class of the package
    "def f(x):\n    t = object\n    return np.array(list(x), dtype=t)\n",
    "def f(x, t=object):\n    return np.array(list(x), dtype=t)\n",
    "def g(x, dtype):\n    return np.array(list(x), dtype=dtype)\n"
    "def f(x):\n    return g(x, dtype=object)\n",
    "def f(x):\n    return np.array(list(x), **{'dtype': object})\n",
    "class Row:\n    pass\ndef f(x):\n    return np.array([*x, None], dtype=Row)[:-1]\n",
    # an object dtype that NumPy infers from None, then filled with the rows
    "def f(x):\n    o = np.full(len(x) + 1, None)\n    o[:] = [*x, None]\n    return o[:-1]\n",
    "def f(x):\n    o = np.array([None] * (len(x) + 1))\n    o[:] = [*x, None]\n"
    "    return o[:-1]\n",
])
def test_an_object_dtype_written_out_is_a_per_element_call(source):
    finding = analyse(source)
    assert finding.loop_call.startswith("an array of Python objects"), vars(finding)


@pytest.mark.parametrize("source", [
    "class A(object):\n    pass\ndef f(x):\n    return isinstance(A(), object), object()\n",
    "def f(x):\n    return np.array(x, dtype=float), x.astype(np.float64), np.zeros(3, int)\n",
    "def f(x):\n    return np.dtype('float32'), x.view(np.uint8), np.empty(3, 'f8')\n",
    "def f(x):\n    return x.astype(x.dtype), np.asarray(x, 'int64'), np.array(x, 'bool')\n",
    "_MISSING = object()\ndef f(x, d=_MISSING):\n    return isinstance(x, (int, float)) or d\n",
    "class Row:\n    pass\ndef f(x):\n    return np.array(x, dtype=x.dtype), Row()\n",
])
def test_numeric_dtypes_and_the_class_object_elsewhere_are_no_loop(source):
    finding = analyse(source)
    assert not finding.loop_call and finding.depth == 0, vars(finding)


@pytest.mark.parametrize("source", [
    "import inspect\ndef f(x):\n    return inspect.getclosurevars(sum)\n",
    "def f(x):\n    return sum.__closure__\n",
    "def f(x):\n    return sum.__wrapped__\n",
    "import inspect\ndef f(x):\n    try:\n        sum(5)\n    except TypeError as e:\n"
    "        return inspect.getargvalues(e.__traceback__.tb_next.tb_frame).locals\n",
])
def test_the_counting_builtins_closure_is_hidden_code(source):
    assert analyse(source).dynamic


COUNTING = '''
import builtins, json, math
import numpy as np
from autograder.worker import count_consumers

kept = [sum]  # in a list: a module's own name for it is replaced too
begin, end = count_consumers()
out = {"replaced": sum is not kept[0] and builtins.sum is sum,
       "numpy_kept_it": np._core.fromnumeric._sum_ is builtins.sum,
       "outside": [sum([1, 2, 3]), max(2, 5)]}
from math import prod
out["imported_after"] = prod is math.prod and prod.__name__ == "prod"
begin()
values = [int(sum(np.arange(5))), sum(iter([1, 2]), start=10), sum(x for x in range(4)),
          min([], default=7), max(3, 9), max(*[1, 5, 2]), sorted((3, 1, 2), reverse=True),
          sorted(iter([2, 1]), key=lambda v: -v), math.prod(range(1, 5), start=2),
          math.fsum(np.ones(4) / 10)]
errors = []
for call in (lambda: sum(5), lambda: min([]), lambda: sorted(3)):
    try:
        call()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
out.update(values=values, errors=errors, counts=end(), after=end())
print(json.dumps(out))
'''


def test_the_counting_builtins_return_what_the_originals_return_and_count_the_items(tmp_path):
    """In a process of its own (the replacement is for the whole worker): the same values,
    errors and keyword arguments as the builtins; the items counted only between begin and
    end, an array or list by its length, any other iterable by what it yields."""
    import json
    import os
    import subprocess
    import sys

    from autograder.paths import PACKAGE_DIR

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_DIR.parent),
                                                       os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", COUNTING], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    out = json.loads(done.stdout)
    assert out["replaced"] and out["numpy_kept_it"] and out["imported_after"], out
    assert out["outside"] == [6, 5]
    assert out["values"] == [10, 13, 6, 7, 9, 5, [3, 2, 1], [2, 1], 48, 0.4]
    assert out["errors"] == ["TypeError: 'int' object is not iterable",
                             "ValueError: min() arg is an empty sequence",
                             "TypeError: 'int' object is not iterable"]
    assert out["counts"] == {"sum": 5 + 2 + 4, "min": 0, "max": 2 + 3, "sorted": 3 + 2,
                             "math.prod": 4, "math.fsum": 4}
    assert out["after"] == {}
