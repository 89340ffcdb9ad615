"""Unit 05: the reference update rules agree with ``torch.optim`` and the reference schedules with
``torch.optim.lr_scheduler``, step by step over at least 20 steps in float64; clipping agrees with
``torch.nn.utils.clip_grad_norm_``. The rules also never modify their inputs, and every rule
continues correctly from a config it returned (no hidden state)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from autograder.oracle import load_reference  # noqa: E402

cw = load_reference()
STEPS = 25
RTOL = 1e-10


def gradient_tape(seed, shape, steps=STEPS, scales=None):
    """Gradients for ``steps`` steps; ``scales`` multiplies each entry (an ill-conditioned
    problem: some entries get far larger gradients than others)."""
    rng = np.random.default_rng(seed)
    tape = rng.standard_normal((steps, *shape))
    if scales is not None:
        tape = tape * scales
    return tape


def run_reference(rule, w0, tape, config, lrs=None):
    """The reference's w after each step; ``lrs[k]`` (when given) is set as the learning rate
    before step k, as a schedule would."""
    f = getattr(cw.optim, rule)
    w, out = w0, []
    for k, dw in enumerate(tape):
        if lrs is not None:
            config = dict(config or {}, learning_rate=lrs[k])
        w, config = f(w, dw, config)
        out.append(w)
    return out


def run_torch(make_optimizer, w0, tape, lrs=None):
    """torch's parameter after each step, with the same gradients."""
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = make_optimizer([p])
    out = []
    for k, dw in enumerate(tape):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[k]
        p.grad = torch.tensor(dw, dtype=torch.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


OPT = torch.optim
CASES = [
    ("sgd", {}, lambda ps: OPT.SGD(ps, lr=1e-2)),
    ("sgd", {"learning_rate": 0.3, "weight_decay": 0.1},
     lambda ps: OPT.SGD(ps, lr=0.3, weight_decay=0.1)),
    ("sgd_momentum", {}, lambda ps: OPT.SGD(ps, lr=1e-2, momentum=0.9)),
    ("sgd_momentum", {"learning_rate": 0.05, "momentum": 0.5, "weight_decay": 0.2},
     lambda ps: OPT.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.2)),
    ("nesterov", {}, lambda ps: OPT.SGD(ps, lr=1e-2, momentum=0.9, nesterov=True)),
    ("nesterov", {"learning_rate": 0.05, "momentum": 0.7, "weight_decay": 0.2},
     lambda ps: OPT.SGD(ps, lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.2)),
    ("adagrad", {}, lambda ps: OPT.Adagrad(ps, lr=1e-2)),
    ("adagrad", {"learning_rate": 0.5, "epsilon": 1e-3, "weight_decay": 0.1},
     lambda ps: OPT.Adagrad(ps, lr=0.5, eps=1e-3, weight_decay=0.1)),
    ("rmsprop", {}, lambda ps: OPT.RMSprop(ps, lr=1e-2)),
    ("rmsprop", {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-3, "weight_decay": 0.1},
     lambda ps: OPT.RMSprop(ps, lr=0.02, alpha=0.9, eps=1e-3, weight_decay=0.1)),
    ("adadelta", {}, lambda ps: OPT.Adadelta(ps)),  # torch's defaults: lr 1.0, rho 0.9, eps 1e-6
    ("adadelta", {"learning_rate": 0.5, "decay_rate": 0.8, "epsilon": 1e-4, "weight_decay": 0.1},
     lambda ps: OPT.Adadelta(ps, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("adadelta", {"learning_rate": 2.0, "decay_rate": 0.0, "epsilon": 1e-2},
     lambda ps: OPT.Adadelta(ps, lr=2.0, rho=0.0, eps=1e-2)),
    ("adam", {}, lambda ps: OPT.Adam(ps, lr=1e-3)),
    ("adam", {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
              "weight_decay": 0.1},
     lambda ps: OPT.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1)),
    ("adam", {"learning_rate": 0.05, "weight_decay": 0.5, "decoupled": True},
     lambda ps: OPT.AdamW(ps, lr=0.05, weight_decay=0.5)),
    ("adam", {"learning_rate": 0.01, "beta1": 0.5, "beta2": 0.9, "weight_decay": 0.01,
              "decoupled": True},
     lambda ps: OPT.AdamW(ps, lr=0.01, betas=(0.5, 0.9), weight_decay=0.01)),
]
IDS = [f"{rule}-{i}" for i, (rule, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("rule,config,make", CASES, ids=IDS)
@pytest.mark.parametrize("shape,scales", [
    ((7,), None),
    ((3, 4), np.array([100.0, 1.0, 0.01, 1e-4])),  # per column: an ill-conditioned problem
    ((2, 1, 3, 2), None),
])
def test_rule_matches_torch(rule, config, make, shape, scales):
    rng = np.random.default_rng(len(shape))
    w0 = rng.standard_normal(shape)
    tape = gradient_tape(3, shape, scales=scales)
    config = dict(config) if config else None
    got = run_reference(rule, w0, tape, config)
    expected = run_torch(make, w0, tape)
    assert len(got) == STEPS >= 20
    for k, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=1e-13, err_msg=f"{rule}, step {k}")


@pytest.mark.parametrize("rule,config,make", CASES, ids=IDS)
def test_rule_matches_torch_when_the_learning_rate_changes(rule, config, make):
    """A schedule sets a new learning rate between steps; torch reads it from the param group."""
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((4, 3))
    tape = gradient_tape(6, (4, 3))
    lrs = [0.02 * (0.8 ** (k // 3)) * (1 + 0.5 * math.sin(k)) for k in range(STEPS)]
    got = run_reference(rule, w0, tape, dict(config), lrs)
    expected = run_torch(make, w0, tape, lrs)
    for k, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=1e-13, err_msg=f"{rule}, step {k}")


def test_adadelta_first_step_is_set_by_epsilon():
    """u starts at 0: the first step is sqrt(epsilon) / sqrt((1 - rho) * g * g + epsilon) * g, about
    sqrt(epsilon / (1 - rho)) per entry for gradients far above sqrt(epsilon), whatever their
    size (as in torch); an entry whose gradient is always 0 does not move."""
    w0 = np.array([1.0, -2.0, 3.0, 0.5])
    tape = gradient_tape(7, (4,))
    tape[:, 0] *= 1e3
    tape[:, 1] = 0.0
    got = run_reference("adadelta", w0, tape, None)
    expected = run_torch(lambda ps: OPT.Adadelta(ps), w0, tape)
    for k, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=1e-13, err_msg=f"step {k}")
    first = np.abs(got[0] - w0)[[0, 2, 3]]
    np.testing.assert_allclose(first, math.sqrt(1e-6 / 0.1), rtol=0.05)
    assert got[-1][1] == -2.0


def test_adagrad_with_a_gradient_that_stays_zero():
    """An entry whose gradient is always 0 does not move (0 / (0 + epsilon)), as in torch."""
    w0 = np.array([1.0, -2.0, 3.0])
    tape = gradient_tape(7, (3,))
    tape[:, 1] = 0.0
    got = run_reference("adagrad", w0, tape, None)
    expected = run_torch(lambda ps: OPT.Adagrad(ps, lr=1e-2), w0, tape)
    np.testing.assert_allclose(got[-1], expected[-1], rtol=RTOL)
    assert got[-1][1] == -2.0


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop",
                                  "adadelta", "adam"])
def test_rules_modify_nothing_and_keep_no_hidden_state(rule):
    f = getattr(cw.optim, rule)
    rng = np.random.default_rng(8)
    w, dw = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    w_copy, dw_copy = w.copy(), dw.copy()
    hyper = {"learning_rate": 0.1, "weight_decay": 0.1}
    w1, c1 = f(w, dw, hyper)
    assert hyper == {"learning_rate": 0.1, "weight_decay": 0.1}
    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(dw, dw_copy)
    assert w1 is not w and c1 is not hyper
    frozen = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in c1.items()}
    w2, c2 = f(w1, dw, c1)
    for key, value in frozen.items():  # the config given to the second call is unchanged
        np.testing.assert_array_equal(c1[key], value)
    again, _ = f(w1, dw, c1)  # the same call again: the same answer
    np.testing.assert_array_equal(again, w2)
    assert c2["learning_rate"] == 0.1  # hyperparameters travel with the state


@pytest.mark.parametrize("rule,defaults", [
    ("sgd", {"learning_rate": 1e-2, "weight_decay": 0.0}),
    ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}),
    ("nesterov", {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}),
    ("adagrad", {"learning_rate": 1e-2, "epsilon": 1e-10, "weight_decay": 0.0}),
    ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8,
                 "weight_decay": 0.0}),
    ("adadelta", {"learning_rate": 1.0, "decay_rate": 0.9, "epsilon": 1e-6, "weight_decay": 0.0}),
    ("adam", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
              "weight_decay": 0.0, "decoupled": False}),
])
def test_defaults_are_the_issue_s(rule, defaults):
    _, config = getattr(cw.optim, rule)(np.ones(2), np.ones(2))
    assert {k: config[k] for k in defaults} == defaults


def test_float32_parameters_stay_float32():
    w = np.ones(3, dtype=np.float32)
    for rule in ["sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"]:
        next_w, _ = getattr(cw.optim, rule)(w, np.full(3, 0.5, dtype=np.float32))
        assert next_w.dtype == np.float32, rule


@pytest.mark.parametrize("call,message", [
    (lambda: cw.optim.sgd(np.ones(2), np.ones(3)), "same shape"),
    (lambda: cw.optim.sgd(np.ones(2), np.ones(2), [0.1]), "dict"),
    (lambda: cw.optim.sgd(np.ones(2), np.ones(2), {"learning_rate": -1.0}), "-1.0"),
    (lambda: cw.optim.sgd_momentum(np.ones(2), np.ones(2), {"momentum": 1.0}), "1.0"),
    (lambda: cw.optim.adam(np.ones(2), np.ones(2), {"beta2": 1.5}), "1.5"),
    (lambda: cw.optim.adadelta(np.ones(2), np.ones(2), {"decay_rate": 1.0}), "1.0"),
    (lambda: cw.optim.adadelta(np.ones(2), np.ones(2), {"epsilon": -1e-6}), "-1e-06"),
    (lambda: cw.optim.adam(np.ones(2), np.ones(2), {"decoupled": "yes"}), "yes"),
    (lambda: cw.optim.adam(np.arange(2), np.ones(2)), "int"),
    (lambda: cw.optim.clip_grad_norm({"a": np.ones(2)}, 0), "0"),
    (lambda: cw.optim.clip_grad_norm([np.ones(2)], 1.0), "list"),
    (lambda: cw.optim.step_decay(-1, lr0=0.1, step_size=2), "-1"),
    (lambda: cw.optim.step_decay(1.5, lr0=0.1, step_size=2), "1.5"),
    (lambda: cw.optim.cosine_annealing(0, lr0=0.1, total_steps=5, warmup_steps=5), "5"),
    (lambda: cw.optim.cosine_annealing(0, lr0=0.1, total_steps=5, lr_min=0.2), "0.2"),
    (lambda: cw.optim.ReduceOnPlateau(lr0=0.1, mode="up"), "up"),
    (lambda: cw.optim.ReduceOnPlateau(lr0=0.1, factor=1.0), "1.0"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message.replace(".", r"\.")):
        call()


# ---------------------------------------------------------------- clipping

@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(9)
    grads = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
             "W2": 3 * rng.standard_normal((3, 2, 2))}
    copies = {k: v.copy() for k, v in grads.items()}
    clipped, total = cw.optim.clip_grad_norm(grads, max_norm)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in grads.items()}
    for k, t in tensors.items():
        t.grad = torch.tensor(grads[k])
    torch_total = torch.nn.utils.clip_grad_norm_(list(tensors.values()), max_norm)
    assert total == pytest.approx(float(torch_total), rel=1e-12)
    for k in grads:
        # torch divides by total + 1e-6: a relative difference of about 1e-6 / total
        np.testing.assert_allclose(clipped[k], tensors[k].grad.numpy(), rtol=1e-6 / total * 2)
        np.testing.assert_array_equal(grads[k], copies[k])
        assert clipped[k] is not grads[k]
    assert set(clipped) == set(grads)
    norm_after = math.sqrt(sum(float((g * g).sum()) for g in clipped.values()))
    assert norm_after == pytest.approx(min(total, max_norm), rel=1e-12)


def test_clip_grad_norm_of_zero_gradients():
    clipped, total = cw.optim.clip_grad_norm({"a": np.zeros(3)}, 1.0)
    assert total == 0.0
    np.testing.assert_array_equal(clipped["a"], np.zeros(3))


# ---------------------------------------------------------------- schedules

def torch_lrs(make_scheduler, lr0, steps):
    """The learning rate torch's scheduler gives at steps 0 .. steps - 1 (float64 Python floats)."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = OPT.SGD([p], lr=lr0)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


S = torch.optim.lr_scheduler


@pytest.mark.parametrize("lr0,step_size,gamma", [(0.1, 3, 0.1), (1.0, 1, 0.5), (0.03, 7, 0.9)])
def test_step_decay_matches_torch(lr0, step_size, gamma):
    expected = torch_lrs(lambda o: S.StepLR(o, step_size=step_size, gamma=gamma), lr0, 30)
    got = [cw.optim.step_decay(s, lr0=lr0, step_size=step_size, gamma=gamma) for s in range(30)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert cw.optim.step_decay(4, lr0=1.0, step_size=2) == pytest.approx(0.01)  # gamma=0.1


@pytest.mark.parametrize("lr0,gamma", [(0.1, 0.9), (1.0, 0.5), (0.5, 1.01)])
def test_exponential_decay_matches_torch(lr0, gamma):
    expected = torch_lrs(lambda o: S.ExponentialLR(o, gamma=gamma), lr0, 30)
    got = [cw.optim.exponential_decay(s, lr0=lr0, gamma=gamma) for s in range(30)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("lr0,total,lr_min", [(0.1, 25, 0.0), (1.0, 30, 0.05), (0.3, 21, 0.3)])
def test_cosine_annealing_matches_torch(lr0, total, lr_min):
    expected = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=lr_min), lr0,
                         total + 1)
    got = [cw.optim.cosine_annealing(s, lr0=lr0, total_steps=total, lr_min=lr_min)
           for s in range(total + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    # after total_steps the rate stays at lr_min (torch's would rise again)
    assert cw.optim.cosine_annealing(2 * total, lr0=lr0, total_steps=total,
                                     lr_min=lr_min) == lr_min


@pytest.mark.parametrize("warmup,total", [(5, 30), (1, 21), (10, 40)])
def test_cosine_annealing_with_warmup_matches_torch(warmup, total):
    """Warm-up lr0 * step / warmup (torch: LambdaLR), then CosineAnnealingLR over the remaining
    total - warmup steps, chained with SequentialLR."""
    lr0, lr_min = 0.2, 0.01
    expected = torch_lrs(lambda o: S.SequentialLR(o, [
        S.LambdaLR(o, lambda s: s / warmup),
        S.CosineAnnealingLR(o, T_max=total - warmup, eta_min=lr_min)], milestones=[warmup]),
        lr0, total + 1)
    got = [cw.optim.cosine_annealing(s, lr0=lr0, total_steps=total, lr_min=lr_min,
                                     warmup_steps=warmup) for s in range(total + 1)]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    assert got[0] == 0.0 and got[warmup] == pytest.approx(lr0) and got[total] == lr_min


METRICS = {
    "min": [5.0, 4.0, 4.0, 4.5, 3.9, 3.9, 3.9, 3.9, 3.9, 3.95, 3.8, 3.8, 3.8, 3.8, 3.8, 3.8, 3.8,
            2.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 1.0] + [1.0] * 12,
    "max": [0.1, 0.5, 0.5, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.61, 0.61, 0.61, 0.2, 0.2,
            0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7] + [0.69] * 4,
}


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("patience,factor", [(0, 0.5), (2, 0.1), (3, 0.7), (10, 0.1)])
def test_reduce_on_plateau_matches_torch(mode, patience, factor):
    metrics = METRICS[mode]
    assert len(metrics) >= 20
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = OPT.SGD([p], lr=0.5)
    scheduler = S.ReduceLROnPlateau(opt, mode=mode, factor=factor, patience=patience,
                                    threshold=0.0, eps=0.0)
    ours = cw.optim.ReduceOnPlateau(lr0=0.5, factor=factor, patience=patience, mode=mode)
    assert ours.lr == 0.5
    for k, metric in enumerate(metrics):
        scheduler.step(metric)
        lr = ours.step(metric)
        assert lr == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12), f"step {k}"
        assert ours.lr == lr
    assert ours.lr < 0.5  # the metrics do trigger reductions
