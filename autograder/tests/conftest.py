import os
import subprocess
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def built_release(tmp_path_factory):
    """The student release, built once per test process with the command line, as an
    instructor would (about three minutes): the tests of the xdist group "release" read it or
    grade copies of it, and its recorded data is what a release's grader answers from."""
    from autograder.paths import REPO_ROOT

    out = tmp_path_factory.mktemp("release") / "student-repo"
    result = subprocess.run([sys.executable, "-m", "autograder", "release", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return out
