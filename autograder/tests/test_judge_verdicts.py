"""Verdicts through the real worker: NumPy scalars are numbers, errors name their case, hidden
cases show only their verdict and error size, the number in a verdict is the one the rule used,
fragile softmax is caught, and the speed test compares what it computes."""

import re
import textwrap
import warnings

import numpy as np
import pytest

from autograder import engine
from autograder import report as report_mod
from autograder.compare import Failed, close_array, close_scalar

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("judge-verdicts")

SOFTMAX = "linear.softmax_loss_vectorized"


def functions(report, unit="01_linear"):
    return report["units"][unit]["functions"]


def test_a_numpy_scalar_is_a_number(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": '''
        import numpy as _np

        _size = conv_output_size

        def conv_output_size(n, kernel, *, stride=1, pad=0):
            return _np.int64(_size(n, kernel, stride=stride, pad=pad))
    '''})
    report = engine.grade(sub, ["03"], keys={"conv.conv_output_size"})
    entry = functions(report, "03_cnn")["conv.conv_output_size"]
    assert entry["status"] == "passed", entry


def test_an_error_names_its_case(tmp_path):
    sub = make_submission(tmp_path, append={"linear.py": '''
        _vectorized = softmax_loss_vectorized

        def softmax_loss_vectorized(W, X, y, reg):
            if X.shape[0] == 1:
                raise IndexError("index 1 is out of bounds")
            return _vectorized(W, X, y, reg)
    '''})
    entry = functions(engine.grade(sub, ["01"], keys={SOFTMAX}))[SOFTMAX]
    assert entry["status"] == "error"
    assert entry["message"].startswith("softmax_loss_vectorized(N=1, C=2, reg=0): IndexError"), \
        entry


def test_input_and_breakpoint_say_that_nobody_answers_while_grading(tmp_path):
    """A student's input() got "EOFError: EOF when reading a line", a breakpoint() pdb's bare
    "BdbQuit:": both now say what happened and what to do instead."""
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("def svm_loss_naive(W, X, y, reg):\n",
         "def svm_loss_naive(W, X, y, reg):\n    input('continue?')\n"),
        ("def softmax_loss_naive(W, X, y, reg):\n",
         "def softmax_loss_naive(W, X, y, reg):\n    breakpoint()\n")]})
    entries = functions(engine.grade(sub, ["01"], keys={"linear.svm_loss_naive",
                                                        "linear.softmax_loss_naive"}))
    asked = entries["linear.svm_loss_naive"]
    assert asked["status"] == "error", asked
    assert "input() waits for someone to type, and nobody types while grading: remove the " \
           "input() call" in asked["message"], asked
    stopped = entries["linear.softmax_loss_naive"]
    assert stopped["status"] == "error", stopped
    assert "breakpoint() stops in a debugger, and nobody answers it while grading" in \
        stopped["message"] and "BdbQuit" not in stopped["message"], stopped


def test_an_import_error_names_the_file_as_the_student_sees_it(tmp_path):
    """Python names the module's file in "cannot import name": the sandbox's path of the
    submission (/tmp/submission/...) is left out, the course's relative path kept."""
    sub = make_submission(tmp_path, append={"linear.py": "from .layers import relu_forwrd\n"})
    entry = functions(engine.grade(sub, ["01"], keys={"linear.svm_loss_naive"}))[
        "linear.svm_loss_naive"]
    assert entry["status"] == "error", entry
    message = " ".join(entry["message"].split())
    assert "cannot import name 'relu_forwrd' from 'coursework.layers' (coursework/layers.py)" \
        in message, entry
    assert "/tmp" not in message and str(tmp_path) not in message, entry


def test_a_branch_left_unwritten_is_an_error_shown_with_its_case(tmp_path):
    """average_precision written for method="all" with NotImplementedError left in the
    "11point" branch was a bare "todo", as if nothing were written: it is an error that names
    the case that reached the branch. A function not written at all stays a todo."""
    sub = make_submission(tmp_path, replace={"detection.py": [(
        '    if method == "11point":\n        total = 0.0\n',
        '    if method == "11point":\n        raise NotImplementedError("11-point AP")\n'
        '        total = 0.0\n')]})
    key = "detection.average_precision"
    entry = functions(engine.grade(sub, ["08"], keys={key}), "08_detection")[key]
    assert entry["status"] == "error", entry
    message = " ".join(entry["message"].split())
    assert message.startswith("average_precision(11point: ") and \
        "NotImplementedError: 11-point AP (at coursework/detection.py, line" in message, entry
    assert message.endswith("its earlier calls returned, so part of it (or of a function it "
                            "calls) is still to write"), entry
    stub = make_submission(tmp_path / "stub", base="stubs")
    entry = functions(engine.grade(stub, ["08"], keys={key}), "08_detection")[key]
    assert entry["status"] == "not_implemented", entry


def test_slips_of_the_interface_are_named(tmp_path):
    """A def line without reg gets Python's TypeError and a hint to keep the stub's parameters;
    (dW, loss) returned for (loss, dW) is said to be in another order; a gradient returned as a
    list is a type error, without the remark about the numerical gradient (which is for wrong
    values)."""
    sub = make_submission(tmp_path, append={"linear.py": '''
        _svm = svm_loss_naive
        def svm_loss_naive(W, X, y):
            return _svm(W, X, y, 0.0)

        _vectorized = svm_loss_vectorized
        def svm_loss_vectorized(W, X, y, reg):
            loss, dW = _vectorized(W, X, y, reg)
            return dW, loss

        _softmax = softmax_loss_naive
        def softmax_loss_naive(W, X, y, reg):
            loss, dW = _softmax(W, X, y, reg)
            return loss, dW.tolist()

        _helper_user = softmax_loss_vectorized
        def _helper(a, b):
            return a
        def softmax_loss_vectorized(W, X, y, reg):
            _helper(W, X, y)  # the student's own call that does not fit: no signature hint
            return _helper_user(W, X, y, reg)
    '''})
    entries = functions(engine.grade(sub, ["01"], keys={
        "linear.svm_loss_naive", "linear.svm_loss_vectorized", "linear.softmax_loss_naive",
        SOFTMAX}))
    short = entries["linear.svm_loss_naive"]
    assert short["status"] == "error" and "takes 3 positional arguments but 4 were given" in \
        short["message"], short
    assert short["hint"].startswith("the grader calls svm_loss_naive() with the parameters its "
                                    "docstring lists, as in the stub's def line "
                                    "`def svm_loss_naive(W, X, y, reg)`"), short
    swapped = entries["linear.svm_loss_vectorized"]
    assert swapped["status"] == "failed", swapped
    assert "returns its values in another order: (dW, loss) where the docstring has (loss, dW)" \
        in swapped["message"] and swapped["hint"] == "return (loss, dW), in this order", swapped
    listed = entries["linear.softmax_loss_naive"]
    assert "dW should be a NumPy array of shape (5, 4), got a list of 5 values" in \
        listed["message"] and "numerical gradient" not in listed["message"], listed
    own = entries[SOFTMAX]
    assert own["status"] == "error" and "_helper() takes 2 positional arguments" in \
        own["message"] and own["hint"] is None, own


def test_a_renamed_function_is_named_with_the_close_name_it_has(tmp_path):
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("def svm_loss_naive(", "def svm_los_naive(")]})
    entry = functions(engine.grade(sub, ["01"], keys={"linear.svm_loss_naive"}))[
        "linear.svm_loss_naive"]
    assert entry["status"] == "error", entry
    assert "coursework/linear.py has no 'svm_loss_naive': was it renamed or deleted? It has " \
           "'svm_los_naive'. Keep the names of the stubs" in " ".join(entry["message"].split())


def test_a_module_without_super_init_is_told_to_call_it(tmp_path):
    key = "architectures.LeNet5"
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "    def __init__(self, num_classes=10, in_channels=1):\n        super().__init__()\n",
        "    def __init__(self, num_classes=10, in_channels=1):\n")]})
    entry = functions(engine.grade(sub, ["06"], keys={key}), "06_architectures")[key]
    assert entry["status"] == "error", entry
    message = " ".join(entry["message"].split())
    assert "cannot assign module before Module.__init__() call" in message, entry
    assert message.endswith("start __init__ with super().__init__(), which sets up the "
                            "nn.Module before any layer is assigned to it"), entry


def test_a_linear_layer_of_the_wrong_width_is_explained(tmp_path):
    """LeNet5 without its second pooling: 16 * 10 * 10 features reach a linear layer made for
    16 * 5 * 5."""
    key = "architectures.LeNet5"
    sub = make_submission(tmp_path, replace={"architectures.py": [(
        "nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),",
        "nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(),")]})
    entry = functions(engine.grade(sub, ["06"], keys={key}), "06_architectures")[key]
    assert entry["status"] == "error", entry
    message = " ".join(entry["message"].split())
    assert "mat1 and mat2 shapes cannot be multiplied" in message, entry
    assert "if this is a linear layer, it was made for 400 input features and given 1600: check " \
           "its in_features against the flattened size" in message, entry


LEAKY = '''
    _vectorized = softmax_loss_vectorized

    def softmax_loss_vectorized(W, X, y, reg):
        print("called with", X.shape, "reg", reg)
        loss, dW = _vectorized(W, X, y, reg)
        if X.shape[0] == 40:  # only the hidden case N=40, D=11, C=10, reg=0.05
            if MODE == "error":
                raise ValueError(f"cannot handle X of shape {X.shape} with reg={reg}")
            if MODE == "float32_loss":
                return float(np.float32(loss)), dW
            if MODE == "small":  # an error of float32's size, no hint of its own
                return loss, dW * (1 + 3e-6)
            dW = dW * 1.5
        return loss, dW
'''


def _numpy_error(make):
    try:
        make()
    except (ValueError, IndexError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("no error")


def test_a_missing_dict_key_is_explained():
    try:
        {"W2": 0}["W1"]
    except KeyError as exc:
        message = f"{type(exc).__name__}: {exc}"
    fault = type("Fault", (), {"message": message, "detail": ""})()
    assert "a dict was asked for the key 'W1', which it does not hold" in \
        engine.error_message(fault)


@pytest.mark.parametrize("make, words", [
    (lambda: np.ones((4, 3)) - np.ones((4,)),
     ["shapes (4,3) and (4,) met in one elementwise operation", "keepdims=True"]),
    (lambda: np.ones((4, 3)) @ np.ones((4, 5)), ["columns of A must equal the number of rows"]),
    (lambda: np.ones((4, 3)).dot(np.ones((4, 5))), ["columns of A must equal the number of rows"]),
    (lambda: np.ones((2, 5))[:, 5], ["axis 1 has 5 entries, numbered 0 to 4", "range(n)"]),
    (lambda: np.ones(5)[7], ["axis 0 has 5 entries, and index 7 is outside them"]),
    (lambda: np.bincount([0, 1, 1]).reshape(3, 1),
     ["a reshape keeps the number of entries: 2 cannot fill (3,1)", "minlength"]),
])
def test_numpy_shape_and_index_errors_are_explained(make, words):
    """NumPy's own words for a shape or index slip get the plain ones appended: what the shapes
    say (keepdims, a missing .T) and where an index runs one past the end."""
    fault = type("Fault", (), {"message": _numpy_error(make), "detail": ""})()
    message = engine.error_message(fault)
    assert message.startswith(fault.message)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("mode", ["wrong", "error", "float32_loss", "small"])
def test_a_hidden_case_shows_only_its_verdict_and_error_size(tmp_path, mode):
    sub = make_submission(tmp_path, append={"linear.py": f"MODE = {mode!r}\n" +
                                            textwrap.dedent(LEAKY)})
    report = engine.grade(sub, ["01"], keys={SOFTMAX})
    entry = functions(report)[SOFTMAX]
    student_text = report_mod.table(report) + str(report_mod.student_view(report))
    for secret in ("N=40", "40, 11", "0.05", "D=11", "C=10"):
        assert secret not in student_text, (secret, entry, report.get("output"))
    assert "called with (8, 5)" in report["output"]  # public cases' output is kept
    assert "hidden case 1" in entry["message"], entry
    instructor = report["instructor"]
    assert "(40, 11)" in instructor["output"]
    if mode == "wrong":
        assert entry["status"] == "failed"
        assert "wrong values (largest relative error 0.5, tolerance 1e-06" in entry["message"], \
            entry
        assert "N=40, D=11, C=10, reg=0.05" in instructor["functions"][SOFTMAX]["message"]
        # no known mistake explains it: the student is told where to look, nothing more
        assert entry["hint"] == engine.HIDDEN_HINT
    elif mode == "float32_loss":  # a float32 loss: said so, with the loss's own hint
        assert entry["status"] == "failed"
        assert re.search(r"wrong values \(largest relative error [\d.e-]+, tolerance 1e-10\); "
                         r"an error this small comes from float32 arithmetic", entry["message"]), \
            entry
        assert "float64" in entry["hint"], entry
    elif mode == "small":  # off by float32's rounding size: said so, and where to look
        assert "wrong values (largest relative error 3e-06, tolerance 1e-06); an error this " \
               "small comes from float32 arithmetic" in entry["message"], entry
        assert entry["hint"] == engine.HIDDEN_FLOAT32_HINT
    else:
        assert entry["status"] == "error"
        assert entry["message"].endswith("the code raised ValueError"), entry
        assert "shape (40, 11)" in instructor["functions"][SOFTMAX]["message"]


def test_an_error_just_above_the_tolerance_does_not_read_as_the_tolerance():
    """"off by 1e-06 relative (tolerance 1e-06)" read like a pass; the error gets the
    figures that tell it from the tolerance."""
    expected = np.arange(1.0, 13.0).reshape(3, 4)
    with pytest.raises(Failed) as failure:
        close_array("dW", expected * (1 + 1.04e-6), expected)
    assert "off by 1.04e-06 relative (tolerance 1e-06)" in failure.value.message
    with pytest.raises(Failed) as failure:
        close_scalar("loss", 1.00000104, 1.0)
    assert "relative error 1.04e-06, tolerance 1e-06" in failure.value.message


def test_the_number_in_a_verdict_is_the_one_the_rule_used(tmp_path):
    expected = np.arange(1.0, 13.0).reshape(3, 4)
    got = expected.copy()
    got[1, 2] *= 1 + 1e-4
    with pytest.raises(Failed) as failure:
        close_array("dW", got, expected)
    message = failure.value.message
    assert "entry [1, 2] is off by 0.0001 relative (tolerance 1e-06)" in message, message
    assert failure.value.error == pytest.approx(1e-4, rel=1e-6)
    sub = make_submission(tmp_path, append={"linear.py": '''
        _vectorized = softmax_loss_vectorized

        def softmax_loss_vectorized(W, X, y, reg):
            loss, dW = _vectorized(W, X, y, reg)
            dW = dW.copy()
            dW[2, 1] *= 1 + 1e-4
            return loss, dW
    '''})
    entry = functions(engine.grade(sub, ["01"], keys={SOFTMAX}))[SOFTMAX]
    assert entry["status"] == "failed"
    assert "entry [2, 1] is off by 0.0001 relative (tolerance 1e-06)" in entry["message"], entry


GLOBAL_MAX = '''
    def softmax_loss_vectorized(W, X, y, reg):
        scores = X @ W
        scores = scores - scores.max()  # the maximum of the whole array, not of each row
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(p[np.arange(n), y]).mean() + reg * np.sum(W * W)
        p[np.arange(n), y] -= 1
        return loss, X.T @ p / n + 2 * reg * W
'''


def test_softmax_subtracting_the_global_maximum_fails(tmp_path):
    sub = make_submission(tmp_path, append={"linear.py": GLOBAL_MAX, "losses.py": '''
        import numpy as np

        def softmax_loss(scores, y):
            shifted = scores - scores.max()
            p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            n = scores.shape[0]
            loss = -np.log(p[np.arange(n), y]).mean()
            p[np.arange(n), y] -= 1
            return loss, p / n
    '''})
    report = engine.grade(sub, ["01", "02"], keys={SOFTMAX, "losses.softmax_loss"},
                          public_only=True)
    linear = functions(report)[SOFTMAX]
    assert linear["status"] == "failed" and "rows of scores around +1000, 0" in \
        linear["message"], linear
    losses = report["units"]["02_mlp"]["functions"]["losses.softmax_loss"]
    assert losses["status"] == "failed" and "very different offsets" in losses["message"], losses


FORWARD_DODGE = '''
    _forward = conv_forward

    def conv_forward(x, w, b, *, stride=1, pad=0):
        out, cache = _forward(x[:1] if x.shape[0] == 128 else x, w, b, stride=stride, pad=pad)
        if x.shape[0] == 128:  # the speed test's layer: one example's output, repeated
            out = out.repeat(128, axis=0)
        return out, cache
'''
BACKWARD_DODGE = '''
    _backward = conv_backward

    def conv_backward(dout, cache):
        if dout.shape[0] == 128:  # the speed test's layer: zeros, quickly
            x, w = cache[0], cache[1]
            return np.zeros(x.shape), np.zeros(w.shape), np.zeros(w.shape[0])
        return _backward(dout, cache)
'''


@pytest.mark.parametrize("target, code, words", [
    ("conv.conv_forward", FORWARD_DODGE, "out projected on a random vector"),
    ("conv.conv_backward", BACKWARD_DODGE, "dx projected on a random vector"),
])
def test_the_speed_test_compares_what_it_computes(tmp_path, target, code, words):
    sub = make_submission(tmp_path, append={"conv.py": "import numpy as np\n" +
                                            textwrap.dedent(code)})
    entry = functions(engine.grade(sub, ["03"], keys={target}), "03_cnn")[target]
    assert entry["status"] == "failed", entry
    assert "(large layer)" in entry["message"] and words in entry["message"], entry


def test_the_reference_passes_the_compared_speed_test(tmp_path):
    keys = {"conv.conv_forward", "conv.conv_backward"}
    ref = engine.grade(make_submission(tmp_path, name="ref"), ["03"], keys=keys)
    assert ref["total"] == ref["max"] == 7, ref


@pytest.mark.parametrize("where, start", [
    ("__init__", "ThreeLayerConvNet((3, 16, 12), 20, 5, 50, 10, weight_scale=0.05): "
                 "ValueError: matmul"),  # the constructor call is the label, not wrapped again
    ("loss", "ThreeLayerConvNet(loss(X), N=")])
def test_a_model_error_names_its_case_or_constructor_arguments(tmp_path, where, start):
    sub = make_submission(tmp_path, append={"cnn.py": f'''
        _Net = ThreeLayerConvNet

        class ThreeLayerConvNet(_Net):
            def {where}(self, *args, **kwargs):
                raise ValueError("matmul: Input operand 1 has a mismatch")
    '''})
    key = "cnn.ThreeLayerConvNet"
    entry = functions(engine.grade(sub, ["03"], keys={key}), "03_cnn")[key]
    assert entry["status"] == "error", entry
    assert entry["message"].startswith(start), entry


def test_the_speed_test_identities_match_the_reference_layer():
    """The large layer's expected results, computed through identities of the convolution,
    equal the reference layer's own results projected the same way."""
    from autograder.oracle import load_reference
    from autograder.specs import conv as spec

    cw = load_reference()
    x, w, b, r_out, r_in, a, kw = spec.speed_inputs()
    out, cache = cw.conv.conv_forward(x, w, b, **kw)
    direct = out.reshape(out.shape[0], out.shape[1], -1) @ r_out
    np.testing.assert_allclose(spec.conv_speed_forward(cw, x, w, b, r_out, **kw), direct,
                               rtol=1e-10, atol=1e-10 * np.abs(direct).max())
    dout = np.broadcast_to(a[:, :, None, None], out.shape).copy()
    dx, dw, db = cw.conv.conv_backward(dout, cache)
    got = spec.conv_speed_backward(cw, x, w, b, a, r_in, **kw)
    for g, e in zip(got, (dx.reshape(dx.shape[0], dx.shape[1], -1) @ r_in, dw, db)):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10 * np.abs(e).max())


def test_hidden_cases_are_marked_wherever_they_are_used():
    from autograder.spec import CURRENT, Case, Trial
    from autograder.specs.linear import loss_inputs

    class Nobody:
        worker = None

    trial = Trial(Nobody(), None)
    CURRENT.reset()
    public = Case("public case", (1,))
    hidden_cases = trial.hidden("linear", "loss_cases", loss_inputs)
    hidden_sizes = trial.hidden("conv", "sizes")
    assert hidden_cases and hidden_sizes
    public.args
    assert not CURRENT.hidden and CURRENT.label == "public case"
    hidden_cases[0].args
    assert CURRENT.hidden and CURRENT.hidden_seen == 1
    assert CURRENT.called()  # the student's code runs on it: it is hidden case 1
    n, *_ = hidden_sizes[0]  # a hidden tuple, unpacked
    assert CURRENT.hidden and CURRENT.hidden_seen == 2
    # a case built from a hidden one is hidden; entered again, a case keeps its number
    derived = Case(hidden_cases[1].label + ", again", hidden_cases[1].args)
    derived.args
    assert CURRENT.hidden and CURRENT.hidden_seen == 2  # hidden_sizes[0] was never called
    assert CURRENT.called() and CURRENT.hidden_seen == 2
    hidden_cases[0].args
    assert CURRENT.hidden_seen == 1
    public.kwargs
    assert not CURRENT.hidden
    assert Trial(Nobody(), None, public_only=True).hidden("linear", "loss_cases", None) == []
    CURRENT.reset()


def test_a_max_pool_backward_giving_every_tied_maximum_the_gradient_fails(tmp_path):
    sub = make_submission(tmp_path, replace={"conv.py": [(
        "                here &= ~taken\n                taken |= here\n",
        "                pass  # every tied maximum keeps its mask\n")]})
    entry = engine.grade(sub, ["03"], keys={"conv.max_pool_backward"})["units"]["03_cnn"][
        "functions"]["conv.max_pool_backward"]
    assert entry["status"] == "failed"
    assert entry["message"].startswith("max_pool_backward(0/1 values with ties, 2x2 windows, "
                                       "stride 2): in window [0, 0, 0, 0] of [0.5, 0.5, 0.5, 0.5] "
                                       "the gradient adds up to"), entry
    assert "not in full to each" in entry["hint"]


def test_an_error_in_conv_output_size_names_its_arguments(tmp_path):
    sub = make_submission(tmp_path, append={"conv.py": '''
        _size = conv_output_size

        def conv_output_size(n, kernel, *, stride=1, pad=0):
            if kernel > n:  # forgets the padding
                raise ValueError("filter does not fit")
            return _size(n, kernel, stride=stride, pad=pad)
    '''})
    entry = functions(engine.grade(sub, ["03"], keys={"conv.conv_output_size"}), "03_cnn")[
        "conv.conv_output_size"]
    assert entry["message"].startswith("conv_output_size(n=1, kernel=3, stride=1, pad=1): "
                                       "ValueError: filter does not fit"), entry


def test_a_slow_function_uses_up_its_own_budget_not_the_submissions(tmp_path):
    from autograder.sandbox import Limits

    sub = make_submission(tmp_path, append={"linear.py": '''
        import time as _time

        _naive = svm_loss_naive

        def svm_loss_naive(W, X, y, reg):
            _time.sleep(0.8)  # within the 1 s limit of a call, every time
            return _naive(W, X, y, reg)
    '''})
    report = engine.grade(sub, ["01"], limits=Limits(call_seconds=1.0, cpu_seconds=5.0),
                          budget_seconds=60.0)
    found = functions(report)
    slow = found["linear.svm_loss_naive"]
    assert slow["status"] == "timeout", slow
    # The budget runs out on a hidden case (on a busy machine sometimes on a public one, which
    # shows its figures): a hidden case's verdict gives the reason without the inputs, and the
    # instructor sees the figures.
    if "hidden case" in slow["message"]:
        assert "calls together took more than its time budget" in slow["message"], slow
        assert "budget of 6 s" in report["instructor"]["functions"]["linear.svm_loss_naive"][
            "message"]
    else:
        assert "calls together took more than its budget of 6 s" in slow["message"], slow
    # the others are graded as usual
    assert found["linear.svm_loss_vectorized"]["status"] == "passed"
    assert found["linear.softmax_loss_naive"]["status"] == "passed"


def test_a_naive_function_that_times_out_is_not_told_to_vectorize(tmp_path):
    """Loops are the lesson of a naive function: its timeout asks about a loop that never ends or
    runs too often; a vectorized function's timeout still asks what is not vectorized."""
    from autograder.sandbox import Limits

    sub = make_submission(tmp_path, append={"linear.py": '''
        def svm_loss_naive(W, X, y, reg):
            i = 0
            while i < X.shape[0]:
                pass  # i is never incremented

        def svm_loss_vectorized(W, X, y, reg):
            while True:
                pass
    '''})
    report = engine.grade(sub, ["01"], limits=Limits(call_seconds=1.0, cpu_seconds=5.0),
                          keys={"linear.svm_loss_naive", "linear.svm_loss_vectorized"})
    found = functions(report)
    naive, vectorized = found["linear.svm_loss_naive"], found["linear.svm_loss_vectorized"]
    assert naive["status"] == vectorized["status"] == "timeout", (naive, vectorized)
    assert "does a loop never end" in naive["message"], naive
    assert "vectorized" not in naive["message"], naive
    assert "is something not vectorized?" in vectorized["message"], vectorized


def test_a_long_expression_is_the_students_to_write_not_a_fault_of_the_grader(tmp_path):
    """A sum of 1500 terms (CPython compiles it) made the judge's own syntax-tree walk
    exceed the recursion limit, reported as a fault of the grader; one of 20000 terms (CPython
    cannot compile it) too, instead of the module's import error."""
    terms = " + ".join(["1"] * 1500)
    sub = make_submission(tmp_path / "long", append={"linear.py": f'''
        _vectorized = svm_loss_vectorized
        def svm_loss_vectorized(W, X, y, reg):
            loss, dW = _vectorized(W, X, y, reg)
            return loss + 0.0 * ({terms}), dW
    '''})
    entry = functions(engine.grade(sub, ["01"], keys={"linear.svm_loss_vectorized"}))[
        "linear.svm_loss_vectorized"]
    assert entry["status"] == "passed", entry
    sub = make_submission(tmp_path / "longer", append={"linear.py": f'''
        _TOTAL = {" + ".join(["1"] * 20000)}
    '''})
    entry = functions(engine.grade(sub, ["01"], keys={"linear.svm_loss_naive"}))[
        "linear.svm_loss_naive"]
    assert entry["status"] == "error" and not entry.get("grader_fault"), entry
    assert "could not be imported: RecursionError" in entry["message"], entry


@pytest.mark.parametrize("ret, words", [
    # a Python complex: it was "a tuple that holds something other than arrays, numbers..."
    ("return complex(loss), dW", "loss is a complex number (complex128)"),
    # a NumPy complex scalar: it was "should be a single number (a float)", with no cause
    ("return np.sqrt(np.complex128(loss)), dW", "loss is a complex number (complex128)"),
    # complex gradients: it was "should be floating point; integer arithmetic loses the fractions"
    ("return float(loss), dW + 0j", "dW has complex entries (dtype complex128)"),
])
def test_a_complex_result_is_named_with_its_cause_and_the_fix(tmp_path, ret, words):
    key = "linear.svm_loss_vectorized"
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("    # END SOLUTION\n    return float(loss), dW\n\n\ndef softmax_loss_naive",
         f"    # END SOLUTION\n    {ret}\n\n\ndef softmax_loss_naive")]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entry = functions(engine.grade(sub, ["01"], keys={key}))[key]
    # matching the known mistakes cast it to float, and NumPy's ComplexWarning reached the
    # student's notebook
    assert not [w for w in caught if "complex" in str(w.message).lower()], caught
    assert entry["status"] == "failed", entry
    message = entry["message"]
    assert words in message, message
    assert "x ** 0.5 of a negative" in message and "keep the computation real" in message, message
    assert "integer arithmetic" not in message and "\n" not in message, message


def test_a_module_that_was_not_graded_names_no_line_of_it(tmp_path):
    """A hand-in without linear.py read "ImportError: coursework/linear.py was not graded: it is
    missing (at coursework/linear.py, line 1)": line 1 of the grader's stand-in, not of a file."""
    sub = make_submission(tmp_path)
    (sub / "coursework" / "linear.py").unlink()
    entry = functions(engine.grade(sub, ["01"], keys={SOFTMAX}))[SOFTMAX]
    assert entry["status"] == "error", entry
    assert "coursework/linear.py was not graded: it is missing" in entry["message"], entry
    assert "line 1" not in entry["message"], entry
