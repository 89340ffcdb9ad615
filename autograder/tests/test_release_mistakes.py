"""A student release judges every known mistake as the instructor's grader does on public cases.

A release has no reference code: its grader answers from the outputs recorded while the
reference passed its public tests (``release.record``), known mistakes' outputs included. A check
that asks the reference for something only when an answer is wrong (a hint computed outside
``compare``, the reference at another threshold) finds nothing recorded there, and grading stops
with "the release's recorded data is out of date". Here every known mistake of every graded
function is judged twice, in process, on public cases: with the live reference and with the
recorded data; both must give the same message and hint, and the recorded data must hold every
answer the judge asks for. A mistake that raises is judged by its error and the hint the known
mistakes that raise the same error give (recorded as ``raised``).
"""

import pytest

from autograder.compare import Failed
from autograder.oracle import Oracle, load_recorded
from autograder.runner import StudentError
from autograder.spec import Trial
from autograder.testing import mistaken_student
from autograder.units import UNITS, available_units, specs_of

pytestmark = pytest.mark.xdist_group("release")

TESTS = {key: test for unit in available_units() for spec in specs_of(unit)
         for key, test in spec.tests.items()}
MISTAKES = [(key, description, func)
            for key in TESTS for description, func in Oracle().known_mistakes(key)]


@pytest.fixture(scope="module")
def recorded(built_release):
    # the data ``release.record`` wrote into the release (conftest builds it once per process)
    directory = built_release / "autograder" / "recorded"
    modules = [m for unit in available_units() for m in UNITS[unit][1]]
    return load_recorded(modules, directory)


def public_verdict(key, student, oracle):
    """(message, hint) of the public cases of ``key``'s test, or None when they pass."""
    try:
        TESTS[key].func(Trial(student, oracle, public_only=True))
    except (Failed, StudentError) as failure:  # a mistake that raises: the error and its hint
        return failure.message, failure.hint
    return None


@pytest.mark.parametrize("key,description,func", MISTAKES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(MISTAKES)])
def test_a_release_judges_a_known_mistake_as_the_instructor_does(recorded, key, description,
                                                                 func):
    live = public_verdict(key, mistaken_student(key, func), Oracle())
    in_release = public_verdict(key, mistaken_student(key, func), Oracle(recorded=recorded))
    assert in_release == live
