"""Raised-error hints of the update rules (unit 05) and the PyTorch units 06 and 10.

An update rule's call (``specs/optim.check_rule``: the run's first k + 1 steps through the
recipe ``trajectory``), a module's forward (``specs/architectures.check_module``), a unit-10
function (``specs/generative.check_function``) and ``gan_step`` are called inside
``Trial.explaining_errors``: a call raising the error of a known mistake that raises
(``mistakes/_edited.py``) gets its hint. The slips below are written as a student would write
them, not always as the registered mistake is: the same error on the same inputs is enough.
"""

import pytest

from autograder.runner import StudentError
from autograder.sandbox import Limits
from autograder.testing import mistaken_student, run_spec_test

from .submissions import assert_error_with_hint, graded_with_edits

pytestmark = pytest.mark.xdist_group("mistakes-that-raise-in-update-rules-and-torch")

LIMITS = Limits(call_seconds=60.0, cpu_seconds=60.0)

# key -> (module file, old, new, words of the error, words of the expected hint)
RAISING = {
    "optim.sgd_momentum": (
        "optim.py", '    if "velocity" in config:\n'
        '        v = config["momentum"] * config["velocity"] + g  # a new array: the old one is '
        'kept\n    else:\n'
        '        v = g  # first step: momentum * 0 + g (g is a new array, never dw itself)\n',
        '    v = config.get("momentum") * config["velocity"] + g\n',
        "KeyError: 'velocity'", "holds no velocity yet"),
    "optim.adagrad": (
        "optim.py", 'r = config["sum_sq"] + g * g if "sum_sq" in config else g * g',
        'r = config["sum_sq"] + g ** 2', "KeyError: 'sum_sq'", "on the first step the sum"),
    "optim.rmsprop": (
        "optim.py", '    r = (1 - decay) * g * g\n    if "sq_avg" in config:\n'
        '        r = decay * config["sq_avg"] + r\n',
        '    r = decay * config["sq_avg"] + (1 - decay) * g ** 2\n',
        "KeyError: 'sq_avg'", "running average ('sq_avg')"),
    "optim.adam": (
        "optim.py", 't = config.get("t", 0) + 1', 't = 1 + config["t"]',
        "KeyError: 't'", "step counter ('t')"),
    "architectures.DenseBlock": (
        "architectures.py", "x = torch.cat([x, unit(x)], dim=1)", "x = torch.cat((x, unit(x)))",
        "Sizes of tensors must match except in dimension 0", "along the channel dimension"),
    "architectures.SEBlock": (
        "architectures.py", "out = x * self.gates(x)[:, :, None, None]",
        "out = self.gates(x) * x", "must match the size of tensor b",
        "two trailing dimensions of size 1"),
    "architectures.ResNet": (
        "architectures.py", "scores = self.fc(torch.flatten(out, 1))", "scores = self.fc(out)",
        "mat1 and mat2 shapes cannot be multiplied", "flatten them to (N, C)"),
    "generative.discriminator_loss": (
        "generative.py", "bce = F.binary_cross_entropy_with_logits  # stable",
        "bce = nn.functional.binary_cross_entropy  # stable",
        "all elements of input should be between 0 and 1", "takes probabilities in [0, 1]"),
    "generative.vae_loss": (
        "generative.py", 'F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n',
        'F.binary_cross_entropy(logits, x, reduction="sum") / n',
        "all elements of input should be between 0 and 1", "the decoder's outputs are logits"),
    "generative.gan_step": (
        "generative.py", "z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)",
        "z = sample_noise(n, noise_dim, generator=generator)",
        "must have the same dtype", "convert the noise to the dtype of real"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_with_edits(tmp_path_factory.mktemp("raising"), RAISING.values(),
                             ["05", "06", "10"], RAISING, limits=LIMITS)


@pytest.mark.parametrize("key", sorted(RAISING))
def test_a_raising_slip_gets_the_hint_of_its_mistake(graded, key):
    _, _, _, error, hint = RAISING[key]
    assert_error_with_hint(graded[key], error, hint)


# ---------------------------------------------------------------- in process


def _fault(key, *edits):
    from autograder.mistakes._edited import edited

    fault = run_spec_test(key, mistaken_student(key, edited(key, *edits)))
    assert isinstance(fault, StudentError), fault
    return fault


@pytest.mark.parametrize("key,edit,error", [
    # a KeyError of another key: the student's own name for the state, not the reference's
    ("optim.sgd_momentum", ('v = config["momentum"] * config["velocity"] + g  # a new',
                            'v = config["momentum"] * config["v"] + g  # a new'), "KeyError: 'v'"),
    # a KeyError raised at the second step (a state stored under one name, read under another):
    # the first step returned, and no known mistake raises there
    ("optim.adam", ('m = beta1 * config["m"] + m', 'm = beta1 * config["m1"] + m'),
     "KeyError: 'm1'"),
    # a concatenation along another wrong dimension: other words and sizes
    ("architectures.DenseBlock", ("x = torch.cat([x, unit(x)], dim=1)",
                                  "x = torch.cat([x, unit(x)], dim=3)"), "Sizes of tensors"),
])
def test_an_error_no_mistake_explains_gets_no_hint(key, edit, error):
    fault = _fault(key, edit)
    assert error in fault.message, fault.message
    assert fault.hint is None, (fault.message, fault.hint)


def test_a_state_read_on_the_first_step_is_named_written_otherwise():
    # the registered mistakes of nesterov and adam (its moments), as the student would write them
    fault = _fault("optim.nesterov", ('    if "velocity" in config:\n'
                                      '        v = config["momentum"] * config["velocity"] + g\n'
                                      '    else:\n        v = g\n    next_w = w - config',
                                      '    v = config["momentum"] * config["velocity"] + g\n'
                                      '    next_w = w - config'))
    assert "KeyError: 'velocity'" in fault.message and "holds no velocity yet" in fault.hint
    fault = _fault("optim.adam", ('    if "m" in config:\n        m = beta1 * config["m"] + m\n'
                                  '        v = beta2 * config["v"] + v\n',
                                  '    m, v = beta1 * config["m"] + m, beta2 * config["v"] + v\n'))
    assert "KeyError: 'm'" in fault.message and "moments ('m' and 'v')" in fault.hint
