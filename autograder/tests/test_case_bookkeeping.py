"""What every test of every unit tells the student, checked on the reference by running each
test twice: with the public cases only (what a release runs) and with the hidden cases too.

- A call of the student's code on a case the public run never made must happen on a case marked
  hidden: its label, inputs, the student's exception and printed output stay in the
  instructor's part of the report. (Cases built from hidden ones, ``Case(c.label + ", c0=None",
  ...)``, were once reported in full: the whole hidden input could be carried out in an
  exception message.)
- Every graded function whose student code a test calls is among what the function calls
  (``dependencies.calls``, followed through functions that pass): when that one fails too, the
  verdict says "it calls your ..., fix that first" (a backward's test gets its cache from the
  student's forward).
"""

import pytest

from autograder.dependencies import calls
from autograder.oracle import Oracle
from autograder.spec import CURRENT, Trial
from autograder.testing import FakeStudent
from autograder.units import UNITS, specs_of

# Instructor-only checks whose code (and so every input) ships in the release, graded without
# hidden inputs: their labels are public though only the instructor's grading runs them.
INSTRUCTOR_ONLY_PUBLIC = {
    "detectors.TinyYOLO": ", training",  # a few Adam steps must lower yolo_loss
}

# Tests with no hidden case, and why nothing can be looked up from the public ones.
NO_HIDDEN_CASES = {
    # predict against weights the judge draws; train against a probe loss whose every value
    # the judge recomputes from the student's own minibatches
    "linear.LinearClassifier",
    # statistics of samples and determinism given the rng, on models the judge builds
    "rnn.CharRNN.sample",
    # graded by contract on parameters and images the judge draws: nothing is recorded
    "detectors.TinyYOLO",
    "detectors.LocalizationNet",
}

GRADED = frozenset(k for unit in UNITS for spec in specs_of(unit) for k in spec.tests)


class Recorder(FakeStudent):
    """The reference as the student, noting at each call the case in progress and the target."""

    def __init__(self):
        super().__init__()
        self.cases, self.targets = [], set()
        self.on_new = lambda target, args, kwargs: None  # set by the Trial, as on a Student
        self.hidden_case = lambda: False

    def _invoke(self, func, args, kwargs, opaque):
        self.cases.append((str(CURRENT.label), bool(CURRENT.hidden)))
        return super()._invoke(func, args, kwargs, opaque)

    def call_full(self, target, *args, **kwargs):
        self.targets.add(target)
        return super().call_full(target, *args, **kwargs)

    def torch(self, name, *args, **kwargs):
        if name == "build" and args and isinstance(args[0], str):
            self.targets.add(args[0])
        return super().torch(name, *args, **kwargs)

    def new(self, target, *args, **kwargs):
        self.on_new(target, args, kwargs)
        return super().new(target, *args, **kwargs)


def _run(test, public_only):
    student = Recorder()
    CURRENT.reset()
    try:
        assert test.func(Trial(student, Oracle(), public_only=public_only)) is None
    finally:
        CURRENT.reset()
    return student


def _reached(key):
    """What ``key`` calls, directly or through other graded functions."""
    seen, todo = set(), [key]
    while todo:
        for callee in calls(todo.pop(), GRADED):
            if callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_calls_on_cases_the_public_run_never_made_are_hidden(unit):
    for spec in specs_of(unit):
        for key, test in spec.tests.items():
            public = {label for label, _ in _run(test, True).cases}
            full = _run(test, False).cases
            assert any(hidden for _, hidden in full) or key in NO_HIDDEN_CASES, (
                f"{key}: no hidden case at all")
            allowed = INSTRUCTOR_ONLY_PUBLIC.get(key)
            shown = sorted({label for label, hidden in full if not hidden
                            and label not in public
                            and not (allowed and label.endswith(allowed))})
            assert not shown, f"{key}: hidden inputs reported as public cases: {shown}"


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_graded_function_a_test_calls_is_a_dependency(unit):
    for spec in specs_of(unit):
        for key, test in spec.tests.items():
            used = {t for t in _run(test, True).targets if t in GRADED and t != key
                    and not key.startswith(t + ".") and not t.startswith(key + ".")}
            missing = sorted(used - _reached(key))
            assert not missing, (f"{key}'s test calls the student's {missing}, which "
                                 "dependencies.calls does not name")
