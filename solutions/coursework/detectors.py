"""Unit 08: two small detectors in PyTorch, and the (provided) code that trains and runs them.

The architectures are yours to choose; the grader checks their contract only:

- ``TinyYOLO(num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3)`` maps images
  (N, in_channels, H, W), any H, W >= 32, to (N, S, S, B, 5 + C) in the layout of
  ``detection.yolo_encode``'s target: per slot [x_offset, y_offset, w, h, objectness] through a
  sigmoid (each in 0..1) and C class probabilities through a softmax (summing to 1). End the
  backbone with adaptive pooling to S x S (``nn.AdaptiveAvgPool2d(grid_size)``), so that every
  input size gives the same grid.
- ``LocalizationNet(num_classes, *, in_channels=3)`` maps images (N, in_channels, H, W), any
  H, W >= 32, to ``(class_logits (N, C), box (N, 4))``: raw class scores, and one box in cxcywh
  relative to the image through a sigmoid (each in 0..1).

Both work in float32 and, after ``.double()``, in float64; every parameter must take part in the
output (the grader checks that gradients reach each one). Keep each under 5 million parameters
(the grader loads values of its own into them and into batch norm's running statistics; other
buffers, an input mean and std say, keep your values): small images and a few classes need far
fewer (the reference TinyYOLO has about 35 thousand; YOLO v1's 4096-unit head would be millions).

The training helpers below are provided: ``YoloLoss`` makes your NumPy ``detection.yolo_loss``
a PyTorch loss (its forward calls it, its backward returns its ``dpred``), so the network learns
from your own loss and gradient.
"""

import numbers

import numpy as np
import torch
from torch import nn

from . import detection


def _check_int(where, what, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_images(where, x, channels):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{where}: expected images of shape (N, C, H, W), got {shape}")
    if x.shape[1] != channels or x.shape[2] < 32 or x.shape[3] < 32:
        raise ValueError(f"{where}: expected {channels} input channels and at least 32x32 "
                         f"pixels, got images of shape {tuple(x.shape)}")


class TinyYOLO(nn.Module):
    """A small YOLO: a convolutional backbone pooled to an S x S grid and a head predicting B
    boxes per cell.

    Input: x (N, in_channels, H, W), H, W >= 32; computed in x's dtype (float64 stays float64).
    Returns: (N, S, S, B, 5 + C): per slot [x_offset, y_offset, w, h, objectness] in (0, 1)
    (sigmoid) and C class probabilities (softmax over the last C entries). out[n, i, j] is the
    grid cell in row i (from the top) and column j (from the left) of image n, as in
    yolo_encode's target: keep the feature map's layout (rows before columns) when you reshape.
    """

    def __init__(self, num_classes, *, grid_size=4, boxes_per_cell=2, in_channels=3):
        super().__init__()
        self.num_classes = _check_int("TinyYOLO", "num_classes", num_classes)
        self.grid_size = _check_int("TinyYOLO", "grid_size", grid_size)
        self.boxes_per_cell = _check_int("TinyYOLO", "boxes_per_cell", boxes_per_cell)
        self.in_channels = _check_int("TinyYOLO", "in_channels", in_channels)
        # BEGIN SOLUTION
        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                    nn.LeakyReLU(0.1)]

        self.backbone = nn.Sequential(
            *block(in_channels, 8), nn.MaxPool2d(2),
            *block(8, 16), nn.MaxPool2d(2),
            *block(16, 32), *block(32, 32),
            nn.AdaptiveAvgPool2d(grid_size),
        )
        self.head = nn.Sequential(
            nn.Conv2d(32, 64, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(64, boxes_per_cell * (5 + num_classes), 1),
        )
        # END SOLUTION

    def forward(self, x):
        _check_images("TinyYOLO", x, self.in_channels)
        # BEGIN SOLUTION
        S, B, C = self.grid_size, self.boxes_per_cell, self.num_classes
        raw = self.head(self.backbone(x))                        # (N, B * (5 + C), S, S)
        raw = raw.permute(0, 2, 3, 1).reshape(x.shape[0], S, S, B, 5 + C)
        out = torch.cat([torch.sigmoid(raw[..., :5]), torch.softmax(raw[..., 5:], dim=-1)],
                        dim=-1)
        # END SOLUTION
        return out


class LocalizationNet(nn.Module):
    """Classification plus localization of one object per image.

    Input: x (N, in_channels, H, W), H, W >= 32.
    Returns: (class_logits (N, C), box (N, 4)): class_logits the raw class scores (no softmax:
    the cross entropy applies it), box = (cx, cy, w, h) relative to the image, each in (0, 1)
    through a sigmoid.
    """

    def __init__(self, num_classes, *, in_channels=3):
        super().__init__()
        self.num_classes = _check_int("LocalizationNet", "num_classes", num_classes)
        self.in_channels = _check_int("LocalizationNet", "in_channels", in_channels)
        # BEGIN SOLUTION
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(32 * 16, 128), nn.ReLU(),
        )
        self.classifier = nn.Linear(128, num_classes)
        self.box = nn.Linear(128, 4)
        # END SOLUTION

    def forward(self, x):
        _check_images("LocalizationNet", x, self.in_channels)
        # BEGIN SOLUTION
        h = self.features(x)
        class_logits, box = self.classifier(h), torch.sigmoid(self.box(h))
        # END SOLUTION
        return class_logits, box


# ---------------------------------------------------------------------------------------------
# Provided: training and inference
# ---------------------------------------------------------------------------------------------

class YoloLoss(torch.autograd.Function):
    """``detection.yolo_loss`` (NumPy) as a PyTorch function: forward is its loss, backward its
    dpred (scaled by the incoming gradient)."""

    @staticmethod
    def forward(ctx, pred, target, lambda_coord=5.0, lambda_noobj=0.5):
        p = pred.detach().cpu().double().numpy()
        p[..., 2:4] = np.maximum(p[..., 2:4], 1e-9)  # a float32 sigmoid can round to 0
        loss, dpred = detection.yolo_loss(p, target.detach().cpu().double().numpy(),
                                          lambda_coord=lambda_coord, lambda_noobj=lambda_noobj)
        ctx.save_for_backward(torch.as_tensor(dpred, dtype=pred.dtype, device=pred.device))
        return pred.new_tensor(loss)

    @staticmethod
    def backward(ctx, grad_output):
        (dpred,) = ctx.saved_tensors
        return grad_output * dpred, None, None, None


def yolo_targets(boxes, labels, *, size, grid_size, num_classes, boxes_per_cell):
    """The (N, S, S, B, 5 + C) targets of N images from their xyxy pixel boxes and labels."""
    targets = []
    for b, lab in zip(boxes, labels):
        rel = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                        b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1) / size
        target, _ = detection.yolo_encode(rel.reshape(-1, 4), lab, grid_size=grid_size,
                                          num_classes=num_classes,
                                          boxes_per_cell=boxes_per_cell)
        targets.append(target)
    return np.stack(targets)


def fit_yolo(model, images, targets, *, epochs=10, lr=3e-3, batch_size=32, seed=0,
             lambda_coord=5.0, lambda_noobj=0.5, augment=True):
    """Train ``model`` on images (N, C, H, W) and targets (N, S, S, B, 5 + C) with Adam and
    ``YoloLoss``; with ``augment`` each batch is flipped left-right at random (the targets
    with it). Returns the mean loss of each epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(images, dtype=dtype)
    T = torch.as_tensor(targets, dtype=dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * int(np.ceil(len(X) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    history = []
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = torch.as_tensor(order[start:start + batch_size])
            x, t = X[idx], T[idx]
            if augment and rng.uniform() < 0.5:
                x, t = x.flip(-1), _flip_targets(t)
            loss = YoloLoss.apply(model(x), t, lambda_coord, lambda_noobj)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(X))
    model.eval()
    return history


def _flip_targets(t):
    """Targets of left-right flipped images: columns reversed, x_offset -> 1 - x_offset."""
    t = t.flip(2).clone()
    obj = t[..., 4] == 1
    t[..., 0] = torch.where(obj, 1 - t[..., 0], t[..., 0])
    return t


def detect(model, images, *, conf_threshold=0.3, iou_threshold=0.5, batch_size=256):
    """Detections of ``model`` on images (N, C, H, W): a list of N (boxes xyxy in pixels, scores,
    labels), decoded with ``detection.yolo_decode`` and filtered by ``detection.batched_nms``."""
    size_y, size_x = images.shape[2], images.shape[3]
    dtype = next(model.parameters()).dtype
    model.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.as_tensor(images[start:start + batch_size], dtype=dtype)
            outputs.append(model(x).double().numpy())
    outputs = np.concatenate(outputs)
    results = []
    for pred in outputs:
        boxes, scores, labels = detection.yolo_decode(pred, conf_threshold=conf_threshold)
        boxes = detection.box_convert(boxes, src="cxcywh", dst="xyxy")
        boxes = boxes * np.array([size_x, size_y, size_x, size_y], dtype=np.float64)
        keep = detection.batched_nms(boxes, scores, labels, iou_threshold=iou_threshold)
        results.append((boxes[keep], scores[keep], labels[keep]))
    return results


def fit_localization(model, images, labels, boxes, *, epochs=10, lr=3e-3, batch_size=64,
                     box_weight=5.0, seed=0):
    """Train a LocalizationNet on images (N, C, H, W), labels (N,) and one box per image
    (N, 4, cxcywh relative): cross entropy plus ``box_weight`` times the mean squared error of
    the box. Returns the mean loss of each epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(images, dtype=dtype)
    y = torch.as_tensor(labels, dtype=torch.int64)
    b = torch.as_tensor(boxes, dtype=dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = torch.as_tensor(order[start:start + batch_size])
            logits, box = model(X[idx])
            loss = (nn.functional.cross_entropy(logits, y[idx])
                    + box_weight * ((box - b[idx]) ** 2).sum(1).mean())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(X))
    model.eval()
    return history
