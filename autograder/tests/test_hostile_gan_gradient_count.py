"""gan_step's check that the discriminator's loss sends no gradient into G (the fakes detached)
counted the gradients reaching G's parameters with tensor hooks, which live in each parameter's
``_backward_hooks``: a gan_step that forgot ``detach()`` and emptied those dicts (or reached the
grader's counter through the stack) kept full marks. The hooks now sit on the nodes that
accumulate G's gradients (kept in C++, held by a tuple) and count on a counter that can only
grow (``torch_ops.gan_step``)."""

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
