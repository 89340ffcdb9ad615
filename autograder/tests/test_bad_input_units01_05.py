"""Bad input (units 01-05): a wrong call from a notebook cell gets a clear error that
names the function, the argument and the bad value, raised by the provided checks (outside the
solution markers, so the student's stubs raise it too), never an AttributeError, IndexError or
matmul error from deep inside NumPy, and never a silently wrong answer. Valid input the
docstrings allow still passes."""

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()
rng = np.random.default_rng(0)

X4 = rng.standard_normal((4, 5))
Y4 = np.array([0, 1, 2, 1])
W53 = rng.standard_normal((5, 3))
IMAGES = rng.standard_normal((2, 3, 8, 8))


# ---------------------------------------------------------------- a list where an array belongs

LIST_CALLS = [
    ("linear.svm_loss_vectorized", lambda m: m.svm_loss_vectorized(W53, X4.tolist(), Y4, 0.1),
     "svm_loss_vectorized: X must be an array, got list"),
    ("linear.softmax_loss_naive", lambda m: m.softmax_loss_naive(W53, X4, Y4.tolist(), 0.1),
     "softmax_loss_naive: y must be an array, got list"),
    ("layers.affine_forward",
     lambda m: m.affine_forward(X4.tolist(), W53, np.zeros(3)),
     "affine_forward: x must be an array, got list"),
    ("layers.maxout_forward",
     lambda m: m.maxout_forward(X4, W53[:, :, None].tolist(), np.zeros((3, 1))),
     "maxout_forward: w must be an array, got list"),
    ("losses.softmax_loss", lambda m: m.softmax_loss([[1.0, 2.0]], np.array([0])),
     "softmax_loss: scores must be an array, got list"),
    ("losses.mse_loss", lambda m: m.mse_loss([1.0, 2.0], np.array([1.0, 3.0])),
     "mse_loss: pred must be an array, got list"),
    ("conv.conv_forward",
     lambda m: m.conv_forward(IMAGES.tolist(), np.ones((4, 3, 3, 3)), np.zeros(4)),
     "conv_forward: x must be an array, got list"),
    ("conv.max_pool_forward", lambda m: m.max_pool_forward(IMAGES.tolist()),
     "max_pool_forward: x must be an array, got list"),
    ("regularization.dropout_forward",
     lambda m: m.dropout_forward([1.0, 2.0], p=0.5, rng=np.random.default_rng(0)),
     "dropout_forward: x must be an array, got list"),
]


@pytest.mark.parametrize("target,call,words", LIST_CALLS, ids=[c[0] for c in LIST_CALLS])
def test_a_list_where_an_array_belongs_is_named(target, call, words):
    """Each of these ended in "'list' object has no attribute 'ndim'" (or 'shape'),
    which names neither the function nor the argument."""
    module = getattr(cw, target.split(".")[0])
    with pytest.raises(TypeError, match=words + r" \(np.asarray"):
        call(module)


def test_the_models_name_a_list_batch():
    two = cw.mlp.TwoLayerNet(5, 4, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="TwoLayerNet.loss: X must be an array, got list"):
        two.loss(X4.tolist())
    with pytest.raises(TypeError, match="TwoLayerNet.loss: y must be an array, got list"):
        two.loss(X4, Y4.tolist())
    conv = cw.cnn.ThreeLayerConvNet((3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4,
                                    rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="ThreeLayerConvNet.loss: X must be an array, got list"):
        conv.loss(IMAGES.tolist())
    net = cw.regularization.RegularizedNet([4], 5, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="RegularizedNet.loss: X must be an array, got list"):
        net.loss(X4.tolist())


def test_the_stubs_raise_the_same_checks():
    """The checks are outside the solution markers: a student's unfinished stub raises them
    before its NotImplementedError."""
    from coursework import gradcheck, layers, linear

    with pytest.raises(TypeError, match="affine_forward: x must be an array, got list"):
        layers.affine_forward(X4.tolist(), W53, np.zeros(3))
    model = linear.LinearSVM()
    model.W = W53
    with pytest.raises(ValueError, match="did you forget the bias column of ones"):
        model.predict(X4[:, :4])
    with pytest.raises(TypeError, match=r"f\(x\) must return an array, got a tuple of 2"):
        gradcheck.numerical_gradient_array(lambda v: (v, v), np.ones(3), np.ones(3))


# ---------------------------------------------------------------- unit 01: LinearClassifier

def test_predict_without_the_bias_column_says_so():
    """``predict(X)`` on rows without the column of ones failed in matmul ("mismatch in
    its core dimension 0"), a 1-D row with an AxisError."""
    model = cw.linear.LinearSVM()
    model.W = W53
    with pytest.raises(ValueError, match=r"predict: X\(4, 4\) should be \(N, 5\).*W\(5, 3\).*"
                                         "bias column of ones"):
        model.predict(X4[:, :4])
    with pytest.raises(ValueError, match=r"predict: X\(5,\) should be \(N, 5\)"):
        model.predict(X4[0])
    assert model.predict(X4).shape == (4,)


@pytest.mark.parametrize("kwargs,error,words", [
    ({"num_iters": 10.0}, ValueError, "train: num_iters must be a positive integer, got 10.0"),
    ({"batch_size": 2.0}, ValueError, "train: batch_size must be a positive integer, got 2.0"),
    ({"num_iters": 0}, ValueError, "train: num_iters must be a positive integer, got 0"),
    ({"learning_rate": "0.1"}, TypeError, "train: learning_rate must be a real number"),
    ({"learning_rate": -0.1}, ValueError, "train: learning_rate must be >= 0"),
])
def test_train_names_a_bad_hyperparameter(kwargs, error, words):
    """``num_iters=10.0`` failed in range() ("'float' object cannot be interpreted as an
    integer"), batch_size=2.0 inside rng.choice, a string learning rate in a ufunc."""
    with pytest.raises(error, match=words):
        cw.linear.LinearSVM().train(X4, Y4, rng=np.random.default_rng(0), **kwargs)


def test_train_on_no_examples_and_on_a_zero_learning_rate():
    with pytest.raises(ValueError, match=r"train: X\(0, 5\) has no examples"):
        cw.linear.LinearSVM().train(X4[:0], Y4[:0], rng=np.random.default_rng(0))
    # learning_rate 0 is allowed (the grader itself trains with it)
    losses = cw.linear.Softmax().train(X4, Y4, learning_rate=0.0, num_iters=np.int64(3),
                                       batch_size=2, rng=np.random.default_rng(0))
    assert len(losses) == 3


# ---------------------------------------------------------------- unit 02: numerical gradients

def test_numerical_gradient_names_a_loss_that_returns_a_pair():
    """``f = lambda W: svm_loss(...)`` (the pair, without [0]) failed in the middle of
    the probes with "float() argument must be ... not 'tuple'"."""
    ng = cw.gradcheck.numerical_gradient
    with pytest.raises(TypeError, match=r"numerical_gradient: f\(x\) must return a number, got "
                                        r"a tuple of 2.*\[0\]"):
        ng(lambda v: (float((v * v).sum()), 2 * v), np.ones(3))
    with pytest.raises(TypeError, match=r"f\(x\) must return a number, got an array of shape "
                                        r"\(3,\)"):
        ng(lambda v: v * v, np.ones(3))
    with pytest.raises(TypeError, match="f must be a function called as f"):
        ng(np.ones(3), np.ones(3))
    # a 0-d array or a NumPy scalar is a number
    np.testing.assert_allclose(ng(lambda v: (v * v).sum(), np.ones(3)), 2 * np.ones(3),
                               rtol=1e-6)


def test_numerical_gradient_array_refuses_what_it_summed_silently():
    """``f = layer_forward`` without [0] (out, cache) was stacked into one array and
    dout of another shape broadcast: both gave a wrong gradient without an error."""
    nga = cw.gradcheck.numerical_gradient_array
    x = rng.standard_normal((2, 3))
    with pytest.raises(TypeError, match=r"f\(x\) must return an array, got a tuple of 2.*\[0\]"):
        nga(lambda v: cw.layers.relu_forward(v), x, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(2, 3\) but dout has shape \(3,\)"):
        nga(lambda v: 2 * v, x, np.ones(3))
    with pytest.raises(TypeError, match="dout must be an array"):
        nga(lambda v: 2 * v, x, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(nga(lambda v: (2 * v).T, x, np.ones((3, 2))),
                               2 * np.ones((2, 3)), rtol=1e-6)


# ---------------------------------------------------------------- units 03-04

def test_lenet_names_filters_given_as_one_number():
    """``filters=6`` failed with "object of type 'int' has no len()"."""
    with pytest.raises(ValueError, match="LeNet5: filters and hidden_dims hold two sizes each, "
                                         "got 6"):
        cw.cnn.LeNet5(filters=6, rng=np.random.default_rng(0))
    cw.cnn.LeNet5(filters=np.array([6, 16]), rng=np.random.default_rng(0))  # a pair still


def test_spatial_batchnorm_of_an_empty_batch_in_training_gets_the_check():
    """The check itself raised IndexError (x[0, 0] of an empty batch)."""
    norm = cw.normalization
    with pytest.raises(ValueError, match=r"training mode needs at least 2 values per feature.*"
                                         r"x\(0, 3, 4, 4\)"):
        norm.spatial_batchnorm_forward(np.zeros((0, 3, 4, 4)), np.ones(3), np.zeros(3),
                                       norm.initial_state(3))
    # one example of 2 x 1 pixels has 2 values per channel: allowed
    norm.spatial_batchnorm_forward(np.array([[[[1.0], [2.0]]]]), np.ones(1), np.zeros(1),
                                   norm.initial_state(1))


def test_initial_state_names_a_bad_size():
    with pytest.raises(ValueError, match="initial_state: num_features must be >= 0, got -3"):
        cw.normalization.initial_state(-3)
    with pytest.raises(TypeError, match="initial_state: num_features must be an integer, got 3.0"):
        cw.normalization.initial_state(3.0)


def test_regularized_net_names_an_unknown_dtype():
    with pytest.raises(TypeError, match="RegularizedNet: dtype must be a floating type, got 'foo'"):
        cw.regularization.RegularizedNet([4], 5, 3, dtype="foo", rng=np.random.default_rng(0))


def test_mixup_of_integer_labels_says_to_make_them_one_hot():
    with pytest.raises(ValueError, match=r"mixup: targets must be \(N, K\).*got \(2,\).*"
                                         r"np.eye\(K\)\[y\]"):
        cw.augmentation.mixup(rng.random((2, 3, 4, 4)), np.array([0, 1]), alpha=0.2,
                              rng=np.random.default_rng(0))


# ---------------------------------------------------------------- provided code: Trainer, data

@pytest.mark.parametrize("kwargs,words", [
    ({"num_val_samples": 0}, "num_val_samples must be None \\(all\\) or a positive integer, got 0"),
    ({"num_train_samples": 1e3}, "num_train_samples must be None .* got 1000.0"),
])
def test_trainer_checks_the_sample_counts_when_built(kwargs, words):
    """``num_val_samples=0`` made every validation accuracy 0.0 without an error, and
    num_train_samples=1e3 failed in rng.choice after the first epoch."""
    model = cw.mlp.TwoLayerNet(5, 4, 3, rng=np.random.default_rng(0))
    data = {"X_train": X4, "y_train": Y4, "X_val": X4, "y_val": Y4}
    with pytest.raises(ValueError, match="Trainer: " + words):
        cw.training.Trainer(model, data, rng=np.random.default_rng(0), **kwargs)


def test_data_helpers_name_a_bad_input():
    data = cw.data
    with pytest.raises(ValueError, match=r"add_bias_column: X should be an array \(N, D\).*"
                                         r"got \(3,\)"):
        data.add_bias_column(np.ones(3))
    images = data.load_digits_split(flatten=False)
    with pytest.raises(ValueError, match=r"preprocess: X_train should be \(N, D\) rows.*"
                                         r"\(1197, 1, 8, 8\).*flatten=True"):
        data.preprocess(images)
    assert data.preprocess(images, bias=False)["X_train"].shape == (1197, 1, 8, 8)
    with pytest.raises(ValueError, match="make_hard_case: n must be a positive integer, got "
                                         "300.0"):
        data.make_hard_case("xor", 300.0)


# ---------------------------------------------------------------- unit 05 and the Trainer

def test_an_update_rule_refuses_lr_for_learning_rate():
    """``sgd(w, dw, {"lr": 0.1})`` stepped with the default rate 0.01 without a word (the
    Trainer already refused 'lr' in its optim_config; a rule called directly did not)."""
    with pytest.raises(ValueError, match=r"sgd: config has the key 'lr', which no update rule "
                                         r"reads: write \{'learning_rate': 0.1\}"):
        cw.optim.sgd(np.ones(3), np.ones(3), {"lr": 0.1})
    with pytest.raises(ValueError, match="adam: config has the key 'lr'"):
        cw.optim.adam(np.ones(3), np.ones(3), {"lr": 1e-3, "beta1": 0.9})
    # both keys: learning_rate is the one read, as before
    next_w, _ = cw.optim.sgd(np.ones(3), np.ones(3), {"lr": 5.0, "learning_rate": 0.5})
    np.testing.assert_allclose(next_w, 0.5 * np.ones(3))


def test_trainer_names_the_rules_it_knows_and_a_data_list():
    """A misspelt rule was told only 'available here: sgd (more come with
    coursework/optim.py)' although optim.py was there; data=[X, y] failed with "The truth value
    of an array with more than one element is ambiguous"."""
    model = cw.mlp.TwoLayerNet(5, 4, 3, rng=np.random.default_rng(0))
    data = {"X_train": X4, "y_train": Y4, "X_val": X4, "y_val": Y4}
    with pytest.raises(ValueError, match="unknown update rule 'adma'; available: adadelta, "
                                         "adagrad, adam, nesterov, rmsprop, sgd, sgd_momentum$"):
        cw.training.Trainer(model, data, update_rule="adma", rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Trainer: data must be a dict .* got list"):
        cw.training.Trainer(model, [X4, Y4], rng=np.random.default_rng(0))
    trainer = cw.training.Trainer(model, data, update_rule="adam", rng=np.random.default_rng(0))
    assert trainer.update_rule is cw.optim.adam
