"""How the worker is contained: the command line that starts it, its limits, and how it is killed.

On Linux with a working bubblewrap (``bwrap``) the worker runs in a file system built from a short
list of read-only folders — the system (``/usr``), the interpreter's own tree, the packages its unit
allows (``Limits.packages``, see ``package_paths``), the worker's files and the staged copy of the
submission's ``coursework`` package (``staging.py``) — with a private, size-capped /tmp and
/dev/shm, no network, and its own PID namespace (everything it spawns dies with it). Where the
machine allows, each worker also has a control group of its own (``cgroup.py``: memory including
shared memory, processes, CPU share); every process a call starts is ended when the call returns
(``Jail``). Nothing else of the host is
visible: not the repository (solutions, hidden tests, known mistakes), not the other submissions,
not the output folder, not home folders. When the judge runs as root, the worker drops to a fresh
unprivileged user id of its own before any student code runs, so that it holds no capability, can
write nothing the host owns, and its process cap (RLIMIT_NPROC, which Linux does not enforce for
root) holds.

Elsewhere (macOS, Windows, Linux without bwrap) it runs as a plain process with the same resource
limits, a kill of its whole process tree, and the report says so once. Resource limits (memory,
CPU, file size, processes) are set by the worker on itself before any student code is imported
(see ``worker_boot.py``); the judge's wall clock and the kill are enforced from outside.
"""

import functools
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

INSIDE_SUBMISSION = "/tmp/submission"
INSIDE_WORKER = "/tmp/worker"
# Fresh user ids for workers when the judge runs as root: far above any real account, the
# subordinate ranges of rootless containers (100000-) and nobody (65534).
UID_RANGE = (1_800_000_000, 1_900_000_000)


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
    tmp_mb: int = 64  # size of the worker's private /tmp and of its /dev/shm (bubblewrap)
    tmp_inodes: int = 4096  # files and folders in each of them (bubblewrap, as root)
    cpus: float = 1.0  # CPUs the worker and all its processes may use together (cgroup)
    packages: tuple = ("numpy",)  # distributions the worker may import (units.unit_packages)
    cgroups: bool = True  # a control group per worker where the machine allows (cgroup.py)
    device: str = "cpu"  # "cpu" or "cuda" (device.resolve): cuda binds the GPU's device files
    torch_modules: tuple = ()  # on cuda: modules whose calls get CUDA tensors, not CuPy arrays


@dataclass
class Containment:
    """Which isolation is in force, in words for the report."""

    kind: str  # "bubblewrap" or "process-limits"
    note: str
    hidden: list = field(default_factory=list)


# -- bubblewrap --------------------------------------------------------------------------------
def _probe(path, extra):
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *extra,
             "--perms", "0755", "--dir", "/tmp/probe", "--unshare-pid", "--unshare-net",
             "--die-with-parent", "--new-session", "true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


@functools.lru_cache(maxsize=1)
def bubblewrap_features():
    """{'path': bwrap, 'size': whether --size works} for a bwrap that works here, or None."""
    if not sys.platform.startswith("linux"):
        return None
    path = shutil.which("bwrap")
    if not path:
        return None
    if _probe(path, ["--perms", "1777", "--size", str(1 << 20), "--tmpfs", "/tmp"]):
        return {"path": path, "size": True}
    if _probe(path, ["--perms", "1777", "--tmpfs", "/tmp"]):  # bubblewrap < 0.8: no --size
        return {"path": path, "size": False}
    return None


def bubblewrap_path():
    """Path of a bwrap that actually works here, or None."""
    features = bubblewrap_features()
    return features["path"] if features else None


# -- the separate user ---------------------------------------------------------------------------
def running_as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _reachable_by_others(path, *, directory):
    """True when a user who is neither owner nor group can reach ``path`` (read; list or run)."""
    path = Path(path).resolve()
    for parent in list(path.parents)[::-1]:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if directory or mode & stat.S_IXUSR else 0)
    return mode & need == need


def can_use_separate_user(use_bwrap, python, numpy_dirs):
    """Whether the worker can drop to a fresh unprivileged user: only when the judge is root;
    inside bubblewrap always (the sandbox makes every needed folder reachable), without it only
    when the interpreter, its library and NumPy are readable by other users."""
    if not running_as_root() or not sys.platform.startswith("linux"):
        return False
    if use_bwrap:
        return True
    import tempfile

    checks = [(python, False), (Path(os.__file__).parent, True), (tempfile.gettempdir(), True)]
    checks += [(d, True) for d in numpy_dirs]
    return all(_reachable_by_others(p, directory=d) for p, d in checks)


def fresh_uid():
    return random.SystemRandom().randrange(*UID_RANGE)


def _cgroup_words(cgroups):
    if not cgroups or not sys.platform.startswith("linux"):
        return None
    from . import cgroup

    return cgroup.describe()


def describe(use_bwrap, separate_user=False, cgroups=True):
    groups = _cgroup_words(cgroups)
    groups_note = (f"; {groups}" if groups else
                   "; no control group (rlimits per process only: children share nothing)")
    user = ("as a fresh unprivileged user id, " if separate_user else
            "as the grader's own user (root: its process cap is not enforced), "
            if running_as_root() else "")
    if use_bwrap:
        size = "" if (bubblewrap_features() or {}).get("size", True) else " (size not capped: " \
            "bubblewrap < 0.8)"
        return Containment(
            "bubblewrap",
            f"bubblewrap: {user}a read-only view of the system, Python and the packages the "
            "unit allows (NumPy; PyTorch where declared), a private "
            f"/tmp and /dev/shm{size}, no network, own PID namespace; solutions, hidden tests, "
            "other submissions and the output folder not visible; rlimits on memory, CPU, file "
            f"size and processes{groups_note}",
        )
    if not sys.platform.startswith("linux"):
        reason = f"no sandbox on {sys.platform}"
    elif bubblewrap_path():
        reason = "bubblewrap not used"
    else:
        reason = "bubblewrap (bwrap) not found or not usable here"
    return Containment(
        "process-limits",
        f"process limits only ({reason}): the worker runs {user or 'as the grader’s user, '}"
        "with rlimits on memory, CPU, file size and processes, wall-clock timeouts and a kill of "
        "its whole process tree, but it can read files that user can read, write where that "
        f"user can write, and reach the network{groups_note}. Install bubblewrap (apt-get "
        "install bubblewrap) for full containment.",
    )


# -- the command line ----------------------------------------------------------------------------
def numpy_dirs(site_dirs):
    """The folders the worker needs from the site folders: numpy and its bundled libraries."""
    out = []
    for site in site_dirs:
        for name in ("numpy", "numpy.libs"):
            p = Path(site) / name
            if p.is_dir():
                out.append(p.resolve())
    return out


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist):
    """Names of the distributions ``dist`` needs here (markers evaluated, extras left out)."""
    out = []
    for text in dist.requires or ():
        try:
            from packaging.requirements import Requirement

            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            out.append(req.name)
        except Exception:  # noqa: BLE001 - no packaging, or an odd line: plain parsing
            if "extra ==" in text or "extra==" in text:
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
            if match:
                out.append(match.group(1))
    return out


@functools.lru_cache(maxsize=32)
def package_paths(packages):
    """(entries, site folders) of the distributions ``packages`` and of everything they need:
    every top-level file or folder their installation wrote (the package, its bundled
    libraries such as ``numpy.libs``, companion packages such as ``torchgen``, the
    ``.dist-info``), found from their installed file lists. Nothing else of the site folders."""
    from importlib import metadata

    entries, sites, seen, todo = [], [], set(), list(packages)
    while todo:
        name = todo.pop(0)
        key = _canonical(name)
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        site = Path(dist.locate_file("")).resolve()
        tops = set()
        if dist.files is None:  # no RECORD (a distribution's own packaging): its top-level names
            names = (dist.read_text("top_level.txt") or "").split() or [key.replace("-", "_")]
            tops.update(n for n in names if (site / n).is_dir())
            tops.update(f"{n}.py" for n in names if (site / f"{n}.py").is_file())
        for f in dist.files or ():
            parts = Path(str(f)).parts
            if not parts or parts[0] in ("..", "/", "__pycache__") or parts[0].startswith(".") \
                    or parts[0].endswith(".pth") or parts[0].startswith("__editable__"):
                continue
            tops.add(parts[0])
        for top in sorted(tops):
            path = site / top
            if os.path.lexists(path) and path not in entries:
                entries.append(path)
        if site not in sites:
            sites.append(site)
        todo.extend(_requirements(dist))
    if not entries:  # no metadata (a vendored NumPy): the folders next to the module
        import numpy

        site = Path(numpy.__file__).resolve().parent.parent
        return tuple(numpy_dirs([site])), (site,)
    return tuple(entries), tuple(sites)


_VIEWS = {}


def package_view(packages):
    """A folder of links to just the entries of ``package_paths(packages)``: the worker's
    site folder without bubblewrap (made once per judge process, removed at exit)."""
    key = tuple(packages)
    if key in _VIEWS and os.path.isdir(_VIEWS[key]):
        return _VIEWS[key]
    import atexit

    from . import scratch

    entries, _ = package_paths(key)
    view = scratch.make("packages")
    for entry in entries:
        try:
            os.symlink(entry, os.path.join(view, entry.name))
        except FileExistsError:
            pass
    os.chmod(view, 0o755)
    atexit.register(scratch.remove, view)
    _VIEWS[key] = view
    return view


@functools.lru_cache(maxsize=1)
def installed_site_dirs():
    """Every site-packages/dist-packages folder of the system's and the base interpreter's
    installations (what ``-S`` leaves off sys.path but code could put back)."""
    prefixes = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, "/usr", "/usr/local"}
    found = set()
    for prefix in prefixes:
        for lib in ("lib", "lib64", "lib32"):
            base = Path(prefix) / lib
            for pattern in ("python3*/site-packages", "python3*/dist-packages"):
                try:
                    found.update(p.resolve() for p in base.glob(pattern) if p.is_dir())
                except OSError:
                    pass
    for key in ("purelib", "platlib"):
        try:
            path = Path(sysconfig.get_paths(vars={"base": sys.base_prefix,
                                                  "platbase": sys.base_exec_prefix})[key])
        except KeyError:
            continue
        if path.is_dir():
            found.add(path.resolve())
    return tuple(sorted(found, key=lambda p: len(p.parts)))


def _under(path, roots):
    path = Path(path)
    return any(path == r or r in path.parents for r in roots)


def _python_roots(python):
    """The interpreter (the file itself: a virtual environment made with --copies holds it next
    to site-packages, which must stay hidden) and its base installation with the standard
    library."""
    roots = [Path(python).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.base_exec_prefix).resolve(), Path(os.__file__).resolve().parent]
    for key in ("stdlib", "platstdlib"):
        try:
            roots.append(Path(sysconfig.get_paths(vars={"base": sys.base_prefix,
                                                         "platbase": sys.base_exec_prefix})[key])
                         .resolve())
        except (KeyError, OSError):
            pass
    return roots


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/alternatives")


def worker_command(python, worker_dir, submission, site_dirs, request_fd, reply_fd, *,
                   hidden, use_bwrap, tmp_mb=64, packages=None, device="cpu"):
    """The argv that starts the worker. ``submission`` is the folder holding the (staged)
    ``coursework`` package. ``packages``: the distributions the worker may import (with what
    they need); None keeps the older behaviour of NumPy from ``site_dirs``. ``device="cuda"``
    adds the NVIDIA device files and driver folders (``device.gpu_binds``), nothing more."""
    submission = Path(submission).resolve()
    entries = None
    if packages is not None:
        entries, sites = package_paths(tuple(packages))
        site_dirs = [str(s) for s in sites] if use_bwrap else [package_view(tuple(packages))]
    if not use_bwrap:
        return [python, "-I", "-S", "-B", str(Path(worker_dir) / "worker_boot.py"),
                str(request_fd), str(reply_fd), str(submission), *site_dirs]
    argv = filesystem_argv(python, entries if entries is not None else numpy_dirs(site_dirs),
                           hidden, tmp_mb)
    argv += ["--perms", "0755", "--dir", INSIDE_SUBMISSION,
             "--ro-bind", str(submission / "coursework"), f"{INSIDE_SUBMISSION}/coursework",
             "--ro-bind", str(worker_dir), INSIDE_WORKER]
    if device == "cuda":
        from .device import gpu_binds, gpu_device_files

        argv += gpu_binds(gpu_device_files())
    if running_as_root():
        # No user namespace: the worker drops to its own uid itself (worker_boot), which takes
        # every capability with it and makes RLIMIT_NPROC count.
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try"]
    else:
        argv += ["--unshare-all"]
    argv += ["--die-with-parent", "--new-session", "--chdir", "/tmp",
             python, "-I", "-S", "-B", f"{INSIDE_WORKER}/worker_boot.py",
             str(request_fd), str(reply_fd), INSIDE_SUBMISSION, *site_dirs]
    return argv


def filesystem_argv(python, entries, hidden=(), tmp_mb=64):
    """The start of a bubblewrap argv: a fresh /dev, /proc, a private size-capped /tmp and
    /dev/shm, the system and the interpreter read-only, and the package ``entries`` (files or
    folders of site-packages) read-only; the folders ``hidden`` stay invisible."""
    # The private /tmp comes first: folders bound below may lie under the host's /tmp (a clone
    # and its virtual environment in /tmp), and a tmpfs mounted after them would hide them.
    # /dev/shm (shared memory) is a tmpfs of the same bounded size, not the unbounded /dev.
    size = ["--size", str(int(tmp_mb) << 20)] if (bubblewrap_features() or {}).get("size") else []
    argv = [bubblewrap_path(), "--dev", "/dev", "--perms", "1777", *size, "--tmpfs", "/dev/shm",
            "--proc", "/proc", "--perms", "1777", *size, "--tmpfs", "/tmp"]
    roots = []  # folders bound read-only, in order

    def bind(path):
        path = Path(path)
        if path == Path("/") or _under(path, roots) or not path.exists():
            return
        for parent in list(path.parents)[::-1]:
            if parent != Path("/") and not _under(parent, roots) and parent not in made:
                argv.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)
        argv.extend(["--ro-bind", str(path), str(path)])
        roots.append(path)

    made = set()
    for d in SYSTEM_DIRS:
        p = Path(d)
        if p.is_symlink():
            argv.extend(["--symlink", os.readlink(p), d])
        elif p.is_dir():
            bind(p)
    for f in SYSTEM_FILES:
        if os.path.lexists(f) and not os.path.islink(f):
            bind(f)
    for root in sorted(set(_python_roots(python)), key=lambda p: len(p.parts)):
        bind(root)
    # The site folders of the system and of the base interpreter lie inside what is bound (/usr,
    # the interpreter's installation): an empty read-only tmpfs covers each, and the package
    # entries that live there are bound back on top of it.
    masked = [d for d in installed_site_dirs() if _under(d, roots) and d not in roots]
    for d in masked:
        argv.extend(["--perms", "0755", "--tmpfs", str(d)])
    for d in entries:
        d = Path(d)
        if any(m in d.parents for m in masked):
            argv.extend(["--ro-bind", str(d), str(d)])
        else:
            bind(d)
    for d in masked:
        argv.extend(["--remount-ro", str(d)])
    # Folders the judge hides that lie inside a bound folder (a grader installed under /usr).
    for h in sorted({Path(h).resolve() for h in hidden}, key=lambda p: len(p.parts)):
        if h != Path("/") and any(r in h.parents for r in roots):
            needed = [r for r in roots if h in r.parents or r == h]
            if not needed:
                argv.extend(["--tmpfs", str(h)])
    return argv


def forks(limits):
    """Whether the worker serves student code from forked children (``worker._fork_server``), so
    that a fresh process costs milliseconds: on Linux, on the CPU. CUDA does not survive a fork,
    and macOS forbids most of its system frameworks (NumPy's Accelerate BLAS among them) in a
    forked child: there a fresh process is a new worker (seconds)."""
    return limits.device != "cuda" and sys.platform.startswith("linux")


def worker_environment(limits, uid=None, use_bwrap=False):
    """A small, explicit environment: one BLAS thread, no user site, the limits to apply."""
    if uid:
        nproc = limits.processes  # a fresh user has no process yet
    else:
        current = count_user_tasks(os.getuid()) if hasattr(os, "getuid") else None
        nproc = 0 if current is None else current + limits.processes
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        # getpass.getuser() reads these before the password database, where a fresh user id has
        # no entry (PyTorch on CUDA asks, and a failed import half-registered its caches)
        "USER": "grader",
        "LOGNAME": "grader",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # what was printed before a crash reaches the judge
        "MPLBACKEND": "Agg",
        # torch.compile would spend half a minute compiling on a first call; graded code runs
        # eagerly (the same results)
        "TORCHDYNAMO_DISABLE": "1",
        # CUDA maps far more address space than it uses: on a GPU the address-space cap is off
        # (0) and the worker's control group, where there is one, bounds its memory.
        "GRADER_LIMITS": ",".join(str(int(v)) for v in (
            limits.total_cpu_seconds, 0 if limits.device == "cuda" else limits.memory_mb,
            limits.file_mb, nproc)),
    }
    if forks(limits):
        env["GRADER_FORK"] = "1"
    if use_bwrap:
        env["GRADER_PRIVATE_TMP"] = "1"  # /tmp and /dev/shm are the sandbox's own
    if limits.device == "cuda":
        env["GRADER_DEVICE"] = "cuda"
        env["GRADER_TORCH_MODULES"] = ",".join(limits.torch_modules)
        # Kernels compiled by CuPy go to the worker's private /tmp (bubblewrap); without it /tmp
        # is the host's, shared by workers of other user ids: a folder of the worker's own user
        # (a shared /tmp/cupy made by one worker's user refused the next one's writes).
        worker_uid = uid or (os.getuid() if hasattr(os, "getuid") else 0)
        env["CUPY_CACHE_DIR"] = "/tmp/cupy" if use_bwrap else f"/tmp/cupy-{int(worker_uid)}"
        for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "CUDA_PATH"):
            if key in os.environ:
                env[key] = os.environ[key]
    if uid:
        env["GRADER_UID"] = str(int(uid))
        if use_bwrap:  # still root inside: bound the file count of /tmp and /dev/shm too
            env["GRADER_TMPFS"] = f"{int(limits.tmp_mb)},{int(limits.tmp_inodes)}"
    # Some processors need these for OpenBLAS to compute correctly; keep them if set.
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


# -- processes -----------------------------------------------------------------------------------
def _proc_table():
    """{pid: (ppid, real uid)} of every process, from /proc (Linux); None elsewhere."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    table = {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                ppid = uid = None
                for line in f:
                    if line.startswith(b"PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith(b"Uid:"):
                        uid = int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue
        if ppid is not None and uid is not None:
            table[int(entry)] = (ppid, uid)
    return table


def count_user_tasks(uid):
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts), or None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    table = _proc_table()
    if table is None:
        return None
    count = 0
    for pid, (_, owner) in table.items():
        if owner == uid:
            try:
                count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return count


def _tree(table, root, uid):
    """``root``, its descendants, and every process of ``uid`` (None: no uid of its own)."""
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, ()))
    if uid:
        found.update(pid for pid, (_, owner) in table.items() if owner == uid)
    found.discard(os.getpid())
    return found


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_tree(root, uid=None):
    """Kill the worker ``root`` and everything it started, signals it ignores included.

    Where /proc exists, the whole tree is first frozen (SIGSTOP cannot be caught), so that nothing
    can fork or escape while it is collected — children that called setsid and left the process
    group included — and then killed. A worker with a user id of its own is also found by that id,
    which catches processes that double-forked away from the tree. Elsewhere the process group is
    killed.
    """
    try:
        os.killpg(root, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        pass
    frozen = set()
    for _ in range(20):
        table = _proc_table()
        if table is None:
            break
        pids = _tree(table, root, uid) - frozen
        if not pids:
            break
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        frozen |= pids
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid:  # anything of that user still alive (a fork caught between two scans)
        for _ in range(50):
            table = _proc_table() or {}
            left = [pid for pid, (_, owner) in table.items() if owner == uid]
            if not left:
                break
            for pid in left:
                _signal(pid, signal.SIGKILL)
            time.sleep(0.01)


# The places every user may write on a Linux host; without bubblewrap a worker's files land there.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(uid, folders=SHARED_WRITABLE, depth=1):
    """Remove what the user ``uid`` (a worker's fresh user id, owned by nothing else) left in the
    host's shared writable folders: their entries, and the entries of world-writable folders
    among them (one level down). Without bubblewrap these folders are the host's, so a file the
    code wrote while it ran hidden cases would still be there for a later public case (or a
    later worker) to read. Returns the number of entries removed."""
    if not uid:
        return 0
    removed = remove_ipc_of(uid) if folders == SHARED_WRITABLE else 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                removed += _remove(entry.path, info)
            elif depth and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
                removed += remove_files_of(uid, (entry.path,), depth - 1)
    return removed


def remove_ipc_of(uid):
    """Remove the System V shared memory segments, message queues and semaphore sets of the
    user ``uid`` from the host's IPC namespace (without bubblewrap the worker has no namespace
    of its own, and they outlive it). Returns how many were removed."""
    if not uid or not os.path.isdir("/proc/sysvipc"):
        return 0
    import ctypes

    from . import worker

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    removed = 0
    for kind, remove in (("shm", lambda i: libc.shmctl(i, 0, None)),
                         ("msg", lambda i: libc.msgctl(i, 0, None)),
                         ("sem", lambda i: libc.semctl(i, 0, 0))):
        for ident in worker._ipc_ids(kind, uid):
            removed += remove(ident) == 0
    return removed


def _remove(path, info):
    try:
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        return 1
    except OSError:
        return 0


def _children(pid):
    """Direct children of ``pid`` (all its threads), from /proc/PID/task/*/children; None where
    the kernel does not offer that file."""
    out = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.update(int(p) for p in f.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue
            return None
        except (OSError, ValueError):
            continue
    return out


def _running(pid):
    """True while ``pid`` exists and is not a zombie (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def state(pid):
    """The state letter of ``pid`` from /proc/PID/stat ("R", "S", "T" stopped, "Z" zombie...),
    or None when there is no such process (or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def parent(pid):
    """The parent of ``pid`` (/proc/PID/stat), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def serving_chain(root):
    """(trusted, serving): following ``root``'s only child down to the leaf, the processes above
    the leaf (bubblewrap, the fork server) and the leaf, the child that serves requests. Read at
    a worker's start, before any student code ran, when the tree is a single line; (set(), None)
    where it is not one (or there is no /proc)."""
    chain, pid = [], root
    for _ in range(16):
        chain.append(pid)
        kids = _children(pid)
        if not kids:
            break
        if len(kids) != 1:
            return set(), None
        pid = next(iter(kids))
    else:
        return set(), None
    if len(chain) < 2:
        return set(), None
    return set(chain[:-1]), chain[-1]


def descendants(root, most=4096):
    """``root`` and its descendants (bounded), cheaply from /proc children files; the full
    process table where those are missing; {root} outside Linux."""
    if not sys.platform.startswith("linux"):
        return {root}
    found, todo = set(), [root]
    while todo and len(found) < most:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        kids = _children(pid)
        if kids is None:
            table = _proc_table() or {}
            return _tree(table, root, None) | {root}
        todo.extend(kids)
    return found


class Jail:
    """What holds a worker's processes beyond its rlimits: its control group where the machine
    allows (``cgroup.WorkerGroup``: memory including shared memory, process count, CPU share, a
    kill nothing escapes), and the set of processes it had once started, so that every process
    a call leaves behind is ended when the call returns (``end_strays``)."""

    def __init__(self, limits):
        self.group = None
        if limits.cgroups and sys.platform.startswith("linux"):
            from . import cgroup

            self.group = cgroup.WorkerGroup.create(limits.memory_mb, limits.processes + 8,
                                                   limits.cpus)
        self.root = None
        self.keep = set()

    @property
    def preexec(self):
        return self.group.enter if self.group is not None else None

    def wrap(self, argv):
        """``argv`` started inside the group: a shell writes its own pid into the group and then
        executes ``argv`` (same pid), so the worker is in the group before it runs anything,
        without a preexec_fn (unsafe when the judge has threads, as under grade-many's progress
        bar)."""
        if self.group is None:
            return list(argv)
        import shlex

        files = " ".join(shlex.quote(f) for f in self.group.procs_files())
        script = f'for f in {files}; do {{ echo $$ > "$f"; }} 2>/dev/null; done; exec "$@"'
        return ["/bin/sh", "-c", script, "grader-enter", *argv]

    def live(self):
        if self.group is not None:
            return self.group.pids()
        return descendants(self.root) if self.root else set()

    def started(self, pid):
        """Record the worker's processes once it answered its first request."""
        self.root = pid
        self.keep = self.live()

    def end_strays(self):
        """Kill every process started since ``started`` (children a call left running, in any
        session or process group). Returns how many were found."""
        if self.root is None:
            return 0
        if self.group is not None:
            return self.group.kill_except(self.keep)
        strays = self.live() - self.keep
        for pid in strays:
            _signal(pid, signal.SIGSTOP)
        for pid in strays:
            kill_tree(pid)
        deadline = time.monotonic() + 2.0
        while any(_running(pid) for pid in strays) and time.monotonic() < deadline:
            time.sleep(0.002)
        return len(strays)

    def kill(self):
        if self.group is not None:
            self.group.kill()

    def close(self):
        if self.group is not None:
            self.group.kill()
            self.group.remove()
            self.group = None
