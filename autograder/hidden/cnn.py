"""Hidden cases of unit 03, ``cnn`` (not in the student release)."""

import numpy as np

from ..spec import Case


def three_layer_cases(three_layer_case):
    return [
        three_layer_case("N=4, input (1, 8, 8), 4 filters 3x3, hidden 6, 10 classes, reg=0.05",
                         101, 4, (1, 8, 8), 4, 3, 6, 10, 0.05),
        three_layer_case("N=2, input (2, 2, 6), 1 filter 3x3, hidden 2, 2 classes, reg=0.5",
                         103, 2, (2, 2, 6), 1, 3, 2, 2, 0.5),
    ]


def lenet_cases(lenet_case):
    return [
        lenet_case("N=2, input (3, 14, 10), 3x3 filters, pad 0, average pool, reg=0.3",
                   101, 2, (3, 14, 10), 3, (2, 4), 3, 0, (6, 5), "avg", 0.3),
    ]


def count_cases(rng):
    return [
        Case("three layers of other sizes", ({"W1": rng.standard_normal((4, 3, 3, 3)),
                                              "b1": np.zeros(4), "W2": np.ones((36, 7)),
                                              "b2": np.zeros(7), "W3": np.ones((7, 2)),
                                              "b3": np.zeros(2)},)),
        Case("batch norm parameters too", ({"W1": np.ones((5, 9)), "b1": np.zeros(9),
                                            "gamma1": np.ones(9), "beta1": np.zeros(9),
                                            "W2": np.ones((9, 3)), "b2": np.zeros(3)},)),
    ]
