"""Tests of unit 10, ``generative`` (PyTorch): autoencoders, the VAE and GANs.

Functions on tensors run in the worker through ``torch_ops.tensor_call``: the judge's arrays
become tensors there (float64), the outputs come back as arrays, and gradients are taken by
autograd in the worker (of sum(output * dout) for a random dout): losses are compared on fixed
logits (random, +-1000, +-40, N=1, batches of different sizes, several columns) with their
gradients; ``vae_loss``'s verdict says which of its two terms is wrong; ``reparameterize`` for
given eps with gradients reaching mu and logvar; ``corrupt`` and ``sample_noise`` draw from a
seeded ``torch.Generator`` on both sides (``corrupt`` returns a new tensor of x's dtype even
without noise; ``sample_noise`` is float32, and two calls with one generator give the
reference's two draws).
Modules are graded like unit 06's (parameter shapes in forward order, then outputs and gradients
with the reference's parameters loaded, in eval and train mode). ``gan_step`` runs on small
networks built by the grader (float64, and float32 as the notebook trains), with recording
optimizers: the discriminator steps first, while the generator is untouched; the generator steps
second, the discriminator unchanged since its update; gradients at each step, the losses returned
and the parameters afterwards equal the reference's for the same parameters and noise, and every
parameter requires gradients again afterwards (the next step must be able to train both networks).
"""

import math

import numpy as np

from ..compare import Failed
from ..runner import StudentError, StudentFault
from ..spec import Case, Spec
from ..torch_handles import reference_build, reference_load, values_for
from ..torch_ops import gan_step as op_gan_step
from ..torch_ops import tensor_call
from .architectures import build_and_check_shapes, check_module
from .model_checks import check_two_calls
from .toolkit import remembered_hint

SPEC = Spec("generative")
RTOL = 1e-6
GAN_LR = 0.1


def _lookup(cw):
    def lookup(target):
        module, _, name = target.partition(".")
        return getattr(getattr(cw, module), name)
    return lookup


# -- recipes (module level: their names key the recorded outputs of a release) ------------------

def function_call(cw, target, args, kwargs, grad_args, douts, generators):
    """The reference's ``tensor_call`` of a function: outputs and gradients."""
    out = tensor_call(target, None, args, kwargs, grad_args, douts, generators,
                      lookup=_lookup(cw))
    return [out["outputs"], out["grads"]]


def function_flows(cw, target, args, kwargs, grad_args, generators):
    """For each output of the reference function, whether a gradient flows back from it."""
    return tensor_call(target, None, args, kwargs, grad_args, None, generators,
                       lookup=_lookup(cw))["flows"]


def function_shapes(cw, target, args, kwargs, generators):
    """The shapes of the reference function's tensor outputs."""
    return tensor_call(target, None, args, kwargs, [], None, generators,
                       lookup=_lookup(cw))["shapes"]


def method_call(cw, target, args, kwargs, params, method, margs, grad_args, douts, train=True):
    """The reference module ``target(*args, **kwargs)`` with ``params`` loaded, in train or
    eval mode: outputs of its ``method`` on ``margs`` and gradients (inputs ``grad_args``, then
    every parameter)."""
    model = reference_load(reference_build(cw, target, args, kwargs), params, [])
    model.train(bool(train))
    out = tensor_call(model, method, margs, {}, grad_args, douts, None, param_grads=True)
    return [out["outputs"], out["grads"]]


def gan_effects(cw, params_d, params_g, real, noise_dim, seed, loss, lr, stale):
    return op_gan_step(params_d, params_g, real, noise_dim, seed, loss, lr, stale,
                       lookup=_lookup(cw))


# -- helpers ----------------------------------------------------------------------------------

def _name(target):
    return target.split(".", 1)[1]


def _student_call(t, target, args, kwargs=None, grad_args=(), douts=None, generators=None):
    value = t.student.torch("tensor_call", target, None, list(args), dict(kwargs or {}),
                            list(grad_args), douts, generators, False)
    return _reply(value, target)


def _reply(value, target):
    if not isinstance(value, dict) or not {"outputs", "kinds", "grads", "modified",
                                           "tuple", "shapes"} <= set(value):
        raise Failed(f"{_name(target)}: its result could not be read")
    return value


def _dout(rng, like):
    """A random upstream gradient shaped like an output (a float for a scalar: the wire sends
    arrays of at least one dimension)."""
    shape = np.shape(like)
    return float(rng.standard_normal()) if shape == () else rng.standard_normal(shape)


def _pick(mistakes, part):
    return [(d, w[part]) for d, w in mistakes]


CUT_OFF_HINT = ("a tensor built from a number (torch.tensor(float(...)), .item()) or through "
                ".detach(), NumPy or torch.no_grad() has no history: backward() from it changes "
                "nothing. Compute it from the inputs with torch operations all the way")
GENERATOR_UNUSED = ("the result did not come from the generator it is given: after two calls "
                    "the generator had not drawn a single number. Pass generator=generator to "
                    "torch.randn / torch.rand; without it they draw from PyTorch's global "
                    "generator, and the same seed would not give the same result")


def _draws_nothing_from(t, target, args, kwargs, generators):
    """Whether two calls of the student's function left every generator it is given as fresh
    as it was (its next numbers those of a new generator with the same seed)."""
    import torch

    try:
        got = t.student.torch("repeated_call", target, list(args), dict(kwargs or {}),
                              generators)
    except (StudentFault, Failed):
        return False
    after = got.get("after") if isinstance(got, dict) else None
    if not isinstance(after, dict):
        return False
    for name, seed in generators.items():
        fresh = torch.rand(4, generator=torch.Generator().manual_seed(int(seed))).numpy()
        drawn = after.get(name)
        if not (isinstance(drawn, np.ndarray) and drawn.shape == fresh.shape
                and np.array_equal(drawn, fresh)):
            return False
    return True


def check_function(t, target, args, kwargs=None, *, label, names, grad_args=(), argnames=(),
                   generators=None, tensors=None, seed=0, new_tensor=False, explain=None):
    """Call the student's function and the reference's on the same tensors; compare outputs and
    (when ``grad_args``) the gradients of sum(output_k * dout_k) w.r.t. those inputs.

    ``new_tensor``: an output that is an input (or a view of one) fails. ``explain(got,
    expected)``: a sentence added to the verdict when the outputs differ (or None)."""
    kwargs = dict(kwargs or {})
    expected_out, _ = t.ref.run(function_call, target, list(args), kwargs, [], None,
                                generators)
    douts = None
    if grad_args:
        rng = np.random.default_rng(seed + 1000)
        douts = [_dout(rng, e) for e in expected_out]
    # a call that raises gets the hint of a known mistake raising the same error
    with t.explaining_errors(target, function_call, target, list(args), kwargs, list(grad_args),
                             douts, generators):
        got = _student_call(t, target, args, kwargs, grad_args, douts, generators)
    where = f"{_name(target)}({label}): "
    if got["modified"]:
        which = ", ".join(argnames[i] if i < len(argnames) else f"argument {i + 1}"
                          for i in got["modified"])
        raise Failed(f"{where}modified its input {which} in place; build new tensors",
                     hint="never change the tensors you are given: the caller still needs them")
    aliased = sorted({i for item in got.get("aliases") or [] for i in item})
    if new_tensor and aliased:
        which = ", ".join(argnames[i] if i < len(argnames) else f"argument {i + 1}"
                          for i in aliased)
        raise Failed(f"{where}returned its input {which} itself (or a view of it); the "
                     "docstring asks for a new tensor",
                     hint="compute the result with an operation that builds a new tensor (x + "
                          "noise_std * noise), also when nothing is added: a caller that changes "
                          "the result in place would change x too")
    if len(names) > 1 and (not got["tuple"] or len(got["outputs"]) != len(names)):
        raise Failed(f"{where}should return a tuple of {len(names)} tensors "
                     f"({', '.join(names)}), got {len(got['outputs'])} value(s) of type "
                     f"{', '.join(got['kinds'])}")
    for name, kind in zip(names, got["kinds"]):
        if kind != "Tensor" and (tensors is None or name in tensors):
            raise Failed(f"{where}{name} is a {kind}, not a torch.Tensor: compute it with torch "
                         "operations (no .item(), float() or NumPy), so gradients can flow")
    expected = t.ref.run(function_call, target, list(args), kwargs, list(grad_args), douts,
                         generators)
    def mistakes():
        return t.ref.mistakes(target, function_call, target, list(args), kwargs,
                              list(grad_args), douts, generators)
    expected_shapes = t.ref.run(function_shapes, target, list(args), kwargs, generators)
    for name, g, e in zip(names, got["shapes"], expected_shapes):
        if e is not None and g is not None and list(g) != list(e):
            # one entry in a shape of its own (keepdim=True, .view(1), torch.stack of one)
            # is a scalar already, not a sum over examples left unaveraged
            shape_hint = (("return the 0-d tensor itself: a reduction without keepdim=True, or "
                           ".squeeze() of a result of one entry" if math.prod(g) == 1 else
                           "average over the batch with .mean() to return a scalar")
                          if not e else None)
            raise Failed(f"{where}{name} has shape {tuple(g)}, expected {tuple(e)}", shape_hint)
    if grad_args and isinstance(got.get("flows"), list):
        flows = t.ref.run(function_flows, target, list(args), kwargs, list(grad_args),
                          generators)
        for name, g, e in zip(names, got["flows"], flows):
            if e and g is False:
                raise Failed(f"{where}{name} carries no gradient: it was cut off from the "
                             "inputs", hint=CUT_OFF_HINT)
    try:
        compare_values(t, target, got["outputs"], expected[0], names, label, mistakes, 0)
    except Failed as failure:
        note = explain(got["outputs"], expected[0]) if explain is not None else None
        if note:
            failure.message += f"; {note}"
        if generators and not failure.hint and _draws_nothing_from(t, target, args, kwargs,
                                                                     generators):
            failure.hint = GENERATOR_UNUSED
        raise
    if not grad_args:
        return got
    grad_names = tuple(f"d{argnames[i]}" for i in grad_args)
    for name, g, e in zip(grad_names, got["grads"] or [], expected[1]):
        if g is None and e is not None:
            raise Failed(f"{where}no gradient reaches {name[1:]}: the result must be computed "
                         f"from {name[1:]} with torch operations (nothing detached, no "
                         ".item() or NumPy on the way)")
    compare_values(t, target, got["grads"], expected[1], grad_names, f"{label}, gradients",
                   mistakes, 1)
    return got


def compare_values(t, target, got, expected, names, label, mistakes, part):
    """Compare lists of values (one value: as itself, not as a list of one), hints from part
    ``part`` of each mistake's output."""
    if len(names) == 1 and isinstance(got, list) and len(got) == 1:
        t.compare(target, got[0], expected[0], names=names, label=label, rtol=RTOL,
                  mistakes=lambda: [(d, w[part][0]) for d, w in mistakes()])
    else:
        t.compare(target, got, expected, names=names, label=label, rtol=RTOL,
                  mistakes=lambda: _pick(mistakes(), part))


def _hidden(t, name, *args):
    return t.hidden("generative", name, Case, *args)


# -- losses -----------------------------------------------------------------------------------

def logits_case(seed, n_real, n_fake=None, *, scale=3.0, flat=False, special=(), width=1):
    """(logits_real, logits_fake): random float64 logits, shaped (n, width) (or (n,)), with the
    values ``special`` written over the first entries of both."""
    rng = np.random.default_rng(seed)
    out = []
    for n in (n_real, n_fake if n_fake is not None else n_real):
        a = scale * rng.standard_normal(n if flat else (n, width))
        flat_view = a.reshape(-1)
        for i, v in enumerate(special[:len(flat_view)]):
            flat_view[i] = v
        out.append(-a if out else a)  # fakes mostly on the other side
    return tuple(out)


# 0.001, not 0: design.md keeps inputs off kinks (a hand-written stable softplus,
# clamp(s, min=0) + log1p(exp(-|s|)), is right everywhere, but autograd's derivative at s = 0
# itself is 1, not 0.5)
HUGE = (1000.0, -1000.0, 0.001, 40.0, -40.0)


def pair_cases(t):
    return [
        Case("4 real and 7 fake examples: each term is its own mean", logits_case(2, 4, 7)),
        Case("random logits, N=6", logits_case(1, 6)),
        Case("logits of +-1000, 0.001 and +-40", logits_case(3, 5, special=HUGE)),
        Case("N=1", logits_case(4, 1)),
        Case("3 real and 5 fake examples of shape (., 2): the means are over every entry",
             logits_case(5, 3, 5, width=2)),
    ] + _hidden(t, "pair_cases", logits_case)


def single_cases(t):
    return [
        Case("random logits, N=6", logits_case(11, 6)[:1]),
        Case("logits of +-1000, 0.001 and +-40", logits_case(12, 5, special=HUGE)[:1]),
        Case("N=1", logits_case(13, 1)[:1]),
        Case("logits of shape (7,)", logits_case(14, 7, flat=True)[:1]),
        Case("logits of shape (4, 3): the mean is over every entry",
             logits_case(15, 4, width=3)[:1]),
    ] + _hidden(t, "single_cases", logits_case)


def _other_values(*arrays):
    return tuple(-0.7 * a + 0.3 for a in arrays)


def public_again_hidden(t, cases, run, change=_other_values, what="every input"):
    """``run`` on every public case, then on the first with other values of the same shapes
    (``change`` of its arguments, ``what`` changed), then on the hidden cases: a function that
    remembers its answers by the shapes of its inputs fails the second call (as the toolkit's
    layers do; ``toolkit.remembered_hint``)."""
    public = [c for c in cases if not getattr(c, "hidden", False)]
    for case in public:
        run(case)
    t.no_case()
    with remembered_hint():
        run(Case(f"{public[0].label}, the same shapes with other values of {what}",
                 change(*public[0].args), dict(public[0].kwargs)))
    for case in cases:
        if getattr(case, "hidden", False):
            run(case)


def _pair_test(t, target, first, second):
    public_again_hidden(t, pair_cases(t), lambda case: check_function(
        t, target, case.args, label=case.label, names=("the loss",), grad_args=(0, 1),
        argnames=(first, second), seed=7))


def _single_test(t, target, name):
    public_again_hidden(t, single_cases(t), lambda case: check_function(
        t, target, case.args, label=case.label, names=("the loss",), grad_args=(0,),
        argnames=(name,), seed=8))


@SPEC.test("discriminator_loss", points=2)
def discriminator_loss(t):
    _pair_test(t, "generative.discriminator_loss", "logits_real", "logits_fake")


@SPEC.test("generator_loss", points=2)
def generator_loss(t):
    _single_test(t, "generative.generator_loss", "logits_fake")


@SPEC.test("minimax_generator_loss", points=1)
def minimax_generator_loss(t):
    _single_test(t, "generative.minimax_generator_loss", "logits_fake")


@SPEC.test("ls_discriminator_loss", points=1)
def ls_discriminator_loss(t):
    _pair_test(t, "generative.ls_discriminator_loss", "scores_real", "scores_fake")


@SPEC.test("ls_generator_loss", points=1)
def ls_generator_loss(t):
    _single_test(t, "generative.ls_generator_loss", "scores_fake")


# -- the VAE's functions ------------------------------------------------------------------------

def gaussian_case(seed, n, latent, *, logvar_offset=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, latent)), rng.standard_normal((n, latent)) + logvar_offset,
            rng.standard_normal((n, latent)))


@SPEC.test("reparameterize", points=2)
def reparameterize(t):
    cases = [Case("N=3, L=4", gaussian_case(21, 3, 4)),
             Case("N=1, L=2, small variances (logvar around -3)",
                  gaussian_case(22, 1, 2, logvar_offset=-3.0)),
             Case("N=5, L=1, large variances (logvar around 2)",
                  gaussian_case(23, 5, 1, logvar_offset=2.0))]
    public_again_hidden(t, cases + _hidden(t, "reparameterize_cases", gaussian_case),
                        lambda case: check_function(
                            t, "generative.reparameterize", case.args, label=case.label,
                            names=("z",), grad_args=(0, 1), argnames=("mu", "logvar", "eps"),
                            seed=9, explain=_fresh_noise_note(t, case.args)))


def _fresh_noise_note(t, args):
    """``explain`` of reparameterize: a wrong z that changes between two calls on the same
    inputs was drawn from new noise instead of the eps given."""
    def explain(got, expected):
        again = _student_call(t, "generative.reparameterize", args)["outputs"]
        try:
            same = np.array_equal(np.asarray(got[0], dtype=float),
                                  np.asarray(again[0], dtype=float), equal_nan=True)
        except (TypeError, ValueError, IndexError):
            return None
        if same:
            return None
        return ("a second call with the same mu, logvar and eps gave another z: the noise must "
                "be the eps given (z = mu + std * eps), not new noise such as torch.randn_like")
    return explain


def vae_loss_case(seed, n, features, latent, *, binary=False, huge=False, logvar_offset=0.0):
    """(logits, x, mu, logvar); ``logvar_offset`` moves logvar (0.5 * standard normal) away
    from 0: a variance clamped "for stability" changes the KL there."""
    rng = np.random.default_rng(seed)
    logits = 3.0 * rng.standard_normal((n, features))
    x = rng.uniform(0, 1, (n, features))
    if binary:
        x = (x > 0.5).astype(np.float64)
    if huge:
        logits.reshape(-1)[:4] = (1000.0, -1000.0, 1000.0, -1000.0)
        x.reshape(-1)[:4] = (1.0, 0.0, 0.0, 1.0)
    mu, logvar, _ = gaussian_case(seed + 1, n, latent)
    return logits, x, mu, 0.5 * logvar + logvar_offset


@SPEC.test("vae_loss", points=2)
def vae_loss(t):
    cases = [Case("N=4, D=6, L=3, targets in [0, 1]", vae_loss_case(31, 4, 6, 3)),
             Case("N=1, binary targets", vae_loss_case(32, 1, 5, 2, binary=True)),
             Case("logits of +-1000", vae_loss_case(33, 3, 4, 2, huge=True))]
    public_again_hidden(t, cases + _hidden(t, "vae_loss_cases", vae_loss_case),
                        lambda case: check_function(
                            t, "generative.vae_loss", case.args, label=case.label,
                            names=("loss", "reconstruction", "kl"), grad_args=(0, 2, 3),
                            argnames=("logits", "x", "mu", "logvar"), seed=10,
                            explain=vae_loss_parts),
                        lambda logits, x, mu, logvar: (*_other_values(logits), 1.0 - x,
                                                       *_other_values(mu, logvar)),
                        "logits, mu and logvar, and targets 1 - x")


def vae_loss_parts(got, expected):
    """Which term of vae_loss is wrong, in words: from the reconstruction and kl returned, and
    for the loss from the reference's terms (loss - reconstruction is the student's KL when the
    reconstruction is right, and the other way round)."""
    from ..compare import matches

    if not isinstance(got, list) or len(got) != 3:
        return None
    try:
        loss, rec, kl = (float(v) for v in got)
    except (TypeError, ValueError):
        return None
    e_loss, e_rec, e_kl = (float(v) for v in expected)
    rec_ok, kl_ok = matches(rec, e_rec, RTOL), matches(kl, e_kl, RTOL)
    if rec_ok and kl_ok:
        return (f"reconstruction and kl are right, but the loss is not their sum "
                f"({e_rec:.6g} + {e_kl:.6g} = {e_loss:.6g})")
    if rec_ok and matches(loss - e_rec, kl, RTOL):
        return (f"the reconstruction term is right; the KL term is wrong: {kl:.6g} where it "
                f"should be {e_kl:.6g}")
    if kl_ok and matches(loss - e_kl, rec, RTOL):
        return (f"the KL term is right; the reconstruction term is wrong: {rec:.6g} where it "
                f"should be {e_rec:.6g}")
    if matches(loss - e_rec, e_kl, RTOL):
        return "the loss has the right value, but the terms returned with it do not"
    parts = [f"{name} {value:.6g} where it should be {right:.6g}"
             for name, ok, value, right in (("reconstruction", rec_ok, rec, e_rec),
                                            ("kl", kl_ok, kl, e_kl)) if not ok]
    return "wrong terms: " + "; ".join(parts)


@SPEC.test("corrupt", points=1)
def corrupt(t):
    rng = np.random.default_rng(41)
    cases = [Case("x (5, 8) float64, noise_std 0.5", (rng.uniform(0, 1, (5, 8)), 0.5, 3)),
             Case("x (2, 1, 4, 4) float32, noise_std 2", (rng.uniform(0, 1, (2, 1, 4, 4))
                                                          .astype(np.float32), 2.0, 4)),
             Case("noise_std 0", (rng.uniform(0, 1, (3, 2)), 0.0, 5))]
    for case in cases + _hidden(t, "corrupt_cases", rng):
        x, std, seed = case.args
        got = check_function(t, "generative.corrupt", [x], {"noise_std": std},
                             label=case.label, names=("the noisy x",), argnames=("x",),
                             generators={"generator": seed}, new_tensor=True)
        # "a new tensor of x's shape and dtype": float32 noise added, then cast up, has the
        # right values
        value = got["outputs"][0] if got["outputs"] else None
        if isinstance(value, np.ndarray) and value.dtype != x.dtype:
            raise Failed(f"corrupt({case.label}): the noisy x has dtype {value.dtype}, but the "
                         f"docstring asks for x's dtype ({x.dtype})",
                         hint="draw the noise with dtype=x.dtype and add it to x, with no cast "
                              "of the result", kind="dtype")
        if std > 0:
            check_generator_use(t, "generative.corrupt", [x], seed, case.label,
                                kwargs={"noise_std": std}, draw="torch.randn")


def repeated_draws(cw, target, args, kwargs, generators):
    """The reference's ``torch_ops.repeated_call``: two calls with one generator."""
    from ..torch_ops import repeated_call

    return repeated_call(target, args, kwargs, generators, lookup=_lookup(cw))


@SPEC.test("sample_noise", points=1)
def sample_noise(t):
    target = "generative.sample_noise"
    cases = [Case("batch 6, dim 3", (6, 3, 51)), Case("batch 1, dim 10", (1, 10, 52))]
    for case in cases + _hidden(t, "noise_cases"):
        n, dim, seed = case.args
        where = f"sample_noise({case.label}): "
        got = _student_call(t, target, [n, dim], generators={"generator": seed})
        value = got["outputs"][0] if got["outputs"] else None
        if isinstance(value, np.ndarray) and value.dtype != np.float32:
            raise Failed(f"{where}dtype {value.dtype}, expected float32 (torch.rand's default)",
                         hint="draw with torch.rand(batch_size, dim, generator=generator) and "
                              "no dtype argument")
        check_function(t, target, [n, dim], label=case.label, names=("the noise",),
                       generators={"generator": seed})
        check_generator_use(t, target, [n, dim], seed, case.label)


def check_generator_use(t, target, args, seed, label, kwargs=None, draw="torch.rand"):
    """Two calls with one generator: the second draws the next numbers of the generator (what
    the reference's second call draws), and the generator has advanced past both."""
    kwargs = dict(kwargs or {})
    got = t.student.torch("repeated_call", target, list(args), kwargs, {"generator": seed})
    expected = t.ref.run(repeated_draws, target, list(args), kwargs, {"generator": seed})
    where = f"{_name(target)}({label}): "
    if not isinstance(got, dict) or not {"first", "second", "after"} <= set(got):
        raise Failed(f"{where}its results could not be read")
    first, second = got["first"], got["second"]
    hint = (f"draw with {draw}(..., generator=generator): the generator's state advances "
            "with every draw; never reseed it or the global generator")
    if isinstance(first, np.ndarray) and isinstance(second, np.ndarray) \
            and first.shape == second.shape and np.array_equal(first, second):
        raise Failed(f"{where}two calls with the same generator returned the same noise: the "
                     "generator did not advance", hint=hint)
    t.compare(target, second, expected["second"],
              names=("the second call's noise (same generator)",), label=label, rtol=RTOL)
    t.compare(target, got["after"].get("generator") if isinstance(got["after"], dict) else None,
              expected["after"]["generator"],
              names=("the generator's next numbers after the two calls",), label=label,
              rtol=RTOL)


# -- modules ------------------------------------------------------------------------------------

def _module_method(t, target, args, kwargs, method, inputs, *, seed, label, names,
                   grad_names, train=True, grad_inputs=None, input_names=None):
    """Build, check shapes, load the reference's parameters, compare ``method(*inputs)`` and
    gradients (inputs, then every parameter), in train mode (as built) or eval mode.
    ``input_names``: the docstring's names of the inputs (by default those of ``grad_names``
    without their d, when there is one per input)."""
    if input_names is None and len(grad_names) == len(inputs):
        input_names = tuple(n[1:] for n in grad_names)
    from ..torch_handles import values_for

    student, expected_shapes, _, _ = build_and_check_shapes(t, target, args, kwargs)
    params, _ = values_for(expected_shapes, [], seed)
    student.load(params, [], "float64")
    if not train:
        t.student.torch("tensor_call", student.handle, "train", [False], {})
    param_names = [f"d{n}" for n, _ in student.parameters()]
    outs = t.ref.run(method_call, target, list(args), kwargs, params, method, list(inputs),
                     [], None, train)[0]
    rng = np.random.default_rng(seed + 1)
    douts = [_dout(rng, o) for o in outs]
    grad_args = list(range(len(inputs))) if grad_inputs is None else list(grad_inputs)
    got = _reply(t.student.torch("tensor_call", student.handle, method, list(inputs), {},
                                 grad_args, douts, None, True), target)
    expected = t.ref.run(method_call, target, list(args), kwargs, params, method, list(inputs),
                         grad_args, douts, train)
    where = f"{method}, {label}" + ("" if train else ", eval mode")
    if got["modified"]:
        which = ", ".join(
            f"input {input_names[i]}" if input_names and isinstance(i, int)
            and 0 <= i < len(input_names) else f"input {i + 1}" for i in got["modified"])
        raise Failed(f"{_name(target)}.{where}: modified its {which} in place (the tensors "
                     f"passed to {method}); build new tensors",
                     hint="never change the tensors you are given (x, eps): the caller still "
                          "needs them")

    def mistakes():
        return t.ref.mistakes(target, method_call, target, list(args), kwargs, params,
                              method, list(inputs), grad_args, douts, train)
    if len(names) > 1 and (not got["tuple"] or len(got["outputs"]) != len(names)):
        raise Failed(f"{where}: should return {len(names)} tensors ({', '.join(names)})")
    compare_values(t, target, got["outputs"], expected[0], names, where, mistakes, 0)
    all_names = tuple(grad_names) + tuple(param_names)
    compare_values(t, target, got["grads"], expected[1], all_names, f"{where}, gradients",
                   mistakes, 1)


def check_kept_state(t, target, args, kwargs, method, inputs, *, seed, label):
    """The student's module in eval mode (parameters drawn for the reference's shapes) calls
    ``method`` on ``inputs``, then on other values of the same shapes: the second answer must
    be a newly built module's on those values (student code only). A module that keeps its
    first output, a feature or its noise on self (by shape) answers the second call from it;
    before the comparisons with the reference, whose autograd error (a cached output from a
    call without gradients) would blame a .detach()."""
    t.case(f"{_name(target)}.{method}, {label}, called twice on inputs of the same shapes")
    student, shapes, buffer_shapes, _ = build_and_check_shapes(t, target, args, kwargs)
    params, buffers = values_for(shapes, buffer_shapes, seed)
    student.load(params, buffers, "float64")

    def call(module, values):
        t.student.torch("tensor_call", module.handle, "train", [False], {})
        return _reply(t.student.torch("tensor_call", module.handle, method, list(values), {}, [],
                                      None, None, False), target)["outputs"]

    check_two_calls(t, target, args, kwargs, student, params, buffers, call, inputs,
                    _other_values(*inputs),
                    f"{_name(target)}.{method}, {label}: called on inputs, then on other values "
                    "of the same shapes (eval mode), it answers the second call otherwise than "
                    "a newly built module with the same parameters does")


@SPEC.test("Autoencoder", points=2)
def autoencoder(t):
    target = "generative.Autoencoder"
    cases = [Case("64 -> 5 -> 2, N=4", ((64, 2), {"hidden_dims": (5,)}, 4)),
             Case("two hidden layers 6, 4; N=1", ((7, 3), {"hidden_dims": (6, 4)}, 1))]
    for i, case in enumerate(cases + _hidden(t, "autoencoder_cases")):
        (d, latent), kwargs, n = case.args
        if not getattr(case, "hidden", False):
            kept = np.random.default_rng(60 + i)
            for method, width in (("forward", d), ("encode", d), ("decode", latent)):
                check_kept_state(t, target, (d, latent), kwargs, method,
                                 [kept.standard_normal((n, width))], seed=69 + i,
                                 label=case.label)
        check_module(t, target, (d, latent), kwargs, [(n, d)], seed=61 + i,
                     label=f"; {case.label}")
        rng = np.random.default_rng(70 + i)
        _module_method(t, target, (d, latent), kwargs, "encode", [rng.standard_normal((n, d))],
                       seed=71 + i, label=case.label, names=("the code",), grad_names=("dx",))
        _module_method(t, target, (d, latent), kwargs, "decode",
                       [rng.standard_normal((n, latent))], seed=72 + i, label=case.label,
                       names=("the logits",), grad_names=("dz",))


@SPEC.test("VAE", points=2)
def vae(t):
    target = "generative.VAE"
    cases = [Case("64 -> 6 -> 2, N=3", ((64, 2), {"hidden_dim": 6}, 3)),
             Case("N=1, L=3", ((5, 3), {"hidden_dim": 4}, 1))]
    for i, case in enumerate(cases + _hidden(t, "vae_cases")):
        (d, latent), kwargs, n = case.args
        rng = np.random.default_rng(80 + i)
        x, eps = rng.uniform(0, 1, (n, d)), rng.standard_normal((n, latent))
        if not getattr(case, "hidden", False):
            for method, inputs in (("forward", [x, eps]), ("encode", [x]), ("decode", [eps])):
                check_kept_state(t, target, (d, latent), kwargs, method, inputs, seed=89 + i,
                                 label=case.label)
        # eval mode too: the code is reparameterize(mu, logvar, eps) in both modes
        for train in (True, False):
            _module_method(t, target, (d, latent), kwargs, "forward", [x, eps], seed=81 + i,
                           label=case.label, names=("logits", "mu", "logvar"),
                           grad_names=("dx",), train=train, grad_inputs=(0,),
                           input_names=("x", "eps"))
        _module_method(t, target, (d, latent), kwargs, "encode", [x], seed=82 + i,
                       label=case.label, names=("mu", "logvar"), grad_names=("dx",))
        _module_method(t, target, (d, latent), kwargs, "decode", [eps], seed=83 + i,
                       label=case.label, names=("the logits",), grad_names=("dz",))


@SPEC.test("Discriminator", points=1)
def discriminator(t):
    cases = [Case("hidden (5, 4), N=6", ((3,), {"hidden_dims": (5, 4)}, (6, 3))),
             Case("no hidden layer, N=1", ((2,), {"hidden_dims": ()}, (1, 2)))]
    for i, case in enumerate(cases + _hidden(t, "discriminator_cases")):
        args, kwargs, shape = case.args
        if not getattr(case, "hidden", False):
            check_kept_state(t, "generative.Discriminator", args, kwargs, "forward",
                             [np.random.default_rng(90 + i).standard_normal(shape)],
                             seed=99 + i, label=case.label)
        check_module(t, "generative.Discriminator", args, kwargs, [shape], seed=91 + i,
                     label=f"; {case.label}")


@SPEC.test("Generator", points=1)
def generator(t):
    cases = [Case("hidden (5, 4), N=6", ((3, 2), {"hidden_dims": (5, 4)}, (6, 3))),
             Case("one hidden layer, N=1", ((2, 5), {"hidden_dims": (3,)}, (1, 2)))]
    for i, case in enumerate(cases + _hidden(t, "generator_cases")):
        args, kwargs, shape = case.args
        if not getattr(case, "hidden", False):
            check_kept_state(t, "generative.Generator", args, kwargs, "forward",
                             [np.random.default_rng(100 + i).standard_normal(shape)],
                             seed=109 + i, label=case.label)
        check_module(t, "generative.Generator", args, kwargs, [shape], seed=101 + i,
                     label=f"; {case.label}")


# -- gan_step -----------------------------------------------------------------------------------

def gan_case(seed, n, data_dim, noise_dim, hidden, loss, dtype=np.float64):
    """Parameters of D and G (float64 arrays, loaded into networks of real's dtype), real data
    of ``dtype``, noise_dim, the generator's seed and the loss."""
    rng = np.random.default_rng(seed)
    params_d = [0.5 * rng.standard_normal(s) for s in
                [(hidden, data_dim), (hidden,), (1, hidden), (1,)]]
    params_g = [0.5 * rng.standard_normal(s) for s in
                [(hidden, noise_dim), (hidden,), (data_dim, hidden), (data_dim,)]]
    real = rng.standard_normal((n, data_dim)).astype(dtype)
    return params_d, params_g, real, noise_dim, seed + 1, loss


def _mistakes_of(t, target, recipe, args):
    return lambda: t.ref.mistakes(target, recipe, *args)


def _gan_where(label):
    return f"gan_step({label}): "


@SPEC.test("gan_step", points=3)
def gan_step(t):
    target = "generative.gan_step"
    cases = [Case("loss='bce', N=5", gan_case(111, 5, 2, 3, 4, "bce")),
             Case("loss='ls', N=3, 3-D data", gan_case(112, 3, 3, 2, 5, "ls")),
             Case("loss='bce', N=1", gan_case(113, 1, 2, 4, 3, "bce")),
             # the notebook trains float32 networks: z must take real's dtype
             Case("loss='bce', N=4, float32 networks and data",
                  gan_case(114, 4, 2, 3, 4, "bce", np.float32))]
    public_again_hidden(t, cases + _hidden(t, "gan_cases", gan_case),
                        lambda case: _gan_step_case(t, target, case), _other_gan_values,
                        "the networks' parameters and the data, and another seed")


def _other_gan_values(params_d, params_g, real, noise_dim, seed, loss):
    """A gan_step case of the same shapes with other values and another seed: a step that keeps
    something of an earlier call (a noise batch drawn once per batch size) fails it."""
    return ([-0.7 * v + 0.3 for v in params_d], [-0.7 * v + 0.3 for v in params_g],
            (-0.7 * real + 0.3).astype(real.dtype), noise_dim, seed + 1000, loss)


def _gan_step_case(t, target, case):
    """One gan_step case: the student's step on probe networks, its effects compared."""
    params_d, params_g, real, noise_dim, seed, loss = case.args
    args = (params_d, params_g, real, noise_dim, seed, loss, GAN_LR, 0.25)
    single = real.dtype == np.float32
    try:
        with t.explaining_errors(target, gan_effects, *args):
            got = t.student.torch("gan_step", *args)
    except StudentError as error:
        if single and any(w in error.message for w in ("dtype", "Double", "Float")):
            raise Failed(f"{_gan_where(case.label)}raised {error.message}",
                         hint="convert z to real's dtype (sample_noise(...).to(real.dtype)), "
                              "not to float64: the networks and data may be float32, as "
                              "in the notebook") from None
        raise
    expected = t.ref.run(gan_effects, *args)
    # float32: a student's loss written another (right) way rounds differently
    check_gan_effects(t, target, case.label, got, expected,
                      _mistakes_of(t, target, gan_effects, args),
                      [np.asarray(p, dtype=real.dtype) for p in params_g],
                      rtol=1e-4 if single else RTOL)


def check_gan_effects(t, target, label, got, expected, mistakes, params_g, rtol=RTOL):
    where = _gan_where(label)
    if not isinstance(got, dict) or not {"result", "steps", "D", "G"} <= set(got):
        raise Failed(f"{where}its effects could not be read")
    order = [s.get("optimizer") if isinstance(s, dict) else None for s in got["steps"]]
    if order != ["D", "G"]:
        raise Failed(f"{where}the optimizers stepped in the order {order}; expected one "
                     "d_optimizer.step() and then one g_optimizer.step()",
                     hint="update the discriminator first, then the generator, once each, with "
                          "the optimizers you are given")
    d_step, g_step = got["steps"]
    if not all({"G", "D", "grads"} <= set(step) for step in (d_step, g_step)):
        # the records the optimizers keep were changed by the code (they live in its process)
        raise Failed(f"{where}its effects could not be read: the optimizers' records of their "
                     "steps were changed", hint="leave the optimizers you are given as they are: "
                                                "call zero_grad() and step(), nothing else")
    e_d, e_g = expected["steps"]

    def part(f):
        return lambda: [(d, f(w)) for d, w in mistakes()]

    t.compare(target, d_step["G"], params_g, names=("G's parameters at the discriminator's "
                                                    "update",),
              label=label, rtol=rtol)
    t.compare(target, d_step["grads"], e_d["grads"],
              names=("D's gradients at d_optimizer.step()",), label=label, rtol=rtol,
              mistakes=part(lambda w: w["steps"][0]["grads"]))
    t.compare(target, g_step["D"], e_g["D"],
              names=("D's parameters at the generator's update (D after its own update)",),
              label=label, rtol=rtol)
    t.compare(target, g_step["G"], params_g,
              names=("G's parameters before its update (the discriminator's step must not "
                     "change G)",), label=label, rtol=rtol)
    grads = g_step["grads"]
    if isinstance(grads, list) and grads and all(g is None for g in grads) \
            and any(g is not None for g in e_g["grads"]):
        raise Failed(f"{where}no gradient reached the generator at g_optimizer.step(): its "
                     "parameters have no .grad",
                     hint="the generator's loss must flow back through D into G: compute "
                          "g_loss from D(G(z)) without detach() (detach only the fakes of the "
                          "discriminator's step) and call g_loss.backward() before "
                          "g_optimizer.step()")
    t.compare(target, grads, e_g["grads"],
              names=("G's gradients at g_optimizer.step()",), label=label, rtol=rtol,
              mistakes=part(lambda w: w["steps"][1]["grads"]))
    result = got["result"]
    kinds = got.get("result_kinds")
    if not isinstance(result, (list, tuple)) or len(result) != 2 \
            or not all(isinstance(v, float) for v in result):
        # a returned sequence comes back as a list: name the types of its items, which the
        # worker recorded (a NumPy value, or the method .item itself, not the word "list")
        shown = (f"({', '.join(str(k)[:40] for k in kinds)})"
                 if isinstance(kinds, list) and kinds else type(result).__name__)
        pair = isinstance(kinds, list) and len(kinds) == 2
        raise Failed(f"{where}should return (d_loss, g_loss) as two Python floats "
                     "(loss.item()), got " + shown,
                     hint="return d_loss.item(), g_loss.item() (with the parentheses): .item() "
                          "turns a one-element tensor into a Python float" if pair else None)
    if isinstance(kinds, list) and "Tensor" in kinds:
        raise Failed(f"{where}returned ({', '.join(str(k)[:40] for k in kinds)}) where the "
                     "docstring asks for two Python floats",
                     hint="return d_loss.item(), g_loss.item(): a returned tensor keeps the "
                          "step's whole graph alive, and a training loop that stores the losses "
                          "then holds every step's graph in memory")
    t.compare(target, list(result), expected["result"], names=("d_loss", "g_loss"),
              label=label, rtol=rtol, mistakes=part(lambda w: w["result"]))
    t.compare(target, [got["D"], got["G"]], [expected["D"], expected["G"]],
              names=("D's parameters after the step", "G's parameters after the step"),
              label=label, rtol=rtol, mistakes=part(lambda w: [w["D"], w["G"]]))
    flags = got.get("requires_grad")
    for key, net in (("D", "the discriminator"), ("G", "the generator")):
        if not isinstance(flags, dict) or flags.get(key) != expected["requires_grad"][key]:
            raise Failed(f"{where}after the step, some of {net}'s parameters no longer require "
                         "gradients (requires_grad False): the next gan_step could not train it",
                         hint="if you freeze a network during the other's update "
                              "(requires_grad_(False)), set requires_grad_(True) again before "
                              "returning; D's gradients from the generator's loss are zeroed "
                              "before its next update anyway")
    # the values are right (a known mistake would have been named above): only the work done
    # can still be wrong
    reached, once = got.get("gradients_to_g"), expected.get("gradients_to_g")
    if isinstance(reached, int) and isinstance(once, int) and reached > once:
        raise Failed(f"{where}gradients reached G's parameters {reached} times in one step, "
                     f"where the generator's loss alone gives {once} (one per parameter): the "
                     "discriminator's loss sent gradients into G",
                     hint="detach the fakes in the discriminator's step (fakes = G(z).detach()): "
                          "its loss must not send gradients to G (a backward through G for "
                          "nothing, and gradients left in G's .grad)")

