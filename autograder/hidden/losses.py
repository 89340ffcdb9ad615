"""Hidden cases of unit 02, losses (not in the student release)."""

from ..spec import Case


def class_cases(class_inputs):
    return [
        Case("N=20, C=10", class_inputs(101, 20, 10)),
        Case("scores around -1000, C=3", class_inputs(102, 4, 3, offset=-1000.0)),
        Case("spread scores", class_inputs(103, 6, 4, scale=20.0)),
        Case("N=3, C=2", class_inputs(104, 3, 2)),
        Case("C=100, class 1 scores 725 above the others in every row",
             _one_class_far_above(class_inputs(105, 5, 100, scale=0.5), 1, 725.0)),
    ]


def _one_class_far_above(inputs, column, gap):
    """Scores of one class ``gap`` above the other 99 within each row. Subtracting the row's
    maximum keeps every exponent <= 0, and the smallest probability, about exp(-730) = 1e-317,
    is still above 0 (design.md: no spread so wide that a correct softmax underflows to 0).
    Subtracting the row's minimum, or its mean (0.99 of 725 below the maximum), overflows exp."""
    scores, y = inputs
    scores[:, column] += gap
    return scores, y


def regression_cases(regression_inputs):
    return [
        Case("pred (10, 2)", regression_inputs(111, (10, 2))),
        Case("pred (1,)", regression_inputs(112, (1,))),
        Case("large values", regression_inputs(113, (3, 3), scale=100.0)),
    ]


def binary_cases(binary_inputs):
    return [
        Case("prob (8, 2), labels 0/1", binary_inputs(121, (8, 2))),
        Case("prob near 0 and 1, inside the clipping", binary_inputs(122, (4, 3), low=1e-4,
                                                                      high=1 - 1e-4)),
        Case("soft labels, exact 0 and 1 probabilities",
             binary_inputs(123, (5,), soft=True, exact=[(0, 1.0), (3, 0.0)])),
    ]


def logit_cases(logit_inputs):
    return [
        Case("logits (7, 3)", logit_inputs(131, (7, 3))),
        Case("logits around +800", logit_inputs(132, (3, 2), offset=800.0)),
        Case("logits around -800, soft labels", logit_inputs(133, (2, 3), offset=-800.0,
                                                             soft=True)),
        Case("widely spread logits", logit_inputs(134, (4, 4), scale=300.0)),
    ]
