"""Checks shared by the specs of models (``mlp``, ``cnn``): parameters, initialisation, use of
the rng, and the ``loss(X, y=None)`` contract compared with the reference holding the same params;
for the PyTorch modules (``segnets``, ``detectors``, ``generative``), the two-call check of what
a module keeps between calls (``check_two_calls``).
"""

import math

import numpy as np

from ..compare import Failed, as_array, describe
from ..torch_handles import StudentModule
from ..wire import Seed
from .architectures import KEPT_STATE_HINT


def copy_params(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def params_of(t, target, model, shapes, label, dtype=np.float64):
    params = t.student.getattr(model, "params")
    name = target.split(".", 1)[1]
    if not isinstance(params, dict):
        raise Failed(f"{name}({label}): params should be a dict of arrays, got "
                     f"{describe(params)}")
    missing = sorted(set(shapes) - set(params))
    if missing:
        raise Failed(f"{name}({label}): params lacks the keys {missing} (expected "
                     f"{sorted(shapes)})")
    try:
        return {k: as_array(f"params[{k!r}]", params[k], np.zeros(shape, dtype=dtype))
                for k, shape in shapes.items()}
    except Failed as failure:  # name the constructor's arguments, like every other verdict
        raise Failed(f"{name}({label}): {failure.message}", failure.hint, kind=failure.kind,
                     error=failure.error) from None


def check_init(t, target, model, shapes, weight_scale, label, dtype=np.float64):
    """Shapes, dtype, zero biases and weight statistics (weight_scale None: He per layer)."""
    name = target.split(".", 1)[1]
    params = params_of(t, target, model, shapes, label, dtype)
    extra = sorted(map(str, set(t.student.getattr(model, "params")) - set(shapes)))
    if extra:  # an optimizer steps every entry of params: one without a gradient breaks training
        raise Failed(f"{name}({label}): params holds {extra}, which the docstring does not list "
                     f"(expected exactly {sorted(shapes)})",
                     hint="params holds the learnable arrays only, one per gradient that loss() "
                          "returns; check the range of the loop that creates the layers")
    for key, value in params.items():
        if value.dtype != dtype:
            raise Failed(f"{name}({label}): params[{key!r}] has dtype {value.dtype}, expected "
                         f"{np.dtype(dtype)}",
                         hint="make every parameter in the model's dtype, biases too: "
                              "np.zeros(n, dtype=dtype); np.zeros and np.ones give float64 "
                              "whatever dtype was asked for")
        if key.startswith("b"):
            if np.any(value != 0):
                raise Failed(f"{name}({label}): the bias {key} should start at zero")
            continue
        if weight_scale == 0:
            check_zero_weights(name, label, key, value)
            continue
        fan_in = math.prod(value.shape[1:]) if value.ndim == 4 else value.shape[0]
        scale = math.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
        what = f"He's sqrt(2 / fan_in) = {scale:.4g}" if weight_scale is None else f"{scale:g}"
        n = value.size
        std, mean = float(value.astype(np.float64).std()), float(value.mean())
        # the sampling error of the std of n normals is about std / sqrt(2n); allow 6 of those
        if abs(std / scale - 1) > 6 / math.sqrt(2 * n) + 0.01:
            raise Failed(f"{name}({label}): {key} has standard deviation {std:.4g}; it should "
                         f"be about {what}",
                         hint=("multiply rng.standard_normal(shape) by the layer's scale; "
                               "with weight_scale=None the scale is sqrt(2 / fan_in), fan_in = "
                               "C*HH*WW for a convolution and D for an affine layer")
                         if weight_scale is None else
                         f"draw every weight array ({key} too) as weight_scale * "
                         "rng.standard_normal(shape)")
        if abs(mean) > 6 * scale / math.sqrt(n):
            raise Failed(f"{name}({label}): {key} has mean {mean:.4g}; weights drawn from a "
                         "normal distribution centred at 0 have a mean close to 0",
                         hint="use rng.standard_normal, not rng.random (uniform on [0, 1))")


def check_zero_weights(name, label, key, value):
    """weight_scale=0.0 asks for all-zero weights (a network that cannot break symmetry)."""
    if np.any(value != 0):
        raise Failed(f"{name}({label}): {key} should be all zeros for weight_scale=0.0, but "
                     f"its values reach {float(np.abs(value).max()):.4g}: was it drawn with "
                     "He's scale?",
                     hint="weight_scale=0.0 is a scale like any other: test `weight_scale is "
                          "None`, not its truth value (`weight_scale or ...` treats 0.0 as "
                          "None)")


def check_uses_rng(t, target, args, kwargs, shapes, label):
    """The same seed gives the same weights; another seed gives other weights."""
    name = target.split(".", 1)[1]

    def build(seed):
        return params_of(t, target, t.student.new(target, *args, rng=Seed(seed), **kwargs),
                          shapes, label)

    first, again, other = build(5), build(5), build(6)
    if any(not np.array_equal(first[k], again[k]) for k in shapes):
        raise Failed(f"{name}({label}): two networks built with the same rng seed have different "
                     "weights", hint="draw every random number from the rng argument")
    if all(np.array_equal(first[k], other[k]) for k in shapes if k.startswith("W")):
        raise Failed(f"{name}({label}): networks built with different rng seeds have the same "
                     "weights", hint="draw the weights from the rng argument")
    check_drawn_in_order(t, target, args, kwargs, first, label)


def reference_weights(cw, target, args, kwargs, seed):
    """The reference model's initial params for ``rng = default_rng(seed)``."""
    module, cls = target.split(".", 1)
    model = getattr(getattr(cw, module), cls)(*args, rng=np.random.default_rng(seed), **kwargs)
    return {k: np.asarray(v) for k, v in model.params.items()}


DRAW_ORDER_HINT = ("draw each weight array as scale * rng.standard_normal(shape), in its own "
                   "shape, one after the other in the order the docstring lists them, and "
                   "nothing else from rng in between (rng.normal(0.0, scale, shape) gives the "
                   "same numbers)")


def check_drawn_in_order(t, target, args, kwargs, got, label):
    """The docstrings fix the draw of the initial weights (``scale * rng.standard_normal(shape)``,
    layer by layer in order), so the weights of a network built with ``default_rng(5)`` are
    those numbers (design.md: randomness is checked against one random stream only where the
    docstring fixes the draw). Statistics alone pass weights drawn in another order, in a
    transposed shape, or after other draws."""
    name = target.split(".", 1)[1]
    expected = t.ref.run(reference_weights, target, args, kwargs, 5)
    for key, want in expected.items():  # the reference's order: the docstring's order
        if key not in got or not np.any(want):
            continue  # biases (zeros; checked by check_init), params checked elsewhere
        value = np.asarray(got[key], dtype=np.float64)
        if value.shape == want.shape and np.allclose(value, want, rtol=1e-6, atol=0):
            continue
        raise Failed(f"{name}({label}): with rng = np.random.default_rng(5), {key} is not "
                     "the draw the docstring fixes: the weights are scale * "
                     "rng.standard_normal(shape), drawn layer by layer in the docstring's "
                     "order", hint=DRAW_ORDER_HINT)


def as_pair(value):
    """A ``loss(X, y)`` answer as the judge reads it: a list [loss, grads] is the pair (loss,
    grads) too (the Trainer unpacks either, and compare.py takes a list for a tuple everywhere
    else); anything else as it is, for the verdicts to describe."""
    return tuple(value) if isinstance(value, list) and len(value) == 2 else value


def check_loss(t, target, model, recipe, args, X, y, label):
    """Compare scores and then (loss, grads) with the reference holding the same params."""
    t._label("loss(X), " + label)  # an error raised in a call names that call
    with t.explaining_errors(target, recipe, *args, X):
        scores, modified = t.student.method_full(model, "loss", X)
    t.no_input_modified(target, modified, ("X",), label)
    expected = t.ref.run(recipe, *args, X)
    t.compare(target, scores, expected, names=("scores",), label=f"loss(X), {label}",
              mistakes=lambda: t.ref.mistakes(target, recipe, *args, X))
    t._label("loss(X, y), " + label)
    with t.explaining_errors(target, recipe, *args, X, y):
        got, modified = t.student.method_full(model, "loss", X, y)
    got = as_pair(got)
    t.no_input_modified(target, modified, ("X", "y"), label)
    expected = t.ref.run(recipe, *args, X, y)
    keys = sorted(expected[1])
    where = f"{target.split('.', 1)[1]}(loss(X, y), {label}): "
    if isinstance(got, tuple) and len(got) == 2 and not isinstance(got[1], dict):
        raise Failed(f"{where}grads should be a dict with the keys {keys}, got {describe(got[1])}")
    if isinstance(got, tuple) and len(got) == 2 and set(keys) - set(got[1]):
        raise Failed(f"{where}grads lacks the keys {sorted(set(keys) - set(got[1]))}",
                     hint="return a gradient for every parameter, keyed like params")
    if isinstance(got, tuple) and len(got) == 2:
        check_no_extra_grads(where, got[1], keys)
    # (loss, grads) as (loss, grads['W1'], grads['b1'], ...): the verdict names the parameter,
    # and known mistakes are compared entry by entry.
    t.compare(target, _flat(got, keys), _flat(expected, keys),
              names=("loss", *(f"grads[{k!r}]" for k in keys)), label=f"loss(X, y), {label}",
              mistakes=lambda: [(d, _flat(v, keys)) for d, v in t.ref.mistakes(
                  target, recipe, *args, X, y)], float64_loss=True)  # float64 params and X
    # The same model on a second batch of other values: a model that keeps something of an
    # earlier call (caches stored on self, a list appended to on every call) is right on the
    # first batch only.
    X2, y2 = second_batch(X, y)
    t._label("loss(X, y) on a second batch, " + label)
    got, _ = t.student.method_full(model, "loss", X2, y2)
    got = as_pair(got)
    expected = t.ref.run(recipe, *args, X2, y2)
    try:
        t.compare(target, _flat(got, keys), _flat(expected, keys),
                  names=("loss", *(f"grads[{k!r}]" for k in keys)),
                  label=f"loss(X, y) on a second batch of other values, {label}",
                  float64_loss=True)
    except Failed as failure:
        if failure.float32_sized():
            raise  # float32 rounding, not a stale value: its verdict says so
        raise Failed(failure.message, hint=failure.hint or STALE_HINT, kind=failure.kind,
                     error=failure.error) from None


STALE_HINT = ("the same model was right on the first batch: something is kept from an earlier "
              "call (caches stored on self, a list appended to on every call, a value computed "
              "once); each call of loss must work from its own X and the current params only")


def second_batch(X, y):
    """Other values of X's shape and dtype (a fixed draw scaled like X) and y rolled by one."""
    rng = np.random.default_rng(2024)
    scale = float(np.abs(X).mean()) or 1.0
    X2 = (rng.standard_normal(X.shape) * scale).astype(X.dtype)
    return X2, np.roll(y, 1)


def _flat(value, keys):
    """(loss, grads) -> (loss, grads[k] for k in keys); anything else as it is."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and all(
            k in value[1] for k in keys):
        return (value[0], *(value[1][k] for k in keys))
    return value


def check_no_extra_grads(where, grads, keys):
    """grads holds exactly the keys of params (the docstrings: "the keys ... of params"): the
    trainer steps params[k] for every k of grads, so an extra key fails there."""
    extra = sorted(set(grads) - set(keys), key=str)
    if extra:
        raise Failed(f"{where}grads holds {extra}, which params does not (expected exactly "
                     f"{sorted(keys)})",
                     hint="return one gradient per parameter, keyed like params and nothing "
                          "else: the trainer updates params[k] for every key k of grads")


def same_outputs(first, second):
    """Whether two lists of outputs agree to 1e-9 (one module's code, the same parameters and
    inputs: only what it keeps between calls can tell them apart)."""
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
            return False
    return True


RANDOM_FORWARD_HINT = ("in eval mode forward must give one answer per input: use the noise it is "
                       "given (the VAE's eps) instead of drawing new noise (torch.randn_like, "
                       "torch.rand), and nn.Dropout (or F.dropout(..., training=self.training)) "
                       "rather than a dropout that stays on in eval mode")
GROWING_STATE_HINT = ("keep what forward collects (the skips, the features) in a local list "
                      "made inside forward (skips = [] at its start), not on self: a list on "
                      "self grows with every batch and keeps each batch's tensors and autograd "
                      "graph alive")


def check_two_calls(t, target, args, kwargs, student, params, buffers, call, first, second,
                    message):
    """What a PyTorch module keeps between calls: ``student`` (a ``StudentModule`` of ``target``
    built with ``args`` and ``kwargs``, holding ``params`` and ``buffers``) answers ``call(module,
    first)``, then ``call(module, second)``; the second answer must be a newly built module's
    with the same parameters and buffers on ``second`` (student code only: the architecture is
    the student's). ``call`` returns the outputs as a list of arrays (in eval mode); ``message``
    is the verdict when they differ, with KEPT_STATE_HINT. A module that keeps an output or
    features on self, by shape, answers the second call from them: this check names it before
    the comparisons with the reference, whose autograd error would blame a .detach()."""
    call(student, first)
    kept = student.kept_tensors()
    used = call(student, second)
    grown = student.kept_tensors()
    fresh = StudentModule.build(t.student, target, *args, **kwargs)
    fresh.load(params, buffers, "float64")
    answer = call(fresh, second)
    if not same_outputs(used, answer):
        if not same_outputs(answer, call(fresh, second)):
            # a new module answers one input twice otherwise: not kept state, but randomness
            raise Failed(f"{message.split(': ', 1)[0]}: asked twice for the same input in eval "
                         "mode, a newly built module gives two different answers: forward "
                         "draws new random numbers at every call", hint=RANDOM_FORWARD_HINT)
        raise Failed(message, hint=KEPT_STATE_HINT)
    if grown > kept:
        # right answers, but a list on self that every call appends to: in training it holds
        # every batch's activations (and their graphs) until memory runs out
        raise Failed(f"{message.split(': ', 1)[0]}: after one call the module kept {kept} "
                     f"tensor(s) outside its parameters and buffers, after two {grown}: forward "
                     "adds tensors to a list or dict kept on self at every call",
                     hint=GROWING_STATE_HINT)
