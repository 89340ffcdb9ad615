"""Tasks for the Dask tests: ``cluster.grade_archive`` behind a worker that dies on cue.

They live in a module of their own so that Dask's workers import them by name.
"""

import os
import signal
from pathlib import Path

from autograder.cluster import grade_archive

KILL_ALWAYS = b"coursework/KILL_ALWAYS"  # a file of that name in the submission
KILL_ONCE = b"coursework/KILL_ONCE"
MARKERS = "GRADER_TEST_KILL_MARKERS"  # a folder: one file per worker killed by KILL_ONCE


def _die():
    os.kill(os.getpid(), signal.SIGKILL)  # the whole worker process, in the middle of its task


def dying_task(data, units, limits):
    """Grade as the cluster does, except: a submission holding ``KILL_ALWAYS`` kills every worker
    it runs on; one holding ``KILL_ONCE`` kills the first worker it runs on (recorded in the
    ``$GRADER_TEST_KILL_MARKERS`` folder)."""
    if KILL_ALWAYS in data:
        _die()
    if KILL_ONCE in data:
        marker = Path(os.environ[MARKERS]) / "killed-once"
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            pass
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            _die()
    return grade_archive(data, units, limits)


def slow_task(data, units, limits):
    """Grade, then wait a second, so that an interruption lands in the middle of a batch."""
    import time

    result = grade_archive(data, units, limits)
    time.sleep(1.0)
    return result


def grade_one_or_die(student_dir, out_dir, units, limits, hidden, reason=None):
    """A stand-in for ``grade_many.grade_one`` in a pool process: a student named "killer" kills
    the process grading it (as the out-of-memory killer would); the others get 1 point."""
    from autograder.grade_many import write_reports

    name = Path(student_dir).name
    if name == "killer":
        _die()
    result = {"submission": str(student_dir), "total": 1.0, "max": 1.0,
              "units": {unit: {"score": 1.0, "max": 1.0, "functions": {}} for unit in units}}
    return name, write_reports(out_dir, name, result)
