"""Tests of unit 07, ``segnets``: the U-Net, a PyTorch module driven in the worker through unit
06's torch handles.

``UNet`` is graded as unit 06's modules are (``architectures.check_module``): its parameters'
shapes in forward order (and batch norm's buffers) against the reference's; then the reference's
parameters and buffers (random, non-zero biases and shifts) are loaded into it by order, in
float64, and its output and the gradients of a random upstream gradient (input and every
parameter) are compared with the reference's in eval and train mode. The order of the skip
concatenation ([skip, upsampled]) changes the output with the same parameters, so it is graded
by the output comparison. Non-square inputs, depth 1 to 3 and several widths are among the cases.
Before that, each public case's U-Net answers two inputs of its shape one after the other in
eval mode, the second compared with a newly built U-Net's (student code only): an output or
features kept on self by shape fail there with the kept-state hint, not with autograd's error
about a .detach(). A forward that raises there, or later, gets the hint of a known mistake that
raises the same error (``mistakes/segnets._raising``); a skip and an upsampled map of different
sizes that no mistake explains get a hint told apart by a U-Net of depth 1 (``skip_size_hint``:
one skip, no order to get wrong).
"""

import numpy as np


from ..compare import Failed
from ..runner import StudentError, StudentFault
from ..spec import Case, Spec
from ..torch_handles import StudentModule, values_for
from .architectures import _call_text, build_and_check_shapes, check_module, module_outputs
from .model_checks import check_two_calls

SPEC = Spec("segnets")


def unet_cases(t):
    public = [
        Case("UNet(3, 4, base_channels=4, depth=2) on (2, 3, 8, 12)",
             ((3, 4), {"base_channels": 4, "depth": 2}, (2, 3, 8, 12))),
        Case("UNet(1, 2, base_channels=2, depth=3) on (1, 1, 16, 8)",
             ((1, 2), {"base_channels": 2, "depth": 3}, (1, 1, 16, 8))),
        Case("UNet(2, 3, base_channels=3, depth=1) on (2, 2, 6, 4)",
             ((2, 3), {"base_channels": 3, "depth": 1}, (2, 2, 6, 4))),
    ]
    return public + t.hidden("segnets", "unet_cases", Case)


def check_kept_state(t, target, args, kwargs, shape, seed):
    """Two eval-mode calls of one module on inputs of ``shape``: the second answer must be a
    newly built module's with the same parameters and buffers."""
    where = f"{_call_text(target, args, kwargs)} on input {tuple(shape)}, eval mode"
    t.case(where + ", called twice on inputs of that shape")
    student, shapes, buffer_shapes, _ = build_and_check_shapes(t, target, args, kwargs)
    params, buffers = values_for(shapes, buffer_shapes, seed)
    rng = np.random.default_rng(seed + 1)
    first, second = rng.standard_normal(shape), rng.standard_normal(shape)
    student.load(params, buffers, "float64")
    # the first forward of the module: one that raises gets the hint of a known mistake raising
    # the same error on ``first`` (no upstream gradient: the output alone)
    with t.explaining_errors(target, module_outputs, target, list(args), kwargs, params,
                             buffers, first, None, False, None):
        check_two_calls(t, target, args, kwargs, student, params, buffers,
                        lambda module, x: [module.forward(x, False)], first, second,
                        f"{where}: called on an input, then on other values of the same shape, "
                        "it answers the second call otherwise than a newly built module with "
                        "the same parameters does")


SKIP_SIZE_HINT = ("a skip and the upsampled map it is concatenated with differ in size: keep "
                  "each encoder level's output before its pooling, and pair the decoder stages "
                  "(deepest first) with the skips in reverse order (the deepest skip first)")


SKIP_ORDER_HINT = ("a skip and the upsampled map it is concatenated with differ in size, yet a "
                   "U-Net of depth 1 (one skip) runs: the decoder stages, deepest first, take "
                   "the skips in the encoder's order. Pair them with the skips reversed (zip("
                   "decoders, reversed(skips))), so that the deepest stage meets the deepest "
                   "skip")
SKIP_AT_DEPTH_ONE_HINT = ("a skip and the upsampled map it is concatenated with differ in size, "
                          "even in a U-Net of depth 1 (one skip, so not the skips' order): keep "
                          "each encoder level's output as its skip before pooling it (a skip "
                          "kept after the pooling is half the size), and let the 2x2 transposed "
                          "convolution (stride 2, no padding) exactly double the size")


def skip_size_hint(t, args, kwargs, shape):
    """The hint of a skip and an upsampled map of different sizes, told apart by one forward of
    the student's U-Net of depth 1 on an input of ``shape``: with a single skip there is no order
    to get wrong, so a depth-1 U-Net that runs points at the pairing of the skips, and one that
    raises the same error at the skip itself; ``SKIP_SIZE_HINT`` (both) when that forward fails
    otherwise."""
    try:
        student = StudentModule.build(t.student, "segnets.UNet", *args,
                                      **{**kwargs, "depth": 1})
        student.load_seeded(5, "float64")
        student.forward(np.random.default_rng(5).standard_normal(shape), False)
    except StudentError as error:
        if "Sizes of tensors must match" in error.message:
            return SKIP_AT_DEPTH_ONE_HINT
        return SKIP_SIZE_HINT
    except StudentFault:
        return SKIP_SIZE_HINT
    return SKIP_ORDER_HINT


@SPEC.test("UNet", points=4)
def unet(t):
    """Parameter shapes in forward order, outputs and gradients with the reference's parameters
    loaded (the skip concatenation order included)."""
    for case in unet_cases(t):
        args, kwargs, shape = case.args
        if not getattr(case, "hidden", False):
            try:
                check_kept_state(t, "segnets.UNet", args, kwargs, shape, seed=77)
            except StudentError as error:
                if "Sizes of tensors must match" not in error.message or error.hint:
                    raise  # a known mistake's hint (explaining_errors) names the slip itself
                from ..engine import error_message  # the message with its place in the file

                raise Failed(f"{_call_text('segnets.UNet', args, kwargs)} on input "
                             f"{tuple(shape)}: {error_message(error)}",
                             hint=skip_size_hint(t, args, kwargs, shape)) from None
        check_module(t, "segnets.UNet", args, kwargs, [shape], seed=71, label=f" ({case.label})")
