"""First code of the worker: set resource limits on itself, then start ``worker.main``.

The limits come from the GRADER_LIMITS variable: total CPU seconds, memory MB, file MB, extra
processes. Soft and hard limits are set together, so the student code that runs afterwards cannot
raise them (inside bubblewrap no capability is left that could).
"""

import os
import resource
import sys


def _count_own_processes():
    uid = os.getuid()
    count = 0
    try:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}").st_uid == uid:
                        count += len(os.listdir(f"/proc/{entry}/task"))  # threads count too
                except OSError:
                    pass
    except OSError:
        return None
    return count


def apply_limits():
    cpu, memory_mb, file_mb, processes = (int(v) for v in os.environ["GRADER_LIMITS"].split(","))
    mb = 1024 * 1024
    wanted = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, file_mb * mb),
        (resource.RLIMIT_CORE, 0),
    ]
    if sys.platform.startswith("linux"):  # macOS ignores or rejects RLIMIT_AS
        wanted.append((resource.RLIMIT_AS, memory_mb * mb))
    if hasattr(resource, "RLIMIT_NPROC"):
        current = _count_own_processes()
        if current is not None:
            wanted.append((resource.RLIMIT_NPROC, current + processes))
    for which, value in wanted:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


if __name__ == "__main__":
    apply_limits()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import worker

    sys.exit(worker.main(sys.argv))
