"""Unit 05 in the Trainer: update rules by name with per-parameter state, learning-rate schedules
(functions per step or per epoch, ReduceOnPlateau per epoch) and gradient clipping."""

import functools

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()


def small_problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return {"X_train": X, "y_train": y, "X_val": X[:20], "y_val": y[:20]}


def net(seed=1):
    return cw.mlp.FullyConnectedNet([8], 5, 3, weight_scale=0.5, reg=0.01,
                                    rng=np.random.default_rng(seed))


def trainer(model, data=None, **kwargs):
    kwargs.setdefault("num_epochs", 3)
    kwargs.setdefault("batch_size", 20)
    return cw.training.Trainer(model, data or small_problem(), rng=np.random.default_rng(2),
                               progress=False, **kwargs)


def test_update_rules_by_name_keep_one_state_per_parameter():
    model = net()
    t = trainer(model, update_rule="adam", optim_config={"learning_rate": 1e-2}).train()
    assert set(t.optim_configs) == set(model.params)
    steps = 3 * (60 // 20)
    for name, config in t.optim_configs.items():
        assert config["t"] == steps and config["m"].shape == model.params[name].shape
    assert t.optim_configs["W1"]["m"] is not t.optim_configs["b1"]["m"]
    assert t.lr_history == [1e-2] * steps


def test_a_schedule_function_sets_the_rate_of_every_update():
    schedule = functools.partial(cw.optim.cosine_annealing, lr0=0.5, total_steps=9,
                                 warmup_steps=2)
    t = trainer(net(), update_rule="sgd_momentum", lr_schedule=schedule).train()
    assert t.steps_per_epoch == 3
    assert t.lr_history == pytest.approx([schedule(n) for n in range(9)])
    assert t.lr_history[0] == 0.0 and max(t.lr_history) == 0.5
    assert all(c["learning_rate"] == t.lr_history[-1] for c in t.optim_configs.values())


def test_a_schedule_per_epoch_keeps_the_rate_within_an_epoch():
    schedule = functools.partial(cw.optim.step_decay, lr0=0.2, step_size=1, gamma=0.5)
    t = trainer(net(), lr_schedule=schedule, lr_schedule_unit="epoch").train()
    assert t.lr_history == pytest.approx([0.2] * 3 + [0.1] * 3 + [0.05] * 3)


def test_reduce_on_plateau_is_given_the_validation_accuracy_after_each_epoch():
    scheduler = cw.optim.ReduceOnPlateau(lr0=0.3, factor=0.5, patience=0, mode="max")
    t = trainer(net(), num_epochs=6, lr_schedule=scheduler)
    assert all(c["learning_rate"] == 0.3 for c in t.optim_configs.values())
    t.train()
    # replay the validation accuracies through a fresh scheduler: the same rates, epoch by epoch
    replay = cw.optim.ReduceOnPlateau(lr0=0.3, factor=0.5, patience=0, mode="max")
    rates = [0.3] + [replay.step(acc) for acc in t.val_acc_history[1:]]
    expected = [rate for rate in rates[:6] for _ in range(3)]
    assert t.lr_history == pytest.approx(expected)
    assert scheduler.lr == rates[-1]


@pytest.mark.parametrize("kwargs,error", [
    ({"lr_schedule": 0.1}, TypeError),
    ({"lr_schedule": lambda n: 0.1, "lr_decay": 0.9}, ValueError),
    ({"lr_schedule": lambda n: 0.1, "lr_schedule_unit": "batch"}, ValueError),
    ({"lr_schedule": "cw.optim.ReduceOnPlateau(lr0=0.1)"}, TypeError),
    ({"grad_clip": 0.0}, ValueError),
    ({"grad_clip": True}, ValueError),
])
def test_bad_schedule_and_clipping_options_are_refused(kwargs, error):
    if kwargs.get("lr_schedule") == "cw.optim.ReduceOnPlateau(lr0=0.1)":
        kwargs = {"lr_schedule": cw.optim.ReduceOnPlateau(lr0=0.1)}  # mode "min": accuracy rises
        error = ValueError
    with pytest.raises(error):
        trainer(net(), **kwargs)


def test_gradient_clipping_scales_all_gradients_together():
    data = small_problem()
    model = net()
    start = {k: v.copy() for k, v in model.params.items()}
    _, grads = net().loss(data["X_train"], data["y_train"])
    total = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    assert total > 0.05
    t = trainer(model, data, batch_size=60, grad_clip=0.05, optim_config={"learning_rate": 0.5})
    t._step(np.arange(60))  # one update on the whole training set
    assert t.grad_norm_history == pytest.approx([total])
    for k in start:  # every gradient scaled by the same factor, max_norm / total
        np.testing.assert_allclose(model.params[k], start[k] - 0.5 * grads[k] * 0.05 / total,
                                   rtol=1e-10, atol=1e-12)


def test_checkpoints_keep_the_rate_and_norm_histories(tmp_path):
    schedule = functools.partial(cw.optim.exponential_decay, lr0=0.1, gamma=0.9)
    t = trainer(net(), update_rule="rmsprop", lr_schedule=schedule, grad_clip=1.0).train()
    t.save_checkpoint(tmp_path / "ckpt.npz")
    fresh = trainer(net(), update_rule="rmsprop", lr_schedule=schedule, grad_clip=1.0)
    fresh.load_checkpoint(tmp_path / "ckpt.npz")
    assert fresh.lr_history == pytest.approx(t.lr_history)
    assert fresh.grad_norm_history == pytest.approx(t.grad_norm_history)
    np.testing.assert_array_equal(fresh.optim_configs["W1"]["sq_avg"],
                                  t.optim_configs["W1"]["sq_avg"])


def test_the_provided_sgd_leaves_its_config_alone_and_refuses_weight_decay():
    config = {"learning_rate": 0.1}
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    next_w, next_config = cw.training.sgd(w, dw, config)
    assert config == {"learning_rate": 0.1} and next_config is not config
    np.testing.assert_allclose(next_w, [0.95, -2.05])
    with pytest.raises(ValueError, match="optim.sgd"):
        cw.training.sgd(w, dw, {"learning_rate": 0.1, "weight_decay": 0.5})
