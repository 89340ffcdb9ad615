"""How the worker is contained: the command line that starts it, per platform.

On Linux with a working bubblewrap (``bwrap``) the worker sees the file system read-only, a private
/tmp, no network, its own process namespace (everything it spawns dies with it), and none of the
paths the judge hides: the repository (solutions, hidden tests, known mistakes), the folder of all
submissions, the output folder. Elsewhere it runs as a plain process with the same resource limits,
and the report says so. Resource limits (memory, CPU, file size, processes) are set by the worker
on itself before any student code is imported (see ``worker_boot.py``); only the judge's wall
clock and a kill of the whole process group are enforced from outside.
"""

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

INSIDE_SUBMISSION = "/tmp/submission"
INSIDE_WORKER = "/tmp/worker"


@dataclass
class Limits:
    """Per-worker resource limits."""

    call_seconds: float = 10.0  # wall clock for one call (the judge kills the worker past it)
    cpu_seconds: float = 10.0  # CPU time for one call
    total_cpu_seconds: int = 600  # CPU time for the worker's whole life (hard limit)
    memory_mb: int = 2048  # address space
    file_mb: int = 16  # largest file the worker may write
    processes: int = 64  # more processes than the worker had at start (where enforceable)
    output_bytes: int = 64 * 1024  # captured stdout+stderr kept per worker


@dataclass
class Containment:
    """Which isolation is in force, in words for the report."""

    kind: str  # "bubblewrap" or "process-limits"
    note: str
    hidden: list = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def bubblewrap_path():
    """Path of a bwrap that actually works here, or None."""
    if not sys.platform.startswith("linux"):
        return None
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
             "--die-with-parent", "true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def describe(use_bwrap):
    if use_bwrap:
        return Containment(
            "bubblewrap",
            "bubblewrap: read-only file system, private /tmp, no network, own PID namespace, "
            "solutions/hidden tests/other submissions/output not visible; rlimits on memory, "
            "CPU, file size and processes",
        )
    reason = ("bubblewrap (bwrap) not found or not usable here"
              if sys.platform.startswith("linux") else f"no sandbox on {sys.platform}")
    return Containment(
        "process-limits",
        f"process limits only ({reason}): rlimits on memory, CPU, file size and processes, "
        "wall-clock timeouts and a process-group kill, but the worker can read files the "
        "grader's user can read and has network access. Install bubblewrap "
        "(apt-get install bubblewrap) for full containment.",
    )


def _existing_dirs(paths):
    out = []
    for p in paths:
        p = Path(p).resolve()
        if p.is_dir() and p not in out and p != Path("/"):
            out.append(p)
    return out


def _under(path, roots):
    path = Path(path).resolve()
    return any(path == r or r in path.parents for r in roots)


def worker_command(python, worker_dir, submission, site_dirs, request_fd, reply_fd, *,
                   hidden, use_bwrap):
    """The argv that starts the worker, and the submission path as the worker sees it."""
    submission = Path(submission).resolve()
    if not use_bwrap:
        argv = [python, "-I", "-S", "-B", str(Path(worker_dir) / "worker_boot.py"),
                str(request_fd), str(reply_fd), str(submission), *site_dirs]
        return argv
    hidden_dirs = _existing_dirs(hidden)
    argv = [bubblewrap_path(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp"]
    for d in hidden_dirs:
        argv += ["--tmpfs", str(d)]
    # Re-expose what the worker needs that a hidden folder covers: the interpreter's own tree
    # and the site-packages holding NumPy (a virtual environment inside the repository).
    needed = [Path(python).resolve().parent.parent, *map(Path, site_dirs)]
    for d in needed:
        if _under(d, hidden_dirs):
            argv += ["--ro-bind", str(d), str(d)]
    argv += [
        "--ro-bind", str(submission / "coursework"), f"{INSIDE_SUBMISSION}/coursework",
        "--ro-bind", str(worker_dir), INSIDE_WORKER,
        "--unshare-all", "--die-with-parent", "--new-session", "--chdir", "/tmp",
        python, "-I", "-S", "-B", f"{INSIDE_WORKER}/worker_boot.py",
        str(request_fd), str(reply_fd), INSIDE_SUBMISSION, *site_dirs,
    ]
    return argv


def worker_environment(limits):
    """A small, explicit environment: one BLAS thread, no user site, the limits to apply."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "GRADER_LIMITS": ",".join(str(int(v)) for v in (
            limits.total_cpu_seconds, limits.memory_mb, limits.file_mb, limits.processes)),
    }
    # Some processors need these for OpenBLAS to compute correctly; keep them if set.
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
