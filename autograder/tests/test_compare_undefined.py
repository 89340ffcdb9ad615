"""NaN in a reference answer means "undefined" (a metric of a class that never occurs): only NaN
matches it, and it must not hide the other entries from the comparison."""

import math

import numpy as np
import pytest

from autograder.compare import Failed, close


EXPECTED = np.array([0.5, np.nan, 0.25])


def test_nan_where_the_reference_is_undefined_passes():
    close("iou", np.array([0.5, np.nan, 0.25]), EXPECTED)
    close("mean_iou", math.nan, math.nan)


def test_a_number_where_the_reference_is_undefined_fails():
    with pytest.raises(Failed, match="expected NaN"):
        close("iou", np.array([0.5, 0.0, 0.25]), EXPECTED)
    with pytest.raises(Failed, match="should be NaN"):
        close("mean_iou", 0.0, math.nan)


def test_an_undefined_entry_does_not_hide_a_wrong_one():
    with pytest.raises(Failed, match="off by"):
        close("iou", np.array([0.5, np.nan, 0.75]), EXPECTED)


def test_nan_where_the_reference_is_defined_still_fails():
    with pytest.raises(Failed, match="contains NaN"):
        close("iou", np.array([np.nan, np.nan, 0.25]), EXPECTED)
