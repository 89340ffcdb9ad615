"""The judge's handle on a student's ``nn.Module`` living in the worker (PyTorch units).

``StudentModule.build(student, "architectures.ResidualBlock", 3, 5, stride=2)`` constructs the
module in the worker and returns a handle through which the judge lists its parameters, loads
parameters and buffers by order, runs forward (train or eval mode) and backward. Everything
crosses as arrays and plain data (``wire``); the worker side is ``torch_ops.py``.

``reference_*`` do the same in the judge on the reference package (``cw``), for recipes of
``oracle.run``. The judge imports PyTorch itself only here, for the reference.
"""

import numpy as np

from .compare import Failed
from .runner import StudentError


class StudentModule:
    """A student's module in the worker, driven through ``torch_ops``."""

    def __init__(self, student, handle, target):
        self.student = student
        self.handle = handle
        self.target = target

    @classmethod
    def build(cls, student, target, *args, meta=False, **kwargs):
        handle = student.torch("build", target, list(args), kwargs, bool(meta), opaque=[0])
        from . import wire

        if not isinstance(handle, wire.Handle):
            raise StudentError(f"{target.split('.', 1)[1]}(...) did not return an object")
        return cls(student, handle, target)

    def _ask(self, name, *args):
        return self.student.torch(name, self.handle, *args)

    def parameters(self):
        """[(name, shape)] in the order ``parameters()`` lists them."""
        return _pairs(self._ask("parameters"), "parameters()")

    def buffers(self):
        return _pairs(self._ask("buffers"), "buffers()")

    def not_float32(self):
        """[(name, dtype)] of the floating-point parameters and buffers that are not float32."""
        return _pairs(self._ask("not_float32"), "the parameters' dtypes")

    def is_sequential(self):
        value = self._ask("is_sequential")
        if not isinstance(value, bool):
            raise StudentError("the module's type could not be read")
        return value

    def children(self):
        return _pairs(self._ask("children"), "named_children()")

    def attribute_types(self, names):
        value = self._ask("attribute_types", list(names))
        if not isinstance(value, dict):
            raise StudentError("the module's attributes could not be read")
        return value

    def plain_containers(self):
        """The attributes that keep layers in a plain list, tuple or dict (``torch_ops``)."""
        value = self._ask("plain_containers")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StudentError("the module's attributes could not be read")
        return value

    def kept_tensors(self):
        """How many tensors the module keeps outside its parameters and buffers (``torch_ops``)."""
        value = self._ask("kept_tensors")
        if not isinstance(value, int) or isinstance(value, bool):
            raise StudentError("the module's attributes could not be read")
        return value

    def load(self, params, buffers, dtype="float64"):
        self._ask("load", list(params), list(buffers), dtype)

    def load_seeded(self, seed, dtype="float32", scale=0.05):
        self._ask("load_seeded", int(seed), dtype, float(scale))

    def forward(self, x, train, seed=None):
        if seed is None:
            return self._ask("forward", x, bool(train))
        return self._ask("forward", x, bool(train), int(seed))

    def train_buffers(self, x):
        """The floating-point buffers after one train-mode forward on x (put back after)."""
        value = self._ask("train_buffers", x)
        if not isinstance(value, list):
            raise StudentError("the running statistics could not be read")
        return value

    def layers(self):
        """[(name, class name, [[hyperparameter, value], ...])] of the leaf modules, in
        order (``torch_ops.layers``)."""
        return _triples(self._ask("layers"), "the module's layers")

    def operations(self, x):
        """[(operation, module name, [[hyperparameter, value], ...])] of the layer operations
        one eval-mode forward on ``x`` runs, in order (``torch_ops.operations``)."""
        return _triples(self._ask("operations", x), "the module's operations")

    def meta_forward(self, shape, dtype="float32"):
        value = self._ask("meta_forward", [int(n) for n in shape], dtype)
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def backward(self, x, dout, train, seed=None):
        if seed is None:
            return self._ask("backward", x, dout, bool(train))
        return self._ask("backward", x, dout, bool(train), int(seed))



def student_freeze(student, trainable):
    """(count, [(name, requires_grad)], [attribute set on a parameter]) of the student's
    ``freeze`` on ``torch_ops.probe_model``."""
    value = student.torch("freeze", list(trainable))
    if not isinstance(value, (list, tuple)) or len(value) != 3 \
            or not isinstance(value[2], (list, tuple)) \
            or not all(isinstance(a, str) for a in value[2]):
        raise StudentError("freeze's result could not be read")
    return value[0], _pairs(value[1], "the parameters' requires_grad"), list(value[2])


def _triples(value, what):
    """[(str, str, [[str, value], ...])] from a worker's answer (``torch_ops.layers`` and
    ``operations``), or StudentError when it is not that."""
    if not isinstance(value, (list, tuple)) or len(value) > 100_000 or not all(
            isinstance(v, (list, tuple)) and len(v) == 3 and isinstance(v[0], str)
            and isinstance(v[1], str) and isinstance(v[2], (list, tuple))
            and all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str)
                    for p in v[2]) for v in value):
        raise StudentError(f"{what} could not be read")
    return [(first, second, [list(p) for p in rest]) for first, second, rest in value]


def _pairs(value, what):
    """[(name, shape or type)] from a worker's answer, or StudentError when it is not that."""
    if not isinstance(value, (list, tuple)) or len(value) > 100_000:
        raise StudentError(f"{what} could not be read")
    out = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[0], str):
            raise StudentError(f"{what} could not be read")
        second = tuple(item[1]) if isinstance(item[1], (list, tuple)) else item[1]
        out.append((item[0], second))
    return out


# -- the reference, in the judge -----------------------------------------------------------------

def reference_build(cw, target, args, kwargs, meta=False):
    import torch

    module, _, name = target.partition(".")
    factory = getattr(getattr(cw, module), name)
    if meta:
        with torch.device("meta"):
            return factory(*args, **kwargs)
    return factory(*args, **kwargs)


def reference_shapes(model):
    params = [tuple(int(n) for n in p.shape) for p in model.parameters()]
    buffers = [tuple(int(n) for n in b.shape) for b in model.buffers() if b.is_floating_point()]
    return params, buffers


def reference_load(model, params, buffers, dtype="float64"):
    """``torch_ops.load`` on the reference: a None among ``buffers`` leaves that buffer as the
    module made it."""
    import torch

    model = model.to({"float64": torch.float64, "float32": torch.float32}[dtype])
    targets = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    values = list(params) + list(buffers)
    kept = [len(params) <= i and v is None for i, v in enumerate(values)]  # buffers left as made
    if len(targets) != len(values) or any(tuple(t.shape) != np.shape(v)
                                          for t, v, k in zip(targets, values, kept) if not k):
        raise ValueError("these parameters do not fit the module")
    with torch.no_grad():
        for t, v, k in zip(targets, values, kept):
            if not k:
                t.copy_(torch.from_numpy(np.array(v)))
    return model


def reference_forward(model, x, train, seed=None):
    import torch

    from .torch_ops import _seeded

    model.train(bool(train))
    with torch.no_grad(), _seeded(seed):
        return model(torch.from_numpy(np.array(x))).numpy()


def reference_train_buffers(model, x):
    """The floating-point buffers of the reference after one train-mode forward on x."""
    import torch

    model.train(True)
    with torch.no_grad():
        model(torch.from_numpy(np.array(x)))
    return [b.numpy().copy() for b in model.buffers() if b.is_floating_point()]


def reference_operations(model, shape):
    """``torch_ops.operations`` of the reference module (built on the "meta" device) for an
    input of ``shape``: the operations do not depend on the values."""
    import torch

    from .torch_ops import operations

    return operations(model, torch.empty(tuple(int(n) for n in shape), device="meta"))


def reference_layers(model):
    """``torch_ops.layers`` of the reference module."""
    from .torch_ops import layers

    return layers(model)


def reference_backward(model, x, dout, train, seed=None):
    import torch

    from .torch_ops import _seeded

    model.train(bool(train))
    params = list(model.parameters())
    inp = torch.from_numpy(np.array(x)).requires_grad_(True)
    with _seeded(seed):
        out = model(inp)
    grads = torch.autograd.grad(out, [inp] + params, grad_outputs=torch.from_numpy(dout),
                                allow_unused=True)
    return [None if g is None else g.numpy() for g in grads]


def values_for(param_shapes, buffer_shapes, seed):
    """Parameters and buffers the judge loads into both modules: non-zero biases and batch norm
    shifts, running variances in [0.5, 1.5] (float64)."""
    rng = np.random.default_rng(seed)
    params = [0.4 * rng.standard_normal(s) for s in param_shapes]
    buffers = []
    for i, s in enumerate(buffer_shapes):  # running_mean, running_var alternate in BatchNorm
        buffers.append(0.2 * rng.standard_normal(s) if i % 2 == 0 else rng.uniform(0.5, 1.5, s))
    return params, buffers


def shapes_message(what, got, expected):
    """The first difference between two lists of shapes, in words."""
    if len(got) != len(expected):
        return (f"{what}: {len(got)} parameter tensors where {len(expected)} are expected "
                f"(shapes in forward order: expected {_short(expected)}, got {_short(got)})")
    for i, (g, e) in enumerate(zip(got, expected)):
        if tuple(g) != tuple(e):
            return (f"{what}: parameter {i + 1} in forward order has shape {tuple(g)}, expected "
                    f"{tuple(e)} (expected {_short(expected)})")
    return None


def _short(shapes, most=12):
    text = ", ".join(str(tuple(s)) for s in shapes[:most])
    return f"[{text}{', ...' if len(shapes) > most else ''}]"


OWN_PARAMETERS_HINT = ("parameters() lists a module's own nn.Parameter attributes ({}) before "
                       "the parameters of its layers, whatever order they are assigned in: hold "
                       "those weights in a layer (nn.Conv2d, nn.Linear) or in a submodule of "
                       "their own (an nn.ParameterList) assigned where forward uses them")


def check_shapes(what, got, expected, mistakes=None, containers=None, names=None):
    """Failed when the lists of shapes differ; the hint names a known mistake that gives
    exactly ``got`` (``mistakes()``: [(description, shapes)], asked only on failure), else
    what the shapes show. ``containers()``: where the student's module keeps layers in plain
    lists or dicts (``StudentModule.plain_containers``; None: not known). ``names``: the
    parameters' names, in ``got``'s order: every shape there in another order, with parameters
    of the module's own ahead of its layers', is told ``OWN_PARAMETERS_HINT``."""
    message = shapes_message(what, got, expected)
    if message is None:
        return
    hint = None
    for description, wrong in (mistakes() if mistakes is not None else ()):
        if [tuple(s) for s in wrong] == [tuple(s) for s in got]:
            hint = description
            break
    own = [n for n in names or () if "." not in n]
    if hint is None and sorted(map(tuple, got)) == sorted(map(tuple, expected)) and own \
            and len(own) < len(names):
        hint = OWN_PARAMETERS_HINT.format(", ".join(own[:4]) + (", ..." if len(own) > 4 else ""))
    if hint is None and sorted(map(tuple, got)) == sorted(map(tuple, expected)):
        hint = ("every parameter shape is there, in another order: PyTorch lists parameters in "
                "the order the layers are assigned in __init__; create them in the order the "
                "docstring lists the layers (the order forward runs them)")
    if hint is None and len(got) < len(expected):
        held = containers() if containers is not None else None  # None: not known
        missing = _missing(got, expected)
        if held or held is None:
            where = f" ({', '.join(held)})" if held else ""
            hint = ("layers kept in a plain Python list or dict" + where + " are invisible to "
                    "PyTorch (their parameters are not the module's: not trained, not saved): "
                    "hold them in nn.ModuleList, nn.ModuleDict or nn.Sequential, or assign each "
                    "to an attribute" + (" (this module has no parameter at all)" if not got
                                         else ""))
        elif missing is not None:
            # no shapes here: the hint of a hidden case is shown, its message is not
            hint = (f"every parameter tensor the module has is an expected one, but "
                    f"{len(missing)} are missing: a layer the docstring asks for is not built "
                    "in this configuration (a shortcut, a projection, a block): check the "
                    "condition that decides whether it is made")
    raise Failed(message, hint)


def _missing(got, expected):
    """The expected shapes that ``got`` lacks, when ``got`` holds only expected shapes (as a
    multiset), else None."""
    left = [tuple(s) for s in expected]
    for shape in map(tuple, got):
        if shape not in left:
            return None
        left.remove(shape)
    return left
