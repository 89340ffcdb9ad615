"""Data for unit 08 (provided, not graded): scenes with several objects, and drawing helpers.

- ``make_detection_scenes``: the synthetic shapes of ``data.make_shapes`` pasted, several per
  image and sometimes overlapping, on a larger canvas, with their boxes and labels.
- ``make_digit_scenes``: the scikit-learn digits (8x8, upscaled) placed on a larger canvas.
- ``draw_boxes`` / ``show_scene``: boxes with labels and scores on matplotlib axes.

Boxes are xyxy in pixels (continuous coordinates: a shape covering the pixel columns 3 to 9 has
x1 = 3, x2 = 10); ``to_relative`` and ``to_pixels`` convert to and from cxcywh relative to the
image, the form ``detection.yolo_encode`` takes.
"""

import numpy as np

from .data import SHAPE_CLASSES, make_shapes

DETECTION_CLASSES = ("circle", "square", "triangle")


def _overlap_ok(box, boxes, max_iou):
    if not boxes:
        return True
    others = np.asarray(boxes, dtype=np.float64)
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return bool((inter / (area + areas - inter) <= max_iou).all())


def _background(rng, n, size, noise):
    colour = rng.uniform(0.0, 1.0, (n, 3))
    gradient = rng.uniform(-0.2, 0.2, (n, 2))
    ramp = np.arange(size) / size - 0.5
    shade = (gradient[:, 0, None, None] * ramp[None, None, :]
             + gradient[:, 1, None, None] * ramp[None, :, None])
    images = colour[:, :, None, None] + shade[:, None]
    return images + noise * rng.standard_normal(images.shape)


def make_detection_scenes(n, *, seed=0, size=48, classes=DETECTION_CLASSES, min_objects=1,
                          max_objects=3, min_size=10, max_size=20, max_iou=0.3, noise=0.04):
    """Images with several shapes each, their boxes and labels.

    Each image has between ``min_objects`` and ``max_objects`` shapes of ``make_shapes`` (classes
    drawn uniformly from ``classes``), each cut out of its own image along its mask, about
    ``min_size`` to ``max_size`` pixels across, pasted at a random place entirely inside the
    canvas; a shape overlaps each earlier one with an IoU of at most ``max_iou`` (later shapes
    are drawn on top, so an overlapped shape may be partly hidden; its box stays the box of the
    whole shape). The background is a random colour with a gradient and noise.

    Returns a dict:
        images (n, 3, size, size) float32 in [0, 1];
        boxes: list of n float64 arrays (K_i, 4), xyxy in pixels;
        labels: list of n int64 arrays (K_i,), indices into ``classes``;
        class_names: the tuple ``classes``.
    """
    classes = tuple(classes)
    if not classes or any(c not in SHAPE_CLASSES for c in classes):
        raise ValueError(f"make_detection_scenes: classes must be names from {SHAPE_CLASSES}, "
                         f"got {classes!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_detection_scenes: n must be a positive integer, got {n!r}")
    if not 1 <= min_objects <= max_objects:
        raise ValueError("make_detection_scenes: need 1 <= min_objects <= max_objects, got "
                         f"{min_objects} and {max_objects}")
    if not 4 <= min_size <= max_size <= size:
        raise ValueError("make_detection_scenes: need 4 <= min_size <= max_size <= size, got "
                         f"{min_size}, {max_size} and {size}")
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_objects, max_objects + 1, n)
    total = int(counts.sum())
    patch = int(max_size) + 4
    # the shapes, one per patch; their radius sets their size (about 2 * radius across)
    shapes = make_shapes(total, seed=int(rng.integers(1 << 31)), size=patch, classes=classes,
                         noise=noise, min_radius=min_size / 2, max_radius=max_size / 2)
    images = _background(rng, n, size, noise)
    all_boxes, all_labels = [], []
    k = 0
    for i in range(n):
        boxes, labels = [], []
        for _ in range(int(counts[i])):
            mask = shapes["masks"][k] > 0
            ys, xs = np.nonzero(mask)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            h, w = y1 - y0, x1 - x0
            for _attempt in range(30):
                top = int(rng.integers(0, size - h + 1))
                left = int(rng.integers(0, size - w + 1))
                box = np.array([left, top, left + w, top + h], dtype=np.float64)
                if _overlap_ok(box, boxes, max_iou):
                    cut = mask[y0:y1, x0:x1]
                    region = images[i, :, top:top + h, left:left + w]
                    region[:, cut] = shapes["images"][k][:, y0:y1, x0:x1][:, cut]
                    boxes.append(box)
                    labels.append(int(shapes["labels"][k]))
                    break
            k += 1
        all_boxes.append(np.array(boxes, dtype=np.float64).reshape(-1, 4))
        all_labels.append(np.array(labels, dtype=np.int64))
    images = np.clip(images, 0.0, 1.0).astype(np.float32)
    return {"images": images, "boxes": all_boxes, "labels": all_labels, "class_names": classes}


def make_digit_scenes(n, *, seed=0, size=48, scale=2, min_objects=1, max_objects=1):
    """The scikit-learn digits placed on a larger dark canvas, without overlap.

    Each 8x8 digit is enlarged ``scale`` times (each pixel repeated) and placed at a random
    position; its box is the whole enlarged 8x8 square (8 * scale pixels across).

    Returns a dict:
        images (n, 1, size, size) float32 in [0, 1];
        boxes: list of n float64 arrays (K_i, 4), xyxy in pixels;
        labels: list of n int64 arrays (K_i,), the digits;
        class_names: ("0", ..., "9").
    """
    from sklearn.datasets import load_digits

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_digit_scenes: n must be a positive integer, got {n!r}")
    side = 8 * scale
    if side > size or not 1 <= min_objects <= max_objects:
        raise ValueError(f"make_digit_scenes: a digit of {side} pixels does not fit in {size}, "
                         f"or bad object counts {min_objects}, {max_objects}")
    digits = load_digits()
    pictures = digits.images / 16.0
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size))
    all_boxes, all_labels = [], []
    for i in range(n):
        boxes, labels = [], []
        for _ in range(int(rng.integers(min_objects, max_objects + 1))):
            for _attempt in range(30):
                top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
                box = np.array([left, top, left + side, top + side], dtype=np.float64)
                if _overlap_ok(box, boxes, 0.0):
                    pick = int(rng.integers(len(pictures)))
                    big = np.kron(pictures[pick], np.ones((scale, scale)))
                    images[i, 0, top:top + side, left:left + side] = big
                    boxes.append(box)
                    labels.append(int(digits.target[pick]))
                    break
        all_boxes.append(np.array(boxes, dtype=np.float64).reshape(-1, 4))
        all_labels.append(np.array(labels, dtype=np.int64))
    images = np.clip(images + 0.05 * rng.standard_normal(images.shape), 0, 1)
    return {"images": images.astype(np.float32), "boxes": all_boxes, "labels": all_labels,
            "class_names": tuple(str(d) for d in range(10))}


def to_relative(boxes, size):
    """xyxy boxes in pixels of a ``size`` x ``size`` image -> cxcywh relative to the image."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                     boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) / size


def to_pixels(boxes, size):
    """cxcywh boxes relative to the image -> xyxy in pixels of a ``size`` x ``size`` image."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * size
    return np.stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                     boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], axis=1)


def draw_boxes(ax, boxes, labels=None, scores=None, *, class_names=None, color=None,
               linestyle="-", linewidth=1.5):
    """Draw xyxy boxes (pixels) on matplotlib axes, each with its label and score if given.

    Without ``color`` each label gets its own colour from matplotlib's cycle.
    """
    from matplotlib.patches import Rectangle

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    palette = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:cyan",
               "tab:pink", "tab:olive", "tab:brown", "tab:gray"]
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        label = None if labels is None else int(labels[k])
        c = color or palette[(label or 0) % len(palette)]
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                               edgecolor=c, linestyle=linestyle, linewidth=linewidth))
        parts = []
        if label is not None:
            parts.append(class_names[label] if class_names is not None else str(label))
        if scores is not None:
            parts.append(f"{float(scores[k]):.2f}")
        if parts:
            ax.text(x1 - 0.5, y1 - 1.0, " ".join(parts), color="white", fontsize=7,
                    bbox={"facecolor": c, "alpha": 0.8, "pad": 1, "edgecolor": "none"})


def show_scene(ax, image, boxes=None, labels=None, scores=None, *, class_names=None, title=None,
               **kwargs):
    """Show a (3, H, W) or (1, H, W) image with its boxes (see draw_boxes)."""
    image = np.asarray(image)
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
    if boxes is not None:
        draw_boxes(ax, boxes, labels, scores, class_names=class_names, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
