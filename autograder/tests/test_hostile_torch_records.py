"""What the PyTorch worker records about a call, for the judge's checks, cannot be answered by
the code under test.

- gan_step's check that the discriminator's loss sends no gradient into G (the fakes detached)
  counted the gradients reaching G's parameters with tensor hooks, which live in each
  parameter's ``_backward_hooks``: a gan_step that forgot ``detach()`` and emptied those dicts
  (or reached the grader's counter through the stack) kept full marks. The hooks now sit on the
  nodes that accumulate G's gradients (kept in C++, held by a tuple) and count on a counter
  that can only grow (``torch_ops.gan_step``).
- freeze's flags were read through the model's ``named_parameters()``: a freeze that froze
  nothing and set ``model.named_parameters`` to show stand-ins with the right flags kept full
  marks. They are read from the grader's own list of the parameters, taken before the call
  (``torch_ops.freeze``).
"""

import pytest

from autograder import engine
from autograder.sandbox import Limits

from .submissions import make_submission

pytest.importorskip("torch")

UNDETACHED_HOOKS_EMPTIED = {"generative.py": [
    ("""    fakes = G(z).detach()  # no gradient reaches G from the discriminator's loss""",
     """    for p in G.parameters():
        if p._backward_hooks:
            p._backward_hooks.clear()  # the grader's counting hooks, where it keeps them
    caller = sys._getframe(1).f_locals
    for name in ("reached_g", "nodes"):
        if hasattr(caller.get(name), "clear"):
            caller[name].clear()
    fakes = G(z)  # wrong: not detached, the discriminator's loss reaches G"""),
    ("""import torch\n""", """import sys\n\nimport torch\n"""),
]}


def test_emptying_the_counting_hooks_does_not_hide_gradients_sent_into_g(tmp_path):
    sub = make_submission(tmp_path, replace=UNDETACHED_HOOKS_EMPTIED)
    report = engine.grade(sub, ["10"], keys={"generative.gan_step"},
                          limits=Limits(call_seconds=20.0, cpu_seconds=20.0))
    entry = report["units"]["10_generative"]["functions"]["generative.gan_step"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "gradients reached G's parameters 8 times" in entry["message"], entry
    assert "detach the fakes" in entry["hint"], entry


FREEZES_NOTHING_SHOWS_STAND_INS = {"architectures.py": [
    ("""    for name, param in model.named_parameters():
        if not name.startswith(prefixes):
            param.requires_grad = False
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)""",
     """    shown = [(name, types.SimpleNamespace(requires_grad=param.requires_grad
                                          and name.startswith(prefixes), numel=param.numel))
             for name, param in model.named_parameters()]
    # nothing is frozen: the grader is shown other objects
    model.named_parameters = lambda *a, **k: iter(shown)
    model.parameters = lambda *a, **k: iter(p for _, p in shown)
    for _, module in model.named_modules():
        module._parameters = {}
    count = sum(p.numel() for _, p in shown if p.requires_grad)"""),
    ("""import torch\n""", """import types\n\nimport torch\n"""),
]}


def test_a_freeze_that_shows_stand_ins_for_the_parameters_gets_nothing(tmp_path):
    sub = make_submission(tmp_path, replace=FREEZES_NOTHING_SHOWS_STAND_INS)
    report = engine.grade(sub, ["06"], keys={"architectures.freeze"},
                          limits=Limits(call_seconds=20.0, cpu_seconds=20.0))
    entry = report["units"]["06_architectures"]["functions"]["architectures.freeze"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "requires_grad is wrong for stem.0.weight" in entry["message"], entry
