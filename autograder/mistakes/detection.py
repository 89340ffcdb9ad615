"""Known mistakes of unit 08, detection: wrong variants with the signature of the function they
imitate. They are written here from scratch (a small, switchable implementation of each
function), not built on the reference. Each is tested to be recognised (tests/test_hints.py).
"""

import numpy as np

# ---------------------------------------------------------------- boxes


def _to_xyxy(boxes, src, *, plus_one=False, half=False, centre_as_corner=False):
    a, b, c, d = boxes.T
    one = 1.0 if plus_one else 0.0
    if src == "xyxy":
        return np.stack([a, b, c, d], axis=1)
    if src == "xywh" or (src == "cxcywh" and centre_as_corner):
        return np.stack([a, b, a + c - one, b + d - one], axis=1)
    fw, fh = (c, d) if half else (c / 2, d / 2)
    return np.stack([a - fw, b - fh, a + fw - one, b + fh - one], axis=1)


def _from_xyxy(boxes, dst, *, plus_one=False, half=False, centre_as_corner=False):
    x1, y1, x2, y2 = boxes.T
    one = 1.0 if plus_one else 0.0
    w, h = x2 - x1 + one, y2 - y1 + one
    if dst == "xyxy":
        return np.stack([x1, y1, x2, y2], axis=1)
    if dst == "xywh" or (dst == "cxcywh" and centre_as_corner):
        return np.stack([x1, y1, w, h], axis=1)
    if half:
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, w / 2, h / 2], axis=1)
    return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, w, h], axis=1)


def _convert(**flags):
    def convert(boxes, *, src, dst):
        if src == dst:
            return boxes.copy()
        return _from_xyxy(_to_xyxy(boxes, src, **flags), dst, **flags)
    return convert


BOX_CONVERT = [
    ("in cxcywh the first two numbers are the centre, not the top-left corner: "
     "x1 = cx - w / 2",
     _convert(centre_as_corner=True)),
    ("in cxcywh, w and h are the full width and height, not half of them: x1 = cx - w / 2, "
     "x2 = cx + w / 2",
     _convert(half=True)),
    ("coordinates are continuous: the width is x2 - x1, without the '+1' of pixel indices",
     _convert(plus_one=True)),
]

BOX_AREA = [
    ("coordinates are continuous: the area is (x2 - x1) * (y2 - y1), without the '+1' of pixel "
     "indices",
     lambda boxes: (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)),
    ("the boxes are xyxy: columns 2 and 3 are the bottom-right corner, not the width and height",
     lambda boxes: boxes[:, 2] * boxes[:, 3]),
    ("the height is y2 - y1 (columns 3 and 1), not the width again",
     lambda boxes: (boxes[:, 2] - boxes[:, 0]) ** 2),
]


def _iou(boxes1, boxes2, *, corner=np.minimum, clip=True, subtract=True, plus_one=False,
         guard=True, xywh=False):
    if xywh:  # columns 2 and 3 read as the width and height
        boxes1, boxes2 = (np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
                          for b in (boxes1, boxes2))
    one = 1.0 if plus_one else 0.0
    left = np.maximum(boxes1[:, None, 0], boxes2[None, :, 0])
    top = np.maximum(boxes1[:, None, 1], boxes2[None, :, 1])
    right = corner(boxes1[:, None, 2], boxes2[None, :, 2])
    bottom = corner(boxes1[:, None, 3], boxes2[None, :, 3])
    w, h = right - left + one, bottom - top + one
    if clip == "product":  # two negative sides give a positive product
        inter = np.maximum(w * h, 0)
    else:
        if clip:
            w, h = np.maximum(w, 0), np.maximum(h, 0)
        inter = w * h
    a1 = (boxes1[:, 2] - boxes1[:, 0] + one) * (boxes1[:, 3] - boxes1[:, 1] + one)
    a2 = (boxes2[:, 2] - boxes2[:, 0] + one) * (boxes2[:, 3] - boxes2[:, 1] + one)
    union = a1[:, None] + a2[None, :] - (inter if subtract else 0.0)
    with np.errstate(all="ignore"):
        iou = inter / union
    if guard:
        iou = np.where(union > 0, iou, 0.0)
    return iou


BOX_IOU = [
    ("the intersection ends at the smaller x2 and the smaller y2: use min (not max) for its "
     "bottom-right corner",
     lambda b1, b2: _iou(b1, b2, corner=np.maximum)),
    ("boxes that do not overlap have intersection 0: clip the intersection's width and height at "
     "0 before multiplying",
     lambda b1, b2: _iou(b1, b2, clip=False)),
    ("the union is area1 + area2 - intersection: the intersection is counted twice otherwise",
     lambda b1, b2: _iou(b1, b2, subtract=False)),
    ("coordinates are continuous: widths are x2 - x1, without the '+1' of pixel indices",
     lambda b1, b2: _iou(b1, b2, plus_one=True)),
    ("two zero-area boxes have an empty union: their IoU is 0, not 0 / 0 = NaN",
     lambda b1, b2: _iou(b1, b2, guard=False)),
    ("clip the width and the height of the intersection at 0 each, before multiplying: clipping "
     "their product misses boxes apart in both x and y (two negative sides give a positive "
     "area)", lambda b1, b2: _iou(b1, b2, clip="product")),
    ("the boxes are xyxy (x1, y1, x2, y2): columns 2 and 3 are the bottom-right corner, not the "
     "width and height", lambda b1, b2: _iou(b1, b2, xywh=True)),
]

# ---------------------------------------------------------------- NMS


def _nms(boxes, scores, iou_threshold, *, order="score", ge=False, all_suppress=False,
         result="score"):
    if order == "score":
        visit = np.argsort(-scores, kind="stable")
    elif order == "increasing":
        visit = np.argsort(scores, kind="stable")
    else:
        visit = np.arange(len(scores))
    iou = _iou(boxes, boxes)
    over = iou >= iou_threshold if ge else iou > iou_threshold
    suppressed = np.zeros(len(scores), dtype=bool)
    kept = []
    for i in visit:
        if not suppressed[i]:
            kept.append(i)
        if not suppressed[i] or all_suppress:
            suppressed |= over[i]
            suppressed[kept] = False
    kept = np.array(kept, dtype=np.int64)
    if result == "index":
        kept = np.sort(kept)
    return kept


def _nms_last_kept(boxes, scores, *, iou_threshold=0.5):
    """Each box compared with the box kept last only."""
    iou = _iou(boxes, boxes)
    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if kept and iou[kept[-1], i] > iou_threshold:
            continue
        kept.append(i)
    return np.array(kept, dtype=np.int64)


def _nms_top_only(boxes, scores, *, iou_threshold=0.5):
    """One pass: every box compared with the top-scoring box only, not with each kept box."""
    iou = _iou(boxes, boxes)
    order = np.argsort(-scores, kind="stable")
    if not len(order):
        return np.zeros(0, dtype=np.int64)
    top = order[0]
    return np.array([i for i in order if i == top or iou[top, i] <= iou_threshold],
                    dtype=np.int64)


NMS = [
    ("return the kept indices in decreasing score (the order in which they were kept), not "
     "sorted by index",
     lambda boxes, scores, *, iou_threshold=0.5: _nms(boxes, scores, iou_threshold,
                                                      result="index")),
    ("visit the boxes in decreasing score: sort the scores first (np.argsort(-scores))",
     lambda boxes, scores, *, iou_threshold=0.5: _nms(boxes, scores, iou_threshold,
                                                      order="input")),
    ("a box is suppressed when its IoU with a kept box is greater than the threshold (>), not "
     "greater or equal",
     lambda boxes, scores, *, iou_threshold=0.5: _nms(boxes, scores, iou_threshold, ge=True)),
    ("the highest score comes first: sort by decreasing score, not increasing",
     lambda boxes, scores, *, iou_threshold=0.5: _nms(boxes, scores, iou_threshold,
                                                      order="increasing")),
    ("only kept boxes suppress others: a box that was suppressed suppresses nothing",
     lambda boxes, scores, *, iou_threshold=0.5: _nms(boxes, scores, iou_threshold,
                                                      all_suppress=True)),
    ("compare each box with every box kept so far, not only with the last one kept: a box "
     "that overlaps any kept box by more than the threshold is suppressed",
     _nms_last_kept),
    ("suppression repeats for every kept box: after the top-scoring box, the next box still "
     "standing is kept and suppresses its own overlaps, and so on (a loop over the kept boxes); "
     "comparing every box with the top-scoring box only keeps overlapping lower boxes",
     _nms_top_only),
]


def _batched(boxes, scores, labels, iou_threshold, *, per_label=True, merge=True, offset=False,
             **flags):
    if offset:  # torchvision's trick, which assumes coordinates >= 0
        if not len(boxes):
            return np.zeros(0, dtype=np.int64)
        moved = boxes + labels.astype(float)[:, None] * (boxes.max() + 1.0)
        return _nms(moved, scores, iou_threshold, **flags)
    if not per_label:
        return _nms(boxes, scores, iou_threshold, **flags)
    kept = []
    for label in np.unique(labels):
        index = np.nonzero(labels == label)[0]
        kept.append(index[_nms(boxes[index], scores[index], iou_threshold, **flags)])
    kept = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    if merge:
        if merge != "label_order":
            kept = np.sort(kept)
        kept = kept[np.argsort(-scores[kept], kind="stable")]
    return kept.astype(np.int64)


BATCHED_NMS = [
    ("boxes of different labels must not suppress each other: run NMS within each label",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, per_label=False)),
    ("merge the kept boxes of all labels in decreasing score, not label after label",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, merge=False)),
    ("a box is suppressed when its IoU with a kept box is greater than the threshold (>), not "
     "greater or equal",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, ge=True)),
    ("visit the boxes in decreasing score (sort the scores first, np.argsort(-scores)), then "
     "merge the kept boxes of all labels in decreasing score",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, order="input", merge=False)),
    ("equal scores of different labels come out label by label: the merged result lists equal "
     "scores in index order; sort the kept indices (np.sort) before the stable sort by score",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, merge="label_order")),
    ("moving each label's boxes by label * (boxes.max() + 1) keeps the labels apart only when "
     "no coordinate is negative (boxes may reach left of or above the image): move them by "
     "label * (boxes.max() - boxes.min() + 1), or run NMS within each label",
     lambda boxes, scores, labels, *, iou_threshold=0.5: _batched(
         boxes, scores, labels, iou_threshold, offset=True)),
]

# ---------------------------------------------------------------- YOLO


def _encode(boxes, labels, grid_size, num_classes, boxes_per_cell, *, image_offsets=False,
            swap=False, cell_sizes=False, overwrite=False, divide=False, rounded=False,
            swap_first=False, from_centre=False, unclipped=False, reverse=False):
    S, B, C = grid_size, boxes_per_cell, num_classes
    target = np.zeros((S, S, B, 5 + C))
    used = np.zeros((S, S), dtype=int)
    dropped = []
    for k, (cx, cy, w, h) in enumerate(boxes):
        if divide:  # the cell width 1 / S is not exact: 0.3 // 0.1 is 2.0
            row, col = min(int(cy // (1.0 / S)), S - 1), min(int(cx // (1.0 / S)), S - 1)
        elif rounded:  # the nearest cell border, not the cell holding the centre
            row, col = min(int(round(cy * S)), S - 1), min(int(round(cx * S)), S - 1)
        elif unclipped:
            row, col = int(np.floor(cy * S)), int(np.floor(cx * S))
        else:
            row = min(int(np.floor(cy * S)), S - 1)
            col = min(int(np.floor(cx * S)), S - 1)
        if swap_first:  # the row from cx: the offsets then come out of the wrong cell too
            row, col = col, row
        if unclipped and max(row, col) >= S and not divide and not rounded:
            dropped.append(k)  # floor(1.0 * S) = S, past the last cell
            continue
        x_off, y_off = (cx, cy) if image_offsets else (cx * S - col, cy * S - row)
        if from_centre:  # measured from the cell's centre, -0.5..0.5
            x_off, y_off = x_off - 0.5, y_off - 0.5
        if cell_sizes:
            w, h = w * S, h * S
        if swap:
            row, col = col, row
        slot = used[row, col]
        if slot >= B:
            if not overwrite:
                dropped.append(k)
                continue
            slot = B - 1
            target[row, col, slot] = 0.0
        used[row, col] += 1
        if reverse:  # the last slot filled first
            slot = B - 1 - slot
        target[row, col, slot, :5] = [x_off, y_off, w, h, 1.0]
        target[row, col, slot, 5 + int(labels[k])] = 1.0
    return target, np.array(dropped, dtype=np.int64)


def _encode_variant(**flags):
    def encode(boxes, labels, *, grid_size, num_classes, boxes_per_cell=1):
        return _encode(boxes, labels, grid_size, num_classes, boxes_per_cell, **flags)
    return encode


YOLO_ENCODE = [
    ("the offsets are the centre's position inside its cell: x_offset = cx * S - column, not cx "
     "(relative to the image)",
     _encode_variant(image_offsets=True)),
    ("the row comes from cy and the column from cx: target[row, column] with row = "
     "floor(cy * S) (x and y are swapped)",
     _encode_variant(swap=True)),
    ("w and h stay relative to the image: do not multiply them by S",
     _encode_variant(cell_sizes=True)),
    ("an object whose cell is full is dropped (listed in dropped); it must not overwrite an "
     "object already there",
     _encode_variant(overwrite=True)),
    ("the cell is floor(cx * S): dividing by the cell width, cx // (1 / S), rounds down on the "
     "cell borders (1 / S is not exact in floating point: 0.3 // 0.1 is 2.0)",
     _encode_variant(divide=True)),
    ("the cell holding the centre is floor(cx * S), rounded down: round(cx * S) picks the "
     "nearest cell border instead (the next cell for a centre in the right half of its cell)",
     _encode_variant(rounded=True)),
    ("the row is floor(cy * S) and the column floor(cx * S) (x and y are swapped), and the "
     "offsets follow from them: x_offset = cx * S - column, y_offset = cy * S - row",
     _encode_variant(swap_first=True)),
    ("the offsets are measured from the cell's top-left corner, x_offset = cx * S - column in "
     "0..1, not from its centre (-0.5..0.5)", _encode_variant(from_centre=True)),
    ("objects take the free slots of their cell from the first: the first object of a cell "
     "goes to slot 0, the next to slot 1 (slot = number of objects already in the cell), not "
     "from the last slot down", _encode_variant(reverse=True)),
    ("a centre at exactly 1.0 belongs to the last cell: clip the row and the column to S - 1 "
     "(floor(1.0 * S) is S, past the grid), not drop the object",
     _encode_variant(unclipped=True)),
]


def _decode(pred, conf_threshold, *, image_offsets=False, swap=False, objectness_only=False,
            strict=False, corners=False, select_by_objectness=False, half=0.0):
    S, B = pred.shape[0], pred.shape[2]
    boxes, scores, labels = [], [], []
    for i in range(S):
        for j in range(S):
            for b in range(B):
                x, y, w, h, o = pred[i, j, b, :5]
                p = pred[i, j, b, 5:]
                score = o if objectness_only else o * p.max()
                chosen = o if select_by_objectness else score
                if chosen > conf_threshold if strict else chosen >= conf_threshold:
                    if image_offsets:
                        cx, cy = x, y
                    elif swap:
                        cx, cy = (i + x) / S, (j + y) / S
                    else:
                        cx, cy = (j + half + x) / S, (i + half + y) / S
                    boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] if corners
                                 else [cx, cy, w, h])
                    scores.append(score)
                    labels.append(int(p.argmax()))
    return (np.array(boxes, dtype=float).reshape(-1, 4), np.array(scores, dtype=float),
            np.array(labels, dtype=np.int64))


def _decode_variant(**flags):
    def decode(pred, *, conf_threshold=0.5):
        return _decode(pred, conf_threshold, **flags)
    return decode


YOLO_DECODE = [
    ("the offsets are relative to the cell: cx = (column + x) / S, not x",
     _decode_variant(image_offsets=True)),
    ("the column gives cx and the row gives cy: cx = (column + x) / S with column the second "
     "grid index (x and y are swapped)",
     _decode_variant(swap=True)),
    ("the score is objectness times the largest class probability, not the objectness alone",
     _decode_variant(objectness_only=True)),
    ("keep the scores at or above the threshold (>=), not only those above it",
     _decode_variant(strict=True)),
    ("the boxes are returned cxcywh (centre, width and height, relative to the image), as "
     "yolo_encode reads them: not converted to corners",
     _decode_variant(corners=True)),
    ("a slot is kept when its score, objectness times the largest class probability, is at "
     "least conf_threshold: not when its objectness alone is",
     _decode_variant(select_by_objectness=True)),
    ("x and y are offsets from the cell's top-left corner: cx = (column + x) / S, without adding "
     "half a cell", _decode_variant(half=0.5)),
]


def _loss(pred, target, lambda_coord, lambda_noobj, *, sqrt=True, mean=True, noobj_all=False,
          chain=True, class_all=False, noobj_cells=False):
    N = pred.shape[0]
    obj = target[..., 4] == 1
    d = np.zeros_like(pred)
    loss = 0.0
    xy = pred[..., :2] - target[..., :2]
    if sqrt:
        wh = np.sqrt(pred[..., 2:4]) - np.sqrt(target[..., 2:4])
        dwh = lambda_coord * wh / np.sqrt(pred[..., 2:4]) if chain else 2 * lambda_coord * wh
    else:
        wh = pred[..., 2:4] - target[..., 2:4]
        dwh = 2 * lambda_coord * wh
    cls = pred[..., 5:] - target[..., 5:]
    m = obj[..., None]
    loss += lambda_coord * ((xy ** 2 * m).sum() + (wh ** 2 * m).sum())
    d[..., :2] = 2 * lambda_coord * xy * m
    d[..., 2:4] = dwh * m
    loss += ((pred[..., 4] - 1) ** 2 * obj).sum()
    d[..., 4] = 2 * (pred[..., 4] - 1) * obj
    cm = np.ones_like(m) if class_all else m
    loss += (cls ** 2 * cm).sum()
    d[..., 5:] = 2 * cls * cm
    nm = np.ones_like(obj) if noobj_all else ~obj
    if noobj_cells:  # only the slots of cells where no slot holds an object
        nm = nm & ~obj.any(axis=-1, keepdims=True)
    loss += lambda_noobj * (pred[..., 4] ** 2 * nm).sum()
    d[..., 4] += 2 * lambda_noobj * pred[..., 4] * nm
    scale = N if mean else 1
    return float(loss / scale), d / scale


def _loss_variant(**flags):
    def loss(pred, target, *, lambda_coord=5.0, lambda_noobj=0.5):
        return _loss(pred, target, lambda_coord, lambda_noobj, **flags)
    return loss


YOLO_LOSS = [
    ("compare the square roots of w and h ((sqrt(w) - sqrt(w'))^2), so that an error counts "
     "more on a small box",
     _loss_variant(sqrt=False)),
    ("divide the loss and its gradient by the batch size N",
     _loss_variant(mean=False)),
    ("the lambda_noobj * objectness^2 term is for empty slots only; a slot holding an object has "
     "(objectness - 1)^2",
     _loss_variant(noobj_all=True)),
    ("the derivative of (sqrt(w) - sqrt(w'))^2 is (sqrt(w) - sqrt(w')) / sqrt(w): the chain rule "
     "through the square root is missing",
     _loss_variant(chain=False)),
    ("the class error counts only on slots holding an object",
     _loss_variant(class_all=True)),
    ("the lambda_noobj * objectness^2 term is for every empty slot, also the empty slots of a "
     "cell whose other slot holds an object: test each slot's target objectness, not whether "
     "its cell holds an object",
     _loss_variant(noobj_cells=True)),
]

# ---------------------------------------------------------------- evaluation


def _match(boxes, scores, gt_boxes, iou_threshold, *, twice=False, sort=True, strict=False,
           next_best=False, any_class=None):
    is_tp = np.zeros(len(scores), dtype=bool)
    if len(gt_boxes) == 0:
        return is_tp
    iou = _iou(boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    order = np.argsort(-scores, kind="stable") if sort else np.arange(len(scores))
    for d in order:
        if next_best:
            free = np.where(taken, -1.0, iou[d])
            g = int(free.argmax())
            if free[g] >= iou_threshold:
                taken[g] = is_tp[d] = True
            continue
        g = int(iou[d].argmax())
        ok = iou[d, g] > iou_threshold if strict else iou[d, g] >= iou_threshold
        if ok and (twice or not taken[g]):
            taken[g] = is_tp[d] = True
    return is_tp


def _match_variant(**flags):
    def match(boxes, scores, gt_boxes, *, iou_threshold=0.5):
        return _match(boxes, scores, gt_boxes, iou_threshold, **flags)
    return match


MATCH_DETECTIONS = [
    ("a ground truth can be matched only once: later detections of the same object are false "
     "positives (duplicates)",
     _match_variant(twice=True)),
    ("match the detections in decreasing score (np.argsort(-scores)), not in input order",
     _match_variant(sort=False)),
    ("a detection is a true positive when its IoU is at least the threshold (>=), not only "
     "above it",
     _match_variant(strict=True)),
    ("as in PASCAL VOC, a detection whose best ground truth is already taken is a false "
     "positive: it does not move on to the next best ground truth",
     _match_variant(next_best=True)),
]


def _pr(scores, is_tp, num_gt, *, order="stable", precision_by_gt=False, cumulative=True):
    if order == "stable":
        idx = np.argsort(-scores, kind="stable")
    elif order == "reversed_ties":
        rev = np.arange(len(scores))[::-1]
        idx = rev[np.argsort(-scores[rev], kind="stable")]
    elif order == "increasing":
        idx = np.argsort(scores, kind="stable")
    else:
        idx = np.arange(len(scores))
    hits = is_tp[idx].astype(float)
    tp = np.cumsum(hits) if cumulative else hits
    count = np.arange(1, len(hits) + 1) if cumulative else np.ones(len(hits))
    recall = tp / num_gt if num_gt else np.zeros(len(hits))
    if precision_by_gt:
        precision = tp / num_gt if num_gt else np.zeros(len(hits))
    else:
        precision = tp / count
    return precision, recall


def _pr_variant(**flags):
    return lambda scores, is_tp, num_gt: _pr(scores, is_tp, num_gt, **flags)


PRECISION_RECALL = [
    ("sort the detections by decreasing score before counting (np.argsort(-scores, "
     "kind='stable'))",
     _pr_variant(order="input")),
    ("precision is TP / (TP + FP), the true positives among the detections so far; TP / num_gt "
     "is the recall",
     _pr_variant(precision_by_gt=True)),
    ("precision and recall after the k-th detection count all the first k detections: use "
     "cumulative sums",
     _pr_variant(cumulative=False)),
    ("equal scores keep their input order: sort stably (np.argsort(-scores, kind='stable'))",
     _pr_variant(order="reversed_ties")),
    ("the highest score comes first: sort by decreasing score, not increasing",
     _pr_variant(order="increasing")),
]


def _ap(precision, recall, method, *, envelope=True, trapezoid=False, arange=False,
        first=False, ten=False, added=False, origin=True, left_envelope=False):
    """``left_envelope``: the running maximum from the start of the curve (lower recalls)."""
    if method == "11point":
        thresholds = np.arange(0.0, 1.1, 0.1) if arange else np.arange(11) / 10
        if added:  # 0.1 added ten times: 0.30000000000000004, ..., 0.7999999999999999
            thresholds = np.cumsum([0.0] + [0.1] * 10)
        if ten:
            thresholds = thresholds[1:]
        values = []
        for t in thresholds:
            reached = recall >= t
            if not reached.any():
                values.append(0.0)
            elif first:
                values.append(float(precision[np.argmax(reached)]))
            else:
                values.append(float(precision[reached].max()))
        return float(np.mean(values))
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    if not origin:  # the curve starts at the first detection: r_1 * p_1 is lost
        r, p = r[1:], p[1:]
    if trapezoid:
        return float(np.sum((r[1:-1] - r[:-2]) * (p[1:-1] + p[:-2]) / 2))
    if left_envelope:
        p = np.maximum.accumulate(p)
    elif envelope:
        p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def _ap_variant(**flags):
    def ap(precision, recall, *, method="all"):
        return _ap(precision, recall, method, **flags)
    return ap


AVERAGE_PRECISION = [
    ("use the precision envelope: replace each precision by the largest precision at any higher "
     "recall before summing",
     _ap_variant(envelope=False)),
    ("AP sums rectangles (r_k - r_{k-1}) * envelope_k, not trapezoids of the raw curve",
     _ap_variant(trapezoid=True)),
    ("the 11 recall thresholds are k / 10 exactly: np.arange(0, 1.1, 0.1) gives "
     "0.30000000000000004 and misses a recall of exactly 0.3",
     _ap_variant(arange=True)),
    ("11-point AP takes the largest precision at any recall >= t, not the precision at the first "
     "such recall",
     _ap_variant(first=True)),
    ("there are 11 recall thresholds, 0, 0.1, ..., 1.0: the threshold 0 is missing",
     _ap_variant(ten=True)),
    ("the 11 recall thresholds are k / 10 exactly: adding 0.1 repeatedly gives "
     "0.30000000000000004 (it misses a recall of exactly 0.3) and 0.7999999999999999",
     _ap_variant(added=True)),
    ("the curve starts at recall 0: add the point (recall 0) in front, so that the first "
     "rectangle (r_1 - 0) * envelope_1 counts",
     _ap_variant(origin=False)),
    ("the envelope looks towards higher recall: each precision becomes the largest precision at "
     "its own or any higher recall (a running maximum from the end of the curve, k going down), "
     "not the largest at a lower recall",
     _ap_variant(left_envelope=True)),
]


def _map(detections, ground_truths, num_classes, iou_threshold, method, *, zero_missing=False,
         any_class=False, per_image=False, nan_mean=False, thresholds=None,
         skip_undetected=False, gt_where_detected=False):
    if thresholds is not None:
        values = [_map(detections, ground_truths, num_classes, t, method)[0] for t in thresholds]
        return float(np.mean(values))
    ap = np.full(num_classes, np.nan)
    for c in range(num_classes):
        num_gt = sum(int((g[1] == c).sum()) for g in ground_truths)
        if num_gt == 0:
            if zero_missing:
                ap[c] = 0.0
            continue
        if skip_undetected and not any((d[2] == c).any() for d in detections):
            continue
        scores, hits, per = [], [], []
        for (boxes, sc, labels), (gb, gl) in zip(detections, ground_truths):
            mine = labels == c
            gmask = np.ones(len(gl), dtype=bool) if any_class else gl == c
            tp = _match(boxes[mine], sc[mine], gb[gmask], iou_threshold)
            scores.append(sc[mine])
            hits.append(tp)
            if per_image and int((gl == c).sum()):
                p, r = _pr(sc[mine], tp, int((gl == c).sum()))
                per.append(_ap(p, r, method))
        if per_image:
            ap[c] = float(np.mean(per))
            continue
        if gt_where_detected:  # objects of images without a detection of c not counted
            num_gt = sum(int((g[1] == c).sum()) for d, g in zip(detections, ground_truths)
                         if (d[2] == c).any())
        p, r = _pr(np.concatenate(scores), np.concatenate(hits), max(num_gt, 1))
        ap[c] = _ap(p, r, method) if num_gt else 0.0
    if nan_mean:
        return float(np.mean(ap)), ap
    present = ~np.isnan(ap)
    return (float(ap[present].mean()) if present.any() else float("nan")), ap


def _map_variant(*, only_all=False, **flags):
    def mean_ap(detections, ground_truths, *, num_classes, iou_threshold=0.5, method="all"):
        return _map(detections, ground_truths, num_classes, iou_threshold,
                    "all" if only_all else method, **flags)
    return mean_ap


MEAN_AVERAGE_PRECISION = [
    ("a class without any ground truth has AP NaN and is left out of the mean, not AP 0",
     _map_variant(zero_missing=True)),
    ("match a detection only with ground truths of its own class",
     _map_variant(any_class=True)),
    ("pool the detections of all images per class before sorting and computing AP, rather than "
     "averaging per-image APs",
     _map_variant(per_image=True)),
    ("leave the NaN of classes without ground truth out of the mean (their AP stays NaN in "
     "ap_per_class)",
     _map_variant(nan_mean=True)),
    ("a class with ground truth but no detection has AP 0 (every object missed), not NaN: only "
     "a class without ground truth is left out of the mean",
     _map_variant(skip_undetected=True)),
    ("count the ground-truth objects of class c in every image, also in images without a "
     "detection of c: the objects missed there lower the recall",
     _map_variant(gt_where_detected=True)),
    ("method is not passed on: call average_precision(..., method=method), so that "
     "method='11point' gives every class its 11-point AP (not always the 'all' one)",
     _map_variant(only_all=True)),
]


COCO_THRESHOLDS = [(50 + 5 * k) / 100 for k in range(10)]


def _coco_variant(thresholds, *, only_all=False):
    def coco(detections, ground_truths, *, num_classes, method="all"):
        return _map(detections, ground_truths, num_classes, None,
                    "all" if only_all else method, thresholds=thresholds)
    return coco


COCO_MAP = [
    ("the ten thresholds are 0.50, 0.55, ..., 0.95: np.arange(0.5, 0.95, 0.05) stops before "
     "0.95",
     _coco_variant(np.arange(0.5, 0.95, 0.05))),
    ("the ten thresholds are 0.50, 0.55, ..., 0.95, not up to 1.0",
     _coco_variant(np.linspace(0.5, 1.0, 11))),
    ("COCO's mAP averages over the IoU thresholds 0.50 to 0.95, not only 0.5",
     _coco_variant([0.5])),
    ("compute each threshold as (50 + 5k) / 100, as the docstring says: np.arange(0.5, 1.0, "
     "0.05) (or adding 0.05 repeatedly) gives 0.6000000000000001, 0.7000000000000002, ..., so "
     "a detection whose IoU is exactly 0.7 misses its threshold",
     _coco_variant(np.arange(0.5, 1.0, 0.05))),
    ("compute each threshold as (50 + 5k) / 100, as the docstring says: 0.5 + 0.05 * 7 is "
     "0.8500000000000001, so a detection whose IoU is exactly 0.85 misses its threshold",
     _coco_variant([0.5 + 0.05 * k for k in range(10)])),
    ("method is not passed on: call mean_average_precision(..., method=method) at every "
     "threshold, so that method='11point' gives the 11-point AP (not always the 'all' one)",
     _coco_variant(COCO_THRESHOLDS, only_all=True)),
]

MISTAKES = {
    "detection.box_convert": BOX_CONVERT,
    "detection.box_area": BOX_AREA,
    "detection.box_iou": BOX_IOU,
    "detection.nms": NMS,
    "detection.batched_nms": BATCHED_NMS,
    "detection.yolo_encode": YOLO_ENCODE,
    "detection.yolo_decode": YOLO_DECODE,
    "detection.yolo_loss": YOLO_LOSS,
    "detection.match_detections": MATCH_DETECTIONS,
    "detection.precision_recall": PRECISION_RECALL,
    "detection.average_precision": AVERAGE_PRECISION,
    "detection.mean_average_precision": MEAN_AVERAGE_PRECISION,
    "detection.coco_map": COCO_MAP,
}


# ---------------------------------------------------------------- mistakes that raise
# The reference with one edit, as a student writes it; on the grader's inputs each raises (a shape
# error, an IndexError), and a student's call raising the same error gets its hint
# (``mistakes/_edited.py``).

from ._edited import edited  # noqa: E402

for _key, _entries in {
    "detection.box_iou": [
        ("the IoU of every box of boxes1 with every box of boxes2 is an (N, M) table: index "
         "boxes1 with [:, None] and boxes2 with [None, :] so that their shapes broadcast to it",
         edited("detection.box_iou",
                ("union = area1[:, None] + area2[None, :] - inter",
                 "union = area1 + area2 - inter"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- slips right on nice inputs
# The reference with one edit that is right only on nice inputs (one format, the default
# threshold, B = 1 slot per cell, labels 0..k-1, one class); on the grader's inputs each gives a
# wrong answer (or raises) that had no hint.

ELEVEN_POINTS = ("the 11-point AP takes, at every t in 0, 0.1, ..., 1 (11 values, t = 0 "
                 "included: range(11)), the largest precision at a recall of at least t (recall "
                 ">= t): a loop that starts at t = 0.1 and one that compares recall > t give the "
                 "same wrong AP when the recalls fall on multiples of 0.1")

for _key, _entries in {
    "detection.box_convert": [
        ("'xywh' is the top-left corner and the size: x2 = x + w, y2 = y + h (the corner is not "
         "the centre; 'cxcywh' is the format of centres)",
         edited("detection.box_convert",
                ('    elif src == "xywh":\n        x1, y1, x2, y2 = a, b, a + c, b + d',
                 '    elif src == "xywh":\n        x1, y1, x2, y2 = a - c / 2, b - d / 2, '
                 'a + c / 2, b + d / 2'))),
        ("'xywh' starts with the top-left corner (x1, y1), not the centre: from 'cxcywh' the "
         "corner is (cx - w / 2, cy - h / 2)",
         edited("detection.box_convert",
                ("        out = xp.stack([x1, y1, x2 - x1, y2 - y1], axis=1)",
                 "        out = xp.stack([a, b, x2 - x1, y2 - y1], axis=1)"))),
    ],
    "detection.box_iou": [
        ("coordinates are continuous: the areas are (x2 - x1) * (y2 - y1), like the "
         "intersection's sides, without the '+1' of pixel indices (a '+1' in the areas only "
         "makes every union too large)",
         edited("detection.box_iou",
                ("    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])\n"
                 "    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])",
                 "    area1 = (boxes1[:, 2] - boxes1[:, 0] + 1) * (boxes1[:, 3] - boxes1[:, 1] + 1)"
                 "\n    area2 = (boxes2[:, 2] - boxes2[:, 0] + 1) * (boxes2[:, 3] - boxes2[:, 1]"
                 " + 1)"))),
    ],
    "detection.batched_nms": [
        ("keep is sorted by decreasing score over all labels (as nms returns it), not by index "
         "or label: order the kept indices by -scores (stable)",
         edited("detection.batched_nms",
                ('    keep = kept[xp.argsort(-scores[kept], kind="stable")].astype(xp.int64)',
                 "    keep = kept.astype(xp.int64)"))),
        ("iou_threshold is not passed on: call nms(..., iou_threshold=iou_threshold) for every "
         "label, or it always suppresses at the default 0.5",
         edited("detection.batched_nms",
                ("index[nms(boxes[index], scores[index], iou_threshold=iou_threshold)]",
                 "index[nms(boxes[index], scores[index])]"))),
        ("labels need not be 0, 1, ..., k - 1: loop over the labels present (sorted(set("
         "labels.tolist())) or np.unique(labels)), not over range(number of labels)",
         edited("detection.batched_nms",
                ("    for label in sorted(set(labels.tolist())):",
                 "    for label in range(len(set(labels.tolist()))):"))),
    ],
    "detection.yolo_encode": [
        ("a centre at cx = 1.0 (or cy = 1.0), on the image's right or bottom edge, gives "
         "floor(cx * S) = S, past the last cell: clamp the row and column with min(..., S - 1)",
         edited("detection.yolo_encode",
                ("        row = min(int(math.floor(cy * S)), S - 1)\n"
                 "        col = min(int(math.floor(cx * S)), S - 1)",
                 "        row = int(math.floor(cy * S))\n        col = int(math.floor(cx * S))"))),
        # the same slip where the slots are counted in an array: NumPy's IndexError
        ("a centre at cx = 1.0 (or cy = 1.0), on the image's right or bottom edge, gives "
         "floor(cx * S) = S, past the last cell: clamp the row and column with min(..., S - 1)",
         edited("detection.yolo_encode",
                ("    used = [[0] * S for _ in range(S)]",
                 "    used = xp.zeros((S, S), dtype=xp.int64)"),
                ("        row = min(int(math.floor(cy * S)), S - 1)\n"
                 "        col = min(int(math.floor(cx * S)), S - 1)\n"
                 "        slot = used[row][col]",
                 "        row = int(math.floor(cy * S))\n        col = int(math.floor(cx * S))\n"
                 "        slot = int(used[row, col])"),
                ("        used[row][col] += 1", "        used[row, col] += 1"))),
    ],
    "detection.yolo_decode": [
        ("w and h are already fractions of the image (yolo_encode stores them so): only the "
         "centre is relative to its cell; copy w and h unchanged, without dividing by S",
         edited("detection.yolo_decode",
                ("    all_boxes = xp.stack([cx, cy, pred[..., 2], pred[..., 3]], axis=-1)",
                 "    all_boxes = xp.stack([cx, cy, pred[..., 2] / S, pred[..., 3] / S], "
                 "axis=-1)"))),
    ],
    "detection.yolo_loss": [
        ("an object is held by one slot, not by its whole cell: the mask is target[..., 4] == 1 "
         "per slot (N, S, S, B); the other slots of that cell get the no-object term (one mask "
         "per cell is right only for B = 1)",
         edited("detection.yolo_loss",
                ("    obj = (target[..., 4] == 1)[..., None]",
                 "    obj = (target[..., 4] == 1).any(axis=-1, keepdims=True)[..., None]"))),
    ],
    "detection.average_precision": [
        # on recalls that are multiples of 0.1 it gives the AP of recall > t: one hint for both
        (ELEVEN_POINTS,
         edited("detection.average_precision",
                ("        for k in range(11):", "        for k in range(1, 11):"))),
        (ELEVEN_POINTS,
         edited("detection.average_precision",
                ("            reached = recall >= k / 10",
                 "            reached = recall > k / 10"))),
        ("each rectangle of the all-point AP spans recall r_k to r_{k+1} with the envelope's "
         "height at its right end, r_{k+1} (p[steps + 1]), not at its left end",
         edited("detection.average_precision",
                ("        ap = float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())",
                 "        ap = float(((r[steps + 1] - r[steps]) * p[steps]).sum())"))),
        ("the 11-point AP is the mean over 11 recall thresholds (0, 0.1, ..., 1.0): divide the "
         "sum by 11",
         edited("detection.average_precision",
                ("        ap = total / 11", "        ap = total / 10"))),
    ],
    "detection.mean_average_precision": [
        ("match the detections of class c against the ground truths of class c only "
         "(gt_boxes[gt_labels == c]): a detection on an object of another class is a false "
         "positive",
         edited("detection.mean_average_precision",
                ("gt_boxes[gt_labels == c],", "gt_boxes,"))),
        ("iou_threshold is not passed on: call match_detections(..., iou_threshold="
         "iou_threshold), or every class is matched at the default 0.5",
         edited("detection.mean_average_precision",
                ("gt_boxes[gt_labels == c],\n                                              "
                 "iou_threshold=iou_threshold))",
                 "gt_boxes[gt_labels == c]))"))),
        ("num_gt of class c counts the ground truths of class c only, over all images: the "
         "recall is TP / (number of objects of that class), and a class without any is left out "
         "(AP NaN)",
         edited("detection.mean_average_precision",
                ("        num_gt = sum(int((gt[1] == c).sum()) for gt in ground_truths)",
                 "        num_gt = sum(int(gt[1].shape[0]) for gt in ground_truths)"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries


# ---------------------------------------------------------------- recall over the detections
# recall divided by the detections so far (TP + FP, precision's denominator) instead of by the
# objects: some lecture notes garble recall (TP / (TP + TN)), and a student may reach for the
# denominator the line above used.

MISTAKES["detection.precision_recall"] = MISTAKES.get("detection.precision_recall", []) + [
    ("recall divides by the number of objects, num_gt (found or missed), not by the detections "
     "so far: recall = TP / num_gt, while TP / (TP + FP) is the precision",
     edited("detection.precision_recall",
            ("    recall = tp / num_gt if num_gt > 0 else xp.zeros_like(tp)",
             "    recall = tp / xp.maximum(tp + fp, 1.0)"))),
]


# ---------------------------------------------------------------- the examiner's sweep
TRAPEZOID = ("the all-point AP is a sum of rectangles: (r_{k+1} - r_k) times the precision "
             "envelope at r_{k+1}, from recall 0 on; a trapezoid rule (np.trapz) averages the "
             "heights at both ends of each step")

for _key, _entries in {
    # the centre's offset in image units (cx - column / S) instead of cell units
    "detection.yolo_encode": [
        ("the offsets are in cell units: x_offset = cx * S - column, from 0 to 1 inside the "
         "cell; cx - column / S is the same distance in image units, S times smaller",
         edited("detection.yolo_encode",
                ("xp.asarray([cx * S - col, cy * S - row, w, h, 1.0])",
                 "xp.asarray([cx - col / S, cy - row / S, w, h, 1.0])"))),
    ],
    "detection.yolo_loss": [
        # d/dw (sqrt(w) - sqrt(w'))^2 = (sqrt(w) - sqrt(w')) / sqrt(w): the 2 of the square
        # cancels the 1/2 of the square root's derivative
        ("the derivative of (sqrt(w) - sqrt(w'))^2 is 2 (sqrt(w) - sqrt(w')) * 1 / (2 sqrt(w)): "
         "the 2 of the square and the 1/2 of the square root's derivative cancel",
         edited("detection.yolo_loss",
                ("    dpred[..., 2:4] = lambda_coord * coord[1] / root_w",
                 "    dpred[..., 2:4] = 2 * lambda_coord * coord[1] / root_w"))),
        ("the loss is summed over every slot of every image and divided by the batch size N "
         "only, not averaged over the N * S * S * B slots",
         edited("detection.yolo_loss", ("    num = pred.shape[0]\n",
                                        "    num = pred[..., 0].size\n"))),
    ],
    "detection.mean_average_precision": [
        ("each image's detections are matched against the ground truths of that image only: "
         "pooling the ground truths of all images lets a detection match an object of another "
         "image",
         edited("detection.mean_average_precision",
                ("            pooled_tp.append(match_detections(boxes[mine], scores[mine], "
                 "gt_boxes[gt_labels == c],",
                 "            pooled_tp.append(match_detections(boxes[mine], scores[mine], "
                 "xp.concatenate([g[0][g[1] == c] for g in ground_truths]),"))),
        ("the detections of class c in an image without any object of class c are false "
         "positives: pool them too (match_detections with no ground truth marks them all "
         "false), do not skip that image",
         edited("detection.mean_average_precision",
                ("            mine = labels == c\n",
                 "            mine = labels == c\n"
                 "            if not bool((gt_labels == c).any()):\n"
                 "                continue\n"))),
        ("num_gt counts the objects of class c in every image, those of images where nothing "
         "of class c was detected too: a missed object lowers the recall",
         edited("detection.mean_average_precision",
                ("        num_gt = sum(int((gt[1] == c).sum()) for gt in ground_truths)",
                 "        num_gt = sum(int((gt[1] == c).sum()) for det, gt in zip(detections, "
                 "ground_truths) if bool((det[2] == c).any()))"))),
    ],
    # a scan that keeps the last of equal IoUs (>= while looking for the best ground truth)
    "detection.match_detections": [
        ("on equal IoUs a detection takes the ground truth of lowest index (the first maximum, "
         "as argmax returns it), not the last one",
         edited("detection.match_detections",
                ("            g = int(iou[d].argmax())",
                 "            g = iou.shape[1] - 1 - int(iou[d][::-1].argmax())"))),
    ],
    "detection.average_precision": [
        (TRAPEZOID,
         edited("detection.average_precision",
                ("        ap = float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())",
                 "        ap = float(((r[1:] - r[:-1]) * (p[1:] + p[:-1]) / 2).sum())"))),
        (TRAPEZOID,
         edited("detection.average_precision",
                ("        r = xp.concatenate([xp.zeros(1), recall.astype(xp.float64), "
                 "xp.ones(1)])",
                 "        return float(((recall[1:] - recall[:-1]) * (precision[1:] + "
                 "precision[:-1]) / 2).sum())"))),
    ],
}.items():
    MISTAKES[_key] = MISTAKES.get(_key, []) + _entries
