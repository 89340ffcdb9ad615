"""Hidden cases of unit 08, ``detection`` (not in the student release).

Each function takes the ``Case`` class and an input builder of the spec, and returns extra cases in
the form of the public ones.
"""

import numpy as np


def convert_cases(Case, box_formats):
    return [Case("hidden: cxcywh -> xywh, K=9", (box_formats(201, 9, "cxcywh"),),
                 {"src": "cxcywh", "dst": "xywh"}),
            Case("hidden: xywh -> xyxy, K=2", (box_formats(202, 2, "xywh"),),
                 {"src": "xywh", "dst": "xyxy"})]


def area_cases(Case, random_boxes):
    return [Case("hidden: K=11", (random_boxes(203, 11),))]


def iou_cases(Case, random_boxes):
    return [Case("hidden: M=9, N=13", (random_boxes(204, 9), random_boxes(205, 13))),
            Case("hidden: one box inside the other", (np.array([[0.0, 0.0, 10.0, 10.0]]),
                                                       np.array([[2.0, 3.0, 4.0, 8.0]])))]


def nms_cases(Case, crowd):
    return [Case("hidden: K=25, threshold 0.45, equal scores", crowd(206, 25, ties=True),
                 {"iou_threshold": 0.45}),
            Case("hidden: threshold 1 (nothing suppressed but identical boxes)", crowd(207, 8),
                 {"iou_threshold": 1.0})]


def batched_cases(Case, crowd):
    boxes, scores = crowd(208, 20, clusters=3)
    labels = np.random.default_rng(209).integers(0, 4, 20)
    # labels need not be 0..L-1: here only 3 and 7 occur
    sparse = np.where(np.random.default_rng(218).uniform(size=20) < 0.5, 3, 7)
    # every coordinate negative (the largest about -1.6): an offset of label * (max + 1) is
    # smaller than a box and of the wrong sign
    negative, negative_scores = crowd(226, 16, clusters=3)
    negative_labels = np.random.default_rng(227).integers(0, 4, 16)
    return [Case("hidden: K=20, 4 labels", (boxes, scores, labels), {"iou_threshold": 0.4}),
            Case("hidden: K=20, labels 3 and 7 only", (boxes, scores, sparse.astype(np.int64)),
                 {"iou_threshold": 0.5}),
            Case("hidden: K=16, 4 labels, every coordinate negative",
                 (negative - 21.0, negative_scores, negative_labels), {"iou_threshold": 0.5}),
            Case("hidden: K=1 (a single box)", (boxes[:1], scores[:1], labels[:1]),
                 {"iou_threshold": 0.5})]


def encode_cases(Case, yolo_objects):
    return [Case("hidden: S=5, C=4, B=3, K=20", yolo_objects(210, 20, 4),
                 {"grid_size": 5, "num_classes": 4, "boxes_per_cell": 3}),
            Case("hidden: S=1, B=2, K=3", yolo_objects(211, 3, 2),
                 {"grid_size": 1, "num_classes": 2, "boxes_per_cell": 2}),
            Case("hidden: K=1 (a single object), S=3, C=2", yolo_objects(228, 1, 2),
                 {"grid_size": 3, "num_classes": 2, "boxes_per_cell": 1})]


def decode_cases(Case, yolo_prediction):
    # exactly one slot at or above the threshold: (1, 4) boxes, not (4,) (an index array
    # squeezed to one number)
    single = yolo_prediction(229, 1, 3, 2, 2)[0]
    scores = np.sort((single[..., 4] * single[..., 5:].max(axis=-1)).ravel())
    return [Case("hidden: S=5, B=2, C=4, threshold 0.25", (yolo_prediction(212, 1, 5, 2, 4)[0],),
                 {"conf_threshold": 0.25}),
            Case("hidden: S=3, B=2, C=2, a single slot kept", (single,),
                 {"conf_threshold": float((scores[-1] + scores[-2]) / 2)})]


def loss_cases(Case, yolo_batch):
    pred, target = yolo_batch(219, 3, 2, 2, 3, 3)
    target[1] = 0.0  # an image without any object still counts in N
    return [Case("hidden: N=4, S=3, B=3, C=2", yolo_batch(213, 4, 3, 3, 2, 6),
                 {"lambda_coord": 1.0, "lambda_noobj": 1.0}),
            Case("hidden: N=3, the second image without objects", (pred, target))]


def match_cases(Case, match_random):
    gt = np.array([[0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [9.0, 9.0, 10.0, 10.0]])
    return [Case("hidden: D=20, G=5, threshold 0.3", match_random(214, 20, 5),
                 {"iou_threshold": 0.3}),
            # the first detection overlaps ground truths 0 and 1 equally (IoU 1/3): it takes 0,
            # the lower index, and the second detection (on 1) is a true positive too
            Case("hidden: a tie between two ground truths", (
                np.array([[1.0, 0.0, 3.0, 2.0], [2.0, 0.0, 4.0, 2.0]]), np.array([0.9, 0.8]),
                gt[:2]), {"iou_threshold": 0.3}),
            # threshold 0: every detection's best ground truth matches, even at IoU 0
            Case("hidden: threshold 0, detections that overlap nothing", (
                np.array([[20.0, 20.0, 21.0, 21.0], [30.0, 30.0, 31.0, 32.0],
                          [9.0, 9.0, 10.0, 10.0]]), np.array([0.5, 0.7, 0.6]), gt),
                 {"iou_threshold": 0.0}),
            Case("hidden: D=1 (a single detection), G=3", match_random(230, 1, 3),
                 {"iou_threshold": 0.5})]


def pr_cases(Case, pr_inputs):
    # one object, found by the third detection in score order: recall 1 from there on
    scores = np.array([0.3, 0.9, 0.6, 0.8, 0.1, 0.5])
    return [Case("hidden: D=30, num_gt=12, equal scores", pr_inputs(215, 30, 12, ties=True)),
            Case("hidden: D=6, num_gt=1, the single object found by the third detection",
                 (scores, scores == 0.6, 1))]


def ap_cases(Case, pr_curve):
    hits = [1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0]
    return [Case(f"hidden: {m}: 15 detections, 20 objects", pr_curve(hits, 20), {"method": m})
            for m in ("all", "11point")]


def map_cases(Case, scenes):
    detections, ground_truths = scenes(220, 3, 2)
    empty = [(np.zeros((0, 4)), np.zeros(0, dtype=np.int64)) for _ in ground_truths]
    return [Case("hidden: 8 images, 5 classes, class 0 without ground truth",
                 scenes(216, 8, 5, missing_class=0), {"num_classes": 5, "iou_threshold": 0.6}),
            Case("hidden: no ground truth in any image (mAP NaN)", (detections, empty),
                 {"num_classes": 2}),
            Case("hidden: 5 images, 3 classes, 11-point, every class with true positives",
                 scenes(223, 5, 3, noise=0.05), {"num_classes": 3, "method": "11point"})]


def coco_cases(Case, scenes):
    detections, ground_truths = scenes(221, 2, 3)
    empty = [(np.zeros((0, 4)), np.zeros(0, dtype=np.int64)) for _ in ground_truths]
    # IoUs exactly 0.8, 0.5, 0.65, 0.85 (image 0), 0.6, 0.55, 0.9 (image 1): inter and union
    # exact, their ratio (50 + 5k) / 100; a detection of class 0 on an object of class 2
    exact = [(np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 20.0, 6.5], [30.0, 0.0, 40.0, 10.0],
                        [0.5, 0.0, 10.0, 10.0]]), np.array([0.8, 0.9, 0.4, 0.7]),
              np.array([2, 0, 1, 2])),
             (np.array([[0.0, 0.0, 8.0, 10.0], [20.0, 20.0, 40.0, 25.5], [60.0, 0.0, 70.0, 10.0]]),
              np.array([0.65, 0.55, 0.9]), np.array([1, 0, 2])),
             (np.array([[5.0, 5.0, 15.0, 15.0]]), np.array([0.5]), np.array([0]))]
    exact_gt = [(np.array([[0.0, 0.0, 10.0, 8.0], [0.0, 0.0, 20.0, 10.0], [30.0, 0.0, 40.0, 8.5]]),
                 np.array([2, 0, 1])),
                (np.array([[2.0, 0.0, 10.0, 10.0], [20.0, 20.0, 40.0, 30.0],
                           [60.0, 1.0, 70.0, 10.0], [80.0, 80.0, 90.0, 90.0]]),
                 np.array([1, 0, 2, 1])),
                (np.array([[5.0, 5.0, 15.0, 15.0]]), np.array([2]))]
    return [Case("hidden: 6 images, 4 classes", scenes(217, 6, 4, noise=0.08),
                 {"num_classes": 4}),
            Case("hidden: no ground truth in any image (NaN)", (detections, empty),
                 {"num_classes": 3}),
            Case("hidden: 3 images, 3 classes, IoUs exactly on thresholds", (exact, exact_gt),
                 {"num_classes": 3})]
