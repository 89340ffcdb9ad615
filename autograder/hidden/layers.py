"""Hidden cases of unit 02, layers (not in the student release)."""

from ..spec import Case


def affine_cases(affine_inputs):
    return [
        Case("x (10, 3, 3), M=4", affine_inputs(101, (10, 3, 3), 4)),
        Case("D=1, M=1", affine_inputs(102, (7, 1), 1)),
        Case("wide layer D=3, M=12", affine_inputs(103, (5, 3), 12, bias_scale=5.0)),
        Case("x (2, 1, 2, 2, 2) of 5 dimensions", affine_inputs(104, (2, 1, 2, 2, 2), 3)),
    ]


def activation_cases(name, activation_inputs):
    cases = [
        Case("x (6, 7)", activation_inputs(111, (6, 7))),
        Case("x (2, 2, 2, 2)", activation_inputs(112, (2, 2, 2, 2), scale=0.5)),
        Case("x (1, 1)", activation_inputs(113, (1, 1))),
    ]
    if name == "leaky_relu":
        cases.append(Case("alpha=0.3", activation_inputs(114, (4, 4)), {"alpha": 0.3}))
        cases.append(Case("alpha=0 (a ReLU)", activation_inputs(115, (3, 4)), {"alpha": 0.0}))
    if name == "elu":
        cases.append(Case("alpha=0.1", activation_inputs(116, (4, 4)), {"alpha": 0.1}))
    return cases


def maxout_cases(maxout_inputs):
    return [
        Case("x (8, 5), M=6, K=2", maxout_inputs(121, (8, 5), 6, 2)),
        Case("x (2, 2, 2, 2), M=3, K=3, biases 5x", maxout_inputs(122, (2, 2, 2, 2), 3, 3,
                                                                   bias_scale=5.0)),
        Case("D=1, M=2, K=4", maxout_inputs(123, (5, 1), 2, 4)),
        Case("N=1, M=1, K=2", maxout_inputs(124, (1, 7), 1, 2)),
    ]
