"""Fair: box IoU, NMS and the confusion matrix written with other NumPy idioms keep full marks.

Three forms beside the earlier fairness tests' (units 07, 08): corners by ``ufunc.outer`` and
the IoU by ``np.divide(..., where=union > 0)`` computed in float64 and cast back to the inputs'
dtype; NMS over a shrinking order array (ties by a stable mergesort, as the docstring orders
them) with the IoUs of one box at a time; the confusion matrix by ``np.unique(...,
return_counts=True)`` of the pairs scattered into the matrix, uint8 maps counted in int64.
"""

from autograder import engine
from autograder.sandbox import Limits

from .submissions import make_submission

LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)

DETECTION = '''

def box_iou(boxes1, boxes2):
    # ufunc.outer for the corners, float64 throughout, np.divide with where=
    _check_xyxy("box_iou", boxes1, "boxes1")
    _check_xyxy("box_iou", boxes2, "boxes2")
    xp = xp_of(boxes1, boxes2)
    b1, b2 = boxes1.astype(xp.float64), boxes2.astype(xp.float64)
    w = xp.minimum.outer(b1[:, 2], b2[:, 2]) - xp.maximum.outer(b1[:, 0], b2[:, 0])
    h = xp.minimum.outer(b1[:, 3], b2[:, 3]) - xp.maximum.outer(b1[:, 1], b2[:, 1])
    inter = w.clip(min=0) * h.clip(min=0)
    a1 = xp.prod(b1[:, 2:] - b1[:, :2], axis=1)
    a2 = xp.prod(b2[:, 2:] - b2[:, :2], axis=1)
    union = xp.add.outer(a1, a2) - inter
    out = xp.zeros_like(inter)
    xp.divide(inter, union, out=out, where=union > 0)
    return out.astype(xp.result_type(boxes1, boxes2))


def nms(boxes, scores, *, iou_threshold=0.5):
    # a shrinking order array, IoUs of one box at a time, ties by a stable mergesort
    _check_xyxy("nms", boxes)
    _check_scores("nms", scores, boxes.shape[0])
    _check_threshold("nms", iou_threshold)
    xp = xp_of(boxes, scores)
    order = xp.argsort(-scores, kind="mergesort")
    keep = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[box_iou(boxes[i:i + 1], boxes[rest])[0] <= iou_threshold]
    return xp.array(keep, dtype=xp.int64)
'''

SEGMENTATION = '''

def confusion_matrix(pred, target, *, num_classes, ignore_index=None):
    # np.unique of the pairs with their counts, scattered into the matrix
    name = "confusion_matrix"
    num_classes = _as_int(name, "num_classes", num_classes, 1)
    ignore_index = _check_pair_maps(name, pred, target, num_classes, ignore_index)
    xp = xp_of(pred, target)
    t = target.astype(xp.int64).ravel()
    p = pred.astype(xp.int64).ravel()
    if ignore_index is not None:
        counted = t != ignore_index
        t, p = t[counted], p[counted]
    pairs, counts = xp.unique(t * num_classes + p, return_counts=True)
    matrix = xp.zeros(num_classes * num_classes, dtype=xp.int64)
    matrix[pairs] = counts
    return matrix.reshape(num_classes, num_classes)
'''


def test_metrics_in_other_numpy_idioms_keep_full_marks(tmp_path):
    sub = make_submission(tmp_path, append={"detection.py": DETECTION,
                                            "segmentation.py": SEGMENTATION})
    keys = {"detection.box_iou", "detection.nms", "segmentation.confusion_matrix"}
    report = engine.grade(sub, ["07", "08"], keys=keys, limits=LIMITS)
    got = {k: (e["status"], e["message"], e["hint"]) for u in report["units"].values()
           for k, e in u["functions"].items()}
    assert set(got) == keys
    assert {k: v for k, v in got.items() if v[0] != "passed"} == {}
