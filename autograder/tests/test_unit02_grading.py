"""Grading unit 02 through the real worker: the audit's wrong variants lose the function's points
with a verdict that says why, and correct variants written differently keep them."""

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit02-grading")


def grade(path, key):
    return engine.grade(path, ["02"], keys={key})["units"]["02_mlp"]["functions"][key]


# ------------------------------------------------------------------ bce_loss at prob 0 and 1

BCE_GRADIENT = "dprob = (p - target) / (p * (1.0 - p)) / size"


def test_bce_gradient_of_the_unclipped_prob_fails_where_prob_is_0_or_1(tmp_path):
    """The loss clipped, the gradient not: inf and NaN at prob 0 and 1 (audit a03)."""
    sub = make_submission(tmp_path, replace={"losses.py": [
        (BCE_GRADIENT, "dprob = (prob - target) / (prob * (1.0 - prob)) / size")]})
    entry = grade(sub, "losses.bce_loss")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "exactly 0 and 1" in entry["message"] and "dprob contains" in entry["message"], entry
    assert "clipped p too" in entry["hint"], entry


def test_bce_gradient_of_0_where_the_clip_is_active_passes(tmp_path):
    """The docstring accepts 0 (the derivative of the clip) where clipping is active."""
    sub = make_submission(tmp_path, replace={"losses.py": [
        (BCE_GRADIENT, BCE_GRADIENT + "\n    dprob = xp.where(p == prob, dprob, 0.0)")]})
    assert grade(sub, "losses.bce_loss")["status"] == "passed"
