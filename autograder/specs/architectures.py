"""Tests of unit 06, ``architectures`` (PyTorch modules, driven in the worker through handles).

Every module is graded the same way (``check_module``): its parameters' shapes in forward order
(and batch norm's buffers) against the reference's; then the reference's parameters and buffers
(random, non-zero biases and shifts) are loaded into it by order, in float64, and its output and
the gradients of a random upstream gradient (input and every parameter) are compared with the
reference's, in eval and train mode, on odd input sizes (33x35) and stride 2. A gradient that
does not reach a parameter is named. Train mode runs dropout under the same torch seed on both
sides (so a dropout layer in another place, or one too many, changes the output), and batch
norm's running statistics after a train-mode forward are compared too (its momentum). When an
output is wrong and no known mistake explains it, the hint names the first layer (type and
hyperparameters, in registration order) that differs from the reference's. Residual blocks are
also checked on their identity path; ResNet and SEBlock (any H and W) on an input of another
size after their first calls (a pooling window fixed from the first input fails); AlexNet and
VGG-16 are counted on the "meta" device (nothing allocated), SEBlock's ``gates`` is compared on
its own, and ``freeze`` on a small model built by the grader (a name that holds a prefix without
starting with it, parameters frozen before).
"""

import difflib
import re

import numpy as np

from ..compare import Failed
from ..runner import StudentError
from ..spec import Case, Spec
from ..torch_handles import (StudentModule, check_shapes, reference_backward, reference_build,
                             reference_forward, reference_layers, reference_load,
                             reference_operations,
                             reference_shapes, reference_train_buffers, student_freeze,
                             values_for)

SPEC = Spec("architectures")
VGG16 = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]
RTOL = 1e-6


# -- recipes (module level: their names key the recorded outputs of a release) ------------------

def module_shapes(cw, target, args, kwargs):
    """([parameter shapes], [buffer shapes]) of the reference module, built on "meta"."""
    params, buffers = reference_shapes(reference_build(cw, target, args, kwargs, meta=True))
    return [list(s) for s in params], [list(s) for s in buffers]


def module_outputs(cw, target, args, kwargs, params, buffers, x, dout, train, seed=None):
    """[output, dx, d(param 1), ...] of the reference module with these parameters loaded
    (``seed``: torch's global generator seeded before each pass, for dropout)."""
    model = reference_load(reference_build(cw, target, args, kwargs), params, buffers)
    out = reference_forward(model, x, train, seed)
    if out.shape != np.shape(dout):  # a known mistake with another output shape
        return [out]
    return [out] + reference_backward(model, x, dout, train, seed)


def module_buffers(cw, target, args, kwargs, params, buffers, x):
    """Batch norm's running statistics of the reference module after a train-mode forward."""
    model = reference_load(reference_build(cw, target, args, kwargs), params, buffers)
    return reference_train_buffers(model, x)


def module_layers(cw, target, args, kwargs):
    """[(name, class name, [[hyperparameter, value], ...])] of the reference module's leaf
    modules (``torch_ops.layers``)."""
    return [list(layer) for layer in reference_layers(reference_build(cw, target, args, kwargs,
                                                                      meta=True))]


def module_operations(cw, target, args, kwargs, shape):
    """The layer operations of the reference module's forward on an input of ``shape``, in the
    order they run (``torch_ops.operations``)."""
    model = reference_build(cw, target, args, kwargs, meta=True)
    return [list(op) for op in reference_operations(model, shape)]


def method_output(cw, target, args, kwargs, params, method, x):
    """The reference module's ``method(x)`` (float64, these parameters loaded)."""
    from ..torch_ops import tensor_call

    model = reference_load(reference_build(cw, target, args, kwargs), params, [])
    return tensor_call(model, method, [x], {}, [], None, None)["outputs"][0]


def meta_output_shape(cw, target, args, kwargs, shape):
    import torch

    model = reference_build(cw, target, args, kwargs, meta=True)
    return list(model(torch.empty(tuple(shape), device="meta")).shape)


def seeded_output(cw, target, args, kwargs, seed, x, train=False, dropout_seed=None):
    """Output of the reference with ``torch_ops.seeded_values`` parameters (float32), in eval
    mode or in train mode with torch's generator seeded (``dropout_seed``) for dropout."""
    import torch

    from ..torch_ops import seeded_values

    model = reference_build(cw, target, args, kwargs, meta=True).to_empty(device="cpu")
    with torch.no_grad():
        for p, v in zip(model.parameters(), seeded_values([p.shape for p in model.parameters()],
                                                          seed)):
            p.copy_(torch.from_numpy(v))
    return reference_forward(model, x, train, dropout_seed)


def frozen(cw, trainable):
    """(count, [(name, requires_grad)]) of the reference ``freeze`` on the probe model (some of
    its parameters frozen before the call: ``torch_ops.probe_model``)."""
    from ..torch_ops import probe_model

    model = probe_model()
    count = cw.architectures.freeze(model, trainable=tuple(trainable))
    return count, [(n, bool(p.requires_grad)) for n, p in model.named_parameters()]


# -- the shared check ----------------------------------------------------------------------------

def _name(target):
    return target.split(".", 1)[1]


def _call_text(target, args, kwargs):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{_name(target)}({', '.join(parts)})"


def shape_mistakes(t, target, args, kwargs):
    """The known mistakes' parameter shapes, for ``check_shapes``'s hint. Computed at once when
    the reference is being recorded (a release): ``check_shapes`` asks for them only on
    failure, and a release can give only the hints it recorded."""
    def mistakes():
        return [(d, w[0]) for d, w in t.ref.mistakes(target, module_shapes, target, list(args),
                                                      kwargs)]
    if getattr(t.ref, "recording", None) is not None:
        mistakes()
    return mistakes


# The modules whose module docstring says "Modules are float32 by default and work in float64
# after .double()": the grader loads float64 values into them, which would hide a layer built
# with dtype=torch.float64 (float32 images, as the notebooks train, would then fail).
FLOAT32_BY_DEFAULT = ("architectures", "generative")
FLOAT32_HINT = ("build the layers without a dtype= argument (and no .double() or .to(float64) "
                "in __init__): PyTorch makes them float32, and a caller who wants float64 calls "
                "model.double()")


def check_float32(t, student, target, args, kwargs):
    """A module of a FLOAT32_BY_DEFAULT docstring holds float32 parameters and buffers as
    built."""
    if target.split(".", 1)[0] not in FLOAT32_BY_DEFAULT:
        return
    odd = student.not_float32()
    if odd:
        listed = ", ".join(f"{name} is {dtype}" for name, dtype in odd[:3])
        raise Failed(f"{_call_text(target, args, kwargs)}: as built, {listed}; the docstring's "
                     "convention: modules are float32 by default (and work in float64 after "
                     ".double())", hint=FLOAT32_HINT, kind="dtype")


def build_and_check_shapes(t, target, args, kwargs):
    """Build the student's module and compare its parameter and buffer shapes; return it with
    the expected shapes. A module of a FLOAT32_BY_DEFAULT docstring must be float32 as built."""
    student = StudentModule.build(t.student, target, *args, **kwargs)
    check_float32(t, student, target, args, kwargs)
    named = student.parameters()
    got = [s for _, s in named]
    named_buffers = student.buffers()
    got_buffers = [s for _, s in named_buffers]
    expected, expected_buffers = t.ref.run(module_shapes, target, list(args), kwargs)
    where = _call_text(target, args, kwargs)
    check_shapes(where, got, expected, shape_mistakes(t, target, args, kwargs),
                 student.plain_containers, [n for n, _ in named])
    if [tuple(s) for s in got_buffers] != [tuple(s) for s in expected_buffers]:
        own = [n for n, _ in named_buffers
               if n.rsplit(".", 1)[-1] not in ("running_mean", "running_var")]
        if own:
            raise Failed(f"{where}: it registers buffers of its own ({', '.join(own[:4])}): "
                         "the grader loads batch norm's running statistics, and only those, "
                         "into the module's floating-point buffers",
                         hint="keep values you want to look at as plain attributes (self.x = "
                              "...), not register_buffer: the docstring's layers hold all the "
                              "module's state")
        raise Failed(f"{where}: its batch norm buffers (running mean and variance) have shapes "
                     f"{got_buffers}, expected {[tuple(s) for s in expected_buffers]}",
                     hint="use nn.BatchNorm2d(channels) after each convolution the docstring "
                          "names, and no other normalization")
    return student, expected, expected_buffers, got


BATCH_NORM_HINT = ("keep nn.BatchNorm2d's defaults (momentum 0.1: running = 0.9 * running + "
                   "0.1 * batch statistic; eps 1e-5), and apply each batch norm once per "
                   "forward, to the tensor the docstring names")
NEUTRAL_LAYERS = {"Identity", "Flatten"}  # no effect on the values: left out of comparisons


def _layer_text(layer):
    _, kind, hyper = layer
    return f"{kind}({', '.join(f'{k}={_plain(v)}' for k, v in hyper.items())})"


def _as_dicts(layers):
    """(name, class name, {hyperparameter: value}) from ``torch_ops.layers``'s triples, whose
    hyperparameters are [key, value] pairs (their order survives a recording)."""
    return [(name, kind, {k: v for k, v in pairs}) for name, kind, pairs in layers]


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def layer_difference(got, expected):
    """The first leaf module of ``got`` that differs from ``expected`` (lists of (name, class
    name, {hyperparameter: value}) in registration order), in words; None when they agree.

    Identity and Flatten are left out, and so is every type the student has no module of
    (written with torch.nn.functional instead), and every module class of the student's own
    that the reference does not use (a hand-written LRN): only what both have is compared."""
    import torch

    expected = [layer for layer in _as_dicts(expected) if layer[1] not in NEUTRAL_LAYERS]
    reference_kinds = {layer[1] for layer in expected}
    got = [layer for layer in _as_dicts(got) if layer[1] not in NEUTRAL_LAYERS
           and (layer[1] in reference_kinds or isinstance(getattr(torch.nn, layer[1], None),
                                                          type))]
    kinds = {layer[1] for layer in got}
    expected = [layer for layer in expected if layer[1] in kinds]
    for g, e in zip(got, expected):
        if g[1] != e[1] or any(_plain(g[2].get(k)) != _plain(v) for k, v in e[2].items()):
            shown = (g[0], g[1], {k: g[2].get(k) for k in e[2]}) if g[1] == e[1] else g
            return (f"its layer {g[0]} is {_layer_text(shown)} where the reference's layer at "
                    f"that place is {_layer_text(e)} (layers compared in registration order)")
    if len(got) > len(expected):
        return (f"it has a layer the reference does not: {got[len(expected)][0]} = "
                f"{_layer_text(got[len(expected)])}")
    if len(got) < len(expected):
        return (f"its layers end where the reference goes on with {_layer_text(expected[len(got)])}"
                " (layers compared in registration order)")
    return None


OPERATIONS_COMPARED = ("layer operations compared in the order they run, however they are "
                       "written: convolutions, linear layers, pooling, normalization, dropout "
                       "and activations")
# hyperparameter values not shown when an operation is named whole (the usual defaults)
QUIET = {"padding": {(0,), (0, 0), (0, 0, 0)}, "dilation": {(1,), (1, 1), (1, 1, 1)},
         "output_padding": {(0,), (0, 0), (0, 0, 0)}, "groups": {1}, "ceil_mode": {False},
         "count_include_pad": {True}, "divisor_override": {None}, "bias": {True},
         "affine": {True}, "momentum": {0.1}, "eps": {1e-5}, "training": {False}}


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _operation_text(op, hyper):
    shown = [f"{k}={_plain(v)}" for k, v in hyper.items() if _plain(v) not in QUIET.get(k, ())]
    return f"{op}({', '.join(shown)})"


def _settings(hyper, keys):
    return ", ".join(f"{k}={_plain(hyper.get(k))}" for k in keys)


def operation_difference(got, expected):
    """The layer operation of ``got`` that differs from ``expected`` (lists of (operation,
    module name, [[hyperparameter, value], ...]) in the order they ran), in words; None when
    they agree or when the difference cannot be told with confidence.

    Only the kinds of operation both run are compared (an activation written as ``clamp``, an
    adaptive pooling or a hand-written LRN is another way of writing, not a difference). With
    the same kinds in the same order, the first hyperparameter that differs is named; with one
    operation more, less or other, that one; with more differences (independent branches run
    in another order, several mistakes) nothing is claimed."""
    every = [(op, where, {k: v for k, v in pairs}) for op, where, pairs in got]
    all_expected = [(op, where, {k: v for k, v in pairs}) for op, where, pairs in expected]
    only_got = sorted({op for op, _, _ in every} - {op for op, _, _ in all_expected})
    common = {op for op, _, _ in every} & {op for op, _, _ in all_expected}
    position = [i for i, g in enumerate(every) if g[0] in common]  # in the student's own list
    e_position = [i for i, e in enumerate(all_expected) if e[0] in common]
    got = [every[i] for i in position]
    expected = [all_expected[i] for i in e_position]
    also = (f"; your forward also runs {', '.join(only_got)}, which the reference's never does "
            "(right if it computes the same)") if only_got else ""
    tail = f" ({OPERATIONS_COMPARED}{also})"
    kinds_got, kinds_expected = [g[0] for g in got], [e[0] for e in expected]
    if kinds_got == kinds_expected:
        for i, ((op, where, hyper), (_, _, e_hyper)) in enumerate(zip(got, expected)):
            differ = [k for k, v in e_hyper.items() if _plain(hyper.get(k)) != _plain(v)]
            if op == "batch_norm" and differ == ["training"] and hyper.get("training") is True:
                return (f"the {_ordinal(position[i] + 1)} layer operation your forward "
                        f"runs{_place(where)} is a batch norm that normalizes with the batch's "
                        f"statistics in eval mode: {BATCH_NORM_EVAL_HINT}{tail}")
            if differ:
                return (f"the {_ordinal(position[i] + 1)} layer operation your forward "
                        f"runs{_place(where)} is {op} with {_settings(hyper, differ)} where the "
                        f"reference's has {_settings(e_hyper, differ)}{tail}")
        return _substitution(every, position, all_expected, e_position, tail)
    changes = [c for c in difflib.SequenceMatcher(None, kinds_got, kinds_expected,
                                                  autojunk=False).get_opcodes()
               if c[0] != "equal"]
    if len(changes) != 1:
        return None
    tag, g0, g1, e0, e1 = changes[0]
    if max(g1 - g0, e1 - e0) != 1:
        return None
    before = f"after {_operation_text(*_short(got[g0 - 1]))}" if g0 else "first"
    if tag == "replace":
        op, where, hyper = got[g0]
        return (f"the {_ordinal(position[g0] + 1)} layer operation your forward "
                f"runs{_place(where)} is "
                f"{_operation_text(op, hyper)} where the reference's runs "
                f"{_operation_text(*_short(expected[e0]))}{tail}")
    if tag == "delete":  # one operation of the student's that the reference does not run
        op, where, hyper = got[g0]
        # at that place the reference may run one operation of a kind the student never runs
        # (tanh where the student runs a ReLU): that is the one that differs
        start = e_position[e0 - 1] + 1 if e0 else 0
        end = e_position[e0] if e0 < len(e_position) else len(all_expected)
        theirs = [e for e in all_expected[start:end] if e[0] not in common]
        if len(theirs) == 1:
            return (f"the {_ordinal(position[g0] + 1)} layer operation your forward "
                    f"runs{_place(where)} is {_operation_text(op, hyper)} where the reference's "
                    f"runs {_operation_text(*_short(theirs[0]))}{tail}")
        return (f"your forward runs {_operation_text(op, hyper)}{_place(where)} {before}, "
                f"where the reference's runs no such operation{tail}")
    # one operation of the reference's missing: where the student runs an operation of its own
    # kind instead (max pooling for average pooling), that is the one that differs
    at = position[g0 - 1] + 1 if g0 else 0
    if at < len(every) and every[at][0] in only_got:
        op, where, hyper = every[at]
        return (f"the {_ordinal(at + 1)} layer operation your forward runs{_place(where)} is "
                f"{_operation_text(op, hyper)} where the reference's runs "
                f"{_operation_text(*_short(expected[e0]))}{tail}")
    return (f"the reference's forward runs {_operation_text(*_short(expected[e0]))} {before}, "
            f"where yours runs none (if you wrote it another way, look elsewhere){tail}")


def _substitution(got, position, expected, e_position, tail):
    """With the operations of kinds both run in agreement: the one place where the student runs
    one operation of a kind of its own and the reference one of another (max pooling for
    average pooling), in words; None when there is not exactly one such place."""
    def gaps(items, kept):
        edges = [-1] + list(kept) + [len(items)]
        return [items[a + 1:b] for a, b in zip(edges, edges[1:])]

    found = [(i, g, e) for i, (g, e) in enumerate(zip(gaps(got, position),
                                                      gaps(expected, e_position))) if g or e]
    # one of the student's own where the reference runs one or none (none of the student's
    # where the reference runs one of its own is another way of writing it: claim nothing);
    # the same extra operation in several places (a dropout after every layer) is one claim
    extra = all(len(g) == 1 and not e for _, g, e in found) and \
        len({g[0][0] for _, g, _ in found}) == 1
    if not found or not extra and (len(found) != 1 or len(found[0][1]) != 1
                                   or len(found[0][2]) > 1):
        return None
    index, (mine,), theirs = found[0]
    at = (position[index - 1] + 1) if index else 0
    if not theirs:
        before = f"after {_operation_text(got[at - 1][0], got[at - 1][2])}" if at else "first"
        more = f" (and in {len(found) - 1} more place{'s' * (len(found) > 2)})" \
            if len(found) > 1 else ""
        return (f"your forward runs {_operation_text(mine[0], mine[2])}{_place(mine[1])} "
                f"{before}{more}, where the reference's runs no such operation{tail}")
    return (f"the {_ordinal(at + 1)} layer operation your forward runs{_place(mine[1])} is "
            f"{_operation_text(mine[0], mine[2])} where the reference's runs "
            f"{_operation_text(theirs[0][0], theirs[0][2])}{tail}")


def _short(operation):
    return operation[0], operation[2]


def _place(where):
    return f" (in {where})" if where else ""


PROBABILITIES_HINT = ("the outputs lie in [0, 1] and each row sums to 1: they are probabilities. "
                      "Return the raw class scores (logits) of the last layer, without a "
                      "softmax: the cross entropy applies the softmax itself")
LOG_PROBABILITIES_HINT = ("the outputs are log-probabilities (each row's exponentials sum to 1): "
                          "return the raw class scores (logits) of the last layer, without a "
                          "log_softmax: the cross entropy applies it itself")


def probabilities_hint(got, expected):
    """A hint when a classifier's scores (N, C) came out as probabilities or log-probabilities
    (a softmax or log_softmax added at the end of forward) while the expected ones are not."""
    if not (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)) or \
            got.ndim != 2 or got.shape != expected.shape or got.shape[1] < 2 or \
            not np.all(np.isfinite(got)):
        return None
    if np.allclose(expected.sum(-1), 1.0, rtol=0, atol=1e-9):
        return None  # the reference's outputs are a distribution themselves
    if got.min() >= -1e-12 and got.max() <= 1 + 1e-12 and np.allclose(got.sum(-1), 1.0, rtol=0,
                                                                      atol=1e-9):
        return PROBABILITIES_HINT
    if got.max() <= 1e-12 and np.allclose(np.exp(got).sum(-1), 1.0, rtol=0, atol=1e-9):
        return LOG_PROBABILITIES_HINT
    return None


BATCH_NORM_EVAL_HINT = ("after model.eval() a batch norm normalizes with its running mean and "
                        "variance; F.batch_norm(x, running_mean, running_var, ...) needs "
                        "training=self.training for that, and nn.BatchNorm2d(C) (with its "
                        "default track_running_stats=True) follows model.eval() by itself")


EVAL_RANDOM_HINT = ("in eval mode the output changes from one call to the next: dropout is "
                    "still active. F.dropout(x, p) drops in every mode unless given "
                    "training=self.training; nn.Dropout follows model.eval() by itself")


SQUEEZED_HINT = ("squeeze() drops every axis of size 1, the batch axis too when a batch holds "
                 "one example: flatten from axis 1 (torch.flatten(x, 1)) or name the axes to "
                 "squeeze")


def squeezed_hint(got, expected):
    """SQUEEZED_HINT when ``got`` is ``expected``'s shape without its axes of size 1 (N = 1
    among them), else None."""
    if not isinstance(got, np.ndarray) or 1 not in expected.shape:
        return None
    return SQUEEZED_HINT if got.shape == tuple(d for d in expected.shape if d != 1) else None


def compare_output(t, target, student, got, expected, *, label, rtol, mistakes, layers,
                   operations=None, again=None):
    """``t.compare`` of a module's output; when it fails and no known mistake explains it, the
    hint says that an eval-mode output changes between calls (``again``: the same call once
    more), or that the scores are probabilities, or names the first layer operation that
    differs from the reference's in the order they run (``operations``: the input x and the
    reference's list), else the first leaf module that differs in registration order
    (``layers``)."""
    try:
        t.compare(target, got, expected, names=("the output",), label=label, rtol=rtol,
                  mistakes=mistakes)
    except Failed as failure:
        if failure.hint is None and again is not None and isinstance(got, np.ndarray):
            try:
                second = again()
            except StudentError:
                second = got
            if isinstance(second, np.ndarray) and second.shape == got.shape and \
                    not np.array_equal(second, got, equal_nan=True):
                failure.hint = EVAL_RANDOM_HINT
        if failure.hint is None and failure.kind == "values":
            failure.hint = probabilities_hint(got, expected)
        if failure.hint is None and failure.kind == "shape":
            failure.hint = squeezed_hint(got, expected)
        if failure.hint is None and operations is not None:
            x, expected_operations = operations
            try:
                failure.hint = operation_difference(student.operations(x), expected_operations)
            except StudentError:
                pass
        if failure.hint is None and layers is not None:
            try:
                failure.hint = layer_difference(student.layers(), layers)
            except StudentError:
                pass
        raise


def check_module(t, target, args, kwargs, input_shapes, *, seed, label="", modes=(False, True),
                 params_hook=None, gradients=True, other_size=False):
    """Shapes, then outputs and gradients with the reference's parameters loaded (float64);
    in train mode torch's generator is seeded the same on both sides (dropout), and batch
    norm's running statistics after the forward are compared. ``other_size``: then the same
    module (for a module that takes any H and W) answers an input of another size, in eval mode
    (``check_other_size``)."""
    student, expected, expected_buffers, _ = build_and_check_shapes(t, target, args, kwargs)
    layers = t.ref.run(module_layers, target, list(args), kwargs)
    operations = t.ref.run(module_operations, target, list(args), kwargs, list(input_shapes[0]))
    params, buffers = values_for(expected, expected_buffers, seed)
    if params_hook is not None:
        params = params_hook(params)
    student.load(params, buffers, "float64")
    rng = np.random.default_rng(seed + 1)
    names = [n for n, _ in student.parameters()]
    call = _call_text(target, args, kwargs)
    for shape in input_shapes:
        x = rng.standard_normal(shape)
        for train in modes:
            mode = "train" if train else "eval"
            where = f"{call} on input {tuple(shape)}, {mode} mode{label}"
            drop_seed = seed + 2 if train else None
            dout = rng.standard_normal(
                t.ref.run(meta_output_shape, target, list(args), kwargs, list(shape)))
            # a forward that raises gets the hint of a known mistake raising the same error
            with t.explaining_errors(target, module_outputs, target, list(args), kwargs, params,
                                     buffers, x, dout, train, drop_seed):
                out = student.forward(x, train, drop_seed)
            expected_all = t.ref.run(module_outputs, target, list(args), kwargs, params, buffers,
                                     x, dout, train, drop_seed)
            compare_output(t, target, student, out, expected_all[0], label=where, rtol=RTOL,
                           layers=layers, operations=(x, operations),
                           again=None if train else lambda x=x: student.forward(x, False, None),
                           mistakes=lambda: [(d, w[0]) for d, w in t.ref.mistakes(
                               target, module_outputs, target, list(args), kwargs, params,
                               buffers, x, dout, train, drop_seed)])
            if train and expected_buffers:
                check_running_statistics(t, student, target, args, kwargs, params, buffers, x,
                                         where)
            if not gradients:
                continue
            try:
                grads = student.backward(x, dout, train, drop_seed)
            except StudentError as error:
                # autograd's "does not require grad" blames a .detach(); an output kept on self
                # from an earlier (no-grad) call raises it too, and then the kept state is named
                hint = kept_state_hint(t, target, args, kwargs, student, params, buffers, shape,
                                       seed)
                if hint is None:
                    raise
                raise Failed(f"{where}: {error}", hint=hint) from None
            if not isinstance(grads, list) or len(grads) != len(expected_all) - 1:
                raise Failed(f"{where}: the gradients could not be computed")
            for i, (g, e) in enumerate(zip(grads[1:], expected_all[2:])):
                if (g is None or isinstance(g, np.ndarray) and not np.any(g)) and np.any(e):
                    raise Failed(f"{where}: no gradient reaches the parameter "
                                 f"{names[i]!r}: it is not used in forward (or its result is "
                                 "thrown away)",
                                 hint=kept_state_hint(t, target, args, kwargs, student, params,
                                                      buffers, shape, seed)
                                 or "every layer you create must be applied in forward, in "
                                    "the order it is registered")
            grad_names = ("dx",) + tuple(f"d{n}" for n in names)
            try:
                t.compare(target, grads, expected_all[1:], names=grad_names, label=where,
                          rtol=RTOL)
            except Failed as failure:
                if failure.hint is None and failure.kind == "values":
                    # the output passed just before: a graph autograd does not see whole, or
                    # something the forward keeps from an earlier call (its no-grad output)
                    failure.hint = kept_state_hint(t, target, args, kwargs, student, params,
                                                   buffers, shape, seed) or GRAPH_CUT_HINT
                raise
    if other_size:
        check_other_size(t, target, args, kwargs, student, params, buffers, input_shapes[0],
                         seed, layers)
    return student


FIRST_SIZE_HINT = ("something was fixed from the first input's size: after its first calls "
                   "your module gets an input of another size wrong, while a newly built one "
                   "with the same parameters gets it right. A pooling window (or any shape) "
                   "taken from the first feature map it sees stays that size for every later "
                   "input; pool over whatever H and W come in (nn.AdaptiveAvgPool2d(1), or "
                   "x.mean(dim=(2, 3)))")


def other_size(shape):
    """Another input shape for a module that takes any size: one example more, H + 2, W + 3
    (a window fixed from the first input's size covers only part of the new map)."""
    n, c, h, w = shape
    return (n + 1, c, h + 2, w + 3)


def check_other_size(t, target, args, kwargs, student, params, buffers, first, seed, layers):
    """The module that has answered inputs of shape ``first`` against the reference on an
    input of another size (eval mode). When it fails (wrong values or an error) and a newly
    built module with the same parameters answers right, the hint says that something was
    fixed from the first input's size."""
    shape = other_size(first)
    x = np.random.default_rng(seed + 4).standard_normal(shape)
    where = (f"{_call_text(target, args, kwargs)} on input {tuple(shape)}, eval mode, after "
             f"inputs of shape {tuple(first)} (the docstring takes any H and W)")
    t._label(where)  # an error the call raises names this input, not the case before it
    dout = np.zeros(t.ref.run(meta_output_shape, target, list(args), kwargs, list(shape)))
    expected = t.ref.run(module_outputs, target, list(args), kwargs, params, buffers, x, dout,
                         False, None)[0]
    operations = t.ref.run(module_operations, target, list(args), kwargs, list(shape))

    def fresh_is_right():
        try:
            fresh = StudentModule.build(t.student, target, *args, **kwargs)
            fresh.load(params, buffers, "float64")
            value = fresh.forward(x, False, None)
        except StudentError:
            return False
        return isinstance(value, np.ndarray) and value.shape == expected.shape and \
            np.allclose(value, expected, rtol=RTOL, atol=1e-9)

    try:
        got = student.forward(x, False, None)
    except StudentError as error:
        if fresh_is_right():
            raise Failed(f"{where}: {error}", hint=FIRST_SIZE_HINT) from None
        raise
    try:
        compare_output(t, target, student, got, expected, label=where, rtol=RTOL,
                       layers=layers, operations=(x, operations), mistakes=lambda: [])
    except Failed as failure:
        if fresh_is_right():
            failure.hint = FIRST_SIZE_HINT
        raise


# The output is right and a gradient is not: autograd did not see the whole computation.
GRAPH_CUT_HINT = ("the output is right but this gradient is not, so autograd does not see the "
                  "whole computation: look in forward for .detach(), .data, .item(), a round "
                  "trip through NumPy, torch.no_grad(), or a tensor changed in place after it "
                  "was used")


KEPT_STATE_HINT = ("after earlier calls your module answers another input otherwise than a newly "
                   "built one with the same parameters does: its forward reuses something kept "
                   "from an earlier call (a list on self that forward appends to, a tensor "
                   "saved on self); keep what one forward needs in local variables, so that "
                   "every call starts afresh")


def kept_state_hint(t, target, args, kwargs, student, params, buffers, shape, seed):
    """KEPT_STATE_HINT when the student's module, after the calls it has answered, gives an
    eval-mode output on a new input that differs from a newly built module's with the same
    parameters and buffers (student code only: nothing of the reference is needed); else
    None."""
    x = np.random.default_rng(seed + 3).standard_normal(shape)
    try:
        fresh = StudentModule.build(t.student, target, *args, **kwargs)
        fresh.load(params, buffers, "float64")
        first = fresh.forward(x, False, None)
        used = student.forward(x, False, None)
    except StudentError:
        return None
    if isinstance(first, np.ndarray) and isinstance(used, np.ndarray) and \
            first.shape == used.shape and not np.allclose(used, first, rtol=1e-9, atol=1e-12,
                                                          equal_nan=True):
        return KEPT_STATE_HINT
    return None


def check_running_statistics(t, student, target, args, kwargs, params, buffers, x, where):
    """Batch norm's running mean and variance after one train-mode forward, against the
    reference's from the same starting values."""
    got = student.train_buffers(x)
    expected = t.ref.run(module_buffers, target, list(args), kwargs, params, buffers, x)
    names = tuple(f"{n} after the train-mode forward" for n, _ in student.buffers())
    try:
        t.compare(target, got, expected, names=names, label=where, rtol=RTOL,
                  mistakes=lambda: t.ref.mistakes(target, module_buffers, target, list(args),
                                                  kwargs, params, buffers, x))
    except Failed as failure:
        failure.hint = failure.hint or BATCH_NORM_HINT
        raise


def cases(t, public, hidden_name):
    return list(public) + t.hidden("architectures", hidden_name, Case)


# -- the tests -------------------------------------------------------------------------------------

@SPEC.test("LeNet5", points=2)
def lenet5(t):
    for case in cases(t, [Case("defaults: 61,706 parameters", ((), {}, (2, 1, 32, 32))),
                          Case("7 classes, 3 input channels", ((), {"num_classes": 7,
                                                                    "in_channels": 3},
                                                               (1, 3, 32, 32)))],
                      "lenet5_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.LeNet5", args, kwargs, [shape], seed=11)


@SPEC.test("AlexNet", points=3)
def alexnet(t):
    target = "architectures.AlexNet"
    student, _, _, got = build_and_check_shapes_meta(t, target, (), {})
    total = sum(int(np.prod(s)) for s in got)
    if total != 62_378_344:
        raise Failed(f"AlexNet(): {total:,} parameters, expected 62,378,344")
    out = student.meta_forward((2, 3, 227, 227))
    if tuple(out) != (2, 1000):
        raise Failed(f"AlexNet(): output of shape {out} for 227x227 input of shape "
                     "(2, 3, 227, 227), expected (2, 1000)")
    # Values: one 227x227 image through a smaller head, parameters drawn from a seed on both
    # sides (62 million of them are too many to send).
    kwargs = {"num_classes": 5, "in_channels": 1}
    student = StudentModule.build(t.student, target, meta=True, **kwargs)
    check_shapes("AlexNet(num_classes=5, in_channels=1)", [s for _, s in student.parameters()],
                 t.ref.run(module_shapes, target, [], kwargs)[0])
    student.load_seeded(7)
    layers = t.ref.run(module_layers, target, [], kwargs)
    operations = t.ref.run(module_operations, target, [], kwargs, [1, 1, 227, 227])
    # An image of 0..255 pixel values: with small inputs LRN is nearly the identity (k = 2
    # dominates its denominator) and the order ReLU - max pool - LRN changes the output by
    # 1e-4 only; here by about 10%, while float32 rounding stays near 1e-5 (hence rtol 1e-3).
    x = np.random.default_rng(8).uniform(0, 255, (1, 1, 227, 227)).astype(np.float32)
    # eval mode, then train mode with torch's generator seeded alike on both sides: the
    # dropout masks are the same when the dropout layers are where the docstring puts them
    for train, drop_seed, label in [(False, None, "one 227x227 image, eval mode"),
                                    (True, 9, "one 227x227 image, train mode (dropout under "
                                              "the same torch seed)")]:
        got = student.forward(x, train, drop_seed)
        expected = t.ref.run(seeded_output, target, [], kwargs, 7, x, train, drop_seed)
        compare_output(t, target, student, got, expected, label=label, rtol=1e-3, layers=layers,
                       operations=(x, operations),
                       again=None if train else lambda x=x: student.forward(x, False, None),
                       mistakes=lambda: t.ref.mistakes(target, seeded_output, target, [],
                                                       kwargs, 7, x, train, drop_seed))
    # other parameters and another image: an output that does not come from them fails here
    for case in t.hidden("architectures", "alexnet_cases", Case):
        param_seed, image_seed = case.args
        student.load_seeded(param_seed)
        x = np.random.default_rng(image_seed).uniform(0, 255, (1, 1, 227, 227)).astype(
            np.float32)
        got = student.forward(x, False, None)
        expected = t.ref.run(seeded_output, target, [], kwargs, param_seed, x, False, None)
        compare_output(t, target, student, got, expected, label=case.label, rtol=1e-3,
                       layers=layers, operations=(x, operations),
                       mistakes=lambda: t.ref.mistakes(target, seeded_output, target, [],
                                                       kwargs, param_seed, x, False, None))


def build_and_check_shapes_meta(t, target, args, kwargs):
    """Build on the "meta" device (no memory) and compare the parameter shapes."""
    student = StudentModule.build(t.student, target, *args, meta=True, **kwargs)
    check_float32(t, student, target, args, kwargs)
    named = student.parameters()
    got = [s for _, s in named]
    expected, _ = t.ref.run(module_shapes, target, list(args), kwargs)
    check_shapes(_call_text(target, args, kwargs), got, expected,
                 shape_mistakes(t, target, args, kwargs), student.plain_containers,
                 [n for n, _ in named])
    return student, expected, None, got


@SPEC.test("vgg_block", points=1)
def vgg_block(t):
    for case in cases(t, [Case("3 convolutions, odd size 33x35", ((3, 2, 5), {}, (2, 2, 33, 35))),
                          Case("1 convolution", ((1, 3, 4), {}, (1, 3, 8, 9)))],
                      "vgg_block_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, "architectures.vgg_block", args, kwargs, [shape], seed=21)
        if not student.is_sequential():
            raise Failed(f"{_call_text('architectures.vgg_block', args, kwargs)}: returned a "
                         "module of another class that runs the right layers, but the docstring "
                         "asks for an nn.Sequential of them (VGG and any caller may index or "
                         "slice it)",
                         hint="return nn.Sequential(*layers), layers the list of the "
                              "convolutions, ReLUs and the pooling in order", kind="type")


@SPEC.test("VGG", points=2)
def vgg(t):
    target = "architectures.VGG"
    student, _, _, got = build_and_check_shapes_meta(t, target, (VGG16,), {})
    total = sum(int(np.prod(s)) for s in got)
    if total != 138_357_544:
        raise Failed(f"VGG(VGG-16's conv_arch): {total:,} parameters, expected 138,357,544")
    out = student.meta_forward((1, 3, 224, 224))
    if tuple(out) != (1, 1000):
        raise Failed(f"VGG-16: output of shape {out} for input (1, 3, 224, 224), expected "
                     "(1, 1000)")
    for case in cases(t, [Case("two blocks, input_size 11 (floors), no dropout",
                               (([(1, 4), (2, 5)],), {"num_classes": 3, "in_channels": 2,
                                                      "input_size": 11, "fc_dim": 6,
                                                      "dropout": 0.0}, (2, 2, 11, 11)))],
                      "vgg_cases"):
        args, kwargs, shape = case.args
        check_module(t, target, args, kwargs, [shape], seed=23)
    kwargs = {"num_classes": 3, "in_channels": 2, "input_size": 8, "fc_dim": 6}
    t.no_case()  # public: after the hidden cases
    check_module(t, target, ([(1, 3)],), kwargs, [(2, 2, 8, 8)], seed=24,
                 label=" (dropout 0.5; in train mode under the same torch seed)")


@SPEC.test("NiNBlock", points=1)
def nin_block(t):
    for case in cases(t, [Case("5x5 stride 2 pad 1", ((3, 4, 5, 2, 1), {}, (2, 3, 33, 35))),
                          Case("3x3 stride 1 pad 0", ((2, 3, 3, 1, 0), {}, (1, 2, 9, 11)))],
                      "nin_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.NiNBlock", args, kwargs, [shape], seed=31)


@SPEC.test("Inception", points=2)
def inception(t):
    for case in cases(t, [Case("odd size 33x35", ((5, 2, (3, 4), (2, 3), 6), {},
                                                  (2, 5, 33, 35)))], "inception_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.Inception", args, kwargs, [shape], seed=41)


def _scaled(indices, factor):
    """A params hook that multiplies the parameters at these positions by ``factor``."""
    def hook(params):
        return [p * factor if i in indices else p.copy() for i, p in enumerate(params)]
    return hook


def _zero_last_bn(names_in_order):
    """A params hook that zeroes the weight and bias of the last main-path batch norm."""
    def hook(params):
        params = [p.copy() for p in params]
        for i in names_in_order:
            params[i][...] = 0.0
        return params
    return hook


RESIDUAL = [
    Case("identity shortcut", ((4, 4), {}, (2, 4, 33, 35))),
    Case("channels change: projection shortcut", ((3, 5), {}, (2, 3, 33, 35))),
    Case("stride 2, same channels: projection shortcut", ((4, 4), {"stride": 2},
                                                           (2, 4, 33, 35))),
]


def check_attributes(t, student, target, names):
    kinds = student.attribute_types(names)
    missing = [n for n in names if kinds.get(n) is None]
    if missing:
        raise Failed(f"{_name(target)}: no attribute {', '.join(missing)} (the docstring names "
                     f"the attributes {', '.join(names)})")


@SPEC.test("ResidualBlock", points=3)
def residual_block(t):
    target = "architectures.ResidualBlock"
    for case in cases(t, RESIDUAL, "residual_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=51,
                               label=f"; {case.label}")
        check_attributes(t, student, target, ["conv1", "bn1", "conv2", "bn2", "shortcut"])
        # identity path: bn2's weight and bias (parameters 4 and 5) zeroed -> relu(shortcut(x))
        check_module(t, target, args, kwargs, [shape], seed=52, modes=(False,),
                     params_hook=_zero_last_bn([3, 4]), gradients=False,
                     label=f"; {case.label}; bn2 weight and bias zeroed: relu(shortcut(x))")


@SPEC.test("BottleneckBlock", points=2)
def bottleneck_block(t):
    target = "architectures.BottleneckBlock"
    for case in cases(t, [Case("identity shortcut", ((6, 2, 6), {}, (2, 6, 33, 35))),
                          Case("stride 2, channels change", ((4, 3, 8), {"stride": 2},
                                                             (2, 4, 33, 35)))],
                      "bottleneck_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=61,
                               label=f"; {case.label}")
        check_attributes(t, student, target,
                         ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "shortcut"])
        check_module(t, target, args, kwargs, [shape], seed=62, modes=(False,),
                     params_hook=_zero_last_bn([6, 7]), gradients=False,
                     label=f"; {case.label}; bn3 weight and bias zeroed: relu(shortcut(x))")


@SPEC.test("ResNet", points=2)
def resnet(t):
    target = "architectures.ResNet"
    public = [Case("3 stages", (([2, 1, 2],), {"num_classes": 7, "in_channels": 2,
                                               "widths": (4, 6, 8)}, (2, 2, 33, 35))),
              # one example (squeeze() drops the batch axis), a final map of 10x18 (not
              # square: a pooling window of the map's width does not fit it)
              Case("2 stages, one example, a 20x36 input (final map 10x18)",
                   (([1, 1],), {"num_classes": 3, "in_channels": 1, "widths": (4, 5)},
                    (1, 1, 20, 36)))]
    for case in cases(t, public, "resnet_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=71, other_size=True)
        kinds = student.attribute_types(["fc"])
        if kinds.get("fc") != "Linear":
            raise Failed(f"ResNet: its classifier must be an nn.Linear named fc, found "
                         f"{kinds.get('fc')}")


@SPEC.test("DenseBlock", points=2)
def dense_block(t):
    for case in cases(t, [Case("3 units, growth 4", ((3, 2, 4), {}, (2, 2, 33, 35)))],
                      "dense_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.DenseBlock", args, kwargs, [shape], seed=81)


@SPEC.test("TransitionBlock", points=1)
def transition_block(t):
    for case in cases(t, [Case("odd size 33x35", ((6, 5), {}, (2, 6, 33, 35)))],
                      "transition_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.TransitionBlock", args, kwargs, [shape], seed=91)


SE_SQUEEZE_AXES_HINT = ("fc1 takes the squeeze s, of shape (N, C): each channel averaged over "
                        "its positions, s = x.mean(dim=(2, 3)); a mean over other axes (the "
                        "channels, or one spatial axis) leaves another number of features")


@SPEC.test("SEBlock", points=2)
def se_block(t):
    target = "architectures.SEBlock"
    for case in cases(t, [Case("32 channels, reduction 16", ((32,), {}, (2, 32, 5, 7))),
                          Case("6 channels: max(1, 6 // 16) = 1 hidden unit", ((6,), {},
                                                                              (2, 6, 5, 7))),
                          Case("20 channels, reduction 4", ((20,), {"reduction": 4},
                                                            (1, 20, 3, 4))),
                          Case("20 channels, reduction 6: 20 // 6 = 3 hidden units (rounded "
                               "down)", ((20,), {"reduction": 6}, (2, 20, 3, 5)))],
                      "se_cases"):
        args, kwargs, shape = case.args
        try:
            student = check_module(t, target, args, kwargs, [shape], seed=101, other_size=True)
        except StudentError as error:
            if re.search(r"mat1 and mat2 shapes cannot be multiplied", error.message):
                error.hint = SE_SQUEEZE_AXES_HINT
            raise
        check_attributes(t, student, target, ["fc1", "fc2"])
        check_method(t, student, target, args, kwargs, "gates", shape, seed=102,
                     name="the gates")


def check_method(t, student, target, args, kwargs, method, shape, *, seed, name):
    """The output of the documented method ``method(x)`` of the student's module, with the
    reference's parameters loaded (float64), against the reference's."""
    expected_shapes, _ = t.ref.run(module_shapes, target, list(args), kwargs)
    params, _ = values_for(expected_shapes, [], seed)
    student.load(params, [], "float64")
    x = np.random.default_rng(seed + 1).standard_normal(shape)
    value = t.student.torch("tensor_call", student.handle, method, [x], {}, [], None, None,
                            False)
    if not isinstance(value, dict) or not isinstance(value.get("outputs"), list) \
            or len(value["outputs"]) != 1:
        raise Failed(f"{_name(target)}.{method}: should return one tensor")
    expected = t.ref.run(method_output, target, list(args), kwargs, params, method, x)
    t.compare(target, value["outputs"][0], expected, names=(name,),
              label=f"{_call_text(target, args, kwargs)}.{method}(x) on input {tuple(shape)}",
              rtol=RTOL,
              mistakes=lambda: t.ref.mistakes(target, method_output, target, list(args), kwargs,
                                              params, method, x))


@SPEC.test("DepthwiseSeparableConv", points=2)
def depthwise_separable(t):
    target = "architectures.DepthwiseSeparableConv"
    for case in cases(t, [Case("stride 1", ((3, 5), {}, (2, 3, 33, 35))),
                          Case("stride 2", ((4, 6), {"stride": 2}, (2, 4, 33, 35)))],
                      "depthwise_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=111)
        check_attributes(t, student, target, ["depthwise", "bn1", "pointwise", "bn2"])
        # batch norm weights (parameters 2 and 5) x25: activations far above 6 (ReLU, not ReLU6)
        check_module(t, target, args, kwargs, [shape], seed=112, params_hook=_scaled([1, 4], 25),
                     gradients=False,
                     label=f"; {case.label}; batch norm weights x25: activations well above 6")


def _flags_said(wrong):
    """What the flags of the wrong parameters are: ' (True, should be False)' when they all
    err the same way, else each one's."""
    flags = {g for _, g in wrong}
    if not flags:  # the lists differ in length or names, not in a flag
        return ""
    if len(flags) == 1:
        flag = flags.pop()
        return f" (requires_grad {flag}, should be {not flag})"
    return " (" + "; ".join(f"{n}: {g}, should be {not g}" for n, g in wrong) + ")"


@SPEC.test("freeze", points=1)
def freeze(t):
    target = "architectures.freeze"
    # the probe's batch norm stem.1 comes frozen; se.fc1.* hold "fc" without starting with it;
    # "se.fc" is a prefix of se.fc1.* and se.fc2.* though no module is named se.fc
    tried = [("fc",), ("stages.1", "fc"), (), ("stem",), ("stem.1",), ("se.fc",)]
    tried += t.hidden("architectures", "freeze_cases")
    for i, trainable in enumerate(tried):
        got = student_freeze(t.student, trainable)
        expected = t.ref.run(frozen, list(trainable))
        where = f"freeze(model, trainable={trainable!r})"
        if list(got[1]) != [tuple(f) for f in expected[1]]:
            wrong = [(n, bool(g)) for (n, g), (_, e) in zip(got[1], expected[1]) if g != e]
            raise Failed(f"{where}: requires_grad is wrong for "
                         f"{', '.join(n for n, _ in wrong) or 'some of the parameters'}"
                         + _flags_said(wrong) + _attributes_set(got[2]),
                         hint=_freeze_hint(t, trainable, got, tried[:i]))
        # the flags are right here: only a mistake with the same flags can explain the count
        t.compare(target, got[0], expected[0], names=("the count",), label=str(trainable),
                  mistakes=lambda: [(d, w[0]) for d, w in t.ref.mistakes(target, frozen,
                                                                         list(trainable))
                                    if [tuple(f) for f in w[1]] == list(got[1])])


def _attributes_set(names):
    """The attributes freeze set on parameters, in words: ``p.require_grad = False`` (a typo)
    makes a new attribute that PyTorch never reads, and the parameter stays trainable."""
    if not names:
        return ""
    listed = ", ".join(f"param.{n}" for n in names)
    return (f"; freeze set {listed} on parameters, which PyTorch never reads: the flag is "
            "param.requires_grad (or param.requires_grad_(False))")


def _freeze_hint(t, trainable, got, passed=()):
    """The known mistake that gives the student's flags for ``trainable`` and the reference's
    flags for every trainable of ``passed`` (where the student's were right)."""
    def flags(values):
        return [tuple(f) for f in values]

    ruled_out = t.ref.ruled_out("architectures.freeze", frozen,
                                [((list(before),), {}, t.ref.run(frozen, list(before)))
                                 for before in passed],
                                lambda w, e: flags(w[1]) == flags(e[1]))
    for description, wrong in t.ref.mistakes("architectures.freeze", frozen, list(trainable)):
        if flags(wrong[1]) == list(got[1]) and description not in ruled_out:
            return description
    return None
