"""Kernel control groups for workers (Linux): memory, processes and CPU share per worker, and a kill
that nothing inside can escape.

Each worker gets a group of its own, made below the judge's own group in every hierarchy the
machine lets it write (so limits that the machine puts on the judge still hold):

* cgroup v2 (one unified hierarchy, controllers enabled for the judge's group's children):
  ``memory.max`` (with ``memory.swap.max`` 0; shared memory and tmpfs pages, /dev/shm included,
  and the kernel memory of inodes are charged to the group), ``pids.max``, ``cpu.max`` (at most
  ``Limits.cpus`` CPUs) and the default ``cpu.weight`` (every worker the same share, however many
  processes it runs), and ``cgroup.kill``;
* cgroup v1 (a hierarchy per controller, as on hosts with the "hybrid" layout): ``memory``
  (``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes`` where swap is accounted),
  ``pids`` (``pids.max``), ``cpu`` (``cpu.shares`` and ``cpu.cfs_quota_us``) and ``freezer``
  (the group is frozen before it is killed), plus the unified hierarchy's ``cgroup.kill`` where it
  is mounted beside them.

The worker enters its group before it executes anything (``enter`` runs in the child between fork
and exec), so everything it ever starts is in the group, whatever session or process group it
moves to. Where no hierarchy is writable (not root, no delegation), ``WorkerGroup.create`` returns
None and the worker relies on rlimits and the process-tree kill (see ``sandbox.py``).
"""

import functools
import os
import signal
import time
import uuid
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")
PREFIX = "autograder-"


def _read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


@functools.lru_cache(maxsize=1)
def layout():
    """{'v2': folder or None, 'v2_controllers': set, 'v1': {controller: folder}} of the judge's
    own groups that it may create children in; None where there is nothing usable."""
    if not os.path.isdir("/sys/fs/cgroup") or not os.access("/sys/fs/cgroup", os.R_OK):
        return None
    own = {}
    for line in _read("/proc/self/cgroup").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            own[parts[1]] = parts[2]
    mounts = []
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        root, point, fstype, options = fields[3], fields[4], rest[0], rest[2]
        if fstype in ("cgroup", "cgroup2") and root == "/":
            mounts.append((fstype, point, set(options.split(","))))
    out = {"v2": None, "v2_controllers": set(), "v1": {}}
    for fstype, point, options in mounts:
        if fstype == "cgroup2" and "" in own and out["v2"] is None:
            base = Path(point + own[""].rstrip("/"))
            if os.access(base, os.W_OK):
                out["v2"] = base
                available = set(_read(base / "cgroup.controllers").split())
                enabled = set(_read(base / "cgroup.subtree_control").split())
                wanted = [c for c in CONTROLLERS if c in available and c not in enabled]
                for c in wanted:
                    try:
                        _write(base / "cgroup.subtree_control", f"+{c}")
                    except OSError:
                        pass  # the group holds processes (not the root, not delegated)
                out["v2_controllers"] = set(_read(base / "cgroup.subtree_control").split()) \
                    & set(CONTROLLERS)
        elif fstype == "cgroup":
            for controller in ("memory", "pids", "cpu", "freezer"):
                if controller in options and controller in own:
                    base = Path(point + own[controller].rstrip("/"))
                    if os.access(base, os.W_OK) and controller not in out["v1"]:
                        out["v1"][controller] = base
    # a controller is used from one hierarchy only (v2 where enabled there)
    for c in out["v2_controllers"]:
        out["v1"].pop(c, None)
    if out["v2"] is None and not out["v1"]:
        return None
    for base in [out["v2"], *out["v1"].values()]:
        if base is not None:
            _remove_stale(base)
    return out


def _remove_stale(base):
    """Remove the empty groups left by judges that were killed (their pid is in the name)."""
    try:
        entries = [e.name for e in os.scandir(base) if e.name.startswith(PREFIX)]
    except OSError:
        return
    for name in entries[:1000]:
        try:
            pid = int(name[len(PREFIX):].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.rmdir(base / name)
            except OSError:
                pass  # not empty: its processes are still being killed, or it is in use
        except (ValueError, PermissionError):
            continue


def describe():
    """The controls in force, in words (None without any)."""
    found = layout()
    if not found:
        return None
    controls = sorted(found["v2_controllers"] | set(found["v1"]) - {"freezer"})
    kinds = []
    if found["v2"] is not None:
        kinds.append("v2")
    if found["v1"]:
        kinds.append("v1")
    if not controls:
        return f"cgroup ({'+'.join(kinds)}): kill of the whole group only"
    return f"cgroup ({'+'.join(kinds)}): {', '.join(controls)} per worker"


class WorkerGroup:
    """The groups of one worker. Create with ``create``; ``enter`` in the child before exec."""

    def __init__(self, dirs, v2, cpus=None):
        self.dirs = dirs  # controller (or 'unified') -> folder
        self.v2 = v2
        self.cpus = cpus
        self._procs_files = [str(d / "cgroup.procs") for d in dirs.values()]
        self._procs_fd = None  # opened on the first read of the process list (pids)

    @classmethod
    def create(cls, memory_mb, processes, cpus):
        found = layout()
        if not found:
            return None
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        dirs = {}
        try:
            if found["v2"] is not None:
                d = found["v2"] / name
                d.mkdir()
                dirs["unified"] = d
                controllers = found["v2_controllers"]
                if "memory" in controllers:
                    _write(d / "memory.max", memory_mb << 20)
                    _try_write(d / "memory.swap.max", 0)
                if "pids" in controllers:
                    _write(d / "pids.max", processes)
                if "cpu" in controllers and cpus:
                    _write(d / "cpu.max", f"{int(cpus * 100000)} 100000")
            for controller, base in found["v1"].items():
                d = base / name
                d.mkdir()
                dirs[controller] = d
                if controller == "memory":
                    _write(d / "memory.limit_in_bytes", memory_mb << 20)
                    _try_write(d / "memory.memsw.limit_in_bytes", memory_mb << 20)
                elif controller == "pids":
                    _write(d / "pids.max", processes)
                elif controller == "cpu" and cpus:
                    _try_write(d / "cpu.cfs_period_us", 100000)
                    _try_write(d / "cpu.cfs_quota_us", int(cpus * 100000))
        except OSError:
            cls(dirs, found["v2"] is not None).remove()
            return None
        return cls(dirs, found["v2"] is not None, cpus)

    def procs_files(self):
        return list(self._procs_files)

    def enter(self):
        """Move the calling process into every group (runs in the child, before exec)."""
        pid = str(os.getpid())
        for path in self._procs_files:
            try:
                with open(path, "w") as f:
                    f.write(pid)
            except OSError:
                pass  # the rlimits and the process-tree kill still hold

    def pids(self):
        """Every process in the group (read after every call: through a descriptor kept
        open, re-read from offset 0, which cgroupfs regenerates)."""
        if not self._procs_files:
            return set()
        if self._procs_fd is None:
            try:
                self._procs_fd = os.open(self._procs_files[0], os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._procs_fd = -1
        if self._procs_fd < 0:
            text = _read(self._procs_files[0])
        else:
            try:
                text = os.pread(self._procs_fd, 1 << 20, 0).decode("ascii", "replace")
            except OSError:
                text = _read(self._procs_files[0])
        return {int(p) for p in text.split() if p.isdigit()}

    def _close_procs_fd(self):
        fd, self._procs_fd = self._procs_fd, None
        if fd is not None and fd >= 0:
            os.close(fd)

    def _freeze(self, frozen):
        if "unified" in self.dirs and (self.dirs["unified"] / "cgroup.freeze").exists():
            _try_write(self.dirs["unified"] / "cgroup.freeze", 1 if frozen else 0)
            want = "frozen 1" if frozen else "frozen 0"
            path = self.dirs["unified"] / "cgroup.events"
        elif "freezer" in self.dirs:
            _try_write(self.dirs["freezer"] / "freezer.state", "FROZEN" if frozen else "THAWED")
            want = "FROZEN" if frozen else "THAWED"
            path = self.dirs["freezer"] / "freezer.state"
        else:
            return False
        deadline = time.monotonic() + 1.0
        while want not in _read(path) and time.monotonic() < deadline:
            time.sleep(0.002)
        return True

    def kill_except(self, keep):
        """Kill every process of the group not in ``keep`` (frozen first: none can fork away
        while they are collected); return how many."""
        extra = self.pids() - set(keep)
        if not extra:
            return 0
        frozen = self._freeze(True)
        self._quota(None)  # a throttled group would take until its next period to die
        try:
            extra = self.pids() - set(keep)
            for pid in extra:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        finally:
            if frozen:
                self._freeze(False)
        deadline = time.monotonic() + 2.0
        while any(_running(pid) for pid in extra) and time.monotonic() < deadline:
            time.sleep(0.002)
        self._quota(self.cpus)
        return len(extra)

    def _quota(self, cpus):
        """Set the group's CPU quota (None: unlimited)."""
        if not self.cpus:
            return
        if "unified" in self.dirs and "cpu" not in self.dirs and \
                (self.dirs["unified"] / "cpu.max").exists():
            _try_write(self.dirs["unified"] / "cpu.max",
                       f"{int(cpus * 100000)} 100000" if cpus else "max 100000")
        elif "cpu" in self.dirs:
            _try_write(self.dirs["cpu"] / "cpu.cfs_quota_us", int(cpus * 100000) if cpus else -1)

    def kill(self):
        """Kill everything in the group."""
        unified = self.dirs.get("unified")
        if unified is not None and (unified / "cgroup.kill").exists():
            _try_write(unified / "cgroup.kill", 1)
        self._freeze(True)
        for _ in range(20):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self._freeze(False)  # a frozen process does not die until thawed
            time.sleep(0.005)
        self._freeze(False)

    def remove(self):
        """Remove the (empty) groups; retried briefly while the last processes are reaped."""
        self._close_procs_fd()
        for d in self.dirs.values():
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
        self.dirs = {}
        self._procs_files = []


def _running(pid):
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _try_write(path, value):
    try:
        _write(path, value)
        return True
    except OSError:
        return False
