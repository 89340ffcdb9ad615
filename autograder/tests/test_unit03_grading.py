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


# ------------------------------------------------------------------ conv_forward's wide layer

def test_the_wide_layer_identity_matches_the_reference_layer():
    """The wide layer's expected projection equals the reference layer's own output projected
    the same way."""
    import numpy as np

    from autograder.oracle import load_reference
    from autograder.specs import conv as spec

    cw = load_reference()
    x, w, b, r, kw = spec.wide_inputs()
    out, _ = cw.conv.conv_forward(x, w, b, **kw)
    assert out.shape == (spec.WIDE_CONV[0], spec.WIDE_CONV[4], 1, 1)
    direct = out.reshape(out.shape[0], -1) @ r
    np.testing.assert_allclose(spec.conv_wide_forward(cw, x, w, b, r, **kw), direct,
                               rtol=1e-10, atol=1e-10 * np.abs(direct).max())


def test_a_conv_forward_looping_over_examples_and_filters_fails(tmp_path):
    """Two nested loops pass the nesting rule, but the docstring forbids loops over examples and
    filters: the wide layer cannot finish (audit c08)."""
    sub = make_submission(tmp_path, append={"conv.py": '''
        import numpy as np

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            win = np.lib.stride_tricks.sliding_window_view(xpad, (HH, WW), axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            out = np.empty((N, F) + win.shape[2:4], dtype=x.dtype)
            for n in range(N):
                for f in range(F):
                    out[n, f] = np.tensordot(win[n], w[f], axes=([0, 3, 4], [0, 1, 2])) + b[f]
            return out, (x, w, b, stride, pad)
    '''})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "did not finish" in entry["message"] and "(4096, 1, 3, 3)" in entry["message"], entry
    assert "loop over the kernel offsets at most" in entry["hint"], entry
