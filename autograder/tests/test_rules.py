"""The rules about loops hold for the code that runs: aliases, wrappers, decorators, imports from
sibling modules, patches from other modules, recursion and per-element calls are followed; what
cannot be followed (exec, globals()...) fails the rule; course-provided helpers do not count."""

import textwrap
from pathlib import Path

import pytest

from autograder.paths import REFERENCE_PACKAGE
from autograder.rules import Program, provided_fingerprints

NAIVE = """
import numpy as np

def svm_loss_naive(W, X, y, reg):
    total = 0.0
    for i in range(X.shape[0]):
        for j in range(W.shape[1]):
            total += X[i] @ W[:, j]
    return total, W
"""


def analyse(target="linear.svm_loss_vectorized", provided=(), **modules):
    sources = {name: textwrap.dedent(text) for name, text in modules.items()}
    module, _, name = target.partition(".")
    return Program(sources, provided).analyse(module, name)


DODGES = {
    "alias": {"linear": NAIVE + "svm_loss_vectorized = svm_loss_naive\n"},
    "wrapper": {"linear": NAIVE + "def svm_loss_vectorized(W, X, y, reg):\n"
                                  "    return svm_loss_naive(W, X, y, reg)\n"},
    "lambda": {"linear": NAIVE + "svm_loss_vectorized = lambda *a: svm_loss_naive(*a)\n"},
    "decorator": {"linear": NAIVE + """
def via_naive(func):
    def inner(W, X, y, reg):
        return svm_loss_naive(W, X, y, reg)
    return inner

@via_naive
def svm_loss_vectorized(W, X, y, reg):
    return 0.0, W
"""},
    "import from a sibling": {
        "helpers": NAIVE,
        "linear": "from .helpers import svm_loss_naive as svm_loss_vectorized\n"},
    "star import": {"helpers": NAIVE + "svm_loss_vectorized = svm_loss_naive\n",
                    "linear": "from .helpers import *\n"},
    "module attribute": {"helpers": NAIVE,
                         "linear": "from coursework import helpers\n"
                                   "def svm_loss_vectorized(W, X, y, reg):\n"
                                   "    return helpers.svm_loss_naive(W, X, y, reg)\n"},
    "patched from __init__": {
        "__init__": "from . import linear\nfrom .helpers import svm_loss_naive\n"
                    "linear.svm_loss_vectorized = svm_loss_naive\n",
        "helpers": NAIVE,
        "linear": "def svm_loss_vectorized(W, X, y, reg):\n    return 0.0, W\n"},
    "callable object": {"linear": NAIVE + """
class Loss:
    def __call__(self, W, X, y, reg):
        return svm_loss_naive(W, X, y, reg)

svm_loss_vectorized = Loss()
"""},
    "recursion": {"linear": """
def svm_loss_vectorized(W, X, y, reg):
    if X.shape[0] == 0:
        return 0.0
    return (X[0] @ W).sum() + svm_loss_vectorized(W, X[1:], y[1:], reg)
"""},
    "np.vectorize": {"linear": """
import numpy as np

def one(i):
    return i * 2.0

def svm_loss_vectorized(W, X, y, reg):
    return np.vectorize(one)(np.arange(X.shape[0])).sum(), W
"""},
    "map": {"linear": """
def svm_loss_vectorized(W, X, y, reg):
    return sum(map(float, X[:, 0])), W
"""},
    "getattr of a constant name": {"linear": NAIVE + """
import sys

def svm_loss_vectorized(W, X, y, reg):
    return getattr(sys.modules[__name__], "svm_loss_naive")(W, X, y, reg)
"""},
    "dynamic call": {"linear": NAIVE + """
def svm_loss_vectorized(W, X, y, reg):
    return globals()["svm_loss_" + "naive"](W, X, y, reg)
"""},
    "exec at import": {"linear": "exec('def svm_loss_vectorized(W, X, y, reg):\\n"
                                 "    return [x for x in X]')\n"},
    "unpickling": {"linear": "import pickle\n"
                            "svm_loss_vectorized = pickle.loads(b'...')\n"},
    "unpickling by a from-import": {"linear": "from pickle import loads\n"
                                              "svm_loss_vectorized = loads(b'...')\n"},
    "pickle under another name": {"linear": "import pickle as p\n"
                                            "svm_loss_vectorized = p.loads(b'...')\n"},
    "a function built from a code object": {
        "linear": "import types\n"
                  "svm_loss_vectorized = types.FunctionType(CODE, {})\n"},
    # per-example work in a thread, in a sort key, and a frame that opts out of the
    # line counter
    "a thread": {"linear": """
import threading

def svm_loss_vectorized(W, X, y, reg):
    out = []
    threading.Thread(target=lambda: out.extend(float(x @ W[:, 0]) for x in X)).start()
    return sum(out), W
"""},
    "a sort key": {"linear": """
def svm_loss_vectorized(W, X, y, reg):
    order = sorted(range(X.shape[0]), key=lambda i: float(X[i] @ W[:, 0]))
    return float(len(order)), W
"""},
    "a frame hidden from the line counter": {"linear": NAIVE + """
import sys

def svm_loss_vectorized(W, X, y, reg):
    sys._getframe().f_trace_lines = False
    return 0.0, W
"""},
}


@pytest.mark.parametrize("dodge", sorted(DODGES))
def test_loops_reached_by_a_dodge_count(dodge):
    finding = analyse(**DODGES[dodge])
    assert finding.dynamic or finding.depth >= 1, dodge


def test_naive_reached_through_an_alias_nests_as_deep_as_the_naive_loops():
    finding = analyse(**DODGES["alias"])
    assert finding.depth == 2 and "line 7" in finding.where, finding.where
    recursion = analyse(**DODGES["recursion"])
    assert recursion.depth == 1 and recursion.where.startswith("recursion"), recursion.where


def test_a_call_inside_a_loop_adds_the_callee_depth():
    source = """
def window(x):
    for k in range(3):
        for l in range(3):
            x = x + 1
    return x

def conv_forward(x):
    for n in range(2):
        x = window(x)
    return x
"""
    assert analyse("conv.conv_forward", conv=source).depth == 3
    assert analyse("conv.window", conv=source).depth == 2


def test_vectorized_code_and_unrelated_loops_pass():
    source = NAIVE + """
def _helper(s):
    return s - s.max(axis=1, keepdims=True)

def svm_loss_vectorized(W, X, y, reg):
    s = _helper(X @ W)
    return float(s.sum()), X.T @ s
"""
    finding = analyse(linear=source)
    assert finding.depth == 0 and not finding.dynamic


def test_saving_with_pickle_or_a_simple_namespace_hides_no_code():
    source = """
import pickle
import types

def save_weights(W, path):
    with open(path, "wb") as f:
        pickle.dump(W, f)

def svm_loss_vectorized(W, X, y, reg):
    s = X @ W
    return float(s.sum()), types.SimpleNamespace(dW=X.T @ s).dW
"""
    finding = analyse(linear=source)
    assert finding.depth == 0 and not finding.dynamic


def test_reading_the_class_of_an_object_hides_no_code():
    """``self.__class__.__name__`` in a progress line elsewhere in the module is ``type(self)``;
    assigning ``__class__`` swaps an object's methods, which the analysis cannot follow."""
    progress = """
class LinearClassifier:
    def train(self, X):
        print(f"{self.__class__.__name__}: training")

def svm_loss_vectorized(W, X, y, reg):
    s = X @ W
    return float(s.sum()), X.T @ s
"""
    finding = analyse(linear=progress)
    assert finding.depth == 0 and not finding.dynamic
    swapped = progress.replace('print(f"{self.__class__.__name__}: training")',
                               "self.__class__ = object")
    assert "__class__" in analyse(linear=swapped).dynamic


def test_provided_helpers_do_not_count_their_own_loops():
    reference = {p.stem: p.read_text() for p in Path(REFERENCE_PACKAGE).glob("*.py")}
    provided = provided_fingerprints(reference)
    program = Program(reference, provided)
    for name in ("svm_loss_vectorized", "softmax_loss_vectorized"):
        assert program.analyse("linear", name).depth == 0, name
    for name in ("conv_forward", "conv_backward", "max_pool_forward", "avg_pool_backward"):
        assert program.analyse("conv", name).depth == 2, name
    assert program.analyse("conv", "conv_forward_naive").depth == 4
    # without the exemption, the loops of the provided xp_of and argument checks would count
    assert Program(reference, ()).analyse("linear", "svm_loss_vectorized").depth >= 1


def test_vectorized_reductions_are_not_loops():
    source = ("import numpy as np\nimport functools\n"
              "def f(x):\n    return np.logaddexp.reduce(x, axis=1) + np.add.accumulate(x)\n"
              "def g(x):\n    return functools.reduce(lambda a, b: a + b, x)\n")
    assert analyse("linear.f", linear=source).depth == 0
    assert analyse("linear.g", linear=source).depth == 1


def test_wrapping_the_previous_definition_is_not_recursion():
    source = """
def conv_forward(x):
    for k in range(3):
        for l in range(3):
            x = x + 1
    return x

_forward = conv_forward

def conv_forward(x):
    return _forward(x)
"""
    assert analyse("conv.conv_forward", conv=source).depth == 2


def test_the_analysis_of_code_made_to_be_slow_or_large_stops_and_fails_the_rule():
    """The analysis runs in the judge, unsandboxed: a module above MAX_MODULE_CHARS is not
    parsed, and thousands of bindings of one name each used thousands of times (quadratic work)
    stop after MAX_STEPS; both fail the rule as code the grader cannot see."""
    from autograder import rules

    big = "import numpy as np\n" + "X0 = 0\n" * (rules.MAX_MODULE_CHARS // 7 + 10)
    found = analyse(linear="from .helper import X0\n\ndef svm_loss_vectorized(W, X, y, reg):\n"
                           "    return 0.0, W\n", helper=big)
    assert found.dynamic.startswith("more code than the grader analyses (coursework/helper.py"), \
        found.dynamic
    n = 3000  # 3000 bindings x 3000 uses: 9 million steps
    quadratic = ("K = 0\n" * n + "\ndef svm_loss_vectorized(W, X, y, reg):\n    if False:\n"
                 + "".join(f"        K{i % 1} = K\n" for i in range(n)) + "    return 0.0, W\n")
    found = analyse(linear=quadratic)
    assert found.dynamic.startswith("more code paths than the grader follows (over "
                                    f"{rules.MAX_STEPS:,} steps"), found.dynamic
    # the reference's own functions take a hundredth of the steps at most
    assert analyse(linear=(REFERENCE_PACKAGE / "linear.py").read_text()).dynamic == ""
