"""Hidden cases of unit 02, gradcheck (not in the student release)."""

import numpy as np

from ..spec import Case


def scalar_cases(Fn):
    rng = np.random.default_rng(101)
    return [
        Case("sum(a * x**2), x (4, 3)", (Fn("quadratic", {"a": rng.uniform(0.5, 2, (4, 3))}),
                                         rng.standard_normal((4, 3)))),
        Case("softplus, x (6,)", (Fn("softplus_sum"), rng.standard_normal(6))),
        Case("x (1, 1, 1)", (Fn("weighted_sin", {"w": np.full((1, 1, 1), 2.0)}),
                             np.full((1, 1, 1), 0.7))),
    ]


def array_cases(Fn):
    rng = np.random.default_rng(102)
    return [
        Case("cumsum(x**2), x (3, 2, 4)", (Fn("coupled"), rng.standard_normal((3, 2, 4)),
                                           rng.standard_normal((3, 2, 4)))),
        Case("x @ m, x (1, 5), m (5, 3)", (Fn("matmul", {"m": rng.standard_normal((5, 3))}),
                                           rng.standard_normal((1, 5)),
                                           rng.standard_normal((1, 3)))),
        Case("f(x) = x.reshape(-1), a view", (Fn("view", {"kind": "flat"}),
                                              rng.standard_normal((2, 3)),
                                              rng.standard_normal(6))),
    ]


def error_cases(rng):
    a = rng.standard_normal(10)
    return [
        Case("identical arrays", (a, a.copy())),
        Case("all zeros", (np.zeros((2, 3)), np.zeros((2, 3)))),
        Case("very different", (rng.standard_normal((4, 4)), 100 * rng.standard_normal((4, 4)))),
    ]
