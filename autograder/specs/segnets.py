"""Tests of unit 07, ``segnets``: the U-Net, a PyTorch module driven in the worker through unit
06's torch handles.

``UNet`` is graded as unit 06's modules are (``architectures.check_module``): its parameters'
shapes in forward order (and batch norm's buffers) against the reference's; then the reference's
parameters and buffers (random, non-zero biases and shifts) are loaded into it by order, in
float64, and its output and the gradients of a random upstream gradient (input and every
parameter) are compared with the reference's in eval and train mode. The order of the skip
concatenation ([skip, upsampled]) changes the output with the same parameters, so it is graded
by the output comparison. Non-square inputs, depth 1 to 3 and several widths are among the cases.
"""

from ..spec import Case, Spec
from .architectures import check_module

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


@SPEC.test("UNet", points=4)
def unet(t):
    """Parameter shapes in forward order, outputs and gradients with the reference's parameters
    loaded (the skip concatenation order included)."""
    for case in unet_cases(t):
        args, kwargs, shape = case.args
        check_module(t, "segnets.UNet", args, kwargs, [shape], seed=71, label=f" ({case.label})")
