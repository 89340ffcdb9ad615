"""``make test``: the public tests of your ``coursework``, one pytest item per graded function.

The functions are graded once, together, in a separate worker process (exactly as
``make grade`` and the ``check(...)`` cells of the notebooks do); each item below reports one
function's verdict, with the reason and a hint when it fails.
"""

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.units import available_units, specs_of

KEYS = [key for unit in available_units() for spec in specs_of(unit) for key in spec.tests]


@pytest.fixture(scope="session")
def report():
    result = engine.grade(REPO_ROOT, public_only=True)
    return {key: entry for unit in result["units"].values()
            for key, entry in unit["functions"].items()}


@pytest.mark.parametrize("key", KEYS)
def test_function(report, key):
    entry = report[key]
    if entry["status"] == "passed":
        return
    if entry["status"] == "not_implemented":
        pytest.fail(f"{key}: not implemented yet (replace the `raise NotImplementedError` in "
                    f"coursework/{key.split('.')[0]}.py)", pytrace=False)
    message = f"{key}: {entry['status']}: {entry['message']}"
    if entry.get("hint"):
        message += f"\nhint: {entry['hint']}"
    pytest.fail(message, pytrace=False)
