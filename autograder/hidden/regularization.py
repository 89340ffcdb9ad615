"""Hidden cases of unit 04, regularization (not in the student release)."""

from ..spec import Case


def dropout_cases(positive, signed_with_zeros):
    return [
        Case("x (1, 20000), p=0.25", (positive(101, (1, 20000)),), {"p": 0.25}),
        Case("x (600, 3, 7), p=0.6", (positive(102, (600, 3, 7)),), {"p": 0.6}),
        Case("x (80, 10, 30) of both signs, half of it exactly 0, p=0.15",
             (signed_with_zeros(103, (80, 10, 30), zeros=0.5),), {"p": 0.15}),
    ]


def penalty_cases(rng):
    return [
        Case("four arrays incl. a (1,) one, reg=1e-3",
             ([rng.standard_normal((7, 2)), rng.standard_normal(1), rng.standard_normal((3, 1)),
               rng.standard_normal((2, 2, 2, 2))], 1e-3)),
        Case("large weights, reg=0.7", ([50 * rng.standard_normal((4, 4))], 0.7)),
    ]


def early_stopping_cases():
    return [
        Case("patience=4, min_delta=0.01, mode='max', a long plateau",
             ([0.1, 0.5, 0.505, 0.512, 0.509, 0.52, 0.521, 0.515, 0.52, 0.53, 0.6],),
             {"patience": 4, "min_delta": 0.01}),
        Case("patience=1, mode='max', every value worse", ([0.9, 0.8, 0.7, 0.6],),
             {"patience": 1}),
        Case("patience=3, mode='min', ties", ([5.0, 5.0, 4.0, 4.0, 4.0, 3.0],),
             {"patience": 3, "mode": "min"}),
    ]


def net_cases(net_case):
    return [
        net_case("batchnorm, hidden [9, 7, 5, 3], reg=0.05", 101, (8, 6), [9, 7, 5, 3], 4,
                 "batchnorm", 0.05),
        net_case("layernorm, hidden [6, 6], X (3, 2, 2, 2)", 103, (3, 2, 2, 2), [6, 6], 3,
                 "layernorm", 0.2),
        net_case("batchnorm, no hidden layer", 105, (4, 5), [], 3, "batchnorm", 0.4),
    ]
