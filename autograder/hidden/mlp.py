"""Hidden cases of unit 02, mlp (not in the student release)."""


def two_layer_cases(two_layer_case):
    return [
        two_layer_case("N=12, D=10, H=20, C=6, reg=0.05", 101, (12, 10), 20, 6, 0.05),
        two_layer_case("H=1, reg=2.0", 103, (3, 4), 1, 3, 2.0),
    ]


def fc_cases(fc_case):
    return [
        fc_case("relu, hidden [8, 8, 8, 8], reg=0.1", 111, (6, 7), [8, 8, 8, 8], 4, "relu", 0.1),
        fc_case("sigmoid, hidden [3, 9], X (2, 2, 2, 2)", 113, (2, 2, 2, 2), [3, 9], 3,
                "sigmoid", 0.7),
        fc_case("tanh, N=1, reg=0.2", 115, (1, 4), [5], 2, "tanh", 0.2),
        fc_case("leaky_relu, hidden [10, 2]", 117, (5, 6), [10, 2], 4, "leaky_relu", 0.0),
        fc_case("elu, hidden [6, 6, 6]", 119, (4, 3), [6, 6, 6], 3, "elu", 0.05),
        fc_case("no hidden layer, tanh activation unused", 121, (3, 4), [], 2, "tanh", 0.3),
    ]
