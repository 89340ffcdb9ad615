"""Hidden cases of unit 01 (not in the student release)."""

from ..spec import Case


def loss_cases(loss_inputs):
    return [
        Case("N=40, D=11, C=10, reg=0.05", loss_inputs(101, 40, 11, 10, 0.05)),
        Case("N=3, D=2, C=2, reg=1.0", loss_inputs(102, 3, 2, 2, 1.0)),
        Case("scores around +1000, C=6", loss_inputs(103, 9, 5, 6, 0.2, offset=1000.0)),
        Case("large weights", loss_inputs(104, 5, 7, 4, 0.0, w_scale=30.0)),
    ]
