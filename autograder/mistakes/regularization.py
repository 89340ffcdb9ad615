"""Known mistakes of unit 04, ``regularization``: wrong variants with the signature of the function
(or class) they imitate. The dropout variants draw from the rng they are given; dropout's hints
are decided by the spec from the student's outputs, so their descriptions are the spec's. The
reference dropout cache is ``mask / (1 - p)`` (training mode) or None (test mode).

Each is recognised by the tests (tests/test_hints.py).
"""

import numpy as np

from ..specs import regularization as spec

# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def _dropout(x, *, p, train=True, rng, scale="divide", keep_prob=None, shared=False,
             test="identity", global_rng=False):
    if not train:
        if test == "scaled":
            return x * (1 - p), None
        if test == "dropped":
            return x * (rng.random(x.shape) >= p) / (1 - p), None
        return x.copy(), None
    keep = 1 - p if keep_prob is None else keep_prob
    source = np.random.default_rng() if global_rng else rng
    shape = x.shape[1:] if shared else x.shape
    mask = source.random(shape) < keep
    factor = {"divide": 1 / (1 - p), "none": 1.0, "multiply": 1 - p, "by_p": 1 / p}[scale]
    return x * mask * factor, mask * (1 / (1 - p))


def dropout_forward_mistakes():
    return [
        (spec.NOT_SCALED, lambda x, **k: _dropout(x, **k, scale="none")),
        (spec.MULTIPLIED, lambda x, **k: _dropout(x, **k, scale="multiply")),
        (spec.P_IS_KEEP, lambda x, **k: _dropout(x, **k, keep_prob=k["p"])),
        (spec.SCALED_BY_P, lambda x, **k: _dropout(x, **k, scale="by_p")),
        (spec.SHARED_MASK, lambda x, **k: _dropout(x, **k, shared=True)),
        (spec.GLOBAL_RNG, lambda x, **k: _dropout(x, **k, global_rng=True)),
        (spec.TEST_SCALED, lambda x, **k: _dropout(x, **k, test="scaled")),
        (spec.TEST_DROPPED, lambda x, **k: _dropout(x, **k, test="dropped")),
    ]


def _p_of(scaled_mask):
    return 1 - 1 / scaled_mask.max()


def _dropout_backward(dout, cache, how):
    if cache is None:
        return dout.copy()
    kept = (cache != 0).astype(dout.dtype)
    p = _p_of(cache)
    return {"not_scaled": lambda: dout * kept, "no_mask": lambda: dout / (1 - p),
            "no_dout": lambda: cache.copy(), "multiply": lambda: dout * kept * (1 - p)}[how]()


def dropout_backward_mistakes():
    return [
        (spec.BACKWARD_NOT_SCALED, lambda d, c: _dropout_backward(d, c, "not_scaled")),
        (spec.BACKWARD_NO_MASK, lambda d, c: _dropout_backward(d, c, "no_mask")),
        (spec.BACKWARD_NO_DOUT, lambda d, c: _dropout_backward(d, c, "no_dout")),
        (spec.MULTIPLIED, lambda d, c: _dropout_backward(d, c, "multiply")),
    ]


# ---------------------------------------------------------------------------------------------
# Penalties
# ---------------------------------------------------------------------------------------------

def _l2(weights, reg, *, half=True, grad_factor=1.0):
    penalty = (0.5 if half else 1.0) * reg * sum(float((w * w).sum()) for w in weights)
    return penalty, [grad_factor * w for w in weights]


def l2_penalty_mistakes():
    return [
        ("the gradient of 0.5 * reg * w**2 is reg * w: the 0.5 cancels the 2 of the square",
         lambda w, r: _l2(w, r, grad_factor=2 * r)),
        ("the penalty is 0.5 * reg * sum(w**2): the 0.5 is missing (and its gradient is reg * w)",
         lambda w, r: _l2(w, r, half=False, grad_factor=2 * r)),
        ("the gradient of the penalty is reg * w: multiply by reg",
         lambda w, r: _l2(w, r, grad_factor=1.0)),
    ]


def _l1(weights, reg, *, absolute=True, grad="sign", half=False):
    total = sum(float((np.abs(w) if absolute else w).sum()) for w in weights)
    penalty = (0.5 if half else 1.0) * reg * total
    grads = {"sign": [reg * np.sign(w) for w in weights], "l2": [reg * w for w in weights],
             "no_reg": [np.sign(w) for w in weights],
             "abs": [reg * np.abs(w) for w in weights],
             "zero_positive": [reg * np.where(w >= 0, 1.0, -1.0) for w in weights],
             "zero_negative": [reg * np.where(w > 0, 1.0, -1.0) for w in weights]}[grad]
    return penalty, grads


def l1_penalty_mistakes():
    return [
        ("the gradient of reg * |w| is reg * sign(w), a constant force; reg * w is L2's",
         lambda w, r: _l1(w, r, grad="l2")),
        ("the L1 penalty sums the absolute values: reg * sum(|w|)",
         lambda w, r: _l1(w, r, absolute=False)),
        ("the gradient of reg * |w| is reg * sign(w): multiply by reg",
         lambda w, r: _l1(w, r, grad="no_reg")),
        ("the gradient of reg * |w| is reg * sign(w), +reg for a positive weight and -reg for a "
         "negative one, not reg * |w| (the penalty itself)",
         lambda w, r: _l1(w, r, grad="abs")),
        ("the L1 penalty is reg * sum(|w|), without L2's 0.5",
         lambda w, r: _l1(w, r, half=True)),
        ("at a weight that is exactly 0 the gradient is 0 (np.sign(0) is 0), not +reg or -reg",
         lambda w, r: _l1(w, r, grad="zero_positive")),
        ("at a weight that is exactly 0 the gradient is 0 (np.sign(0) is 0), not +reg or -reg",
         lambda w, r: _l1(w, r, grad="zero_negative")),
    ]


# ---------------------------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------------------------

def _early_stopping(**wrong):
    class WrongEarlyStopping:
        def __init__(self, *, patience, min_delta=0.0, mode="max"):
            self.patience, self.min_delta, self.mode = patience, min_delta, mode
            self.best = self.best_step = None
            self.should_stop = False
            self.steps = self.waited = 0

        def step(self, value):
            mode = "max" if wrong.get("ignore_mode") else self.mode
            delta = 0.0 if wrong.get("ignore_min_delta") else self.min_delta
            sign = 1 if mode == "max" else -1
            if self.best is None and wrong.get("from_zero"):  # best started at 0 (or +-0)
                improved = sign * value > delta
            elif self.best is None:
                improved = True
            elif wrong.get("ties"):
                improved = sign * (value - self.best) >= delta
            else:
                improved = sign * (value - self.best) > delta
            if improved:
                self.best, self.best_step = value, self.steps + wrong.get("step_offset", 0)
                if not wrong.get("no_reset"):
                    self.waited = 0
            else:
                self.waited += 1
                if wrong.get("best_any") and sign * (value - self.best) > 0:
                    self.best, self.best_step = value, self.steps
            self.steps += 1
            limit = self.patience + 1 if wrong.get("late") else self.patience
            stop = self.waited >= limit
            self.should_stop = stop if wrong.get("not_sticky") else (self.should_stop or stop)
            return self.should_stop

    return WrongEarlyStopping


def early_stopping_mistakes():
    return [
        ("a value equal to the best is not an improvement: it must be better by more than "
         "min_delta (> , not >=)", _early_stopping(ties=True)),
        ("reset the count of steps without improvement whenever the value improves",
         _early_stopping(no_reset=True)),
        ("stop at the step where patience consecutive steps have not improved: with patience=2 "
         "the second step without improvement returns True", _early_stopping(late=True)),
        ("an improvement must beat the best by more than min_delta",
         _early_stopping(ignore_min_delta=True)),
        ("with mode='min' smaller values are better (a loss)", _early_stopping(ignore_mode=True)),
        ("once step has returned True it returns True ever after, even if a later value improves",
         _early_stopping(not_sticky=True)),
        ("best changes only on an improvement of more than min_delta; a smaller gain is not a new "
         "best", _early_stopping(best_any=True)),
        ("best_step is the 0-based index of the step: the first value is step 0",
         _early_stopping(step_offset=1)),
        ("the first value always counts as an improvement, whatever it is (a negative score "
         "too): start with best = None and take the first value as the best, not a best of 0",
         _early_stopping(from_zero=True)),
    ]


# ---------------------------------------------------------------------------------------------
# RegularizedNet: the reference network with one thing done wrong
# ---------------------------------------------------------------------------------------------

def _net(how):
    from ..oracle import load_reference

    base = load_reference().regularization.RegularizedNet

    class WrongNet(base):
        def loss(self, X, y=None):
            if how == "batch_stats" and y is None and self.normalization == "batchnorm":
                return self._scores_with_batch_statistics(X)
            saved = {k: v.copy() for k, v in self.running_stats.items()}
            result = super().loss(X, y)
            if y is None:
                return result
            loss, grads = result
            if how == "frozen_stats":
                self.running_stats = saved
            for key, value in self.params.items():
                if how == "all_params" and not key.startswith("W"):
                    loss += 0.5 * self.reg * float((value * value).sum())
                    grads[key] = grads[key] + self.reg * value
                if how == "no_half" and key.startswith("W"):
                    loss += 0.5 * self.reg * float((value * value).sum())
                    grads[key] = grads[key] + self.reg * value
            return loss, grads

        def _scores_with_batch_statistics(self, X):
            """loss(X) with batch norm in training mode (the running statistics unused)."""
            module = load_reference().regularization
            h = X.astype(self.dtype, copy=False)
            for layer in range(1, self.num_layers):
                a, _ = module.affine_forward(h, self.params[f"W{layer}"],
                                             self.params[f"b{layer}"])
                state = {"running_mean": self.running_stats[f"running_mean{layer}"],
                         "running_var": self.running_stats[f"running_var{layer}"]}
                a, _, _ = module.batchnorm_forward(a, self.params[f"gamma{layer}"],
                                                   self.params[f"beta{layer}"], state, train=True,
                                                   momentum=module.BN_MOMENTUM,
                                                   eps=module.NORM_EPS)
                h, _ = module.relu_forward(a)
            scores, _ = module.affine_forward(h, self.params[f"W{self.num_layers}"],
                                              self.params[f"b{self.num_layers}"])
            return scores

    return WrongNet


def regularized_net_mistakes():
    from ._edited import edited

    return [
        ("the L2 penalty covers the weights of every layer, the output layer's W included: "
         "loop over layers 1 to num_layers (range(1, num_layers + 1))",
         edited("regularization.RegularizedNet",
                ("for layer in range(1, num_layers + 1):\n            W = self.params",
                 "for layer in range(1, num_layers):\n            W = self.params"))),
        ("the L2 penalty is on the weights W only, never on the biases, gamma or beta",
         _net("all_params")),
        ("your L2 penalty is reg * sum(W**2) with gradient 2 * reg * W: the docstring's is "
         "half of each, 0.5 * reg * sum(W**2) adding reg * W to the gradient of W",
         _net("no_half")),
        ("loss(X, y) is training mode: batch norm returns updated running statistics, and the "
         "model must keep them (self.running_stats[...] = new_state[...])",
         _net("frozen_stats")),
        ("loss(X) is test mode: batch norm normalizes with the running statistics "
         "(train=False), not with the statistics of the batch, so that each example's scores do "
         "not depend on the rest of the batch", _net("batch_stats")),
    ]


MISTAKES = {
    "regularization.dropout_forward": dropout_forward_mistakes(),
    "regularization.dropout_backward": dropout_backward_mistakes(),
    "regularization.l2_penalty": l2_penalty_mistakes(),
    "regularization.l1_penalty": l1_penalty_mistakes(),
    "regularization.EarlyStopping": early_stopping_mistakes(),
    "regularization.RegularizedNet": regularized_net_mistakes(),
}


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``): their error gives the hint."""
    from ._edited import edited
    from .mlp import CACHES_ONE_TOO_FAR

    return {"regularization.RegularizedNet": [
        (CACHES_ONE_TOO_FAR,
         edited("regularization.RegularizedNet",
                ("cache_affine, cache_norm, cache_relu, cache_drop = caches[layer - 1]",
                 "cache_affine, cache_norm, cache_relu, cache_drop = caches[layer]"))),
    ]}


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
