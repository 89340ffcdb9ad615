"""Unit 08: object detection: boxes, IoU, non-maximum suppression, YOLO targets and loss, mAP.

Boxes are float arrays (K, 4) with continuous coordinates: a box from x1 to x2 has width x2 - x1
(no "+1" pixel convention). Three formats appear:
    "xyxy"    (x1, y1, x2, y2)       the top-left and bottom-right corners
    "xywh"    (x1, y1, w, h)         the top-left corner, the width and the height
    "cxcywh"  (cx, cy, w, h)         the centre, the width and the height
x grows to the right (columns), y grows downwards (rows). Inputs are never modified in place.
"""

import math
import numbers

from .backend import xp_of
from .checks import check_int, check_not_empty, check_not_torch, check_real

FORMATS = ("xyxy", "xywh", "cxcywh")
AP_METHODS = ("all", "11point")


def _check_boxes(name, boxes, argname="boxes"):
    check_not_torch(name, argname, boxes)
    if getattr(boxes, "ndim", None) != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name}: {argname} must be an array of shape (K, 4), got "
                         f"{getattr(boxes, 'shape', type(boxes).__name__)}")
    if boxes.dtype.kind != "f":
        raise TypeError(f"{name}: {argname} must be a float array, got dtype {boxes.dtype}")


def _check_xyxy(name, boxes, argname="boxes"):
    _check_boxes(name, boxes, argname)
    if boxes.size and (bool((boxes[:, 2] < boxes[:, 0]).any())
                       or bool((boxes[:, 3] < boxes[:, 1]).any())):
        raise ValueError(f"{name}: {argname} must be xyxy boxes with x2 >= x1 and y2 >= y1, got "
                         f"{boxes[(boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])][0]}")


def _check_scores(name, scores, count=None, argname="scores"):
    """A 1-D array of ``count`` entries (of any length when count is None)."""
    check_not_torch(name, argname, scores)
    if getattr(scores, "ndim", None) != 1 or (count is not None and scores.shape[0] != count):
        raise ValueError(f"{name}: {argname} must have shape "
                         f"({'D' if count is None else count},), got "
                         f"{getattr(scores, 'shape', type(scores).__name__)}")


def _check_threshold(name, value, argname="iou_threshold"):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name}: {argname} must be a number in [0, 1], got {value!r}")


def _check_labels(name, labels, count, num_classes=None):
    check_not_torch(name, "labels", labels)
    if getattr(labels, "ndim", None) != 1 or labels.shape[0] != count:
        raise ValueError(f"{name}: labels must have shape ({count},), got "
                         f"{getattr(labels, 'shape', type(labels).__name__)}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers, got dtype {labels.dtype}")
    if labels.size and int(labels.min()) < 0:
        raise ValueError(f"{name}: labels must be >= 0, got {int(labels.min())}")
    if num_classes is not None and labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{name}: labels must lie in [0, {num_classes}), got "
                         f"{int(labels.max())}")


def box_convert(boxes, *, src, dst):
    """Convert boxes between the formats "xyxy", "xywh" and "cxcywh".

        xyxy -> xywh:    (x1, y1, x2 - x1, y2 - y1)
        xyxy -> cxcywh:  ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    and the inverses (x1 = cx - w / 2, x2 = cx + w / 2, ...).

    Inputs:
        boxes: (K, 4) float array in the format ``src``.
        src, dst: each one of "xyxy", "xywh", "cxcywh".
    Returns:
        (K, 4) float array in the format ``dst`` (a new array, even when src == dst).
    """
    _check_boxes("box_convert", boxes)
    for argname, value in (("src", src), ("dst", dst)):
        if value not in FORMATS:
            raise ValueError(f"box_convert: {argname} must be one of {FORMATS}, got {value!r}")
    raise NotImplementedError(
        "box_convert: not implemented yet; write it in coursework/detection.py")
    return out


def box_area(boxes):
    """Area of xyxy boxes: (x2 - x1) * (y2 - y1), no "+1".

    Inputs:
        boxes: (K, 4) float array of xyxy boxes, x2 >= x1 and y2 >= y1 (zero-area boxes allowed).
    Returns:
        (K,) float array of areas.
    """
    _check_xyxy("box_area", boxes)
    raise NotImplementedError("box_area: not implemented yet; write it in coursework/detection.py")
    return area


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair of xyxy boxes.

    The intersection of two boxes is the box from (max(x1), max(y1)) to (min(x2), min(y2)),
    empty (area 0) when min(x2) <= max(x1) or min(y2) <= max(y1):
        inter = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))
        union = area1 + area2 - inter
        iou = inter / union, and 0 where union is 0 (two zero-area boxes), never NaN.

    Inputs:
        boxes1: (M, 4) float array of xyxy boxes.
        boxes2: (N, 4) float array of xyxy boxes.
    Returns:
        (M, N) float array, iou[i, j] the IoU of boxes1[i] and boxes2[j], each in [0, 1].
    """
    _check_xyxy("box_iou", boxes1, "boxes1")
    _check_xyxy("box_iou", boxes2, "boxes2")
    raise NotImplementedError("box_iou: not implemented yet; write it in coursework/detection.py")
    return iou


def nms(boxes, scores, *, iou_threshold=0.5):
    """Greedy non-maximum suppression.

    Visit the boxes in decreasing score (equal scores: lower index first). Keep a box unless its
    IoU with a box already kept is greater than ``iou_threshold`` (exactly at the threshold it is
    kept); a suppressed box suppresses nothing.

    Inputs:
        boxes: (K, 4) float array of xyxy boxes.
        scores: (K,) float array.
        iou_threshold: number in [0, 1].
    Returns:
        keep: (D,) int64 array, the indices of the kept boxes in decreasing score.
    """
    _check_xyxy("nms", boxes)
    _check_scores("nms", scores, boxes.shape[0])
    _check_threshold("nms", iou_threshold)
    raise NotImplementedError("nms: not implemented yet; write it in coursework/detection.py")
    return keep


def batched_nms(boxes, scores, labels, *, iou_threshold=0.5):
    """Non-maximum suppression within each label: boxes of different labels never suppress
    each other.

    Inputs:
        boxes: (K, 4) float array of xyxy boxes.
        scores: (K,) float array.
        labels: (K,) integer array.
        iou_threshold: number in [0, 1].
    Returns:
        keep: (D,) int64 array, the kept indices of all labels merged in decreasing score
        (equal scores: lower index first).
    """
    _check_xyxy("batched_nms", boxes)
    _check_scores("batched_nms", scores, boxes.shape[0])
    _check_labels("batched_nms", labels, boxes.shape[0])
    _check_threshold("batched_nms", iou_threshold)
    raise NotImplementedError(
        "batched_nms: not implemented yet; write it in coursework/detection.py")
    return keep


def yolo_encode(boxes, labels, *, grid_size, num_classes, boxes_per_cell=1):
    """The YOLO target tensor of one image.

    Each object goes to the grid cell holding its centre: row floor(cy * S), column
    floor(cx * S), each clipped to S - 1 (a centre at exactly 1.0 belongs to the last cell). Its
    slot holds
        [x_offset, y_offset, w, h, objectness, one-hot class (C)]
    with x_offset = cx * S - column and y_offset = cy * S - row (the centre's position inside its
    cell, 0..1), w and h as given (relative to the image), objectness 1. Objects take the next
    free slot of their cell in the order given; an object whose cell has no free slot left is
    dropped. Empty slots are all zeros.

    Inputs:
        boxes: (K, 4) float array of cxcywh boxes relative to the image (centres in [0, 1]).
        labels: (K,) integer array in [0, num_classes).
        grid_size: S, a positive int.
        num_classes: C, a positive int.
        boxes_per_cell: B, a positive int.
    Returns:
        target: (S, S, B, 5 + C) float64 array.
        dropped: (P,) int64 array, the indices of the objects that found no free slot, increasing.
    """
    _check_boxes("yolo_encode", boxes)
    grid_size = check_int("yolo_encode", "grid_size", grid_size, minimum=1)
    num_classes = check_int("yolo_encode", "num_classes", num_classes, minimum=1)
    boxes_per_cell = check_int("yolo_encode", "boxes_per_cell", boxes_per_cell, minimum=1)
    _check_labels("yolo_encode", labels, boxes.shape[0], num_classes)
    if boxes.size and (float(boxes[:, :2].min()) < 0 or float(boxes[:, :2].max()) > 1):
        raise ValueError("yolo_encode: box centres must lie in [0, 1] (cxcywh relative to the "
                         f"image), got values from {float(boxes[:, :2].min())} to "
                         f"{float(boxes[:, :2].max())}")
    raise NotImplementedError(
        "yolo_encode: not implemented yet; write it in coursework/detection.py")
    return target, dropped


def yolo_decode(pred, *, conf_threshold=0.5):
    """The boxes of one image's YOLO output (the inverse of ``yolo_encode``, with scores).

    For the slot b of the cell at row i, column j, with values [x, y, w, h, o, p_0 .. p_{C-1}]:
        box = ((j + x) / S, (i + y) / S, w, h)  (cxcywh relative to the image)
        label = argmax_c p_c (the lowest such c on ties)
        score = o * max_c p_c
    Only the slots with score >= conf_threshold are returned, cell by cell in row-major order
    (row 0 column 0, row 0 column 1, ...), then slot by slot.

    Inputs:
        pred: (S, S, B, 5 + C) float array of activated values (offsets, sizes and objectness in
            0..1, class probabilities).
        conf_threshold: number in [0, 1].
    Returns:
        boxes: (D, 4) float array of cxcywh boxes.
        scores: (D,) float array.
        labels: (D,) int64 array.
    """
    check_not_torch("yolo_decode", "pred", pred)
    if getattr(pred, "ndim", None) != 4 or pred.shape[0] != pred.shape[1] or pred.shape[3] < 6:
        raise ValueError("yolo_decode: pred must have shape (S, S, B, 5 + C) with C >= 1, got "
                         f"{getattr(pred, 'shape', type(pred).__name__)}")
    if pred.dtype.kind != "f":
        raise TypeError(f"yolo_decode: pred must be a float array, got dtype {pred.dtype}")
    _check_threshold("yolo_decode", conf_threshold, "conf_threshold")
    raise NotImplementedError(
        "yolo_decode: not implemented yet; write it in coursework/detection.py")
    return boxes, scores, labels


def yolo_loss(pred, target, *, lambda_coord=5.0, lambda_noobj=0.5):
    """A simplified YOLO v1 loss of a batch, and its gradient with respect to pred.

    Slots whose target objectness is 1 hold an object (and that slot's prediction is responsible
    for it); the others are empty. With x, y, w, h, o, p the predicted values and x', y', w', h',
    p' the target's:
        object slot:  lambda_coord * ((x - x')^2 + (y - y')^2
                                      + (sqrt(w) - sqrt(w'))^2 + (sqrt(h) - sqrt(h'))^2)
                      + (o - 1)^2 + sum_c (p_c - p'_c)^2
        empty slot:   lambda_noobj * o^2
        L = (sum over every slot of every image) / N
    The objectness target is 1 (not the IoU of the predicted box, as in the paper).

    Inputs:
        pred: (N, S, S, B, 5 + C) float array, predicted w and h > 0.
        target: (N, S, S, B, 5 + C) float array built by yolo_encode (objectness 0 or 1).
        lambda_coord, lambda_noobj: non-negative numbers.
    Returns:
        loss: float.
        dpred: (N, S, S, B, 5 + C) gradient of the loss with respect to pred.
    """
    check_not_torch("yolo_loss", "pred", pred)
    check_not_torch("yolo_loss", "target", target)
    if getattr(pred, "ndim", None) != 5 or pred.shape[-1] < 6:
        raise ValueError("yolo_loss: pred must have shape (N, S, S, B, 5 + C), got "
                         f"{getattr(pred, 'shape', type(pred).__name__)}")
    if getattr(target, "shape", None) != pred.shape:
        raise ValueError(f"yolo_loss: target{tuple(getattr(target, 'shape', ()))} must have the "
                         f"shape of pred{tuple(pred.shape)}")
    check_not_empty("yolo_loss", "pred", pred)
    if pred.dtype.kind != "f" or target.dtype.kind != "f":
        raise TypeError(f"yolo_loss: pred and target must be float arrays, got {pred.dtype} and "
                        f"{target.dtype}")
    if pred.size and float(pred[..., 2:4].min()) <= 0:
        raise ValueError("yolo_loss: predicted w and h must be > 0 (a sigmoid gives them), got "
                         f"{float(pred[..., 2:4].min())}")
    for argname, value in (("lambda_coord", lambda_coord), ("lambda_noobj", lambda_noobj)):
        check_real("yolo_loss", argname, value, minimum=0)
    raise NotImplementedError("yolo_loss: not implemented yet; write it in coursework/detection.py")
    return float(loss), dpred


def match_detections(boxes, scores, gt_boxes, *, iou_threshold=0.5):
    """Which detections of one image and one class are true positives, as PASCAL VOC decides.

    Visit the detections in decreasing score (equal scores: input order). Each takes the
    ground-truth box of highest IoU with it (the lowest index on ties); it is a true positive
    when that IoU is >= iou_threshold and that ground truth is not taken yet (it becomes taken),
    and a false positive otherwise: when its best ground truth is already taken it does not move
    on to the next best. With no ground truth every detection is a false positive.

    Inputs:
        boxes: (D, 4) float array of xyxy detections.
        scores: (D,) float array.
        gt_boxes: (G, 4) float array of xyxy ground-truth boxes.
        iou_threshold: number in [0, 1].
    Returns:
        is_tp: (D,) bool array in the detections' input order.
    """
    _check_xyxy("match_detections", boxes)
    _check_scores("match_detections", scores, boxes.shape[0])
    _check_xyxy("match_detections", gt_boxes, "gt_boxes")
    _check_threshold("match_detections", iou_threshold)
    raise NotImplementedError(
        "match_detections: not implemented yet; write it in coursework/detection.py")
    return is_tp


def precision_recall(scores, is_tp, num_gt):
    """Precision and recall after each detection, the detections taken in decreasing score.

    Sort by decreasing score, stably (equal scores keep their input order); after the k-th
    detection, with TP_k true and FP_k false positives among the first k:
        precision[k] = TP_k / (TP_k + FP_k),   recall[k] = TP_k / num_gt (0 when num_gt is 0)

    Inputs:
        scores: (D,) float array.
        is_tp: (D,) bool array, whether each detection is a true positive.
        num_gt: int >= 0, the number of ground-truth objects.
    Returns:
        precision: (D,) float64 array.
        recall: (D,) float64 array, non-decreasing.
    """
    _check_scores("precision_recall", scores)
    _check_scores("precision_recall", is_tp, scores.shape[0], "is_tp")
    if is_tp.dtype.kind != "b":
        raise TypeError(f"precision_recall: is_tp must be a bool array, got dtype {is_tp.dtype}")
    num_gt = check_int("precision_recall", "num_gt", num_gt, minimum=0)
    if int(is_tp.sum()) > num_gt:
        raise ValueError(f"precision_recall: {int(is_tp.sum())} true positives but only "
                         f"num_gt={num_gt} ground truths")
    raise NotImplementedError(
        "precision_recall: not implemented yet; write it in coursework/detection.py")
    return precision, recall


def average_precision(precision, recall, *, method="all"):
    """Average precision: the area under the precision-recall curve, two ways.

    "all" (PASCAL VOC 2010 onward): add the point (recall 0) in front and (recall 1,
    precision 0) at the end, replace each precision by the largest precision at any later
    point (the monotone envelope), and sum over the points where recall changes:
        AP = sum_k (r_k - r_{k-1}) * envelope_k
    "11point" (VOC 2007): the mean over the 11 recall thresholds t = k / 10, k = 0..10 (computed
    as k / 10, not by adding 0.1 ten times), of the largest precision at a recall >= t (0 when
    no recall reaches t).
    With no detections AP is 0.

    Inputs:
        precision: (D,) float array, from precision_recall.
        recall: (D,) float array, non-decreasing, in [0, 1].
        method: "all" or "11point".
    Returns:
        ap: float in [0, 1].
    """
    if method not in AP_METHODS:
        raise ValueError(f"average_precision: method must be one of {AP_METHODS}, got {method!r}")
    _check_scores("average_precision", precision, argname="precision")
    _check_scores("average_precision", recall, precision.shape[0], "recall")
    # precision_recall's outputs, in this order: swapped (recall, precision), or a recall not
    # divided by num_gt, would give a number that looks like an AP
    drops = (recall[1:] < recall[:-1]).nonzero()[0]
    if recall.size and (float(recall.min()) < 0 or float(recall.max()) > 1 or drops.size):
        why = (f"it decreases from {float(recall[drops[0]])} to {float(recall[drops[0] + 1])}: "
               "are the arguments in the order (precision, recall)?" if drops.size else
               f"its values go from {float(recall.min())} to {float(recall.max())} (recall "
               "is TP / num_gt)")
        raise ValueError(f"average_precision: recall must be non-decreasing and lie in [0, 1] "
                         f"(the second output of precision_recall), but {why}")
    if precision.size and (float(precision.min()) < 0 or float(precision.max()) > 1):
        raise ValueError("average_precision: precision must lie in [0, 1], got values from "
                         f"{float(precision.min())} to {float(precision.max())}")
    raise NotImplementedError(
        "average_precision: not implemented yet; write it in coursework/detection.py")
    return float(ap)


def _check_images(name, detections, ground_truths, num_classes):
    if not isinstance(detections, (list, tuple)) or not isinstance(ground_truths, (list, tuple)):
        raise TypeError(f"{name}: detections and ground_truths must be lists with one entry per "
                        f"image, got {type(detections).__name__} and "
                        f"{type(ground_truths).__name__}")
    for argname, value, entry in (("detections", detections, "(boxes, scores, labels)"),
                                  ("ground_truths", ground_truths, "(boxes, labels)")):
        # one image's (boxes, scores, labels) given without the list around it
        if value and hasattr(value[0], "ndim"):
            raise TypeError(f"{name}: {argname} must be a list with one tuple per image, got a "
                            f"{type(value).__name__} of arrays (one image? wrap it in a list: "
                            f"[{entry}])")
    if len(detections) != len(ground_truths):
        raise ValueError(f"{name}: {len(detections)} images of detections but "
                         f"{len(ground_truths)} of ground truths")
    num_classes = check_int(name, "num_classes", num_classes, minimum=1)
    for i, (det, gt) in enumerate(zip(detections, ground_truths)):
        if not isinstance(det, (tuple, list)) or not isinstance(gt, (tuple, list)):
            raise TypeError(f"{name}: image {i}: detections must be a tuple (boxes, scores, "
                            f"labels) and ground truths a tuple (boxes, labels), got "
                            f"{type(det).__name__} and {type(gt).__name__}")
        if len(det) != 3 or len(gt) != 2:
            raise ValueError(f"{name}: image {i}: detections must be (boxes, scores, labels) and "
                             "ground truths (boxes, labels)")
        _check_xyxy(name, det[0], f"detections[{i}] boxes")
        _check_scores(name, det[1], det[0].shape[0], f"detections[{i}] scores")
        _check_labels(name, det[2], det[0].shape[0], num_classes)
        _check_xyxy(name, gt[0], f"ground_truths[{i}] boxes")
        _check_labels(name, gt[1], gt[0].shape[0], num_classes)
    return num_classes


def mean_average_precision(detections, ground_truths, *, num_classes, iou_threshold=0.5,
                           method="all"):
    """Mean average precision over the classes, and the AP of each class.

    For each class c: the detections of class c of all images are pooled and sorted by decreasing
    score (equal scores: image order, then input order); each is matched against the
    ground-truth boxes of class c of its own image as match_detections does; precision and
    recall follow with num_gt the number of ground truths of class c in all images, and
    average_precision gives AP_c. A class without any ground truth has AP NaN and is left out of
    the mean; the mean is NaN when no class has a ground truth.

    Inputs:
        detections: list with one (boxes (D_i, 4) xyxy floats, scores (D_i,), labels (D_i,)
            ints) per image.
        ground_truths: list with one (boxes (G_i, 4) xyxy floats, labels (G_i,) ints) per image.
        num_classes: C, a positive int; labels lie in [0, C).
        iou_threshold: number in [0, 1].
        method: "all" or "11point", as average_precision.
    Returns:
        mAP: a Python float.
        ap_per_class: (C,) float64 array (NaN for classes without ground truth).
    """
    num_classes = _check_images("mean_average_precision", detections, ground_truths,
                                num_classes)
    _check_threshold("mean_average_precision", iou_threshold)
    if method not in AP_METHODS:
        raise ValueError(f"mean_average_precision: method must be one of {AP_METHODS}, got "
                         f"{method!r}")
    raise NotImplementedError(
        "mean_average_precision: not implemented yet; write it in coursework/detection.py")
    return mean_ap, ap_per_class


COCO_THRESHOLDS = tuple((50 + 5 * k) / 100 for k in range(10))  # 0.50, 0.55, ..., 0.95


def coco_map(detections, ground_truths, *, num_classes, method="all"):
    """COCO-style mAP: mean_average_precision averaged over the IoU thresholds 0.50, 0.55, ...,
    0.95 (ten thresholds, each computed as (50 + 5k) / 100).

    This is COCO's set of thresholds with this unit's matching and AP; pycocotools itself
    interpolates precision at 101 recall points, lets a detection whose best ground truth is
    taken match the next best one, and limits detections to 100 per image, so its numbers differ
    slightly.

    Inputs:
        detections, ground_truths, num_classes, method: as mean_average_precision.
    Returns:
        float (NaN when no class has a ground truth).
    """
    num_classes = _check_images("coco_map", detections, ground_truths, num_classes)
    if method not in AP_METHODS:
        raise ValueError(f"coco_map: method must be one of {AP_METHODS}, got {method!r}")
    raise NotImplementedError("coco_map: not implemented yet; write it in coursework/detection.py")
    return float(result)
