"""The suite's own plumbing: ``make test`` runs it on two workers with ``--dist loadgroup``, and
the tests of one ``xdist_group`` (the release, the nbgrader course, a unit's graded submissions)
must run on one worker, so that their module fixtures are built once instead of on each worker.
pytest 9 with pytest-xdist 3.8 spreads a group over the workers (pyproject pins pytest below 9)."""

import os
import subprocess
import sys
import textwrap

GROUPED = textwrap.dedent("""
    import os
    import pytest

    pytestmark = pytest.mark.xdist_group("together")

    @pytest.mark.parametrize("i", range(6))
    def test_worker(i):
        path = os.path.join(os.environ["GROUP_WORKERS"], f"{__name__}-{i}")
        with open(path, "w") as file:
            file.write(os.environ["PYTEST_XDIST_WORKER"])
""")


def test_one_group_runs_on_one_worker(tmp_path):
    (tmp_path / "workers").mkdir()
    for name in ("test_first.py", "test_second.py"):
        (tmp_path / name).write_text(GROUPED)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "GROUP_WORKERS": str(tmp_path / "workers")})
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {path.name: path.read_text() for path in (tmp_path / "workers").iterdir()}
    assert len(workers) == 12, workers
    assert len(set(workers.values())) == 1, (
        f"the group ran on several workers: {sorted(workers.items())}")
