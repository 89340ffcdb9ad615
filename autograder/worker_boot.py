"""First code of the worker: set resource limits on itself, drop to its own user, start ``worker``.

With GRADER_TMPFS set (inside bubblewrap, as root) the private /tmp and /dev/shm are first
remounted with a bound on their file count. The limits come from the GRADER_LIMITS variable: total
CPU seconds, memory MB, file MB, and the process cap (0: none). Soft and hard limits are set
together, so the student code that runs afterwards cannot raise them. When GRADER_UID is set (the
judge runs as root), the worker loads NumPy and its own modules and then becomes that fresh,
unprivileged user before any student code is imported: no capability is left, nothing the host
owns is writable, and the process cap holds (Linux does not enforce RLIMIT_NPROC for root). If the
switch fails, the worker refuses to run.
"""

import os
import resource
import sys


def apply_limits():
    cpu, memory_mb, file_mb, nproc = (int(v) for v in os.environ["GRADER_LIMITS"].split(","))
    mb = 1024 * 1024
    wanted = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, file_mb * mb),
        (resource.RLIMIT_CORE, 0),
    ]
    if sys.platform.startswith("linux") and memory_mb > 0:  # macOS ignores or rejects RLIMIT_AS
        wanted.append((resource.RLIMIT_AS, memory_mb * mb))
    if nproc > 0 and hasattr(resource, "RLIMIT_NPROC"):
        wanted.append((resource.RLIMIT_NPROC, nproc))
    if hasattr(resource, "RLIMIT_MSGQUEUE"):
        # no POSIX message queue: one outlives the process in the IPC namespace, unnamed in any
        # folder, and would carry what a hidden case saw to the next (fresh) child
        wanted.append((resource.RLIMIT_MSGQUEUE, 0))
    for which, value in wanted:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def adopt_orphans():
    """Make the worker the reaper of its orphaned descendants (Linux): a process that forks
    twice and leaves its session stays in the worker's tree, where the judge's kill finds it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def bound_tmpfs():
    """Inside bubblewrap, still root (GRADER_TMPFS set): remount the private /tmp and /dev/shm
    with a bound on their number of files as well as their size (bubblewrap sets the size only;
    a million empty files would otherwise pin kernel memory). Refuses to run if that fails."""
    spec = os.environ.get("GRADER_TMPFS")
    if not spec:
        return
    import ctypes

    size_mb, inodes = (int(v) for v in spec.split(","))
    libc = ctypes.CDLL(None, use_errno=True)
    ms_nosuid, ms_nodev, ms_remount = 2, 4, 32
    for target in (b"/tmp", b"/dev/shm"):
        options = f"size={size_mb}m,nr_inodes={inodes},mode=1777".encode()
        if libc.mount(b"tmpfs", target, b"tmpfs", ms_remount | ms_nosuid | ms_nodev,
                      options) != 0:
            errno = ctypes.get_errno()
            sys.stderr.write(f"grader worker: could not bound {target.decode()}: "
                             f"{os.strerror(errno)}\n")
            os._exit(70)


def drop_user():
    uid = int(os.environ.get("GRADER_UID") or 0)
    if not uid:
        return
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    except OSError as exc:
        sys.stderr.write(f"grader worker: could not switch to user {uid}: {exc}\n")
        os._exit(70)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
        sys.stderr.write("grader worker: the user switch did not take\n")
        os._exit(70)


if __name__ == "__main__":
    bound_tmpfs()
    apply_limits()
    adopt_orphans()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.extend(sys.argv[4:])
    import numpy  # noqa: F401  - loaded before the switch: the new user may not reach it all
    import wire  # noqa: F401
    import worker
    import worker_fns  # noqa: F401

    drop_user()
    worker.new_session_keyring()  # not the judge's: classmates graded by it share that one
    sys.exit(worker.main(sys.argv))
