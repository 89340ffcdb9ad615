"""Hidden cases of unit 09, rnn (not in the student release)."""

from ..spec import Case


def step_cases(step_inputs, gates):
    return [
        Case("N=5, D=3, H=7", step_inputs(101, 5, 3, 7, gates=gates)),
        Case("N=1, D=1, H=1", step_inputs(102, 1, 1, 1, gates=gates)),
        Case("N=2, D=8, H=3, small weights", step_inputs(103, 2, 8, 3, gates=gates, scale=0.1)),
    ] + ([  # the vanilla RNN's docstring: right for pre-activations of any size
        Case("N=3, D=2, H=4, huge biases: pre-activations of +-800 to +-1700",
             step_inputs(104, 3, 2, 4, gates=gates, bias_scale=3000.0)),
    ] if gates == 1 else [])


def sequence_cases(sequence_inputs, gates):
    return [
        Case("N=4, T=7, D=2, H=3", sequence_inputs(111, 4, 7, 2, 3, gates=gates)),
        Case("N=1, T=1, D=1, H=1", sequence_inputs(112, 1, 1, 1, 1, gates=gates)),
        Case("N=2, T=10, D=5, H=2, large biases", sequence_inputs(113, 2, 10, 5, 2, gates=gates,
                                                                  bias_scale=2.0)),
    ]


def embedding_cases(embedding_inputs):
    return [
        Case("N=3, T=5, V=3, D=4 (many repeats)", embedding_inputs(121, 3, 5, 3, 4)),
        Case("N=1, T=6, V=7, D=2", embedding_inputs(122, 1, 6, 7, 2)),
    ]


def temporal_affine_cases(temporal_affine_inputs):
    return [
        Case("N=4, T=2, H=6, M=3", temporal_affine_inputs(131, 4, 2, 6, 3)),
        Case("N=1, T=7, H=3, M=8", temporal_affine_inputs(132, 1, 7, 3, 8, bias_scale=5.0)),
    ]


def softmax_cases(softmax_inputs):
    return [
        Case("N=4, T=6, V=7, most positions masked", softmax_inputs(141, 4, 6, 7, kept=0.2)),
        Case("N=2, T=3, V=2, scores around -1000", softmax_inputs(142, 2, 3, 2, offset=-1000.0)),
        Case("N=1, T=8, V=4, label 1000 at masked positions",
             softmax_inputs(143, 1, 8, 4, masked_label=1000)),
        Case("N=2, T=3, V=64, class 2 scores 725 above the others, the second sequence 3000 "
             "below the first", _far_apart(softmax_inputs(144, 2, 3, 64, kept=1.0))),
    ]


def _far_apart(inputs):
    """One class far above the rest at every position, and whole sequences far apart.
    Subtracting each position's maximum keeps every exponent <= 0, and the smallest probability,
    about exp(-730) = 1e-317, is still above 0 (design.md: no spread so wide that a correct
    softmax underflows to 0). Subtracting the position's minimum, or its mean over 64 classes
    (63/64 of 725 below the maximum), overflows exp, and subtracting the maximum of all scores
    underflows the lower sequence to log(0)."""
    scores, y, mask = inputs
    scores *= 0.25  # the other classes within about 2 of each other
    scores[:, :, 2] += 725.0
    scores[1] -= 3000.0
    return scores, y, mask


def char_cases(char_case):
    return [
        char_case("rnn, N=1, T=7, V=3, H=2, h0 given", 151, 1, 7, 3, 2, None, "rnn",
                  with_h0=True),
        char_case("lstm, embed_dim=4, N=2, T=6, V=7, H=2, h0 given", 152, 2, 6, 7, 2, 4, "lstm",
                  with_h0=True),
    ]


def flat_greedy_cases(flat_greedy_case):
    return [  # every id likely at temperature 1: a step drawn without the temperature shows
        flat_greedy_case("rnn, one-hot, V=7, H=4, prefix [2, 0, 1], scores that spread little, "
                         "temperature=1e-3", 163, 7, 4, None, "rnn", [2, 0, 1], 10,
                         weight_scale=1.5, out_scale=0.15),
        flat_greedy_case("lstm, embed_dim=3, V=6, H=5, prefix [2, 0, 1], scores that spread "
                         "little, temperature=1e-3", 201, 6, 5, 3, "lstm", [2, 0, 1], 10,
                         weight_scale=1.0, out_scale=0.3),
    ]
