"""The worker: the only process in which student code runs.

Started by the judge (``runner.py``) inside the sandbox as
``python -I -S -B worker.py REQUEST_FD REPLY_FD SUBMISSION_DIR [SITE_DIR ...]``.
It imports the submission's ``coursework`` modules on demand, calls what the judge asks for, and
answers with plain data (``wire``). Objects that are not plain data (a layer's cache, a model)
stay here and are named by a Handle. This file is copied into the sandbox and imports only the
standard library, NumPy and its sibling modules ``wire`` and ``worker_fns``.

Nothing here is trusted by the judge: student code can rewrite any of it at run time. The judge
checks every answer itself.
"""

import importlib
import resource
import sys
import time
import traceback

MAX_TRACEBACK = 4000


_SUBMISSION = None  # the submission's folder (argv[3]), whose code LineCounter counts
_LIBRARY = ()  # the folders of sys.path at start (library code: LineCounter does not count it)
_TORCH_OPS = None  # the worker's torch_ops module (PyTorch units), as loaded at start


class LineCounter:
    """How many lines of the submission's own code a call runs (``sys.settrace`` on the frames
    of files under the submission's folder; a loop's line counts once per iteration, in a
    comprehension too). The judge compares the counts of calls that differ in one size only:
    code that loops over examples runs more lines for more examples, vectorized code does not.

    With ``library`` (the folders of the standard library, the unit's packages and the worker's
    files: ``_LIBRARY``), every frame whose code comes from none of them counts too: a loop
    compiled from a string (``timeit.timeit(source)``, ``ctypes.pythonapi.PyRun_SimpleString``)
    or imported from a file the code wrote to /tmp is the submission's code, and ran uncounted.
    Python's frozen modules ("<frozen posixpath>") are library code.

    With ``library``, the lines run in library frames are counted apart (``library_count``):
    vectorized NumPy code runs a fixed number of them whatever the size, while a loop over the
    data handed to library Python code (``statistics.mean``, ``np.apply_along_axis``,
    ``heapq.nsmallest``) runs more for more examples. And every frame that returns (the
    student's and the library's) has its local names and its value looked at for an array of
    Python objects (``objects``: the first one seen, described), an array whose every ufunc
    calls NumPy once per element, however its dtype was spelled. NumPy's array printing
    (``numpy/_core/arrayprint.py``: ``print(x)``, ``f"{x}"``, ``repr``, a logged or warned array;
    the ``__str__``/``__repr__`` of ``numpy.ma``), with all it calls, is neither counted nor
    looked at (a masked array prints through an array of Python objects): it formats every
    element in Python, so a debugging ``print(dW)`` left in a
    vectorized function ran more library lines for more examples, but it computes nothing the
    function returns (a ``formatter=`` of the package's own still runs counted student lines),
    and arrays of more than 1000 entries print summarized.

    ``stop`` answers -1 when the call removed or replaced the tracer (the count means nothing
    then)."""

    def __init__(self, *folders, library=None):
        import os

        self.prefixes = tuple({os.path.join(path, "") for folder in folders
                               for path in (folder, os.path.realpath(folder))})
        self.library = None if library is None else tuple(
            {os.path.join(path, "") for folder in library
             for path in (folder, os.path.realpath(folder))}) + ("<frozen ",)
        # the worker's own files (count_consumers' counting generator) are not the library's
        self.own = tuple({os.path.join(os.path.dirname(path), "")
                          for path in (os.path.abspath(__file__), os.path.realpath(__file__))})
        self.count = 0
        self.library_count = 0
        self.objects = None  # where an array of Python objects was first seen ("f's x")
        self._array = None
        self._display = None  # NumPy's array printing (``_display_files``: not counted)
        self._depth = 0  # how many frames of NumPy's array printing are running

    def _frames(self, frame, event, arg):
        name = frame.f_code.co_filename
        if name.startswith(self.prefixes) or (self.library is not None
                                              and not name.startswith(self.library)):
            return self._lines
        if self.library is not None and not name.startswith(self.own):
            if self._depth:  # called by NumPy's array printing: neither counted nor looked at
                return None
            if _displays(self._display, frame.f_code):
                self._depth += 1
                return self._display_lines
            return self._library_lines
        return None

    def _lines(self, frame, event, arg):
        if event == "line":
            self.count += 1
        elif event == "return" and self.objects is None and self._array is not None:
            self._look(frame, arg)
        return self._lines

    def _library_lines(self, frame, event, arg):
        if event == "line":
            self.library_count += 1
        elif event == "return" and self.objects is None and self._array is not None:
            self._look(frame, arg)
        return self._library_lines

    def _display_lines(self, frame, event, arg):
        if event == "return":
            self._depth -= 1
        return self._display_lines

    def _look(self, frame, value):
        """Note the first array of Python objects among a returning frame's locals and value
        (and the items of a list, tuple or dict among them, one level down). Only exact types
        are read, and a dtype through ndarray's own descriptor: no code of the hand-in runs."""
        array, dtype = self._array
        named = [("its value", value)]
        try:
            named += list(frame.f_locals.items())
        except Exception:  # noqa: BLE001 - a frame whose locals cannot be read
            pass
        for where, item in named:
            kind = type(item)
            if kind in (list, tuple):
                inner = item[:20]
            elif kind is dict:
                inner = list(item.values())[:20]
            else:
                inner = (item,)
            for one in inner:
                if issubclass(type(one), array) and dtype.__get__(one).hasobject:
                    self.objects = f"{where} in {frame.f_code.co_name}()"[:200]
                    return

    def start(self):
        self.count = 0
        self.library_count = 0
        self.objects = None
        self._depth = 0
        if self.library is not None and self._array is None:
            numpy = globals().get("np")  # the worker's own (main); None in another process
            if numpy is not None:
                self._array = (numpy.ndarray, numpy.ndarray.__dict__["dtype"])
        if self.library is not None and not self._display:
            self._display = _display_files()
        self._gettrace = sys.gettrace
        sys.settrace(self._frames)
        sys.gettrace = _no_trace  # code that asks sees no tracer (and cannot behave otherwise)

    def stop(self):
        sys.gettrace = self._gettrace
        intact = sys.gettrace() == self._frames
        sys.settrace(None)
        return self.count if intact else -1


def _no_trace():
    return None


def _display_files():
    """NumPy's array printing, for ``LineCounter`` and ``count_consumers``: {file name (as code
    objects name it): None (all its code) or the names of its functions that print}: the
    module ``arrayprint`` and the ``__str__``/``__repr__`` of ``numpy.ma`` (a masked array
    prints through an array of Python objects, "--" where masked). Empty where NumPy is not
    loaded."""
    import os

    names = {}
    for module in ("numpy._core.arrayprint", "numpy.core.arrayprint"):
        path = getattr(sys.modules.get(module), "__file__", None)
        if path:
            names.update(dict.fromkeys((path, os.path.realpath(path))))
    numpy = getattr(sys.modules.get("numpy"), "__file__", None)
    if numpy:
        path = os.path.join(os.path.dirname(numpy), "ma", "core.py")
        names.update(dict.fromkeys((path, os.path.realpath(path)),
                                   frozenset(("__str__", "__repr__"))))
    return names


def _displays(display, code):
    """Whether ``code`` prints arrays (``_display_files``)."""
    scope = display.get(code.co_filename, False)
    return scope is None or (scope is not False and code.co_name in scope)


# The builtins that go through an iterable in C, one operation of its own per item: sum(X) adds
# X's N rows one by one (N NumPy additions), min/max/sorted compare them, math.prod multiplies
# them. No line of the hand-in runs per item, so the line counts cannot see that loop; the items
# these functions take during a counted call are counted instead (``count_consumers``).
CONSUMERS = (("builtins", "sum"), ("builtins", "min"), ("builtins", "max"),
             ("builtins", "sorted"), ("math", "prod"), ("math", "fsum"))
_CONSUMED = None  # (begin, end) of the consumers' counts, once count_consumers has run


def count_consumers():
    """Replace the ``CONSUMERS`` (in their modules, and wherever a loaded module keeps them under
    any name: NumPy's ``_sum_``) by functions that call them unchanged and, while a counted call
    runs, count the items each takes from its iterable (``min(h, w)``: its arguments, two at
    every size; ``max(*y)``: as many as y has). Returns (begin, end): ``begin()`` starts the
    counts, ``end()`` stops them and returns {name: items}.

    Called once at start, before any student code runs (the guard then keeps the replacements):
    a name bound at import (``from math import prod``, ``s = sum``) is the replacement too. The
    originals and the counts live in this closure only (``__closure__``, ``__wrapped__``,
    ``f_locals``, ``inspect.getclosurevars`` and ``inspect.getargvalues`` are hidden code to the
    loop rule). A list, tuple or NumPy array (of exactly those classes) is counted by its length
    (no code of the hand-in runs); any other iterable is passed through a generator that counts
    what it yields, so results, errors and keyword arguments (``sum(x, start=...)``, ``min(x,
    default=0)``, ``sorted(x, key=...)``) are those of the original. Outside a counted call a
    replacement only calls the original, and so does one called by NumPy's array printing
    (``print(x)`` takes the widest of x's formatted entries with ``max``)."""
    import builtins
    import math

    import numpy

    tally = [None]  # {name: items} while a counted call runs, else None
    sized = (list, tuple, range, dict, set, frozenset, str, bytes)
    array = numpy.ndarray
    modules = {"builtins": builtins, "math": math}
    display = _display_files()  # NumPy's array printing: not counted (``LineCounter``)

    def counting(iterable, counts, name):
        for item in iterable:
            counts[name] = counts.get(name, 0) + 1
            yield item

    def counted(name, original, several):
        def consumer(*args, **kwargs):
            counts = tally[0]
            if counts is None or not args or _displays(display, sys._getframe(1).f_code):
                return original(*args, **kwargs)
            if several and len(args) > 1:  # max(h, w) takes 2 items; max(*y) takes len(y)
                counts[name] = counts.get(name, 0) + len(args)
                return original(*args, **kwargs)
            first = args[0]
            kind = type(first)
            if kind in sized:
                counts[name] = counts.get(name, 0) + len(first)
            elif kind is array:
                counts[name] = counts.get(name, 0) + (first.shape[0] if first.ndim else 0)
            else:
                return original(counting(first, counts, name), *args[1:], **kwargs)
            return original(*args, **kwargs)

        consumer.__name__ = consumer.__qualname__ = original.__name__
        consumer.__doc__ = original.__doc__
        consumer.__module__ = original.__module__
        return consumer

    replacements = {}
    for module, attr in CONSUMERS:
        original = getattr(modules[module], attr)
        name = attr if module == "builtins" else f"{module}.{attr}"
        replacements[id(original)] = (original, counted(name, original, attr in ("min", "max")))
    for module in list(sys.modules.values()):
        try:
            namespace = vars(module)
        except Exception:  # noqa: BLE001 - an entry of sys.modules that is no module
            continue
        if type(namespace) is not dict:
            continue
        for key, value in list(namespace.items()):
            found = replacements.get(id(value))
            if found is not None and found[0] is value:
                namespace[key] = found[1]

    def begin():
        tally[0] = {}

    def end():
        counts, tally[0] = tally[0], None
        return counts if type(counts) is dict else {}

    return begin, end


def main(argv):
    request_fd, reply_fd, submission = int(argv[1]), int(argv[2]), argv[3]
    site_dirs = argv[4:]
    sys.path.extend(d for d in site_dirs if d not in sys.path)
    global np, wire, worker_fns, _DEVICE, _SUBMISSION, _TORCH_OPS, _LIBRARY, _CONSUMED
    _SUBMISSION = submission
    import os

    # before the guard saves the worker's globals (restore puts them back as they are then)
    _LIBRARY = tuple(folder for folder in sys.path if folder)

    import numpy as np
    import wire
    import worker_fns

    # before PyTorch loads and the guard saves builtins and math (restore keeps the replacements)
    _CONSUMED = count_consumers()

    _DEVICE = _Device(os.environ)
    import builtins

    # Nobody answers a prompt or a debugger while grading: say so, instead of an EOFError or
    # pdb's BdbQuit. (Set before the guard saves builtins: restore keeps these.)
    builtins.input = _no_input
    sys.breakpointhook = _no_breakpoint
    import importlib.util
    import math

    if importlib.util.find_spec("torch") is not None:
        # loaded now, before any student code, so that its state is known untouched (a unit that
        # may use PyTorch loads it on its first call anyway)
        import torch  # noqa: F401
        import torch.nn.functional  # noqa: F401
    from worker_guard import Guard

    if "torch" in sys.modules:
        import torch_ops

        _TORCH_OPS = torch_ops  # kept here: sys.modules["torch_ops"] is student-writable
    # saved now, with the worker's own globals set (restore puts them back)
    guard = Guard([sys.modules[__name__], wire, worker_fns, np, math, builtins])
    guard.watch_torch()
    if _TORCH_OPS is not None:
        _TORCH_OPS.SETTLE = guard.restore  # its checks after student code, on restored state
        guard.add(_TORCH_OPS)
        guard.add_contents(_TORCH_OPS.OPS)
    import gc

    gc.collect()
    gc.freeze()  # what is loaded now is never garbage: a settle's collection skips it (80 ms)

    # Only now, with the worker's own modules loaded, may the submission shadow module names.
    sys.path.insert(0, submission)

    objects = {}
    next_id = [1]

    def keep(obj):
        ident = next_id[0]
        next_id[0] += 1
        objects[ident] = obj
        return wire.Handle(ident, type(obj).__name__)

    def resolve(tag, item):
        if tag == "ref":
            if item.id not in objects:
                raise wire.WireError(f"unknown handle {item.id}")
            return objects[item.id]
        if tag == "rng":
            return np.random.default_rng(item.n)
        fn = worker_fns.make(item.name, item.params)
        return _DEVICE.trusted(fn) if _DEVICE.on else fn

    def encode_result(value, opaque):
        if isinstance(value, tuple) and opaque:
            return {"$tuple": [wire.encode(keep(v)) if i in opaque else encode_or_keep(v)
                               for i, v in enumerate(value)]}
        if opaque == [0] and not isinstance(value, tuple):
            return wire.encode(keep(value))
        return encode_or_keep(value)

    def encode_or_keep(value):
        try:
            return wire.encode(value)
        except wire.Unencodable:
            return wire.encode(keep(value))

    if os.environ.get("GRADER_FORK") == "1":
        _fork_server(request_fd)  # returns in a fresh child, the one that runs student code
    from worker_guard import FORKED, ForkWatch

    forks = ForkWatch()

    while True:
        try:
            request = wire.read_frame(request_fd)
        except EOFError:
            return 0
        if request.get("op") == "fresh":  # the judge wants a process that never ran a case
            wire.write_frame(reply_fd, {"ok": True, "value": None, "id": request.get("id")})
            os._exit(FRESH_EXIT)
        guard.restore()
        forks.reset()
        try:
            reply = handle(request, resolve, encode_result, objects, guard)
        except BaseException as exc:  # noqa: BLE001 - a result whose encoding runs student code
            guard.restore()
            reply = _failure(exc, phase="call")
        if forks.in_copy():  # a copy the code forked: only the serving process answers
            forks.returned[0] = 1
            os._exit(0)
        if forks.ran_copy():
            reply = {"ok": False, "kind": "error", "message": FORKED, "traceback": ""}
        _flush_output()
        reply["id"] = request.get("id")
        try:
            wire.write_frame(reply_fd, reply)
        except (wire.WireError, ValueError, TypeError, RecursionError, MemoryError) as exc:
            wire.write_frame(reply_fd, {"ok": False, "kind": "protocol", "id": request.get("id"),
                                        "message": f"the result could not be sent: "
                                                   f"{_text(exc)[:500]}"})


# The exit status of a serving child asked for a fresh successor ("fresh").
FRESH_EXIT = 86


def _fork_server(request_fd):
    """Keep this process as it is now (NumPy, PyTorch and the worker's modules loaded; no student
    code imported, no case seen) and serve requests from forked children: a child that is asked
    for a fresh successor exits, and the next child starts from this state again, in
    milliseconds (a new worker takes seconds to load PyTorch). The judge asks for one before a
    public case in a worker that ran a hidden case, so nothing the code kept of the hidden inputs
    reaches what the student sees. Any other end of a child ends this process the same way, as
    if there were no fork (the judge reads its exit status)."""
    import os

    while True:
        child = os.fork()
        if child == 0:
            new_session_keyring()  # not the one the last child (or the judge) could write to
            return
        while True:  # reap orphans adopted as subreaper until the serving child ends
            pid, status = os.waitpid(-1, 0)
            if pid == child:
                break
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == FRESH_EXIT):
            _end_like(status)
        # what the old child forked (to go on serving in its place, or to keep what it saw)
        # ends before the new child starts; the judge checks that only the new one is left
        _end_children()
        # frames the old child wrote into the request channel (through /proc/self/fd) for its
        # successor to run first: the judge writes nothing until that successor exists
        _drain(request_fd)
        if os.environ.get("GRADER_PRIVATE_TMP") == "1":
            _empty("/tmp")
            _empty("/dev/shm")
            _remove_ipc()  # the sandbox's own IPC namespace, shared by the forked children
        if os.environ.get("GRADER_UID"):  # a fresh user id: its keyrings are this worker's own
            _keyctl(_KEYCTL_CLEAR, _KEY_SPEC_USER_KEYRING)
            _keyctl(_KEYCTL_CLEAR, _KEY_SPEC_USER_SESSION_KEYRING)


# The kernel's keyrings outlive a process: a key added by a child that ran hidden cases would be
# there for the next one (its user keyring, the session keyring it inherited). keyctl(2) by its
# system call number (there is no wrapper in the C library).
_KEYCTL_SYSCALL = {"x86_64": 250, "amd64": 250, "aarch64": 219, "arm64": 219, "riscv64": 219,
                   "i386": 288, "i686": 288, "armv7l": 311, "ppc64le": 311, "s390x": 280}
_KEYCTL_JOIN_SESSION_KEYRING, _KEYCTL_CLEAR = 1, 7
_KEY_SPEC_USER_KEYRING, _KEY_SPEC_USER_SESSION_KEYRING = -4, -5


def _keyctl(*args):
    """keyctl(2) on Linux, or -1 (elsewhere, or where it fails)."""
    import platform

    number = _KEYCTL_SYSCALL.get(platform.machine()) if sys.platform.startswith("linux") else None
    if number is None:
        return -1
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(number, *[ctypes.c_long(a) if isinstance(a, int) else a
                                      for a in args])
    except (OSError, AttributeError):
        return -1


def new_session_keyring():
    """Join a new, empty session keyring of this process's own (KEYCTL_JOIN_SESSION_KEYRING with
    no name): what it adds there is not in the judge's session keyring, nor in a later
    child's."""
    return _keyctl(_KEYCTL_JOIN_SESSION_KEYRING, None)


def _drain(fd):
    """Read and drop what is waiting in the pipe ``fd``."""
    import os

    try:
        os.set_blocking(fd, False)
    except OSError:
        return
    try:
        while os.read(fd, 1 << 20):
            pass
    except OSError:  # BlockingIOError: empty
        pass
    finally:
        os.set_blocking(fd, True)


def _end_children():
    """Stop, kill and reap every child of this process (orphans it adopted as subreaper
    included; their own children come to it as they die, and are taken in the next round)."""
    import os
    import signal

    for _ in range(100):
        kids = set()
        try:
            for tid in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{tid}/children", "rb") as f:
                    kids.update(int(p) for p in f.read().split())
        except (OSError, ValueError):
            pass
        if not kids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in kids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


def _remove_ipc():
    """Remove every System V shared memory segment, message queue and semaphore set of the
    sandbox's private IPC namespace (read from /proc/sysvipc): a child kept the hidden inputs
    there for the next one to read."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    ipc_rmid = 0
    for kind, remove in (("shm", lambda i: libc.shmctl(i, ipc_rmid, None)),
                         ("msg", lambda i: libc.msgctl(i, ipc_rmid, None)),
                         ("sem", lambda i: libc.semctl(i, 0, ipc_rmid))):
        for ident in _ipc_ids(kind):
            remove(ident)


def _ipc_ids(kind, uid=None):
    """The ids of the System V IPC objects of ``kind`` ("shm", "msg", "sem"), of the owner
    ``uid`` only when given, from /proc/sysvipc (``sandbox.remove_files_of`` uses it too)."""
    out = []
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            header = f.readline().split()
            column, owner = header.index("shmid" if kind == "shm" else f"{kind}id"), \
                header.index("uid")
            for line in f:
                fields = line.split()
                if uid is None or int(fields[owner]) == uid:
                    out.append(int(fields[column]))
    except (OSError, ValueError, IndexError):
        pass
    return out


def _end_like(status):
    import os
    import signal

    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _empty(folder, budget=200_000):
    """Remove what the last child left in the sandbox's private ``folder``, also inside folders
    it made unreadable to itself (mode 000: a plain removal skips them, and the next child, the
    same user, could give the permissions back and read what they hold). One descriptor at a
    time, going down by name and up by "..", so any depth is reached (nothing else runs now);
    at most ``budget`` entries are visited."""
    import os
    import stat

    flags = os.O_RDONLY | os.O_DIRECTORY
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    depth, stuck = 0, set()  # folders that could not be emptied: not entered again
    try:
        while budget > 0:
            try:
                names = os.listdir(fd)
            except OSError:
                names = []
            child = None
            for name in names:
                budget -= 1
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    if not stat.S_ISDIR(info.st_mode):
                        os.unlink(name, dir_fd=fd)
                        continue
                    if (info.st_dev, info.st_ino) in stuck:
                        continue
                    os.chmod(name, 0o700, dir_fd=fd)
                    try:
                        os.rmdir(name, dir_fd=fd)
                        continue
                    except OSError:
                        pass
                    child = os.open(name, flags | os.O_NOFOLLOW, dir_fd=fd)
                    break
                except OSError:
                    continue
            if child is not None:
                os.close(fd)
                fd, depth = child, depth + 1
                continue
            if depth == 0:
                return
            try:  # this folder is as empty as it gets: mark it if something is left
                if os.listdir(fd):
                    info = os.fstat(fd)
                    stuck.add((info.st_dev, info.st_ino))
            except OSError:
                pass
            parent = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd, depth = parent, depth - 1
    except OSError:
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def _flush_output():
    """Push what student code printed to the judge now (it is captured per call)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream
            pass


def _text(exc):
    """str(exc), even for an exception whose __str__ fails."""
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return f"<{_type_name(exc)} that cannot be printed>"


def _type_name(exc):
    """The name of an exception's class as the report shows it: the name itself where it is an
    identifier of at most 80 characters (``ValueError``, a class of the hand-in's own named
    ``ShapeError``); any other name (``type("the grader could not check this function",
    (Exception,), {})``) is quoted and said to be the hand-in's, so that no words it chose pose
    as the grader's. Read as a plain str, without calling any method of the hand-in's (a str
    subclass set as ``__name__`` may override ``__format__`` or ``isidentifier``)."""
    name = str.__str__(type(exc).__name__)
    if name.isidentifier() and len(name) <= 80:
        return name
    return f"an exception of a class the hand-in defined, named {name[:200]!r}"


def _target(name):
    """Import coursework.<module> and return the attribute named by 'module.attr'."""
    module_name, _, attr = name.partition(".")
    module = importlib.import_module(f"coursework.{module_name}")
    _from_hand_in(module_name, getattr(module, "__file__", None))
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise LookupError(f"coursework/{module_name}.py has no {attr!r}: was it renamed or "
                              f"deleted?{_close_names(obj, part)} Keep the names of the stubs")
        obj = getattr(obj, part)
    code = getattr(obj, "__code__", None)
    if isinstance(code, type(_target.__code__)):
        _from_hand_in(module_name, _unwrapped(obj).__code__.co_filename, attr)
    elif isinstance(obj, type):
        _from_hand_in(module_name, getattr(sys.modules.get(obj.__module__), "__file__", None),
                      attr)
    return obj


def _unwrapped(function):
    """The function whose file says where ``function`` comes from: itself, or where its code is
    a library's wrapper (``@np.errstate(over="ignore")``, any ``functools.wraps`` decorator of
    NumPy or the standard library, whose code lies in a folder of the worker's ``sys.path`` at
    start) the function it wraps (``__wrapped__``, a plain function's attribute: no code of the
    hand-in runs to read it). A wrapper written anywhere else is judged by its own file, and so
    is one whose ``__wrapped__`` is not the function it calls (one of its closure's cells): a
    hand-in may set ``__wrapped__`` (``functools.update_wrapper(np.errstate(...)(foreign),
    innocent)``), and the function named there then vouches for code it is not."""
    import os

    submission = os.path.realpath(_SUBMISSION or "") + os.sep
    # the packages' folder holds links to the installed packages: a file's path is compared as
    # it was loaded, not resolved
    folders = tuple(os.path.normpath(folder) + os.sep for folder in _LIBRARY)
    plain = type(_unwrapped)
    for _ in range(8):
        if type(function) is not plain:
            return function
        path = function.__code__.co_filename
        inner = function.__dict__.get("__wrapped__")
        if not isinstance(path, str) or os.path.realpath(path).startswith(submission) or \
                not os.path.normpath(path).startswith(folders) or type(inner) is not plain \
                or not _closes_over(function, inner):
            return function
        function = inner
    return function


def _closes_over(function, inner):
    """Whether one of ``function``'s closure cells holds ``inner`` itself (a cell's contents are
    read by the interpreter: no code of the hand-in runs)."""
    for cell in function.__closure__ or ():
        try:
            if cell.cell_contents is inner:
                return True
        except ValueError:  # an empty cell
            continue
    return False


def _from_hand_in(module_name, path, attr=None):
    """Refuse code that was not loaded from the hand-in's staged files (a package ``__path__`` or
    ``sys.path`` pointed at a copy written to /tmp): the grader reads the staged files, and what
    runs must be what it reads."""
    import os

    staged = os.path.join(os.path.realpath(_SUBMISSION), "coursework") + os.sep
    if isinstance(path, str) and os.path.realpath(path).startswith(staged):
        return
    what = f"{attr} of coursework/{module_name}.py" if attr else f"coursework/{module_name}.py"
    raise LookupError(f"{what} was not loaded from the hand-in's files (it comes from "
                      f"{str(path)[:200]}): the grader runs only the files it reads; do not change "
                      "the package's __path__, sys.path or the import machinery")


def _close_names(obj, name):
    """The sentence naming the attribute of ``obj`` closest to ``name`` (a typo such as
    'svm_los_naive'), or "" when none is close."""
    import difflib

    try:
        names = [n for n in vars(obj) if isinstance(n, str)]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    except Exception:  # noqa: BLE001 - a namespace of student code
        return ""
    return f" It has {close[0][:100]!r}." if close else ""


class _Device:
    """Arrays on arrival and on return when the judge grades on a GPU (GRADER_DEVICE=cuda):
    NumPy inputs become CuPy arrays, or CUDA tensors for the modules of PyTorch units
    (GRADER_TORCH_MODULES), and what a call returns comes back as NumPy. On the CPU (the
    default) nothing is converted."""

    def __init__(self, environ):
        self.on = environ.get("GRADER_DEVICE") == "cuda"
        self.torch_modules = set(filter(None, environ.get("GRADER_TORCH_MODULES", "").split(",")))
        self._libs = {}

    def kind_for(self, module):
        """'torch' for a call into a PyTorch unit's module ('architectures' or
        'coursework.architectures'), 'cupy' otherwise."""
        name = str(module).split(".")[-1] if str(module).startswith("coursework.") else \
            str(module).split(".")[0]
        return "torch" if name in self.torch_modules else "cupy"

    def lib(self, kind):
        if kind not in self._libs:
            self._libs[kind] = importlib.import_module("torch" if kind == "torch" else "cupy")
        return self._libs[kind]

    def to_device(self, obj, kind="cupy"):
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            lib = self.lib(kind)
            if kind == "torch":
                return lib.as_tensor(obj, device="cuda")
            return lib.asarray(obj)
        if type(obj) in (list, tuple):
            return type(obj)(self.to_device(v, kind) for v in obj)
        if type(obj) is dict:
            return {k: self.to_device(v, kind) for k, v in obj.items()}
        return obj

    def to_host(self, obj, opaque=()):
        if type(obj) is tuple:
            return tuple(v if i in opaque else self.to_host(v) for i, v in enumerate(obj))
        if opaque == [0]:
            return obj
        if type(obj) is list:
            return [self.to_host(v) for v in obj]
        if type(obj) is dict:
            return {k: self.to_host(v) for k, v in obj.items()}
        module = type(obj).__module__.split(".")[0]
        if module == "cupy" and hasattr(obj, "get"):
            # a 0-d result becomes a NumPy scalar, as NumPy's own reductions return
            return obj.get()[()] if obj.ndim == 0 else obj.get()
        if module == "torch" and hasattr(obj, "detach"):
            host = obj.detach().cpu().numpy()
            return host[()] if host.ndim == 0 else host
        return obj

    def trusted(self, fn):
        """A trusted function of the judge (worker_fns, NumPy) called with device arrays: its
        inputs go to the host and the arrays of its result (in tuples, lists and dicts too) to
        the device of the first device input."""
        def on_host(*args):
            value = fn(*[self.to_host(a) for a in args])
            on_device = [a for a in args if type(a).__module__.split(".")[0] in ("cupy", "torch")]
            if not on_device:
                return value
            kind = "torch" if type(on_device[0]).__module__.startswith("torch") else "cupy"
            # every array of the result, a tuple's too (a loss's (value, gradient))
            return self.to_device(value, kind)

        on_host.reads_owner = getattr(fn, "reads_owner", False)
        return on_host


_DEVICE = _Device({})


def owned(value, owner):
    """``value`` as an attribute of ``owner``: a trusted stand-in for a method (a worker_fns
    function marked ``reads_owner``) gets a reader of owner's attributes, on the host, before
    its arguments, as a method gets self; anything else as it is."""
    if not getattr(value, "reads_owner", False):
        return value

    def read(name):
        return _DEVICE.to_host(getattr(owner, name))

    def method(*args, **kwargs):
        return value(read, *args, **kwargs)
    return method


# How deep _snapshot looks into lists, tuples and dicts (a list of per-image dicts of arrays is
# depth 2), and how many arrays it copies at most.
SNAPSHOT_DEPTH, SNAPSHOT_ARRAYS = 3, 5000


def _snapshot(args, kwargs):
    """(name, argument, copy) of every array argument, and of the lists, tuples and dicts among
    the arguments (a layer's state, a list of detections per image) with the arrays in them
    ('3', "3['running_mean']", "1[0]['scores']"), to detect changes in place: an array changed,
    a list or dict whose entries were added, removed or replaced."""
    snapshot = []
    for name, a in [(str(i), a) for i, a in enumerate(args)] + list(kwargs.items()):
        _snapshot_into(snapshot, name, a, SNAPSHOT_DEPTH)
    # immutable all through (a tuple of tuples, bytes): code that walks the stack to the
    # caller's frame cannot empty it or make a copy match its change
    return tuple(snapshot)


def generator_states(args, kwargs):
    """(name, generator, a copy of its state) of every ``numpy.random.Generator`` argument (a
    ``Seed`` decoded here, or the student's own): ``drawn`` then tells which ones the call drew
    from ("Test mode draws nothing")."""
    import copy

    import numpy

    states = []
    for name, a in [(str(i), a) for i, a in enumerate(args)] + list(kwargs.items()):
        if isinstance(a, numpy.random.Generator):
            try:
                states.append((name, a, copy.deepcopy(a.bit_generator.state)))
            except BaseException:  # noqa: BLE001 - a generator whose state cannot be read
                states.append((name, a, None))
    return states


def drawn(states):
    """The names among ``generator_states``' whose state the call changed (or that can no
    longer be read)."""
    out = []
    for name, generator, before in states:
        try:
            changed = before is None or generator.bit_generator.state != before
        except BaseException:  # noqa: BLE001
            changed = True
        if changed:
            out.append(name)
    return out


def _snapshot_into(snapshot, name, a, depth):
    if len(snapshot) >= SNAPSHOT_ARRAYS:
        return
    if _is_array(a):
        copy = np.ascontiguousarray(_host(a))
        snapshot.append((name, a, ("array", type(a), copy.shape, copy.dtype.str,
                                   copy.tobytes())))
    elif depth > 0 and type(a) is dict:
        snapshot.append((name, a, ("dict", tuple(a.items()))))
        for k, v in a.items():
            _snapshot_into(snapshot, f"{name}[{k!r}]", v, depth - 1)
    elif depth > 0 and type(a) in (list, tuple):
        if type(a) is list:
            snapshot.append((name, a, ("list", tuple(a))))
        for i, v in enumerate(a):
            _snapshot_into(snapshot, f"{name}[{i}]", v, depth - 1)


def _modified(snapshot):
    """The names of the arguments (and places inside them) that changed; a dict whose entries
    were assigned or removed is named by those entries, marked: "3['running_mean'] (assigned)"
    (the arrays may be new: the dict given is what changed)."""
    modified = []
    for name, a, before in snapshot:
        if not _changed(a, before):
            continue
        if before[0] == "dict" and type(a) is dict:
            modified += dict_entries_changed(name, a, dict(before[1])) or [name]
        else:
            modified.append(name)
    return modified


def dict_entries_changed(name, a, saved):
    """The entries of the dict argument ``name`` assigned or removed since it was ``saved``
    (at most 4), as ``_modified`` names them."""
    entries = [f"{name}[{k!r}] (assigned)" for k, v in a.items()
               if k not in saved or saved[k] is not v]
    entries += [f"{name}[{k!r}] (removed)" for k in saved if k not in a]
    return entries[:4]


def _changed(a, before):
    kind, *saved = before
    if kind == "dict":  # an entry added, removed or replaced
        (items,) = saved
        return type(a) is not dict or len(a) != len(items) or any(
            k not in a or a[k] is not v for k, v in items)
    if kind == "list":
        (items,) = saved
        return type(a) is not list or len(a) != len(items) or any(
            x is not y for x, y in zip(a, items))
    cls, shape, dtype, data = saved
    if type(a) is not cls:  # its class swapped for one whose methods lie
        return True
    a = np.ascontiguousarray(_host(a))
    if a.shape != shape or a.dtype.str != dtype:
        return True
    if a.tobytes() == data:  # a value written back exactly (a probe restored) is no change
        return False
    before = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
    # equal values in other bits (-0.0 for 0.0, another NaN) are no change either; NaN equals
    # NaN for floats only: NumPy 2.5's array_equal(equal_nan=True) raises on bools
    floats = a.dtype.kind in "fc"
    return not np.array_equal(a, before, equal_nan=floats)


def as_parts(value, opaque):
    """The result whose parts ``opaque`` the judge keeps: a list [out, cache] is the tuple
    (out, cache) the docstrings ask for (the caller's unpacking takes either, and compare.py
    takes a list for a tuple), so its parts are kept, and its arrays checked for aliases, alike.
    Without kept parts a list stays a list. A plain list only: iterating a subclass would run
    student code after the guard is restored."""
    return tuple(value) if opaque and type(value) is list else value


def _aliases(value, opaque, args, kwargs):
    """[result path, input name] for each array, list or dict of the result (but its opaque
    parts: a cache may hold the inputs) that is an input, or inside one, or a NumPy view or
    PyTorch tensor sharing memory with an input array: ["result", "0"],
    ["result[2]", "3['running_mean']"]. The judge decides where a new object is required."""
    inputs = []
    for name, a in [(str(i), a) for i, a in enumerate(args)] + list(kwargs.items()):
        _containers(inputs, name, a, 2)
    outputs = []
    if isinstance(value, tuple):
        for i, v in enumerate(value):
            if i not in opaque:
                _containers(outputs, f"result[{i}]", v, 1)
    elif not opaque:
        _containers(outputs, "result", value, 2)
    found = []
    for out_name, out in outputs:
        for in_name, a in inputs:
            if out is a or _shares_memory(out, a):
                found.append([out_name, in_name])
                break
    return found[:20]


def _containers(found, name, a, depth):
    """(name, object) of ``a`` and, ``depth`` levels down, of the arrays, lists and dicts in it."""
    if _is_array(a) or type(a) in (list, dict):
        found.append((name, a))
    if depth > 0 and type(a) is dict:
        for k, v in a.items():
            _containers(found, f"{name}[{k!r}]", v, depth - 1)
    elif depth > 0 and type(a) in (list, tuple):
        for i, v in enumerate(a):
            _containers(found, f"{name}[{i}]", v, depth - 1)


def _shares_memory(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.size > 0 and b.size > 0 and bool(np.may_share_memory(a, b))
    if type(a).__module__.split(".")[0] == "torch" == type(b).__module__.split(".")[0]:
        try:
            return a.numel() > 0 and b.numel() > 0 and \
                a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
        except (AttributeError, RuntimeError, TypeError):
            return False
    return False


def _is_array(a):
    return isinstance(a, np.ndarray) or (
        _DEVICE.on and type(a).__module__.split(".")[0] in ("cupy", "torch"))


def _host(a):
    """A NumPy copy of an array argument (a device array is copied to the host), made by
    NumPy's own method (a subclass's copy() may lie)."""
    return np.ndarray.copy(a) if isinstance(a, np.ndarray) else np.array(_DEVICE.to_host(a))


def handle(request, resolve, encode_result, objects, guard=None):
    op = request.get("op")
    try:
        args = wire.decode(request.get("args", []), resolve)
        kwargs = wire.decode(request.get("kwargs", {"$dict": {}}), resolve)
        if op == "ping":
            return {"ok": True, "value": None}
        if op == "settle":  # between two graded functions: "" when the next may run here
            limit_cpu(request.get("cpu_seconds"))
            return {"ok": True, "value": guard.leftovers() if guard is not None else ""}
        if op == "import":
            importlib.import_module(f"coursework.{request['module']}")
            return {"ok": True, "value": None}
        if op == "release":
            for ident in request.get("refs", []):
                objects.pop(ident, None)
            return {"ok": True, "value": None}
        if op == "call":
            func = _target(request["target"])
        elif op == "torch":  # PyTorch units only (torch and torch_ops loaded at start)
            if _TORCH_OPS is None:
                raise LookupError("this unit's worker has no PyTorch")
            func = _TORCH_OPS.OPS[str(request.get("name"))]
        elif op in ("method", "getattr", "setattr", "getitem"):
            subject = resolve("ref", wire.Handle(request["ref"]))
            if op == "method":
                func = getattr(subject, request["name"])
            elif op == "getattr":
                value = _DEVICE.to_host(_plain(getattr(subject, request["name"])))
                return {"ok": True, "value": wire.encode(value)}
            elif op == "getitem":
                return {"ok": True, "value": wire.encode(_DEVICE.to_host(_plain(
                    subject[request["name"]])))}
            else:
                value = _DEVICE.to_device(args[0], _DEVICE.kind_for(type(subject).__module__)) \
                    if _DEVICE.on else args[0]
                setattr(subject, request["name"], owned(value, subject))
                return {"ok": True, "value": None}
        else:
            return {"ok": False, "kind": "protocol", "message": f"unknown op {op!r}"}
    except BaseException as exc:  # noqa: BLE001 - import errors of student modules land here
        if op in ("method", "getattr") and isinstance(exc, AttributeError):
            # the module imported; an object lacks what the docstring names (renamed, deleted)
            failure = _failure(exc, phase="call")
            failure["message"] = (f"{failure['message']}; the grader uses "
                                  f"{_text(request.get('name'))[:100]!r} as the docstring names "
                                  "it: was it renamed or deleted?")[:2000]
            return failure
        return _failure(exc, phase="import")

    if op in ("call", "method") and _DEVICE.on:
        kind = _DEVICE.kind_for(request["target"] if op == "call" else type(subject).__module__)
        args, kwargs = _DEVICE.to_device(args, kind), _DEVICE.to_device(kwargs, kind)
    # Copies of the inputs, to tell the judge which ones the call changed, when it asks
    snapshot = _snapshot(args, kwargs) if request.get("watch", True) is not False else []
    generators = generator_states(args, kwargs) if request.get("watch", True) is not False \
        else []
    limit_cpu(request.get("cpu_seconds"))
    counter = LineCounter(_SUBMISSION, library=_LIBRARY) \
        if request.get("count_lines") and _SUBMISSION else None
    started = time.perf_counter()
    overflows = []
    consumed = _CONSUMED if counter is not None else None
    try:
        if consumed is not None:
            consumed[0]()
        if counter is not None:
            counter.start()
        if request.get("watch_overflow") is True:
            # NumPy calls back for every operation that overflows (an exp of 800 is inf), even
            # where the code silences the warning itself (np.errstate, np.seterr)
            with watching_overflow(overflows):
                value = func(*args, **kwargs)
        else:
            value = func(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        if counter is not None:
            counter.stop()
        if consumed is not None:
            consumed[1]()
        if guard is not None:
            guard.restore()
        return _failure(exc, phase="call")
    lines = counter.stop() if counter is not None else None
    items = consumed[1]() if consumed is not None else {}
    elapsed = time.perf_counter() - started
    if guard is not None:  # the checks below run with the worker's own functions
        guard.restore()
    modified = _modified(snapshot)
    generators_drawn = drawn(generators)
    value = as_parts(value, request.get("opaque") or [])
    aliases = _aliases(value, request.get("opaque") or [], args, kwargs) \
        if request.get("watch", True) is not False else []
    if _DEVICE.on:  # the judge compares on the host; what stays here (handles) stays on device
        value = _DEVICE.to_host(value, request.get("opaque") or [])
    reply = {"ok": True, "value": encode_result(value, request.get("opaque") or []),
             "modified": modified, "aliases": aliases, "seconds": elapsed,
             "drawn": generators_drawn}
    if request.get("watch_overflow") is True:
        reply["overflowed"] = bool(overflows)
    if counter is not None:
        reply["lines"] = lines
        reply["consumed"] = items
        reply["library_lines"] = counter.library_count
        reply["objects"] = counter.objects
    return reply


class watching_overflow:
    """While in force, NumPy calls back (``overflows.append(kind)``) for every operation that
    overflows, whatever error state the code running inside asks for: ``np.errstate(over=
    "ignore")`` (as a block or a decorator), ``np.seterr(all="ignore")`` and ``np.seterrcall``
    all make their new state with ``_make_extobj``, a global of ``numpy._core._ufunc_config``
    (NumPy 2's Python code, calling a builtin), which is replaced meanwhile by one that keeps
    ``over="call"`` and this callback (the code's other settings, divide or invalid, are kept).
    Silencing the warning does not stop the overflow: exp(800) is inf either way. Code that sets
    NumPy's private ``_extobj_contextvar`` itself, or computes in another thread or an empty
    ``contextvars.Context``, is not seen: the spec reads the source for it
    (``specs/layers.unwatched_code``)."""

    def __init__(self, overflows):
        self.overflows = overflows
        self.config = self.made = self.state = None

    def __enter__(self):
        import numpy

        config = sys.modules.get("numpy._core._ufunc_config")
        make = getattr(config, "_make_extobj", None)
        overflows = self.overflows

        def call(kind, flag):
            overflows.append(kind)

        if make is not None:
            def forced(*args, **kwargs):
                return make(*args, **dict(kwargs, over="call", call=call))

            self.config, self.made = config, make
            config._make_extobj = forced
        self.state = numpy.errstate(over="call", call=call)
        self.state.__enter__()
        return self

    def __exit__(self, *exc_info):
        try:
            self.state.__exit__(*exc_info)
        finally:
            if self.config is not None:
                self.config._make_extobj = self.made
        return False


def _plain(value):
    """Attributes read by the judge: plain data, or dicts of arrays (model params)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def limit_cpu(seconds):
    """Let this call use at most ``seconds`` more CPU time (SIGXCPU past that)."""
    if not seconds:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
    except (ValueError, OSError):
        pass


def _raised_by_submission(exc):
    """Whether ``exc`` was raised in the submission's own files (a stub's ``raise
    NotImplementedError``), not in a library: PyTorch raises NotImplementedError for a module
    without ``forward`` (a typo such as ``def foward``), which is an error to show, not a stub."""
    import os

    if _SUBMISSION is None:
        return True
    tb = exc.__traceback__
    try:
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = tb.tb_frame.f_code.co_filename if tb is not None else ""
    except BaseException:  # noqa: BLE001 - a hostile traceback
        return True
    prefixes = tuple(os.path.join(path, "") for path in (_SUBMISSION,
                                                         os.path.realpath(_SUBMISSION)))
    return str(where).startswith(prefixes)


def _relative(text):
    """``text`` with the submission's folder left out of its paths: "cannot import name 'x' from
    'coursework.layers' (coursework/layers.py)", not the sandbox's /tmp/submission/..."""
    import os

    if _SUBMISSION is None:
        return text
    try:
        for folder in {os.path.realpath(_SUBMISSION), os.path.abspath(_SUBMISSION)}:
            text = text.replace(os.path.join(folder, ""), "")
    except (OSError, ValueError):
        pass
    return text


def _no_input(*args, **kwargs):
    raise RuntimeError("input() waits for someone to type, and nobody types while grading: "
                       "remove the input() call (to see a value, print it, or call the function "
                       "yourself in a notebook cell)")


def _no_breakpoint(*args, **kwargs):
    raise RuntimeError("breakpoint() stops in a debugger, and nobody answers it while grading: "
                       "remove it, and debug by calling the function yourself in a notebook "
                       "cell, where breakpoint() works")


def _syntax_message(exc):
    """"SyntaxError: expected ':' (coursework/linear.py, line 24, column 51)" for a file of the
    submission that does not compile, or None (a SyntaxError of compile() or exec() on a string,
    or one whose attributes are not Python's)."""
    try:
        filename, lineno, offset = exc.filename, exc.lineno, exc.offset
        words = exc.msg
        if not (isinstance(filename, str) and isinstance(words, str)
                and type(lineno) is int and type(offset) in (int, type(None))):
            return None
        path = _relative(filename).replace("\\", "/")
        if not (path.startswith("coursework/") and path.endswith(".py")):
            return None
        column = f", column {offset}" if offset and offset > 0 else ""
        return f"{_type_name(exc)}: {words[:500]} ({path}, line {lineno}{column})"
    except BaseException:  # noqa: BLE001 - a hostile exception
        return None


def _failure(exc, phase):
    try:
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        # Keep the frames of student code, not of this file.
        text = "".join(line for line in tb if "worker.py" not in line)[-MAX_TRACEBACK:]
    except BaseException:  # noqa: BLE001 - a hostile exception, or one too deep to format
        text = ""
    if isinstance(exc, NotImplementedError) and _raised_by_submission(exc):
        kind = "not_implemented"
    elif phase == "import" and isinstance(exc, LookupError):
        kind = "error"
    elif phase == "import":
        kind = "import_error"
    else:
        kind = "error"
    message = _relative(f"{_type_name(exc)}: {_text(exc)[:2000]}")
    if isinstance(exc, SyntaxError):  # IndentationError, TabError: where, with the column
        message = _syntax_message(exc) or message
    text = _relative(text)
    if isinstance(exc, SystemExit):
        message = (f"the code called sys.exit({_text(exc.code)[:100]}) (or raised SystemExit); "
                   "return results instead of exiting")
    elif isinstance(exc, RecursionError):
        message += " (unbounded recursion?)"
    elif isinstance(exc, MemoryError):
        message = ("MemoryError: the code needed more memory than the grader allows; is an "
                   "array far larger than the inputs being built?")
    return {"ok": False, "kind": kind, "message": message[:2000], "traceback": text}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
