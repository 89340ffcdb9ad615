"""The worker's guard: process-wide state that student code can change and that must not carry
over from one call to the next, nor switch off the checks of its own call.

Copied into the sandbox next to ``worker.py`` (runner.WORKER_FILES). ``Guard.restore`` puts back
what was there when the worker started; the worker calls it before every request and right
after the student's call (``torch_ops`` calls it too, before it reads a result: ``SETTLE``).
``Guard.leftovers`` says, between two graded functions, what cannot be put back (a thread still
running, a switched-off torch-function dispatch, a tracer): the judge then replaces the worker, so
that nothing of one function's code runs while another is graded.

What is restored:

- the namespaces of the worker's own modules, NumPy (``numpy.random`` and the submodules whose
  functions the checks call, ``numpy._core.numeric``...), copy, math, builtins, gc, signal,
  threading and, where PyTorch is loaded, of ``torch`` and its Python and C submodules that
  student code reaches (``torch.nn.functional``, ``torch._C``, ``torch._C._nn``,
  ``torch._VF``...);
- tables the worker reads (``torch_ops.OPS``, PyTorch's global module and optimizer hooks),
  entries added by student code removed;
- the attributes of PyTorch's classes (every class of ``torch.nn``, ``torch.optim`` and
  ``torch.autograd``, ``torch.Tensor``): a replaced method is put back, a new one that shadows a
  base class's is removed;
- (checked, not restored: the worker is replaced) PyTorch's operator registrations
  (``operator_table``), which live in C++;
- NumPy's error handling, signal handlers and interval timers, the profiler hook, gc callbacks
  and thresholds; PyTorch's grad mode, default dtype and device, inference mode, the stacks of
  torch-function, dispatch and saved-tensor hook modes.
"""

import sys

_MISSING = object()
# signals whose handlers student code may set (the worker relies on the defaults of SIGXCPU)
_SIGNALS = ("SIGALRM", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGINT", "SIGTERM", "SIGUSR1",
            "SIGUSR2", "SIGHUP", "SIGPIPE", "SIGCHLD", "SIGSEGV", "SIGFPE", "SIGBUS")
_TORCH_MODULES = ("torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim",
                  "torch.optim.optimizer", "torch.autograd", "torch.autograd.graph",
                  "torch.random", "torch.overrides", "torch.nn.modules.module", "torch._C._nn",
                  "torch._C._linalg", "torch._C._special", "torch._C._fft",
                  # the guard's own calls (mode stack depths, pops) go through these
                  "torch._C", "torch._C._autograd")
# NumPy's submodules whose functions the worker's checks call (np.array_equal reads isnan from
# numpy._core.numeric), and copy (the generator states are deep copies)
_HELPER_MODULES = ("numpy._core.numeric", "numpy._core.fromnumeric", "numpy._core.multiarray",
                   "numpy._core.umath", "numpy._core._methods", "numpy.core.numeric",
                   "numpy.core.fromnumeric", "numpy.core.multiarray", "copy")
_STRICT_TORCH_MODULES = ("torch._VF",)  # names added there shadow its __getattr__
_CLASS_MODULES = ("torch.nn", "torch.optim", "torch.autograd", "torch._tensor", "torch.storage")


class Guard:
    """Saves the state at the start; ``restore`` puts it back (see the module docstring)."""

    def __init__(self, modules):
        import gc
        import signal
        import threading

        import numpy as np

        self.np = np
        self.saved = []  # (namespace or table, its contents, strict: remove added names)
        import copy  # noqa: F401 - saved below

        helpers = [sys.modules[name] for name in _HELPER_MODULES if name in sys.modules]
        for module in list(modules) + [np.random, gc, signal, threading] + helpers:
            self.add(module)
        self.err = np.geterr()
        self.gc = (list(gc.callbacks), gc.get_threshold(), gc.isenabled())
        self.signals = {}
        for name in _SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                self.signals[number] = signal.getsignal(number)
        self.torch = None
        self.classes = []  # (class, its attributes)
        self.held = []  # guards that keep an inference mode left on by student code off

    def add(self, module, strict=False):
        self.saved.append((vars(module), dict(vars(module)), strict))

    def add_contents(self, table):
        """Also restore the entries of the dict ``table`` (torch_ops.OPS), added ones removed."""
        self.saved.append((table, dict(table), True))

    def watch_torch(self):
        """Add PyTorch's state once it is loaded (by the worker, at start, where it may)."""
        torch = sys.modules.get("torch")
        if self.torch is None and torch is not None:
            import inspect

            import torch.autograd.graph  # noqa: F401 - its hooks are part of the state

            self.torch = (torch, torch.is_grad_enabled(), torch.get_default_dtype(),
                          torch._C._len_torch_function_stack(),
                          torch._C._len_torch_dispatch_stack())
            for name in _TORCH_MODULES + _STRICT_TORCH_MODULES:
                module = sys.modules.get(name) or _attribute_path(torch, name)
                if module is not None and hasattr(module, "__dict__"):
                    self.add(module, strict=name in _STRICT_TORCH_MODULES)
            for name in ("torch.nn.modules.module", "torch.optim.optimizer"):
                for key, value in vars(sys.modules.get(name, object)).items():
                    if key.startswith("_global_") and isinstance(value, dict):
                        self.add_contents(value)
            classes = {}
            for name, module in list(sys.modules.items()):
                if module is None or not name.startswith(_CLASS_MODULES):
                    continue
                for value in list(vars(module).values()):
                    if inspect.isclass(value) and \
                            str(getattr(value, "__module__", "")).startswith("torch"):
                        classes[id(value)] = value
            classes[id(torch.Tensor)] = torch.Tensor
            self.classes = [(cls, dict(vars(cls))) for cls in classes.values()]
            self.operators = operator_table(torch)

    # -- restore -----------------------------------------------------------------------------
    def restore(self):
        sys.setprofile(None)  # first: a profile hook must not see the rest of the restore
        for current, saved, strict in self.saved:
            try:
                same = current == saved  # compares in C; a value's own __eq__ may raise
            except BaseException:  # noqa: BLE001
                same = False
            if not same:
                for name, value in saved.items():
                    if current.get(name, _MISSING) is not value:
                        current[name] = value
                if strict:
                    for name in [n for n in current if n not in saved]:
                        del current[name]
        self.np.seterr(**self.err)
        self._restore_process()
        if self.torch is not None:
            self._restore_torch()

    def _restore_process(self):
        import gc
        import signal

        callbacks, threshold, enabled = self.gc
        if gc.callbacks != callbacks:
            gc.callbacks[:] = callbacks
        if gc.get_threshold() != threshold:
            gc.set_threshold(*threshold)
        if gc.isenabled() != enabled:
            (gc.enable if enabled else gc.disable)()
        for number, handler in self.signals.items():
            try:
                if signal.getsignal(number) is not handler:
                    signal.signal(number, handler)
            except (OSError, ValueError, TypeError):
                pass
        for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            if signal.getitimer(which) != (0.0, 0.0):
                signal.setitimer(which, 0)

    def _restore_torch(self):
        torch, grad, dtype, functions, dispatches = self.torch
        for cls, saved in self.classes:
            try:
                same = vars(cls) == saved
            except BaseException:  # noqa: BLE001
                same = False
            if not same:  # put back what was replaced or deleted, remove what shadows a base's
                for name, value in saved.items():
                    if vars(cls).get(name, _MISSING) is not value:
                        try:
                            setattr(cls, name, value)
                        except (TypeError, AttributeError):
                            pass
                for name in [n for n in vars(cls) if n not in saved]:
                    if any(name in vars(base) for base in cls.__mro__[1:]):
                        try:  # torch.Tensor.untyped_storage = ... hides TensorBase's method
                            delattr(cls, name)
                        except (TypeError, AttributeError):
                            pass
        context = getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None)
        if context is not None:  # torch.set_default_device(...) by student code
            try:
                torch.set_default_device(None)
            except Exception:  # noqa: BLE001 - its mode was popped below on an earlier call
                torch._GLOBAL_DEVICE_CONTEXT.device_context = None
        while torch._C._len_torch_function_stack() > functions:
            torch._C._pop_torch_function_stack()
        while torch._C._len_torch_dispatch_stack() > dispatches:
            torch._C._pop_torch_dispatch_stack()
        autograd = torch._C._autograd
        for _ in range(1000):  # saved-tensor hooks entered and never left
            if autograd._top_saved_tensors_default_hooks(False) is None:
                break
            autograd._pop_saved_tensors_default_hooks()
        if torch.is_inference_mode_enabled():
            self.held.append(torch._C._InferenceMode(False))
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)

    # -- what cannot be restored ---------------------------------------------------------------
    def leftovers(self):
        """Between two graded functions: why this worker cannot grade the next one ("" when it
        can). Cyclic garbage is collected first, so that a finaliser runs now, in the time of
        the function that made it."""
        import _thread
        import gc

        gc.collect()
        self.restore()
        if _thread._count():
            return "a thread it started is still running"
        if sys.gettrace() is not None:
            return "a tracer (sys.settrace) is still set"
        if self.torch is not None and not self.torch[0]._C._is_torch_function_enabled():
            return "PyTorch's torch-function dispatch was switched off"
        if self.torch is not None and operator_table(self.torch[0]) != self.operators:
            return ("PyTorch's operator registrations were changed (a kernel registered with "
                    "torch.library stays registered in the process)")
        return ""


def operator_table(torch):
    """A digest of PyTorch's dispatcher for its own operators (``aten``, ``prims``): each one's
    kernels per dispatch key, with where each was registered and whether it has an unboxed
    (C++) signature. A kernel that code registers or replaces for one of them
    (``torch.library.Library("aten", "IMPL").impl("detach", f, "AutogradCPU")``) lives in C++,
    where no namespace restore reaches, and changes it. Other namespaces are left out: PyTorch
    adds kernels there itself when it first imports a part of it (``torch._dynamo``, on the
    first forward on the "meta" device, extends ``_c10d_functional``), and an operator that
    code defines for itself reaches only that code. About 50 ms."""
    import hashlib

    digest = hashlib.sha256()
    dispatch = torch._C
    for name in sorted(dispatch._dispatch_get_all_op_names()):
        if name.startswith(("aten::", "prims::")):
            digest.update(dispatch._dispatch_dump(name).encode("utf-8", "replace"))
    return digest.hexdigest()


def _attribute_path(root, dotted):
    """``torch._C._nn`` from the torch module and "torch._C._nn", or None."""
    value = root
    for part in dotted.split(".")[1:]:
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


FORKED = ("the code called os.fork() and the copy went on running the function (both processes "
          "returned from it), which the grader does not allow: compute the result in the "
          "function's own process, without os.fork()")


class ForkWatch:
    """Whether a call's code forked a copy of the serving process that went on running Python
    (``os.fork`` without an exec or an exit), as opposed to starting a program (fork and exec,
    subprocess) or a process that ends before the call returns (a finished multiprocessing
    pool), which are allowed. Registered in the process that serves
    requests, after the fork server forked it, so the server's own forks are not seen.

    ``in_copy()`` is true in such a copy when it comes back to the worker's loop: it must not
    answer the judge (its reply would come out of turn), so it marks ``returned`` (memory shared
    with the serving process) and exits; ``ran_copy()``, in the serving process after the call,
    says whether a copy returned or is still running Python (waiting up to ``wait`` seconds for
    forked children to exec or end)."""

    def __init__(self, wait=1.0):
        import mmap
        import os

        self.pid = os.getpid()
        self.forked = False
        self.wait = wait
        self.returned = mmap.mmap(-1, 1)  # shared with forked copies (MAP_SHARED)
        if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
            os.register_at_fork(before=self._before)

    def _before(self):
        self.forked = True

    def reset(self):
        self.forked = False
        self.returned[0] = 0

    def in_copy(self):
        import os

        return os.getpid() != self.pid

    def ran_copy(self):
        import time

        if not self.forked:
            return False
        deadline = time.monotonic() + self.wait
        while self._python_children() and time.monotonic() < deadline:
            time.sleep(0.01)
        return bool(self.returned[0]) or bool(self._python_children())

    def _python_children(self):
        """Live children of the serving process that still run this program (not exec'd): by
        the command name of /proc (a child's executable link is not readable in the sandbox)."""
        import os

        def stat(pid):
            with open(f"/proc/{pid}/stat", "rb") as f:
                head, tail = f.read().rsplit(b")", 1)
            return head.split(b"(", 1)[1], tail.split()

        try:
            own = stat("self")[0]
            names = os.listdir("/proc")
        except (OSError, IndexError):
            return []
        out = []
        for name in names:
            if not name.isdigit():
                continue
            try:
                comm, fields = stat(name)
                if int(fields[1]) == self.pid and fields[0] not in (b"Z", b"X") and comm == own:
                    out.append(int(name))
            except (OSError, IndexError, ValueError):
                continue
        return out
