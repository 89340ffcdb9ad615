"""The judge's side of the worker: start it, ask it to call student code, kill and replace it.

``Student`` is what a test sees: ``student.call("linear.svm_loss_naive", W, X, y, 0.1)`` returns
the decoded plain result, or raises one of the ``StudentFault`` exceptions below. The worker is
started lazily and restarted after a timeout or a crash, so one bad function costs only its own
points.
"""

import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import sandbox, scratch, wire
from .paths import PACKAGE_DIR
from .worker import CONSUMERS

# the names the worker counts the items of (worker.count_consumers): "sum", "math.prod"...
CONSUMER_NAMES = frozenset(attr if module == "builtins" else f"{module}.{attr}"
                           for module, attr in CONSUMERS)

WORKER_FILES = ("worker.py", "worker_boot.py", "wire.py", "worker_fns.py", "worker_guard.py",
                "torch_ops.py")
START_SECONDS = 60.0  # time allowed for the worker to start and import NumPy


class StudentFault(Exception):
    """Something went wrong in student code; ``status`` is its report status."""

    status = "error"

    def __init__(self, message, detail=""):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = None  # a spec that knows what the error means there sets it


class NotImplementedByStudent(StudentFault):
    status = "not_implemented"


class StudentError(StudentFault):
    status = "error"


# The start of the message of a module whose import raised (a SyntaxError, most often).
IMPORT_FAILED = "the module could not be imported"
# Why a call runs out of time; a naive function (its loops are the lesson) gets NAIVE_SLOW_ADVICE
# instead (``engine.run_test``)
SLOW_ADVICE = "an infinite loop, or far too slow: is something not vectorized?"
NAIVE_SLOW_ADVICE = ("an infinite loop, or far too slow: does a loop never end (a while whose "
                     "condition stays true), or run far more often than it should (a loop nested "
                     "one level too deep, a range() over the wrong size)?")


class StudentTimeout(StudentFault):
    status = "timeout"


class StudentCrash(StudentFault):
    status = "crashed"


class Changes(list):
    """The names of the inputs a call changed in place (a list, as before), and in ``aliases``
    the (result path, input name) pairs where the result is an input or shares its memory
    (``worker._aliases``); a spec that requires a new object checks them
    (``Trial.returns_new``)."""

    def __init__(self, modified, aliases=(), lines=None, drawn=(), consumed=None,
                 library_lines=None, objects=None):
        super().__init__(modified)
        self.aliases = list(aliases)
        self.lines = lines  # lines of student code the call ran, when asked (call_counting)
        self.drawn = list(drawn)  # the generator arguments the call drew from
        # the items that sum, min, max, sorted, math.prod... took from their iterable in that
        # call ({name: items}, worker.count_consumers), when asked
        self.consumed = dict(consumed or {})
        # the lines of library Python code (the standard library's, NumPy's) the call ran, and
        # where it first held an array of Python objects (worker.LineCounter), when asked
        self.library_lines = library_lines
        self.objects = objects
        self.overflowed = False  # a NumPy operation overflowed, when asked (watch_overflow)


def clean_text(value, limit=2000):
    """A string from the worker made safe for the judge: only a str is taken (anything else the
    worker sends in its place becomes a placeholder, never str() of a structure of any depth),
    cut to ``limit`` characters, lone surrogates (which no file or terminal can encode) escaped."""
    if isinstance(value, BaseException):
        value = value.args[0] if value.args and isinstance(value.args[0], str) else \
            type(value).__name__
    if not isinstance(value, str):
        return f"<a {type(value).__name__}, not text>"
    value = value[:limit]
    return value.encode("utf-8", "backslashreplace").decode("utf-8") if _has_surrogate(value) \
        else value


def _has_surrogate(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def numpy_site_dir():
    """The site-packages folder that holds NumPy, for the worker's sys.path."""
    return str(Path(np.__file__).resolve().parent.parent)


MAX_COPY_FILE = 16 * 1024 * 1024  # bytes: larger files of a submission are not copied
MAX_COPY_TOTAL = 128 * 1024 * 1024
MAX_COPY_FILES = 2000


def copy_package(src, dst):
    """Copy a submission's ``coursework`` package to ``dst``, readable by any user.

    Symbolic links are copied as links (never followed here, in the judge: a link to the
    solutions stays a link, which the sandbox cannot resolve). __pycache__ folders, files larger
    than MAX_COPY_FILE and anything past MAX_COPY_TOTAL/MAX_COPY_FILES are left out.
    """
    src, dst = Path(src), Path(dst)
    total = files = 0
    dst.mkdir(mode=0o755)
    for folder, dirs, names in os.walk(src, followlinks=False):
        rel = Path(folder).relative_to(src)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for d in dirs:
            s = Path(folder) / d
            if s.is_symlink():
                os.symlink(os.readlink(s), dst / rel / d)
            else:
                (dst / rel / d).mkdir(mode=0o755)
        for name in sorted(names):
            s, d = Path(folder) / name, dst / rel / name
            if s.is_symlink():
                os.symlink(os.readlink(s), d)
                continue
            try:
                info = s.stat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_COPY_FILE:
                continue
            if total + info.st_size > MAX_COPY_TOTAL or files >= MAX_COPY_FILES:
                return
            shutil.copyfile(s, d, follow_symlinks=False)
            os.chmod(d, 0o644)
            total += info.st_size
            files += 1


class Worker:
    """One worker process, with its pipes and its captured output."""

    def __init__(self, submission, limits, *, use_bwrap, hidden=(), separate_user=False):
        self.submission = Path(submission).resolve()
        self.limits = limits
        self.use_bwrap = use_bwrap
        self.hidden = list(hidden)
        self.separate_user = separate_user
        self.proc = None
        self.uid = None
        self.jail = None
        self.generation = 0  # incremented at every start: Handles of older workers are stale
        # What the code printed: its first half of ``output_bytes`` and its last half (the
        # ``*_tail``), the bytes between them counted in ``*_dropped``.
        self.output, self.output_tail = bytearray(), bytearray()
        self.output_dropped = 0
        # While ``redirect`` is set (a hidden case is in progress), what the code prints goes to
        # ``hidden_out``, for the instructor only: it may echo the hidden inputs.
        self.redirect = False
        self.hidden_out, self.hidden_tail = bytearray(), bytearray()
        self.hidden_dropped = 0
        self._dir = None
        self._copy = None
        self._seq = 0
        # the fork server and what is above it; the server; its serving child (``fresh``)
        self._trusted, self._server, self._serving = set(), None, None

    # -- life cycle -------------------------------------------------------------------------
    def _submission_copy(self):
        """The submission's package, copied once per Student into a folder the worker's user
        can read (the original may be private to the grader's user)."""
        if self._copy is None:
            self._copy = scratch.make("submission")
            os.chmod(self._copy, 0o755)
            copy_package(self.submission / "coursework", Path(self._copy) / "coursework")
        return self._copy

    def start(self):
        self.generation += 1
        submission = self._submission_copy()
        self._dir = scratch.make("worker")
        for name in WORKER_FILES:
            shutil.copyfile(PACKAGE_DIR / name, Path(self._dir) / name)
            os.chmod(Path(self._dir) / name, 0o644)
        os.chmod(self._dir, 0o755)
        self.uid = sandbox.fresh_uid() if self.separate_user else None
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        argv = sandbox.worker_command(
            os.path.realpath(sys.executable), self._dir, submission, [numpy_site_dir()],
            req_r, rep_w, hidden=self.hidden, use_bwrap=self.use_bwrap,
            tmp_mb=self.limits.tmp_mb, packages=self.limits.packages,
            device=self.limits.device,
        )
        self.jail = sandbox.Jail(self.limits)
        try:
            self.proc = subprocess.Popen(
                self.jail.wrap(argv), stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=(req_r, rep_w),
                env=sandbox.worker_environment(self.limits, self.uid, self.use_bwrap),
                cwd=self._dir, start_new_session=True, close_fds=True,
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
            os.close(out_w)
        self._out_r = out_r
        os.set_blocking(self._out_r, False)
        os.set_blocking(self._req_w, False)
        self._request({"op": "ping"}, START_SECONDS, what="starting the worker")
        self.jail.started(self.proc.pid)
        # read now, before any student code ran: the fork server and what is above it, and the
        # child that serves (``fresh`` checks that it really is replaced)
        self._trusted, self._serving = sandbox.serving_chain(self.proc.pid) \
            if sandbox.forks(self.limits) else (set(), None)
        self._server = sandbox.parent(self._serving) if self._serving else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fresh(self):
        """Replace the process that runs the code by one that never ran any: forked from the
        worker's pristine process where it has one (``worker._fork_server``), else a new
        worker. Objects of the old one (Handles) are stale either way."""
        if not self.alive():
            return
        if not sandbox.forks(self.limits):
            self.kill()
            return
        try:
            old = self._serving
            self._request({"op": "fresh"}, START_SECONDS, what="renewing the worker")
            self.generation += 1
            renewed = old is not None and self._gone(old) and self._successor()
            if renewed:
                # what the old child wrote ahead into the reply channel (a forged answer to the
                # ping, or to the public case that follows) is read and dropped now: nothing of
                # it is alive any more, and its successor has not been asked anything yet
                self._discard_replies()
                # a forked child answers at once: no start-up time (a copy forked by the old one
                # and stopped with the server, mistaken for the successor, is not waited for)
                self._request({"op": "ping"}, self.limits.call_seconds,
                              what="renewing the worker")
                renewed = self._renewed()
        except (StudentFault, wire.WireError, OSError):
            renewed = False
        if not renewed:
            self.kill()
            return
        self.jail.started(self.proc.pid)
        self._forget_files()

    def _gone(self, pid, seconds=5.0):
        """Whether the serving child ``pid`` has ended and been reaped by the fork server within
        ``seconds``. Its "fresh" answer proves nothing: the code can answer it and go on serving
        in the same process (``os._exit`` replaced), with what it kept of the hidden cases."""
        deadline = time.monotonic() + seconds
        while sandbox.state(pid) is not None:
            if time.monotonic() > deadline or sandbox.state(self._server) in (None, "T", "t"):
                return False  # no server to reap it: stopped (by the code) or gone
            time.sleep(0.002)
        return True

    def _successor(self, seconds=5.0):
        """Wait until the fork server has forked the old child's successor (``_renewed``): it
        does so only after it has killed every other child and emptied the request channel."""
        deadline = time.monotonic() + seconds
        while not self._renewed(record=False):
            if time.monotonic() > deadline or sandbox.state(self._server) in (None, "T", "t"):
                return False
            time.sleep(0.002)
        return True

    def _discard_replies(self, most=8 << 20):
        """Read and drop what is waiting in the reply channel (at most ``most`` bytes)."""
        dropped = 0
        while dropped < most:
            ready, _, _ = select.select([self._rep_r], [], [], 0)
            if not ready:
                return
            chunk = os.read(self._rep_r, 1 << 20)
            if not chunk:
                return
            dropped += len(chunk)

    def _renewed(self, record=True):
        """After a "fresh": exactly one process below the fork server, its direct child, and
        none of the trusted ones stopped (the server kills every other child before it forks
        the new one, ``worker._fork_server``). Anything else (a process forked by the old child
        to go on serving, a stopped server) and the worker is replaced instead."""
        if any(sandbox.state(pid) in (None, "T", "t", "Z") for pid in self._trusted):
            return False
        below = (self.jail.live() | sandbox.descendants(self.proc.pid)) - self._trusted
        below = {p for p in below if sandbox.state(p) not in (None, "Z", "X")}
        if len(below) != 1 or self._server not in self._trusted:
            return False
        (child,) = below
        if sandbox.parent(child) != self._server or sandbox.state(child) in ("T", "t"):
            return False
        if record:
            self._serving = child
        return True

    def _forget_files(self):
        """Without bubblewrap /tmp is the host's: remove what the worker's own user id wrote
        there (inside bubblewrap the worker empties its private /tmp itself). A worker that runs
        as the grader's own user cannot be told apart from it: nothing is removed then."""
        if self.uid and not self.use_bwrap:
            sandbox.remove_files_of(self.uid)

    def ensure_started(self):
        if not self.alive():
            self.kill()
            self.start()

    def kill(self):
        """Kill the worker and every process it started (signals they ignore, new sessions and
        process groups included) and clean up."""
        if self.jail is not None:
            self.jail.kill()
        if self.proc is not None:
            sandbox.kill_tree(self.proc.pid, self.uid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for fd in (self._req_w, self._rep_r, self._out_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None
            self._forget_files()
        if self._dir:
            scratch.remove(self._dir)
            self._dir = None
        if self.jail is not None:
            self.jail.close()
            self.jail = None

    def close(self):
        self.kill()
        if self._copy:
            scratch.remove(self._copy)
            self._copy = None

    # -- requests ---------------------------------------------------------------------------
    def request(self, message, timeout):
        self.ensure_started()
        try:
            return self._request(message, timeout, what="the call")
        finally:
            if self.alive() and self.jail is not None:
                self.jail.end_strays()  # nothing a call started outlives it

    def _request(self, message, timeout, what):
        deadline = time.monotonic() + timeout
        self._seq += 1
        message = dict(message, id=self._seq)
        try:
            self._write(wire.dumps_frame(message), deadline, what)
        except (BrokenPipeError, OSError):
            raise self._crashed(what) from None
        try:
            header = self._read(8, deadline, what)
            (size,) = struct.unpack(">Q", header)
            if size > wire.MAX_FRAME:
                self.kill()
                raise StudentError(f"the code sent back {size} bytes, more than the "
                                   f"{wire.MAX_FRAME >> 20} MB the grader reads")
            reply = wire.parse_body(self._read(size, deadline, what))
        except EOFError:
            raise self._crashed(what) from None
        if not isinstance(reply, dict) or reply.get("id") != self._seq:
            self.kill()
            raise StudentError("the worker answered out of turn (does the code write to the "
                               "grader's channel?)")
        return reply

    def _timeout(self, what):
        self._drain_output_safely()
        self.kill()
        return StudentTimeout(
            f"{what} did not finish within {self.limits.call_seconds:g} s "
            f"({SLOW_ADVICE})"
        )

    def _write(self, data, deadline, what):
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout(what)
            _, ready, _ = select.select([], [self._req_w], [], min(left, 1.0))
            if ready:
                try:
                    view = view[os.write(self._req_w, view[:1 << 20]):]
                except BlockingIOError:
                    pass

    def _read(self, n, deadline, what):
        chunks, remaining = [], n
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout(what)
            ready, _, _ = select.select([self._rep_r, self._out_r], [], [], min(left, 1.0))
            if self._out_r in ready:
                self._drain_output()
            if self._rep_r in ready:
                chunk = os.read(self._rep_r, min(remaining, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    def _drain_output(self, most=8 << 20):
        """Read what the worker printed, keeping the first and the last half of
        ``output_bytes``; at most ``most`` bytes per call, so that a flood of output cannot
        hold the judge past its deadline."""
        read = 0
        half = max(1, self.limits.output_bytes // 2)
        while read < most:
            try:
                chunk = os.read(self._out_r, 1 << 20)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            read += len(chunk)
            head, tail = (self.hidden_out, self.hidden_tail) if self.redirect else \
                (self.output, self.output_tail)
            room = half - len(head)
            if room > 0:
                head += chunk[:room]
                chunk = chunk[room:]
            tail += chunk
            dropped = max(0, len(tail) - half)
            if dropped:
                del tail[:dropped]
                if self.redirect:
                    self.hidden_dropped += dropped
                else:
                    self.output_dropped += dropped

    def _crashed(self, what):
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._drain_output_safely()
        self.kill()
        return StudentCrash(f"the worker process died during {what} "
                            f"({describe_exit(code, self.use_bwrap)})", self.captured_output())

    def _drain_output_safely(self):
        try:
            self._drain_output()
        except Exception:
            pass

    def captured_output(self, hidden=False):
        """What the code printed: all of it, or its beginning and its end with the number of
        bytes left out between them."""
        head, tail, dropped = ((self.hidden_out, self.hidden_tail, self.hidden_dropped) if hidden
                               else (self.output, self.output_tail, self.output_dropped))
        text = head.decode("utf-8", errors="replace")
        if dropped:
            text += f"\n[... {dropped} bytes of output not kept ...]\n"
        return text + tail.decode("utf-8", errors="replace")


def describe_exit(code, use_bwrap=False):
    """Plain words for a process exit status (bubblewrap reports a death by signal N as the
    status 128 + N)."""
    if code is None:
        return "it did not exit"
    if use_bwrap and 128 < code < 128 + 32:
        code = 128 - code
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {
            "SIGSEGV": "a segmentation fault: memory was accessed wrongly (ctypes?)",
            "SIGKILL": "killed: memory or time limit",
            "SIGXCPU": "its CPU time limit was exceeded",
            "SIGXFSZ": "it wrote a file larger than allowed",
            "SIGABRT": "it aborted",
        }.get(name, "")
        return f"{name}{': ' + why if why else ''}"
    if code == 0:
        return "it exited with status 0: does the code call sys.exit or os._exit?"
    return f"exit status {code}: does the code call sys.exit or os._exit?"


class Student:
    """A submission's code, reachable only through a worker."""

    def __init__(self, submission, limits=None, *, use_bwrap=None, hidden=()):
        self.limits = limits or sandbox.Limits()
        if use_bwrap is None:
            use_bwrap = sandbox.bubblewrap_path() is not None
        separate_user = sandbox.can_use_separate_user(
            use_bwrap, os.path.realpath(sys.executable), sandbox.numpy_dirs([numpy_site_dir()]))
        self.containment = sandbox.describe(use_bwrap, separate_user, self.limits.cgroups)
        self.worker = Worker(submission, self.limits, use_bwrap=use_bwrap, hidden=hidden,
                             separate_user=separate_user)
        self.calls = 0
        self._settled_at = 0  # self.calls at the last settle
        self.settle_restarts = []  # why the worker was replaced between functions
        self.deadline = None  # time.monotonic() past which no call is made (the grading budget)
        self.function_deadline = None  # the same for the function being graded (start_function)
        self.answered = {}  # target -> calls of it that returned, in the function being graded
        self._imported = set()  # (worker generation, module) imported without fault
        self._import_faults = {}  # module -> the fault its import caused (not retried)
        self._hidden_generation = None  # the worker generation that last ran a hidden case
        self.hidden_case = lambda: False  # set by the Trial: is a hidden case in progress?
        self.on_new = lambda target, args, kwargs: None  # set by the Trial: names the case

    def close(self):
        self.worker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- handles: a cache or model lives in one worker process only ---------------------------
    def _check_handles(self, *values):
        for value in values:
            if isinstance(value, wire.Handle):
                if value.generation is not None and value.generation != self.worker.generation:
                    raise StudentError(
                        "an object the code returned earlier (a cache or a model) was lost "
                        "when its worker process was restarted after a crash or a timeout")
            elif isinstance(value, (list, tuple)):
                self._check_handles(*value)
            elif isinstance(value, dict):
                self._check_handles(*value.values())

    def _mark_handles(self, value):
        if isinstance(value, wire.Handle):
            value.generation = self.worker.generation
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._mark_handles(v)
        elif isinstance(value, dict):
            for v in value.values():
                self._mark_handles(v)

    def _import(self, module, timeout):
        """Import coursework.<module> in the worker once per worker; a module whose import
        fails (an exception, a hang, a crash) fails every later call at once, with the same
        message, instead of being imported again for each function."""
        if module in self._import_faults:
            fault = self._import_faults[module]
            raise type(fault)(fault.message, fault.detail)
        if (self.worker.generation, module) in self._imported:
            return
        try:
            self._send({"op": "import", "module": module}, timeout)
        except StudentFault as fault:
            if fault.status == "timeout" and "did not finish" in fault.message:
                fault = StudentTimeout(
                    f"importing coursework/{module}.py did not finish within "
                    f"{self.limits.call_seconds:g} s: the code at the top level of a module "
                    "(outside every def) runs when it is imported; is a loop, a training run or "
                    "a long computation there? Move it into a function, or into the notebook",
                    fault.detail)
            elif fault.status in ("timeout", "crashed"):
                fault = type(fault)(f"importing coursework/{module}.py: {fault.message}",
                                    fault.detail)
            self._import_faults[module] = fault
            raise fault from None
        self._imported.add((self.worker.generation, module))

    # A function's calls together get this many times the time limit of one call: one slow
    # function (calls each just under the limit) cannot use up the submission's whole budget.
    FUNCTION_BUDGET_CALLS = 6

    def start_function(self):
        """The grading of one function starts: its calls share a budget of
        FUNCTION_BUDGET_CALLS times the per-call limit. A worker that has run code is settled
        first (``settle``); one that cannot be (the last function's code still runs there) is
        replaced, so that nothing of one function runs while another is graded."""
        self.settle()
        self.function_deadline = time.monotonic() + self.function_budget()
        self.answered = {}

    def settle(self):
        """Ask the worker to collect its garbage and put its state back
        (``worker_guard.Guard.leftovers``); replace it when something is left running, when it
        does not answer within one call's limit, or when it answers nonsense. Returns why it was
        replaced ("" when it was not)."""
        if not self.worker.alive() or self.calls == self._settled_at:
            return ""
        self._settled_at = self.calls
        why = ""
        try:
            reply = self.worker.request({"op": "settle",
                                         "cpu_seconds": self.limits.cpu_seconds},
                                        self.limits.call_seconds)
            value = reply.get("value") if reply.get("ok") is True else "no answer"
            why = value if isinstance(value, str) else "an answer the grader cannot read"
        except (StudentFault, wire.WireError, OSError) as fault:
            why = getattr(fault, "message", str(fault))
        if why:
            self.worker.kill()
            self.settle_restarts.append(why[:200])
        return why

    def function_budget(self):
        return self.FUNCTION_BUDGET_CALLS * self.limits.call_seconds

    def _ask(self, message, timeout=None, handles=()):
        timeout = timeout or self.limits.call_seconds
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise StudentTimeout("not graded: the submission used up its time budget")
            timeout = min(timeout, left)
        by_budget = False
        if self.function_deadline is not None:
            left = self.function_deadline - time.monotonic()
            if left <= 0:
                raise self._over_budget()
            if left < timeout:
                timeout, by_budget = left, True
        self._forget_hidden_cases()
        self.worker.ensure_started()
        self._check_handles(*handles)
        try:
            if message.get("op") == "call":
                self._import(str(message.get("target", "")).partition(".")[0], timeout)
            return self._send(message, timeout)
        except StudentTimeout:
            if by_budget:
                raise self._over_budget() from None
            raise

    def _forget_hidden_cases(self):
        """Before a call on a public case, give the code a fresh process if this one has run a
        hidden case (``Worker.fresh``): the code may have kept the hidden inputs (a module-level
        list, a class attribute, a file in its /tmp), and what a public call raises or prints is
        shown to the student. The fresh process imports the modules afresh, with /tmp emptied."""
        if self.hidden_case() or self._hidden_generation != self.worker.generation:
            return
        self._hidden_generation = None
        self.worker.fresh()

    def _over_budget(self):
        return StudentTimeout(
            f"this function's calls together took more than its budget of "
            f"{self.function_budget():g} s ({self.FUNCTION_BUDGET_CALLS} times the limit of one "
            "call): each call may be just fast enough, but together they are far too slow")

    def _send(self, message, timeout):
        message.setdefault("cpu_seconds", self.limits.cpu_seconds)
        self.calls += 1
        hidden = bool(self.hidden_case())
        if self.worker.redirect != hidden:
            self.worker._drain_output_safely()  # what was printed before belongs to the last call
            self.worker.redirect = hidden
        try:
            reply = self.worker.request(message, timeout)
        except wire.WireError as exc:
            self.worker.kill()
            raise StudentError(f"the code sent back something the grader cannot read "
                               f"({clean_text(exc)})") from None
        finally:
            if self.worker.proc is not None:
                self.worker._drain_output_safely()
            if hidden:
                self._hidden_generation = self.worker.generation
        if reply.get("ok") is True:
            try:
                value = wire.decode(reply.get("value"), tags=("ref",))
            except wire.WireError as exc:
                # what sent it may not be the worker's loop (code writing to the channel): the
                # worker's state is unknown, so it is replaced before the next call
                self.worker.kill()
                raise StudentError(
                    f"the code returned something the grader cannot read ({clean_text(exc)}); "
                    "return NumPy arrays, numbers, tuples, lists or dicts"
                ) from None
            self._mark_handles(value)
            if message.get("op") == "call":
                target = str(message.get("target", ""))
                self.answered[target] = self.answered.get(target, 0) + 1
            modified = reply.get("modified")
            if not isinstance(modified, list):
                modified = []
            aliases = reply.get("aliases")
            if not isinstance(aliases, list):
                aliases = []
            lines = reply.get("lines")
            if isinstance(lines, bool) or not isinstance(lines, int):
                lines = None
            drawn = reply.get("drawn")
            if not isinstance(drawn, list):
                drawn = []
            consumed = reply.get("consumed")
            if not isinstance(consumed, dict):
                consumed = {}
            library_lines = reply.get("library_lines")
            if isinstance(library_lines, bool) or not isinstance(library_lines, int):
                library_lines = None
            objects = reply.get("objects")
            objects = clean_text(objects, 200) if isinstance(objects, str) else None
            changes = Changes(
                [clean_text(m, 100) for m in modified[:100] if isinstance(m, str)],
                [(clean_text(pair[0], 100), clean_text(pair[1], 100)) for pair in aliases[:20]
                 if isinstance(pair, list) and len(pair) == 2], lines,
                [clean_text(d, 100) for d in drawn[:20] if isinstance(d, str)],
                {name: n for name, n in consumed.items()
                 if name in CONSUMER_NAMES and type(n) is int and n >= 0},
                library_lines, objects)
            changes.overflowed = reply.get("overflowed") is True
            return value, changes
        kind = reply.get("kind")
        message_text = clean_text(reply.get("message", ""), 2000)
        detail = clean_text(reply.get("traceback", ""), 4000)
        if kind == "not_implemented":
            raise NotImplementedByStudent(message_text, detail)
        if kind == "import_error":
            raise StudentError(f"{IMPORT_FAILED}: {message_text}", detail)
        raise StudentError(message_text, detail)

    def call_full(self, target, *args, opaque=(), _watch=True, **kwargs):
        """Call ``coursework.<target>``; return (value, names of inputs it modified)."""
        return self._ask({"op": "call", "target": target, "args": wire.encode(list(args)),
                          "kwargs": wire.encode(kwargs), "opaque": list(opaque),
                          "watch": _watch}, handles=(args, kwargs))

    def call_watching_overflow(self, target, *args, opaque=(), **kwargs):
        """(value, overflowed): the value of ``coursework.<target>(...)`` and whether a NumPy
        operation overflowed during the call (``numpy.exp(800)`` is inf, with NumPy's
        RuntimeWarning; one whose warning the code silenced itself, with ``np.errstate`` or
        ``np.seterr``, is seen too: ``worker.watching_overflow``). A docstring that promises no
        overflow is checked with it."""
        value, changes = self._ask({"op": "call", "target": target,
                                    "args": wire.encode(list(args)),
                                    "kwargs": wire.encode(kwargs), "opaque": list(opaque),
                                    "watch": False, "watch_overflow": True},
                                   handles=(args, kwargs))
        return value, changes.overflowed

    def call(self, target, *args, opaque=(), **kwargs):
        """The value of ``coursework.<target>(...)``. Whether it modified its inputs is not
        asked (``call_full`` asks), so the worker does not copy them to find out: a large
        input (the speed tests' layers) costs no copy and no comparison."""
        return self.call_full(target, *args, opaque=opaque, _watch=False, **kwargs)[0]

    def call_counting(self, target, *args, opaque=(), **kwargs):
        """(value, lines, consumed, changes): the value of ``coursework.<target>(...)``, how
        many lines of the submission's code the call ran (``worker.LineCounter``; None when the
        worker did not say, -1 when the code turned the counting off), the items the builtins
        which go through an iterable in C took ({"sum": 260}: ``worker.count_consumers``), and
        ``runner.Changes`` with the lines of library code it ran and where it held an array of
        Python objects (``library_lines``, ``objects``)."""
        value, changes = self._ask({"op": "call", "target": target,
                                    "args": wire.encode(list(args)),
                                    "kwargs": wire.encode(kwargs), "opaque": list(opaque),
                                    "watch": False, "count_lines": True},
                                   handles=(args, kwargs))
        return value, changes.lines, changes.consumed, changes

    def method_full(self, handle, name, *args, opaque=(), _watch=True, **kwargs):
        return self._ask({"op": "method", "ref": handle.id, "name": name,
                          "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs),
                          "opaque": list(opaque), "watch": _watch},
                         handles=(handle, args, kwargs))

    def method(self, handle, name, *args, opaque=(), **kwargs):
        return self.method_full(handle, name, *args, opaque=opaque, _watch=False, **kwargs)[0]

    def new(self, target, *args, **kwargs):
        """Construct ``coursework.<target>(*args, **kwargs)`` in the worker; return its Handle."""
        self.on_new(target, args, kwargs)
        value, _ = self._ask({"op": "call", "target": target, "args": wire.encode(list(args)),
                              "kwargs": wire.encode(kwargs), "opaque": [0]},
                             handles=(args, kwargs))
        if not isinstance(value, wire.Handle):
            raise StudentError(f"{target}(...) did not return an object")
        return value

    def getattr(self, handle, name):
        return self._ask({"op": "getattr", "ref": handle.id, "name": name}, handles=(handle,))[0]

    def getitem(self, handle, key):
        return self._ask({"op": "getitem", "ref": handle.id, "name": key}, handles=(handle,))[0]

    def setattr(self, handle, name, value):
        self._ask({"op": "setattr", "ref": handle.id, "name": name,
                   "args": wire.encode([value])}, handles=(handle, value))

    def torch(self, name, *args, opaque=()):
        """Run ``torch_ops.<name>(*args)`` in the worker (PyTorch units; see torch_handles)."""
        return self._ask({"op": "torch", "name": name, "args": wire.encode(list(args)),
                          "opaque": list(opaque)}, handles=(args,))[0]

    def import_module(self, module):
        self._ask({"op": "import", "module": module})

    def output(self):
        return self.worker.captured_output()

    def hidden_output(self):
        """What the code printed while hidden cases were in progress (for the instructor)."""
        return self.worker.captured_output(hidden=True)
