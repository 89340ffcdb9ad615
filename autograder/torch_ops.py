"""Worker side of the PyTorch units: what the judge may ask of a student's ``nn.Module``.

Copied into the sandbox next to ``worker.py`` and imported only when the judge first sends a
``torch`` request (units that declare PyTorch), so units 01-05 never load it. The judge reaches
these functions by name (``OPS``); every argument and result is plain data or a Handle: arrays
go in, arrays come out (``.detach().numpy()``), never a pickled tensor. PyTorch is limited to
one thread before any student code runs through here (the worker's CPU share), and gradient
computations always start from fresh tensors.

Nothing here is trusted by the judge: student code can rewrite it at run time. The judge
compares every answer with the reference's, in several modes and on several inputs.
"""

import importlib
import itertools
import sys

import numpy as np
import torch



_SET_NUM_THREADS = torch.set_num_threads
ONE_THREAD = ("note: the code called torch.set_num_threads({n}); the grader runs PyTorch on one "
              "thread (its process cap would make more threads crash the process), so it stayed "
              "at 1: leave the thread count to PyTorch in coursework code")


def limit_threads():
    """One intra-op and one inter-op thread: the worker's CPU share (its CPU-time limit counts
    every thread, and its process cap every thread it starts). Set again before every request
    that runs student code, so a ``torch.set_num_threads`` at import does not last."""
    if torch.get_num_threads() != 1:
        _SET_NUM_THREADS(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass


_NOTED = set()


def one_thread(n):
    """The worker's ``torch.set_num_threads``: more than one thread is refused with a note in
    the output, not granted (OpenMP's threads beyond the process cap crashed the worker with
    SIGSEGV, "libgomp: Thread creation failed"); the code goes on, on one thread."""
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        if n not in _NOTED:  # once per process and count, not once per forward
            _NOTED.add(n)
            print(ONE_THREAD.format(n=n), file=sys.stderr, flush=True)
        n = 1
    _SET_NUM_THREADS(n)


if __name__ == "torch_ops":  # imported by the worker (the judge imports autograder.torch_ops)
    limit_threads()
    torch.set_num_threads = one_thread  # the guard saves torch's namespace with this in it

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# In the worker: the guard's restore (``worker.Guard``), called right after student code returns
# and before what is read off its result (in-place changes, shared memory, gradients), so that a
# patched ``torch.Tensor`` method or a torch-function mode left on cannot answer those checks.
SETTLE = None


def _settle():
    if SETTLE is not None:
        SETTLE()


def _dtype(name):
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}")
    return DTYPES[name]


def _module(obj):
    if __name__ == "torch_ops":  # in the worker: undo a set_num_threads of student code
        limit_threads()
    if not isinstance(obj, torch.nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got a {type(obj).__name__}")
    return obj


def _array(t, what="the output"):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{what} is a {type(t).__name__}, not a torch.Tensor")
    return t.detach().cpu().resolve_conj().resolve_neg().numpy().copy()


def _lookup(target):
    """coursework.<module>.<attr> for 'module.attr'."""
    module_name, _, attr = target.partition(".")
    obj = importlib.import_module(f"coursework.{module_name}")
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise LookupError(f"coursework/{module_name}.py has no {attr!r}: was it renamed or "
                              "deleted? Keep the names of the stubs")
        obj = getattr(obj, part)
    return obj


def build(target, args, kwargs, meta=False, lookup=_lookup):
    """``coursework.<target>(*args, **kwargs)``, on the "meta" device when ``meta`` (its
    parameters have shapes but no storage: AlexNet and VGG-16 cost nothing)."""
    obj = lookup(target)
    if meta:
        with torch.device("meta"):
            return obj(*args, **kwargs)
    return obj(*args, **kwargs)


def parameters(module):
    """[(name, shape)] of ``parameters()`` in the order the module lists them."""
    return [(str(name), tuple(int(n) for n in p.shape))
            for name, p in _module(module).named_parameters()]


def buffers(module):
    """[(name, shape)] of the floating-point buffers (batch norm's running statistics)."""
    return [(str(name), tuple(int(n) for n in b.shape))
            for name, b in _module(module).named_buffers() if b.is_floating_point()]


def not_float32(module):
    """[(name, dtype)] of the floating-point parameters and buffers that are not float32 (at
    most 10): a module built without ``.double()`` holds float32 ones only (units 06 and 10's
    "modules are float32 by default")."""
    found = []
    module = _module(module)
    for name, value in itertools.chain(module.named_parameters(), module.named_buffers()):
        if value.is_floating_point() and value.dtype != torch.float32:
            found.append((str(name), str(value.dtype).replace("torch.", "")))
            if len(found) >= 10:
                break
    return found


def is_sequential(module):
    """Whether the object is an ``nn.Sequential`` (or a subclass of it)."""
    return isinstance(module, torch.nn.Sequential)


def children(module):
    """[(name, class name)] of the module's direct children, in registration order."""
    return [(str(name), type(child).__name__) for name, child in _module(module).named_children()]


def attribute_types(module, names):
    """{name: class name (or None when absent)} of the module's attributes ``names``."""
    module = _module(module)
    return {str(n): (type(getattr(module, n)).__name__ if hasattr(module, n) else None)
            for n in names}


def plain_containers(module):
    """Where the module keeps layers in a plain list, tuple or dict ("blocks",
    "stages.0.convs") and nowhere else: PyTorch does not see them (their parameters are not
    the module's)."""
    found = []
    module = _module(module)
    registered = {id(m) for m in module.modules()}
    for name, sub in module.named_modules():
        for attr, value in vars(sub).items():
            if attr.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = list(value.values() if isinstance(value, dict) else value)[:1000]
            if any(isinstance(v, torch.nn.Module) and id(v) not in registered for v in items):
                found.append(f"{name}.{attr}" if name else str(attr))
            if len(found) >= 5:
                return found
    return found


def kept_tensors(module):
    """How many tensors the module and its submodules hold outside their parameters, buffers and
    submodules: in attributes, and in lists, tuples and dicts kept in attributes (two levels). A
    forward that appends to a list on self makes it grow from one call to the next."""
    module = _module(module)
    count = 0

    def tensors(value, depth):
        if isinstance(value, torch.Tensor):
            return 1
        if depth == 0 or not isinstance(value, (list, tuple, dict)):
            return 0
        items = list(value.values() if isinstance(value, dict) else value)[:1000]
        return sum(tensors(v, depth - 1) for v in items)

    internal = set(vars(torch.nn.Module()))  # _parameters, _buffers, _modules, the hooks...
    for sub in list(module.modules())[:1000]:
        for attr, value in list(vars(sub).items())[:1000]:
            if attr not in internal:
                count += tensors(value, 2)
    return count


def load(module, params, bufs, dtype):
    """Cast the module to ``dtype`` and copy ``params`` (arrays, in parameters() order) and
    ``bufs`` (in buffers() order) into it; a None among ``bufs`` leaves that buffer as the module
    made it (cast to ``dtype``). A count or shape that differs is an error."""
    module = _module(module).to(_dtype(dtype))
    targets = list(module.parameters())
    buffer_targets = [b for b in module.buffers() if b.is_floating_point()]
    if len(targets) != len(params) or len(buffer_targets) != len(bufs):
        raise ValueError(f"the module has {len(targets)} parameters and {len(buffer_targets)} "
                         f"floating-point buffers; the grader expected {len(params)} and "
                         f"{len(bufs)}")
    with torch.no_grad():
        for i, (target, value) in enumerate(zip(targets + buffer_targets,
                                                list(params) + list(bufs))):
            if value is None and i >= len(targets):
                continue  # a buffer of the module's own (a constant it made): kept
            value = np.asarray(value)
            if tuple(target.shape) != value.shape:
                raise ValueError(f"a parameter of shape {tuple(target.shape)} where the grader "
                                 f"expected {value.shape}")
            target.copy_(torch.from_numpy(value.copy()))
    return None


def seeded_values(shapes, seed, scale=0.05):
    """Arrays of these shapes from ``numpy.random.default_rng(seed)`` (the judge makes the same
    ones for the reference): used for modules too large to send (AlexNet)."""
    rng = np.random.default_rng(seed)
    return [np.float32(scale) * rng.standard_normal(tuple(s), dtype=np.float32)
            for s in shapes]


def load_seeded(module, seed, dtype="float32", scale=0.05):
    """``load`` with parameters drawn by ``seeded_values`` (buffers left as they are). A
    module built on the "meta" device gets its memory here, uninitialised, then these values
    (no time spent on an initialisation that is overwritten)."""
    module = _module(module)
    if any(p.is_meta for p in module.parameters()):
        module = module.to_empty(device="cpu")
    module = module.to(_dtype(dtype))
    values = seeded_values([p.shape for p in module.parameters()], seed, scale)
    with torch.no_grad():
        for p, v in zip(module.parameters(), values):
            p.copy_(torch.from_numpy(v))
    return None


def _seeded(seed):
    """A context in which PyTorch's global generator (what ``nn.Dropout`` draws from) starts
    from ``seed`` and is put back afterwards; nothing when ``seed`` is None."""
    import contextlib

    if seed is None:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(torch.random.fork_rng(devices=[]))
    torch.manual_seed(int(seed))
    return stack


def forward(module, x, train, seed=None):
    """The module's output on ``x`` (an array, cast to the module's dtype) in train (True) or
    eval (False) mode, without gradients; batch norm's running statistics are kept as they
    were (train mode updates them, so they are saved and put back). With ``seed``, PyTorch's
    global generator is seeded first (the dropout masks of the reference's forward)."""
    module = _module(module)
    saved = [b.detach().clone() for b in module.buffers()]
    module.train(bool(train))
    with torch.no_grad(), _seeded(seed):
        out = module(torch.from_numpy(np.array(x)))
    _settle()
    with torch.no_grad():
        for b, s in zip(module.buffers(), saved):
            b.copy_(s)
    if isinstance(out, (tuple, list)) and out:  # several outputs (unit 08's LocalizationNet)
        return [_array(o) for o in out]
    return _array(out)


def train_buffers(module, x):
    """The floating-point buffers (batch norm's running mean and variance, in ``buffers()``
    order) after one train-mode forward on ``x``; the buffers are put back afterwards."""
    module = _module(module)
    saved = [b.detach().clone() for b in module.buffers()]
    module.train(True)
    with torch.no_grad():
        module(torch.from_numpy(np.array(x)))
        _settle()
        after = [_array(b, "a buffer") for b in module.buffers() if b.is_floating_point()]
        for b, s in zip(module.buffers(), saved):
            b.copy_(s)
    return after


_HYPER = ("in_channels", "out_channels", "in_features", "out_features", "kernel_size", "stride",
          "padding", "dilation", "groups", "num_features", "eps", "momentum", "affine", "p",
          "size", "alpha", "beta", "k", "negative_slope", "output_size", "ceil_mode",
          "count_include_pad", "start_dim")


def layers(module):
    """[(name, class name, [[hyperparameter, value], ...])] of the module's leaf modules (those
    without children) in registration order, with whether each convolution and linear layer
    has a bias: what the judge compares to say which layer differs from the reference's."""
    out = []
    for name, child in _module(module).named_modules():
        if next(child.children(), None) is not None:
            continue
        hyper = {}
        for key in _HYPER:
            value = getattr(child, key, None)
            if isinstance(value, (bool, int, float, str)):
                hyper[key] = value
            elif isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value):
                hyper[key] = list(value)
        if isinstance(child, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)):
            hyper["bias"] = child.bias is not None
        out.append((str(name), type(child).__name__, [[k, v] for k, v in hyper.items()]))
    return out


def meta_forward(module, shape, dtype="float32"):
    """The output shape of the module (on the "meta" device) for an input of ``shape``."""
    module = _module(module)
    out = module(torch.empty(tuple(int(n) for n in shape), device="meta", dtype=_dtype(dtype)))
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the output is a {type(out).__name__}, not a torch.Tensor")
    return tuple(int(n) for n in out.shape)


def backward(module, x, dout, train, seed=None):
    """Gradients of sum(forward(x) * dout): [dx] + the parameters' gradients in
    parameters() order (a parameter the output does not depend on gets zeros, None if it has
    no gradient at all). Buffers are put back, and ``seed`` used, as in ``forward``."""
    module = _module(module)
    saved = [b.detach().clone() for b in module.buffers()]
    module.train(bool(train))
    params = list(module.parameters())
    for p in params:
        p.requires_grad_(True)
        p.grad = None
    inp = torch.from_numpy(np.array(x)).requires_grad_(True)
    with _seeded(seed):
        out = module(inp)
    _settle()
    if isinstance(out, (tuple, list)) and isinstance(dout, (tuple, list)) and len(out) == len(
            dout) and all(isinstance(o, torch.Tensor) for o in out):  # several outputs
        grads = torch.autograd.grad(list(out), [inp] + params,
                                    grad_outputs=[torch.from_numpy(np.array(d)).to(o.dtype)
                                                  for o, d in zip(out, dout)],
                                    allow_unused=True)
        out = None
    elif not isinstance(out, torch.Tensor):
        raise TypeError(f"the output is a {type(out).__name__}, not a torch.Tensor")
    else:
        grads = torch.autograd.grad(out, [inp] + params,
                                    grad_outputs=torch.from_numpy(np.array(dout)).to(out.dtype),
                                    allow_unused=True)
    with torch.no_grad():
        for b, s in zip(module.buffers(), saved):
            b.copy_(s)
    return [None if g is None else _array(g, "a gradient") for g in grads]


# -- the layer operations a forward runs, in order (hints: the first that differs) -------------

_CONV = (("weight", None), ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1),
         ("groups", 1))
_CONV_T = (("weight", None), ("bias", None), ("stride", 1), ("padding", 0),
           ("output_padding", 0), ("groups", 1), ("dilation", 1))
_MAX_POOL = (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1),
             ("ceil_mode", False))
_AVG_POOL = (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False),
             ("count_include_pad", True), ("divisor_override", None))
_DROPOUT = (("p", 0.5),)
# operation name (torch's, without leading/trailing "_" and "_with_indices") -> its parameters
# after the input, in order, with defaults
OPERATIONS = {
    **{f"conv{d}d": _CONV for d in (1, 2, 3)},
    **{f"conv_transpose{d}d": _CONV_T for d in (1, 2, 3)},
    **{f"max_pool{d}d": _MAX_POOL for d in (1, 2, 3)},
    **{f"avg_pool{d}d": _AVG_POOL for d in (1, 2, 3)},
    **{f"adaptive_{kind}_pool{d}d": (("output_size", None),)
       for kind in ("avg", "max") for d in (1, 2, 3)},
    "linear": (("weight", None), ("bias", None)),
    "batch_norm": (("running_mean", None), ("running_var", None), ("weight", None),
                   ("bias", None), ("training", False), ("momentum", 0.1), ("eps", 1e-5)),
    "local_response_norm": (("size", None), ("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)),
    **{name: _DROPOUT for name in ("dropout", "dropout1d", "dropout2d", "dropout3d",
                                   "alpha_dropout", "feature_alpha_dropout")},
    **{name: () for name in ("relu", "relu6", "tanh", "sigmoid", "gelu", "elu", "selu", "silu")},
    "leaky_relu": (("negative_slope", 0.01),),
}
MAX_OPERATIONS = 10_000


def _operation_name(func):
    name = getattr(func, "__name__", "")
    name = name.strip("_")
    return name[:-len("_with_indices")] if name.endswith("_with_indices") else name


def _spatial(name, value):
    """An int or a sequence as a list of one entry per spatial dimension (from "...2d")."""
    dims = int(name[-2]) if name[-1] == "d" and name[-2].isdigit() else 1
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return [value] * dims
    try:
        return [v if isinstance(v, (int, float)) else None for v in value]
    except TypeError:
        return None


def _hyperparameters(name, args, kwargs):
    """{hyperparameter: plain value} of one operation call (arguments after the input)."""
    spec = OPERATIONS[name]
    bound = {key: default for key, default in spec}
    for (key, _), value in zip(spec, args[1:]):
        bound[key] = value
    bound.update({k: v for k, v in kwargs.items() if k in bound})
    out = {}
    if name.startswith(("conv", "linear")):
        weight = bound.pop("weight")
        shape = tuple(getattr(weight, "shape", ()))
        groups = bound.get("groups", 1)
        groups = groups if isinstance(groups, int) else 1
        if name == "linear" and len(shape) == 2:
            out.update(in_features=int(shape[1]), out_features=int(shape[0]))
        elif name.startswith("conv_transpose") and len(shape) >= 3:
            out.update(in_channels=int(shape[0]), out_channels=int(shape[1]) * groups,
                       kernel_size=[int(n) for n in shape[2:]])
        elif len(shape) >= 3:
            out.update(in_channels=int(shape[1]) * groups, out_channels=int(shape[0]),
                       kernel_size=[int(n) for n in shape[2:]])
        out["bias"] = bound.pop("bias") is not None
    if name == "batch_norm":
        out["affine"] = bound.pop("weight") is not None
        for key in ("running_mean", "running_var", "bias"):
            bound.pop(key)
        # batch statistics (True) or the running ones (False): the recorded forward is in eval
        # mode, where a batch norm that follows model.eval() runs with training=False
        bound["training"] = bool(bound["training"]) if isinstance(bound["training"], bool) \
            else None
    if "stride" in bound and bound["stride"] in (None, [], ()):
        bound["stride"] = bound.get("kernel_size")
    for key, value in bound.items():
        if key in ("kernel_size", "stride", "padding", "dilation", "output_padding",
                   "output_size"):
            value = _spatial(name, value)
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if value is None or isinstance(value, (bool, int, float, str, list)):
            out[key] = value
    return out


def operations(module, x):
    """[[operation, module name, [[hyperparameter, value], ...]]] of the layer operations
    (``OPERATIONS``: convolutions, linear layers, pooling, batch norm, LRN, dropout,
    activations) that one eval-mode forward of ``module`` on ``x`` runs, in the order they run,
    however they are written (a module, ``torch.nn.functional``, a tensor method); the module
    name is that of the innermost submodule running (``""``: the module itself)."""
    from torch.overrides import TorchFunctionMode

    module = _module(module)
    names = {id(m): str(n) for n, m in module.named_modules()}
    stack, found = [], []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = _operation_name(func)
            if name in OPERATIONS and len(found) < MAX_OPERATIONS:
                hyper = _hyperparameters(name, args, kwargs)
                where = next((n for n in reversed(stack) if n is not None), "")
                found.append([name, where, [[k, v] for k, v in hyper.items()]])
            return func(*args, **kwargs)

    def enter(m, _):
        stack.append(names.get(id(m)))

    def leave(m, _, __):  # returns None: a forward hook's result would replace the output
        if stack:
            stack.pop()

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(enter),
             torch.nn.modules.module.register_module_forward_hook(leave)]
    module.train(False)
    inp = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.array(x))
    try:
        with torch.no_grad(), Recorder():
            module(inp)
    finally:
        for hook in hooks:
            hook.remove()
    return found


def probe_model():
    """The model ``freeze`` is graded on: built here, so that a broken ResNet costs nothing
    to freeze. Parameter names: stem.0.weight, stem.1.weight, stem.1.bias, stages.0.weight,
    stages.0.bias, stages.1.weight, stages.1.bias, se.fc1.weight, se.fc1.bias, se.fc2.weight,
    se.fc2.bias, fc.weight, fc.bias. "fc" is inside the names se.fc1.* without starting them
    (prefixes, not substrings), and the batch norm stem.1 comes frozen already (its
    parameters must stay frozen whatever ``trainable`` says)."""
    from collections import OrderedDict

    nn = torch.nn
    model = nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))),
        ("stages", nn.Sequential(nn.Conv2d(4, 5, 3), nn.Conv2d(5, 6, 1))),
        ("se", nn.Sequential(OrderedDict([("fc1", nn.Linear(6, 3)), ("fc2", nn.Linear(3, 6))]))),
        ("fc", nn.Linear(6, 7)),
    ]))
    model.stem[1].requires_grad_(False)
    return model


def freeze(trainable, target="architectures.freeze", lookup=_lookup):
    """Call the student's ``freeze`` on a fresh ``probe_model()``; return (its count,
    [(name, requires_grad)] afterwards, the names of the attributes it set on parameters:
    ``param.require_grad = False`` makes a new attribute that PyTorch never reads)."""
    model = probe_model()
    # the parameters are read from the grader's own list, taken before the call, with
    # PyTorch's own getter: a model whose named_parameters (an instance attribute, or its
    # _parameters dicts) is made to show other objects cannot answer for them
    params = tuple(torch.nn.Module.named_parameters(model))
    count = lookup(target)(model, trainable=tuple(trainable))
    _settle()
    requires_grad = torch._C.TensorBase.requires_grad.__get__
    flags = [(str(n), bool(requires_grad(p))) for n, p in params]
    if isinstance(count, torch.Tensor):
        count = _array(count, "the count")
    attributes = sorted({str(k) for _, p in params for k in vars(p)})[:10]
    return count, flags, attributes


OPS = {
    "build": build, "parameters": parameters, "buffers": buffers, "children": children,
    "not_float32": not_float32, "is_sequential": is_sequential,
    "attribute_types": attribute_types, "plain_containers": plain_containers, "load": load,
    "kept_tensors": kept_tensors,
    "load_seeded": load_seeded,
    "forward": forward, "meta_forward": meta_forward, "backward": backward, "freeze": freeze,
    "train_buffers": train_buffers, "layers": layers, "operations": operations,
}


# -- functions and methods on tensors (unit 10) --------------------------------------------------

def _to_tensor(value):
    return torch.from_numpy(value.copy()) if isinstance(value, np.ndarray) else value


def _plain_output(value):
    """A returned value as plain data: a tensor as its array (a 0-d tensor as a float: the
    wire sends arrays of at least one dimension), a number as itself."""
    if isinstance(value, torch.Tensor):
        return float(_array(value)) if value.dim() == 0 and value.is_floating_point() \
            else _array(value)
    if isinstance(value, (bool, int, float)):
        return value
    return None


def _raw_values(t):
    """The tensor's values as a NumPy array, read without PyTorch's dispatcher where it can be:
    ``.data`` (a shallow copy made in C++) and ``numpy()`` (a view of its memory) run no
    operator, so no kernel that code registered for an operator (``torch.library``: a
    ``detach`` that answers with a saved copy) can answer for the tensor. A tensor that is not
    a plain CPU tensor (on a GPU, with a conjugate or negative bit) is read through the
    operators ``detach``, ``cpu`` and ``resolve_conj``/``resolve_neg``."""
    with torch._C.DisableTorchFunctionSubclass():
        base = torch._C.TensorBase
        data = base.data.__get__(t)
        try:
            return base.numpy(data)
        except (RuntimeError, TypeError):
            values = base.cpu(base.detach(t))
            return base.numpy(base.resolve_neg(base.resolve_conj(values)))


def _fingerprint(t):
    """(shape, dtype, bytes) of a tensor's values, read with PyTorch's own methods and without
    its operators (``_raw_values``: an instance attribute ``detach``, a subclass or a kernel
    registered for ``detach`` cannot answer for it)."""
    values = _raw_values(t)
    return tuple(values.shape), str(values.dtype), bytes(np.ascontiguousarray(values).tobytes())


def _changed(t, before):
    """Whether tensor ``t`` differs from its ``_fingerprint`` ``before``: other bytes and other
    values (equal values in other bits, -0.0 for 0.0 or another NaN, are no change)."""
    now = _fingerprint(t)
    if now == before:
        return False
    if now[:2] != before[:2]:
        return True
    values = np.ascontiguousarray(_raw_values(t))
    old = np.frombuffer(before[2], dtype=values.dtype).reshape(values.shape)
    return not np.array_equal(values, old, equal_nan=values.dtype.kind in "fc")


def _storage_pointer(t):
    storage = torch._C.TensorBase.untyped_storage(t)
    return torch._C.StorageBase.data_ptr(storage), torch._C.StorageBase.nbytes(storage)


def _shares_memory(a, b):
    """Whether tensor ``a`` is ``b`` or a view of the same memory (read with PyTorch's own
    methods: a returned subclass or an instance attribute cannot answer for it)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        return False
    if a is b:
        return True
    try:
        with torch._C.DisableTorchFunctionSubclass():
            (pa, na), (pb, _) = _storage_pointer(a), _storage_pointer(b)
        return pa == pb and na > 0
    except (RuntimeError, NotImplementedError, TypeError):  # no storage (meta, sparse)
        return False


def tensor_call(target, method, args, kwargs, grad_args=(), douts=None, generators=None,
                param_grads=False, lookup=_lookup):
    """Call ``coursework.<target>`` (a name) or the method ``method`` of a module (``target``
    an object) with the arrays among ``args``/``kwargs`` as tensors (those at positions
    ``grad_args`` requiring gradients) and ``generators`` ({keyword: seed}) as seeded
    ``torch.Generator``s. Returns a dict: ``outputs`` (the result's items as arrays or numbers;
    one item unless it is a tuple or list), ``kinds`` (their type names), ``tuple`` (whether
    it was one), ``grads`` (of sum(output_k * douts[k]) over the tensor outputs, for each
    grad_args input, then each of the module's parameters when ``param_grads``; None where
    no gradient flows), ``modified`` (positions of tensor arguments changed in place) and
    ``aliases`` (for each item, the positions of the tensor arguments it shares memory with:
    the argument itself returned, or a view of it) and ``flows`` (for each item, whether it
    requires a gradient: False for a tensor cut off from the inputs)."""
    if isinstance(target, str):
        func = lookup(target)
        params = []
    else:
        module = _module(target)
        func = getattr(module, method or "forward")
        params = list(module.parameters()) if param_grads else []
        for p in params:
            p.requires_grad_(True)
            p.grad = None
    args = [_to_tensor(a) for a in args]
    kwargs = {k: _to_tensor(v) for k, v in kwargs.items()}
    for name, seed in (generators or {}).items():
        kwargs[name] = torch.Generator().manual_seed(int(seed))
    for i in grad_args:
        args[i].requires_grad_(True)
    # immutable (a tuple of bytes): code that walks the stack to this frame can neither empty
    # it nor make a copy match its change, nor swap an argument (a tuple too)
    args = tuple(args)
    saved = tuple((i, type(a), _fingerprint(a)) for i, a in enumerate(args)
                  if isinstance(a, torch.Tensor))
    result = func(*args, **kwargs)
    _settle()
    is_tuple = isinstance(result, (tuple, list))
    items = list(result) if is_tuple else [result]
    with torch._C.DisableTorchFunctionSubclass():  # a returned subclass answers nothing here
        out = {"outputs": [_plain_output(v) for v in items],
               "kinds": ["Tensor" if isinstance(v, torch.Tensor) else type(v).__name__
                         for v in items],  # a Parameter is a Tensor
               "tuple": bool(is_tuple),
               "grads": None,
               "shapes": [list(v.shape) if isinstance(v, torch.Tensor) else None
                          for v in items],
               # whether a gradient can flow back from each item (None: not a tensor)
               "flows": [bool(v.requires_grad) if isinstance(v, torch.Tensor) else None
                         for v in items],
               "modified": [i for i, cls, before in saved
                            if type(args[i]) is not cls or _changed(args[i], before)],
               "aliases": [[i for i, _, _ in saved if _shares_memory(v, args[i])]
                           for v in items]}
    if douts is not None:
        pairs = [(v, torch.from_numpy(np.array(d)).to(v.dtype)) for v, d in zip(items, douts)
                 if isinstance(v, torch.Tensor) and v.requires_grad and d is not None
                 and tuple(v.shape) == np.shape(d)]
        wrt = [args[i] for i in grad_args] + params
        if pairs and wrt:
            grads = torch.autograd.grad([v for v, _ in pairs], wrt, [d for _, d in pairs],
                                        allow_unused=True)
        else:
            grads = [None] * len(wrt)
        out["grads"] = [None if g is None else _array(g, "a gradient") for g in grads]
    return out


def gan_probe(data_dim, noise_dim, hidden, dtype=torch.float64):
    """The small D and G that ``gan_step`` is graded on (built here, in ``dtype``, so that a
    broken Discriminator or Generator costs gan_step nothing)."""
    nn = torch.nn
    D = nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
    G = nn.Sequential(nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, data_dim),
                      nn.Tanh())
    return D.to(dtype), G.to(dtype)


class RecordingSGD(torch.optim.SGD):
    """Plain SGD that notes, at every ``step()`` before updating: which optimizer stepped, the
    gradients of its own parameters, and the parameters of both networks."""

    def __init__(self, params, lr, name, log, networks):
        super().__init__(params, lr=lr)
        self.name, self.log, self.networks = name, log, networks

    def step(self, closure=None):
        own = [p for group in self.param_groups for p in group["params"]]
        entry = {"optimizer": self.name,
                 "grads": [None if p.grad is None else _array(p.grad, "a gradient") for p in own]}
        for key, net in self.networks.items():
            entry[key] = [_array(p) for p in net.parameters()]
        self.log.append(entry)
        return super().step(closure)


def gan_step(params_d, params_g, real, noise_dim, seed, loss, lr, stale,
             target="generative.gan_step", lookup=_lookup):
    """``gan_step`` on ``gan_probe`` networks loaded with these parameters, with recording SGD
    optimizers (learning rate ``lr``) and every parameter's ``.grad`` set to ``stale`` first (a
    step that forgets ``zero_grad`` shows). The networks have real's dtype (float32 or float64,
    the notebook training float32). Returns {"result": its return value (plain),
    "steps": the optimizers' records, "gradients_to_g": how many gradients autograd computed
    for G's parameters, "D", "G": the parameters afterwards}."""
    real = np.asarray(real)
    hidden = np.shape(params_d[0])[0]
    dtype = torch.float32 if real.dtype == np.float32 else torch.float64
    D, G = gan_probe(real.shape[1], int(noise_dim), hidden, dtype)
    with torch.no_grad():
        for p, v in zip(list(D.parameters()) + list(G.parameters()),
                        list(params_d) + list(params_g)):
            p.copy_(torch.from_numpy(np.array(v)))
    for p in list(D.parameters()) + list(G.parameters()):
        p.grad = torch.full_like(p, float(stale))
    # every gradient computed for a parameter of G, in either backward: the discriminator's
    # loss must send none (its fakes detached), the generator's one per parameter. Counted by
    # hooks of the nodes that accumulate G's gradients, kept in C++ (a tensor hook lives in
    # the parameter's _backward_hooks, which the code can empty), alive while the tuple
    # ``nodes`` holds them, on a counter that only ever grows (code that reaches it through
    # the stack can only add to it)
    reached_g = itertools.count()

    def reached(grads):
        next(reached_g)

    nodes = tuple(torch.autograd.graph.get_gradient_edge(p).node for p in G.parameters())
    for node in nodes:
        node.register_prehook(reached)
    log = []
    networks = {"D": D, "G": G}
    d_opt = RecordingSGD(D.parameters(), lr, "D", log, networks)
    g_opt = RecordingSGD(G.parameters(), lr, "G", log, networks)
    result = lookup(target)(D, G, d_opt, g_opt, torch.from_numpy(real.copy()),
                            noise_dim=int(noise_dim),
                            generator=torch.Generator().manual_seed(int(seed)), loss=loss)
    _settle()
    # what was returned, before tensors become numbers: the docstring asks for Python floats
    kinds = ["Tensor" if isinstance(v, torch.Tensor) else type(v).__name__[:40]
             for v in result] if isinstance(result, (tuple, list)) else []
    if isinstance(result, (tuple, list)):
        result = [_plain_output(v) for v in result]
    else:
        result = _plain_output(result)
    return {"result": result, "result_kinds": kinds, "steps": log,
            "gradients_to_g": next(reached_g) if nodes else 0,
            "D": [_array(p) for p in D.parameters()],
            "G": [_array(p) for p in G.parameters()],
            "requires_grad": {key: [bool(p.requires_grad) for p in net.parameters()]
                              for key, net in networks.items()}}


def repeated_call(target, args, kwargs, generators, lookup=_lookup):
    """Call ``coursework.<target>`` twice with the same seeded ``torch.Generator``s
    (``generators``: {keyword: seed}), then draw ``torch.rand(4)`` from each generator.
    Returns {"first", "second": the two results (arrays), "after": {keyword: the draw}}:
    whether the function draws from the generator it is given, and advances it."""
    func = lookup(target)
    gens = {name: torch.Generator().manual_seed(int(seed))
            for name, seed in (generators or {}).items()}
    results = []
    for _ in range(2):
        call_kwargs = {k: _to_tensor(v) for k, v in kwargs.items()}
        call_kwargs.update(gens)
        value = func(*[_to_tensor(a) for a in args], **call_kwargs)
        _settle()
        results.append(_plain_output(value))
    after = {name: _array(torch.rand(4, generator=g)) for name, g in gens.items()}
    return {"first": results[0], "second": results[1], "after": after}


OPS.update({"tensor_call": tensor_call, "gan_step": gan_step, "repeated_call": repeated_call})
