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
    return [Case("hidden: K=20, 4 labels", (boxes, scores, labels), {"iou_threshold": 0.4})]


def encode_cases(Case, yolo_objects):
    return [Case("hidden: S=5, C=4, B=3, K=20", yolo_objects(210, 20, 4),
                 {"grid_size": 5, "num_classes": 4, "boxes_per_cell": 3}),
            Case("hidden: S=1, B=2, K=3", yolo_objects(211, 3, 2),
                 {"grid_size": 1, "num_classes": 2, "boxes_per_cell": 2})]


def decode_cases(Case, yolo_prediction):
    return [Case("hidden: S=5, B=2, C=4, threshold 0.25", (yolo_prediction(212, 1, 5, 2, 4)[0],),
                 {"conf_threshold": 0.25})]


def loss_cases(Case, yolo_batch):
    return [Case("hidden: N=4, S=3, B=3, C=2", yolo_batch(213, 4, 3, 3, 2, 6),
                 {"lambda_coord": 1.0, "lambda_noobj": 1.0})]


def match_cases(Case, match_random):
    return [Case("hidden: D=20, G=5, threshold 0.3", match_random(214, 20, 5),
                 {"iou_threshold": 0.3})]


def pr_cases(Case, pr_inputs):
    return [Case("hidden: D=30, num_gt=12, equal scores", pr_inputs(215, 30, 12, ties=True))]


def ap_cases(Case, pr_curve):
    hits = [1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0]
    return [Case(f"hidden: {m}: 15 detections, 20 objects", pr_curve(hits, 20), {"method": m})
            for m in ("all", "11point")]


def map_cases(Case, scenes):
    return [Case("hidden: 8 images, 5 classes, class 0 without ground truth",
                 scenes(216, 8, 5, missing_class=0), {"num_classes": 5, "iou_threshold": 0.6})]


def coco_cases(Case, scenes):
    return [Case("hidden: 6 images, 4 classes", scenes(217, 6, 4, noise=0.08),
                 {"num_classes": 4})]
