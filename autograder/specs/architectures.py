"""Tests of unit 06, ``architectures`` (PyTorch modules, driven in the worker through handles).

Every module is graded the same way (``check_module``): its parameters' shapes in forward order
(and batch norm's buffers) against the reference's; then the reference's parameters and buffers
(random, non-zero biases and shifts) are loaded into it by order, in float64, and its output and
the gradients of a random upstream gradient (input and every parameter) are compared with the
reference's, in eval and train mode, on odd input sizes (33x35) and stride 2. A gradient that
does not reach a parameter is named. Residual blocks are also checked on their identity path,
AlexNet and VGG-16 are counted on the "meta" device (nothing allocated), and ``freeze`` on a small
model built by the grader.
"""

import numpy as np

from ..compare import Failed
from ..spec import Case, Spec
from ..torch_handles import (StudentModule, check_shapes, reference_backward, reference_build,
                             reference_forward, reference_load, reference_shapes, student_freeze,
                             values_for)

SPEC = Spec("architectures")
VGG16 = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]
RTOL = 1e-6


# -- recipes (module level: their names key the recorded outputs of a release) ------------------

def module_shapes(cw, target, args, kwargs):
    """([parameter shapes], [buffer shapes]) of the reference module, built on "meta"."""
    params, buffers = reference_shapes(reference_build(cw, target, args, kwargs, meta=True))
    return [list(s) for s in params], [list(s) for s in buffers]


def module_outputs(cw, target, args, kwargs, params, buffers, x, dout, train):
    """[output, dx, d(param 1), ...] of the reference module with these parameters loaded."""
    model = reference_load(reference_build(cw, target, args, kwargs), params, buffers)
    out = reference_forward(model, x, train)
    if out.shape != np.shape(dout):  # a known mistake with another output shape
        return [out]
    return [out] + reference_backward(model, x, dout, train)


def meta_output_shape(cw, target, args, kwargs, shape):
    import torch

    model = reference_build(cw, target, args, kwargs, meta=True)
    return list(model(torch.empty(tuple(shape), device="meta")).shape)


def seeded_output(cw, target, args, kwargs, seed, x):
    """Eval-mode output of the reference with ``torch_ops.seeded_values`` parameters (float32)."""
    import torch

    from ..torch_ops import seeded_values

    model = reference_build(cw, target, args, kwargs, meta=True).to_empty(device="cpu")
    with torch.no_grad():
        for p, v in zip(model.parameters(), seeded_values([p.shape for p in model.parameters()],
                                                          seed)):
            p.copy_(torch.from_numpy(v))
    return reference_forward(model, x, False)


def frozen(cw, trainable):
    """(count, [(name, requires_grad)]) of the reference ``freeze`` on the probe model."""
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


def build_and_check_shapes(t, target, args, kwargs):
    """Build the student's module and compare its parameter and buffer shapes; return it with
    the expected shapes."""
    student = StudentModule.build(t.student, target, *args, **kwargs)
    got = [s for _, s in student.parameters()]
    got_buffers = [s for _, s in student.buffers()]
    expected, expected_buffers = t.ref.run(module_shapes, target, list(args), kwargs)
    where = _call_text(target, args, kwargs)
    check_shapes(where, got, expected,
                 lambda: [(d, w[0]) for d, w in t.ref.mistakes(target, module_shapes, target,
                                                                list(args), kwargs)])
    if [tuple(s) for s in got_buffers] != [tuple(s) for s in expected_buffers]:
        raise Failed(f"{where}: its batch norm buffers (running mean and variance) have shapes "
                     f"{got_buffers}, expected {[tuple(s) for s in expected_buffers]}",
                     hint="use nn.BatchNorm2d(channels) after each convolution the docstring "
                          "names, and no other normalization")
    return student, expected, expected_buffers, got


def check_module(t, target, args, kwargs, input_shapes, *, seed, label="", modes=(False, True),
                 params_hook=None, gradients=True):
    """Shapes, then outputs and gradients with the reference's parameters loaded (float64)."""
    student, expected, expected_buffers, _ = build_and_check_shapes(t, target, args, kwargs)
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
            out = student.forward(x, train)
            dout = rng.standard_normal(
                t.ref.run(meta_output_shape, target, list(args), kwargs, list(shape)))
            expected_all = t.ref.run(module_outputs, target, list(args), kwargs, params, buffers,
                                     x, dout, train)
            t.compare(target, out, expected_all[0], names=("the output",), label=where,
                      rtol=RTOL,
                      mistakes=lambda: [(d, w[0]) for d, w in t.ref.mistakes(
                          target, module_outputs, target, list(args), kwargs, params, buffers,
                          x, dout, train)])
            if not gradients:
                continue
            grads = student.backward(x, dout, train)
            if not isinstance(grads, list) or len(grads) != len(expected_all) - 1:
                raise Failed(f"{_name(target)}({where}): the gradients could not be computed")
            for i, (g, e) in enumerate(zip(grads[1:], expected_all[2:])):
                if (g is None or isinstance(g, np.ndarray) and not np.any(g)) and np.any(e):
                    raise Failed(f"{_name(target)}({where}): no gradient reaches the parameter "
                                 f"{names[i]!r}: it is not used in forward (or its result is "
                                 "thrown away)",
                                 hint="every layer you create must be applied in forward, in "
                                      "the order it is registered")
            grad_names = ("dx",) + tuple(f"d{n}" for n in names)
            t.compare(target, grads, expected_all[1:], names=grad_names, label=where, rtol=RTOL)
    return student


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
    x = np.random.default_rng(8).standard_normal((1, 1, 227, 227)).astype(np.float32)
    got = student.forward(x, False)
    expected = t.ref.run(seeded_output, target, [], kwargs, 7, x)
    t.compare(target, got, expected, names=("the output",), rtol=1e-4,
              label="one 227x227 image, eval mode",
              mistakes=lambda: t.ref.mistakes(target, seeded_output, target, [], kwargs, 7, x))


def build_and_check_shapes_meta(t, target, args, kwargs):
    """Build on the "meta" device (no memory) and compare the parameter shapes."""
    student = StudentModule.build(t.student, target, *args, meta=True, **kwargs)
    got = [s for _, s in student.parameters()]
    expected, _ = t.ref.run(module_shapes, target, list(args), kwargs)
    check_shapes(_call_text(target, args, kwargs), got, expected,
                 lambda: [(d, w[0]) for d, w in t.ref.mistakes(target, module_shapes, target,
                                                                list(args), kwargs)])
    return student, expected, None, got


@SPEC.test("vgg_block", points=1)
def vgg_block(t):
    for case in cases(t, [Case("3 convolutions, odd size 33x35", ((3, 2, 5), {}, (2, 2, 33, 35))),
                          Case("1 convolution", ((1, 3, 4), {}, (1, 3, 8, 9)))],
                      "vgg_block_cases"):
        args, kwargs, shape = case.args
        check_module(t, "architectures.vgg_block", args, kwargs, [shape], seed=21)


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
    check_module(t, target, ([(1, 3)],), kwargs, [(2, 2, 8, 8)], seed=24, modes=(False,),
                 label=" (dropout 0.5 is off in eval mode)")


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
    for case in cases(t, [Case("3 stages", (([2, 1, 2],), {"num_classes": 7, "in_channels": 2,
                                                           "widths": (4, 6, 8)},
                                            (2, 2, 33, 35)))], "resnet_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=71)
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


@SPEC.test("SEBlock", points=2)
def se_block(t):
    target = "architectures.SEBlock"
    for case in cases(t, [Case("32 channels, reduction 16", ((32,), {}, (2, 32, 5, 7))),
                          Case("6 channels: max(1, 6 // 16) = 1 hidden unit", ((6,), {},
                                                                              (2, 6, 5, 7))),
                          Case("20 channels, reduction 4", ((20,), {"reduction": 4},
                                                            (1, 20, 3, 4)))], "se_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=101)
        check_attributes(t, student, target, ["fc1", "fc2"])


@SPEC.test("DepthwiseSeparableConv", points=2)
def depthwise_separable(t):
    target = "architectures.DepthwiseSeparableConv"
    for case in cases(t, [Case("stride 1", ((3, 5), {}, (2, 3, 33, 35))),
                          Case("stride 2", ((4, 6), {"stride": 2}, (2, 4, 33, 35)))],
                      "depthwise_cases"):
        args, kwargs, shape = case.args
        student = check_module(t, target, args, kwargs, [shape], seed=111)
        check_attributes(t, student, target, ["depthwise", "bn1", "pointwise", "bn2"])


@SPEC.test("freeze", points=1)
def freeze(t):
    target = "architectures.freeze"
    for trainable in [("fc",), ("stages.1", "fc"), (), ("stem.1",)]:
        got = student_freeze(t.student, trainable)
        expected = t.ref.run(frozen, list(trainable))
        where = f"freeze(model, trainable={trainable!r})"
        if list(got[1]) != [tuple(f) for f in expected[1]]:
            wrong = [n for (n, g), (_, e) in zip(got[1], expected[1]) if g != e]
            raise Failed(f"{where}: requires_grad is wrong for {', '.join(wrong) or 'some'} of "
                         "the parameters",
                         hint=_freeze_hint(t, trainable, got))
        t.compare(target, got[0], expected[0], names=("the count",), label=str(trainable),
                  mistakes=lambda: [(d, w[0]) for d, w in t.ref.mistakes(target, frozen,
                                                                         list(trainable))])


def _freeze_hint(t, trainable, got):
    for description, wrong in t.ref.mistakes("architectures.freeze", frozen, list(trainable)):
        if [tuple(f) for f in wrong[1]] == list(got[1]):
            return description
    return None
