"""Unit 06's provided code: the synthetic shapes, the PyTorch training helper, the pretrained
network (reference package)."""

import math

import numpy as np
import pytest

from autograder.oracle import REFERENCE_PACKAGE, load_reference

torch = pytest.importorskip("torch")
nn = torch.nn

cw = load_reference()
data = cw.data
tt = cw.torch_training


def test_make_shapes_is_seeded_and_consistent():
    a = data.make_shapes(40, seed=5)
    b = data.make_shapes(40, seed=5)
    c = data.make_shapes(40, seed=6)
    assert np.array_equal(a["images"], b["images"]) and not np.array_equal(a["images"],
                                                                           c["images"])
    assert a["images"].shape == (40, 3, 32, 32) and a["images"].dtype == np.float32
    assert a["images"].min() >= 0 and a["images"].max() <= 1
    assert a["labels"].dtype == np.int64 and set(a["labels"]) <= set(range(8))
    assert a["masks"].shape == (40, 32, 32)
    for i in range(40):
        values = set(np.unique(a["masks"][i]))
        assert values == {0, a["labels"][i] + 1}, (i, values)
        rows = np.flatnonzero(a["masks"][i].any(axis=1))
        cols = np.flatnonzero(a["masks"][i].any(axis=0))
        assert tuple(a["boxes"][i]) == (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)


def test_make_shapes_subsets_sizes_and_errors():
    d = data.make_shapes(30, seed=0, classes=("ring", "bar"), textures=("dots",), size=16)
    assert d["images"].shape == (30, 3, 16, 16)
    assert set(d["labels"]) <= {0, 1} and set(d["texture_labels"]) == {0}
    assert d["class_names"] == ("ring", "bar")
    with pytest.raises(ValueError, match="hexagon"):
        data.make_shapes(3, classes=("hexagon",))
    with pytest.raises(ValueError):
        data.make_shapes(0)


def test_classes_differ_in_shape_not_only_in_colour():
    """The mean mask of each class differs (the shapes are really different)."""
    d = data.make_shapes(800, seed=1, size=16)
    areas = [np.mean(d["masks"][d["labels"] == k] > 0) for k in range(8)]
    assert max(areas) / min(areas) > 1.5


def test_standardize_images():
    d = data.make_shapes(10, seed=2)
    s = data.standardize_images(d["images"])
    assert s.dtype == np.float32 and s.shape == d["images"].shape
    np.testing.assert_allclose(s.mean(axis=(2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(s.std(axis=(2, 3)), 1, atol=0.05)


def test_layer_table_and_multiply_adds():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    rows = tt.layer_table(model, (3, 9, 11))
    assert [r["output"] for r in rows] == [(4, 5, 6), (4, 5, 6), (4, 1, 1), (5,)]
    expected = 4 * 5 * 6 * 3 * 9 + 4 * 5 * 6 * 1 * 9 + 4 * 5
    assert tt.multiply_adds(model, (3, 9, 11)) == expected
    assert [r["params"] for r in rows] == [3 * 9 * 4 + 4, 4 * 9, 0, 4 * 5 + 5]
    assert tt.weight_layers(model) == 3
    with torch.device("meta"):
        meta = nn.Sequential(nn.Conv2d(3, 8, 5), nn.Flatten(), nn.Linear(8 * 28 * 28, 10))
    assert tt.multiply_adds(meta, (3, 32, 32)) == 8 * 28 * 28 * 75 + 8 * 28 * 28 * 10


def test_fit_learns_and_early_stopping_restores_the_best():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1, 4, 4)).astype(np.float32)
    y = (X[:, 0, 0, 0] + X[:, 0, 1, 1] > 0).astype(np.int64)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    h = tt.fit(model, (X[:150], y[:150]), (X[150:], y[150:]), epochs=15, lr=0.05,
               batch_size=16, progress=False, cosine=True)
    assert len(h["loss"]) == len(h["train_acc"]) == len(h["val_acc"]) == 15
    assert h["loss"][-1] < h["loss"][0]
    assert tt.accuracy(model, X[150:], y[150:]) >= 0.85  # a linear rule: nearly separable
    # patience: the restored weights give the best validation accuracy seen
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    h = tt.fit(model, (X[:150], y[:150]), (X[150:], y[150:]), epochs=30, lr=1.0,
               batch_size=8, optimizer="sgd", patience=2, progress=False)
    assert len(h["val_acc"]) <= 30
    assert math.isclose(tt.accuracy(model, X[150:], y[150:]), max(h["val_acc"]))
    assert h["val_acc"][h["best_epoch"]] == max(h["val_acc"])


def test_fit_trains_only_unfrozen_parameters():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    first = model[0].weight.detach().clone()
    model[0].weight.requires_grad = False
    model[0].bias.requires_grad = False
    X = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    tt.fit(model, (X, np.arange(20) % 2), epochs=2, progress=False)
    assert torch.equal(model[0].weight, first)


def test_gradient_norms_in_forward_order():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 2 * 2, 3))
    norms = tt.gradient_norms(model, np.ones((2, 1, 4, 4), np.float32), np.array([0, 1]))
    assert [n for n, _ in norms] == ["0", "2"] and all(v > 0 for _, v in norms)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_pretrained_network_is_small_and_solves_its_source_task():
    weights = REFERENCE_PACKAGE / "pretrained_weights.py"
    assert weights.stat().st_size < 5 * 1024 * 1024
    model = cw.pretrained.load_pretrained()
    assert not model.training
    test = data.make_shapes(400, seed=77, **cw.pretrained.SOURCE)
    acc = tt.accuracy(model, data.standardize_images(test["images"]), test["labels"])
    assert acc > 0.7, acc  # chance is 0.25
