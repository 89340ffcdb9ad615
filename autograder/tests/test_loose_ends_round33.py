"""Seven loose ends the previous round noticed and left, each graded through the engine:

1. A sigmoid whose exp overflows kept its point when the code silenced NumPy's warning itself
   (``np.errstate(over="ignore")`` around the formula, ``np.seterr`` in the function); written
   as a decorator, ``@np.errstate(...)``, it was refused as code "not loaded from the hand-in's
   files" (the decorator's wrapper is NumPy's code). The watch now stays in force whatever the
   code asks for (``worker.watching_overflow``), the decorated function is judged by the
   function it wraps, and the hint says that silencing the warning does not stop the overflow.
2. ``step_decay`` written with ``round()`` got the "off by one" hint (round(step / 3) equals
   (step + 1) // 3 at every step of the first case): the mistake that agrees with the
   student's rates at every step of every case gives the hint (``specs/optim.schedule_hint``).
3. An int beyond 64 bits returned by ``count_parameters`` was a float on the wire ("got a
   float"), or float()'s OverflowError reported as the student's error: it stays an int.
4. ``batchnorm_backward_alt`` had no square case with a non-zero dx: a dx transposed only when
   square passed.
5. TinyYOLO's softmax computed in float32 was told its probabilities do not sum to 1 ("sums
   range from 1 to 1"): the docstring now asks for the computation in x's dtype, and the verdict
   names float32's precision.
7. ``upsample_nearest`` at scale 1 and ``upsample_bilinear`` to the input's size may not return
   x itself: the docstrings promise a new array, as every layer returns.
"""


import numpy as np
import pytest

from autograder import compare, wire
from autograder.paths import REFERENCE_PACKAGE
from autograder.testing import mistaken_student, run_spec_test

from .submissions import bwrap, graded_entries, graded_variants


# ---------------------------------------------------------------- 1. the silenced overflow

SIGMOIDS = {
    "errstate block": """
        def sigmoid_forward(x):
            with np.errstate(over="ignore"):
                out = 1.0 / (1.0 + np.exp(-x))
            return out, out
        """,
    "seterr in the call": """
        def sigmoid_forward(x):
            np.seterr(all="ignore")
            out = 1.0 / (1.0 + np.exp(-x))
            return out, out
        """,
    "errstate decorator": """
        @np.errstate(over="ignore")
        def sigmoid_forward(x):
            out = 1.0 / (1.0 + np.exp(-x))
            return out, out
        """,
    # fair: a stable form inside a silenced block, and a decorated stable form
    "tanh, silenced": """
        def sigmoid_forward(x):
            with np.errstate(all="ignore"):
                out = 0.5 * (1.0 + np.tanh(0.5 * x))
            return out, out
        """,
    "tanh, decorated": """
        @np.errstate(divide="ignore")
        def sigmoid_forward(x):
            out = 0.5 * (1.0 + np.tanh(0.5 * x))
            return out, out
        """,
}


@pytest.fixture(scope="module")
def sigmoids(tmp_path_factory):
    return graded_variants(tmp_path_factory, "02", "layers.sigmoid_forward", "layers.py",
                           SIGMOIDS, header="import numpy as np\n")


@pytest.mark.parametrize("name", ["errstate block", "seterr in the call", "errstate decorator"])
def test_a_silenced_overflow_still_loses_the_point(sigmoids, name):
    entry = sigmoids[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "the values are right, but exp overflowed" in entry["message"], entry
    assert "silencing the warning" in entry["hint"] and "does not stop" in entry["hint"], entry


@pytest.mark.parametrize("name", ["tanh, silenced", "tanh, decorated"])
def test_a_stable_sigmoid_keeps_its_point_silenced_or_decorated(sigmoids, name):
    entry = sigmoids[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


def test_the_in_process_student_sees_a_silenced_overflow_too():
    def silenced(x):
        with np.errstate(over="ignore"):
            out = 1.0 / (1.0 + np.exp(-x))
        return out, out

    failure = run_spec_test("layers.sigmoid_forward",
                            mistaken_student("layers.sigmoid_forward", silenced))
    assert failure is not None and "exp overflowed" in failure.message, failure


# ---------------------------------------------------------------- 2. round() in step_decay

def test_step_decay_with_round_is_told_rounding_not_off_by_one(tmp_path):
    entry = graded_entries(tmp_path, "05", {"optim.step_decay"}, append={"optim.py": """
        def step_decay(step, *, lr0, step_size, gamma=0.1):
            return float(lr0 * gamma ** round(step / step_size))
        """})["optim.step_decay"]
    assert entry["status"] == "failed", entry
    # the first failing step is public and named as such
    assert entry["message"].startswith("step_decay(step=2, lr0=0.1, step_size=3"), entry
    assert "round() is not floor" in entry["hint"], entry
    assert "off by one" not in entry["hint"], entry


def test_step_decay_off_by_one_keeps_its_hint_and_round_gets_its_own_in_process():
    def off_by_one(step, *, lr0, step_size, gamma=0.1):
        return float(lr0 * gamma ** ((step + 1) // step_size))

    def rounded(step, *, lr0, step_size, gamma=0.1):
        return float(lr0 * gamma ** round(step / step_size))

    failure = run_spec_test("optim.step_decay", mistaken_student("optim.step_decay", off_by_one))
    assert failure.hint.startswith("off by one"), failure.hint
    failure = run_spec_test("optim.step_decay", mistaken_student("optim.step_decay", rounded))
    assert failure.hint.startswith("round() is not floor"), failure.hint
    assert "step=2" in failure.message, failure.message


# ---------------------------------------------------------------- 3. a huge int

def test_an_int_beyond_64_bits_stays_an_int_on_the_wire():
    for value in (2**63, -(2**70) + 3, 10**30, (1, 10**40)):
        back = wire.decode(wire.parse_body(wire.dumps(wire.encode(value))))
        assert back == value and type(back) is type(value), (value, back)
    assert "an int of 31 digits" in compare.describe(10**30)
    with pytest.raises(wire.WireError):
        wire.decode({"$int": "--5"})


@pytest.mark.parametrize("factor", ["10 ** 20", "10 ** 400"])
def test_count_parameters_returning_a_huge_int_is_told_so(tmp_path, factor):
    entry = graded_entries(tmp_path, "03", {"cnn.count_parameters"}, append={"cnn.py": f"""
        def count_parameters(params):
            total = 0
            for v in params.values():
                total += v.size
            return total * {factor} if total else 0
        """})["cnn.count_parameters"]
    assert entry["status"] == "failed", entry
    assert "returned an int of" in entry["message"], entry
    assert "float" not in entry["message"] and "Overflow" not in entry["message"], entry


# ---------------------------------------------------------------- 4. a square batch-norm case

def test_batchnorm_alt_transposed_only_when_square_fails(tmp_path):
    entry = graded_entries(tmp_path, "04", {"normalization.batchnorm_backward_alt"},
                   append={"normalization.py": """
        _alt_reference = batchnorm_backward_alt


        def batchnorm_backward_alt(dout, cache):
            dx, dgamma, dbeta = _alt_reference(dout, cache)
            if dx.shape[0] == dx.shape[1]:
                dx = dx.T
            return dx, dgamma, dbeta
        """})["normalization.batchnorm_backward_alt"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry


# ---------------------------------------------------------------- 5. TinyYOLO in float32

def test_tinyyolo_docstring_names_the_dtype_of_the_computation():
    source = (REFERENCE_PACKAGE / "detectors.py").read_text()
    start = source.index("class TinyYOLO")
    assert "computed in x's dtype" in source[start:source.index("def __init__", start)]


def test_a_float32_softmax_is_named_as_float32_precision():
    from autograder.specs.detectors import _check_yolo

    rng = np.random.default_rng(0)
    shape = (1, 2, 2, 2, 5 + 3)
    raw = rng.standard_normal(shape)
    boxes = 1 / (1 + np.exp(-raw[..., :5]))
    logits = raw[..., 5:].astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    out = np.concatenate([boxes, probs.astype(np.float64)], axis=-1)
    assert np.abs(out[..., 5:].sum(-1) - 1).max() > 1e-9  # what float32 leaves
    with pytest.raises(compare.Failed) as failed:
        _check_yolo("TinyYOLO(3)", out, shape)
    assert "float32's precision" in failed.value.message, failed.value.message
    assert "x's dtype" in failed.value.message
    assert "dtype=torch.float32" in failed.value.hint
    # a softmax over the wrong entries is still told to apply it over the last C entries
    wrong = out.copy()
    wrong[..., 5:] /= 2
    with pytest.raises(compare.Failed) as failed:
        _check_yolo("TinyYOLO(3)", wrong, shape)
    assert "over the last C entries" in failed.value.hint


def test_tinyyolo_with_a_float32_softmax_gets_the_float32_verdict(tmp_path):
    pytest.importorskip("torch")
    entry = graded_entries(tmp_path, "08", {"detectors.TinyYOLO"}, replace={"detectors.py": [(
        "torch.softmax(raw[..., 5:], dim=-1)",
        "torch.softmax(raw[..., 5:], dim=-1, dtype=torch.float32)")]},
        use_bwrap=bwrap("08_detection"))["detectors.TinyYOLO"]
    assert entry["status"] == "failed", entry
    assert "float32's precision" in entry["message"], entry
    assert "sums range from 1 to 1" not in entry["message"], entry


# ---------------------------------------------------------------- 7. a new array at scale 1

def test_upsampling_that_returns_its_input_unchanged_fails(tmp_path):
    entries = graded_entries(tmp_path, "07", {"segmentation.upsample_nearest",
                                      "segmentation.upsample_bilinear"},
                     append={"segmentation.py": """
        _nearest, _bilinear = upsample_nearest, upsample_bilinear


        def upsample_nearest(x, *, scale):
            if scale == 1:
                return x, (1, x.shape)
            return _nearest(x, scale=scale)


        def upsample_bilinear(x, *, size):
            if (size, size) == x.shape[2:] or size == x.shape[2:]:
                return x
            return _bilinear(x, size=size)
        """})
    for key, label in (("segmentation.upsample_nearest", "scale 1"),
                       ("segmentation.upsample_bilinear", "5x5 input to 5x5")):
        entry = entries[key]
        assert entry["status"] == "failed" and entry["score"] == 0, entry
        assert label in entry["message"] and "input x itself" in entry["message"], entry
        assert "hidden" not in entry["message"], entry
        assert "new array" in entry["hint"], entry


@pytest.mark.parametrize("name", ["upsample_nearest", "upsample_bilinear"])
def test_upsampling_docstrings_promise_a_new_array(name):
    source = (REFERENCE_PACKAGE / "segmentation.py").read_text()
    start = source.index(f"def {name}(")
    assert "a new array" in source[start:source.index('"""', source.index('"""', start) + 3)]


# ---------------------------------------------------------------- 6. list.sort and heapq.merge

SVM_LOSS = "    loss = margins.sum() / num_train + reg * (W * W).sum()\n"
SORTS = {
    # a key lambda that keeps what it computes: a line of student code per example
    "key lambda with a side effect": (
        "    _per = []\n"
        "    sorted(range(num_train), key=lambda i: _per.append(margins[i].sum()) or 0)\n"
        "    loss = sum(_per) / num_train + reg * (W * W).sum()\n", "loops over examples"),
    # heapq.merge passes the items on in C; what adds them up is counted
    "heapq.merge into math.fsum": (
        "    import heapq\n    import math\n"
        "    loss = math.fsum(heapq.merge(margins.sum(axis=1).tolist())) / num_train"
        " + reg * (W * W).sum()\n", "math.fsum goes over"),
    # a key the static rule does not see: called in C, its values thrown away (left open)
    "bound list.sort with a builtin key": (
        "    _rows = margins.sum(axis=1).tolist()\n    _sort = _rows.sort\n    _sort(key=abs)\n"
        + SVM_LOSS, None),
}


@pytest.fixture(scope="module")
def sorts(tmp_path_factory):
    out = {}
    for name, (code, _) in SORTS.items():
        root = tmp_path_factory.mktemp(name.split()[0].replace(".", "_"))
        out[name] = graded_entries(root, "01", {"linear.svm_loss_vectorized"},
                           replace={"linear.py": [(SVM_LOSS, code)]})[
            "linear.svm_loss_vectorized"]
    return out


@pytest.mark.parametrize("name", sorted(SORTS))
def test_per_item_values_from_sorting_or_merging_are_counted(sorts, name):
    entry, words = sorts[name], SORTS[name][1]
    if words is None:  # computes nothing the loss uses: the decision leaves it open
        assert entry["status"] == "passed", entry
    else:
        assert entry["status"] == "failed" and words in entry["message"], entry
