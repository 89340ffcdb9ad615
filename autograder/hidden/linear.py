"""Hidden cases of unit 01 (not in the student release)."""

from ..spec import Case


def loss_cases(loss_inputs):
    return [
        Case("N=40, D=11, C=10, reg=0.05", loss_inputs(101, 40, 11, 10, 0.05)),
        Case("N=3, D=2, C=2, reg=1.0", loss_inputs(102, 3, 2, 2, 1.0)),
        Case("scores around +1000, C=6", loss_inputs(103, 9, 5, 6, 0.2, offset=1000.0)),
        Case("large weights", loss_inputs(104, 5, 7, 4, 0.0, w_scale=30.0)),
        Case("C=100, class 0 scores 725 above the others in every row, reg=0.1",
             _one_class_far_above(loss_inputs(105, 6, 5, 100, 0.1, w_scale=0.2), 725.0)),
        # dW of shape (1, C): a squeeze() of dW (or of W's rows) gives (C,)
        Case("N=6, D=1 (the bias column alone), C=3, reg=0.3", loss_inputs(106, 6, 1, 3, 0.3)),
    ]


def _one_class_far_above(inputs, gap):
    """Scores of class 0 ``gap`` above the other 99 within each row. Subtracting the row's
    maximum keeps every exponent <= 0, and the smallest probability, about exp(-730) = 1e-317,
    is still above 0 (design.md: no spread so wide that a correct softmax underflows to 0, so
    -log p computed from p stays exact). Subtracting the row's minimum, or its mean (0.99 of
    725 below the maximum), overflows exp (above exp(709.8))."""
    W, X, y, reg = inputs
    W[-1, 0] += gap  # the bias row: X's last column is all ones
    return W, X, y, reg
