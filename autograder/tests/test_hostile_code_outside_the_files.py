"""A "vectorized" function whose loop over the examples runs from code that
is not in the hand-in's files still loses its points.

Before this round the loop rules saw only the package's source (``rules``) and counted only lines
of files under the submission's folder (``worker.LineCounter``): a loop compiled from a string by
``timeit.timeit`` (an ``exec`` the static rule did not name), a module the code wrote to /tmp and
imported through ``from sys import path``, or a string run by ``ctypes.pythonapi`` passed
``softmax_loss_vectorized`` with full points."""

import dataclasses
import os

import numpy as np

from autograder import engine, worker
from autograder.worker import LineCounter

from .submissions import graded_to_zero, make_submission

# a loop over the examples, as a string of code
LOOP = '''
def _loop(W, X, y, reg):
    dW = W * 0.0
    loss = 0.0
    for i in range(X.shape[0]):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss += -np.log(p[y[i]])
        p[y[i]] -= 1.0
        dW += np.outer(X[i], p)
    n = X.shape[0]
    return float(loss / n + reg * (W * W).sum()), dW / n + 2 * reg * W
'''
VECTORIZED = "def softmax_loss_vectorized(W, X, y, reg):\n    return {call}(W, X, y, reg)\n"
KEY = "linear.softmax_loss_vectorized"


def _graded(tmp_path, code):
    return make_submission(tmp_path, append={"linear.py": code})


def test_a_loop_run_by_timeit_is_code_the_grader_cannot_see(tmp_path):
    code = ("import timeit\n_NS = {'np': np}\n"
            f"timeit.timeit('global _loop\\n' + {LOOP!r}, number=1, globals=_NS)\n"
            + VECTORIZED.format(call="_NS['_loop']"))
    graded_to_zero(_graded(tmp_path, code), "01_linear", KEY,
                   "the grader cannot see which code runs", statuses=("failed",))


def test_a_loop_imported_from_a_file_written_to_tmp_is_code_the_grader_cannot_see(tmp_path):
    code = ("from sys import path as _p\n"
            "with open('/tmp/_r25_loop.py', 'w') as _fh:\n"
            f"    _fh.write('import numpy as np\\n' + {LOOP!r})\n"
            "_p.insert(0, '/tmp')\nimport _r25_loop\n"
            + VECTORIZED.format(call="_r25_loop._loop"))
    graded_to_zero(_graded(tmp_path, code), "01_linear", KEY, "from sys import path",
                   statuses=("failed",))


def test_a_loop_run_through_ctypes_counts_as_the_submission_s_lines(tmp_path):
    """ctypes is not named by the static rule (the hostile corpus uses it for honest-looking
    system calls); now its ``pythonapi`` and the C API's names are (a per-element
    ``map`` inside the string ran one counted line: test_hostile_strings_run_as_code), so this
    loop is now refused statically; that its lines, compiled as "<string>", are counted and
    grow with N is kept by test_the_line_counter_counts_code_from_outside_the_library."""
    code = ("import ctypes\n"
            "ctypes.pythonapi.PyRun_SimpleString(('import sys, numpy as np\\n' + "
            f"{LOOP!r} + '\\nsys.modules[\"numpy\"]._r25_loop = _loop\\n').encode())\n"
            + VECTORIZED.format(call="np._r25_loop"))
    graded_to_zero(_graded(tmp_path, code), "01_linear", KEY, "the interpreter's C API",
                   statuses=("failed",))


def test_the_line_counter_counts_code_from_outside_the_library():
    """In process: a function compiled from a string runs lines that count; one of the library
    (NumPy's, the standard library's, frozen modules') does not."""
    namespace = {"np": np}
    exec(compile(LOOP, "<string>", "exec"), namespace)  # noqa: S102 - the test's own code
    # as in the worker: the standard library, the packages, the worker's own files (stop())
    library = [os.path.dirname(os.__file__), os.path.dirname(os.path.dirname(np.__file__)),
               os.path.dirname(worker.__file__)]
    rng = np.random.default_rng(0)
    counts = []
    for n in (2, 20):
        X, W, y = rng.standard_normal((n, 3)), rng.standard_normal((3, 4)), np.arange(n) % 4
        counter = LineCounter("/nonexistent-submission", library=library)
        counter.start()
        try:
            namespace["_loop"](W, X, y, 0.1)
            np.sort(X, axis=0).max()
            os.path.join("a", "b")
        finally:
            counts.append(counter.stop())
    assert counts[1] > counts[0] > 0, counts
    counter = LineCounter("/nonexistent-submission", library=library)  # library code only
    counter.start()
    try:
        np.sort(rng.standard_normal(50)).max()
        os.path.join("a", "b")
    finally:
        assert counter.stop() == 0
    counter = LineCounter("/nonexistent-submission")  # without library: the folders only
    counter.start()
    try:
        namespace["_loop"](W, X, y, 0.1)
    finally:
        assert counter.stop() == 0


def test_honest_vectorized_code_using_a_dataclass_still_passes(tmp_path):
    """A dataclass's generated __init__ is compiled from a string ("<string>") too: its lines
    count, once per call, and do not grow with N."""
    assert dataclasses.dataclass(type("A", (), {"__annotations__": {"x": int}})) \
        .__init__.__code__.co_filename == "<string>"  # what makes this test meaningful
    code = '''
import dataclasses as _dataclasses


@_dataclasses.dataclass
class _Parts:
    loss: float
    dW: object


_vectorized = softmax_loss_vectorized


def softmax_loss_vectorized(W, X, y, reg):
    parts = _Parts(*_vectorized(W, X, y, reg))
    return parts.loss, parts.dW
'''
    report = engine.grade(_graded(tmp_path, code), ["01"], keys={KEY})
    entry = report["units"]["01_linear"]["functions"][KEY]
    assert entry["status"] == "passed", entry
