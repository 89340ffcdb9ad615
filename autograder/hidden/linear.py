"""Hidden cases of unit 01 (not in the student release)."""

from ..spec import Case


def loss_cases(loss_inputs):
    return [
        Case("N=40, D=11, C=10, reg=0.05", loss_inputs(101, 40, 11, 10, 0.05)),
        Case("N=3, D=2, C=2, reg=1.0", loss_inputs(102, 3, 2, 2, 1.0)),
        Case("scores around +1000, C=6", loss_inputs(103, 9, 5, 6, 0.2, offset=1000.0)),
        Case("large weights", loss_inputs(104, 5, 7, 4, 0.0, w_scale=30.0)),
        Case("class 0 scores 1500 above the others in every row, reg=0.1", _one_class_far_above(
            loss_inputs(105, 6, 5, 4, 0.1), 1500.0)),
    ]


def _one_class_far_above(inputs, gap):
    """Scores of class 0 ``gap`` above the rest within each row: subtracting the row's maximum
    keeps every exponent <= 0, subtracting its minimum or mean overflows exp."""
    W, X, y, reg = inputs
    W[-1, 0] += gap  # the bias row: X's last column is all ones
    return W, X, y, reg
