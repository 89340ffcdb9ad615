"""The mutation sweep (``python -m autograder mutants``): which slips it makes, where, and that
the grader kills them."""

import ast

from autograder import mutants

SOURCE = '''\
import numpy as np


def provided(x):
    return x + 1


def f(x, w):
    """Doc."""
    n = x.shape[0]
    # BEGIN SOLUTION
    out = np.zeros(n)
    for i in range(1, n):
        out[i] += x[i] * w - 0.5
        if out[i] < 0 and not w:
            out[i] = -out[i]
    total = np.sum(np.sqrt(out), axis=0, keepdims=True).T
    # END SOLUTION
    return total


def g(x, H, W):
    # BEGIN SOLUTION
    x = x - 1
    window = x[1:H, :W]
    # END SOLUTION
    return window
'''


def changes(source=SOURCE):
    return [(m.function, m.line, m.change) for m in mutants.mutants_of(source, "demo")]


def test_only_solution_regions_are_mutated():
    found = changes()
    assert found and {line for _, line, _ in found} <= set(range(12, 18)) | {24, 25}
    assert {function for function, _, _ in found} == {"f", "g"}
    assert mutants.solution_lines(SOURCE) == set(range(12, 18)) | {24, 25}


def test_the_slips_a_student_makes_are_among_the_mutants():
    found = {(line, change) for _, line, change in changes()}
    expected = {
        (14, "`+=` -> `=`"), (14, "statement deleted"), (14, "`*` -> `/`"), (14, "`-` -> `+`"),
        (14, "constant 0.5 -> 0.0"), (13, "range end - 1"), (13, "range start + 1"),
        (13, "constant 1 -> 0"), (15, "`<` -> `<=`"), (15, "`and` swapped"),
        (15, "`not` removed"), (16, "`-` removed"), (17, "`.sum` -> `.mean`"),
        (17, "keyword `keepdims=` dropped"), (17, "keyword `axis=` dropped"),
        (17, "`.T` removed"), (17, "True -> False"), (16, "statement deleted"),
        (17, "`sqrt(x)` -> `x`"),
        (14, "operands of `-` swapped"), (24, "`x = x - ...` -> `x -= ...` (in place)"),
        (25, "`H` -> `W`"), (25, "`W` -> `H`"), (25, "slice upper bound + 1"),
        (25, "slice lower bound - 1"),
    }
    assert expected <= found, sorted(expected - found)


def test_each_mutant_is_valid_python_that_differs_from_the_reference_in_one_place():
    reference = ast.unparse(ast.parse(SOURCE))
    sources = [m.source for m in mutants.mutants_of(SOURCE, "demo")]
    assert len(set(sources)) == len(sources)  # no two mutants alike
    for text in sources:
        ast.parse(text)
        assert text != reference
    # "+= -> =" keeps the value, drops the accumulation
    m = next(m for m in mutants.mutants_of(SOURCE, "demo") if m.change == "`+=` -> `=`")
    assert "out[i] = x[i] * w - 0.5" in m.source
    m = next(m for m in mutants.mutants_of(SOURCE, "demo") if "(in place)" in m.change)
    assert "x -= 1" in m.source


def test_names_are_swapped_only_with_a_partner_in_the_same_function():
    """`i` occurs in f but `j` does not: no `i` -> `j` mutant."""
    assert not [c for _, _, c in changes() if c in ("`i` -> `j`", "`w` -> `h`")]


def test_every_slip_in_the_multiclass_svm_loss_loses_points():
    """A regression guard on the grader's strength: every mutant of svm_loss_naive is killed
    but `margin > 0` written `>= 0`, which is right (at a margin of exactly 0 the hinge has no
    slope; the docstring accepts either choice): measured 51 of 52. A weaker hidden case set
    lets another survive and fails here."""
    ok, results = mutants.sweep("linear", only={"svm_loss_naive"}, progress=False)
    assert ok
    assert len(results) >= 30
    survivors = [(r["line"], r["change"]) for r in results if not r["killed"]]
    assert [change for _, change in survivors] == ["`>` -> `>=`"], survivors
    # some slips are known mistakes, whose verdict carries a hint (a gradient not divided by N)
    assert 0 < sum(r["hinted"] for r in results) < len(results)


def test_a_change_in_a_forward_is_graded_with_its_backward():
    keys = ["conv.conv_forward_naive", "conv.conv_backward_naive", "conv.conv_forward",
            "conv.conv_backward", "normalization.batchnorm_forward",
            "normalization.batchnorm_backward", "normalization.batchnorm_backward_alt",
            "rnn.CharRNN", "rnn.CharRNN.sample"]
    assert mutants._keys_to_grade("conv.conv_forward_naive", keys) == [
        "conv.conv_forward_naive", "conv.conv_backward_naive"]
    assert mutants._keys_to_grade("normalization.batchnorm_forward", keys) == keys[4:7]
    assert mutants._keys_to_grade("rnn.CharRNN", keys) == ["rnn.CharRNN", "rnn.CharRNN.sample"]
    assert mutants._keys_to_grade("conv._helper", keys) == keys


def test_a_misspelt_function_is_refused_with_the_name_meant():
    """--function rnn_foward swept nothing for 18 s and printed "0 of 0 mutants
    killed", a clean-looking result."""
    import pytest

    from autograder.engine import UsageError

    with pytest.raises(UsageError, match="rnn.py defines no function or class 'rnn_foward' "
                                         r"\(did you mean 'rnn_forward'\?\)"):
        mutants.sweep("rnn", only={"rnn_foward"}, progress=False)
