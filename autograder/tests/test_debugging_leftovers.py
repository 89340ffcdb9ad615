"""What a student leaves behind from debugging costs only what it breaks.

A plain ``import pdb`` (or ``doctest``, ``cProfile``, ``profile``) at the top of a module runs no
code: the functions the loop rule checks keep their points. Any use of those modules in the
package is still code the grader cannot see (a debugger runs the commands it reads as code), and
a ``breakpoint()`` left in a function fails that function with a message that says why.
"""

import textwrap

import pytest

from autograder import engine
from autograder.rules import Program
from autograder.tests.submissions import make_submission

UNIT = "01"
FUNCTIONS = "01_linear"
VECTORIZED = ("linear.svm_loss_vectorized", "linear.softmax_loss_vectorized")
TOP = "from .backend"  # the first import line of the reference's linear.py


def first_solution_line(text, line):
    """``text`` with ``line`` put at the start of its first solution region."""
    marker = "    # BEGIN SOLUTION\n"
    return text.replace(marker, marker + line, 1)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("debugging")
    subs = {
        "import_pdb": make_submission(root, name="import_pdb", replace={
            "linear.py": [(TOP, "import pdb\nimport cProfile, doctest\n" + TOP)]}),
        "uses_pdb": make_submission(root, name="uses_pdb", replace={
            "linear.py": [(TOP, "import pdb\n" + TOP)]}),
        "breakpoint": make_submission(root, name="breakpoint"),
    }
    for name, line in (("uses_pdb", "    pdb.set_trace()\n"), ("breakpoint", "    breakpoint()\n")):
        path = subs[name] / "coursework" / "linear.py"
        path.write_text(first_solution_line(path.read_text(), line))
    return {name: engine.grade(sub, [UNIT])["units"][FUNCTIONS]["functions"]
            for name, sub in subs.items()}


def test_an_import_left_from_debugging_costs_nothing(graded):
    lost = {k: v["message"] for k, v in graded["import_pdb"].items() if v["score"] < v["max"]}
    assert lost == {}


def test_a_debugger_called_in_the_package_is_code_the_grader_cannot_see(graded):
    for key in VECTORIZED:
        entry = graded["uses_pdb"][key]
        assert entry["score"] == 0, entry
        assert "the grader cannot see which code runs" in entry["message"], entry
        assert "pdb" in entry["message"], entry


def test_a_breakpoint_fails_only_its_function_and_says_why(graded):
    report = graded["breakpoint"]
    lost = {k for k, v in report.items() if v["score"] < v["max"]}
    assert len(lost) == 1, lost
    entry = report[lost.pop()]
    assert entry["status"] == "error"
    assert "breakpoint() stops in a debugger" in entry["message"], entry


def analyse(source, name="f"):
    return Program({"linear": textwrap.dedent(source)}, ()).analyse("linear", name)


@pytest.mark.parametrize("source", [
    "import pdb\nimport numpy as np\ndef f(x):\n    return np.sum(x)\n",
    "import doctest, cProfile, profile\ndef f(x):\n    return x\n",
    "def f(x):\n    import pdb\n    return x\n",
])
def test_the_plain_import_is_not_refused(source):
    assert not analyse(source).dynamic, source


@pytest.mark.parametrize("source", [
    "import pdb\ndef f(x):\n    pdb.set_trace()\n    return x\n",
    "from pdb import set_trace\ndef f(x):\n    return x\n",
    "import pdb as p\ndef f(x):\n    return x\n",
    "import pdb, importlib\ndef f(x):\n    return x\n",
    "import cProfile\ndef f(x):\n    return cProfile.runctx('x', {}, {})\n",
    "import doctest\ndef f(x):\n    return doctest.testmod()\n",
    "import bdb\ndef f(x):\n    return x\n",
    "import profile\ndef f(x, g=profile):\n    return g\n",
])
def test_any_use_of_those_modules_is_still_refused(source):
    assert analyse(source).dynamic, source
