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


LOOP_OVER_EXAMPLES_AND_FILTERS = '''
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
'''


def test_a_conv_forward_looping_over_examples_and_filters_fails(tmp_path):
    """Two nested loops pass the nesting rule, but the docstring forbids loops over examples and
    filters (audit c08): the lines it runs grow with the examples."""
    sub = make_submission(tmp_path, append={"conv.py": LOOP_OVER_EXAMPLES_AND_FILTERS})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "loops over examples: with N = 2, 11, 20" in entry["message"], entry
    assert "loop over the kernel offsets (k, l) at most" in entry["hint"], entry


def test_without_line_counts_the_wide_layer_still_stops_two_loops(tmp_path, monkeypatch):
    """The wide layer is the second line of defence: were the line counts missing (a worker
    that does not report them), the same two loops could not finish it."""
    from autograder.specs import conv as spec

    monkeypatch.setattr(spec, "no_loop_over", lambda *args, **kwargs: None)
    sub = make_submission(tmp_path, append={"conv.py": LOOP_OVER_EXAMPLES_AND_FILTERS})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "did not finish" in entry["message"] and "(4096, 1, 3, 3)" in entry["message"], entry
    assert "loop over the kernel offsets at most" in entry["hint"], entry


# ------------------------------------------------------------------ one loop over the data

_CONV_PREAMBLE = '''
    import numpy as np

    def _windows(x, HH, WW, stride, pad):
        xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        win = np.lib.stride_tricks.sliding_window_view(xpad, (HH, WW), axis=(2, 3))
        return win[:, :, ::stride, ::stride]  # (N, C, H_out, W_out, HH, WW)
'''

ONE_LOOP = {  # a vectorized body inside one loop over what the docstring forbids
    "examples": '''
    def conv_forward(x, w, b, *, stride=1, pad=0):
        stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
        win = _windows(x, w.shape[2], w.shape[3], stride, pad)
        out = np.stack([np.einsum("chwkl,fckl->fhw", win[n], w) for n in range(x.shape[0])])
        return out + b[None, :, None, None], (x, w, b, stride, pad)
''',
    "filters": '''
    def conv_forward(x, w, b, *, stride=1, pad=0):
        stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
        win = _windows(x, w.shape[2], w.shape[3], stride, pad)
        out = np.empty((x.shape[0], w.shape[0]) + win.shape[2:4])
        for f in range(w.shape[0]):
            out[:, f] = np.einsum("nchwkl,ckl->nhw", win, w[f]) + b[f]
        return out, (x, w, b, stride, pad)
''',
    "output rows": '''
    def conv_forward(x, w, b, *, stride=1, pad=0):
        stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
        win = _windows(x, w.shape[2], w.shape[3], stride, pad)
        rows = [np.einsum("ncwkl,fckl->nfw", win[:, :, i], w) for i in range(win.shape[2])]
        return np.stack(rows, axis=2) + b[None, :, None, None], (x, w, b, stride, pad)
''',
}


@pytest.mark.parametrize("axis", sorted(ONE_LOOP))
def test_one_loop_over_the_data_with_a_vectorized_body_fails(tmp_path, axis):
    """Fast enough for the timed layers, within the nesting rule, but against the docstring:
    the line counts name the loop."""
    sub = make_submission(tmp_path, append={"conv.py": _CONV_PREAMBLE + ONE_LOOP[axis]})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert f"loops over {axis}:" in entry["message"], entry


def test_a_pool_looping_over_channels_fails(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": '''
        import numpy as np

        def avg_pool_forward(x, *, pool_size=2, stride=2):
            pool_size, stride = _check_pool("avg_pool_forward", x, pool_size, stride)
            win = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size),
                                                           axis=(2, 3))[:, :, ::stride, ::stride]
            out = np.empty(win.shape[:4])
            for c in range(x.shape[1]):
                out[:, c] = win[:, c].mean(axis=(-2, -1))
            return out, (x.shape, pool_size, stride)
    '''})
    entry = grade(sub, "conv.avg_pool_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "loops over channels: with C = 2, 11, 20" in entry["message"], entry
    assert "offsets inside the window (k, l)" in entry["hint"], entry


def test_a_vectorized_conv_with_its_own_helpers_and_offset_loops_passes(tmp_path):
    """Loops over the kernel offsets, in a helper of the student's own, with a comprehension:
    the lines grow with the kernel, never with the data."""
    sub = make_submission(tmp_path, append={"conv.py": '''
        import numpy as np

        def _gather(xpad, HH, WW, stride, H_out, W_out):
            return np.stack([xpad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
                             for k in range(HH) for l in range(WW)], axis=2)

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            H_out = (H + 2 * pad - HH) // stride + 1
            W_out = (W + 2 * pad - WW) // stride + 1
            xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            cols = _gather(xpad, HH, WW, stride, H_out, W_out)  # (N, C, HH*WW, H_out, W_out)
            out = np.einsum("nckhw,fck->nfhw", cols, w.reshape(F, C, HH * WW))
            return out + b[None, :, None, None], (x, w, b, stride, pad, None)
    '''})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "passed", entry


RECURSIVE_MAX = '''
    import numpy as np

    def _pairwise_max(parts):
        if len(parts) == 1:
            return parts[0]
        half = len(parts) // 2
        return np.maximum(_pairwise_max(parts[:half]), _pairwise_max(parts[half:]))

    def max_pool_forward(x, *, pool_size=2, stride=2):
        pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
        N, C, H, W = x.shape
        H_out, W_out = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
        parts = [x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
                 for k in range(pool_size) for l in range(pool_size)]
        out = _pairwise_max(parts).copy()
        return out, (x, pool_size, stride, out)
'''


def test_a_recursive_max_over_the_window_offsets_passes(tmp_path):
    """Recursion is one loop for the nesting rule; over the offsets its lines never grow with
    the data."""
    sub = make_submission(tmp_path, append={"conv.py": RECURSIVE_MAX})
    entry = grade(sub, "conv.max_pool_forward")
    assert entry["status"] == "passed", entry


def test_recursion_over_the_examples_fails_by_its_line_counts(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": RECURSIVE_MAX.replace(
        "out = _pairwise_max(parts).copy()",
        "if N > 1:\n"
        "            head, _ = max_pool_forward(x[:1], pool_size=pool_size, stride=stride)\n"
        "            rest, _ = max_pool_forward(x[1:], pool_size=pool_size, stride=stride)\n"
        "            out = np.concatenate([head, rest])\n"
        "            return out, (x, pool_size, stride, out)\n"
        "        out = _pairwise_max(parts).copy()")})
    entry = grade(sub, "conv.max_pool_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "loops over examples: with N = 2, 11, 20" in entry["message"], entry


# ------------------------------------------------------ caches, blocks, disguises

CACHED_IM2COL = '''
    import functools

    import numpy as np

    @functools.lru_cache(maxsize=32)
    def _im2col_indices(x_shape, HH, WW, pad, stride):
        """CS231n's index helper, cached by shape: a cache miss runs it once per new shape."""
        N, C, H, W = x_shape
        H_out = (H + 2 * pad - HH) // stride + 1
        W_out = (W + 2 * pad - WW) // stride + 1
        i0 = np.tile(np.repeat(np.arange(HH), WW), C)
        i1 = stride * np.repeat(np.arange(H_out), W_out)
        j0 = np.tile(np.arange(WW), HH * C)
        j1 = stride * np.tile(np.arange(W_out), H_out)
        k = np.repeat(np.arange(C), HH * WW).reshape(-1, 1)
        return k, i0.reshape(-1, 1) + i1.reshape(1, -1), j0.reshape(-1, 1) + j1.reshape(1, -1)

    def conv_forward(x, w, b, *, stride=1, pad=0):
        stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        k, i, j = _im2col_indices(x.shape, HH, WW, pad, stride)
        cols = xpad[:, k, i, j]
        out = np.matmul(w.reshape(F, -1), cols) + b.reshape(1, F, 1)
        H_out = (H + 2 * pad - HH) // stride + 1
        return out.reshape(N, F, H_out, -1), (x, w, b, stride, pad, cols)
'''

OFFSETS_FROM_A_LIST = '''
    import numpy as np

    def max_pool_forward(x, *, pool_size=2, stride=2):
        pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
        H_out = (x.shape[2] - pool_size) // stride + 1
        W_out = (x.shape[3] - pool_size) // stride + 1
        out = None
        for k, l in [(k, l) for k in range(pool_size) for l in range(pool_size)]:
            part = x[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
            out = part.copy() if out is None else np.maximum(out, part)
        return out, (x, pool_size, stride, out)
'''


@pytest.mark.parametrize("code, key", [(CACHED_IM2COL, "conv.conv_forward"),
                                       (OFFSETS_FROM_A_LIST, "conv.max_pool_forward")])
def test_a_cache_by_shape_and_offsets_from_a_list_keep_full_marks(tmp_path, code, key):
    """A helper cached by shape runs once more for a new shape (each size is counted twice);
    the iterable of a for loop is built once, not inside the loop."""
    entry = grade(make_submission(tmp_path, append={"conv.py": code}), key)
    assert entry["status"] == "passed", entry


DISGUISED = {
    "pairs of examples": ('''
        import numpy as np

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            win = np.lib.stride_tricks.sliding_window_view(
                np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w.shape[2:], axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            out = np.empty((x.shape[0], w.shape[0]) + win.shape[2:4])
            for s in range(0, x.shape[0], 2): out[s:s + 2] = np.einsum(
                "nchwkl,fckl->nfhw", win[s:s + 2], w)
            return out + b[None, :, None, None], (x, w, b, stride, pad)
    ''', "conv.conv_forward", "not even in blocks"),
    # blocks of 64 were one block for every size counted (2, 11, 20); a loop over
    # input channels was never counted (C did not vary)
    "blocks of 64 examples": ('''
        import numpy as np

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            win = np.lib.stride_tricks.sliding_window_view(
                np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w.shape[2:], axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            parts = []
            for s in range(0, x.shape[0], 64):
                parts.append(np.einsum("nchwkl,fckl->nfhw", win[s:s + 64], w))
            out = np.concatenate(parts, axis=0)
            return out + b[None, :, None, None], (x, w, b, stride, pad)
    ''', "conv.conv_forward", "loops over examples: with N = 2, 11, 20, 130, 260"),
    "a loop over input channels": ('''
        import numpy as np

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            win = np.lib.stride_tricks.sliding_window_view(
                np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w.shape[2:], axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            out = 0.0
            for c in range(x.shape[1]):
                out = out + np.einsum("nhwkl,fkl->nfhw", win[:, c], w[:, c])
            return out + b[None, :, None, None], (x, w, b, stride, pad)
    ''', "conv.conv_forward", "loops over input channels"),
    "map over examples": ('''
        import numpy as np

        def conv_forward(x, w, b, *, stride=1, pad=0):
            stride, pad = _check_conv("conv_forward", x, w, b, stride, pad)
            win = np.lib.stride_tricks.sliding_window_view(
                np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w.shape[2:], axis=(2, 3))
            win = win[:, :, ::stride, ::stride]
            N, F = x.shape[0], w.shape[0]
            cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, -1, win.shape[2] * win.shape[3])
            out = np.stack(list(map(w.reshape(F, -1).__matmul__, cols)))
            out = (out + b[None, :, None]).reshape((N, F) + win.shape[2:4])
            return out, (x, w, b, stride, pad)
    ''', "conv.conv_forward", "calls a function once per element (map()"),
    "loops only when nobody traces": ('''
        import sys

        import numpy as np

        def max_pool_forward(x, *, pool_size=2, stride=2):
            pool_size, stride = _check_pool("max_pool_forward", x, pool_size, stride)
            win = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size),
                                                           axis=(2, 3))[:, :, ::stride, ::stride]
            if sys.gettrace() is not None:
                out = win.max(axis=(-2, -1))
            else:
                out = np.empty(win.shape[:4])
                for n in range(x.shape[0]):
                    out[n] = win[n].max(axis=(-2, -1))
            return out, (x, pool_size, stride, out)
    ''', "conv.max_pool_forward", "loops over examples"),
}


@pytest.mark.parametrize("name", sorted(DISGUISED))
def test_loops_in_blocks_in_map_or_out_of_sight_lose_the_points(tmp_path, name):
    code, key, words = DISGUISED[name]
    entry = grade(make_submission(tmp_path, append={"conv.py": code}), key)
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert words in entry["message"], entry


def test_lenet_biases_left_in_float64_for_a_float32_model_lose_points(tmp_path):
    """Found by the mutation sweep: LeNet5's docstring says the parameters have the given dtype,
    but no check built a float32 LeNet5; biases made with a bare np.zeros(shape) kept full
    marks."""
    sub = make_submission(tmp_path, replace={"cnn.py": [
        ("self.params[key] = np.zeros(shape, dtype=self.dtype)",
         "self.params[key] = np.zeros(shape)")]})
    entry = engine.grade(sub, ["03"], keys={"cnn.LeNet5"})[
        "units"]["03_cnn"]["functions"]["cnn.LeNet5"]
    assert entry["score"] == 0, entry
    assert "dtype=float32): params['b1'] has dtype float64, expected float32" in entry["message"]
    assert "biases too" in entry["hint"]


def test_ties_routed_once_only_where_windows_tile_fail(tmp_path):
    """The tie check used non-overlapping windows only, so a backward that routes a
    tie once only when stride == pool_size (and to every tied maximum otherwise) kept 2/2."""
    sub = make_submission(tmp_path, replace={"conv.py": [(
        "            if taken is None:\n"
        "                taken = here\n"
        "            else:\n"
        "                here &= ~taken\n"
        "                taken |= here\n",
        "            if tiles:\n"
        "                if taken is None:\n"
        "                    taken = here\n"
        "                else:\n"
        "                    here &= ~taken\n"
        "                    taken |= here\n")]})
    entry = grade(sub, "conv.max_pool_backward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "overlapping 3x3 windows, stride 2" in entry["message"], entry
    assert "adds up to 9, not 1" in entry["message"], entry
    assert "also where windows overlap" in entry["hint"], entry


# ------------------------------------------------------------------ im2col's row order

def test_im2col_rows_in_another_order_than_the_weights_get_a_hint(tmp_path):
    """F9: cols filled with rows ordered (kernel row, kernel column, channel) against
    w.reshape(F, -1), ordered (channel, kernel row, kernel column), got a verdict on values
    alone, spent on the near-0 tolerance of the entry it picked although every entry was off.
    Now the known mistake names the order, and the entry shown is one of ordinary size."""
    sub = make_submission(tmp_path, replace={"conv.py": [
        ("    cols = xp.empty((N, C, HH, WW, H_out, W_out), dtype=x.dtype)",
         "    cols = xp.empty((N, HH, WW, C, H_out, W_out), dtype=x.dtype)"),
        ("            cols[:, :, k, l] = xpad[", "            cols[:, k, l] = xpad[")]})
    entry = grade(sub, "conv.conv_forward")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    message = entry["message"]
    assert message.startswith("conv_forward(N=2, C=3, 5x6 input, F=2, 3x2 filters"), message
    assert "relative (tolerance 1e-06)" in message and "near 0" not in message, message
    assert "140 of 140 entries are off" in message, message
    assert "must follow the order of w.reshape(F, -1): channel first" in entry["hint"], entry


def test_a_penalty_averaged_over_the_examples_gets_a_hint(tmp_path):
    """The ThreeLayerConvNet's penalty and its gradient divided by N (before: no hint)."""
    sub = make_submission(tmp_path, replace={"cnn.py": [
        ("loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum() + (W3 * W3).sum())",
         "loss += 0.5 * self.reg * float((W1 * W1).sum() + (W2 * W2).sum() + (W3 * W3).sum()) "
         "/ len(X)"),
        ("grads[key] = grads[key] + self.reg * self.params[key]",
         "grads[key] = grads[key] + self.reg * self.params[key] / len(X)")]})
    entry = grade(sub, "cnn.ThreeLayerConvNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "not divided by N" in entry["hint"], entry


def test_a_naive_backward_assigning_each_term_to_dx_gets_the_overlap_hint(tmp_path):
    """dxpad[n, :, window] = dout[n, f, i, j] * w[f] in the loops over n, f, i, j: only the
    last term over each input is left (before: failed with no hint)."""
    sub = make_submission(tmp_path, replace={"conv.py": [
        ("dxpad[n, :, top:top + HH, left:left + WW] += g * w[f]",
         "dxpad[n, :, top:top + HH, left:left + WW] = g * w[f]")]})
    entry = grade(sub, "conv.conv_backward_naive")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "(+=), not assign it (=)" in entry["hint"], entry


def test_a_backward_that_changes_its_cached_input_in_place_is_told_so(tmp_path):
    """window -= window.max() on a window of the cached x: overlapping windows then read
    changed values and dx is wrong (before: failed with no hint)."""
    sub = make_submission(tmp_path, replace={"conv.py": [
        ("                    window = x[n, c, top:top + pool_size, left:left + pool_size]\n"
         "                    k, l = divmod(int(window.argmax()), pool_size)",
         "                    window = x[n, c, top:top + pool_size, left:left + pool_size]\n"
         "                    window -= window.max()\n"
         "                    k, l = divmod(int(window.argmax()), pool_size)")]})
    entry = grade(sub, "conv.max_pool_backward_naive")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and "changed cache[0] in place" in entry["hint"], entry


def test_an_output_size_without_the_plus_one_is_not_told_only_of_the_padding(tmp_path):
    """H_out = (H + 2*pad - HH) // stride, the + 1 missing: on the first case (pad 1, stride 1)
    it has the size of H + pad, and the hint spoke of the padding only."""
    sub = make_submission(tmp_path, replace={"conv.py": [
        ("    H_out = (H + 2 * pad - HH) // stride + 1\n"
         "    W_out = (W + 2 * pad - WW) // stride + 1\n"
         "    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out = xp.zeros",
         "    H_out = (H + 2 * pad - HH) // stride\n    W_out = (W + 2 * pad - WW) // stride\n"
         "    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out = xp.zeros")]})
    entry = grade(sub, "conv.conv_forward_naive")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the + 1 counts the first window position" in entry["hint"], entry


@pytest.mark.parametrize("changes, words", [
    ([("        da1 = relu_backward(dr1, cache_relu1)\n", "        da1 = dr1\n")],
     "through the ReLU after the convolution"),
    ([("        for key in (\"W1\", \"W2\", \"W3\"):\n            grads[key]",
       "        for key in self.params:\n            grads[key]"),
      ("float((W1 * W1).sum() + (W2 * W2).sum() + (W3 * W3).sum())",
       "float(sum((p * p).sum() for p in self.params.values()))")],
     "the biases are not part of"),
    ([("loss += 0.5 * self.reg * float((W1 * W1).sum()",
       "loss += self.reg * float((W1 * W1).sum()"),
      ("grads[key] = grads[key] + self.reg * self.params[key]",
       "grads[key] = grads[key] + 2 * self.reg * self.params[key]")],
     "the 0.5 is missing"),
])
def test_three_layer_net_mistakes_of_unit_02_get_their_hints(tmp_path, changes, words):
    """The conv ReLU's backward left out, the biases in the penalty, unit 01's penalty without
    the 0.5: each failed with no hint."""
    entry = grade(make_submission(tmp_path, replace={"cnn.py": changes}), "cnn.ThreeLayerConvNet")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and words in entry["hint"], entry


@pytest.mark.parametrize("changes, words", [
    ([("loss += 0.5 * self.reg * float(sum((w * w).sum() for w in weights))",
       "loss += self.reg * float(sum((w * w).sum() for w in weights))"),
      ('grads[f"W{layer}"] = grads[f"W{layer}"] + self.reg * p[f"W{layer}"]',
       'grads[f"W{layer}"] = grads[f"W{layer}"] + 2 * self.reg * p[f"W{layer}"]')],
     "the 0.5 is missing"),
    ([('((max_pool_forward, max_pool_backward) if self.pool == "max"\n'
       '                                       else (avg_pool_forward, avg_pool_backward))',
       "(max_pool_forward, max_pool_backward)")],
     "average pooling for pool='avg'"),
])
def test_lenet_mistakes_get_their_hints(tmp_path, changes, words):
    """LeNet5 had no known mistakes: these failed with no hint."""
    entry = grade(make_submission(tmp_path, replace={"cnn.py": changes}), "cnn.LeNet5")
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert entry["hint"] and words in entry["hint"], entry
