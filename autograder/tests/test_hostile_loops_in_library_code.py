"""Per-example loops handed to library Python code, and arrays of Python objects however spelled.

In a function that must be vectorized, ``statistics.mean(per_example)`` (or ``pvariance``),
``heapq.nsmallest(N - 1, per_example)``, ``np.stack([*rows])``, ``np.vstack(list(dout))`` and
``np.split(out, N)`` go through the examples one at a time in the standard library's or NumPy's
own Python code: no line of student code runs per example, so the student line counts stayed
flat and these kept full marks. The worker now counts the lines run in library frames too
during a counted call (``worker.LineCounter.library_count``), and those counts must not grow
with the size either (``specs.loop_growth``): vectorized NumPy code runs as many library lines at
every size (every reference function the rule applies to is flat at every size: the unit
grading tests give the reference full marks).

An array of object dtype spelled where the loop rule cannot read it (``np.dtype(chr(79))``
given to ``np.fromiter`` or ``astype``) is caught at run time: every frame that returns during a
counted call (the student's and the library's) has its locals and value looked at for an array
whose dtype holds Python objects (``LineCounter.objects``).

Fair forms keep full marks: library Python code run a fixed number of times (``np.einsum(...,
optimize=True)``, ``np.take_along_axis``, ``np.linalg.norm``, ``statistics.mean`` of a few
numbers, ``np.stack`` of two arrays, ``sliding_window_view``, NumPy's functions ``np.sum``,
``np.mean``).

Still open (no Python frame, no object array: C-level per-item work over scalars): ``list.sort``
on a list of the per-example values, ``heapq.merge`` (``yield from`` an iterator in C), and an
object array that lives only as a temporary between C calls (``np.add.reduce(a * b)``). The
first two cost about as much as ``np.sort`` and pass the time-limit inputs; see
docs/grading-containment.md.
"""

import numpy as np
import pytest

from autograder import engine

from .submissions import make_submission

SOFTMAX = "linear.softmax_loss_vectorized"
BATCHNORM = "normalization.batchnorm_backward_alt"
POOL = "conv.max_pool_forward"
UNITS = {SOFTMAX: "01", POOL: "03", BATCHNORM: "04"}

LOSS = "    loss = -log_probs[rows, y].sum() / num_train + reg * (W * W).sum()\n"
DW = "    dW = X.T @ dscores / num_train + 2 * reg * W\n"
OUTER = "X[:, :, None] * dscores[:, None, :]"  # (N, D, C): one (D, C) outer product per example
REG = " + reg * (W * W).sum()\n"
POOL_CACHE = "    cache = (x, pool_size, stride, out)\n"
DBETA = "    dbeta = dout.sum(axis=0)\n"


def _linear(*pairs):
    return SOFTMAX, {"linear.py": list(pairs)}


LIBRARY_LOOPS = {  # name: (key, replace); each kept full marks before the library counts
    "statistics_mean_of_the_per_example_losses": _linear(
        (LOSS, "    import statistics\n"
               "    loss = -statistics.mean(log_probs[rows, y])" + REG)),
    "statistics_pvariance_of_the_per_example_losses": _linear(
        (LOSS, "    from statistics import pvariance\n"
               "    loss = -log_probs[rows, y].sum() / num_train"
               " + 0.0 * pvariance(log_probs[rows, y])" + REG)),
    "heapq_nsmallest_of_the_per_example_losses": _linear(
        (LOSS, "    import heapq\n    _p = log_probs[rows, y]\n"
               "    loss = -(np.sum(heapq.nsmallest(num_train - 1, _p)) + _p.max()) / num_train"
               + REG)),
    "np_stack_of_the_rows": _linear(
        (DW, f"    dW = np.stack([*({OUTER})]).sum(axis=0) / num_train + 2 * reg * W\n")),
    "np_vstack_of_the_examples_in_batchnorm": (
        BATCHNORM, {"normalization.py": [
            (DBETA, "    dbeta = np.vstack(list(dout)).sum(axis=0)\n")]}),
    "np_split_into_the_examples_in_pooling": (
        POOL, {"conv.py": [
            (POOL_CACHE, "    out = xp.concatenate(xp.split(out, out.shape[0]))\n"
                         + POOL_CACHE)]}),
}

OBJECT_ARRAYS = {  # name: (key, replace): the object dtype spelled at run time
    "fromiter_with_a_dtype_made_from_a_string": _linear(
        (DW, "    _o = np.dtype(chr(79))\n"
             "    _a = np.fromiter(X[:, :, None], _o, num_train)\n"
             "    _b = np.fromiter(dscores[:, None, :], _o, num_train)\n"
             "    dW = (_a * _b).sum() / num_train + 2 * reg * W\n")),
    "astype_a_dtype_made_from_a_string": _linear(
        (DW, f"    _o = np.dtype(chr(79))\n    _t = ({OUTER}).astype(_o)\n"
             "    dW = np.asarray(_t.sum(axis=0), float) / num_train + 2 * reg * W\n")),
}

FAIR = {  # name: (key, replace): library Python code run a fixed number of times
    "einsum_optimized_and_take_along_axis": _linear(
        (LOSS, "    _picked = np.take_along_axis(log_probs, y[:, None], axis=1)\n"
               "    loss = -np.sum(_picked) / num_train + reg * np.linalg.norm(W) ** 2\n"),
        (DW, "    dW = np.einsum('nd,nc->dc', X, dscores, optimize=True) / num_train"
             " + 2 * reg * W\n")),
    "statistics_of_a_few_numbers_and_a_stack_of_two": _linear(
        (LOSS, "    import statistics\n"
               "    _terms = np.stack([-log_probs[rows, y].mean(), reg * (W * W).sum()])\n"
               "    loss = 2 * statistics.mean([float(_terms[0]), float(_terms[1])])\n")),
    "numpy_functions_in_batchnorm": (
        BATCHNORM, {"normalization.py": [
            (DBETA, "    dbeta = np.mean(dout, axis=0) * N\n"),
            ("    dgamma = (dout * xhat).sum(axis=0)\n",
             "    dgamma = np.sum(dout * xhat, axis=0)\n")]}),
    "sliding_window_view_in_pooling": (
        POOL, {"conv.py": [
            (POOL_CACHE,
             "    _win = xp.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), "
             "axis=(2, 3))\n"
             "    out = _win[:, :, ::stride, ::stride][:, :, :H_out, :W_out].max(axis=(-2, -1))\n"
             + POOL_CACHE)]}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = {}
    for name, (key, replace) in {**LIBRARY_LOOPS, **OBJECT_ARRAYS, **FAIR}.items():
        sub = make_submission(tmp_path_factory.mktemp(name), replace=replace)
        report = engine.grade(sub, [UNITS[key]], keys={key})
        out[name] = {k: v for u in report["units"].values()
                     for k, v in u["functions"].items()}[key]
    return out


@pytest.mark.parametrize("name", sorted(LIBRARY_LOOPS))
def test_a_loop_over_the_examples_in_library_code_scores_nothing(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    message = entry["message"]
    assert "hands a loop over examples to library code" in message, message
    assert "lines, more as the size grows" in message, message
    assert "statistics" in (entry["hint"] or ""), entry


@pytest.mark.parametrize("name", sorted(OBJECT_ARRAYS))
def test_an_object_array_seen_at_run_time_scores_nothing(graded, name):
    entry = graded[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "holds an array of Python objects (dtype object" in entry["message"], entry
    assert "calls NumPy once per element" in entry["message"], entry


@pytest.mark.parametrize("name", sorted(FAIR))
def test_library_code_run_a_fixed_number_of_times_keeps_full_marks(graded, name):
    entry = graded[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"] > 0, entry


def test_the_hostile_forms_compute_the_right_values():
    """Only the loop is wrong with them: the values are the reference's."""
    import heapq
    import statistics

    rng = np.random.default_rng(0)
    X, d = rng.standard_normal((7, 3)), rng.standard_normal((7, 4))
    p = rng.standard_normal(7)
    outer = X[:, :, None] * d[:, None, :]
    np.testing.assert_allclose(statistics.mean(p), p.mean())
    np.testing.assert_allclose(np.sum(heapq.nsmallest(6, p)) + p.max(), p.sum())
    np.testing.assert_allclose(np.stack([*outer]).sum(axis=0), X.T @ d)
    np.testing.assert_allclose(np.vstack(list(X)).sum(axis=0), X.sum(axis=0))
    obj = np.dtype(chr(79))
    a, b = np.fromiter(X[:, :, None], obj, 7), np.fromiter(d[:, None, :], obj, 7)
    assert a.dtype == object
    np.testing.assert_allclose((a * b).sum(), X.T @ d)


def test_the_worker_counts_library_lines_and_sees_object_arrays(tmp_path):
    """In the counter itself: vectorized NumPy runs as many library lines for 2 and 200
    examples, statistics.mean more; an object array is noted wherever it was held."""
    import statistics
    import sys

    from autograder.worker import LineCounter

    counter = LineCounter(str(tmp_path), library=[p for p in sys.path if p])
    counter._array = (np.ndarray, np.ndarray.__dict__["dtype"])

    def run(function, n):
        x = np.arange(float(n))
        counter.start()
        function(x)
        assert counter.stop() == 0  # no code of tmp_path ran
        return counter.library_count, counter.objects

    vectorized = [run(lambda x: np.mean(np.stack([x, x]), axis=0), n)[0] for n in (2, 200)]
    assert vectorized[0] == vectorized[1] > 0, vectorized
    per_item = [run(statistics.mean, n)[0] for n in (2, 200)]
    assert per_item[1] > per_item[0] + 200, per_item
    assert run(lambda x: np.sum(x.astype(np.dtype(chr(79)))), 3)[1] is not None
    assert run(lambda x: np.sum(x.astype(float)), 3)[1] is None
