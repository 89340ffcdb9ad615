"""Unit 07: the reference ``segmentation`` checked against PyTorch and scikit-learn (float64).

Transposed convolution over strides 1-3, pads 0-2, every output_padding, non-square inputs and
kernels; max pooling indices and max-unpooling; dilated convolution with dilation 1-3; nearest
and bilinear interpolation; cross entropy with class weights and ignore_index, torch formulations
of the focal and soft Dice losses; every gradient against autograd. Metrics against confusion
matrices computed by hand and scikit-learn's confusion_matrix, jaccard_score and f1_score,
absent classes and ignored pixels included.
"""

import itertools

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional

seg = load_reference().segmentation


def close(a, b, what=""):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-11, err_msg=what)


def t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


# ---------------------------------------------------------------------------------------------
# Transposed convolution
# ---------------------------------------------------------------------------------------------

def transpose_configs():
    shapes = [(1, 1, 2, 2, 1, 3, 3), (2, 3, 3, 4, 2, 2, 3), (2, 2, 4, 3, 3, 4, 1),
              (1, 2, 1, 5, 2, 5, 2)]
    out = []
    for shape, stride, pad in itertools.product(shapes, (1, 2, 3), (0, 1, 2)):
        for output_padding in range(stride):
            N, C, H, W, Fn, HH, WW = shape
            sizes = [(n - 1) * stride - 2 * pad + k + output_padding
                     for n, k in ((H, HH), (W, WW))]
            if min(sizes) >= 1:
                out.append(shape + (stride, pad, output_padding))
    return out


@pytest.mark.parametrize("config", transpose_configs(),
                         ids=lambda c: "N{}C{}_{}x{}_F{}_{}x{}_s{}_p{}_op{}".format(*c))
def test_conv_transpose_matches_torch(config):
    N, C, H, W, Fn, HH, WW, stride, pad, op = config
    rng = np.random.default_rng(sum(config))
    x, w, b = (rng.standard_normal(s) for s in ((N, C, H, W), (C, Fn, HH, WW), (Fn,)))
    out, cache = seg.conv_transpose_forward(x, w, b, stride=stride, pad=pad, output_padding=op)
    xt, wt, bt = t(x, True), t(w, True), t(b, True)
    expected = F.conv_transpose2d(xt, wt, bt, stride=stride, padding=pad, output_padding=op)
    assert out.shape == tuple(expected.shape)
    close(out, expected.detach().numpy(), "out")
    dout = rng.standard_normal(out.shape)
    expected.backward(t(dout))
    dx, dw, db = seg.conv_transpose_backward(dout, cache)
    close(dx, xt.grad.numpy(), "dx")
    close(dw, wt.grad.numpy(), "dw")
    close(db, bt.grad.numpy(), "db")


def test_conv_transpose_by_hand_on_a_2x2_input():
    """Copies of the filter weighted by the input, summed where they overlap."""
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.ones((1, 1, 3, 3))
    out, _ = seg.conv_transpose_forward(x, w, np.zeros(1), stride=2)
    expected = np.array([[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4],
                         [3, 3, 7, 4, 4]], dtype=float)
    close(out[0, 0], expected)


@pytest.mark.parametrize("kwargs, words", [
    ({"stride": 2, "output_padding": 2}, "output_padding=2 with stride=2"),
    ({"stride": 1, "pad": 3}, "is not positive"),
])
def test_conv_transpose_rejects(kwargs, words):
    x, w, b = np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.zeros(1)
    with pytest.raises(ValueError, match=words):
        seg.conv_transpose_forward(x, w, b, **kwargs)


# ---------------------------------------------------------------------------------------------
# Max pooling with indices, unpooling
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, pool, stride", [((2, 3, 4, 6), 2, 2), ((1, 1, 5, 7), 3, 2),
                                                 ((2, 2, 6, 6), 3, 3), ((1, 2, 3, 5), 1, 1),
                                                 ((1, 1, 6, 4), 2, 1)])
def test_max_pool_indices_and_unpool_match_torch(shape, pool, stride):
    rng = np.random.default_rng(sum(shape) + pool)
    x = rng.standard_normal(shape)
    out, indices = seg.max_pool_with_indices(x, pool_size=pool, stride=stride)
    expected, expected_idx = F.max_pool2d(t(x), pool, stride, return_indices=True)
    close(out, expected.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, expected_idx.numpy())
    # unpool: values go back to where they came from; overlapping windows sum (as autograd of
    # a gather: torch's max_unpool2d keeps one value, so compare with index_add).
    values = rng.standard_normal(out.shape)
    vt = t(values, True)
    up, cache = seg.max_unpool_forward(values, indices, output_size=shape[2:])
    flat = torch.zeros(shape[0], shape[1], shape[2] * shape[3], dtype=torch.float64)
    flat = flat.scatter_add(2, expected_idx.reshape(shape[0], shape[1], -1),
                            vt.reshape(shape[0], shape[1], -1))
    reference = flat.reshape(shape)
    close(up, reference.detach().numpy(), "max_unpool_forward")
    if len(np.unique(indices.reshape(shape[0], shape[1], -1)[0, 0])) == indices[0, 0].size:
        # distinct indices: exactly torch's max_unpool2d
        close(up, F.max_unpool2d(t(values), expected_idx, pool, stride,
                                 output_size=shape[2:]).numpy(), "max_unpool2d")
    dout = rng.standard_normal(shape)
    reference.backward(t(dout))
    close(seg.max_unpool_backward(dout, cache), vt.grad.numpy(), "max_unpool_backward")


def test_max_pool_ties_take_the_first_in_row_major_order():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 0] = x[0, 0, 0, 1] = 5.0   # a tie in the first window: (0, 1) comes first
    _, idx = seg.max_pool_with_indices(x, pool_size=2, stride=2)
    assert idx[0, 0, 0, 0] == 1
    assert idx[0, 0, 1, 1] == 2 * 4 + 2   # all zeros: the window's first entry
    np.testing.assert_array_equal(idx, F.max_pool2d(t(x), 2, 2, return_indices=True)[1].numpy())


# ---------------------------------------------------------------------------------------------
# Dilated convolution
# ---------------------------------------------------------------------------------------------

def dilated_configs():
    out = []
    shapes = [(1, 1, 9, 9, 1, 3, 3), (2, 3, 11, 8, 2, 2, 3), (2, 2, 10, 12, 3, 3, 1)]
    for shape, dilation, stride, pad in itertools.product(shapes, (1, 2, 3), (1, 2), (0, 1, 2)):
        N, C, H, W, Fn, HH, WW = shape
        eff = [dilation * (k - 1) + 1 for k in (HH, WW)]
        while eff[0] > H + 2 * pad or (H + 2 * pad - eff[0]) % stride:
            H += 1
        while eff[1] > W + 2 * pad or (W + 2 * pad - eff[1]) % stride:
            W += 1
        out.append((N, C, H, W, Fn, HH, WW, dilation, stride, pad))
    return out


@pytest.mark.parametrize("config", dilated_configs(),
                         ids=lambda c: "N{}C{}_{}x{}_F{}_{}x{}_d{}_s{}_p{}".format(*c))
def test_dilated_conv_matches_torch(config):
    N, C, H, W, Fn, HH, WW, dilation, stride, pad = config
    rng = np.random.default_rng(sum(config))
    x, w, b = (rng.standard_normal(s) for s in ((N, C, H, W), (Fn, C, HH, WW), (Fn,)))
    out, cache = seg.dilated_conv_forward(x, w, b, dilation=dilation, stride=stride, pad=pad)
    xt, wt, bt = t(x, True), t(w, True), t(b, True)
    expected = F.conv2d(xt, wt, bt, stride=stride, padding=pad, dilation=dilation)
    close(out, expected.detach().numpy(), "out")
    dout = rng.standard_normal(out.shape)
    expected.backward(t(dout))
    dx, dw, db = seg.dilated_conv_backward(dout, cache)
    close(dx, xt.grad.numpy(), "dx")
    close(dw, wt.grad.numpy(), "dw")
    close(db, bt.grad.numpy(), "db")


def test_dilated_conv_rejects_a_filter_that_does_not_fit():
    with pytest.raises(ValueError, match="effective 5x5"):
        seg.dilated_conv_forward(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1),
                                 dilation=2, stride=2)


# ---------------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, scale", [((2, 3, 4, 5), 2), ((1, 1, 3, 3), 3), ((1, 2, 2, 1), 1)])
def test_upsample_nearest_matches_torch(shape, scale):
    rng = np.random.default_rng(scale)
    x = rng.standard_normal(shape)
    out, cache = seg.upsample_nearest(x, scale=scale)
    xt = t(x, True)
    expected = F.interpolate(xt, scale_factor=scale, mode="nearest")
    close(out, expected.detach().numpy())
    dout = rng.standard_normal(out.shape)
    expected.backward(t(dout))
    close(seg.upsample_nearest_backward(dout, cache), xt.grad.numpy())


@pytest.mark.parametrize("shape, size", [((2, 3, 4, 5), (8, 10)), ((1, 1, 3, 3), (7, 5)),
                                         ((1, 2, 8, 6), (3, 4)), ((1, 1, 1, 2), (3, 3)),
                                         ((2, 1, 5, 5), (5, 5))])
def test_upsample_bilinear_matches_torch(shape, size):
    x = np.random.default_rng(sum(size)).standard_normal(shape)
    expected = F.interpolate(t(x), size=size, mode="bilinear", align_corners=False)
    close(seg.upsample_bilinear(x, size=size), expected.numpy())


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def test_confusion_matrix_by_hand():
    target = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [2, 2, 0]])
    cm = seg.confusion_matrix(pred, target, num_classes=4, ignore_index=255)
    expected = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    # class 3 is absent from both: IoU and Dice NaN, precision and recall NaN
    iou = seg.iou_per_class(pred, target, num_classes=4, ignore_index=255)
    close(iou[:3], [1 / 2, 1 / 3, 1 / 2])
    assert np.isnan(iou[3])
    assert seg.mean_iou(pred, target, num_classes=4, ignore_index=255) == pytest.approx(4 / 9)
    dice = seg.dice_per_class(pred, target, num_classes=4, ignore_index=255)
    close(dice[:3], [2 / 3, 2 / 4, 2 / 3])
    precision, recall = seg.precision_recall_per_class(pred, target, num_classes=4,
                                                       ignore_index=255)
    close(precision[:3], [1, 1 / 2, 1 / 2])
    close(recall[:3], [1 / 2, 1 / 2, 1])   # TP / (TP + FN), not TP / (TP + TN)
    assert np.isnan(precision[3]) and np.isnan(recall[3])
    assert seg.pixel_accuracy(pred, target, ignore_index=255) == pytest.approx(3 / 5)


def test_precision_nan_when_never_predicted_recall_nan_when_absent():
    target = np.array([0, 0, 1, 1])
    pred = np.array([0, 2, 0, 0])
    precision, recall = seg.precision_recall_per_class(pred, target, num_classes=3)
    assert np.isnan(precision[1]) and recall[1] == 0       # class 1 never predicted
    assert precision[2] == 0 and np.isnan(recall[2])       # class 2 predicted, never true
    assert seg.iou_per_class(pred, target, num_classes=3)[2] == 0


@pytest.mark.parametrize("seed", range(4))
def test_metrics_match_scikit_learn(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    K = 5
    target = rng.integers(0, K - 1, (2, 6, 7))  # class K-1 never true
    pred = np.where(rng.random(target.shape) < 0.6, target, rng.integers(0, K - 2, target.shape))
    target[rng.random(target.shape) < 0.15] = -1   # ignored pixels
    keep = target != -1
    labels = list(range(K))
    cm = seg.confusion_matrix(pred, target, num_classes=K, ignore_index=-1)
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(target[keep], pred[keep],
                                                               labels=labels))
    present = (np.isin(labels, target[keep]) | np.isin(labels, pred[keep]))
    iou = seg.iou_per_class(pred, target, num_classes=K, ignore_index=-1)
    expected = metrics.jaccard_score(target[keep], pred[keep], labels=labels, average=None,
                                     zero_division=0)
    close(iou[present], expected[present])
    assert np.isnan(iou[~present]).all() and (~present).any()
    dice = seg.dice_per_class(pred, target, num_classes=K, ignore_index=-1)
    close(dice[present], metrics.f1_score(target[keep], pred[keep], labels=labels,
                                          average=None)[present])
    precision, recall = seg.precision_recall_per_class(pred, target, num_classes=K,
                                                       ignore_index=-1)
    p, r, _, _ = metrics.precision_recall_fscore_support(target[keep], pred[keep], labels=labels,
                                                         zero_division=0)
    predicted = np.isin(labels, pred[keep])
    actual = np.isin(labels, target[keep])
    close(precision[predicted], p[predicted])
    close(recall[actual], r[actual])
    assert np.isnan(precision[~predicted]).all() and np.isnan(recall[~actual]).all()
    assert (~actual).any()
    assert seg.mean_iou(pred, target, num_classes=K, ignore_index=-1) == pytest.approx(
        np.nanmean(expected[present]))
    assert seg.pixel_accuracy(pred, target, ignore_index=-1) == pytest.approx(
        metrics.accuracy_score(target[keep], pred[keep]))


def test_metric_validation_names_the_bad_label():
    with pytest.raises(ValueError, match="label 7"):
        seg.confusion_matrix(np.array([0, 1]), np.array([7, 1]), num_classes=3)
    with pytest.raises(ValueError, match="same shape"):
        seg.iou_per_class(np.array([0, 1]), np.array([0, 1, 1]), num_classes=3)


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

def loss_inputs(seed, shape=(2, 4, 3, 5), offset=0.0):
    rng = np.random.default_rng(seed)
    N, K, H, W = shape
    return rng.standard_normal(shape) * 2 + offset, rng.integers(0, K, (N, H, W))


@pytest.mark.parametrize("weights, ignore", [(None, None), ([0.5, 2.0, 1.0, 3.0], None),
                                             (None, 2), ([0.5, 2.0, 1.0, 3.0], 1),
                                             ([1.0, 0.0, 2.0, 1.0], None)])
def test_pixel_cross_entropy_matches_torch(weights, ignore):
    logits, target = loss_inputs(3, offset=1000.0)
    if ignore is not None:
        target[0, 0] = ignore
    w = None if weights is None else np.array(weights)
    loss, dlogits = seg.pixel_cross_entropy(logits, target, class_weights=w, ignore_index=ignore)
    lt = t(logits, True)
    expected = F.cross_entropy(lt, torch.tensor(target), weight=None if w is None else t(w),
                               ignore_index=-100 if ignore is None else ignore)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-9)
    close(dlogits, lt.grad.numpy())


def test_pixel_cross_entropy_ignores_labels_outside_the_classes():
    logits, target = loss_inputs(4)
    target[1, 2, :] = 255
    loss, _ = seg.pixel_cross_entropy(logits, target, ignore_index=255)
    expected = F.cross_entropy(t(logits), torch.tensor(target), ignore_index=255)
    assert loss == pytest.approx(expected.item(), rel=1e-9)


def torch_focal(lt, target, gamma, alpha):
    log_p = F.log_softmax(lt, dim=1).gather(1, torch.tensor(target)[:, None])[:, 0]
    a = 1.0 if alpha is None else t(alpha)[torch.tensor(target)]
    return (-a * (1 - log_p.exp()) ** gamma * log_p).mean()


@pytest.mark.parametrize("gamma, alpha", [(0.0, None), (2.0, None), (0.5, [0.25, 1.0, 2.0, 0.5]),
                                          (3.0, [1.0, 0.1, 1.0, 4.0])])
def test_focal_loss_matches_torch(gamma, alpha):
    logits, target = loss_inputs(5)
    lt = t(logits, True)
    expected = torch_focal(lt, target, gamma, alpha)
    expected.backward()
    a = None if alpha is None else np.array(alpha)
    loss, dlogits = seg.focal_loss(logits, target, gamma=gamma, alpha=a)
    assert loss == pytest.approx(expected.item(), rel=1e-9)
    close(dlogits, lt.grad.numpy())


def test_focal_loss_with_gamma_0_is_cross_entropy():
    logits, target = loss_inputs(6)
    loss, grad = seg.focal_loss(logits, target, gamma=0.0)
    ce, ce_grad = seg.pixel_cross_entropy(logits, target)
    assert loss == pytest.approx(ce, rel=1e-12)
    close(grad, ce_grad)


@pytest.mark.parametrize("smooth, shape", [(1.0, (2, 4, 3, 5)), (0.1, (1, 3, 4, 4)),
                                           (5.0, (3, 2, 2, 3))])
def test_soft_dice_loss_matches_torch(smooth, shape):
    logits, target = loss_inputs(7, shape)
    lt = t(logits, True)
    p = F.softmax(lt, dim=1)
    onehot = F.one_hot(torch.tensor(target), shape[1]).permute(0, 3, 1, 2).double()
    inter = (p * onehot).sum(dim=(0, 2, 3))
    sizes = p.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    expected = 1 - ((2 * inter + smooth) / (sizes + smooth)).mean()
    expected.backward()
    loss, dlogits = seg.soft_dice_loss(logits, target, smooth=smooth)
    assert loss == pytest.approx(expected.item(), rel=1e-9)
    close(dlogits, lt.grad.numpy())
