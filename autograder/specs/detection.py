"""Tests of unit 08, ``coursework/detection.py``: boxes, IoU, NMS, YOLO targets and loss, mAP.

The cases are built to separate the conventions the docstrings fix: identical, nested, touching
and zero-area boxes; an IoU exactly at the threshold (kept by NMS, a true positive in matching);
equal scores; recalls that land exactly on the 11-point thresholds; IoUs exactly on COCO's
thresholds (50 + 5k) / 100, where thresholds built by adding 0.05 are a hair above; boxes with
negative coordinates (batched NMS by an offset of label * (boxes.max() + 1) mixes the labels
there); classes without ground truth, and classes with ground truth but no detection.

Equal scores come in groups large enough that a sort which is not stable (NumPy's default) does
not keep the input order; a wrong answer of nms, batched_nms or match_detections that would be
right for another order of equal scores gets a hint about stable sorting. Integer and boolean
results must have the dtype the docstring fixes (int64, bool). At an IoU exactly at the
threshold, match_detections is judged by the student's own box_iou: one that computes inter /
(union + eps), a hair below 0.5, is accepted by the box_iou test, so a match_detections that calls
it rightly finds a false positive there; coco_map likewise, at IoUs exactly on its thresholds.
"""

import math

import numpy as np

from ..compare import Failed, matches
from ..runner import NotImplementedByStudent, StudentError
from ..spec import Case, Spec
from .segmentation import check_exact_dtype, check_python_float
from .toolkit import remembered_hint

SPEC = Spec("detection")


# ---------------------------------------------------------------- inputs

def random_boxes(seed, K, *, size=10.0, special=True):
    """K xyxy boxes in [0, size]; with ``special`` the first ones are an identical pair, a nested
    pair, a touching pair and a zero-area box."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 0.7 * size, (K, 2))
    extent = rng.uniform(0.05 * size, 0.4 * size, (K, 2))
    boxes = np.concatenate([corner, corner + extent], axis=1)
    if special and K >= 7:
        boxes[1] = boxes[0]                                         # identical
        quarter = (boxes[2, 2:] - boxes[2, :2]) / 4
        boxes[3] = np.concatenate([boxes[2, :2] + quarter, boxes[2, 2:] - quarter])  # nested
        boxes[5] = [boxes[4, 2], boxes[4, 1], boxes[4, 2] + 1.0, boxes[4, 3]]  # touching
        boxes[6] = [boxes[6, 0], boxes[6, 1], boxes[6, 0], boxes[6, 3]]  # zero width
    return boxes


def box_formats(seed, K, src):
    """K boxes in format ``src`` (converted from random xyxy boxes by hand)."""
    b = random_boxes(seed, K, special=False)
    if src == "xyxy":
        return b
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    if src == "xywh":
        return np.stack([b[:, 0], b[:, 1], w, h], axis=1)
    return np.stack([b[:, 0] + w / 2, b[:, 1] + h / 2, w, h], axis=1)


def crowd(seed, K, *, clusters=3, size=20.0, ties=False):
    """A crowded scene: K xyxy boxes jittered around a few centres, with scores (K,) in a shuffled
    order (so that the input order is not the score order)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(4, size - 4, (clusters, 2))
    which = rng.integers(0, clusters, K)
    c = centres[which] + rng.normal(0, 1.0, (K, 2))
    wh = rng.uniform(3, 6, (K, 2))
    boxes = np.concatenate([c - wh / 2, c + wh / 2], axis=1)
    scores = rng.permutation(np.linspace(0.05, 0.95, K))
    if ties:
        scores = np.round(scores * 4) / 4
    return boxes, scores


def at_threshold():
    """Boxes whose IoUs are exactly 0.5 (0 with 1) and exactly 1/3 (2 with 3), with scores."""
    boxes = np.array([[0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 2.0, 1.0],
                      [10.0, 10.0, 12.0, 11.0], [11.0, 10.0, 13.0, 11.0],
                      [0.5, 0.0, 3.0, 1.0]])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.75])
    return boxes, scores


def tied_crowd(seed, K, *, identical=(2, 5)):
    """A crowded scene with scores in five levels (groups of equal scores, in shuffled order),
    two boxes of which (``identical``) are the same box with the same score."""
    boxes, scores = crowd(seed, K, ties=True)
    first, second = identical
    boxes[second], scores[second] = boxes[first], scores[first]
    return boxes, scores


def tied_labels(seed, K, C):
    """A tied crowd and labels in which equal scores of different labels are not in label
    order: merged in index order, not label after label."""
    boxes, scores = crowd(seed, K, clusters=4, ties=True)
    labels = np.random.default_rng(seed + 1).integers(0, C, K)
    return boxes, scores, labels


def tied_scene(seed, G, per):
    """``per`` detections around each of G separate ground truths, all those of one object with
    the same score (three levels), in shuffled order: the first of them in input order takes its
    object, whichever has the best IoU."""
    rng = np.random.default_rng(seed)
    corner = np.stack([np.arange(G) * 10.0, rng.uniform(0, 3, G)], axis=1)
    gt = np.concatenate([corner, corner + rng.uniform(4, 6, (G, 2))], axis=1)
    which = np.repeat(np.arange(G), per)
    boxes = gt[which] + rng.uniform(-0.4, 0.4, (G * per, 4))
    scores = np.array([0.9, 0.6, 0.3])[which % 3]
    order = rng.permutation(G * per)
    return boxes[order], scores[order], gt


def yolo_objects(seed, K, num_classes, *, corner=False):
    """K objects: cxcywh boxes relative to the image (K, 4) and labels (K,)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.02, 0.98, (K, 2))
    if corner and K >= 3:
        centres[0] = [1.0, 1.0]    # the last cell (clipped to S - 1)
        centres[1] = [0.0, 0.55]
        centres[2] = [0.5, 0.5]    # exactly on a cell boundary for even S
    sizes = rng.uniform(0.05, 0.5, (K, 2))
    return np.concatenate([centres, sizes], axis=1), rng.integers(0, num_classes, K)


def same_cell_objects():
    """Four objects, three in the cell (row 2, column 0) of a 4x4 grid, one in (0, 3); the
    first and the third are in the same cell too but x and y differ a lot."""
    boxes = np.array([[0.10, 0.60, 0.2, 0.3], [0.20, 0.70, 0.1, 0.1],
                      [0.95, 0.05, 0.3, 0.2], [0.15, 0.65, 0.4, 0.2]])
    return boxes, np.array([1, 0, 2, 1])


def yolo_prediction(seed, N, S, B, C, *, sharp=3.0):
    """Activated outputs (N, S, S, B, 5 + C): sigmoids in (0, 1) and softmax probabilities."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((N, S, S, B, 5 + C)) * sharp
    out = np.empty_like(raw)
    out[..., :5] = 1 / (1 + np.exp(-raw[..., :5]))
    e = np.exp(raw[..., 5:] - raw[..., 5:].max(-1, keepdims=True))
    out[..., 5:] = e / e.sum(-1, keepdims=True)
    return out


def exact_scores_prediction():
    """A 2x2 grid, 2 slots, 2 classes, with scores exactly 0.5 in some slots."""
    pred = yolo_prediction(7, 1, 2, 2, 2)[0]
    pred[0, 1, 0, 4], pred[0, 1, 0, 5:] = 0.5, [0.0, 1.0]    # score exactly 0.5
    pred[1, 0, 1, 4], pred[1, 0, 1, 5:] = 1.0, [0.5, 0.5]    # exactly 0.5, tie of classes
    pred[1, 1, 0, 4], pred[1, 1, 0, 5:] = 0.9, [0.05, 0.95]
    pred[0, 0, 1, 4], pred[0, 0, 1, 5:] = 0.6, [0.9, 0.1]
    return pred


def yolo_batch(seed, N, S, B, C, K):
    """pred and a target of N images with K objects each (some cells with several)."""
    target = np.stack([_encode_by_hand(*yolo_objects(seed + n, K, C), S, B, C)
                       for n in range(N)])
    return yolo_prediction(seed + 100, N, S, B, C, sharp=1.5), target


def _encode_by_hand(boxes, labels, S, B, C):
    target = np.zeros((S, S, B, 5 + C))
    for (cx, cy, w, h), label in zip(boxes, labels):
        row, col = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
        free = [b for b in range(B) if target[row, col, b, 4] == 0]
        if free:
            target[row, col, free[0], :5] = [cx * S - col, cy * S - row, w, h, 1.0]
            target[row, col, free[0], 5 + label] = 1.0
    return target


def duplicate_scene():
    """Detections around 3 ground truths: a duplicate of one object, one whose best ground truth
    is taken although a second one overlaps it enough, one exactly at IoU 0.5, and a miss."""
    gt = np.array([[0.0, 0.0, 4.0, 4.0], [1.0, 0.0, 5.0, 4.0], [20.0, 20.0, 24.0, 22.0]])
    boxes = np.array([
        [0.0, 0.0, 4.0, 4.0],      # gt 0 exactly, taken already; IoU 0.6 with gt 1
        [0.2, 0.0, 4.2, 4.0],      # takes gt 0 first
        [20.0, 20.0, 24.0, 21.0],  # IoU exactly 0.5 with gt 2
        [10.0, 10.0, 12.0, 12.0],  # a miss
        [1.9, 0.0, 5.9, 4.0],      # gt 1
    ])
    scores = np.array([0.6, 0.9, 0.5, 0.95, 0.3])
    return boxes, scores, gt


def match_random(seed, D, G):
    rng = np.random.default_rng(seed)
    gt = random_boxes(seed, G, special=False)
    pick = rng.integers(0, G, D)
    boxes = gt[pick] + rng.normal(0, 0.6, (D, 4))
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
    scores = np.round(rng.uniform(0, 1, D), 1)   # some ties
    return boxes, scores, gt


def pr_inputs(seed, D, num_gt, *, ties=False):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, D)
    if ties:
        scores = np.round(scores * 3) / 3
    is_tp = np.zeros(D, dtype=bool)
    is_tp[rng.permutation(D)[:min(num_gt, D) * 2 // 3]] = True
    return scores, is_tp, int(num_gt)


def pr_curve(hits, num_gt):
    """Precision and recall by hand from a list of hits in score order."""
    hits = np.asarray(hits, dtype=float)
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / num_gt
    return precision, recall


def scenes(seed, num_images, num_classes, *, missing_class=None, noise=0.15):
    """Detections and ground truths of a few images: (list of (boxes, scores, labels), list of
    (boxes, labels)); detections are jittered ground truths, duplicates and false alarms."""
    rng = np.random.default_rng(seed)
    detections, ground_truths = [], []
    for _ in range(num_images):
        G = int(rng.integers(1, 5))
        gt = random_boxes(int(rng.integers(1 << 30)), G, special=False)
        labels = rng.integers(0, num_classes, G)
        if missing_class is not None:
            labels[labels == missing_class] = (missing_class + 1) % num_classes
        ground_truths.append((gt, labels.astype(np.int64)))
        pick = rng.integers(0, G, G + 2)
        boxes = gt[pick] + rng.normal(0, noise * 4, (G + 2, 4))
        extra = random_boxes(int(rng.integers(1 << 30)), 2, special=False)
        boxes = np.concatenate([boxes, extra])
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.1)
        det_labels = np.concatenate([labels[pick], rng.integers(0, num_classes, 2)])
        flip = rng.uniform(size=len(det_labels)) < 0.15
        det_labels[flip] = rng.integers(0, num_classes, int(flip.sum()))
        scores = np.round(rng.uniform(0.05, 1, len(det_labels)), 2)
        detections.append((boxes, scores, det_labels.astype(np.int64)))
    return detections, ground_truths


def undetected_class_scenes(seed, num_images, num_classes, missing):
    """``scenes`` with every detection of class ``missing`` removed: that class has ground truth
    but no detection (AP 0)."""
    detections, ground_truths = scenes(seed, num_images, num_classes)
    assert any((labels == missing).any() for _, labels in ground_truths)
    kept = [(boxes[labels != missing], scores[labels != missing], labels[labels != missing])
            for boxes, scores, labels in detections]
    return kept, ground_truths


def other_class_scene():
    """Two images; a confident detection of class 1 lies exactly on an object of class 0."""
    gt = np.array([[0.0, 0.0, 4.0, 4.0], [10.0, 10.0, 14.0, 14.0]])
    detections = [(np.array([[0.0, 0.0, 4.0, 4.0], [10.0, 10.0, 14.0, 14.0],
                             [0.2, 0.0, 4.0, 4.0]]),
                   np.array([0.9, 0.8, 0.7]), np.array([1, 1, 0])),
                  (np.array([[1.0, 1.0, 3.0, 3.0]]), np.array([0.6]), np.array([0]))]
    ground_truths = [(gt, np.array([0, 1])), (np.array([[1.0, 1.0, 3.0, 3.5]]), np.array([0]))]
    return detections, ground_truths


COCO_THRESHOLDS = tuple((50 + 5 * k) / 100 for k in range(10))  # as coco_map's docstring


def on_the_thresholds():
    """Two images, two classes, each detection's IoU with its object exactly one of the COCO
    thresholds as the reference computes them ((50 + 5k) / 100): inter and union are exact
    (integers and halves) and their ratio is the threshold, so the float quotient is the float
    threshold. 0.7 (a box of height 7 on one of 10), 0.85, 0.6 (shifted by 2.5: 75 / 125),
    0.75, 0.95, 0.5, and a false alarm. Thresholds built by adding 0.05 (np.arange) are a hair
    above 0.6 ... 0.95, and 0.5 + 0.05 * 7 is a hair above 0.85."""
    detections = [
        (np.array([[0.0, 0.0, 10.0, 7.0], [20.0, 0.0, 30.0, 8.5], [40.0, 40.0, 44.0, 44.0]]),
         np.array([0.9, 0.8, 0.3]), np.array([0, 1, 0])),
        (np.array([[2.5, 0.0, 12.5, 10.0], [10.0, 10.0, 20.0, 17.5], [30.0, 0.0, 40.0, 9.5],
                   [50.0, 50.0, 60.0, 55.0]]),
         np.array([0.7, 0.85, 0.6, 0.95]), np.array([0, 1, 1, 0])),
    ]
    ground_truths = [
        (np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]]), np.array([0, 1])),
        (np.array([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0], [30.0, 0.0, 40.0, 10.0],
                   [50.0, 50.0, 60.0, 60.0]]), np.array([0, 1, 1, 0])),
    ]
    return detections, ground_truths


def negative_labels(seed, K, C):
    """A crowded scene of C labels left of and above the image (most coordinates negative, the
    largest 1), the first two boxes the same box [-10, -10, 1, 1] with labels 0 and 1: moving
    each label's boxes by label * (boxes.max() + 1) does not keep the labels apart."""
    boxes, scores = crowd(seed, K, clusters=2)
    boxes = boxes - 18.0
    labels = np.random.default_rng(seed + 1).integers(0, C, K)
    boxes[0] = boxes[1] = [-10.0, -10.0, 1.0, 1.0]
    labels[0], labels[1] = 0, 1
    return boxes, scores, labels


def _nan_to_sentinel(value):
    """NaN -> -1 (AP is never negative), so that a NaN in the wrong place is a wrong value."""
    if isinstance(value, tuple):
        return tuple(_nan_to_sentinel(v) for v in value)
    if isinstance(value, list):
        return [_nan_to_sentinel(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return -1.0
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.where(np.isnan(value), -1.0, value)
    return value


# ---------------------------------------------------------------- cases

def convert_cases(t):
    cases = []
    pairs = [("xyxy", "xywh"), ("xywh", "xyxy"), ("xyxy", "cxcywh"), ("cxcywh", "xyxy"),
             ("xywh", "cxcywh"), ("cxcywh", "xywh"), ("xyxy", "xyxy")]
    for i, (src, dst) in enumerate(pairs):
        cases.append(Case(f"{src} -> {dst}, K=6", (box_formats(10 + i, 6, src),),
                          {"src": src, "dst": dst}))
    cases.append(Case("K=1, cxcywh -> xyxy", (np.array([[2.0, 3.0, 1.0, 4.0]]),),
                      {"src": "cxcywh", "dst": "xyxy"}))
    cases.append(Case("K=0", (np.zeros((0, 4)),), {"src": "xyxy", "dst": "cxcywh"}))
    return cases + t.hidden("detection", "convert_cases", Case, box_formats)


def iou_cases(t):
    cases = [
        Case("M=7 with identical, nested, touching and zero-area boxes, N=5",
             (random_boxes(1, 7), random_boxes(2, 5, special=False))),
        Case("the same 8 boxes on both sides", (random_boxes(3, 8), random_boxes(3, 8))),
        Case("two zero-area boxes at one point (empty union)",
             (np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]]),
              np.array([[1.0, 1.0, 1.0, 1.0], [5.0, 5.0, 5.0, 7.0]]))),
        Case("M=1, N=0", (random_boxes(4, 1), np.zeros((0, 4)))),
        Case("IoU exactly 0.5 and 1/3", (at_threshold()[0], at_threshold()[0])),
    ]
    return cases + t.hidden("detection", "iou_cases", Case, random_boxes)


def nms_cases(t):
    boxes, scores = at_threshold()
    cases = [
        Case("crowded scene, K=12, threshold 0.5", crowd(1, 12), {"iou_threshold": 0.5}),
        Case("crowded scene, K=15, threshold 0.3", crowd(2, 15, clusters=2),
             {"iou_threshold": 0.3}),
        Case("IoUs exactly at the threshold 0.5", (boxes, scores), {"iou_threshold": 0.5}),
        Case("K=30, equal scores in five groups (lower index first), two identical boxes",
             tied_crowd(4, 30), {"iou_threshold": 0.4}),
        Case("equal scores, identical boxes", (random_boxes(5, 7), np.full(7, 0.5)),
             {"iou_threshold": 0.4}),
        Case("K=1", (random_boxes(6, 1), np.array([0.3])), {}),
        Case("K=0", (np.zeros((0, 4)), np.zeros(0)), {}),
        Case("threshold 0 (any overlap suppresses)", crowd(3, 10), {"iou_threshold": 0.0}),
    ]
    return cases + t.hidden("detection", "nms_cases", Case, crowd)


def batched_cases(t):
    cases = []
    for i, (K, C, thr) in enumerate([(14, 2, 0.5), (16, 3, 0.3), (9, 1, 0.5)]):
        boxes, scores = crowd(20 + i, K, clusters=2)
        labels = np.random.default_rng(30 + i).integers(0, C, K)
        cases.append(Case(f"K={K}, {C} labels, threshold {thr}", (boxes, scores, labels),
                          {"iou_threshold": thr}))
    boxes, scores = at_threshold()
    cases.append(Case("IoUs exactly at the threshold, two labels",
                      (boxes, scores, np.array([0, 0, 1, 1, 1])), {"iou_threshold": 0.5}))
    cases.append(Case("K=24, 3 labels, equal scores across labels (merged in index order)",
                      tied_labels(24, 24, 3), {"iou_threshold": 0.5}))
    cases.append(Case("K=12, 3 labels, negative coordinates (boxes left of and above the "
                      "image), two identical boxes of labels 0 and 1", negative_labels(25, 12, 3),
                      {"iou_threshold": 0.3}))
    cases.append(Case("K=0", (np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)), {}))
    return cases + t.hidden("detection", "batched_cases", Case, crowd)


def encode_cases(t):
    boxes, labels = same_cell_objects()
    cases = [
        Case("K=6, S=4, C=3, B=2", yolo_objects(1, 6, 3), {"grid_size": 4, "num_classes": 3,
                                                           "boxes_per_cell": 2}),
        Case("three objects in one cell, two slots (one dropped)", (boxes, labels),
             {"grid_size": 4, "num_classes": 3, "boxes_per_cell": 2}),
        Case("centres at 1.0, on the left edge and on a cell boundary, S=6, C=2",
             yolo_objects(2, 5, 2, corner=True), {"grid_size": 6, "num_classes": 2,
                                                  "boxes_per_cell": 1}),
        Case("K=0, S=3", (np.zeros((0, 4)), np.zeros(0, dtype=np.int64)),
             {"grid_size": 3, "num_classes": 2}),
        Case("S=7, C=5, B=1, K=12", yolo_objects(3, 12, 5), {"grid_size": 7, "num_classes": 5}),
        # floor(cx * S) puts 0.3 in column 3 of 10; cx // (1 / S) gives 2.9999... -> 2
        Case("centres on the cell borders of a 10x10 grid (0.3, 0.5, 0.6, 0.7, 0.9), S=10, C=2",
             (np.array([[0.3, 0.5, 0.1, 0.1], [0.5, 0.3, 0.2, 0.1], [0.6, 0.9, 0.1, 0.3],
                        [0.7, 0.6, 0.3, 0.2], [0.9, 0.7, 0.2, 0.2]]), np.array([0, 1, 1, 0, 1])),
             {"grid_size": 10, "num_classes": 2}),
        # objects 2-5 find no free slot, from two cells filled alternately: dropped lists them
        # in increasing order (2, 3, 4, 5), not reversed nor grouped by cell (2, 4, 3, 5)
        Case("S=2, B=1: four objects dropped from two cells filled alternately (dropped is "
             "increasing)",
             (np.array([[0.2, 0.2, 0.1, 0.1], [0.7, 0.7, 0.2, 0.2], [0.3, 0.1, 0.1, 0.3],
                        [0.8, 0.9, 0.1, 0.1], [0.1, 0.4, 0.2, 0.2], [0.6, 0.6, 0.3, 0.3]]),
              np.array([0, 1, 2, 0, 1, 2])),
             {"grid_size": 2, "num_classes": 3, "boxes_per_cell": 1}),
    ]
    return cases + t.hidden("detection", "encode_cases", Case, yolo_objects)


def decode_cases(t):
    cases = [
        Case("scores exactly at the threshold 0.5", (exact_scores_prediction(),), {}),
        Case("S=3, B=2, C=3, threshold 0.3", (yolo_prediction(1, 1, 3, 2, 3)[0],),
             {"conf_threshold": 0.3}),
        Case("S=4, B=1, C=1, threshold 0.6", (yolo_prediction(2, 1, 4, 1, 1)[0],),
             {"conf_threshold": 0.6}),
        Case("threshold 1.0 (nothing kept)", (yolo_prediction(3, 1, 2, 2, 2)[0],),
             {"conf_threshold": 1.0}),
    ]
    return cases + t.hidden("detection", "decode_cases", Case, yolo_prediction)


def loss_cases(t):
    cases = [
        Case("N=2, S=3, B=2, C=3, 4 objects each", yolo_batch(1, 2, 3, 2, 3, 4), {}),
        Case("N=1, S=4, B=1, C=2, lambda_coord=2, lambda_noobj=0.25",
             yolo_batch(2, 1, 4, 1, 2, 5), {"lambda_coord": 2.0, "lambda_noobj": 0.25}),
        Case("N=3, S=2, B=2, C=1, 3 objects each (cells with two)", yolo_batch(3, 3, 2, 2, 1, 3),
             {}),
    ]
    return cases + t.hidden("detection", "loss_cases", Case, yolo_batch)


def match_cases(t):
    boxes, scores, gt = duplicate_scene()
    cases = [
        Case("a duplicate, a next-best ground truth, IoU exactly 0.5, a miss",
             (boxes, scores, gt), {"iou_threshold": 0.5}),
        Case("D=12, G=4, equal scores", match_random(1, 12, 4), {"iou_threshold": 0.5}),
        Case("D=24 around 6 objects, equal scores per object (the first in input order takes "
             "it)", tied_scene(1, 6, 4), {"iou_threshold": 0.5}),
        Case("D=10, G=6, threshold 0.75", match_random(2, 10, 6), {"iou_threshold": 0.75}),
        Case("no ground truth", (boxes, scores, np.zeros((0, 4))), {}),
        Case("no detection", (np.zeros((0, 4)), np.zeros(0), gt), {}),
    ]
    return cases + t.hidden("detection", "match_cases", Case, match_random)


def pr_cases(t):
    cases = [
        Case("D=10, num_gt=8", pr_inputs(1, 10, 8)),
        Case("D=12, num_gt=6, equal scores", pr_inputs(2, 12, 6, ties=True)),
        Case("D=1, num_gt=3", (np.array([0.4]), np.array([True]), 3)),
        Case("num_gt=0", (np.array([0.2, 0.9]), np.array([False, False]), 0)),
        Case("D=0", (np.zeros(0), np.zeros(0, dtype=bool), 2)),
    ]
    return cases + t.hidden("detection", "pr_cases", Case, pr_inputs)


def ap_cases(t):
    # precision and recall by hand from hit sequences; num_gt=10 puts recalls exactly on
    # multiples of 0.1
    a = pr_curve([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1], 10)
    b = pr_curve([0, 1, 1, 0, 1, 1, 1, 0, 1, 1], 10)
    c = pr_curve([1, 1, 0, 0, 0, 1], 3)
    cases = []
    for method in ("all", "11point"):
        cases += [
            Case(f"{method}: 12 detections, 6 of 10 found", a, {"method": method}),
            Case(f"{method}: 10 detections, 7 of 10 found", b, {"method": method}),
            Case(f"{method}: every object found (recall 1)", c, {"method": method}),
            Case(f"{method}: no detection", (np.zeros(0), np.zeros(0)), {"method": method}),
        ]
    return cases + t.hidden("detection", "ap_cases", Case, pr_curve)


def map_cases(t):
    cases = [
        Case("5 images, 3 classes", scenes(1, 5, 3), {"num_classes": 3}),
        Case("4 images, 4 classes, class 2 without ground truth",
             scenes(2, 4, 4, missing_class=2), {"num_classes": 4}),
        Case("6 images, 2 classes, threshold 0.7, 11-point", scenes(3, 6, 2),
             {"num_classes": 2, "iou_threshold": 0.7, "method": "11point"}),
        Case("1 image, 1 class", scenes(4, 1, 1), {"num_classes": 1}),
        Case("a detection of class 1 on an object of class 0", other_class_scene(),
             {"num_classes": 2}),
        Case("4 images, 3 classes, class 1 with ground truth but no detection (AP 0)",
             undetected_class_scenes(5, 4, 3, 1), {"num_classes": 3}),
    ]
    return cases + t.hidden("detection", "map_cases", Case, scenes)


def coco_cases(t):
    cases = [
        Case("5 images, 3 classes", scenes(11, 5, 3, noise=0.05), {"num_classes": 3}),
        Case("4 images, 2 classes, 11-point", scenes(12, 4, 2, noise=0.05),
             {"num_classes": 2, "method": "11point"}),
        Case("2 images, 2 classes, IoUs exactly 0.5, 0.6, 0.7, 0.75, 0.85 and 0.95 (on "
             "thresholds)", on_the_thresholds(), {"num_classes": 2}),
    ]
    return cases + t.hidden("detection", "coco_cases", Case, scenes)


TIES_HINT = ("equal scores keep their input order (lower index first): sort with "
             "np.argsort(-scores, kind=\"stable\"); NumPy's default sort is not stable, and "
             "np.argsort(scores)[::-1] reverses the ties")


# Other values of the first case's shapes, for a call after the public cases (``_run``'s
# ``again``): (what changes, a function of the case's arguments). Each keeps the inputs valid
# and changes the answer, so a function that remembers its answers by the shapes of its inputs,
# or keeps a buffer from an earlier call, fails there.
def _reversed(*arrays):
    return tuple(np.ascontiguousarray(a[::-1]) for a in arrays)


def _rescaled(boxes):
    return boxes * 1.5 + 0.25  # still valid in every format (w and h stay positive)


AGAIN = {
    "box_convert": ("boxes", lambda boxes: (_rescaled(boxes),)),
    "box_area": ("boxes", lambda boxes: (_rescaled(boxes),)),
    "box_iou": ("boxes1", lambda boxes1, boxes2: (_rescaled(boxes1), boxes2)),
    "nms": ("the boxes in reverse order", lambda boxes, scores: _reversed(boxes, scores)),
    "batched_nms": ("the boxes in reverse order",
                    lambda boxes, scores, labels: _reversed(boxes, scores, labels)),
    "yolo_encode": ("the boxes mirrored left to right",
                    lambda boxes, labels: (np.concatenate([1.0 - boxes[:, :1], boxes[:, 1:]],
                                                          axis=1), labels)),
    "yolo_decode": ("the grid's rows in reverse order",
                    lambda pred: (np.ascontiguousarray(pred[:, ::-1]),)),
    "yolo_loss": ("pred's grid rows in reverse order",
                  lambda pred, target: (np.ascontiguousarray(pred[:, ::-1]), target)),
    "match_detections": ("the detections in reverse order",
                         lambda boxes, scores, gt: (*_reversed(boxes, scores), gt)),
    "precision_recall": ("scores negated", lambda scores, is_tp, num_gt: (-scores, is_tp,
                                                                          num_gt)),
    "average_precision": ("precision halved", lambda precision, recall: (0.5 * precision,
                                                                         recall)),
    "mean_average_precision": ("every score s replaced by 1 - s",
                               lambda detections, gts: (
                                   [(b, 1.0 - sc, lab) for b, sc, lab in detections], gts)),
}
AGAIN["coco_map"] = AGAIN["mean_average_precision"]

# A wrong answer after right ones, from something the function keeps between calls: the answer
# of an earlier case of the same shapes (a result remembered by shape), or an earlier case that
# is wrong when it is asked again (an array kept from an earlier call and filled again).
EARLIER_ANSWER_HINT = ("this is your answer to an earlier case with the same shapes: something "
                       "is remembered between calls (a result kept by shape in a module-level "
                       "dict or an attribute); compute everything from this call's inputs")
KEPT_BUFFER_HINT = ("an earlier case that you got right is wrong when it is asked again now: "
                    "your function keeps something from an earlier call (an array kept in a "
                    "module-level variable or an attribute, filled again without being "
                    "cleared); make every array a call fills in that call (np.zeros inside the "
                    "function)")


def _shapes(value):
    """The shapes of the arrays in ``value`` (nested tuples and lists), in order."""
    if isinstance(value, (tuple, list)):
        return [s for item in value for s in _shapes(item)]
    return [np.shape(value)] if isinstance(value, np.ndarray) else []


def _informative(value):
    """Whether ``value`` holds a non-zero number (an empty or all-zero answer tells nothing)."""
    if isinstance(value, (tuple, list)):
        return any(_informative(item) for item in value)
    try:
        return bool(np.any(np.asarray(value, dtype=float)))
    except (TypeError, ValueError):
        return False


def kept_between_calls_hint(t, target, args, got, passed, convert):
    """EARLIER_ANSWER_HINT when ``got`` is the (informative) answer to a case of the same input
    shapes passed before, KEPT_BUFFER_HINT when the first case passed before (``passed``:
    (args, kwargs, expected)) is now answered otherwise, else None (student code only: the
    expected answers are those already asked)."""
    if not passed:
        return None
    if any(_shapes(earlier) == _shapes(args) and _informative(expected) and
           _same(convert(got), convert(expected)) for earlier, _, expected in passed):
        return EARLIER_ANSWER_HINT
    args, kwargs, expected = passed[0]
    try:
        again, _ = t.student.call_full(target, *args, **kwargs)
    except StudentError:
        return None
    return None if _same(convert(again), convert(expected)) else KEPT_BUFFER_HINT


def _run(t, target, cases, names=None, argnames=None, *, nan=False, dtypes=None, ties=None,
         kwargs_of=None, expected_of=None, new=False, float64_loss=False, floats=()):
    """Every case through ``target``: compared with the reference (NaN as -1 with ``nan``);
    with ``new`` the result must not be an input or a view of one (``Trial.returns_new``);
    ``dtypes`` the exact dtype of each output the docstring fixes (None where it does not);
    ``ties(case, got, kwargs, iou)`` True when a wrong answer is right for another order of
    equal scores (it then gets TIES_HINT, unless a known mistake explains it), ``iou`` the
    reference IoU of the boxes ``ties.boxes(case)`` names (asked for every case, so that a
    release records it); ``kwargs_of(t, case)``
    the keyword arguments to judge a case with (the case's own by default);
    ``expected_of(t, case, kwargs)`` the answer to judge it by (the reference's by default);
    ``float64_loss`` compares a first output named "loss" as a float64 loss (``compare``);
    ``floats`` the indices of the outputs the docstring promises as a Python float.
    After the public cases and before the hidden ones the first case comes again with other
    values of the same shapes (``AGAIN``)."""
    convert = _nan_to_sentinel if nan else (lambda value: value)
    passed = []  # (args, kwargs, expected) of the cases the student got right

    def explaining(case, kwargs):
        excluded = t.ref.ruled_out(target, target, passed,
                                   lambda v, e: _same(convert(v), convert(e)))
        return [(d, convert(v)) for d, v in t.ref.mistakes(target, target, *case.args, **kwargs)
                if d not in excluded]

    def one(case):
        kwargs = kwargs_of(t, case) if kwargs_of else case.kwargs
        with t.explaining_errors(target, target, *case.args, **kwargs):
            got, modified = t.student.call_full(target, *case.args, **kwargs)
        t.no_input_modified(target, modified, argnames, case.label)
        expected = expected_of(t, case, kwargs) if expected_of else \
            t.ref.run(target, *case.args, **kwargs)
        iou = t.ref.run("detection.box_iou", *ties.boxes(case)) \
            if ties is not None and ties.boxes is not None else None
        try:
            t.compare(target, convert(got), convert(expected), names=names, label=case.label,
                      mistakes=lambda case=case, kwargs=kwargs: explaining(case, kwargs),
                      float64_loss=float64_loss)
        except Failed as failure:
            if ties is not None and failure.hint is None and failure.kind == "values" and \
                    _safely(ties, case, got, kwargs, iou):
                failure.hint = TIES_HINT
            if failure.hint is None and failure.kind == "values" and \
                    not getattr(case, "hidden", False) and not failure.float32_sized():
                failure.hint = kept_between_calls_hint(t, target, case.args, got, passed,
                                                       convert)
            raise
        for index, dtype in enumerate(dtypes or ()):
            if dtype is not None:
                value = got[index] if len(names) > 1 else got
                check_exact_dtype(target.split(".", 1)[1], case.label, names[index], value, dtype)
        for index in floats:
            check_python_float(target.split(".", 1)[1], case.label, names[index],
                               got[index] if len(names) > 1 else got)
        if new:
            t.returns_new(target, modified, argnames, case.label)
        passed.append((case.args, kwargs, expected))

    public = [c for c in cases if not getattr(c, "hidden", False)]
    for case in public:
        one(case)
    what, change = AGAIN[target.split(".", 1)[1]]
    t.no_case()
    with remembered_hint():
        one(Case(f"{public[0].label}, the same shapes with other values ({what})",
                 change(*public[0].args), dict(public[0].kwargs)))
    for case in cases:
        if getattr(case, "hidden", False):
            one(case)


def _same(got, expected):
    """Whether two answers agree (tuples item by item) within the default tolerance."""
    if isinstance(expected, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and all(
            _same(g, e) for g, e in zip(got, expected))
    return matches(got, expected)


def _safely(check, *args):
    """``check(*args)``, False when the student's answer is too malformed for it."""
    try:
        return bool(check(*args))
    except (TypeError, ValueError, IndexError):
        return False


# ---------------------------------------------------------------- other orders of equal scores
# Whether a wrong answer is right for another order of equal scores (it gets the hint about
# stable sorting), judged with the reference IoU that ``_run`` asks for every case (a release
# records it: its reference is only the outputs the reference's own run asked for).

def _indices(got, count):
    """``got`` as distinct indices into ``count`` things, or ValueError."""
    keep = np.asarray(got)
    if keep.ndim != 1 or keep.dtype.kind not in "iu" or len(set(keep.tolist())) != keep.size \
            or (keep.size and (keep.min() < 0 or keep.max() >= count)):
        raise ValueError("not indices")
    return keep


def _greedy(iou, scores, first, threshold):
    """Greedy NMS visiting the boxes in decreasing score, equal scores in the order of
    ``first`` (indices) and then by index."""
    rank = np.full(scores.shape[0], scores.shape[0])
    rank[first] = np.arange(len(first))
    suppressed = np.zeros(scores.shape[0], dtype=bool)
    kept = []
    for i in np.lexsort((np.arange(scores.shape[0]), rank, -scores)).tolist():
        if not suppressed[i]:
            kept.append(i)
            suppressed |= iou[i] > threshold
    return np.array(kept, dtype=np.int64)


def nms_other_ties(case, got, kwargs, iou):
    """The kept indices are those of greedy NMS with equal scores visited in the order the
    answer lists them (boxes suppressed last), in that order."""
    boxes, scores = case.args
    keep = _indices(got, scores.shape[0])
    found = _greedy(iou, scores, keep, kwargs.get("iou_threshold", 0.5))
    return np.array_equal(found, keep)


def batched_other_ties(case, got, kwargs, iou):
    """As ``nms_other_ties`` with boxes of different labels never overlapping; the answer in
    non-increasing score."""
    boxes, scores, labels = case.args
    keep = _indices(got, scores.shape[0])
    iou = iou * (labels[:, None] == labels[None, :])
    found = _greedy(iou, scores, keep, kwargs.get("iou_threshold", 0.5))
    return bool((np.diff(scores[keep]) <= 0).all()) and set(found.tolist()) == set(keep.tolist())


def match_other_ties(case, got, kwargs, iou):
    """Each ground truth is taken by one of the detections of highest score among those whose
    best ground truth it is at an IoU >= the threshold, and no other detection is a true
    positive."""
    boxes, scores, gt_boxes = case.args
    is_tp = np.asarray(got)
    if is_tp.shape != scores.shape or is_tp.dtype.kind not in "biu" or not gt_boxes.shape[0]:
        return False
    best = iou.argmax(axis=1)
    hit = iou[np.arange(len(best)), best] >= kwargs.get("iou_threshold", 0.5)
    for g in range(gt_boxes.shape[0]):
        candidates = np.nonzero(hit & (best == g))[0]
        chosen = candidates[is_tp[candidates].astype(bool)]
        if candidates.size and (chosen.size != 1
                                or scores[chosen[0]] != scores[candidates].max()):
            return False
    return not bool(is_tp[~hit].astype(bool).any())


def pr_other_ties(case, got, kwargs, iou):
    """Precision and recall of the detections taken in decreasing score with equal scores in
    some other order: the true positives the curve counts (precision[k] * (k + 1)) step by 0 or
    1, and within each run of equal scores as many as the run holds."""
    scores, is_tp, num_gt = case.args
    precision, recall = (np.asarray(v, dtype=np.float64) for v in got)
    if precision.shape != scores.shape or recall.shape != scores.shape:
        return False
    counted = precision * np.arange(1, scores.shape[0] + 1)
    steps = np.diff(np.concatenate([[0.0], np.round(counted)]))
    if not np.allclose(counted, np.round(counted), atol=1e-6) or not np.isin(steps, (0, 1)).all():
        return False
    if num_gt and not np.allclose(recall, np.cumsum(steps) / num_gt, atol=1e-9):
        return False
    ranked = np.sort(scores)[::-1]
    for score in np.unique(scores):
        run = ranked == score
        if steps[run].sum() != is_tp[scores == score].sum():
            return False
    return True


nms_other_ties.boxes = batched_other_ties.boxes = lambda case: (case.args[0], case.args[0])
pr_other_ties.boxes = None
match_other_ties.boxes = lambda case: (case.args[0], case.args[2])


def _own_iou_kwargs(t, case):
    """The case's keyword arguments, with the threshold moved just above a pair whose IoU is
    exactly at it when the student's own box_iou puts that pair a hair below it (inter /
    (union + eps)): a right match_detections calling that box_iou then finds a false positive
    there, and is judged as the reference would with that IoU. The reference answers under both
    thresholds are asked for (recorded for a release), and while recording, their known
    mistakes too."""
    boxes, scores, gt_boxes = case.args
    kwargs = dict(case.kwargs)
    threshold = kwargs.get("iou_threshold", 0.5)
    if not len(boxes) or not len(gt_boxes):
        return kwargs
    at = t.ref.run("detection.box_iou", boxes, gt_boxes) == threshold
    if not at.any():
        return kwargs
    above = dict(kwargs, iou_threshold=float(np.nextafter(threshold, 2.0)))
    target = "detection.match_detections"
    for options in (kwargs, above):
        t.ref.run(target, *case.args, **options)
        if getattr(t.ref, "recording", None) is not None:
            t.ref.mistakes(target, target, *case.args, **options)
    try:
        own = t.student.call("detection.box_iou", boxes, gt_boxes)
    except (StudentError, NotImplementedByStudent):
        return kwargs
    if isinstance(own, np.ndarray) and own.shape == at.shape and own.dtype.kind == "f" \
            and bool((own[at] < threshold).all()) \
            and bool(np.allclose(own[at], threshold, rtol=1e-9, atol=0)):
        return above
    return kwargs


def _own_iou_coco(t, case, kwargs):
    """The answer to judge a coco_map case by: the reference's, or, where a detection's IoU with
    a ground truth is exactly one of the thresholds and the student's own box_iou puts every
    such pair a hair below it (inter / (union + eps)), the answer of a right coco_map calling
    that box_iou: the reference's mAP at each such threshold moved just above it (those pairs
    then fail it), averaged with the others. The reference's IoUs and mAPs at the moved
    thresholds are asked for whenever such a pair exists (recorded for a release)."""
    detections, ground_truths = case.args
    target = "detection.coco_map"
    expected = t.ref.run(target, *case.args, **kwargs)
    pairs = [(det[0], gt[0]) for det, gt in zip(detections, ground_truths)
             if len(det[0]) and len(gt[0])]
    ious = [t.ref.run("detection.box_iou", boxes, gt_boxes) for boxes, gt_boxes in pairs]
    on = sorted({float(v) for iou in ious for v in iou.ravel().tolist()} & set(COCO_THRESHOLDS))
    if not on:
        return expected
    options = {k: v for k, v in kwargs.items() if k in ("num_classes", "method")}
    values = []
    for threshold in COCO_THRESHOLDS:
        moved = float(np.nextafter(threshold, 2.0)) if threshold in on else threshold
        values.append(t.ref.run("detection.mean_average_precision", *case.args, **options,
                                iou_threshold=moved)[0])
    above = sum(values) / len(values)
    for (boxes, gt_boxes), iou in zip(pairs, ious):
        at = np.isin(iou, on)
        if not at.any():
            continue
        try:
            own = t.student.call("detection.box_iou", boxes, gt_boxes)
        except (StudentError, NotImplementedByStudent):
            return expected
        if not (isinstance(own, np.ndarray) and own.shape == at.shape and own.dtype.kind == "f"
                and bool((own[at] < iou[at]).all())
                and bool(np.allclose(own[at], iou[at], rtol=1e-9, atol=0))):
            return expected
    return above


# ---------------------------------------------------------------- tests

@SPEC.test("box_convert", points=1)
def box_convert(t):
    """Conversions between xyxy, xywh and cxcywh."""
    _run(t, "detection.box_convert", convert_cases(t), argnames=("boxes",), new=True)


@SPEC.test("box_area", points=1)
def box_area(t):
    """Areas of xyxy boxes, zero-area boxes included."""
    cases = [Case("K=7 with a zero-area box", (random_boxes(1, 7),)),
             Case("K=1", (np.array([[1.5, -2.0, 4.0, 3.5]]),)),
             Case("K=0", (np.zeros((0, 4)),))]
    _run(t, "detection.box_area", cases + t.hidden("detection", "area_cases", Case, random_boxes),
         argnames=("boxes",))


@SPEC.test("box_iou", points=2)
def box_iou(t):
    """IoU of every pair; identical, nested, touching, disjoint and zero-area boxes."""
    _run(t, "detection.box_iou", iou_cases(t), argnames=("boxes1", "boxes2"))


@SPEC.test("nms", points=2)
def nms(t):
    """Greedy NMS: decreasing score, ties by index, suppression at IoU > threshold."""
    _run(t, "detection.nms", nms_cases(t), names=("keep",), argnames=("boxes", "scores"),
         dtypes=("int64",), ties=nms_other_ties)


@SPEC.test("batched_nms", points=1)
def batched_nms(t):
    """NMS within each label, results merged in decreasing score."""
    _run(t, "detection.batched_nms", batched_cases(t), names=("keep",),
         argnames=("boxes", "scores", "labels"), dtypes=("int64",), ties=batched_other_ties)


@SPEC.test("yolo_encode", points=2)
def yolo_encode(t):
    """The (S, S, B, 5 + C) target: cell of the centre, offsets in the cell, slots in order."""
    _run(t, "detection.yolo_encode", encode_cases(t), names=("target", "dropped"),
         argnames=("boxes", "labels"), dtypes=(None, "int64"))


@SPEC.test("yolo_decode", points=2)
def yolo_decode(t):
    """Boxes, scores and labels of a YOLO output above a confidence threshold."""
    _run(t, "detection.yolo_decode", decode_cases(t), names=("boxes", "scores", "labels"),
         argnames=("pred",), dtypes=(None, None, "int64"))


@SPEC.test("yolo_loss", points=3)
def yolo_loss(t):
    """The simplified YOLO v1 loss and its gradient."""
    _run(t, "detection.yolo_loss", loss_cases(t), names=("loss", "dpred"),
         argnames=("pred", "target"), float64_loss=True)


@SPEC.test("match_detections", points=2)
def match_detections(t):
    """VOC matching: decreasing score, best ground truth, each matched once, IoU >= threshold
    (as the student's own box_iou finds it)."""
    _run(t, "detection.match_detections", match_cases(t), names=("is_tp",),
         argnames=("boxes", "scores", "gt_boxes"), dtypes=("bool",), ties=match_other_ties,
         kwargs_of=_own_iou_kwargs)


@SPEC.test("precision_recall", points=1)
def precision_recall(t):
    """Cumulative precision and recall in decreasing score (stable)."""
    _run(t, "detection.precision_recall", pr_cases(t), names=("precision", "recall"),
         argnames=("scores", "is_tp"), ties=pr_other_ties)


@SPEC.test("average_precision", points=2)
def average_precision(t):
    """AP with the precision envelope ("all") and the VOC 2007 11-point AP."""
    _run(t, "detection.average_precision", ap_cases(t), names=("ap",),
         argnames=("precision", "recall"))


@SPEC.test("mean_average_precision", points=2)
def mean_average_precision(t):
    """Per-class AP over pooled detections, NaN for classes without ground truth, and the mean."""
    _run(t, "detection.mean_average_precision", map_cases(t), names=("mAP", "ap_per_class"),
         argnames=("detections", "ground_truths"), nan=True, floats=(0,))


@SPEC.test("coco_map", points=1)
def coco_map(t):
    """mAP averaged over the IoU thresholds 0.50, 0.55, ..., 0.95, each exactly (50 + 5k) / 100
    (detections exactly on them; judged by the student's own box_iou, as match_detections)."""
    _run(t, "detection.coco_map", coco_cases(t), names=("mAP",),
         argnames=("detections", "ground_truths"), nan=True, expected_of=_own_iou_coco)
