"""The hostile and faulty submissions of ``hostile/``: grading completes, no cheat gains a point,
every function has a status and a message, nothing escapes, and it all fits the time budget.

Each case folder holds only what differs from ``hostile/_base`` (honest, compact unit-01 code);
``materialize`` lays the two over each other and adds ``_case.py`` with this run's marker names.
Every case runs with the sandbox this machine offers ("auto": bubblewrap where it works, and then
the contained behaviour is asserted; the documented fallback otherwise), and the cases that probe
what only bubblewrap prevents also run with bubblewrap turned off, asserting the fallback's
documented behaviour.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits, bubblewrap_path, running_as_root

HOSTILE = Path(__file__).resolve().parent / "hostile"
LINUX = sys.platform.startswith("linux")
FUNCTIONS = ("linear.svm_loss_naive", "linear.svm_loss_vectorized", "linear.softmax_loss_naive",
             "linear.softmax_loss_vectorized", "linear.LinearClassifier")
POINTS = {"linear.svm_loss_naive": 2, "linear.svm_loss_vectorized": 3,
          "linear.softmax_loss_naive": 2, "linear.softmax_loss_vectorized": 3,
          "linear.LinearClassifier": 2}
CALL_SECONDS = 3.0
BUDGET = 40.0
NOT_PASSED = {"failed", "error", "timeout", "crashed"}
ALL = object()

# case -> {function: allowed statuses}; functions not named must pass.
EXPECT = {
    "infinite_loop": {"linear.svm_loss_naive": {"timeout"}},
    "ignore_signals": {"linear.softmax_loss_naive": {"timeout"}},
    "sys_exit": {"linear.svm_loss_naive": {"error"}, "linear.softmax_loss_naive": {"error"}},
    "fork_copy": {"linear.svm_loss_naive": {"error"}, "linear.softmax_loss_naive": {"error"}},
    "os_exit": {"linear.svm_loss_vectorized": {"crashed"}},
    "segfault": {"linear.softmax_loss_vectorized": {"crashed"}},
    "recursion": {"linear.svm_loss_naive": {"error"},
                  "linear.svm_loss_vectorized": {"crashed", "error", "timeout"}},
    "memory_bomb": {"linear.svm_loss_naive": {"error"},
                    "linear.softmax_loss_naive": {"error", "crashed", "timeout"}},
    "print_flood": {"linear.softmax_loss_naive": {"timeout"}},
    "monkeypatch": {f: {"failed"} for f in FUNCTIONS},
    # exec() in the module: the loop rule cannot see which code runs, so the vectorized
    # function it re-exports fails the rule (autograder/rules.py)
    "read_solutions": {"linear.svm_loss_naive": {"error"},
                       "linear.softmax_loss_naive": {"error"},
                       "linear.svm_loss_vectorized": {"failed"},
                       "linear.softmax_loss_vectorized": {"failed"}},
    "write_outside": {},
    "spawn": {},
    "pickle_payload": {"linear.svm_loss_naive": {"failed"},
                       "linear.svm_loss_vectorized": {"failed", "error"},
                       "linear.softmax_loss_naive": {"error"},
                       # honest code: pickling (not unpickling) elsewhere hides no code
                       "linear.softmax_loss_vectorized": {"passed"}},
    # the 2-million-value nested list takes the worker about half a second to encode; on a
    # loaded machine that can pass the 3 s call limit: refused or timed out, never points
    "wrong_output": {**{f: {"failed", "error"} for f in FUNCTIONS},
                     "linear.softmax_loss_naive": {"error", "timeout"}},
    "modify_inputs": {"linear.svm_loss_naive": {"failed"},
                      "linear.softmax_loss_vectorized": {"failed"}},
    "nans": {"linear.svm_loss_vectorized": {"failed"}, "linear.softmax_loss_naive": {"failed"},
             "linear.softmax_loss_vectorized": {"failed"}},
    "missing_module": {f: {"error"} for f in FUNCTIONS},
    "syntax_error": {f: {"error"} for f in FUNCTIONS},
    "import_hang": {f: {"timeout"} for f in FUNCTIONS},
    "escape_codes": {"linear.svm_loss_naive": {"error"}},
    # staging: what is not a regular file of a course module is refused, never opened or followed
    "fifo_module": {f: {"error"} for f in FUNCTIONS},
    "device_link": {f: {"error"} for f in FUNCTIONS},
    "link_module": {f: {"error"} for f in FUNCTIONS},
    "bytecode_only": {f: {"error"} for f in FUNCTIONS},
    "package_decoy": {},  # the decoy file is what runs and what is inspected: honest code
    "many_folders": {},
    # resource isolation
    "shm_bomb": {},
    "inode_bomb": {},
    "stray_children": {},
    # hidden inputs kept in the module and in /tmp: a later public case sees neither (a fresh
    # process, forked from the worker's pristine one, with an empty /tmp)
    "remember_hidden": {"linear.softmax_loss_naive": {"error"}},
    # the same kept in System V shared memory (the IPC namespace outlives the forked child)
    "ipc_remember": {"linear.softmax_loss_naive": {"error"}},
    # the same kept in the kernel's keyrings (the user's and the inherited session keyring)
    "keyring_remember": {"linear.softmax_loss_naive": {"error"}},
    # the same kept in the process, which answers "fresh" and goes on serving (os._exit
    # replaced); it reads its caller's frame, so its vectorized functions fail the rule
    "survive_fresh": {"linear.softmax_loss_naive": {"error"},
                      "linear.svm_loss_vectorized": {"failed"},
                      "linear.softmax_loss_vectorized": {"failed"}},
    # the same, but a forked copy goes on serving while the old child ends and the fork server
    # is stopped
    # (each renewal it defeats costs a new worker: on a loaded machine the later functions may
    # find the budget spent)
    "survive_fresh_fork": {"linear.softmax_loss_naive": {"error", "timeout"},
                           "linear.svm_loss_vectorized": {"failed", "timeout"},
                           "linear.softmax_loss_vectorized": {"failed", "timeout"},
                           "linear.LinearClassifier": {"passed", "timeout"}},
    # the same; the old child writes the answers to the judge's next requests into the reply
    # channel (a ping, a public case raising with them) before it ends as asked
    "forge_replies": {"linear.softmax_loss_naive": {"error"},
                      "linear.svm_loss_vectorized": {"failed"},
                      "linear.softmax_loss_vectorized": {"failed"}},
    # the same; it writes a request into the request channel for its successor to run first
    "forge_requests": {"linear.softmax_loss_naive": {"error"},
                       "linear.svm_loss_vectorized": {"failed"},
                       "linear.softmax_loss_vectorized": {"failed"}},
    # the same kept in a POSIX message queue (none may be made)
    "mqueue_remember": {"linear.softmax_loss_naive": {"error"}},
    # the same kept in a folder of /tmp it makes unreadable to itself (mode 000)
    "locked_folder": {"linear.softmax_loss_naive": {"error"}},
    # the package's __path__ pointed at a copy: what runs would not be what the rules read
    "path_redirect": {f: {"error"} for f in FUNCTIONS},
    # the worker's in-place check switched off through a NumPy submodule it calls
    "checks_switched_off": {"linear.svm_loss_naive": {"failed"}},
}
# Without bubblewrap the worker can read and write what the grader's user can (documented).
FALLBACK_EXPECT = {
    # it finds the reference: the fallback does not hide files (the exec still fails the rule)
    "read_solutions": {"linear.svm_loss_vectorized": {"failed"},
                       "linear.softmax_loss_vectorized": {"failed"}},
    "spawn": {"linear.softmax_loss_naive": {"passed", "timeout"}},  # 300 forks uncapped as root
}
FALLBACK_CASES = ["infinite_loop", "segfault", "spawn", "pickle_payload", "read_solutions",
                  "write_outside", "print_flood", "import_hang", "fifo_module", "device_link",
                  "link_module", "bytecode_only", "package_decoy", "many_folders",
                  "stray_children", "remember_hidden", "ipc_remember", "survive_fresh",
                  "survive_fresh_fork", "keyring_remember", "forge_replies",
                  "forge_requests", "mqueue_remember"]
MESSAGES = {  # case -> {function: regex its message must match}
    "sys_exit": {"linear.svm_loss_naive": r"sys\.exit\(3\)"},
    "fork_copy": {f: r"^[^\n]*called os\.fork\(\) and the copy went on[^\n]*without os\.fork\(\)$"
                  for f in ("linear.svm_loss_naive", "linear.softmax_loss_naive")},
    "os_exit": {"linear.svm_loss_vectorized": r"died.*(os\._exit|sys\.exit)"},
    "segfault": {"linear.softmax_loss_vectorized": r"SIGSEGV"},
    "memory_bomb": {"linear.svm_loss_naive": r"MemoryError"},
    "recursion": {"linear.svm_loss_naive": r"RecursionError"},
    "syntax_error": {"linear.svm_loss_naive": r"SyntaxError.*line 4"},
    "missing_module": {"linear.svm_loss_naive": r"torchvision_that_does_not_exist"},
    "import_hang": {"linear.LinearClassifier": r"importing coursework/linear\.py"},
    "modify_inputs": {"linear.svm_loss_naive": r"modified its input X",
                      "linear.softmax_loss_vectorized": r"modified its input W"},
    "nans": {"linear.svm_loss_vectorized": r"NaN", "linear.softmax_loss_vectorized": r"inf"},
    "fifo_module": {f: r"coursework/linear\.py was not graded: it is a FIFO" for f in FUNCTIONS},
    "device_link": {f: r"linear\.py was not graded: it is a symbolic link" for f in FUNCTIONS},
    "link_module": {f: r"linear\.py was not graded: it is a symbolic link" for f in FUNCTIONS},
    "bytecode_only": {f: r"missing; compiled bytecode is never run" for f in FUNCTIONS},
    "path_redirect": {f: r"was not loaded from the hand-in's files" for f in FUNCTIONS},
    "checks_switched_off": {"linear.svm_loss_naive": r"modified its input X"},
    "wrong_output": {"linear.svm_loss_vectorized": r"transposed",
                     "linear.softmax_loss_vectorized": r"more than the grader reads"},
}


def _bytecode_only(cw):
    import py_compile

    source = cw / "linear.py"
    py_compile.compile(str(source), cfile=str(cw / "__pycache__" /
                                              f"linear.{sys.implementation.cache_tag}.pyc"))
    py_compile.compile(str(source), cfile=str(cw / "linear.pyc"))
    source.unlink()


def _many_folders(cw):
    deep = cw / "deep"
    deep.mkdir()
    path = deep
    for i in range(150):  # nested as deep as a path allows here, and then some
        path = path / f"d{i:03d}_{'x' * 20}"
        try:
            path.mkdir()
        except OSError:
            break
    for i in range(3000):
        (cw / f"empty{i}").mkdir()
    (cw / "linear").mkdir()  # an empty folder named like a module


# Special files are made when the case is laid out (git holds none of them).
SETUP = {
    "fifo_module": lambda cw: ((cw / "linear.py").unlink(), os.mkfifo(cw / "linear.py")),
    "device_link": lambda cw: ((cw / "linear.py").unlink(),
                               os.symlink("/dev/zero", cw / "linear.py")),
    "link_module": lambda cw: ((cw / "linear.py").unlink(),
                               os.symlink(REPO_ROOT / "solutions" / "coursework" / "linear.py",
                                          cw / "linear.py")),
    "bytecode_only": _bytecode_only,
    "many_folders": _many_folders,
}


def materialize(case, dest, marker, extra):
    """The submission folder of ``case``: _base, then the case's files, then _case.py, then the
    special files of ``SETUP``."""
    folder = Path(dest) / case
    shutil.copytree(HOSTILE / "_base", folder)
    shutil.copytree(HOSTILE / case, folder, dirs_exist_ok=True)
    lines = [f"MARKER = {marker!r}", f"REPO = {str(REPO_ROOT)!r}"]
    lines += [f"{k} = {v!r}" for k, v in extra.items()]
    (folder / "coursework" / "_case.py").write_text("\n".join(lines) + "\n")
    if case == "read_solutions":  # a link to the reference, which the sandbox cannot resolve
        os.symlink(REPO_ROOT / "solutions" / "coursework" / "linear.py",
                   folder / "coursework" / "_sol.py")
    if case in SETUP:
        SETUP[case](folder / "coursework")
    return folder


def processes_with(marker):
    """Command lines of live processes that contain ``marker``."""
    found = []
    if os.path.isdir("/proc"):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if marker in cmd:
                    found.append(f"{entry}: {cmd}")
    else:
        out = subprocess.run(["ps", "-Ao", "pid,args"], capture_output=True, text=True).stdout
        found = [line for line in out.splitlines() if marker in line]
    return found


def grade_case(case, tmp_path, use_bwrap):
    marker = f"hostile-{case}-{uuid.uuid4().hex[:12]}"
    outside = Path(tempfile.mkdtemp(prefix="hostile-outside-", dir="/var/tmp"
                                    if os.path.isdir("/var/tmp") else None))
    os.chmod(outside, 0o777)  # writable by anyone: only the sandbox can keep the worker out
    pickle_marker = tmp_path / f"{marker}-unpickled"
    targets = [str(outside)] + ([str(REPO_ROOT)] if use_bwrap is not False and bubblewrap_path()
                                else [])
    ipc_key = random.randrange(1 << 20, 1 << 30)
    submission = materialize(case, tmp_path, marker,
                             {"TARGETS": targets, "MARKER_PATH": str(pickle_marker),
                              "IPC_KEY": ipc_key})
    started = time.monotonic()
    try:
        report = engine.grade(submission, ["01"], use_bwrap=use_bwrap, budget_seconds=BUDGET,
                              limits=Limits(call_seconds=CALL_SECONDS, cpu_seconds=CALL_SECONDS,
                                            memory_mb=1024))
        wall = time.monotonic() - started
        landed = [p for p in (outside / marker, REPO_ROOT / marker, Path("/tmp") / marker,
                              submission / marker, submission / "coursework" / marker)
                  if p.exists()]
        deadline = time.monotonic() + 3
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = processes_with(marker)
        if left and not LINUX:
            # documented: without /proc only the process group is killed, and children that
            # called setsid survive; clean up after them and accept it there
            for line in left:
                try:
                    os.kill(int(line.split(":")[0].split()[0]), 9)
                except (ValueError, OSError):
                    pass
            left = []
        return report, wall, landed, left, pickle_marker.exists()
    finally:
        _remove_shm(ipc_key)
        _remove_keys(marker)
        shutil.rmtree(outside, ignore_errors=True)
        for p in (REPO_ROOT / marker, Path("/tmp") / marker, Path("/dev/shm") / marker):
            try:
                p.unlink()
            except OSError:
                pass
            if p.is_dir() and not p.is_symlink():  # locked_folder's, without bubblewrap
                os.chmod(p, 0o700)
                for root, dirs, _ in os.walk(p):  # top-down: unlocked before it is entered
                    for d in dirs:
                        os.chmod(os.path.join(root, d), 0o700)
                shutil.rmtree(p, ignore_errors=True)


def _remove_shm(key):
    """Remove the shared memory segment ``key`` that a case made on the host (documented: without
    bubblewrap, as the grader's own user, nothing removes it)."""
    if not LINUX:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ident = libc.shmget(key, 0, 0)
    if ident >= 0:
        libc.shmctl(ident, 0, None)  # IPC_RMID


def _remove_keys(marker):
    """Unlink from this user's keyring the keys a case added there (documented: without
    bubblewrap, as the grader's own user, nothing removes them)."""
    if not os.path.exists("/proc/keys"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/keys") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        if len(fields) > 8 and fields[7] == "user" and fields[8].startswith(marker):
            # KEYCTL_UNLINK from KEY_SPEC_USER_KEYRING (x86_64: syscall 250)
            libc.syscall(250, 9, ctypes.c_long(int(fields[0], 16)), ctypes.c_long(-4))


def check_report(case, report, wall, landed, left, unpickled, contained):
    functions = report["units"]["01_linear"]["functions"]
    # every function has a status and a message; the points add up
    assert sorted(functions) == sorted(FUNCTIONS), case
    for key, entry in functions.items():
        assert entry["status"] in engine.STATUSES, (case, key, entry)
        assert entry["message"], (case, key, entry)
        assert not re.search(r"[\x00-\x1f\x7f]", entry["message"]), (case, key, entry)
        assert entry["score"] == (POINTS[key] if entry["status"] == "passed" else 0), entry
        assert not entry.get("grader_fault"), (case, key, entry)
    assert report["total"] == sum(e["score"] for e in functions.values())
    expect = dict(EXPECT[case])
    if not contained:
        expect = dict(FALLBACK_EXPECT.get(case, expect))
    for key in FUNCTIONS:
        allowed = expect.get(key, {"passed"})
        assert functions[key]["status"] in allowed, (case, key, functions[key])
    for key, pattern in MESSAGES.get(case, {}).items():
        assert re.search(pattern, functions[key]["message"]), (case, key, functions[key])
    # within the budget, nothing left running, nothing unpickled
    assert report["seconds"] <= BUDGET and wall <= BUDGET + 15, (case, wall)
    assert not left, (case, left)
    assert not unpickled, case
    if contained:
        assert report["containment"].startswith("bubblewrap"), report["containment"]
        assert not landed, (case, landed)
    else:
        assert "process limits only" in report["containment"], report["containment"]


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_hostile_case(case, tmp_path):
    """Every case, with the containment this machine offers (bubblewrap where it works)."""
    if case == "memory_bomb" and not LINUX:
        pytest.skip("no address-space limit outside Linux (documented): a memory bomb would "
                    "really take the memory")
    contained = bubblewrap_path() is not None
    report, wall, landed, left, unpickled = grade_case(case, tmp_path, None)
    check_report(case, report, wall, landed, left, unpickled, contained)
    functions = report["units"]["01_linear"]["functions"]
    if case == "print_flood":  # 50 MB printed: kept to a bounded tail, and quickly graded
        assert len(report.get("output", "")) <= 2000
        assert functions["linear.svm_loss_naive"]["status"] == "passed"
    if case == "escape_codes":
        assert "\x1b" not in functions["linear.svm_loss_naive"]["message"]
    if case == "read_solutions" and contained:
        # what it finds is at most its own link, staged as the reason it was not graded
        message = functions["linear.svm_loss_naive"]["message"]
        assert ("no solution found" in message
                or "coursework/_sol.py was not graded: it is a symbolic link" in message), message
    check_special(case, report, contained)


def _printed(report, label):
    found = re.findall(label + r" (\d+)", report.get("output", ""))
    assert found, (label, report.get("output"))
    return int(found[-1])


def check_special(case, report, contained):
    """What a case must show beyond its statuses."""
    if case == "package_decoy":
        assert "coursework/linear/" in report.get("refused", {}), report.get("refused")
    if case == "many_folders":  # the folders are neither copied nor walked: it grades as fast
        assert report["seconds"] <= 20, report["seconds"]
    if case in ("fifo_module", "device_link", "link_module", "bytecode_only"):
        assert "coursework/linear.py" in report.get("refused", {}), report.get("refused")
    if case == "shm_bomb" and contained:  # /dev/shm and /tmp are tmpfs of 64 MB (Limits.tmp_mb)
        assert _printed(report, "SHM_WRITTEN_MB") <= 64
        assert _printed(report, "TMP_WRITTEN_MB") <= 64
    if case == "remember_hidden":
        message = report["units"]["01_linear"]["functions"]["linear.softmax_loss_naive"][
            "message"]
        assert "remembered 0 calls" in message, message
        # inside bubblewrap /tmp is private and emptied; without it, the files of the worker's
        # fresh user id are removed from the host's /tmp (as the grader's own user they cannot be
        # told apart: documented in docs/grading-containment.md)
        if contained or "fresh unprivileged user id" in report["containment"]:
            assert "file absent" in message, message
    if case == "forge_requests":
        message = report["units"]["01_linear"]["functions"]["linear.softmax_loss_naive"][
            "message"]
        assert "stashed: []" in message, message
    if case in ("survive_fresh", "survive_fresh_fork", "forge_replies", "forge_requests"):
        # the process that ran hidden cases was really replaced, by one that heard only the judge
        functions = report["units"]["01_linear"]["functions"]
        message = functions["linear.softmax_loss_naive"]["message"]
        assert "remembered 0 calls" in message or (
            case == "survive_fresh_fork" and "time budget" in message), message
        assert not any(re.search(r"remembered [1-9]", f["message"])
                       for f in functions.values()), functions
    if case == "mqueue_remember":  # RLIMIT_MSGQUEUE 0, with and without bubblewrap
        message = report["units"]["01_linear"]["functions"]["linear.softmax_loss_naive"][
            "message"]
        assert "remembered 0 calls" in message, message
    if case in ("ipc_remember", "keyring_remember", "locked_folder") and (contained or
                                   "fresh unprivileged user id" in report["containment"]):
        # bubblewrap: the fork server empties its IPC namespace; without it the segments of the
        # worker's fresh user id are removed (as the grader's own user: documented); every
        # child has a session keyring of its own, and a fresh user id's keyrings are cleared
        message = report["units"]["01_linear"]["functions"]["linear.softmax_loss_naive"][
            "message"]
        assert "remembered 0 calls" in message, message
    if case == "inode_bomb" and contained and running_as_root():
        assert _printed(report, "FILES_MADE") <= Limits().tmp_inodes


@pytest.mark.parametrize("case", FALLBACK_CASES)
def test_hostile_case_without_bubblewrap(case, tmp_path):
    """The fallback (process limits only) still grades, kills everything and unpickles
    nothing; the report says that it is the fallback."""
    report, wall, landed, left, unpickled = grade_case(case, tmp_path, False)
    check_report(case, report, wall, landed, left, unpickled, contained=False)
    if case == "read_solutions":
        # documented: without bubblewrap the worker can read what the grader's user can read
        assert "can read files" in report["containment"]
    check_special(case, report, contained=False)


@pytest.mark.parametrize("target", ["reference", "classmate"])
@pytest.mark.parametrize("use_bwrap", [None, False])
def test_coursework_link_is_refused(target, use_bwrap, tmp_path):
    """A coursework folder that is a link (to the reference, to a classmate's folder) is not
    followed: the submission is refused with the reason, and nothing of the target is run."""
    classmate = materialize("wrong_output", tmp_path, "classmate", {})
    folder = tmp_path / "linker"
    folder.mkdir()
    os.symlink(REPO_ROOT / "solutions" / "coursework" if target == "reference"
               else classmate / "coursework", folder / "coursework")
    with pytest.raises(engine.UsageError, match="symbolic link"):
        engine.grade(folder, ["01"], use_bwrap=use_bwrap)
    # the submission folder itself a link: refused too
    os.symlink(classmate, tmp_path / "alias")
    with pytest.raises(engine.UsageError, match="symbolic link"):
        engine.grade(tmp_path / "alias", ["01"], use_bwrap=use_bwrap)


def test_corpus_is_small_and_complete():
    cases = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir() and not p.name.startswith("_")
                   and not p.name.startswith(("judge_", "torch_")))
    # judge_*: test_judge_hostile.py; torch_*: test_unit06_grading.py
    assert cases == sorted(EXPECT)
    size = sum(p.stat().st_size for p in HOSTILE.rglob("*") if p.is_file())
    assert size < 50_000, size
