"""Unit 08: the reference ``detection`` checked against independent implementations.

- IoU: a torch formulation and a scalar brute force (pair by pair), on random boxes with
  identical, nested, touching, disjoint and zero-area ones.
- NMS: a brute force (repeatedly take the best remaining box, drop what overlaps it) and a torch
  formulation; batched NMS against the coordinate-offset trick.
- yolo_loss: the issue's formula written in torch, its gradient by autograd (float64).
- yolo_encode / yolo_decode: hand-computed targets, and decode(encode(...)) recovering the boxes.
- matching, precision/recall, AP, mAP: hand-computed cases, and a brute-force evaluator written
  here (pooled sort by a Python key, VOC matching, the envelope integrated on a fine recall grid).

No maintained evaluator is used: pycocotools is not a dependency of the course, and its
conventions differ from this unit's in ways that change the numbers: it interpolates precision at
101 recall points (0, 0.01, ..., 1) instead of integrating the envelope at every recall step; a
detection whose best ground truth is taken may match the next best unmatched one (VOC makes it a
false positive); it keeps at most 100 detections per image, treats "crowd" regions and area
ranges specially, and gives classes without ground truth -1 rather than NaN.
"""

import itertools

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")

det = load_reference().detection


# ---------------------------------------------------------------- boxes

def special_boxes(seed, K, size=10.0):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, size, (K, 2))
    extent = rng.uniform(0, size / 2, (K, 2))
    extent[rng.uniform(size=(K, 2)) < 0.1] = 0.0        # zero width or height
    boxes = np.concatenate([corner, corner + extent], axis=1)
    boxes = np.round(boxes * 2) / 2                      # many touching edges on a 0.5 grid
    boxes[1::7] = boxes[0::7][: len(boxes[1::7])]         # identical boxes
    nested = boxes[2::7][: len(boxes[3::7])]
    boxes[3::7] = np.concatenate([nested[:, :2] + (nested[:, 2:] - nested[:, :2]) / 4,
                                  nested[:, 2:] - (nested[:, 2:] - nested[:, :2]) / 4], axis=1)
    return boxes


def iou_brute(a, b):
    out = np.zeros((len(a), len(b)))
    for i, j in itertools.product(range(len(a)), range(len(b))):
        x1, y1 = max(a[i][0], b[j][0]), max(a[i][1], b[j][1])
        x2, y2 = min(a[i][2], b[j][2]), min(a[i][3], b[j][3])
        inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        union = ((a[i][2] - a[i][0]) * (a[i][3] - a[i][1])
                 + (b[j][2] - b[j][0]) * (b[j][3] - b[j][1]) - inter)
        out[i, j] = inter / union if union > 0 else 0.0
    return out


def iou_torch(a, b):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-300), torch.zeros(())).numpy()


@pytest.mark.parametrize("seed", range(6))
def test_box_iou_against_brute_force_and_torch(seed):
    a, b = special_boxes(seed, 15), special_boxes(seed + 50, 11)
    a = np.concatenate([a, np.array([[3.0, 3.0, 3.0, 3.0]])])    # a point
    b = np.concatenate([b, np.array([[3.0, 3.0, 3.0, 3.0]])])    # the same point: union 0
    got = det.box_iou(a, b)
    np.testing.assert_allclose(got, iou_brute(a, b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got, iou_torch(a, b), rtol=1e-12, atol=1e-15)
    assert got[-1, -1] == 0.0 and np.isfinite(got).all()
    assert (got >= 0).all() and (got <= 1 + 1e-12).all()


def test_box_iou_hand_cases():
    boxes = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0], [2.0, 0.0, 4.0, 2.0],
                      [0.5, 0.5, 1.5, 1.5]])
    iou = det.box_iou(boxes, boxes)
    assert iou[0, 1] == pytest.approx(1 / 7)       # overlap 1, union 4 + 4 - 1
    assert iou[0, 2] == 0.0                        # touching along x = 2
    assert iou[0, 3] == pytest.approx(0.25)        # nested: 1 / 4
    np.testing.assert_array_equal(np.diag(iou), 1.0)


def test_box_convert_round_trips_and_area():
    boxes = special_boxes(7, 20)
    for src, dst in itertools.permutations(det.FORMATS, 2):
        there = det.box_convert(det.box_convert(boxes, src="xyxy", dst=src), src=src, dst=dst)
        back = det.box_convert(there, src=dst, dst="xyxy")
        np.testing.assert_allclose(back, boxes, rtol=1e-12, atol=1e-12)
    cxcywh = det.box_convert(np.array([[1.0, 2.0, 5.0, 3.0]]), src="xyxy", dst="cxcywh")
    np.testing.assert_allclose(cxcywh, [[3.0, 2.5, 4.0, 1.0]])
    np.testing.assert_allclose(det.box_area(np.array([[1.0, 2.0, 5.0, 3.0], [1, 1, 1, 4.0]])),
                               [4.0, 0.0])


# ---------------------------------------------------------------- NMS

def nms_brute(boxes, scores, thr):
    """Take the best remaining box (lowest index on ties), drop the remaining boxes that overlap
    it by more than thr; repeat."""
    remaining = list(range(len(scores)))
    keep = []
    while remaining:
        best = min(remaining, key=lambda i: (-scores[i], i))
        keep.append(best)
        remaining = [i for i in remaining
                     if i != best and iou_brute(boxes[[best]], boxes[[i]])[0, 0] <= thr]
    return keep


def nms_torch(boxes, scores, thr):
    s = torch.as_tensor(scores)
    order = torch.sort(-s, stable=True).indices
    iou = torch.as_tensor(iou_torch(boxes, boxes))
    alive = torch.ones(len(s), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if alive[i]:
            keep.append(i)
            alive &= ~(iou[i] > thr)
    return keep


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_against_brute_force(seed, thr):
    rng = np.random.default_rng(seed)
    boxes = special_boxes(seed, 25)
    scores = np.round(rng.uniform(size=25), 1)     # many equal scores
    keep = det.nms(boxes, scores, iou_threshold=thr)
    assert keep.dtype == np.int64
    assert keep.tolist() == nms_brute(boxes, scores, thr) == nms_torch(boxes, scores, thr)


def test_nms_at_exactly_the_threshold():
    boxes = np.array([[0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 2.0, 1.0]])  # IoU exactly 0.5
    scores = np.array([0.4, 0.9])
    assert det.nms(boxes, scores, iou_threshold=0.5).tolist() == [1, 0]
    assert det.nms(boxes, scores, iou_threshold=0.49).tolist() == [1]


@pytest.mark.parametrize("seed", range(6))
def test_batched_nms_against_offset_trick(seed):
    rng = np.random.default_rng(seed)
    boxes = special_boxes(seed, 30)
    scores = np.round(rng.uniform(size=30), 1)
    labels = rng.integers(0, 4, 30)
    shifted = boxes + (labels * (boxes.max() + 1.0))[:, None]   # labels never overlap
    expected = nms_brute(shifted, scores, 0.4)
    assert det.batched_nms(boxes, scores, labels, iou_threshold=0.4).tolist() == expected


# ---------------------------------------------------------------- YOLO

def test_yolo_encode_by_hand():
    boxes = np.array([[0.10, 0.60, 0.2, 0.3],    # row 2, column 0 of a 4x4 grid
                      [0.20, 0.70, 0.1, 0.1],    # the same cell, second slot
                      [0.15, 0.65, 0.4, 0.2],    # the same cell, no slot left
                      [1.00, 0.00, 0.3, 0.2]])   # the last column, row 0
    target, dropped = det.yolo_encode(boxes, np.array([1, 0, 2, 1]), grid_size=4,
                                      num_classes=3, boxes_per_cell=2)
    assert target.shape == (4, 4, 2, 8) and target.dtype == np.float64
    np.testing.assert_allclose(target[2, 0, 0], [0.4, 0.4, 0.2, 0.3, 1, 0, 1, 0])
    np.testing.assert_allclose(target[2, 0, 1], [0.8, 0.8, 0.1, 0.1, 1, 1, 0, 0])
    np.testing.assert_allclose(target[0, 3, 0], [1.0, 0.0, 0.3, 0.2, 1, 0, 1, 0])
    assert dropped.tolist() == [2] and dropped.dtype == np.int64
    assert target[..., 4].sum() == 3


@pytest.mark.parametrize("seed", range(4))
def test_yolo_decode_inverts_encode(seed):
    rng = np.random.default_rng(seed)
    S, C = 5, 3
    boxes = np.concatenate([rng.uniform(0, 1, (8, 2)), rng.uniform(0.05, 0.5, (8, 2))], axis=1)
    labels = rng.integers(0, C, 8)
    target, dropped = det.yolo_encode(boxes, labels, grid_size=S, num_classes=C,
                                      boxes_per_cell=2)
    got_boxes, scores, got_labels = det.yolo_decode(target, conf_threshold=0.5)
    kept = np.setdiff1d(np.arange(8), dropped)
    # decode goes cell by cell in row-major order, then slot by slot (objects in given order)
    cell = [(min(int(cy * S), S - 1), min(int(cx * S), S - 1)) for cx, cy, _, _ in boxes[kept]]
    order = kept[np.lexsort((kept, [c[1] for c in cell], [c[0] for c in cell]))]
    np.testing.assert_allclose(got_boxes, boxes[order], atol=1e-12)
    assert got_labels.tolist() == labels[order].tolist()
    np.testing.assert_array_equal(scores, 1.0)


def yolo_loss_torch(pred, target, lambda_coord, lambda_noobj):
    obj = target[..., 4] == 1
    coord = ((pred[..., 0] - target[..., 0]) ** 2 + (pred[..., 1] - target[..., 1]) ** 2
             + (pred[..., 2].sqrt() - target[..., 2].sqrt()) ** 2
             + (pred[..., 3].sqrt() - target[..., 3].sqrt()) ** 2)
    with_object = (lambda_coord * coord + (pred[..., 4] - 1) ** 2
                   + ((pred[..., 5:] - target[..., 5:]) ** 2).sum(-1))
    empty = lambda_noobj * pred[..., 4] ** 2
    return torch.where(obj, with_object, empty).sum() / pred.shape[0]


@pytest.mark.parametrize("N,S,B,C,lc,ln", [(1, 2, 1, 1, 5.0, 0.5), (3, 4, 2, 3, 5.0, 0.5),
                                           (2, 3, 3, 2, 1.5, 2.0)])
def test_yolo_loss_gradient_by_autograd(N, S, B, C, lc, ln):
    rng = np.random.default_rng(N * 100 + S)
    target = np.stack([det.yolo_encode(
        np.concatenate([rng.uniform(0, 1, (5, 2)), rng.uniform(0.01, 0.6, (5, 2))], axis=1),
        rng.integers(0, C, 5), grid_size=S, num_classes=C, boxes_per_cell=B)[0]
        for _ in range(N)])
    pred = rng.uniform(0.01, 0.99, target.shape)
    loss, dpred = det.yolo_loss(pred, target, lambda_coord=lc, lambda_noobj=ln)
    p = torch.tensor(pred, requires_grad=True)
    expected = yolo_loss_torch(p, torch.tensor(target), lc, ln)
    expected.backward()
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(dpred, p.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_yolo_loss_is_zero_at_the_target():
    target, _ = det.yolo_encode(np.array([[0.3, 0.3, 0.2, 0.2]]), np.array([0]), grid_size=2,
                                num_classes=2)
    pred = target.copy()
    pred[..., 2:4] = np.where(target[..., 4:5] == 1, target[..., 2:4], 0.5)
    loss, dpred = det.yolo_loss(pred[None], target[None])
    assert loss == 0.0 and not dpred.any()


# ---------------------------------------------------------------- evaluation

def test_match_detections_by_hand():
    gt = np.array([[0.0, 0.0, 4.0, 4.0], [1.0, 0.0, 5.0, 4.0]])  # the two overlap (IoU 0.6)
    boxes = np.array([[0.0, 0.0, 4.0, 4.0],      # best gt 0, taken by the next one: FP
                      [0.2, 0.0, 4.2, 4.0],      # highest score: takes gt 0
                      [1.0, 0.0, 5.0, 3.0],      # IoU 0.75 with gt 1: TP
                      [9.0, 9.0, 9.5, 9.5]])     # nothing: FP
    scores = np.array([0.5, 0.9, 0.4, 0.95])
    assert det.match_detections(boxes, scores, gt).tolist() == [False, True, True, False]
    # equal scores: the first in input order takes the ground truth
    same = det.match_detections(boxes[:2], np.array([0.5, 0.5]), gt[:1])
    assert same.tolist() == [True, False]
    # IoU exactly at the threshold is a match
    assert det.match_detections(np.array([[0.0, 0.0, 2.0, 4.0]]), np.array([1.0]), gt[:1],
                                iou_threshold=0.5).tolist() == [True]


def test_precision_recall_and_ap_by_hand():
    scores = np.array([0.3, 0.9, 0.6, 0.6])
    is_tp = np.array([True, True, False, True])
    # sorted: 0.9 (TP), 0.6 (FP, index 2), 0.6 (TP, index 3), 0.3 (TP); 5 ground truths
    precision, recall = det.precision_recall(scores, is_tp, 5)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 3 / 4])
    np.testing.assert_allclose(recall, [0.2, 0.2, 0.4, 0.6])
    # envelope [1, 3/4, 3/4, 3/4] at recalls 0.2, 0.2, 0.4, 0.6: 0.2 * 1 + 0.4 * 3/4
    assert det.average_precision(precision, recall) == pytest.approx(0.5)
    # 11 points: t = 0, 0.1, 0.2 -> 1; t = 0.3 .. 0.6 -> 3/4; t = 0.7 .. 1 -> 0
    assert det.average_precision(precision, recall, method="11point") == pytest.approx(6 / 11)
    assert det.average_precision(np.zeros(0), np.zeros(0)) == 0.0
    assert det.precision_recall(scores, np.zeros(4, dtype=bool), 0)[1].tolist() == [0.0] * 4


def test_mean_average_precision_by_hand():
    # image 0: class 0 object found (0.9); class 1 object missed, a false alarm of class 1 (0.8)
    # image 1: class 0 object found late (0.3) after a false alarm (0.7); class 2 has no object
    detections = [
        (np.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]]), np.array([0.9, 0.8]),
         np.array([0, 1])),
        (np.array([[8.0, 8.0, 9.0, 9.0], [1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]]),
         np.array([0.7, 0.3, 0.5]), np.array([0, 0, 2])),
    ]
    ground_truths = [(np.array([[0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 4.0, 1.0]]), np.array([0, 1])),
                     (np.array([[1.0, 1.0, 3.0, 3.0]]), np.array([0]))]
    mean_ap, ap = det.mean_average_precision(detections, ground_truths, num_classes=3)
    # class 0 pooled: 0.9 TP, 0.7 FP, 0.3 TP of 2 -> P 1, 1/2, 2/3; R 1/2, 1/2, 1
    # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6; class 1: one FP -> 0; class 2: no ground truth
    np.testing.assert_allclose(ap[:2], [5 / 6, 0.0])
    assert np.isnan(ap[2])
    assert mean_ap == pytest.approx(5 / 12)


def brute_map(detections, ground_truths, num_classes, thr):
    """mAP with a pooled sort by a Python key and the envelope integrated on a recall grid."""
    aps = []
    grid = np.arange(1, 20_001) / 20_000  # right ends of recall steps of 1 / 20000
    for c in range(num_classes):
        gts = {i: [g for g, label in zip(*gt) if label == c]
               for i, gt in enumerate(ground_truths)}
        num_gt = sum(len(v) for v in gts.values())
        if num_gt == 0:
            aps.append(np.nan)
            continue
        entries = sorted(((-s, i, k, b) for i, (bs, ss, ls) in enumerate(detections)
                          for k, (b, s, label) in enumerate(zip(bs, ss, ls)) if label == c),
                         key=lambda e: e[:3])
        taken = {i: [False] * len(v) for i, v in gts.items()}
        tp = fp = 0
        points = []
        for _, i, _, b in entries:
            ious = [iou_brute(b[None], g[None])[0, 0] for g in gts[i]]
            best = int(np.argmax(ious)) if ious else -1
            if best >= 0 and ious[best] >= thr and not taken[i][best]:
                taken[i][best] = True
                tp += 1
            else:
                fp += 1
            points.append((tp / num_gt, tp / (tp + fp)))
        # precision interpolated at recall r: the largest precision at any recall >= r
        rr, pp = np.array([pt[0] for pt in points]), np.array([pt[1] for pt in points])
        interp = [pp[rr >= r - 1e-12].max() if (rr >= r - 1e-12).any() else 0.0 for r in grid]
        aps.append(float(np.mean(interp)))
    aps = np.array(aps)
    return float(np.nanmean(aps)), aps


@pytest.mark.parametrize("seed", range(3))
def test_mean_average_precision_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    detections, ground_truths = [], []
    for _ in range(5):
        G = int(rng.integers(1, 5))
        gt = special_boxes(int(rng.integers(1000)), G) + np.array([0, 0, 1, 1])
        labels = rng.integers(0, 3, G)
        pick = rng.integers(0, G, G + 3)
        boxes = gt[pick] + rng.normal(0, 0.4, (G + 3, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        scores = np.round(rng.uniform(size=G + 3), 1)
        ground_truths.append((gt, labels))
        detections.append((boxes, scores, labels[pick]))
    for thr in (0.3, 0.5, 0.75):
        mean_ap, ap = det.mean_average_precision(detections, ground_truths, num_classes=3,
                                                 iou_threshold=thr)
        brute_mean, brute_ap = brute_map(detections, ground_truths, 3, thr)
        # a Riemann sum with steps of 1 / 20000: off by at most 1 / 20000 per recall step
        np.testing.assert_allclose(ap, brute_ap, atol=1e-3)
        assert mean_ap == pytest.approx(brute_mean, abs=1e-3)
    coco = det.coco_map(detections, ground_truths, num_classes=3)
    expected = np.mean([det.mean_average_precision(detections, ground_truths, num_classes=3,
                                                   iou_threshold=t)[0]
                        for t in np.linspace(0.5, 0.95, 10)])
    assert coco == pytest.approx(expected, rel=1e-12)
