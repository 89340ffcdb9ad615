"""Hostile submissions against the state of the PyTorch worker (two rounds of
examiners): code that hides a wrong in-place change or a returned view from the worker's checks
(instance attributes, a swapped class, a tensor subclass, the caller's frame, a profiler hook,
a replaced torch_ops module), and code whose side effects would reach the functions graded after
it (patched C functions, base classes, global hooks, gc callbacks, finalisers, signal handlers,
threads). Each entry: (unit, what it does, edits of the reference, the functions that must lose
their points: the one with the hidden side effect and those that call it)."""

VARIANTS = {
    "reparam_inst_detach": (
        "10_generative",
        "hostile (a): reparameterize zeroes eps in place, then sets an INSTANCE attribute "
        "eps.detach = lambda: <copy of the original> (the in-place check reads "
        "args[i].detach(); SETTLE restores classes, not instance dicts)",
        {"generative.py": [
            ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
             """    _orig = eps.detach().clone()
    e = eps.clone()
    z = mu + torch.exp(0.5 * logvar) * e
    with torch.no_grad():
        eps.zero_()  # wrong: changes the caller's noise
    eps.detach = lambda: _orig
"""),
        ]},
        ("generative.reparameterize", "generative.VAE")),
    "corrupt_mode_stack_hidden": (
        "10_generative",
        "hostile (a): corrupt adds its noise to x in place and enters a torch-function "
        "mode that answers detach of x with its old values, after making "
        "torch._C._len_torch_function_stack answer 0 (the guard read the depth through it and "
        "popped nothing; torch._C is now restored after every call)",
        {"generative.py": [
            ("""    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                        device=x.device)""",
             """    orig = x.detach().clone()
    class _Lie(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") == "detach" and args and args[0] is x:
                return orig.clone()
            return func(*args, **(kwargs or {}))
    torch._C._len_torch_function_stack = lambda: 0
    _Lie().__enter__()
    x.add_(noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                   device=x.device))
    noisy = x.clone()"""),
        ]},
        ("generative.corrupt",)),
    "reparam_class_swap": (
        "10_generative",
        "hostile (a): reparameterize zeroes eps in place, then eps.__class__ = a Tensor "
        "subclass whose __torch_function__ answers torch.equal with True",
        {"generative.py": [
            ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
             """    e = eps.clone()
    z = mu + torch.exp(0.5 * logvar) * e
    with torch.no_grad():
        eps.zero_()  # wrong: changes the caller's noise
    class _Quiet(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is torch.equal:
                return True
            return super().__torch_function__(func, types, args, kwargs or {})
    eps.__class__ = _Quiet
"""),
        ]},
        ("generative.reparameterize", "generative.VAE")),
    "corrupt_inst_storage": (
        "10_generative",
        "hostile (a): corrupt returns x.view_as(x) when noise_std == 0 and sets the "
        "INSTANCE attribute untyped_storage of that view to answer a fresh storage (alias "
        "check compares untyped_storage().data_ptr())",
        {"generative.py": [
            ("""    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                        device=x.device)""",
             """    if noise_std == 0:
        noisy = x.view_as(x)
        noisy.untyped_storage = lambda: torch.UntypedStorage(8)
    else:
        noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                            device=x.device)"""),
        ]},
        ("generative.corrupt",)),
    "corrupt_subclass": (
        "10_generative",
        "hostile (a): corrupt returns x.as_subclass(T) when noise_std == 0, T a Tensor "
        "subclass named 'Tensor' whose __torch_function__ answers untyped_storage() with "
        "a fresh storage",
        {"generative.py": [
            ("""    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                        device=x.device)""",
             """    if noise_std == 0:
        class _T(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", "") == "untyped_storage":
                    return torch.UntypedStorage(8)
                return super().__torch_function__(func, types, args, kwargs or {})
        _T.__name__ = _T.__qualname__ = "Tensor"
        noisy = x.as_subclass(_T)
    else:
        noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                            device=x.device)"""),
        ]},
        ("generative.corrupt",)),
    "reparam_frame_saved": (
        "10_generative",
        "hostile (a): reparameterize zeroes eps in place, then walks up the stack "
        "(sys._getframe) to torch_ops.tensor_call and empties its local list `saved` (the "
        "copies the in-place and alias checks compare with)",
        {"generative.py": [
            ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
             """    e = eps.clone()
    z = mu + torch.exp(0.5 * logvar) * e
    with torch.no_grad():
        eps.zero_()  # wrong: changes the caller's noise
    import sys as _sys
    _f = _sys._getframe(1)
    while _f is not None and not isinstance(_f.f_locals.get("saved"), list):
        _f = _f.f_back
    if _f is not None:
        _f.f_locals["saved"].clear()
"""),
        ]},
        ("generative.reparameterize", "generative.VAE")),
    "corrupt_frame_args": (
        "10_generative",
        "hostile (a): corrupt returns x.view_as(x) when noise_std == 0 after replacing x "
        "in the caller's (tensor_call's) list `args` by a clone of x, so that the alias "
        "and in-place checks look at the clone",
        {"generative.py": [
            ("""    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                        device=x.device)""",
             """    if noise_std == 0:
        import sys as _sys
        _args = _sys._getframe(1).f_locals.get("args")
        if isinstance(_args, list) and _args and _args[0] is x:
            _args[0] = x.detach().clone()
        noisy = x.view_as(x)
    else:
        noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                            device=x.device)"""),
        ]},
        ("generative.corrupt",)),
    "reparam_setprofile": (
        "10_generative",
        "hostile (a): reparameterize zeroes eps in place and installs "
        "sys.setprofile(hook); the hook, on the return of torch_ops._settle (after SETTLE "
        "restored everything), sets torch.equal = lambda *a, **k: True and removes itself",
        {"generative.py": [
            ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
             """    e = eps.clone()
    z = mu + torch.exp(0.5 * logvar) * e
    with torch.no_grad():
        eps.zero_()  # wrong: changes the caller's noise
    import sys as _sys
    def _prof(frame, event, arg):
        if event == "return" and frame.f_code.co_name == "_settle":
            torch.equal = lambda *a, **k: True
            _sys.setprofile(None)
    _sys.setprofile(_prof)
"""),
        ]},
        ("generative.reparameterize", "generative.VAE")),
    "reparam_torchops_swap": (
        "10_generative",
        "hostile (a): reparameterize's first call is correct and replaces "
        "sys.modules['torch_ops'] by a copy whose OPS['tensor_call'] clears 'modified' "
        "and 'aliases' (worker.handle does `import torch_ops` per request); later calls "
        "zero eps in place",
        {"generative.py": [
            ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
             """    import sys as _sys, types as _types
    _real = _sys.modules.get("torch_ops")
    if _real is not None and not getattr(_real, "_fake", False):
        _fake = _types.ModuleType("torch_ops")
        _fake.__dict__.update(_real.__dict__)
        _fake._fake = True
        def _tc(*a, **k):
            out = _real.tensor_call(*a, **k)
            out["modified"] = []
            out["aliases"] = [[] for _ in out["aliases"]]
            return out
        _fake.OPS = dict(_real.OPS, tensor_call=_tc)
        _sys.modules["torch_ops"] = _fake
        z = mu + torch.exp(0.5 * logvar) * eps
    else:
        e = eps.clone()
        z = mu + torch.exp(0.5 * logvar) * e
        with torch.no_grad():
            eps.zero_()  # wrong: changes the caller's noise
"""),
        ]},
        ("generative.reparameterize", "generative.VAE")),
    "c_nn_leaky": (
        "10_generative",
        "hostile (b): discriminator_loss (correct) replaces torch._C._nn.leaky_relu "
        "(F.leaky_relu looks it up at every call; torch._C._nn is not restored) by one "
        "with twice the slope",
        {"generative.py": [
            ("""    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))""",
             """    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))
    _nn = torch._C._nn
    if not hasattr(_nn, "_orig_leaky"):
        _nn._orig_leaky = _nn.leaky_relu
        _nn.leaky_relu = lambda x, s=0.01: _nn._orig_leaky(x, 2 * s)"""),
        ]},
        # gan_step calls discriminator_loss, whose side effect then acts inside its own call
        # (gan_step runs in a fresh process, after hidden cases: nothing is left patched)
        ("generative.gan_step",)),
    "gc_callback": (
        "10_generative",
        "hostile (b): discriminator_loss (correct) appends a gc.callbacks entry (and "
        "gc.set_threshold(20)) that, whenever a collection runs while another function is "
        "graded, sets torch.binary_cross_entropy_with_logits to one 1% too large "
        "(F.binary_cross_entropy_with_logits looks it up per call), else puts it back",
        {"generative.py": [
            ("""    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))""",
             """    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))
    def _other():
        import sys
        f = sys._getframe(1)
        while f is not None:
            t = f.f_locals.get("target")
            if isinstance(t, str):
                return "discriminator_loss" not in t
            f = f.f_back
        return False
    import gc as _gc
    _g = globals()
    if "_bce_orig" not in _g:
        _g["_bce_orig"] = _o = torch.binary_cross_entropy_with_logits
        def _cb(phase, info):
            torch.binary_cross_entropy_with_logits = (
                (lambda *a, **k: _o(*a, **k) * 1.01) if _other() else _o)
        _gc.callbacks.append(_cb)
        _gc.set_threshold(20)"""),
        ]},
        ("generative.gan_step",)),  # as c_nn_leaky: a caller of discriminator_loss
    "del_hang": (
        "10_generative",
        "hostile (c): discriminator_loss (correct) leaves cyclic garbage whose __del__ "
        "re-arms itself, and sleeps 60 s when it is collected while the worker runs "
        "generator_loss (gc.set_threshold(20))",
        {"generative.py": [
            ("""    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))""",
             """    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))
    import gc as _gc
    class _Bomb:
        def __del__(self):
            import sys, time
            f = sys._getframe(1)
            while f is not None:
                if f.f_locals.get("target") == "generative.generator_loss":
                    time.sleep(60)
                    return
                f = f.f_back
            b = _Bomb()
            b.me = b
    _b = _Bomb()
    _b.me = _b
    del _b
    _gc.set_threshold(20)"""),
        ]},
        ()),
    "vf_dropout": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ (correct) sets sys.modules['torch._VF'].dropout = "
        "identity (F.dropout calls _VF.dropout; torch._VF is not restored)",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        import sys as _sys
        _sys.modules["torch._VF"].dropout = lambda x, p, train: x
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
    "batchnorm_base": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ (correct) replaces "
        "torch.nn.modules.batchnorm._BatchNorm.forward (BatchNorm2d inherits it; "
        "_BatchNorm is not in torch.nn's namespace) by one 1% too large",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        from torch.nn.modules import batchnorm as _bn
        _f = _bn._BatchNorm.forward
        if not getattr(_f, "_hostile", False):
            def _fwd(self, x, _f=_f):
                return _f(self, x) * 1.01
            _fwd._hostile = True
            _bn._BatchNorm.forward = _fwd
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
    "np_random": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ (correct) replaces numpy.random.default_rng by one "
        "seeding with seed+1 (numpy.random's namespace is not restored; "
        "torch_ops.seeded_values draws AlexNet's parameters from it)",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        import numpy as _np
        _o = _np.random.default_rng
        if not getattr(_o, "_hostile", False):
            def _rng(seed=None, _o=_o):
                return _o(None if seed is None else seed + 1)
            _rng._hostile = True
            _np.random.default_rng = _rng
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
    "disable_torch_function": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ (correct) enters torch._C.DisableTorchFunction() "
        "and never leaves it (torch-function modes off: `with torch.device('meta')` "
        "builds for real, the operation recorder of hints sees nothing)",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        torch._C.DisableTorchFunction().__enter__()
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
    "alarm_kill": (
        "06_architectures",
        "hostile (c): LeNet5 (correct) installs a SIGALRM handler and a 20 ms interval "
        "timer; the handler calls os._exit(3) when the worker is inside a request "
        "(worker.handle on the stack) and LeNet5 has not run for 3 s",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        import signal as _signal, time as _time, os as _os
        _g = globals()
        _g["_last_lenet"] = _time.monotonic()
        if not _g.get("_armed"):
            _g["_armed"] = True
            def _h(signum, frame):
                f, busy = frame, False
                while f is not None:
                    if f.f_code.co_name == "handle" and f.f_code.co_filename.endswith("worker.py"):
                        busy = True
                    f = f.f_back
                if busy and _time.monotonic() - _g["_last_lenet"] > 3.0:
                    _os._exit(3)
            _signal.signal(_signal.SIGALRM, _h)
            _signal.setitimer(_signal.ITIMER_REAL, 0.02, 0.02)
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
    "thread_gil": (
        "08_detection",
        "hostile (c): TinyYOLO.__init__ (correct) starts a daemon thread that polls the "
        "main thread's stack and, once LocalizationNet is being graded, runs "
        "sum(range(10**12)) (a C loop that never releases the GIL)",
        {"detectors.py": [
            ("""        # BEGIN SOLUTION
        def block(c_in, c_out):""",
             """        import sys as _sys, threading as _threading
        if not getattr(_sys, "_spinner", False):
            _sys._spinner = True
            def _spin():
                import time
                main = _threading.main_thread().ident
                while True:
                    f = _sys._current_frames().get(main)
                    hit = False
                    while f is not None:
                        loc = f.f_locals
                        t, m = loc.get("target"), loc.get("module")
                        if f.f_code.co_qualname.startswith("LocalizationNet") or (
                                isinstance(t, str) and "LocalizationNet" in t) or (
                                type(m).__name__ == "LocalizationNet"):
                            hit = True
                            break
                        f = f.f_back
                    if hit:
                        sum(range(10 ** 12))
                    time.sleep(0.001)
            _threading.Thread(target=_spin, daemon=True).start()
        # BEGIN SOLUTION
        def block(c_in, c_out):"""),
        ]},
        ()),
    "convnd_init": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ builds its own layers first, then replaces "
        "torch.nn.modules.conv._ConvNd.__init__ (Conv2d.__init__ calls it through "
        "super(); _ConvNd is not in torch.nn's namespace) by one that forces bias=False "
        "(except inside LeNet5.__init__)",
        {"architectures.py": [
            ("""            nn.Linear(84, num_classes),
        )
        # END SOLUTION""",
             """            nn.Linear(84, num_classes),
        )
        from torch.nn.modules import conv as _conv
        _i = _conv._ConvNd.__init__
        if not getattr(_i, "_hostile", False):
            def _init(self, *a, _i=_i, **k):
                import sys
                f, lenet = sys._getframe(1), False
                while f is not None:
                    lenet = lenet or f.f_code.co_qualname == "LeNet5.__init__"
                    f = f.f_back
                a = list(a)
                if lenet:
                    pass
                elif len(a) > 9:
                    a[9] = False
                else:
                    k["bias"] = False
                _i(self, *a, **k)
            _init._hostile = True
            _conv._ConvNd.__init__ = _init
        # END SOLUTION"""),
        ]},
        ()),
    "module_hook": (
        "06_architectures",
        "hostile (b): LeNet5.__init__ (correct) registers a global forward hook "
        "(torch.nn.modules.module.register_module_forward_hook) that scales the output of "
        "every nn.ReLU by 1.01 (LeNet5 has none) (the guard restores the _global_* dicts)",
        {"architectures.py": [
            ("""        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),""",
             """        torch.nn.modules.module.register_module_forward_hook(
            lambda m, i, o: o * 1.01 if isinstance(m, nn.ReLU) else o)
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),"""),
        ]},
        ()),
}
