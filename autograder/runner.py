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
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import sandbox, wire
from .paths import PACKAGE_DIR

WORKER_FILES = ("worker.py", "worker_boot.py", "wire.py", "worker_fns.py")
START_SECONDS = 60.0  # time allowed for the worker to start and import NumPy


class StudentFault(Exception):
    """Something went wrong in student code; ``status`` is its report status."""

    status = "error"

    def __init__(self, message, detail=""):
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotImplementedByStudent(StudentFault):
    status = "not_implemented"


class StudentError(StudentFault):
    status = "error"


class StudentTimeout(StudentFault):
    status = "timeout"


class StudentCrash(StudentFault):
    status = "crashed"


def numpy_site_dir():
    """The site-packages folder that holds NumPy, for the worker's sys.path."""
    return str(Path(np.__file__).resolve().parent.parent)


class Worker:
    """One worker process, with its pipes and its captured output."""

    def __init__(self, submission, limits, *, use_bwrap, hidden=()):
        self.submission = Path(submission).resolve()
        self.limits = limits
        self.use_bwrap = use_bwrap
        self.hidden = list(hidden)
        self.proc = None
        self.output = bytearray()
        self.output_dropped = 0
        self._dir = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self):
        self._dir = tempfile.mkdtemp(prefix="grader-worker-")
        for name in WORKER_FILES:
            shutil.copy(PACKAGE_DIR / name, Path(self._dir) / name)
        os.chmod(self._dir, 0o755)
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        argv = sandbox.worker_command(
            os.path.realpath(sys.executable), self._dir, self.submission, [numpy_site_dir()],
            req_r, rep_w, hidden=self.hidden, use_bwrap=self.use_bwrap,
        )
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=(req_r, rep_w), env=sandbox.worker_environment(self.limits),
                cwd=self._dir, start_new_session=True, close_fds=True,
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
            os.close(out_w)
        self._out_r = out_r
        os.set_blocking(self._out_r, False)
        self._request({"op": "ping"}, START_SECONDS, what="starting the worker")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """Kill the worker's whole process group (signals it ignores included) and clean up."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
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
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- requests ---------------------------------------------------------------------------
    def request(self, message, timeout):
        if not self.alive():
            self.kill()
            self.start()
        return self._request(message, timeout, what="the call")

    def _request(self, message, timeout, what):
        deadline = time.monotonic() + timeout
        try:
            wire.write_frame(self._req_w, message)
        except (BrokenPipeError, OSError):
            raise self._crashed(what) from None
        try:
            header = self._read(8, deadline, what)
            (size,) = struct.unpack(">Q", header)
            if size > wire.MAX_FRAME:
                self.kill()
                raise StudentError(f"the code sent back {size} bytes, more than the grader reads")
            return wire.parse_body(self._read(size, deadline, what))
        except EOFError:
            raise self._crashed(what) from None

    def _read(self, n, deadline, what):
        chunks, remaining = [], n
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise StudentTimeout(
                    f"{what} did not finish within {self.limits.call_seconds:g} s "
                    "(an infinite loop, or far too slow: is something not vectorized?)"
                )
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

    def _drain_output(self):
        while True:
            try:
                chunk = os.read(self._out_r, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += chunk[:room]
            self.output_dropped += max(0, len(chunk) - max(room, 0))

    def _crashed(self, what):
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._drain_output_safely()
        self.kill()
        return StudentCrash(f"the worker process died during {what} ({describe_exit(code)})",
                            self.captured_output())

    def _drain_output_safely(self):
        try:
            self._drain_output()
        except Exception:
            pass

    def captured_output(self):
        text = self.output.decode("utf-8", errors="replace")
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes of output not kept]"
        return text


def describe_exit(code):
    """Plain words for a process exit status."""
    if code is None:
        return "it did not exit"
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
        self.containment = sandbox.describe(use_bwrap)
        self.worker = Worker(submission, self.limits, use_bwrap=use_bwrap, hidden=hidden)
        self.calls = 0

    def close(self):
        self.worker.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ask(self, message, timeout=None):
        timeout = timeout or self.limits.call_seconds
        message.setdefault("cpu_seconds", self.limits.cpu_seconds)
        self.calls += 1
        try:
            reply = self.worker.request(message, timeout)
        except wire.WireError as exc:
            self.worker.kill()
            raise StudentError(f"the code sent back something the grader cannot read ({exc})")
        if not isinstance(reply, dict):
            raise StudentError("the worker answered with something that is not a reply")
        if reply.get("ok") is True:
            try:
                value = wire.decode(reply.get("value"))
            except wire.WireError as exc:
                raise StudentError(
                    f"the code returned something the grader cannot read ({exc}); return "
                    "NumPy arrays, numbers, tuples, lists or dicts"
                ) from None
            modified = reply.get("modified") or []
            return value, [str(m) for m in modified] if isinstance(modified, list) else []
        kind = reply.get("kind")
        message_text = str(reply.get("message", ""))[:2000]
        detail = str(reply.get("traceback", ""))[:4000]
        if kind == "not_implemented":
            raise NotImplementedByStudent(message_text, detail)
        if kind == "import_error":
            raise StudentError(f"the module could not be imported: {message_text}", detail)
        if kind == "protocol":
            raise StudentError(message_text, detail)
        raise StudentError(message_text, detail)

    def call_full(self, target, *args, opaque=(), **kwargs):
        """Call ``coursework.<target>``; return (value, names of inputs it modified)."""
        return self._ask({"op": "call", "target": target, "args": wire.encode(list(args)),
                          "kwargs": wire.encode(kwargs), "opaque": list(opaque)})

    def call(self, target, *args, opaque=(), **kwargs):
        return self.call_full(target, *args, opaque=opaque, **kwargs)[0]

    def method_full(self, handle, name, *args, opaque=(), **kwargs):
        return self._ask({"op": "method", "ref": handle.id, "name": name,
                          "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs),
                          "opaque": list(opaque)})

    def method(self, handle, name, *args, opaque=(), **kwargs):
        return self.method_full(handle, name, *args, opaque=opaque, **kwargs)[0]

    def new(self, target, *args, **kwargs):
        """Construct ``coursework.<target>(*args, **kwargs)`` in the worker; return its Handle."""
        value, _ = self._ask({"op": "call", "target": target, "args": wire.encode(list(args)),
                              "kwargs": wire.encode(kwargs), "opaque": [0]})
        if not isinstance(value, wire.Handle):
            raise StudentError(f"{target}(...) did not return an object")
        return value

    def getattr(self, handle, name):
        return self._ask({"op": "getattr", "ref": handle.id, "name": name})[0]

    def getitem(self, handle, key):
        return self._ask({"op": "getitem", "ref": handle.id, "name": key})[0]

    def setattr(self, handle, name, value):
        self._ask({"op": "setattr", "ref": handle.id, "name": name,
                   "args": wire.encode([value])})

    def import_module(self, module):
        self._ask({"op": "import", "module": module})

    def output(self):
        return self.worker.captured_output()
