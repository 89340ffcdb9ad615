"""The provided helpers: backend selection and the datasets."""

import pickle

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()


def test_xp_of_is_numpy_for_numpy_and_plain_values():
    assert cw.backend.xp_of(np.zeros(2), 3.0, None) is np
    assert cw.backend.xp_of() is np


def test_xp_of_picks_cupy_and_rejects_a_mix_naming_both(monkeypatch):
    # A stand-in for CuPy, so the rule is tested on machines without a GPU too.
    import types

    fake = types.ModuleType("cupy")
    ndarray = type("ndarray", (), {"__module__": "cupy"})
    fake.ndarray = ndarray
    monkeypatch.setattr(cw.backend, "_cupy", fake)
    assert cw.backend.xp_of(ndarray(), 1.0) is fake
    with pytest.raises(TypeError, match=r"argument 0 is a numpy.ndarray but argument 1 is a "
                                        r"cupy.ndarray"):
        cw.backend.xp_of(np.zeros(2), ndarray())


@pytest.mark.skipif(not cw.backend.gpu_available(), reason="needs CuPy and a CUDA GPU")
def test_real_cupy_round_trip():
    import cupy

    a = cupy.arange(3)
    assert cw.backend.xp_of(a) is cupy
    assert np.array_equal(cw.backend.to_numpy(a), np.arange(3))


def test_to_numpy_returns_numpy_arrays():
    a = np.arange(3)
    assert cw.backend.to_numpy(a) is a
    assert isinstance(cw.backend.to_numpy([1, 2]), np.ndarray)


def test_digits_split_is_deterministic_and_disjoint():
    a = cw.data.load_digits_split(seed=0)
    b = cw.data.load_digits_split(seed=0)
    c = cw.data.load_digits_split(seed=1)
    assert a["X_train"].shape == (1197, 64) and a["X_val"].shape == (300, 64)
    assert a["X_test"].shape == (300, 64)
    assert np.array_equal(a["X_train"], b["X_train"])
    assert not np.array_equal(a["X_train"], c["X_train"])
    images = cw.data.load_digits_split(flatten=False)
    assert images["X_train"].shape == (1197, 1, 8, 8)


def test_preprocess_uses_the_training_mean_only_and_adds_a_bias_column():
    data = cw.data.load_digits_split()
    out = cw.data.preprocess(data)
    assert out["X_train"].shape == (1197, 65)
    assert np.allclose(out["X_train"][:, :-1].mean(axis=0), 0)
    assert np.all(out["X_val"][:, -1] == 1)
    assert np.allclose(out["X_val"][:, :-1], data["X_val"] - data["X_train"].mean(axis=0))
    assert data["X_train"].shape == (1197, 64)  # input not modified


@pytest.mark.parametrize("kind", ["xor", "ring", "modes"])
def test_hard_cases_defeat_a_linear_classifier(kind):
    from sklearn.linear_model import LogisticRegression

    X, y = cw.data.make_hard_case(kind, 400)
    assert X.shape == (400, 2) and set(np.unique(y)) == {0, 1}
    accuracy = LogisticRegression().fit(X, y).score(X, y)
    assert accuracy < 0.75


def test_hard_case_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="'spiral'"):
        cw.data.make_hard_case("spiral")


def _write_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"labels": list(rng.integers(0, 10, n))}
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    return batch


def test_cifar10_loader_reads_the_standard_pickles(tmp_path):
    batches = [_write_batch(tmp_path / f"data_batch_{i}", 4, i) for i in range(1, 6)]
    test = _write_batch(tmp_path / "test_batch", 3, 9)
    X_train, y_train, X_test, y_test = cw.data.load_cifar10(tmp_path)
    assert X_train.shape == (20, 3, 32, 32) and X_train.dtype == np.uint8
    assert X_test.shape == (3, 3, 32, 32) and y_test.tolist() == [int(v) for v in test[b"labels"]]
    # Channel-major layout: the first 1024 values are the red plane of the first image.
    assert np.array_equal(X_train[0, 0].ravel(), batches[0][b"data"][0, :1024])
    assert y_train.shape == (20,)


def test_cifar10_loader_names_the_directory_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        cw.data.load_cifar10(tmp_path / "nope")
    _write_batch(tmp_path / "data_batch_1", 2, 0)
    with pytest.raises(FileNotFoundError) as info:
        cw.data.load_cifar10(tmp_path)
    assert str(tmp_path) in str(info.value) and "data_batch_2" in str(info.value)
    assert "test_batch" in str(info.value)
