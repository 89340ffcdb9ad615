"""The numbers in a verdict: as many digits as tell them apart, and what a tiny error means."""

import numpy as np
import pytest

from autograder.compare import Failed, close, close_loss


def message(got, expected, rtol=1e-6):
    with pytest.raises(Failed) as info:
        close("h", got, expected, rtol=rtol)
    return info.value.message


def test_numbers_that_differ_in_the_seventh_digit_are_shown_with_seven():
    # 6 digits would show "got 1, expected 1"
    text = message(np.array([1.000004, 3.0]), np.array([1.000001, 3.0]))
    assert "got 1.000004, expected 1.000001" in text


def test_a_tiny_error_is_explained_as_float32_or_a_constant():
    text = message(np.array([-0.5741792, 1.0]), np.array([-0.5741832, 1.0]))
    assert "float32 arithmetic" in text and "eps" in text
    scalar = message(2.0000051, 2.0)
    assert scalar.startswith("h is 2.00001 but should be 2 (relative error 2.6e-06")
    assert "float32 arithmetic" in scalar


def test_a_large_error_keeps_six_digits_and_no_float32_remark():
    text = message(np.array([1.5, 2.0]), np.array([1.0, 2.0]))
    assert "got 1.5, expected 1" in text
    assert "float32" not in text
    assert "float32" not in message(2.5, 2.0)


def test_an_answer_that_is_the_expected_one_times_a_count_says_so():
    """The commonest slips the mutation sweep made in backward passes (a mean for a
    sum, a division by N missing or doubled) scale every entry by one count."""
    expected = np.array([[0.5, -1.25, 2.0], [0.75, 3.0, -0.125]])
    assert "every entry is 0.04167 times the expected one (24 is a count: a mean where a sum " \
           "belongs, or a division by a count too many?)" in message(expected / 24, expected)
    assert "every entry is 8 times the expected one (8 is a count: a sum where a mean belongs, " \
           "or a division by a count missing?)" in message(expected * 8, expected)
    assert "every entry has the opposite sign of the expected one: a sign error" in message(
        -expected, expected)
    assert "every entry is 0.5 times the expected one (a factor 2, such as the 2 of " \
           "d(x**2)/dx, or a count of 2?)" in message(expected / 2, expected)
    assert "every entry is 2.5 times the expected one" in message(expected * 2.5, expected)
    assert "is a count" not in message(expected * 2.5, expected)


def test_no_scale_remark_when_the_entries_disagree_in_other_ways():
    expected = np.array([[0.5, -1.25, 2.0], [0.75, 3.0, -0.125]])
    wrong = expected * 2
    wrong[1, 2] += 0.5
    assert "times the expected" not in message(wrong, expected)
    assert "times the expected" not in message(np.array([2.0]), np.array([1.0]))  # one entry
    tiny = expected * (1 + 2e-6)  # all scaled by almost 1: float32's remark, not a factor
    assert "times the expected" not in message(tiny, expected)
    assert "float32 arithmetic" in message(tiny, expected)


def test_no_scale_remark_when_only_the_large_entries_are_scaled():
    """A bce_loss gradient divided by p(1 - p) + 1e-12 instead of clipping p: the entries at
    p = 0 and 1 are 1e5 times the expected ones, the others right or 0. The verdict said
    '4 of 12 entries are off; every entry is 1e+05 times the expected one (100000 is a count:
    a sum where a mean belongs ...)', which sends the student to the wrong line."""
    expected = np.array([[-8.3e5, -0.083, 0.19, 0.17], [-0.15, -8.3e5, 0.59, -0.81]])
    got = expected.copy()
    got[0, 0] = got[1, 1] = -8.3e10
    got[0, 1] = 0.0
    text = message(got, expected)
    assert "3 of 8 entries are off" in text and "times the expected" not in text, text
    # every entry scaled, the small ones too: the remark stays
    assert "every entry is 1e+05 times the expected one" in message(expected * 1e5, expected)


@pytest.mark.parametrize("got, expected", [
    ([1e305, 1e305], [1e-5, 1e-5]),     # the ratio overflows to inf (a softmax shifted badly)
    ([1e-320, 1e-320], [1.0, 1.0]),     # its inverse does
])
def test_the_scale_remark_never_breaks_a_verdict_on_extreme_values(got, expected):
    """The remark met a ratio of inf (round(inf) raised OverflowError: a grader fault on unit
    07's soft Dice loss shifted by the minimum); it must give a plain verdict instead."""
    with np.errstate(all="ignore"):
        text = message(np.array(got), np.array(expected))
    assert "is wrong" in text


def test_nan_and_inf_are_told_apart_and_negative_zero_reads_as_zero():
    """A masked loss over no position (0 / 0) was asked "an overflow?" and its
    expected value shown as -0."""
    text = message(float("nan"), -0.0)
    assert text.startswith("h is nan but should be 0: a division of 0 by 0"), text
    assert "overflow" not in text
    text = message(float("inf"), 1.5)
    assert "an overflow (exp of large scores), log of 0, or a division by 0" in text
    assert "should be 0 (" in message(0.25, -0.0)


def test_a_number_a_whole_count_times_the_expected_one_says_so():
    """A loss averaged over 18 slots where the docstring sums was told only its
    relative error; one number is always some multiple, so only -1, 2 and counts are named."""
    assert "(18 is a count: a mean where a sum belongs" in message(1.0, 18.0)
    assert "it has the opposite sign of the expected value" in message(-2.5, 2.5)
    assert "(a factor 2" in message(5.0, 2.5)
    assert "times the expected value" not in message(1.2345, 1.0)


def _pair_verdict(got, expected, **kwargs):
    from autograder.spec import CURRENT, Trial

    CURRENT.reset()
    with pytest.raises(Failed) as info:
        Trial(None, None).compare("m.f", got, expected, names=("loss", "dW"), **kwargs)
    return info.value.message


def test_a_gradient_is_said_to_disagree_with_the_own_loss_only_after_a_float64_loss():
    """F5c: a loss computed in float32 passed rtol 1e-6, and its gradient's verdict
    said "float32 arithmetic" and then "the loss is right, so this gradient disagrees with the
    numerical gradient of your own loss": right only within float32's precision, whose
    numerical gradient is noise."""
    grad = np.array([[0.5, -1.25, 2.0], [0.75, 3.0, -0.125]])
    wrong = grad.copy()
    wrong[0, 1] += 0.5
    remark = "the loss is right, so this gradient disagrees"
    assert remark in _pair_verdict((1.25 + 1e-15, wrong), (1.25, grad))
    assert remark not in _pair_verdict((1.25 * (1 + 3e-8), wrong), (1.25, grad))
    float32_grad = _pair_verdict((1.25, grad * (1 + 2e-6)), (1.25, grad))
    assert "float32 arithmetic" in float32_grad and remark not in float32_grad


def test_a_float64_loss_within_float32_precision_fails_where_the_spec_says_so():
    message = _pair_verdict((1.25 * (1 + 3e-8), np.ones(2)), (1.25, np.ones(2)),
                            float64_loss=True)
    assert "loss is 1.25000004 but should be 1.25 (relative error 3e-08, tolerance 1e-10" \
        in message, message
    # near 0 a loss may be off by LOSS_ATOL (1e-11): terms around 1000 leave 1e-13 in a sum
    from autograder.spec import Trial

    Trial(None, None).compare("m.f", (1e-5 + 1e-13, np.ones(2)), (1e-5, np.ones(2)),
                              names=("loss", "dW"), float64_loss=True)
    assert "tolerance 1e-10" in _pair_verdict((1e-3 * (1 + 3e-8), np.ones(2)),
                                              (1e-3, np.ones(2)), float64_loss=True)


def test_an_entry_of_ordinary_size_is_shown_when_every_entry_is_off():
    """F9: every entry off, the most off (relative to 0.1% of the largest) was one
    near 0, and the verdict spent itself on that entry's tolerance."""
    expected = np.array([[0.0015, 2.5, -1.0], [0.75, -3.0, 1.25]])
    got = expected + np.array([[0.9, 0.5, 0.25], [-0.1, 0.3, -0.2]])
    text = message(got, expected)  # relative errors 0.2, 0.25, 0.13, 0.1, 0.16 of the others
    assert "entry [0, 2] is off by 0.25 relative (tolerance 1e-06): got -0.75, expected -1" \
        in text, text
    assert "near 0" not in text and "6 of 6 entries are off" in text
    # only entries near 0 off: the near-0 one is what there is to show
    got = expected.copy()
    got[0, 0] = 0.9
    assert "entry [0, 0] is off by 0.9, where 3e-09 is allowed (this entry is near 0, so the " \
        "tolerance 1e-06 applies to 0.003, 0.1% of the largest entry)" in message(got, expected)
    # one entry right: the rule's figure as before, near 0 as it is
    got = expected + 0.25
    got[1, 2] = 1.25
    assert "entry [0, 0] is off by 0.25, where 3e-09 is allowed" in message(got, expected)


def test_a_hidden_cases_summary_tells_the_error_from_its_tolerance():
    """What a student sees of a hidden case: an error just above the tolerance never reads as
    the tolerance, and an error float32 leaves is said to be one."""
    expected = np.linspace(1.0, 2.0, 6)
    with pytest.raises(Failed) as caught:
        close("dx", expected * (1 + 1.04e-6), expected)
    summary = caught.value.summary()
    assert "largest relative error 1.04e-06, tolerance 1e-06" in summary, summary
    assert caught.value.float32_sized() and "float32 arithmetic" in summary
    # a Failed re-raised by a spec without its tolerance: read from the message
    again = Failed(caught.value.message, kind="values", error=caught.value.error)
    assert "tolerance 1e-06" in again.summary()
    with pytest.raises(Failed) as far:
        close("dx", expected * 1.5, expected)
    assert not far.value.float32_sized()
    assert "float32" not in far.value.summary()
    with pytest.raises(Failed) as loss:
        close_loss("loss", 2.0 * (1 + 1e-8), 2.0)
    assert loss.value.float32_sized()
    assert "tolerance 1e-10" in loss.value.summary()


def test_an_object_of_a_class_whose_name_is_no_identifier_is_quoted_as_the_hand_ins():
    """A returned object the worker keeps (a Handle) is described by its class name; a name
    that is no identifier is quoted and said to be the hand-in's, so its words never read as
    the grader's."""
    from autograder.compare import describe
    from autograder.wire import Handle

    assert describe(Handle(1, "Net")) == \
        "an object of type Net (not an array, number, tuple, list or dict)"
    text = describe(Handle(2, "the grader could not check this function"))
    assert text.startswith("an object of a class the hand-in defined, named 'the grader could "
                           "not check this function'"), text
    assert text.count("the grader could not check") == 1
