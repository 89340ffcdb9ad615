"""The provided helpers name a bad argument (they raised NumPy's or scikit-learn's own
errors, or, for a Trainer given {'lr': 0.1}, trained silently at another rate)."""

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()


@pytest.mark.parametrize("call, error, words", [
    (lambda: cw.data.load_digits_split(seed="0"), ValueError, "seed must be an integer >= 0"),
    (lambda: cw.data.load_digits_split(seed=-1), ValueError, "got -1"),
    (lambda: cw.data.preprocess(np.zeros((3, 2))), TypeError, "must be a dict of splits"),
    (lambda: cw.data.make_spiral(n_per_class=-5), ValueError, "n_per_class must be a positive"),
    (lambda: cw.data.standardize_images(np.zeros((3, 4))), ValueError, "got shape (3, 4)"),
])
def test_data_helpers_name_the_bad_argument(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


class _Model:
    params = {"W": np.zeros(2)}

    def loss(self, X, y=None):
        return 0.0, {"W": np.zeros(2)}


@pytest.mark.parametrize("config, words", [
    ({"lr": 0.1}, "the key 'lr', which no update rule reads"),
    ({"learning_rate": "1e-3"}, "must be a number > 0, got '1e-3'"),
    ([("learning_rate", 0.1)], "must be a dict"),
])
def test_the_trainer_refuses_an_optim_config_it_would_misread(config, words):
    data = {k: np.zeros((4, 2)) if k.startswith("X") else np.zeros(4, dtype=int)
            for k in ("X_train", "y_train", "X_val", "y_val")}
    with pytest.raises((TypeError, ValueError)) as raised:
        cw.training.Trainer(_Model(), data, optim_config=config, rng=np.random.default_rng(0))
    assert words in str(raised.value)


def test_fit_wants_pairs():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="train must be a pair"):
        cw.torch_training.fit(model, {"X": np.zeros((2, 2))})
