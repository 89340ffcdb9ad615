"""The GPU suite (``make test-gpu``; pytest marker ``gpu``): every unit's reference on CuPy
against the CPU reference, grading on the GPU, and one notebook per unit on the GPU.

Skipped, with the reason, where there is no CuPy or no usable CUDA device (``device.py``).

Tolerances: float64 on the GPU agrees with the CPU to rtol 1e-9 (different summation orders and
fused multiply-adds; no loss of precision otherwise); float32 to rtol 1e-4, atol 1e-5 (the
single-precision rounding of sums over up to a few thousand terms). Integer and boolean outputs
(labels, kept indices, true-positive masks, confusion matrices) must be equal, dtype included.
``test_gpu_coverage.py`` checks, without a GPU, that FORWARD names every graded NumPy function.
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
from autograder.specs import detection as det_spec
from autograder.specs import segmentation as seg_spec

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


def _rs(seed, *shapes):
    """Arrays of standard normal values of the given shapes, all different (one generator)."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape) for shape in shapes)


def _spec(builder, *args, n=None, drop=(), **kwargs):
    """(args, kwargs) from one of the specs' input builders: its first ``n`` arrays (the rest is
    an upstream gradient), without the keyword arguments named in ``drop``."""
    out = builder(*args, **kwargs)
    inputs, kw = (out if len(out) == 2 and isinstance(out[1], dict) else (out, {}))
    return tuple(inputs[:n]), {k: v for k, v in kw.items() if k not in drop}


def _all_ignored():
    (pred, target), kwargs = seg_spec.label_inputs(66, (2, 3, 4), 3, ignore=255)
    return (pred, np.full_like(target, 255)), kwargs


# module.function[#variant] -> inputs builder. Each builder returns (args, kwargs) of NumPy arrays
# (float arrays float64, cast to the dtype under test; lists, tuples and dicts of arrays are
# moved too); backward passes take the cache of the matching forward pass (built on the same
# device). A "#variant" suffix runs a function again on inputs that take another code path.
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
    "optim.adadelta": lambda: ((_r(3, 4), _r(3, 4), {"weight_decay": 0.1}), {}),
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
    # the loop versions and helpers of units 01-05 and 09
    "linear.svm_loss_naive": lambda: ((_r(20, 5) * 1e-2, _r(7, 20), _labels(7, 5), 0.1), {}),
    "linear.softmax_loss_naive": lambda: ((_r(20, 5) * 1e-2, _r(7, 20), _labels(7, 5), 0.1), {}),
    "losses.bce_loss": lambda: ((1 / (1 + np.exp(-_r(6, 4))), (_rs(1, (6, 4))[0] > 0) * 1.0),
                                {}),
    "gradcheck.relative_error": lambda: (_rs(2, (3, 4), (3, 4)), {}),
    # f sums in float64 and the step is large: the divided differences do not magnify the
    # float32 rounding, which differs between the devices in the last bits
    "gradcheck.numerical_gradient": lambda: (
        (lambda x: (x.astype("float64") ** 3).sum(), _r(3, 4)), {"h": 0.05}),
    "gradcheck.numerical_gradient_array": lambda: (
        (lambda x: x.astype("float64") ** 3 - 2 * x, *_rs(3, (3, 4), (3, 4))), {"h": 0.05}),
    "conv.conv_forward_naive": lambda: (_rs(4, (2, 3, 7, 5), (4, 3, 3, 3), (4,)),
                                        {"stride": 2, "pad": 1}),
    "conv.max_pool_forward_naive": lambda: ((_r(2, 3, 6, 8),), {"pool_size": 2, "stride": 2}),
    "optim.sgd": lambda: (_rs(5, (3, 4), (3, 4)) + ({"learning_rate": 0.1},), {}),
    "rnn.rnn_step_forward": lambda: (_rs(6, (3, 4), (3, 6), (4, 6), (6, 6), (6,)), {}),
    "rnn.lstm_step_forward": lambda: (_rs(7, (3, 4), (3, 6), (3, 6), (4, 24), (6, 24), (24,)),
                                      {}),
    # unit 07 (segmentation.py), on the specs' inputs: stride > 1, pad > 0, non-square maps
    "segmentation.conv_transpose_forward": lambda: _spec(
        seg_spec.transpose_inputs, 1, 2, 3, 3, 4, 2, 3, 2, 2, 1, 1, n=3),
    "segmentation.dilated_conv_forward": lambda: _spec(
        seg_spec.dilated_inputs, 11, 2, 3, 9, 10, 2, 3, 2, 2, 1, 1, n=3),
    "segmentation.dilated_conv_forward#stride2": lambda: _spec(
        seg_spec.dilated_inputs, 16, 2, 3, 11, 9, 2, 3, 2, 2, 2, 1, n=3),
    # rounded values: tied maxima in the windows (the first one wins on both devices)
    "segmentation.max_pool_with_indices": lambda: ((np.round(_r(2, 3, 7, 9)),),
                                                   {"pool_size": 3, "stride": 2}),
    # overlapping windows sharing their maximum: unpooled values add up
    "segmentation.max_unpool_forward": lambda: _spec(seg_spec.unpool_inputs, 31, 2, 3, 7, 9, 3,
                                                     2, n=2),
    "segmentation.upsample_nearest": lambda: _spec(seg_spec.nearest_inputs, 41, 2, 3, 3, 4, 2,
                                                   n=1),
    "segmentation.upsample_bilinear": lambda: _spec(seg_spec.bilinear_inputs, 51, 2, 3, 4, 5,
                                                    (8, 10)),
    "segmentation.upsample_bilinear#down": lambda: _spec(seg_spec.bilinear_inputs, 53, 1, 2, 8,
                                                         6, (3, 4)),
    **{f"segmentation.{name}": (lambda drop: lambda: _spec(
        seg_spec.label_inputs, 61, (2, 5, 6), 5, absent=(3,), never_predicted=(1,),
        never_true=(4,), ignore=255, ignored=0.1, drop=drop))(drop)
       for name, drop in (("confusion_matrix", ()), ("pixel_accuracy", ("num_classes",)),
                          ("iou_per_class", ()), ("mean_iou", ()), ("dice_per_class", ()),
                          ("precision_recall_per_class", ()))},
    # every pixel ignored: nothing to count (cupy.bincount before 14.2 fails on no values)
    "segmentation.confusion_matrix#all_ignored": _all_ignored,
    "segmentation.mean_iou#all_ignored": _all_ignored,
    "segmentation.pixel_cross_entropy": lambda: _spec(
        seg_spec.loss_inputs, 71, 2, 4, 3, 5, class_weights=[0.5, 2.0, 1.0, 3.0], ignore=255,
        ignored=0.2),
    "segmentation.focal_loss": lambda: _spec(seg_spec.loss_inputs, 81, 2, 4, 3, 5, gamma=2.0,
                                             alpha=[0.25, 1.0, 2.0, 0.5]),
    "segmentation.focal_loss#gamma0.5": lambda: _spec(seg_spec.loss_inputs, 84, 2, 2, 3, 3,
                                                      gamma=0.5, alpha=[0.75, 0.25]),
    "segmentation.soft_dice_loss": lambda: _spec(seg_spec.loss_inputs, 92, 1, 3, 4, 4,
                                                 smooth=0.5, missing=(2,)),
    # unit 08 (detection.py), on the specs' inputs: ties, IoUs exactly at the threshold, empties
    "detection.box_convert": lambda: ((det_spec.box_formats(12, 6, "cxcywh"),),
                                      {"src": "cxcywh", "dst": "xywh"}),
    "detection.box_area": lambda: ((det_spec.random_boxes(1, 7),), {}),
    "detection.box_iou": lambda: ((det_spec.random_boxes(1, 7),
                                   det_spec.random_boxes(2, 5, special=False)), {}),
    "detection.box_iou#empty_union": lambda: ((np.array([[1.0, 1.0, 1.0, 1.0],
                                                         [0.0, 0.0, 2.0, 2.0]]),
                                               np.array([[1.0, 1.0, 1.0, 1.0],
                                                         [5.0, 5.0, 5.0, 7.0]])), {}),
    "detection.nms": lambda: (det_spec.crowd(1, 12), {"iou_threshold": 0.5}),
    # equal scores: the lower index first (a stable sort on both devices)
    "detection.nms#ties": lambda: (det_spec.crowd(2, 15, clusters=2, ties=True),
                                   {"iou_threshold": 0.3}),
    "detection.nms#at_threshold": lambda: (det_spec.at_threshold(), {"iou_threshold": 0.5}),
    "detection.nms#empty": lambda: ((np.zeros((0, 4)), np.zeros(0)), {}),
    "detection.batched_nms": lambda: (det_spec.crowd(21, 16, clusters=2, ties=True)
                                      + (np.random.default_rng(31).integers(0, 3, 16),),
                                      {"iou_threshold": 0.3}),
    "detection.yolo_encode": lambda: (det_spec.same_cell_objects(),
                                      {"grid_size": 4, "num_classes": 3, "boxes_per_cell": 2}),
    "detection.yolo_encode#corners": lambda: (det_spec.yolo_objects(2, 5, 2, corner=True),
                                              {"grid_size": 6, "num_classes": 2}),
    # scores exactly at the threshold, tied class probabilities (the lowest class wins)
    "detection.yolo_decode": lambda: ((det_spec.exact_scores_prediction(),), {}),
    "detection.yolo_decode#random": lambda: ((det_spec.yolo_prediction(1, 1, 3, 2, 3)[0],),
                                             {"conf_threshold": 0.3}),
    "detection.yolo_loss": lambda: (det_spec.yolo_batch(1, 2, 3, 2, 3, 4), {}),
    "detection.match_detections": lambda: (det_spec.duplicate_scene(), {"iou_threshold": 0.5}),
    "detection.match_detections#ties": lambda: (det_spec.match_random(1, 12, 4), {}),
    "detection.precision_recall": lambda: (det_spec.pr_inputs(2, 12, 6, ties=True), {}),
    "detection.precision_recall#empty": lambda: ((np.zeros(0), np.zeros(0, dtype=bool), 2), {}),
    "detection.average_precision": lambda: (
        det_spec.pr_curve([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1], 10), {"method": "all"}),
    "detection.average_precision#11point": lambda: (
        det_spec.pr_curve([0, 1, 1, 0, 1, 1, 1, 0, 1, 1], 10), {"method": "11point"}),
    # class 2 without ground truth: its AP is NaN
    "detection.mean_average_precision": lambda: (det_spec.scenes(2, 4, 4, missing_class=2),
                                                 {"num_classes": 4}),
    "detection.coco_map": lambda: (det_spec.scenes(12, 4, 2, noise=0.05),
                                   {"num_classes": 2, "method": "11point"}),
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
    "conv.conv_forward_naive": "conv_backward_naive",
    "conv.max_pool_forward_naive": "max_pool_backward_naive",
    "rnn.rnn_step_forward": "rnn_step_backward", "rnn.lstm_step_forward": "lstm_step_backward",
    "segmentation.conv_transpose_forward": "conv_transpose_backward",
    "segmentation.dilated_conv_forward": "dilated_conv_backward",
    "segmentation.dilated_conv_forward#stride2": "dilated_conv_backward",
    "segmentation.max_unpool_forward": "max_unpool_backward",
    "segmentation.upsample_nearest": "upsample_nearest_backward",
}
# Where the cache is not the second output: the outputs before it each get an upstream gradient
# (lstm_step_backward(dh_next, dc_next, cache)).
CACHE_AT = {"rnn.lstm_step_forward": 2}


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
    if isinstance(obj, tuple):  # mAP's (boxes, scores, labels) of each image
        return tuple(_to(xp, v, dtype) for v in obj)
    return obj


def _host(obj):
    if isinstance(obj, tuple):
        return tuple(_host(o) for o in obj)
    return cw.backend.to_numpy(obj) if hasattr(obj, "shape") else obj


def _run(key, xp, dtype):
    module, name = key.split("#")[0].split(".")
    args, kwargs = FORWARD[key]()
    args = tuple(_to(xp, a, dtype) for a in args)
    kwargs = {k: _to(xp, v, dtype) for k, v in kwargs.items()}  # class weights, alpha
    out = getattr(getattr(cw, module), name)(*args, **kwargs)
    results = [out]
    if key in BACKWARD:  # (value, cache, more...): lstm's c_last, batch norm's new state
        at = CACHE_AT.get(key, 1)
        values, cache = out[:at], out[at]
        rng = np.random.default_rng(7)
        douts = [xp.asarray(rng.standard_normal(v.shape).astype(dtype)) for v in values]
        names = BACKWARD[key] if isinstance(BACKWARD[key], tuple) else (BACKWARD[key],)
        results = [*values, *out[at + 1:]] + [getattr(getattr(cw, module), n)(*douts, cache)
                                              for n in names]
    return results


def _compare(cpu, gpu, dtype, what):
    cpu, gpu = list(_flatten(cpu)), list(_flatten(gpu))
    assert len(cpu) == len(gpu), f"{what}: {len(gpu)} outputs on the GPU, {len(cpu)} on the CPU"
    for c, g in zip(cpu, gpu):
        if isinstance(c, (int, float, np.number, np.bool_)) or hasattr(c, "shape"):
            assert type(g).__module__.split(".")[0] in ("cupy", "numpy", "builtins"), what
            c, g = np.asarray(c), np.asarray(_host(g))
            assert g.shape == c.shape, f"{what}: shape {g.shape} on the GPU, {c.shape} on the CPU"
            if c.dtype.kind in "biu":  # labels, indices, masks, counts: exact, same dtype
                assert g.dtype == c.dtype, f"{what}: {g.dtype} on the GPU, {c.dtype} on the CPU"
                np.testing.assert_array_equal(g, c, err_msg=what)
            else:
                np.testing.assert_allclose(g.astype(np.float64), c.astype(np.float64),
                                           **TOL[dtype], err_msg=what)


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
    counts = cw.backend.bincount(cp.zeros(0, dtype=cp.int64), minlength=3)  # no value
    assert isinstance(counts, cp.ndarray) and np.array_equal(cp.asnumpy(counts), [0, 0, 0])
    counts = cw.backend.bincount(cp.array([2, 0, 2]), minlength=4)
    assert np.array_equal(cp.asnumpy(counts), [1, 0, 2, 0])


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
    # The reference package first; the caller's PYTHONPATH after it (a machine that carries
    # Jupyter or the course on PYTHONPATH, not installed, keeps it in the kernel).
    path = os.pathsep.join(p for p in (str(ROOT / "solutions"), os.environ.get("PYTHONPATH"))
                           if p)
    env = dict(os.environ, COURSE_DEVICE="cuda", PYTHONPATH=path, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--output-dir", str(tmp_path), str(notebook)],
        env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
