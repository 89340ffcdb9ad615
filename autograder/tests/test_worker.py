"""The worker seen from the judge: opaque objects, timeouts, limits, restarts, containment."""

import os
import random
import signal
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from autograder import runner, sandbox, wire
from autograder.paths import REPO_ROOT
from autograder.runner import Student, StudentCrash, StudentError, StudentTimeout
from autograder.sandbox import Limits

from .submissions import package

PROBE = '''
import os, socket, time
import numpy as np

def ident(x):
    return x

def whoami():
    return os.getuid()

def sees(path):
    return os.path.exists(path)

def network():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__

def write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False

def sleep(seconds):
    time.sleep(seconds)
    return seconds

def burn():
    while True:
        pass

def forward(x):
    return x * 2.0, {"x": x, "secret": "cache"}

def double_in_place(x):
    x *= 2.0
    return x.sum()

def flip_in_place(mask):
    mask[...] = ~mask
    return int(mask.sum())

def backward(dout, cache):
    return dout * 2.0 + 0 * cache["x"]

def crash():
    os._exit(1)

def chatter(n):
    print("a" * n)
    return n

def chatter_ends(n):
    print("BEGIN")
    print("a" * n)
    print("END")
    return n

def importable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False

def torch_sum():
    import torch
    return float(torch.ones(3).sum())

def spawn_busy(n):
    import subprocess
    busy = ["/bin/sh", "-c", "trap '' TERM HUP INT; while :; do :; done"]
    return [subprocess.Popen(busy, start_new_session=True).pid for _ in range(n)]

def alive(pids):
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.append(pid)
    return out

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []

def import_from(path, name):
    import sys
    sys.path.append(path)
    return importable(name)

def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total + sum(i for i in range(n)) + int(np.sum(np.arange(n)))

def untraced(n):
    import sys
    sys.settrace(None)
    return loop(n)

def fill_shm(mb):
    written, chunk = 0, b"\1" * (1 << 20)
    try:
        with open("/dev/shm/fill", "wb") as f:
            while written < mb:
                f.write(chunk)
                f.flush()
                written += 1
    except OSError:
        pass
    return written
'''


@pytest.fixture
def submission(tmp_path):
    package = tmp_path / "student" / "coursework"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "probe.py").write_text(textwrap.dedent(PROBE))
    (package / "hangs.py").write_text("while True:\n    pass\n")
    return package.parent


def limits(**kw):
    return Limits(**{"call_seconds": 5.0, "cpu_seconds": 5.0, **kw})


def test_values_round_trip_and_caches_stay_in_the_worker(submission):
    with Student(submission, limits()) as s:
        x = np.arange(6.0).reshape(2, 3)
        np.testing.assert_array_equal(s.call("probe.ident", x), x)
        out, cache = s.call("probe.forward", x, opaque=[1])
        np.testing.assert_array_equal(out, 2 * x)
        assert isinstance(cache, wire.Handle)  # the judge never sees the cache itself
        np.testing.assert_array_equal(s.call("probe.backward", np.ones_like(x), cache),
                                      2 * np.ones_like(x))


def test_a_cache_from_a_worker_that_died_is_refused(submission):
    with Student(submission, limits()) as s:
        _, cache = s.call("probe.forward", np.ones(3), opaque=[1])
        with pytest.raises(StudentCrash, match="exit status 1"):
            s.call("probe.crash")
        with pytest.raises(StudentError, match="lost when its worker process was restarted"):
            s.call("probe.backward", np.ones(3), cache)
        assert s.call("probe.ident", 5) == 5  # a fresh worker answers


def test_a_hanging_call_times_out_and_the_next_call_works(submission):
    with Student(submission, limits(call_seconds=1.0)) as s:
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="did not finish within 1 s"):
            s.call("probe.sleep", 100)
        assert time.monotonic() - started < 4
        assert s.call("probe.ident", "again") == "again"


def test_the_cpu_limit_stops_a_busy_loop(submission):
    with Student(submission, limits(call_seconds=20.0, cpu_seconds=1.0)) as s:
        started = time.monotonic()
        with pytest.raises(StudentCrash, match="SIGXCPU|SIGKILL"):
            s.call("probe.burn")
        # the CPU limit stopped it, not the 20 s wall clock (a loaded machine gives the loop
        # only part of a core, so 1 s of CPU may take several seconds)
        assert time.monotonic() - started < 19


def test_output_is_captured_and_truncated_keeping_its_beginning_and_its_end(submission):
    """The first 64 KB were kept, and the report showed the end of those: the middle
    of what was printed, not its end."""
    with Student(submission, limits(output_bytes=1000)) as s:
        assert s.call("probe.chatter_ends", 300_000) == 300_000
        text = s.output()
        assert text.startswith("BEGIN\n" + "a" * 494)
        assert "\n[... 299011 bytes of output not kept ...]\n" in text
        assert text.endswith("\n" + "a" * 495 + "\nEND\n")


def test_a_module_that_hangs_at_import_costs_one_timeout(submission):
    with Student(submission, limits(call_seconds=1.0)) as s:
        with pytest.raises(StudentTimeout, match=r"importing coursework/hangs.py did not finish "
                                                 r"within 1 s: the code at the top level of a "
                                                 r"module \(outside every def\) runs when it "
                                                 r"is imported"):
            s.call("hangs.anything")
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="importing coursework/hangs.py"):
            s.call("hangs.other")
        assert time.monotonic() - started < 0.95  # no second wait of the 1 s call limit
        assert s.call("probe.ident", 1) == 1  # other modules are unaffected


def test_the_time_budget_stops_calls(submission):
    with Student(submission, limits()) as s:
        s.deadline = time.monotonic() - 1
        with pytest.raises(StudentTimeout, match="time budget"):
            s.call("probe.ident", 1)


def test_close_removes_the_temporary_folders(submission):
    s = Student(submission, limits())
    s.call("probe.ident", 1)
    folders = [s.worker._dir, s.worker._copy]
    assert all(Path(f).is_dir() for f in folders)
    s.close()
    assert not any(Path(f).exists() for f in folders)


def test_the_submission_copy_keeps_links_as_links(tmp_path):
    src = tmp_path / "src"
    (src / "__pycache__").mkdir(parents=True)
    (src / "a.py").write_text("x = 1\n")
    (src / "__pycache__" / "a.pyc").write_bytes(b"0")
    os.symlink(REPO_ROOT / "solutions" / "coursework" / "linear.py", src / "stolen.py")
    (src / "huge.bin").write_bytes(b"")
    os.truncate(src / "huge.bin", runner.MAX_COPY_FILE + 1)
    runner.copy_package(src, tmp_path / "dst")
    dst = tmp_path / "dst"
    assert (dst / "a.py").read_text() == "x = 1\n"
    assert (dst / "stolen.py").is_symlink()  # never followed by the judge
    assert not (dst / "__pycache__").exists() and not (dst / "huge.bin").exists()


def test_exit_statuses_in_words():
    assert "SIGSEGV" in runner.describe_exit(-signal.SIGSEGV)
    assert "SIGSEGV" in runner.describe_exit(128 + signal.SIGSEGV, use_bwrap=True)
    assert "os._exit" in runner.describe_exit(3)


@pytest.mark.skipif(sandbox.bubblewrap_path() is None,
                    reason="bubblewrap guarantees; the fallback test below runs everywhere")
def test_inside_bubblewrap_nothing_of_the_host_is_reachable(submission, tmp_path):
    with Student(submission, limits(), hidden=[tmp_path]) as s:
        assert s.containment.kind == "bubblewrap"
        assert s.call("probe.network") != "connected"
        # (REPO_ROOT itself may exist inside, empty, as a folder on the way to NumPy)
        for path in (REPO_ROOT / "solutions", REPO_ROOT / "autograder" / "hidden",
                     REPO_ROOT / "autograder", submission, tmp_path):
            assert not s.call("probe.sees", str(path)), path
        assert s.call("probe.sees", "/tmp/submission/coursework/probe.py")
        assert s.call("probe.write", "/tmp/scratch")  # its private /tmp
        assert not s.call("probe.write", str(tmp_path / "landed"))
        assert not (tmp_path / "landed").exists()
        if sandbox.running_as_root():
            assert s.call("probe.whoami") >= sandbox.UID_RANGE[0]


def test_without_bubblewrap_the_report_says_process_limits_only(submission):
    with Student(submission, limits(), use_bwrap=False) as s:
        assert s.containment.kind == "process-limits"
        assert "process limits only" in s.containment.note
        # documented: the fallback hides nothing
        assert s.call("probe.sees", str(REPO_ROOT / "solutions"))
        assert s.call("probe.ident", [1, 2]) == [1, 2]


@pytest.mark.skipif(sandbox.bubblewrap_path() is None,
                    reason="builds bubblewrap's command line; bwrap is not usable here")
def test_the_private_tmp_is_mounted_before_folders_bound_from_the_hosts_tmp(tmp_path):
    # A clone (and its virtual environment) under /tmp: its folders must be bound on top of the
    # sandbox's private /tmp, not hidden by it (a tmpfs mounted later covers what lies beneath).
    site = tmp_path / "venv" / "site-packages"
    (site / "numpy").mkdir(parents=True)
    (tmp_path / "sub" / "coursework").mkdir(parents=True)
    argv = sandbox.worker_command(sys.executable, str(tmp_path), tmp_path / "sub", [str(site)],
                                  3, 4, hidden=[], use_bwrap=True)
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    binds = [i for i, a in enumerate(argv) if a == "--ro-bind"]
    assert binds and all(i > tmpfs for i in binds), argv
    assert str(site / "numpy") in argv


@pytest.mark.skipif(sandbox.bubblewrap_path() is None,
                    reason="builds bubblewrap's command line; bwrap is not usable here")
def test_a_copied_interpreter_does_not_expose_its_venvs_packages(tmp_path):
    # A virtual environment made with --copies holds the interpreter beside site-packages: the
    # worker gets the interpreter and NumPy, not the venv's other packages (SciPy, torch...).
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_bytes(b"")
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "numpy").mkdir(parents=True)
    (site / "scipy").mkdir()
    (tmp_path / "sub" / "coursework").mkdir(parents=True)
    argv = sandbox.worker_command(str(python), str(tmp_path), tmp_path / "sub", [str(site)], 3, 4,
                                  hidden=[], use_bwrap=True)
    bound = {argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"}
    assert str(python) in bound and str(site / "numpy") in bound
    assert not any(b == str(venv) or b == str(site) or "scipy" in b for b in bound), bound


# -- what the worker may import (item 8: NumPy only, unless its unit declares more) ---------------
MODES = [pytest.param(None, id="auto"), pytest.param(False, id="without-bubblewrap")]


@pytest.mark.parametrize("use_bwrap", MODES)
def test_every_unit_sees_numpy_and_not_scipy_or_sklearn(submission, use_bwrap):
    from autograder.units import UNITS, unit_packages

    assert importable_here("scipy") and importable_here("sklearn")  # installed for the judge
    for unit in UNITS:
        packages = unit_packages([unit])
        assert "numpy" in packages
        with Student(submission, limits(packages=packages), use_bwrap=use_bwrap) as s:
            assert s.call("probe.importable", "numpy"), unit
            assert not s.call("probe.importable", "scipy"), unit
            assert not s.call("probe.importable", "sklearn"), unit


def importable_here(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.mark.parametrize("use_bwrap", MODES)
def test_a_unit_that_declares_torch_gets_torch_and_nothing_else(submission, use_bwrap,
                                                                monkeypatch):
    from autograder import units

    if not importable_here("torch"):
        pytest.fail("torch is a dependency of the project (pyproject.toml) and must be installed")
    monkeypatch.setitem(units.UNITS, "99_torch", units.Unit("A torch unit", ["probe"],
                                                            packages=("numpy", "torch")))
    packages = units.unit_packages(["01_linear", "99_torch"])
    assert packages == ("numpy", "torch")
    assert units.unit_packages(["01_linear"]) == ("numpy",)
    with Student(submission, limits(packages=packages, call_seconds=60, cpu_seconds=60),
                 use_bwrap=use_bwrap) as s:
        assert s.call("probe.torch_sum") == 3.0
        assert not s.call("probe.importable", "scipy")
        assert not s.call("probe.importable", "sklearn")


@pytest.mark.skipif(sandbox.bubblewrap_path() is None,
                    reason="bubblewrap hides folders; without it the fallback is not a boundary "
                    "(test above: the packages are not on the worker's path)")
def test_no_site_folder_shows_more_than_the_units_packages(submission):
    """Code that puts the base interpreter's or the system's site-packages back on sys.path
    finds nothing there but the allowed entries (SciPy may be installed there)."""
    entries, _ = sandbox.package_paths(("numpy",))
    allowed = {p.name for p in entries}
    with Student(submission, limits()) as s:
        for folder in sandbox.installed_site_dirs():
            seen = set(s.call("probe.listing", str(folder)))
            assert seen <= allowed, (folder, sorted(seen - allowed)[:10])
            assert not s.call("probe.import_from", str(folder), "scipy"), folder


def test_package_paths_follow_the_installed_files_and_requirements():
    entries, sites = sandbox.package_paths(("numpy",))
    names = {p.name for p in entries}
    assert "numpy" in names and not {"scipy", "sklearn", "torch"} & names
    numpy_site = Path(np.__file__).resolve().parent.parent
    if (numpy_site / "numpy.libs").is_dir():  # wheels bundle their libraries beside the package
        assert "numpy.libs" in names
    if importable_here("torch"):
        entries, _ = sandbox.package_paths(("numpy", "torch"))
        names = {p.name for p in entries}
        # torch's own companions and what `import torch` needs, outside its folder
        assert {"torch", "torchgen", "sympy", "filelock"} <= names, names
        assert "typing_extensions.py" in names
        assert "scipy" not in names


# -- resource isolation (item 4) ------------------------------------------------------------------
def test_a_calls_children_end_with_the_call_without_bubblewrap(submission):
    for cgroups in (True, False):
        with Student(submission, limits(cgroups=cgroups), use_bwrap=False) as s:
            pids = s.call("probe.spawn_busy", 3)  # host pids: no PID namespace here
            assert len(pids) == 3
            left = [p for p in pids if Path(f"/proc/{p}").exists()
                    and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    not in ("Z", "X")]
            assert not left, (cgroups, left)
            assert s.call("probe.ident", 1) == 1  # the worker itself lives on


@pytest.mark.skipif(sandbox.bubblewrap_path() is None,
                    reason="bubblewrap's PID namespace; the test above runs everywhere")
def test_a_calls_children_end_with_the_call_inside_bubblewrap(submission):
    for cgroups in (True, False):
        with Student(submission, limits(cgroups=cgroups)) as s:
            pids = s.call("probe.spawn_busy", 3)
            assert s.call("probe.alive", pids) == [], cgroups


def test_shared_memory_is_bounded(submission):
    """/dev/shm is a tmpfs of ``tmp_mb`` inside bubblewrap, and its pages count against the
    worker's memory cap where the machine offers control groups."""
    from autograder import cgroup

    if sandbox.bubblewrap_path() is not None:
        with Student(submission, limits(tmp_mb=32)) as s:
            assert s.call("probe.fill_shm", 200) <= 32
    if cgroup.layout() and (cgroup.layout()["v2_controllers"] & {"memory"}
                            or "memory" in cgroup.layout()["v1"]):
        if sandbox.bubblewrap_path() is None:
            return  # without bubblewrap /dev/shm is the host's: not filled by this test
        with Student(submission, limits(tmp_mb=2048, memory_mb=400)) as s:
            assert "memory" in s.containment.note
            try:
                written = s.call("probe.fill_shm", 1200)
            except StudentCrash:
                written = None  # killed by the group's memory cap
            assert written is None or written < 400, written
    else:
        with Student(submission, limits(), use_bwrap=False) as s:
            assert "no control group" in s.containment.note


def test_each_worker_has_a_control_group_that_goes_with_it(submission):
    """Where the machine offers control groups, a worker runs in its own (memory, processes,
    CPU), and the group is removed when the worker ends; elsewhere the report says so."""
    from autograder import cgroup

    if not cgroup.layout():
        with Student(submission, limits()) as s:
            assert s.worker.jail is None or s.worker.jail.group is None
            s.call("probe.ident", 1)
            assert "no control group" in s.containment.note
        return
    s = Student(submission, limits(memory_mb=777))
    s.call("probe.ident", 1)
    group = s.worker.jail.group
    assert group is not None and group.dirs
    pid = s.worker.proc.pid
    assert pid in group.pids()
    memory = [d / f for d in group.dirs.values()
              for f in ("memory.max", "memory.limit_in_bytes") if (d / f).exists()]
    if memory:
        assert int(memory[0].read_text()) == 777 << 20
    dirs = list(group.dirs.values())
    s.close()
    assert not any(d.exists() for d in dirs)
    # a group left by a judge that was killed (its pid is in the name) is removed
    base = dirs[0].parent
    stale = base / f"{cgroup.PREFIX}999999999-stale"
    stale.mkdir()
    cgroup._remove_stale(base)
    assert not stale.exists()


def test_the_worker_reports_inputs_changed_in_place_when_the_judge_asks(submission):
    """call_full asks which inputs the call changed (the worker compares copies); call does
    not ask, so the worker makes no copy (large speed-test inputs cost nothing extra)."""
    with Student(submission, limits()) as s:
        value, modified = s.call_full("probe.double_in_place", np.ones(4))
        assert value == 8.0 and modified == ["0"]
        value, modified = s.call_full("probe.double_in_place", np.ones(4), _watch=False)
        assert value == 8.0 and modified == []
        assert s.call("probe.double_in_place", np.ones(4)) == 8.0
        _, modified = s.call_full("probe.ident", np.ones(4))
        assert modified == []


def test_boolean_inputs_are_watched_too(submission):
    """A mask is compared exactly (NumPy 2.5's array_equal with equal_nan raised on booleans:
    every call with a boolean input failed on the GPU machine)."""
    mask = np.array([True, False, True])
    with Student(submission, limits()) as s:
        assert s.call_full("probe.ident", mask)[1] == []
        value, modified = s.call_full("probe.flip_in_place", mask)
        assert value == 1 and modified == ["0"]
        nan = np.array([np.nan, 1.0])
        assert s.call_full("probe.ident", nan)[1] == []  # NaN still equals NaN for floats


GLOBAL_STATE = '''
import math
import sys
import numpy as np

def raise_on_errors():
    np.seterr(all="raise")                   # left on for whatever runs next
    return 0

def tiny_exp():
    return float(np.exp(np.array([-1000.0]))[0])   # underflows to 0: fine unless errors raise

def patch_math():
    math.floor = math.ceil
    return 0

def floor_of(x):
    return math.floor(x)

def relu_in_place_unseen(x):
    # switch off the worker's in-place check, then change the input
    for module in list(sys.modules.values()):
        if hasattr(module, "_changed") and hasattr(module, "_snapshot"):
            module._changed = lambda a, b: False
            module._aliases = lambda *args, **kwargs: []
    np.array_equal = lambda *args, **kwargs: True
    return np.maximum(x, 0, out=x)
'''


@pytest.fixture
def stateful(tmp_path):
    return package(tmp_path, state=GLOBAL_STATE)


def test_global_state_set_by_one_call_does_not_reach_the_next(stateful):
    with Student(stateful, Limits(call_seconds=10.0, cpu_seconds=10.0)) as s:
        assert s.call("state.tiny_exp") == 0.0
        s.call("state.raise_on_errors")
        assert s.call("state.tiny_exp") == 0.0  # np.seterr was restored
        s.call("state.patch_math")
        assert s.call("state.floor_of", 2.5) == 2  # math.floor was restored


def test_the_in_place_check_cannot_be_switched_off_by_the_call(stateful):
    x = np.array([-1.0, 2.0, -3.0])
    with Student(stateful, Limits(call_seconds=10.0, cpu_seconds=10.0)) as s:
        got, modified = s.call_full("state.relu_in_place_unseen", x)
        assert modified == ["0"]
        assert modified.aliases == [("result", "0")]
        np.testing.assert_array_equal(got, [0.0, 2.0, 0.0])


def test_the_worker_counts_the_lines_a_call_runs_in_the_submission(submission):
    """A loop runs its lines once per iteration (a generator expression too); NumPy's own
    code is not counted; a call that turns the counting off is reported as -1."""
    with Student(submission, limits()) as s:
        small = s.call_counting("probe.loop", 2)
        large = s.call_counting("probe.loop", 12)
        assert small[0] == 2 * 1 + 1 and large[0] == 3 * 66
        assert large[1] - small[1] == 3 * 10  # two lines of the for loop, one generator line
        assert s.call_counting("probe.loop", 2)[1] == small[1]
        assert s.call_counting("probe.untraced", 5)[:2] == (30, -1)
        assert s.call_counting("probe.loop", 2)[1] == small[1]  # counted again afterwards
        assert s.call_full("probe.loop", 2)[1].lines is None  # counted only when asked



@pytest.mark.skipif(not sandbox.running_as_root() or not sys.platform.startswith("linux"),
                    reason="needs root (files of another user id) and Linux")
def test_files_of_a_workers_user_id_are_removed_from_the_shared_folders(tmp_path):
    """Without bubblewrap a worker's files land in the host's /tmp: what its fresh user id owns
    there (and one level down in world-writable folders) goes; nothing of another user does."""
    uid = sandbox.fresh_uid()
    shared = tmp_path / "tmp"
    (shared / "sticky").mkdir(parents=True)
    os.chmod(shared / "sticky", 0o1777)
    (shared / "private").mkdir()
    mine = [shared / "kept_inputs", shared / "folder", shared / "sticky" / "inside"]
    theirs = [shared / "someone_elses", shared / "sticky" / "theirs", shared / "private" / "deep"]
    mine[1].mkdir()
    (mine[1] / "file").write_text("hidden")
    for path in mine[::2] + theirs:
        path.write_text("x")
    for path in mine + [mine[1] / "file"]:
        os.chown(path, uid, uid)
    os.chown(shared / "private" / "deep", uid, uid)  # two levels down, in a folder not writable
    assert sandbox.remove_files_of(uid, (str(shared),)) == 3
    assert not any(p.exists() for p in mine)
    assert all(p.exists() for p in theirs)
    assert sandbox.remove_files_of(None, (str(shared),)) == 0


@pytest.mark.skipif(not sandbox.running_as_root() or not os.path.isdir("/proc/sysvipc"),
                    reason="needs root (IPC objects of another user id) and Linux")
def test_shared_memory_of_a_workers_user_id_is_removed():
    """Without bubblewrap System V shared memory lives in the host's IPC namespace and outlives
    the worker: a hidden case could leave the inputs there for a later public case. What the
    worker's fresh user id made is removed with its files (remove_files_of); nothing of another
    user is."""
    import ctypes

    uid = sandbox.fresh_uid()
    libc = ctypes.CDLL(None, use_errno=True)
    key = random.randrange(1 << 20, 1 << 30)
    pid = os.fork()
    if pid == 0:  # made by the worker's user id
        try:
            os.setgid(uid)
            os.setuid(uid)
            os._exit(0 if libc.shmget(key, 4096, 0o1600) >= 0 else 1)
        finally:
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0
    other = libc.shmget(key + 1, 4096, 0o1600)  # made by the grader's own user
    try:
        assert libc.shmget(key, 0, 0) >= 0
        assert sandbox.remove_files_of(uid, folders=()) == 0  # only with the shared folders
        assert sandbox.remove_files_of(uid) >= 1
        assert libc.shmget(key, 0, 0) < 0
        assert libc.shmget(key + 1, 0, 0) == other >= 0
    finally:
        for k in (key, key + 1):
            ident = libc.shmget(k, 0, 0)
            if ident >= 0:
                libc.shmctl(ident, 0, None)


def test_a_fresh_process_and_a_killed_worker_forget_the_files_of_their_user(submission,
                                                                            monkeypatch):
    """The wiring of the test above: without bubblewrap, a worker with a user id of its own has
    that id's files removed when a fresh process replaces the one that ran cases, and when the
    worker ends (as the grader's own user, or inside bubblewrap, the judge removes nothing)."""
    removed = []
    monkeypatch.setattr(sandbox, "remove_files_of", lambda uid: removed.append(uid))
    s = Student(submission, limits(), use_bwrap=False)
    s.call("probe.ident", 1)
    s.worker.uid = 4321  # as if the worker ran as a fresh user id (needs a readable interpreter)
    s.worker.fresh()
    assert removed == [4321]
    s.close()
    assert removed == [4321, 4321]
    inside = Student(submission, limits(), use_bwrap=sandbox.bubblewrap_path() is not None)
    inside.call("probe.ident", 1)
    inside.worker.uid = inside.worker.uid if inside.worker.use_bwrap else None
    inside.worker.fresh()
    inside.close()
    assert removed == [4321, 4321]


COUNTER = '''
CALLS = []

def count():
    CALLS.append(1)
    return len(CALLS), None
'''


@pytest.mark.parametrize("forking", [True, False])
def test_a_fresh_process_keeps_nothing_of_the_calls_before_it(tmp_path, monkeypatch, forking):
    """What a call kept in the module is gone after ``fresh``: a forked child of the worker's
    pristine process (Linux, CPU) or a new worker (CUDA, macOS: no fork there)."""
    monkeypatch.setattr(sandbox, "forks", lambda limits: forking)
    with Student(package(tmp_path, counter=COUNTER), limits()) as s:
        assert s.call("counter.count")[0] == 1
        assert s.call("counter.count")[0] == 2
        s.worker.fresh()
        assert s.call("counter.count")[0] == 1


def test_the_worker_forks_only_on_linux_on_the_cpu(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    assert sandbox.forks(Limits()) and not sandbox.forks(Limits(device="cuda"))
    assert sandbox.worker_environment(Limits()).get("GRADER_FORK") == "1"
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    assert not sandbox.forks(Limits())
    assert "GRADER_FORK" not in sandbox.worker_environment(Limits())
