"""The PyTorch worker's checks cannot be fooled from student code, and one function's side
effects never reach another (``worker_guard``, ``torch_ops._fingerprint``, the settle between
functions): each hostile variant of ``hostile_torch_state`` is graded whole; the function that
hides a wrong side effect (and those that call it) lose their points, every other function keeps
its points."""

import pytest

from autograder import engine
from autograder.sandbox import Limits
from autograder.units import UNITS

from .hostile_torch_state import VARIANTS
from .submissions import make_submission

pytest.importorskip("torch")

LIMITS = Limits(call_seconds=20.0, cpu_seconds=20.0)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_hostile_state_gains_nothing_and_reaches_no_other_function(tmp_path, name):
    unit, _, edits, losing = VARIANTS[name]
    sub = make_submission(tmp_path, replace=edits)
    use_bwrap = None if "torch" in getattr(UNITS[unit], "packages", ()) else False
    report = engine.grade(sub, [unit], use_bwrap=use_bwrap, limits=LIMITS)
    functions = report["units"][unit]["functions"]
    lost = {k: (e["status"], e["message"]) for k, e in functions.items()
            if e["status"] != "passed" and k not in losing}
    assert not lost, lost
    for key in losing:
        assert functions[key]["status"] == "failed" and functions[key]["score"] == 0, \
            functions[key]


def test_set_num_threads_in_forward_is_kept_at_one_thread_and_noted(tmp_path):
    """LeNet5's forward asked PyTorch for 100 threads: OpenMP's threads beyond the worker's
    process cap crashed it ("SIGSEGV: a segmentation fault ... libgomp: Thread creation failed").
    The worker keeps one thread, grades the forward on its merits and says so in one line."""
    sub = make_submission(tmp_path, append={"architectures.py": '''
        _LeNet5 = LeNet5

        class LeNet5(_LeNet5):
            def forward(self, x):
                torch.set_num_threads(100)
                return super().forward(x)
    '''})
    report = engine.grade(sub, ["06"], keys={"architectures.LeNet5"})
    entry = report["units"]["06_architectures"]["functions"]["architectures.LeNet5"]
    assert entry["status"] == "passed", entry
    notes = [line for line in report.get("output", "").splitlines()
             if "torch.set_num_threads(100)" in line]
    assert len(notes) == 1, report.get("output")
    assert "stayed at 1" in notes[0] and "leave the thread count to PyTorch" in notes[0], notes
