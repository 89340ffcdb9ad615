"""Bad input (units 06-10): a wrong call from a notebook cell gets a clear error that
names the function, the argument and what is expected, and a valid call the docstring allows is
never refused.

Before this round these calls failed deep inside PyTorch or NumPy ("running_mean should contain
32 elements not 3", "'torch.dtype' object has no attribute 'kind'", "index 7 is out of bounds",
ZeroDivisionError), returned garbage silently (an AP from swapped precision and recall, a VAE loss
on targets in [-1, 1]), or refused a NumPy integer (``num_gt=(labels == c).sum()``) as "not an
int"."""

import importlib
import importlib.util
import sys

import numpy as np
import pytest

from autograder.oracle import load_reference
from autograder.paths import STUBS_PACKAGE

torch = pytest.importorskip("torch")

cw = load_reference()


def stub(module):
    """A module of the student stubs in coursework/ (imported under a private name)."""
    name = "_input_0610_stubs"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, STUBS_PACKAGE / "__init__.py", submodule_search_locations=[str(STUBS_PACKAGE)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.{module}")


# -- unit 06: architectures and the provided training loop ------------------------------------

BLOCKS = {
    "NiNBlock": lambda A: A.NiNBlock(3, 8, 3, 1, 1),
    "Inception": lambda A: A.Inception(3, 4, (2, 4), (2, 4), 4),
    "ResidualBlock": lambda A: A.ResidualBlock(3, 8),
    "BottleneckBlock": lambda A: A.BottleneckBlock(3, 4, 8),
    "DenseBlock": lambda A: A.DenseBlock(2, 3, 4),
    "TransitionBlock": lambda A: A.TransitionBlock(3, 4),
    "SEBlock": lambda A: A.SEBlock(3),
    "DepthwiseSeparableConv": lambda A: A.DepthwiseSeparableConv(3, 8),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_a_block_given_channels_last_images_names_itself_and_the_channels(name):
    """(N, H, W, C) images: DenseBlock and TransitionBlock said "running_mean should contain 32
    elements not 3", SEBlock "mat1 and mat2 shapes cannot be multiplied", the others PyTorch's
    convolution message naming no block."""
    block = BLOCKS[name](cw.architectures)
    with pytest.raises(ValueError, match=rf"^{name}: expected 3 input channels, got images of "
                                         r"shape \(2, 8, 8, 3\) \(channels last\?"):
        block(torch.randn(2, 8, 8, 3))
    assert block(torch.randn(2, 3, 8, 8)).shape[0] == 2


def test_se_gates_check_the_channels_too():
    with pytest.raises(ValueError, match="SEBlock: expected 16 input channels"):
        cw.architectures.SEBlock(16).gates(torch.randn(2, 8, 4, 4))


def test_freeze_names_trainable_when_it_is_not_a_tuple():
    """trainable=None raised "'NoneType' object is not iterable"."""
    model = cw.architectures.ResNet([1, 1, 1])
    with pytest.raises(TypeError, match="freeze: trainable must be a tuple of name prefixes, "
                                        "got None"):
        cw.architectures.freeze(model, trainable=None)
    assert cw.architectures.freeze(model, trainable=["fc"]) == model.fc.weight.numel() + 10


def _tiny_data():
    model = cw.architectures.ResNet([1, 1, 1], num_classes=3, widths=(4, 4, 4))
    X = np.random.default_rng(0).standard_normal((10, 3, 8, 8)).astype(np.float32)
    return model, X, np.arange(10) % 3


@pytest.mark.parametrize("call, error, words", [
    (lambda m, X, y: cw.torch_training.fit(m, (X, y[:7]), epochs=1, progress=False),
     ValueError, "fit: train X has 10 examples but train y has 7 labels"),
    (lambda m, X, y: cw.torch_training.fit(m, (X, y), (X, np.eye(3)[y]), epochs=1,
                                           progress=False),
     ValueError, "fit: val y must be the class indices (N,), got shape (10, 3) (one-hot"),
    (lambda m, X, y: cw.torch_training.fit(m, (X, y), epochs=1, batch_size=0, progress=False),
     ValueError, "fit: batch_size must be a positive integer, got 0"),
    (lambda m, X, y: cw.torch_training.accuracy(m, X, y[:5]),
     ValueError, "accuracy: X has 10 examples but y has 5 labels"),
])
def test_fit_and_accuracy_name_mismatched_data(call, error, words):
    """These raised IndexError "index 7 is out of bounds", PyTorch's "Expected floating point
    type for target with class probabilities", ZeroDivisionError and "The size of tensor a (10)
    must match the size of tensor b (5)"."""
    model, X, y = _tiny_data()
    with pytest.raises(error) as raised:
        call(model, X, y)
    assert words in str(raised.value)


def test_fit_still_takes_tensors_and_lists():
    model, X, y = _tiny_data()
    history = cw.torch_training.fit(model, (torch.from_numpy(X), torch.from_numpy(y)),
                                    (X, list(y)), epochs=1, progress=False)
    assert len(history["val_acc"]) == 1


# -- unit 07: segmentation (NumPy) and segnets ---------------------------------------------------

def _maps():
    rng = np.random.default_rng(1)
    return rng.standard_normal((2, 3, 4, 4)), rng.integers(0, 3, (2, 4, 4))


@pytest.mark.parametrize("call, words", [
    (lambda L, t: cw.segmentation.pixel_cross_entropy(torch.tensor(L), torch.tensor(t)),
     "pixel_cross_entropy: logits must be a NumPy array, got a torch.Tensor"),
    (lambda L, t: cw.segmentation.confusion_matrix(torch.tensor(t), torch.tensor(t),
                                                   num_classes=3),
     "confusion_matrix: target must be a NumPy array, got a torch.Tensor"),
    (lambda L, t: cw.segmentation.pixel_accuracy(t.tolist(), t.tolist()),
     "pixel_accuracy: pred must be an integer array, got list"),
    (lambda L, t: cw.segmentation.pixel_accuracy(t.astype(float), t),
     "pixel_accuracy: pred must be an integer array, got float64"),
    (lambda L, t: cw.segmentation.pixel_accuracy(t, t, ignore_index="255"),
     "pixel_accuracy: ignore_index must be an integer, got '255'"),
])
def test_segmentation_names_tensors_lists_and_float_maps(call, words):
    """Tensors raised "'torch.dtype' object has no attribute 'kind'"; pixel_accuracy of lists
    "'bool' object has no attribute 'sum'", of float maps or a string ignore_index it answered
    silently."""
    logits, target = _maps()
    with pytest.raises(TypeError) as raised:
        call(logits, target)
    assert words in str(raised.value)


@pytest.mark.parametrize("value", [np.int64(2), np.float32(2.0)])
def test_focal_gamma_and_dice_smooth_take_numpy_numbers(value):
    """``for gamma in np.arange(4)`` gave "gamma must be a number >= 0, got np.int64(2)"."""
    logits, target = _maps()
    seg = cw.segmentation
    assert seg.focal_loss(logits, target, gamma=value)[0] == seg.focal_loss(logits, target,
                                                                              gamma=2)[0]
    assert seg.soft_dice_loss(logits, target, smooth=value)[0] == pytest.approx(
        seg.soft_dice_loss(logits, target, smooth=2.0)[0])


def test_the_stub_refuses_a_tensor_before_not_implemented():
    logits, target = _maps()
    with pytest.raises(TypeError, match="focal_loss: logits must be a NumPy array"):
        stub("segmentation").focal_loss(torch.tensor(logits), target)
    with pytest.raises(NotImplementedError):
        stub("segmentation").focal_loss(logits, target, gamma=np.int64(2))


@pytest.mark.parametrize("call, error, words", [
    (lambda sn, u, X, m: sn.fit_segmentation(u, X, np.eye(2)[m].transpose(0, 3, 1, 2), epochs=1),
     ValueError, "masks of class indices (N, H, W), got images (4, 3, 8, 8) and masks "
                 "(4, 2, 8, 8)"),
    (lambda sn, u, X, m: sn.fit_segmentation(u, X, m[:3], epochs=1),
     ValueError, "masks (3, 8, 8)"),
    (lambda sn, u, X, m: sn.fit_segmentation(u, X, m, epochs=1, batch_size=0),
     ValueError, "fit_segmentation: batch_size must be an integer >= 1, got 0"),
    (lambda sn, u, X, m: sn.torch_focal_loss(torch.randn(2, 2, 4, 4),
                                             torch.zeros(2, 4, 4, dtype=torch.int64),
                                             alpha=np.ones(2)),
     TypeError, "torch_focal_loss: alpha must be a (K,) tensor or None, got ndarray"),
    (lambda sn, u, X, m: sn.SegNetLite(3, 2, base_channels=0),
     ValueError, "SegNetLite: base_channels must be an integer >= 1, got 0"),
])
def test_segnets_helpers_name_bad_masks_and_alpha(call, error, words):
    """One-hot masks raised PyTorch's "Expected floating point type for target with class
    probabilities", too few masks "index 3 is out of bounds", batch_size 0 "range() arg 3 must
    not be zero", a NumPy alpha "'numpy.ndarray' object has no attribute 'to'"; SegNetLite
    built a network of 0 channels."""
    sn = cw.segnets
    unet = sn.UNet(3, 2, base_channels=2, depth=1)
    X = np.zeros((4, 3, 8, 8), np.float32)
    masks = np.zeros((4, 8, 8), np.int64)
    with pytest.raises(error) as raised:
        call(sn, unet, X, masks)
    assert words in str(raised.value)


# -- unit 08: detection (NumPy) ------------------------------------------------------------------

BOXES = np.array([[0, 0, 2, 2], [1, 1, 3, 3.]])
SCORES = np.array([0.9, 0.8])
LABELS = np.array([0, 1])


def test_detection_takes_numpy_integers_and_floats_where_it_asks_for_numbers():
    """``num_gt=(gt_labels == c).sum()`` and ``num_classes=labels.max() + 1`` are NumPy
    integers: they were refused as "num_gt must be an int >= 0, got np.int64(2)"."""
    D = cw.detection
    is_tp = np.array([True, False])
    for got, expected in [
        (D.precision_recall(SCORES, is_tp, (LABELS >= 0).sum()), D.precision_recall(SCORES,
                                                                                    is_tp, 2)),
        (D.yolo_encode(np.array([[.5, .5, .2, .2]]), np.array([1]), grid_size=np.int64(4),
                       num_classes=LABELS.max() + 2, boxes_per_cell=np.int32(2)),
         D.yolo_encode(np.array([[.5, .5, .2, .2]]), np.array([1]), grid_size=4, num_classes=3,
                       boxes_per_cell=2)),
        (D.mean_average_precision([(BOXES, SCORES, LABELS)], [(BOXES, LABELS)],
                                  num_classes=np.int64(2), iou_threshold=np.float32(0.5)),
         D.mean_average_precision([(BOXES, SCORES, LABELS)], [(BOXES, LABELS)], num_classes=2)),
        (D.nms(BOXES, SCORES, iou_threshold=np.float32(0.1)), D.nms(BOXES, SCORES,
                                                                    iou_threshold=0.1)),
    ]:
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    assert D.coco_map([(BOXES, SCORES, LABELS)], [(BOXES, LABELS)], num_classes=np.int64(2)) \
        == D.coco_map([(BOXES, SCORES, LABELS)], [(BOXES, LABELS)], num_classes=2)


@pytest.mark.parametrize("call, error, words", [
    (lambda D: D.box_iou(torch.tensor(BOXES), BOXES), TypeError,
     "box_iou: boxes1 must be a NumPy array, got a torch.Tensor (convert it with "
     "boxes1.detach().cpu().numpy())"),
    (lambda D: D.nms(BOXES, torch.tensor(SCORES)), TypeError,
     "nms: scores must be a NumPy array, got a torch.Tensor"),
    (lambda D: D.yolo_decode(torch.rand(4, 4, 2, 8)), TypeError,
     "yolo_decode: pred must be a NumPy array, got a torch.Tensor"),
    (lambda D: D.yolo_loss(torch.rand(1, 4, 4, 2, 8), torch.rand(1, 4, 4, 2, 8)), TypeError,
     "yolo_loss: pred must be a NumPy array, got a torch.Tensor"),
    (lambda D: D.average_precision(*D.precision_recall(SCORES, np.array([True, False]), 2)[::-1]),
     ValueError, "recall must be non-decreasing and lie in [0, 1] (the second output of "
                 "precision_recall), but it decreases from 1.0 to 0.5: are the arguments in "
                 "the order (precision, recall)?"),
    (lambda D: D.average_precision(np.array([1.0, 0.5]), np.array([1.0, 2.0])), ValueError,
     "but its values go from 1.0 to 2.0 (recall is TP / num_gt)"),
    (lambda D: D.average_precision(np.array([1.0, 2.0]), np.array([0.5, 1.0])), ValueError,
     "average_precision: precision must lie in [0, 1], got values from 1.0 to 2.0"),
    (lambda D: D.precision_recall([0.9], np.array([True]), 1), ValueError,
     "precision_recall: scores must have shape (D,), got list"),
    (lambda D: D.mean_average_precision(
        [{"boxes": BOXES, "scores": SCORES, "labels": LABELS}], [(BOXES, LABELS)],
        num_classes=2), TypeError,
     "mean_average_precision: image 0: detections must be a tuple (boxes, scores, labels) "
     "and ground truths a tuple (boxes, labels), got dict and tuple"),
    (lambda D: D.mean_average_precision((BOXES, SCORES, LABELS), (BOXES, LABELS),
                                        num_classes=2), TypeError,
     "detections must be a list with one tuple per image, got a tuple of arrays (one image? "
     "wrap it in a list: [(boxes, scores, labels)])"),
])
def test_detection_names_tensors_swapped_curves_and_unlisted_images(call, error, words):
    """Tensors raised "'torch.dtype' object has no attribute 'kind'"; average_precision(recall,
    precision) returned 0.25 and a recall of 2 an AP of 1.5; the check said "must have shape
    (-1,)"; torchvision-style dicts raised KeyError 0, one image without its list "3 images of
    detections but 2 of ground truths"."""
    with pytest.raises(error) as raised:
        call(cw.detection)
    assert words in str(raised.value)


def test_the_detection_stub_checks_before_not_implemented():
    D = stub("detection")
    with pytest.raises(ValueError, match="are the arguments in the order"):
        D.average_precision(np.array([0.5, 1.0]), np.array([1.0, 0.5]))
    with pytest.raises(NotImplementedError):
        D.precision_recall(SCORES, np.array([True, False]), np.int64(2))


# -- unit 09: rnn, bptt, text --------------------------------------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: cw.rnn.rnn_forward(torch.zeros(2, 3, 4), np.zeros((2, 5)), np.zeros((4, 5)),
                                np.zeros((5, 5)), np.zeros(5)),
     TypeError, "rnn_forward: x must be a NumPy array, got a torch.Tensor"),
    (lambda: cw.rnn.CharRNN(7, 8, dtype=torch.float32, rng=np.random.default_rng(0)),
     TypeError, "CharRNN: dtype must be a NumPy floating type such as np.float64, got "
                "torch.float32"),
    (lambda: cw.bptt.batchify("some text" * 10, 2),
     TypeError, "batchify: ids must be integer ids (vocab.encode(text) gives them)"),
    (lambda: cw.bptt.batchify(np.arange(100), 0),
     ValueError, "batchify: batch_size must be a positive integer, got 0"),
    (lambda: cw.bptt.batchify(np.arange(100).reshape(10, 10), 2),
     ValueError, "batchify: ids must be one long 1-D sequence, got shape (10, 10)"),
    (lambda: cw.bptt.evaluate(None, np.arange(100), seq_len=0),
     ValueError, "evaluate: seq_len must be a positive integer, got 0"),
    (lambda: cw.bptt.train_bptt(cw.rnn.CharRNN(7, 8, rng=np.random.default_rng(0)),
                                np.arange(200) % 7, learning_rate="1e-3", progress=False),
     ValueError, "train_bptt: learning_rate must be a number > 0, got '1e-3'"),
    (lambda: cw.bptt.train_bptt(cw.rnn.CharRNN(7, 8, rng=np.random.default_rng(0)),
                                np.arange(200) % 7, optimizer="Adam", progress=False),
     ValueError, "train_bptt: unknown optimizer 'Adam'; choose one of adam, sgd"),
    (lambda: cw.text.make_copy_task(5, -1), ValueError,
     "make_copy_task: lag must be an integer >= 0, got -1"),
    (lambda: cw.text.make_copy_task(5, 3, num_symbols=30), ValueError,
     "make_copy_task: num_symbols must be at most 26"),
])
def test_unit09_helpers_name_the_bad_argument(call, error, words):
    """A tensor raised "Could not convert tensor(...)" with the whole tensor printed; a torch
    dtype "Cannot interpret 'torch.float32' as a data type"; the text itself "len() of unsized
    object"; batch_size 0 ZeroDivisionError; seq_len 0 "range() arg 3 must not be zero"; a string
    learning rate a UFuncTypeError; make_copy_task with lag -1 or 30 symbols returned garbage."""
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


# -- unit 10: generative --------------------------------------------------------------------------

def test_vae_loss_refuses_targets_outside_0_1():
    """Tanh-scaled digits or (x, logits) swapped gave a finite number that is no cross
    entropy."""
    g = torch.Generator().manual_seed(0)
    logits, x = torch.randn(4, 6, generator=g), torch.rand(4, 6, generator=g)
    mu, logvar = torch.zeros(4, 2), torch.zeros(4, 2)
    for module in (cw.generative, stub("generative")):
        with pytest.raises(ValueError, match=r"vae_loss: the targets x must lie in \[0, 1\] .* "
                                             r"is the order \(logits, x, mu, logvar\)\?"):
            module.vae_loss(logits, 2 * x - 1, mu, logvar)
    assert cw.generative.vae_loss(logits, (x > 0.5).double().float(), mu, logvar)[0] > 0
