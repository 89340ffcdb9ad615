"""Hidden cases of unit 03, ``conv`` (not in the student release)."""

from ..spec import Case


def conv_cases(conv_case):
    return [
        conv_case("N=4, C=3, 9x7 input, F=5, 3x3 filters, stride 2, pad 1", 101, 4, 3, 9, 7, 5,
                  3, 3, 2, 1),
        conv_case("N=1, C=2, 8x8 input, F=1, 4x2 filters, stride 2, pad 2", 102, 1, 2, 8, 8, 1,
                  4, 2, 2, 2),
        conv_case("N=2, C=1, 11x4 input, F=2, 1x3 filters, stride 3, pad 1", 103, 2, 1, 11, 4,
                  2, 1, 3, 3, 1),
        conv_case("N=3, C=2, 6x6 input, F=4, 5x5 filters, stride 1, pad 2 (same size)", 104, 3,
                  2, 6, 6, 4, 5, 5, 1, 2),
        conv_case("large biases", 105, 2, 2, 5, 5, 2, 3, 3, 1, 0, bias=100.0),
    ]


def pool_cases(pool_case):
    return [
        pool_case("N=3, C=2, 9x9 input, 3x3 windows, stride 2", 101, 3, 2, 9, 9, 3, 2),
        pool_case("N=1, C=3, 5x7 input, 3x3 windows, stride 1", 102, 1, 3, 5, 7, 3, 1),
        pool_case("N=2, C=1, 7x5 input, 1x1 windows, stride 2", 103, 2, 1, 7, 5, 1, 2),
        pool_case("N=2, C=2, 8x8 input, 4x4 windows, stride 4", 104, 2, 2, 8, 8, 4, 4),
    ]


def gap_cases(gap_inputs):
    return [Case("N=4, C=5, 3x8 input", *gap_inputs(101, 4, 5, 3, 8)),
            Case("N=2, C=1, 6x6 input", *gap_inputs(102, 2, 1, 6, 6))]


def sizes():
    return [(28, 5, 1, 2, 28), (13, 3, 2, 0, 6), (9, 3, 3, 0, 3), (4, 4, 1, 0, 1),
            (15, 7, 4, 2, 4)]


def not_fitting():
    return [(8, 3, 2, 0, "(8 - 3) = 5 is not a multiple of the stride 2"),
            (6, 11, 2, 2, "the filter (11) is larger than the padded input (10)")]
