"""The GPU suite (``make test-gpu``; pytest marker ``gpu``): every unit's reference on CuPy
against the CPU reference, grading on the GPU, and one notebook per unit on the GPU.

Skipped, with the reason, where there is no CuPy or no usable CUDA device (``device.py``).

Tolerances: float64 on the GPU agrees with the CPU to rtol 1e-9 (different summation orders and
fused multiply-adds; no loss of precision otherwise); float32 to rtol 1e-4, atol 1e-5 (the
single-precision rounding of sums over up to a few thousand terms).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import device, engine
from autograder.oracle import load_reference
from autograder.sandbox import Limits

from .submissions import make_submission

PROBLEM = device.cuda_problem()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(PROBLEM is not None, reason=str(PROBLEM))]
ROOT = Path(__file__).resolve().parents[2]
TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}

cw = load_reference()


def _rng():
    return np.random.default_rng(19)


def _r(*shape):
    return _rng().standard_normal(shape)


def _labels(n, c):
    return _rng().integers(0, c, size=n)


# module.function -> (inputs builder, index of the upstream gradient's source or None)
# Each builder returns (args, kwargs) of NumPy float64 arrays; backward passes take the cache of
# the matching forward pass (built on the same device).
FORWARD = {
    "linear.svm_loss_vectorized": lambda: ((_r(20, 5) * 1e-2, _r(7, 20), _labels(7, 5), 0.1), {}),
    "linear.softmax_loss_vectorized": lambda: ((_r(20, 5) * 1e-2, _r(7, 20), _labels(7, 5), 0.1),
                                               {}),
    "layers.affine_forward": lambda: ((_r(4, 3, 2), _r(6, 5), _r(5)), {}),
    "layers.relu_forward": lambda: ((_r(4, 5),), {}),
    "layers.sigmoid_forward": lambda: ((_r(4, 5),), {}),
    "layers.tanh_forward": lambda: ((_r(4, 5),), {}),
    "layers.leaky_relu_forward": lambda: ((_r(4, 5),), {"alpha": 0.2}),
    "layers.elu_forward": lambda: ((_r(4, 5),), {"alpha": 0.7}),
    "layers.maxout_forward": lambda: ((_r(4, 6), _r(6, 3, 5), _r(3, 5)), {}),
    "losses.softmax_loss": lambda: ((_r(6, 4), _labels(6, 4)), {}),
    "losses.svm_loss": lambda: ((_r(6, 4), _labels(6, 4)), {}),
    "losses.mse_loss": lambda: ((_r(6, 4), _r(6, 4)), {}),
    "losses.bce_with_logits_loss": lambda: ((_r(6, 4), (_r(6, 4) > 0) * 1.0), {}),
    "conv.conv_forward": lambda: ((_r(2, 3, 7, 5), _r(4, 3, 3, 3), _r(4)),
                                  {"stride": 2, "pad": 1}),
    "conv.max_pool_forward": lambda: ((_r(2, 3, 6, 8),), {"pool_size": 2, "stride": 2}),
    "conv.avg_pool_forward": lambda: ((_r(2, 3, 6, 8),), {"pool_size": 3, "stride": 1}),
    "conv.global_avg_pool_forward": lambda: ((_r(2, 3, 5, 4),), {}),
    "rnn.rnn_forward": lambda: ((_r(3, 5, 4), _r(3, 6), _r(4, 6), _r(6, 6), _r(6)), {}),
    "rnn.lstm_forward": lambda: ((_r(3, 5, 4), _r(3, 6), _r(4, 24) * 0.3, _r(6, 24) * 0.3,
                                  _r(24)), {}),
    "rnn.word_embedding_forward": lambda: ((np.array([[0, 2, 2], [3, 2, 0]]), _r(5, 4)), {}),
    "rnn.temporal_affine_forward": lambda: ((_r(2, 3, 4), _r(4, 5), _r(5)), {}),
    "rnn.temporal_softmax_loss": lambda: ((_r(2, 3, 5), np.array([[0, 4, 1], [2, 2, 3]]),
                                           np.array([[1, 1, 0], [1, 0, 1]], dtype=bool)), {}),
    "optim.sgd_momentum": lambda: ((_r(3, 4), _r(3, 4), {"learning_rate": 0.1}), {}),
    "optim.nesterov": lambda: ((_r(3, 4), _r(3, 4), {"learning_rate": 0.1}), {}),
    "optim.adagrad": lambda: ((_r(3, 4), _r(3, 4), None), {}),
    "optim.rmsprop": lambda: ((_r(3, 4), _r(3, 4), None), {}),
    "optim.adam": lambda: ((_r(3, 4), _r(3, 4), {"weight_decay": 0.01}), {}),
    "optim.clip_grad_norm": lambda: (({"a": _r(3, 4), "b": _r(5)}, 1.0), {}),
    "normalization.batchnorm_forward": lambda: (
        (_r(6, 5), _r(5), _r(5), {"running_mean": _r(5), "running_var": _r(5) ** 2}),
        {"momentum": 0.8}),
    "normalization.spatial_batchnorm_forward": lambda: (
        (_r(3, 4, 5, 2), _r(4), _r(4), {"running_mean": _r(4), "running_var": _r(4) ** 2}), {}),
    "normalization.layernorm_forward": lambda: ((_r(6, 5), _r(5), _r(5)), {}),
    "normalization.groupnorm_forward": lambda: ((_r(3, 4, 5, 2), _r(4), _r(4)), {"groups": 2}),
    "normalization.instancenorm_forward": lambda: ((_r(3, 4, 5, 2), _r(4), _r(4)), {}),
    "regularization.dropout_forward": lambda: ((_r(6, 5),),
                                               {"p": 0.3, "rng": np.random.default_rng(0)}),
    "regularization.l2_penalty": lambda: (([_r(3, 4), _r(5)], 0.1), {}),
    "regularization.l1_penalty": lambda: (([_r(3, 4), _r(5)], 0.1), {}),
    "augmentation.random_horizontal_flip": lambda: ((_r(5, 3, 4, 6),),
                                                    {"rng": np.random.default_rng(0)}),
    "augmentation.random_crop": lambda: ((_r(5, 3, 6, 6),), {"size": 4, "padding": 1,
                                                            "rng": np.random.default_rng(0)}),
    "augmentation.color_jitter": lambda: ((_r(5, 3, 4, 6),), {
        "brightness": 0.2, "contrast": 0.3, "saturation": 0.4, "rng": np.random.default_rng(0)}),
    "augmentation.cutout": lambda: ((_r(5, 3, 6, 6),), {"size": 2,
                                                       "rng": np.random.default_rng(0)}),
    "augmentation.mixup": lambda: ((_r(5, 3, 4, 6), np.eye(5)[[0, 2, 1, 4, 4]]),
                                   {"alpha": 0.4, "rng": np.random.default_rng(0)}),
}
# Units merged into main so far; a key whose module is not in this tree is left out.
FORWARD = {k: v for k, v in FORWARD.items() if hasattr(cw, k.split(".")[0])}
BACKWARD = {  # forward key -> backward function name
    "layers.affine_forward": "affine_backward", "layers.relu_forward": "relu_backward",
    "layers.sigmoid_forward": "sigmoid_backward", "layers.tanh_forward": "tanh_backward",
    "layers.leaky_relu_forward": "leaky_relu_backward", "layers.elu_forward": "elu_backward",
    "layers.maxout_forward": "maxout_backward", "conv.conv_forward": "conv_backward",
    "conv.max_pool_forward": "max_pool_backward", "conv.avg_pool_forward": "avg_pool_backward",
    "conv.global_avg_pool_forward": "global_avg_pool_backward", "rnn.rnn_forward": "rnn_backward",
    "rnn.lstm_forward": "lstm_backward", "rnn.word_embedding_forward": "word_embedding_backward",
    "rnn.temporal_affine_forward": "temporal_affine_backward",
    "normalization.batchnorm_forward": ("batchnorm_backward", "batchnorm_backward_alt"),
    "normalization.spatial_batchnorm_forward": "spatial_batchnorm_backward",
    "normalization.layernorm_forward": "layernorm_backward",
    "normalization.groupnorm_forward": "groupnorm_backward",
    "normalization.instancenorm_forward": "instancenorm_backward",
    "regularization.dropout_forward": "dropout_backward",
}


def _cupy():
    import cupy

    return cupy


def _to(xp, obj, dtype):
    if isinstance(obj, np.ndarray):
        a = obj.astype(dtype) if obj.dtype.kind == "f" else obj
        return xp.asarray(a)
    if isinstance(obj, dict):
        return {k: _to(xp, v, dtype) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to(xp, v, dtype) for v in obj]
    return obj


def _host(obj):
    if isinstance(obj, tuple):
        return tuple(_host(o) for o in obj)
    return cw.backend.to_numpy(obj) if hasattr(obj, "shape") else obj


def _run(key, xp, dtype):
    module, name = key.split(".")
    args, kwargs = FORWARD[key]()
    args = tuple(_to(xp, a, dtype) for a in args)
    out = getattr(getattr(cw, module), name)(*args, **kwargs)
    results = [out]
    if key in BACKWARD:  # (value, cache, more...): lstm's c_last, batch norm's new state
        value, cache = out[0], out[1]
        dout = xp.asarray(np.random.default_rng(7).standard_normal(value.shape).astype(dtype))
        names = BACKWARD[key] if isinstance(BACKWARD[key], tuple) else (BACKWARD[key],)
        results = [value, *out[2:]] + [getattr(getattr(cw, module), n)(dout, cache)
                                       for n in names]
    return results


def _compare(cpu, gpu, dtype, what):
    cpu, gpu = list(_flatten(cpu)), list(_flatten(gpu))
    assert len(cpu) == len(gpu), f"{what}: {len(gpu)} outputs on the GPU, {len(cpu)} on the CPU"
    for c, g in zip(cpu, gpu):
        if isinstance(c, (float, np.floating)) or hasattr(c, "shape"):
            assert type(g).__module__.split(".")[0] in ("cupy", "numpy", "builtins"), what
            np.testing.assert_allclose(np.asarray(_host(g), dtype=np.float64),
                                       np.asarray(c, dtype=np.float64), **TOL[dtype],
                                       err_msg=what)


def _flatten(obj):
    if isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _flatten(o)
    elif isinstance(obj, dict):  # an optimizer's config, clipped gradients
        for k in sorted(obj):
            yield from _flatten(obj[k])
    else:
        yield obj


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("key", sorted(FORWARD))
def test_reference_on_gpu_matches_cpu(key, dtype):
    cp = _cupy()
    cpu = _run(key, np, dtype)
    gpu = _run(key, cp, dtype)
    # arrays the reference returns stay on the GPU
    first = gpu[0][0] if isinstance(gpu[0], tuple) else gpu[0]
    if hasattr(first, "shape"):
        assert isinstance(first, cp.ndarray), f"{key} returned {type(first)} for CuPy inputs"
    _compare(cpu, gpu, dtype, key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_models_loss_and_gradients_on_gpu(dtype):
    cp = _cupy()
    models = [
        cw.cnn.ThreeLayerConvNet((3, 8, 8), num_filters=4, filter_size=3, hidden_dim=7,
                                 num_classes=5, reg=0.1, dtype=dtype,
                                 rng=np.random.default_rng(0)),
        cw.mlp.FullyConnectedNet([6, 5], 3 * 8 * 8, 5, reg=0.1, dtype=dtype,
                                 rng=np.random.default_rng(0)),
    ]
    X4 = _r(3, 3, 8, 8).astype(dtype)
    y = _labels(3, 5)
    for model, X in zip(models, (X4, X4.reshape(3, -1))):
        loss_cpu, grads_cpu = model.loss(X, y)
        params = model.params
        model.params = {k: cp.asarray(v) for k, v in params.items()}
        loss_gpu, grads_gpu = model.loss(cp.asarray(X), cp.asarray(y))
        model.params = params
        np.testing.assert_allclose(float(loss_gpu), loss_cpu, **TOL[dtype])
        for k in grads_cpu:
            assert isinstance(grads_gpu[k], cp.ndarray)
            np.testing.assert_allclose(cp.asnumpy(grads_gpu[k]), grads_cpu[k], **TOL[dtype],
                                       err_msg=f"{type(model).__name__} d{k}")


def test_backend_on_cupy():
    cp = _cupy()
    a = cp.zeros((4, 2))
    cw.backend.add_at(a, cp.array([1, 1, 3]), cp.ones((3, 2)))
    assert np.array_equal(cp.asnumpy(a), [[0, 0], [2, 2], [0, 0], [1, 1]])
    x = cp.arange(24.0).reshape(2, 3, 4)
    v = cw.backend.sliding_window_view(x, (2, 2), axis=(1, 2))
    ref = np.lib.stride_tricks.sliding_window_view(np.arange(24.0).reshape(2, 3, 4), (2, 2),
                                                   axis=(1, 2))
    assert np.array_equal(cp.asnumpy(v), ref)
    assert isinstance(cw.backend.default_rng(0, like=x), cp.random.Generator)
    assert isinstance(cw.backend.asarray_like(np.ones(2), x), cp.ndarray)


def _grade_on_gpu(tmp_path, submission_kwargs, units):
    sub = make_submission(tmp_path, **submission_kwargs)
    return engine.grade(sub, units, limits=Limits(device="cuda"), public_only=True)


def test_grading_the_reference_on_the_gpu_scores_full_marks(tmp_path):
    from autograder.units import UNITS

    result = _grade_on_gpu(tmp_path, {}, list(UNITS))
    assert result["device"] == "cuda"
    failed = {k: e["message"] for u in result["units"].values()
              for k, e in u["functions"].items() if e["score"] != e["max"]}
    assert not failed, failed


def test_grading_a_wrong_submission_on_the_gpu_fails_it(tmp_path):
    wrong = "\n\ndef relu_forward(x):\n    return x * 1.0, x\n"
    result = _grade_on_gpu(tmp_path, {"append": {"layers.py": wrong}}, ["02"])
    entry = result["units"]["02_mlp"]["functions"]["layers.relu_forward"]
    assert entry["score"] < entry["max"]


def test_check_on_the_gpu():
    from autograder.notebook_check import check

    check("linear.svm_loss_vectorized", submission=str(ROOT / "solutions"), device="cuda")


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.skipif(importlib.util.find_spec("nbval") is None, reason="needs nbval")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_the_gpu(notebook, tmp_path):
    """Each notebook executed with COURSE_DEVICE=cuda: its ``check(...)`` cells grade on the GPU
    (the notebooks' own computations stay NumPy); every cell must run. Outputs are not compared
    (numbers may differ in the last digits)."""
    env = dict(os.environ, COURSE_DEVICE="cuda", PYTHONPATH=str(ROOT / "solutions"),
               MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--output-dir", str(tmp_path), str(notebook)],
        env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
