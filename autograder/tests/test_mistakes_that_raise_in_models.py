"""Raised-error hints beyond the layers: a model's loss, clip_grad_norm, the gradcheck functions.

A model's ``loss`` (``model_checks.check_loss``, RegularizedNet's), ``optim.clip_grad_norm`` and
the gradcheck functions are called inside ``Trial.explaining_errors``: a call that raises the
error of a known mistake that raises (``mistakes/_edited.py``) gets its hint. An error the
traceback shows raised in another graded function of the student's (TwoLayerNet.loss raising
inside coursework/layers.py's affine_forward) gets a hint naming that function. A raising
mistake that the student's earlier calls rule out (it raises where the student's call returned,
or answers otherwise a case the student got right) gives no hint.
"""

import pytest

from autograder.oracle import Oracle
from autograder.runner import StudentError
from autograder.sandbox import Limits
from autograder.testing import mistaken_student, run_spec_test

from .submissions import assert_error_with_hint, graded_with_edits

pytestmark = pytest.mark.xdist_group("mistakes-that-raise-in-models")

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)

# key -> (module file, old, new, words of the error, words of the expected hint)
RAISING = {
    "mlp.FullyConnectedNet": (
        "mlp.py", "for layer in range(1, num_layers):\n            a, ",
        "for layer in range(num_layers):\n            a, ", "KeyError: 'W0'", "numbered from 1"),
    "optim.clip_grad_norm": (
        "optim.py", "math.sqrt(sum(float((g * g).sum()) for g in grads.values()))",
        "math.sqrt(float(sum(g * g for g in grads.values()).sum()))",
        "broadcast together with shapes", "sum each gradient's squares to one number first"),
    "gradcheck.numerical_gradient": (
        "gradcheck.py", "for index in itertools.product(*(range(n) for n in x.shape)):\n"
        "        old = x[index].item()\n        x[index] = old + h\n        f_plus",
        "for index in range(x.size):\n"
        "        old = x[index].item()\n        x[index] = old + h\n        f_plus",
        "can only convert an array of size 1", "np.ndindex(x.shape)"),
    "gradcheck.numerical_gradient_array": (
        "gradcheck.py", "for index in itertools.product(*(range(n) for n in x.shape)):\n"
        "        old = x[index].item()\n        x[index] = old + h\n        y_plus",
        "for index in range(x.size):\n"
        "        old = x[index].item()\n        x[index] = old + h\n        y_plus",
        "can only convert an array of size 1", "np.ndindex(x.shape)"),
    "regularization.RegularizedNet": (
        "regularization.py",
        "cache_affine, cache_norm, cache_relu, cache_drop = caches[layer - 1]",
        "cache_affine, cache_norm, cache_relu, cache_drop = caches[layer]",
        "IndexError: list index out of range", "takes caches[layer - 1]"),
}

# affine_forward that does not flatten: TwoLayerNet.loss raises inside coursework/layers.py
NO_FLATTEN = ("layers.py", "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b")


def _grade(tmp, edits, units, keys):
    return graded_with_edits(tmp, edits, units, keys, limits=LIMITS)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("raising"), [v[:3] for v in RAISING.values()],
                  ["02", "04", "05"], set(RAISING))


@pytest.fixture(scope="module")
def graded_no_flatten(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("no-flatten"), [NO_FLATTEN], ["02", "04"],
                  {"mlp.TwoLayerNet", "regularization.RegularizedNet"})


@pytest.mark.parametrize("key", sorted(RAISING))
def test_a_raising_mistake_in_a_model_or_update_gets_its_hint(graded, key):
    _, _, _, error, hint = RAISING[key]
    assert_error_with_hint(graded[key], error, hint)


@pytest.mark.parametrize("key", ["mlp.TwoLayerNet", "regularization.RegularizedNet"])
def test_an_error_raised_inside_another_graded_function_names_it(graded_no_flatten, key):
    entry = graded_no_flatten[key]
    assert entry["status"] == "error", entry
    assert "matmul" in entry["message"] and "coursework/layers.py" in entry["message"], entry
    assert entry["hint"] and "affine_forward (coursework/layers.py)" in entry["hint"], entry


# ---------------------------------------------------------------- in process


def _edited(key, *edits):
    from autograder.mistakes._edited import edited

    return edited(key, *edits)


def test_an_unrelated_error_of_the_same_type_gets_no_hint():
    # a ValueError of other words (a matmul of mismatched arrays), not the missing sum
    func = _edited("optim.clip_grad_norm",
                   ("math.sqrt(sum(float((g * g).sum()) for g in grads.values()))",
                    "math.sqrt(sum(float((g @ g).sum()) for g in grads.values()))"))
    fault = run_spec_test("optim.clip_grad_norm", mistaken_student("optim.clip_grad_norm", func))
    assert isinstance(fault, StudentError) and "matmul" in fault.message, fault
    assert fault.hint is None
    # a KeyError of another key in a model: a parameter 'W' no network has
    func = _edited("mlp.FullyConnectedNet",
                   ('scores, cache_last = affine_forward(h, self.params[f"W{num_layers}"],',
                    'scores, cache_last = affine_forward(h, self.params["W"],'))
    fault = run_spec_test("mlp.FullyConnectedNet",
                          mistaken_student("mlp.FullyConnectedNet", func))
    assert isinstance(fault, StudentError) and "KeyError" in fault.message, fault
    assert fault.hint is None


def _right_first_then(key, mistake, right_calls=1):
    """The reference for the first ``right_calls`` calls, then ``mistake``."""
    reference = getattr(Oracle().cw, key.split(".")[0]).__dict__[key.split(".")[1]]
    calls = []

    def func(*args, **kwargs):
        calls.append(1)
        return (reference if len(calls) <= right_calls else mistake)(*args, **kwargs)
    return func


def test_a_raising_mistake_the_earlier_calls_rule_out_gives_no_hint():
    key = "optim.clip_grad_norm"
    mistake = next(f for d, f in Oracle().known_mistakes(key) if RAISING[key][4] in d)
    # raising from the first call: the hint
    fault = run_spec_test(key, mistaken_student(key, mistake))
    assert isinstance(fault, StudentError) and RAISING[key][4] in (fault.hint or "")
    # right on the first case, where the mistake raises, then the same error: not that mistake
    fault = run_spec_test(key, mistaken_student(key, _right_first_then(key, mistake)))
    assert isinstance(fault, StudentError) and "broadcast" in fault.message, fault
    assert fault.hint is None


def test_fully_connected_nets_caches_one_too_far_gets_its_hint():
    # graded in process: the submission above gives FullyConnectedNet the W0 mistake
    func = _edited("mlp.FullyConnectedNet", ("cache_affine, cache_act = caches[layer - 1]",
                                             "cache_affine, cache_act = caches[layer]"))
    fault = run_spec_test("mlp.FullyConnectedNet", mistaken_student("mlp.FullyConnectedNet", func))
    assert isinstance(fault, StudentError) and "IndexError" in fault.message, fault
    assert "takes caches[layer - 1]" in (fault.hint or "")
