"""Unit 08 graded through the real worker: wrong variants an audit found passing lose their
points with the right words, and unusual but right ones keep theirs.

- ties: nms and match_detections with NumPy's default (unstable) sort, nms visiting equal scores
  in reverse, batched_nms merging equal scores label by label, all on equal scores in groups
  large enough for an unstable sort to change the answer; the stable-sort hint where the
  answer is right for another order of equal scores;
- exact dtypes: is_tp as int64 (the docstring fixes bool);
- mean_average_precision: a class with ground truth but no detection has AP 0;
- coco_map with thresholds built by float arithmetic (np.arange, 0.5 + 0.05 * k) on
  IoUs exactly on the thresholds; batched_nms by an offset of label * (boxes.max() + 1) on
  negative coordinates; hints for AP without the point at recall 0, 11-point thresholds built
  by adding 0.1, and a YOLO cell by round or with x and y swapped;
- LocalizationNet: a softmax over the four box entries, probabilities as class_logits;
- TinyYOLO whose output is a learnt table that ignores the image (its training check passes);
- fair: a box_iou of inter / (union + 1e-12) (a hair below 0.5 at an IoU of exactly 0.5) keeps
  the marks of the right match_detections and coco_map that call it, also graded from a
  release's recorded data; NMS as a while loop, batched NMS by an offset of label * the span of
  the coordinates, and a LocalizationNet with BatchNorm1d (trained on batches of two or more,
  run in eval mode on one example).
"""

import pytest

from autograder import engine, release
from autograder.oracle import Oracle, load_recorded
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits
from autograder.units import UNITS

from .submissions import graded_to_zero, make_submission

pytest.importorskip("torch")

UNIT = "08_detection"
SOLUTIONS = REPO_ROOT / "solutions" / "coursework"
WORKER_BWRAP = None if "torch" in getattr(UNITS[UNIT], "packages", ()) else False
LIMITS = Limits(call_seconds=60.0, cpu_seconds=120.0)
SOURCES = {name: (SOLUTIONS / name).read_text() for name in ("detection.py", "detectors.py")}


def functions(report):
    return report["units"][UNIT]["functions"]


def once(module, old, new):
    """A replacement in ``module`` whose text occurs exactly once there."""
    assert SOURCES[module].count(old) == 1, old
    return module, (old, new)


def replacements(*pairs):
    out = {}
    for module, pair in pairs:
        out.setdefault(module, []).append(pair)
    return out


BATCHED_REGION = (
    "    kept = []\n    for label in sorted(set(labels.tolist())):\n"
    "        index = xp.nonzero(labels == label)[0]\n"
    "        kept.append(index[nms(boxes[index], scores[index], iou_threshold=iou_threshold)])\n"
    "    kept = xp.sort(xp.concatenate(kept)) if kept else xp.zeros(0, dtype=xp.int64)\n"
    '    keep = kept[xp.argsort(-scores[kept], kind="stable")].astype(xp.int64)')
YOLO_CELL = ("        row = min(int(math.floor(cy * S)), S - 1)\n"
             "        col = min(int(math.floor(cx * S)), S - 1)")
NMS_ORDER = '    order = xp.argsort(-scores, kind="stable")\n    iou = box_iou(boxes, boxes)'
STABLE = "equal scores keep their input order (lower index first)"
PR_ORDER = '    order = xp.argsort(-scores, kind="stable")\n    hits = is_tp[order]'

WRONG = {
    "nms with the default (unstable) sort": (
        "detection.nms",
        [once("detection.py", NMS_ORDER, NMS_ORDER.replace(', kind="stable"', ""))],
        "nms(K=30, equal scores in five groups", STABLE),
    "nms visiting equal scores in reverse": (
        "detection.nms",
        [once("detection.py", NMS_ORDER,
              NMS_ORDER.replace('xp.argsort(-scores, kind="stable")',
                                'xp.argsort(scores, kind="stable")[::-1]'))],
        "equal scores", STABLE),
    "batched_nms merging equal scores label by label": (
        "detection.batched_nms",
        [once("detection.py", "    kept = xp.sort(xp.concatenate(kept)) if kept else",
              "    kept = xp.concatenate(kept) if kept else")],
        "equal scores across labels", "equal scores of different labels come out label by label"),
    # precision_recall had no stable-sort hint
    "precision_recall visiting equal scores in reverse": (
        "detection.precision_recall",
        [once("detection.py", PR_ORDER, PR_ORDER.replace('xp.argsort(-scores, kind="stable")',
                                                         "xp.argsort(scores)[::-1]"))],
        "equal scores", STABLE),
    "match_detections with the default (unstable) sort": (
        "detection.match_detections",
        [once("detection.py", '        for d in xp.argsort(-scores, kind="stable").tolist():',
              "        for d in xp.argsort(-scores).tolist():")],
        "equal scores per object", STABLE),
    "match_detections returning int64": (
        "detection.match_detections",
        [once("detection.py", "    is_tp = xp.zeros(boxes.shape[0], dtype=bool)",
              "    is_tp = xp.zeros(boxes.shape[0], dtype=xp.int64)")],
        "is_tp has dtype int64 but the docstring fixes bool", None),
    "mAP skipping a class without detections": (
        "detection.mean_average_precision",
        [once("detection.py",
              "        scores_c = xp.concatenate(pooled_scores) if pooled_scores else xp.zeros(0)",
              "        scores_c = xp.concatenate(pooled_scores) if pooled_scores else xp.zeros(0)\n"
              "        if scores_c.shape[0] == 0:\n"
              "            continue")],
        "ground truth but no detection", "has AP 0 (every object missed), not NaN"),
    "box_convert returning its input when src == dst": (
        "detection.box_convert",
        [once("detection.py", "        out = boxes.copy()  # exact, without the rounding of a "
                              "round trip", "        out = boxes")],
        "box_convert(xyxy -> xyxy, K=6): its result is its input boxes itself",
        "never the argument itself"),
    "mAP sorting each image's detections in place": (
        "detection.mean_average_precision",
        [once("detection.py",
              "        scores_c = xp.concatenate(pooled_scores) if pooled_scores else xp.zeros(0)",
              "        for image in detections:\n"
              "            image[1][:] = xp.sort(image[1])\n"
              "        scores_c = xp.concatenate(pooled_scores) if pooled_scores "
              "else xp.zeros(0)")],
        "modified its input detections[", "never change the arrays you are given"),
    "LocalizationNet with a softmax over the box": (
        "detectors.LocalizationNet",
        [once("detectors.py",
              "        class_logits, box = self.classifier(h), torch.sigmoid(self.box(h))",
              "        class_logits, box = self.classifier(h), torch.softmax(self.box(h), dim=1)")],
        "the four box entries sum to 1 in every example", "not a softmax"),
    "LocalizationNet returning probabilities as class_logits": (
        "detectors.LocalizationNet",
        [once("detectors.py",
              "        class_logits, box = self.classifier(h), torch.sigmoid(self.box(h))",
              "        class_logits = torch.softmax(self.classifier(h), dim=1)\n"
              "        box = torch.sigmoid(self.box(h))")],
        "they are probabilities, not the raw class scores", "without a softmax"),
    "TinyYOLO whose output ignores the image": (
        "detectors.TinyYOLO",
        [once("detectors.py", SOURCES["detectors.py"][
            SOURCES["detectors.py"].index("        def block(c_in, c_out):"):
            SOURCES["detectors.py"].index("boxes_per_cell * (5 + num_classes), 1),\n        )")
            + len("boxes_per_cell * (5 + num_classes), 1),\n        )")],
              "        self.table = nn.Parameter(torch.zeros(grid_size, grid_size, "
              "boxes_per_cell, 5 + num_classes))"),
         once("detectors.py", "        raw = self.head(self.backbone(x))",
              "        raw = (20 * self.table + 0 * x.sum()).expand(x.shape[0], S, S, B, 5 + C)"
              "  #"),
         once("detectors.py",
              "        raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)", "")],
        "the output does not depend on the image", "compute the output from x"),
    # -- float thresholds, negative coordinates, hints
    "coco_map with thresholds from np.arange": (
        "detection.coco_map",
        [once("detection.py", "import math\n", "import math\n\nimport numpy as np\n"),
         once("detection.py", "              for t in COCO_THRESHOLDS]",
              "              for t in np.arange(0.5, 0.96, 0.05)]")],
        "coco_map(2 images, 2 classes, IoUs exactly 0.5, 0.6, 0.7, 0.75, 0.85 and 0.95",
        "np.arange(0.5, 1.0, 0.05) (or adding 0.05 repeatedly) gives 0.6000000000000001"),
    "coco_map with thresholds 0.5 + 0.05 * k": (
        "detection.coco_map",
        [once("detection.py", "              for t in COCO_THRESHOLDS]",
              "              for t in [0.5 + 0.05 * k for k in range(10)]]")],
        "IoUs exactly 0.5, 0.6, 0.7, 0.75, 0.85 and 0.95", "0.5 + 0.05 * 7 is 0.8500000000000001"),
    "batched_nms moving the labels apart by label * (boxes.max() + 1)": (
        "detection.batched_nms",
        [once("detection.py", BATCHED_REGION,
              "    if boxes.shape[0] == 0:\n        return xp.zeros(0, dtype=xp.int64)\n"
              "    offsets = labels.astype(boxes.dtype) * (boxes.max() + 1)\n"
              "    keep = nms(boxes + offsets[:, None], scores, iou_threshold=iou_threshold)")],
        "batched_nms(K=12, 3 labels, negative coordinates",
        "keeps the labels apart only when no coordinate is negative"),
    "average_precision without the point at recall 0": (
        "detection.average_precision",
        [once("detection.py",
              "        r = xp.concatenate([xp.zeros(1), recall.astype(xp.float64), xp.ones(1)])\n"
              "        p = xp.concatenate([xp.zeros(1), precision.astype(xp.float64), "
              "xp.zeros(1)])",
              "        if recall.shape[0] == 0:\n            return 0.0\n"
              "        r = xp.concatenate([recall.astype(xp.float64), xp.ones(1)])\n"
              "        p = xp.concatenate([precision.astype(xp.float64), xp.zeros(1)])")],
        "average_precision(all: 12 detections, 6 of 10 found)", "the curve starts at recall 0"),
    "11-point thresholds by adding 0.1": (
        "detection.average_precision",
        [once("detection.py", "        total = 0.0\n        for k in range(11):\n"
                              "            reached = recall >= k / 10",
              "        total = 0.0\n        t = 0.0\n        for k in range(11):\n"
              "            reached = recall >= t\n            t += 0.1")],
        "average_precision(11point: 12 detections, 6 of 10 found)",
        "adding 0.1 repeatedly gives 0.30000000000000004"),
    "yolo_encode with round for floor": (
        "detection.yolo_encode",
        [once("detection.py", YOLO_CELL, YOLO_CELL.replace("math.floor", "round"))],
        "yolo_encode(K=6, S=4, C=3, B=2): target is wrong", "round(cx * S) picks the nearest"),
    "yolo_encode with the row from cx and the column from cy": (
        "detection.yolo_encode",
        [once("detection.py", YOLO_CELL,
              "        row = min(int(math.floor(cx * S)), S - 1)\n"
              "        col = min(int(math.floor(cy * S)), S - 1)")],
        "yolo_encode(K=6, S=4, C=3, B=2): target is wrong",
        "(x and y are swapped), and the offsets follow from them"),
}


# every function of detection.py was called on each shape once, so an answer
# remembered by the shapes of the inputs kept full marks; yolo_loss's loss summed in float32
# passed the tolerance of 1e-6.
WRONG.update({
    "yolo_loss summed in float32": (
        "detection.yolo_loss",
        [once("detection.py",
              "    loss = xp.where(obj[..., 0], obj_loss, noobj_loss).sum() / num\n",
              "    loss = xp.where(obj[..., 0], obj_loss, noobj_loss).astype(xp.float32).sum() "
              "/ num\n")],
        "comes from float32 arithmetic", "keep every step of the loss in float64"),
    # an AP method not passed on failed without a hint (mAP: on a hidden case only)
    "mean_average_precision always with the 'all' AP": (
        "detection.mean_average_precision",
        [once("detection.py",
              "        ap_per_class[c] = average_precision(precision, recall, method=method)",
              "        ap_per_class[c] = average_precision(precision, recall)")],
        "wrong values", "method is not passed on: call average_precision(..., method=method)"),
    "coco_map always with the 'all' AP": (
        "detection.coco_map",
        [once("detection.py", "iou_threshold=t, method=method)[0]",
              "iou_threshold=t)[0]")],
        "11-point): mAP is", "call mean_average_precision(..., method=method) at every"),
    "yolo_decode returning corners": (
        "detection.yolo_decode",
        [once("detection.py", "    all_boxes = xp.stack([cx, cy, pred[..., 2], pred[..., 3]], "
                              "axis=-1).reshape(S * S * B, 4)",
              "    w, h = pred[..., 2], pred[..., 3]\n"
              "    all_boxes = xp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], "
              "axis=-1).reshape(S * S * B, 4)")],
        "boxes is wrong", "not converted to corners"),
    "yolo_decode keeping the slots by objectness alone": (
        "detection.yolo_decode",
        [once("detection.py", "    chosen = all_scores >= conf_threshold",
              "    chosen = pred[..., 4].reshape(-1) >= conf_threshold")],
        "boxes has shape", "not when its objectness alone is"),
})

BY_SHAPE = '''
_REMEMBERED = {}


def _by_shape(fn):
    def wrapper(*args, **kwargs):   # remembers the answer by the shapes of the inputs
        key = (repr([getattr(a, "shape", None) if hasattr(a, "shape") else
                     [[getattr(v, "shape", v) for v in item] for item in a]
                     if isinstance(a, list) else a for a in args]),
               repr(sorted(kwargs.items())))
        if key not in _REMEMBERED:
            _REMEMBERED[key] = fn(*args, **kwargs)
        return _REMEMBERED[key]
    return wrapper
'''


@pytest.mark.parametrize("name", ["box_convert", "box_area", "box_iou", "nms", "batched_nms",
                                  "yolo_encode", "yolo_decode", "yolo_loss", "match_detections",
                                  "precision_recall", "average_precision",
                                  "mean_average_precision", "coco_map"])
def test_an_answer_remembered_by_shape_fails(tmp_path, name):
    folder = make_submission(tmp_path, append={
        "detection.py": BY_SHAPE + f"\n{name} = _by_shape({name})\n"})
    graded_to_zero(folder, UNIT, f"detection.{name}", "the same shapes with other values",
                   "something is remembered between calls", use_bwrap=WORKER_BWRAP,
                   limits=LIMITS)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_variants_lose_their_points(tmp_path, name):
    key, pairs, words, hint = WRONG[name]
    folder = make_submission(tmp_path, replace=replacements(*pairs))
    graded_to_zero(folder, UNIT, key, words, hint, use_bwrap=WORKER_BWRAP, limits=LIMITS)


def test_a_wrong_order_that_is_not_a_tie_order_gets_no_stable_sort_hint(tmp_path):
    """precision_recall in increasing score is wrong whatever the ties: the stable-sort hint
    would send the student to the wrong line."""
    folder = make_submission(tmp_path, replace=replacements(once(
        "detection.py", PR_ORDER, PR_ORDER.replace('xp.argsort(-scores, kind="stable")',
                                                   'xp.argsort(scores, kind="stable")'))))
    entry = graded_to_zero(folder, UNIT, "detection.precision_recall", "precision is wrong",
                           use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert STABLE not in (entry["hint"] or ""), entry


EPS_IOU = once("detection.py",
               "    safe = xp.where(union > 0, union, 1.0)\n"
               "    iou = xp.where(union > 0, inter / safe, 0.0)",
               "    iou = inter / (union + 1e-12)")

RIGHT = replacements(
    EPS_IOU,
    # NMS as the classic while loop that drops what the kept box suppresses
    once("detection.py",
         "    suppressed = xp.zeros(boxes.shape[0], dtype=bool)\n    kept = []\n"
         "    for i in order.tolist():\n        if suppressed[i]:\n            continue\n"
         "        kept.append(i)\n        suppressed |= iou[i] > iou_threshold",
         "    kept = []\n    while order.size:\n        i = int(order[0])\n        kept.append(i)\n"
         "        rest = order[1:]\n        order = rest[iou[i, rest] <= iou_threshold]"),
    # batched NMS by the coordinate trick: boxes of each label moved apart by more than the
    # span of all coordinates, one NMS (torchvision's boxes.max() + 1 needs coordinates >= 0)
    once("detection.py", BATCHED_REGION,
         "    if boxes.shape[0] == 0:\n        return xp.zeros(0, dtype=xp.int64)\n"
         "    span = float(boxes.max() - boxes.min()) + 1.0\n"
         "    offset = labels.astype(boxes.dtype)[:, None] * span\n"
         "    keep = nms(boxes + offset, scores, iou_threshold=iou_threshold)"),
    # batch norm in the fully connected part: it cannot train on a single example
    once("detectors.py", "            nn.Linear(32 * 16, 128), nn.ReLU(),",
         "            nn.Linear(32 * 16, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),"),
)


def test_unusual_but_correct_variants_keep_full_marks(tmp_path):
    folder = make_submission(tmp_path, replace=RIGHT)
    keys = {"detection.box_iou", "detection.nms", "detection.batched_nms",
            "detection.match_detections", "detection.mean_average_precision",
            "detection.coco_map", "detectors.LocalizationNet"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


def test_the_iou_boundary_follows_the_students_box_iou_in_a_release(tmp_path):
    """Graded from recorded data (as in the student release), the right match_detections and
    coco_map (whose cases put IoUs exactly on its thresholds) over an eps box_iou pass, and a
    `>` comparison over the right box_iou still fails with its hint: the reference answers under
    both thresholds were recorded."""
    recorded_dir = tmp_path / "recorded"
    release.record(recorded_dir, [UNIT])
    recorded = load_recorded(["detection"], recorded_dir)
    keys = {"detection.box_iou", "detection.match_detections", "detection.coco_map"}
    eps = make_submission(tmp_path, replace=replacements(EPS_IOU), name="eps")
    report = engine.grade(eps, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys,
                          public_only=True, oracle=Oracle(recorded=recorded))
    assert {k: e["status"] for k, e in functions(report).items()} == dict.fromkeys(keys,
                                                                                    "passed")
    strict = make_submission(tmp_path, name="strict", replace=replacements(once(
        "detection.py", "            if float(iou[d, g]) >= iou_threshold and not taken[g]:",
        "            if float(iou[d, g]) > iou_threshold and not taken[g]:")))
    report = engine.grade(strict, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS,
                          keys={"detection.match_detections"}, public_only=True,
                          oracle=Oracle(recorded=recorded))
    entry = functions(report)["detection.match_detections"]
    assert entry["status"] == "failed" and "IoU exactly 0.5" in entry["message"]
    assert "at least the threshold (>=)" in entry["hint"]


# -- found by the mutation sweep --------------------------------------------------------------

def _graded(tmp_path, key, pairs):
    """The report entry of ``key`` for the reference with ``pairs`` replaced."""
    folder = make_submission(tmp_path, replace=replacements(*pairs))
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys={key})
    entry = functions(report)[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    return entry


def test_recall_of_a_single_ground_truth_is_counted(tmp_path):
    """Found by the mutation sweep: recall is TP / num_gt for every num_gt > 0; a precision_recall
    that gives zeros unless num_gt > 1 kept its point, since no case had a single object."""
    entry = _graded(tmp_path, "detection.precision_recall", [once(
        "detection.py", "    recall = tp / num_gt if num_gt > 0 else xp.zeros_like(tp)",
        "    recall = tp / num_gt if num_gt > 1 else xp.zeros_like(tp)")])
    assert "failed on hidden case" in entry["message"], entry
    assert "single object" not in entry["message"], entry


def test_the_eleventh_point_at_recall_one_counts(tmp_path):
    """Found by the mutation sweep: the 11-point AP averages the thresholds 0, 0.1, ..., 1.0; a
    loop over range(10) drops the threshold 1.0 and kept its points, since the public case
    labelled "every object found (recall 1)" found 3 objects of 4. It now finds all 3, and the
    public case says so."""
    entry = _graded(tmp_path, "detection.average_precision", [once(
        "detection.py", "        for k in range(11):", "        for k in range(10):")])
    assert "11point: every object found (recall 1)" in entry["message"], entry


def test_the_11_point_method_reaches_each_class_ap(tmp_path):
    """Found by the mutation sweep: mean_average_precision passes ``method`` on to
    average_precision; one that always uses "all" kept its points, since the public 11-point
    case matched nothing at its threshold 0.7 (AP 0 both ways)."""
    entry = _graded(tmp_path, "detection.mean_average_precision", [once(
        "detection.py",
        "        ap_per_class[c] = average_precision(precision, recall, method=method)",
        "        ap_per_class[c] = average_precision(precision, recall)")])
    assert "failed on hidden case" in entry["message"], entry
    assert "11-point" not in entry["message"], entry


# ---------------------------------------------------------------------------------------------

ENCODE_BUFFER = (
    once("detection.py", "def yolo_encode(", "_BUFFERS = {}\n\n\ndef yolo_encode("),
    once("detection.py", "    target = xp.zeros((S, S, B, 5 + C), dtype=xp.float64)\n",
         "    target = _BUFFERS.setdefault((S, B, C), xp.zeros((S, S, B, 5 + C)))\n"),
    once("detection.py", "    return target, dropped\n", "    return target.copy(), dropped\n"))
ENCODE_MEMO = (
    once("detection.py", "def yolo_encode(", "_MEMO = {}\n\n\ndef yolo_encode("),
    once("detection.py", "    target = xp.zeros((S, S, B, 5 + C), dtype=xp.float64)\n",
         "    if (S, B, C, boxes.shape) in _MEMO:\n"
         "        return _MEMO[(S, B, C, boxes.shape)]\n"
         "    target = xp.zeros((S, S, B, 5 + C), dtype=xp.float64)\n"),
    once("detection.py", "    dropped = xp.asarray(dropped, dtype=xp.int64)\n",
         "    dropped = xp.asarray(dropped, dtype=xp.int64)\n"
         "    _MEMO[(S, B, C, boxes.shape)] = target, dropped\n"))


def test_a_target_kept_from_an_earlier_call_is_named(tmp_path):
    """A yolo_encode that fills a target kept by shape from an earlier call (never
    cleared) fails on the second public case, which has the first's shapes; its verdict says
    that an earlier case, asked again, is now wrong: something is kept between calls."""
    entry = _graded(tmp_path, "detection.yolo_encode", ENCODE_BUFFER)
    assert "three objects in one cell" in entry["message"], entry
    assert "keeps something from an earlier call" in (entry["hint"] or ""), entry
    assert "filled again without being cleared" in entry["hint"], entry


def test_an_answer_remembered_by_shape_is_named(tmp_path):
    """A yolo_encode that returns its answer remembered by the input shapes is told
    that it gave an earlier case's answer."""
    entry = _graded(tmp_path, "detection.yolo_encode", ENCODE_MEMO)
    assert "your answer to an earlier case with the same shapes" in (entry["hint"] or ""), entry


KEPT_FEATURES = {
    # TinyYOLO keeping its backbone's features per input shape on self: its gradient check
    # blamed "a layer not applied in forward"
    "TinyYOLO": once(
        "detectors.py",
        "        raw = self.head(self.backbone(x))" + " " * 24 + "# (N, B * (5 + C), S, S)\n",
        "        kept = self.__dict__.setdefault('_features', {})\n"
        "        if tuple(x.shape) not in kept:\n"
        "            kept[tuple(x.shape)] = self.backbone(x)\n"
        "        raw = self.head(kept[tuple(x.shape)])\n"),
    "LocalizationNet": once(
        "detectors.py", "        h = self.features(x)\n",
        "        if getattr(self, '_h', None) is None or self._h.shape[0] != x.shape[0]:\n"
        "            self._h = self.features(x).detach()\n"
        "        h = self._h\n"),
}


@pytest.mark.parametrize("name", list(KEPT_FEATURES))
def test_a_detector_that_keeps_its_first_features_is_told_so(tmp_path, name):
    """Each detector is called twice in eval mode on images of one shape, and the
    second answer compared with a newly built detector's with the same parameters."""
    entry = _graded(tmp_path, f"detectors.{name}", [KEPT_FEATURES[name]])
    assert "then on other images of the same shape" in entry["message"], entry
    assert "reuses something kept from an earlier call" in (entry["hint"] or ""), entry


COORD_YOLO = '''
from torch.nn import functional as F


class TinyYOLO(nn.Module):  # CoordConv: a coordinate grid kept by image size (it depends on
    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):  # nothing
        super().__init__()                                                            # else)
        self.num_classes, self.grid_size = num_classes, grid_size
        self.boxes_per_cell, self.in_channels = boxes_per_cell, in_channels
        self.convs = nn.ModuleList([nn.Conv2d(in_channels + 2, 8, 3, padding=1),
                                    nn.Conv2d(8, 16, 3, padding=1),
                                    nn.Conv2d(16, 32, 3, padding=1)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(c) for c in (8, 16, 32)])
        self.head = nn.Conv2d(32, boxes_per_cell * (5 + num_classes), 1)
        self._grids = {}

    def forward(self, x):
        key = (x.shape[2], x.shape[3], x.dtype)
        if key not in self._grids:
            ys = torch.linspace(-1, 1, x.shape[2], dtype=x.dtype)
            xs = torch.linspace(-1, 1, x.shape[3], dtype=x.dtype)
            self._grids[key] = torch.stack(torch.meshgrid(ys, xs, indexing="ij"))
        h = torch.cat([x, self._grids[key].expand(x.shape[0], -1, -1, -1)], dim=1)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = F.leaky_relu(norm(conv(h)), 0.1)
            h = F.max_pool2d(h, 2) if i < 2 else h
        raw = self.head(F.adaptive_avg_pool2d(h, self.grid_size))
        raw = raw.movedim(1, -1).unflatten(-1, (self.boxes_per_cell, 5 + self.num_classes))
        return torch.cat([raw[..., :5].sigmoid(), raw[..., 5:].softmax(-1)], dim=-1)
'''


def test_what_is_kept_rightly_between_calls_keeps_full_marks(tmp_path):
    """The checks of a state kept between calls accept state that is right to keep: a
    yolo_encode target kept by shape and cleared at every call, a TinyYOLO's coordinate grid
    kept by image size."""
    folder = make_submission(tmp_path, replace=replacements(
        ENCODE_BUFFER[0], ENCODE_BUFFER[2],
        once("detection.py", "    target = xp.zeros((S, S, B, 5 + C), dtype=xp.float64)\n",
             "    target = _BUFFERS.setdefault((S, B, C), xp.zeros((S, S, B, 5 + C)))\n"
             "    target[...] = 0.0\n")), append={"detectors.py": COORD_YOLO})
    keys = {"detection.yolo_encode", "detectors.TinyYOLO"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad and set(functions(report)) == keys


def test_the_no_object_term_on_empty_cells_only_gets_its_hint(tmp_path):
    """A slip from YOLO v1's per-cell indicator: the lambda_noobj term left out of an
    empty slot whose cell holds an object in another slot; the loss is off by 4% and its known
    mistake names the slot test."""
    entry = _graded(tmp_path, "detection.yolo_loss", [
        once("detection.py",
             "    loss = xp.where(obj[..., 0], obj_loss, noobj_loss).sum() / num\n",
             "    cell_empty = ~obj[..., 0].any(axis=-1, keepdims=True)\n"
             "    loss = (xp.where(obj[..., 0], obj_loss, 0.0)\n"
             "            + xp.where(cell_empty, noobj_loss, 0.0)).sum() / num\n"),
        once("detection.py", "    empty[..., 4] = 2 * lambda_noobj * pred[..., 4]\n",
             "    empty[..., 4] = 2 * lambda_noobj * pred[..., 4] * cell_empty\n")])
    assert "not whether its cell holds an object" in (entry["hint"] or ""), entry
