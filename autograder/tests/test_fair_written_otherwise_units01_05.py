"""Fair as well as strict (units 01-05): correct implementations written differently
from the reference get full marks. compare.py takes a list for a tuple everywhere; the checks
that read a result's parts themselves must do the same."""

import pytest

from autograder import engine

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("unusual-but-correct")

AS_LIST = '''

def _as_list(cls):
    loss = cls.loss

    def listed(self, X, y=None):
        out = loss(self, X, y)
        return out if y is None else list(out)      # [loss, grads]: a list, not a tuple

    cls.loss = listed
'''

BCE_AS_LIST = '''

def bce_loss(prob, target):
    xp = xp_of(prob)
    p = xp.clip(prob, BCE_EPS, 1 - BCE_EPS)
    inside = (prob >= BCE_EPS) & (prob <= 1 - BCE_EPS)  # the clip's derivative: 0 outside
    loss = -(target * xp.log(p) + (1 - target) * xp.log(1 - p)).mean()
    return [float(loss), inside * (p - target) / (p * (1 - p)) / prob.size]
'''


def test_a_loss_returning_a_list_gets_full_marks(tmp_path):
    """[loss, grads] from a network's loss and [loss, dprob] from bce_loss (with dprob 0 where
    clipping is active, which the docstring allows) are the pairs the docstrings ask for: the
    Trainer unpacks a list as well. Each scored 0, the networks told they "should
    return 7 values (loss, grads['W1'], ...)", bce_loss that its gradient at the clipped
    entries was wrong."""
    sub = make_submission(tmp_path, append={
        "mlp.py": AS_LIST + "_as_list(TwoLayerNet)\n_as_list(FullyConnectedNet)\n",
        "cnn.py": AS_LIST + "_as_list(ThreeLayerConvNet)\n_as_list(LeNet5)\n",
        "regularization.py": AS_LIST + "_as_list(RegularizedNet)\n",
        "losses.py": BCE_AS_LIST})
    keys = {"mlp.TwoLayerNet", "mlp.FullyConnectedNet", "cnn.ThreeLayerConvNet", "cnn.LeNet5",
            "regularization.RegularizedNet", "losses.bce_loss"}
    report = engine.grade(sub, ["02", "03", "04"], keys=keys)
    graded = {k: (e["status"], e["message"]) for u in report["units"].values()
              for k, e in u["functions"].items()}
    assert set(graded) == keys
    assert {k: v for k, v in graded.items() if v[0] != "passed"} == {}


AS_LISTS = {
    "conv.py": '''

_conv_forward, _conv_backward = conv_forward, conv_backward


def conv_forward(x, w, b, **kwargs):
    return list(_conv_forward(x, w, b, **kwargs))       # [out, cache]


def conv_backward(dout, cache):
    return list(_conv_backward(dout, cache))            # [dx, dw, db]
''',
    "optim.py": '''

_sgd_momentum, _clip_grad_norm = sgd_momentum, clip_grad_norm


def sgd_momentum(w, dw, config=None):
    return list(_sgd_momentum(w, dw, config))           # [next_w, next_config]


def clip_grad_norm(grads, max_norm):
    return list(_clip_grad_norm(grads, max_norm))       # [clipped, total_norm]
''',
}


def test_a_result_with_kept_parts_may_be_a_list(tmp_path):
    """Where the judge keeps parts of a result in the worker (a cache, a config, a large
    output), a list is read as the tuple the docstring asks for. ``conv_forward``'s
    [out, cache] ended in a WireError on the large layer (its 64 MB output was sent whole),
    sgd_momentum was told to return the pair it returned, clip_grad_norm that clipped, a
    dict, was not one."""
    sub = make_submission(tmp_path, append=AS_LISTS)
    keys = {"conv.conv_forward", "conv.conv_backward", "optim.sgd_momentum",
            "optim.clip_grad_norm"}
    report = engine.grade(sub, ["03", "05"], keys=keys)
    graded = {k: (e["status"], e["message"]) for u in report["units"].values()
              for k, e in u["functions"].items()}
    assert set(graded) == keys
    assert {k: v for k, v in graded.items() if v[0] != "passed"} == {}



def test_an_svm_that_counts_a_margin_of_exactly_0_gets_full_marks(tmp_path):
    """At a margin of exactly 0 the hinge has no slope, and the docstring accepts either choice
    there: ``if margin >= 0`` is as right as ``if margin > 0``. Its float32 case (scores of few
    binary digits, which can tie) used to have one such margin, and the naive SVM counting it
    scored 0 on that case."""
    from autograder.specs.linear import float32_case

    W, X, y, _ = float32_case().args
    scores = X @ W
    margins = scores - scores[range(len(y)), y][:, None] + 1
    margins[range(len(y)), y] = 1.0
    assert not (margins == 0).any()  # the case itself no longer ties
    sub = make_submission(tmp_path, replace={"linear.py": [
        ("            if margin > 0:", "            if margin >= 0:")]})
    report = engine.grade(sub, ["01"], keys={"linear.svm_loss_naive"})
    entry = report["units"]["01_linear"]["functions"]["linear.svm_loss_naive"]
    assert (entry["status"], entry["score"]) == ("passed", 2), entry
