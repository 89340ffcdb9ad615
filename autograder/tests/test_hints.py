"""Every known mistake of every graded function is recognised and named in the verdict.

For each registered mistake, a fake student whose function is replaced by the mistaken variant is
graded by that function's real test: it must fail, and the hint must be that mistake's description.
The reference itself must pass every test.
"""

import pytest

from autograder.oracle import Oracle
from autograder.testing import FakeStudent, mistaken_student, run_spec_test
from autograder.units import available_units, specs_of

KEYS = [key for unit in available_units() for spec in specs_of(unit) for key in spec.tests]
MISTAKES = [(key, description, func)
            for key in KEYS for description, func in Oracle().known_mistakes(key)]


@pytest.mark.parametrize("key", KEYS)
def test_reference_passes(key):
    assert run_spec_test(key, FakeStudent()) is None


@pytest.mark.parametrize("key,description,func", MISTAKES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(MISTAKES)])
def test_mistake_is_recognised(key, description, func):
    failure = run_spec_test(key, mistaken_student(key, func))
    assert failure is not None, f"{key}: the mistake '{description}' passed the tests"
    assert failure.hint == description, (
        f"{key}: expected the hint '{description}', got '{failure.hint}' "
        f"(message: {failure.message})")


def test_every_backward_and_loss_has_three_mistakes():
    oracle = Oracle()
    names = ("loss", "backward")
    for key in KEYS:
        if any(n in key for n in names):
            assert len(oracle.known_mistakes(key)) >= 3, f"{key} has fewer than 3 known mistakes"
