"""The numbers in a verdict: as many digits as tell them apart, and what a tiny error means."""

import numpy as np
import pytest

from autograder.compare import Failed, close


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
