"""Unit 02: the provided Trainer, judged by outcomes (accuracies, histories, restored state),
never by matching a random stream."""

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()


def spiral_data(seed=0):
    X, y = cw.data.make_spiral(100, 3, seed=seed)
    return {"X_train": X, "y_train": y, "X_val": X, "y_val": y}


def spiral_trainer(num_epochs=150, **kwargs):
    model = cw.mlp.TwoLayerNet(2, 100, 3, weight_scale=0.5, reg=1e-4,
                               rng=np.random.default_rng(0))
    options = dict(optim_config={"learning_rate": 0.5}, batch_size=50, num_epochs=num_epochs,
                   rng=np.random.default_rng(1), progress=False)
    options.update(kwargs)
    return cw.training.Trainer(model, spiral_data(), **options)


def test_two_layer_net_solves_the_spiral():
    trainer = spiral_trainer().train()
    assert trainer.best_val_acc >= 0.95
    assert np.mean(trainer.loss_history[-20:]) < 0.5 * np.mean(trainer.loss_history[:6])
    assert len(trainer.loss_history) == 150 * (300 // 50)
    assert len(trainer.val_acc_history) == 151  # one before training, one per epoch
    # afterwards the model holds the best parameters
    assert trainer.check_accuracy(trainer.X_val, trainer.y_val) == pytest.approx(
        trainer.best_val_acc)


def test_overfits_a_tiny_subset_of_digits():
    data = cw.data.load_digits_split(seed=0)
    small = {"X_train": data["X_train"][:40] / 16, "y_train": data["y_train"][:40],
             "X_val": data["X_val"][:40] / 16, "y_val": data["y_val"][:40]}
    model = cw.mlp.FullyConnectedNet([50, 50], 64, 10, weight_scale=0.1,
                                     rng=np.random.default_rng(2))
    trainer = cw.training.Trainer(model, small, optim_config={"learning_rate": 0.3},
                                  batch_size=20, num_epochs=60, rng=np.random.default_rng(3),
                                  progress=False)
    trainer.train()
    assert trainer.train_acc_history[-1] == 1.0


def test_lr_decay_and_callable_update_rule():
    seen = []

    def update(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    trainer = spiral_trainer(num_epochs=3, update_rule=update, lr_decay=0.5,
                             optim_config={"learning_rate": 0.4})
    trainer.train()
    steps = 300 // 50 * 4  # 4 parameters per step
    assert seen[0] == 0.4 and seen[steps] == 0.2 and seen[2 * steps] == 0.1
    with pytest.raises(ValueError, match="adamm"):
        spiral_trainer(update_rule="adamm")


def test_early_stopping_hook():
    calls = []

    def stop(trainer):
        calls.append(trainer.epoch)
        return trainer.epoch >= 3

    trainer = spiral_trainer(num_epochs=50, early_stopping=stop).train()
    assert calls == [1, 2, 3] and trainer.epoch == 3 and trainer.stopped_early
    assert len(trainer.val_acc_history) == 4


def test_checkpoint_round_trip(tmp_path):
    trainer = spiral_trainer(num_epochs=4).train()
    path = tmp_path / "checkpoint.npz"
    trainer.save_checkpoint(path)
    other = spiral_trainer(num_epochs=6)
    other.load_checkpoint(path)
    assert other.epoch == 4 and other.loss_history == trainer.loss_history
    assert other.val_acc_history == trainer.val_acc_history
    assert other.best_val_acc == trainer.best_val_acc
    for k, v in trainer.model.params.items():
        np.testing.assert_array_equal(other.model.params[k], v)
        np.testing.assert_array_equal(other.best_params[k], trainer.best_params[k])
    assert other.optim_configs["W1"]["learning_rate"] == 0.5
    other.train()  # continues with epochs 5 and 6
    assert other.epoch == 6 and len(other.val_acc_history) == 7


def test_inputs_validated():
    with pytest.raises(TypeError, match="Generator"):
        spiral_trainer(rng=1)
    with pytest.raises(ValueError, match="batch_size"):
        spiral_trainer(batch_size=0)
    with pytest.raises(ValueError, match="X_val"):
        cw.training.Trainer(cw.mlp.TwoLayerNet(2, 3, 3, rng=np.random.default_rng(0)),
                            {"X_train": np.zeros((2, 2)), "y_train": np.zeros(2, int)},
                            rng=np.random.default_rng(0))
