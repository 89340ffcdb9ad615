"""The unit-01 reference agrees with PyTorch (values and autograd gradients, float64)."""

import numpy as np
import pytest
import torch

from autograder.oracle import load_reference
from autograder.specs.linear import loss_inputs, separable_blobs

cw = load_reference()
CASES = [(1, 8, 5, 4, 0.1), (2, 1, 4, 2, 0.0), (4, 6, 3, 5, 2.5), (7, 30, 10, 10, 0.05)]


def torch_loss(kind, W, X, y, reg):
    Wt = torch.tensor(W, requires_grad=True)
    scores = torch.tensor(X) @ Wt
    target = torch.tensor(y)
    if kind == "svm":
        # multi_margin_loss averages over N and divides each example's sum by C; undo the 1/C.
        data = torch.nn.functional.multi_margin_loss(scores, target, margin=1.0) * W.shape[1]
    else:
        data = torch.nn.functional.cross_entropy(scores, target)
    loss = data + reg * (Wt * Wt).sum()
    loss.backward()
    return loss.item(), Wt.grad.numpy()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind,names", [("svm", ("svm_loss_naive", "svm_loss_vectorized")),
                                        ("softmax", ("softmax_loss_naive",
                                                     "softmax_loss_vectorized"))])
def test_losses_match_torch(case, kind, names):
    W, X, y, reg = loss_inputs(*case)
    expected_loss, expected_dW = torch_loss(kind, W, X, y, reg)
    for name in names:
        loss, dW = getattr(cw.linear, name)(W, X, y, reg)
        assert loss == pytest.approx(expected_loss, rel=1e-10)
        np.testing.assert_allclose(dW, expected_dW, rtol=1e-9, atol=1e-12)


def test_softmax_is_stable_for_scores_in_the_thousands():
    W, X, y, reg = loss_inputs(5, 7, 4, 3, 0.0, offset=1000.0)
    expected_loss, expected_dW = torch_loss("softmax", W, X, y, reg)
    for name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        loss, dW = getattr(cw.linear, name)(W, X, y, reg)
        assert np.isfinite(loss) and loss == pytest.approx(expected_loss, rel=1e-10)
        np.testing.assert_allclose(dW, expected_dW, rtol=1e-9, atol=1e-12)


def test_inputs_are_not_modified():
    W, X, y, reg = loss_inputs(3, 9, 4, 3, 0.3)
    copies = [W.copy(), X.copy(), y.copy()]
    for name in ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive",
                 "softmax_loss_vectorized"):
        getattr(cw.linear, name)(W, X, y, reg)
    for a, b in zip((W, X, y), copies):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("bad,match", [
    (dict(X=np.ones((3, 4))), "X has 4 features per row but W has 5 rows"),
    (dict(y=np.array([0, 1, 7])), r"labels must lie in \[0, 3\), got values from 0 to 7"),
    (dict(y=np.array([0.0, 1.0, 2.0])), "labels y must be integers"),
    (dict(reg=-1.0), "reg must be >= 0, got -1.0"),
])
def test_bad_input_is_named(bad, match):
    args = dict(W=np.ones((5, 3)), X=np.ones((3, 5)), y=np.array([0, 1, 2]), reg=0.0)
    args.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        cw.linear.svm_loss_vectorized(**args)


def test_classifiers_fit_separable_data_and_keep_inputs():
    X, y = separable_blobs(0)
    X0, y0 = X.copy(), y.copy()
    for cls in (cw.linear.LinearSVM, cw.linear.Softmax):
        model = cls()
        losses = model.train(X, y, learning_rate=0.05, reg=0.0, num_iters=150, batch_size=32,
                             rng=np.random.default_rng(0))
        assert len(losses) == 150 and np.mean(losses[-20:]) < 0.5 * np.mean(losses[:5])
        assert (model.predict(X) == y).mean() > 0.95
    assert np.array_equal(X, X0) and np.array_equal(y, y0)


def test_softmax_reaches_92_percent_on_the_digits():
    data = cw.data.preprocess(cw.data.load_digits_split())
    model = cw.linear.Softmax()
    model.train(data["X_train"], data["y_train"], learning_rate=1e-3, reg=1e-4, num_iters=1500,
                batch_size=200, rng=np.random.default_rng(0))
    assert (model.predict(data["X_test"]) == data["y_test"]).mean() >= 0.92


def test_train_rejects_a_seed_instead_of_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator.*got int"):
        cw.linear.Softmax().train(np.ones((2, 3)), np.array([0, 1]), rng=0)
