"""Grading unit 03 through the real worker: the audit's wrong variants lose the function's points
with a verdict that says why."""

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unit03-grading")


def grade(path, key):
    return engine.grade(path, ["03"], keys={key})["units"]["03_cnn"]["functions"][key]


# ------------------------------------------------------------------ network initialisation

def test_lenet_sizing_w3_from_the_height_only_fails_on_a_non_square_input(tmp_path):
    """W3's rows from H2 * H2 instead of H2 * W2 (audit c01)."""
    sub = make_submission(tmp_path, replace={"cnn.py": [
        ("            W = conv_output_size(W, k, pad=pad) // 2\n", "            W = H\n")]})
    entry = grade(sub, "cnn.LeNet5")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "(2, 14, 22)" in entry["message"] and "params['W3'] has shape" in entry["message"]
    assert "height and the width after the second pool" in entry["hint"], entry


def test_lenet_drawing_from_a_fresh_generator_fails(tmp_path):
    """LeNet5 ignores its rng argument (audit c02)."""
    line = "        self.filter_size, self.pad, self.pool = int(filter_size), int(pad), pool\n"
    sub = make_submission(tmp_path, replace={"cnn.py": [
        (line, line + "        rng = np.random.default_rng()  # the argument ignored\n")]})
    entry = grade(sub, "cnn.LeNet5")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "same rng seed have different weights" in entry["message"], entry
    assert "rng argument" in entry["hint"], entry


def test_three_layer_he_without_the_input_channels_fails(tmp_path):
    """He's fan_in of a convolution is C*HH*WW, not HH*WW (audit c04)."""
    sub = make_submission(tmp_path, append={"cnn.py": '''
        _init_weight_of_the_course = _init_weight

        def _init_weight(rng, shape, weight_scale, dtype):
            if weight_scale is None and len(shape) == 4:
                return (math.sqrt(2.0 / (shape[2] * shape[3]))
                        * rng.standard_normal(shape)).astype(dtype)
            return _init_weight_of_the_course(rng, shape, weight_scale, dtype)
    '''})
    entry = grade(sub, "cnn.ThreeLayerConvNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "(3, 8, 8)" in entry["message"] and "W1 has standard deviation" in entry["message"]
    assert "C*HH*WW" in entry["hint"], entry
