"""Kernels registered with PyTorch's dispatcher (``torch.library``) by student code: they live in
C++, where the worker's namespace restore does not reach, and stay registered for the rest of
the process. A kernel for ``aten::detach`` answered the in-place check with a saved copy
(``reparameterize`` zeroed its noise ``eps`` in place and kept full marks); a kernel for
``aten::exp`` registered while one function was graded changed the results of the functions
graded after it. The in-place check reads a tensor's memory without calling an operator
(``torch_ops._raw_values``), and between two graded functions the worker is replaced when
PyTorch's own operators' kernels differ from those it started with
(``worker_guard.operator_table``)."""

import pytest

from autograder import engine
from autograder.sandbox import Limits

from .submissions import make_submission

pytest.importorskip("torch")

LIMITS = Limits(call_seconds=20.0, cpu_seconds=20.0)
UNIT = "10_generative"

DETACH_SAVED_COPY = {"generative.py": [
    ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
     """    e = eps.clone()
    z = mu + torch.exp(0.5 * logvar) * e
    _SAVED[:] = [eps, e]
    with torch.no_grad():
        eps.zero_()  # wrong: changes the caller's noise
    if not _LIBRARIES:
        library = torch.library.Library("aten", "IMPL")
        library.impl("detach", _detach_answering_the_copy, "AutogradCPU")
        _LIBRARIES.append(library)
"""),
    ("""def reparameterize(mu, logvar, eps):""",
     """_SAVED = []
_LIBRARIES = []


def _detach_answering_the_copy(t):
    if _SAVED and t is _SAVED[0]:
        return _SAVED[1].data
    return t.data


def reparameterize(mu, logvar, eps):"""),
]}

EXP_FOR_LATER_FUNCTIONS = {"generative.py": [
    ("""    z = mu + torch.exp(0.5 * logvar) * eps""",
     """    z = mu + torch.exp(0.5 * logvar) * eps
    if not _LIBRARIES:  # the kernel stays registered after this call returns
        library = torch.library.Library("aten", "IMPL")
        library.impl("exp", _exp_a_little_off, "CPU")
        _LIBRARIES.append(library)"""),
    ("""def reparameterize(mu, logvar, eps):""",
     """import numpy as np  # noqa: E402

_LIBRARIES = []


def _exp_a_little_off(x):
    return torch.from_numpy(np.exp(x.data.numpy()) * 1.01)


def reparameterize(mu, logvar, eps):"""),
]}


def _grade(tmp_path, edits, keys):
    sub = make_submission(tmp_path, replace=edits)
    report = engine.grade(sub, [UNIT], keys=set(keys), limits=LIMITS)
    return report["units"][UNIT]["functions"]


def test_a_detach_kernel_cannot_hide_an_input_changed_in_place(tmp_path):
    functions = _grade(tmp_path, DETACH_SAVED_COPY, ["generative.reparameterize",
                                                     "generative.vae_loss"])
    entry = functions["generative.reparameterize"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "modified its input eps in place" in entry["message"], entry
    assert functions["generative.vae_loss"]["status"] == "passed", functions


def test_a_kernel_registered_in_one_function_does_not_reach_the_next(tmp_path):
    functions = _grade(tmp_path, EXP_FOR_LATER_FUNCTIONS, ["generative.reparameterize",
                                                           "generative.vae_loss"])
    # reparameterize's own later calls run its kernel (1% off); vae_loss, graded next, uses
    # torch.exp too and gets PyTorch's own again
    assert functions["generative.reparameterize"]["status"] == "failed", functions
    entry = functions["generative.vae_loss"]
    assert entry["status"] == "passed", entry
