"""Unit 04: data augmentation: new training images from old ones, by label-preserving changes.

A horse is still a horse when the photo is mirrored, cropped a little differently, taken in other
light, or partly hidden. Training on such variants of the training images (drawn afresh every
epoch) enlarges the training set for free and teaches the network what does *not* matter, so it
overfits less. Each function takes a batch of images and returns a new, randomly changed batch:

- ``random_horizontal_flip``: mirror left-right;
- ``random_crop``: pad with zeros and cut a window at a random place (a random translation);
- ``color_jitter``: random brightness, contrast and saturation;
- ``cutout`` (DeVries and Taylor, 2017): blank out a random square;
- ``mixup`` (Zhang et al., 2018): blend pairs of images *and* their labels.

Images are float arrays (N, C, H, W); the input is never modified in place, and the randomness
comes only from ``rng`` (a ``numpy.random.Generator``): the same seed gives the same batch. How you
draw from ``rng`` is up to you; the grader checks the properties of the results (each output is a
flip, a window, ... of its input, and over many images the choices have the right distribution),
never a particular random stream.
"""

import numbers

import numpy as np

from .backend import xp_of

# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------


def _check_images(name, images):
    if getattr(images, "ndim", None) != 4:
        raise ValueError(f"{name}: images must be a 4-D array (N, C, H, W), got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    if images.dtype.kind != "f":
        raise TypeError(f"{name}: images must hold floating point numbers, got dtype "
                        f"{images.dtype}")


def _check_rng(name, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy.random.Generator "
                        f"(np.random.default_rng(seed)), got {type(rng).__name__}")


def _check_unit_interval(name, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name}: {what} must be a number in [0, 1], got {value!r}")


def _check_int(name, what, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: {what} must be an integer >= {low}, got {value!r}")


# ---------------------------------------------------------------------------------------------
# Augmentations
# ---------------------------------------------------------------------------------------------

def random_horizontal_flip(images, *, p=0.5, rng):
    """Flip each image left-right with probability p, independently of the others.

    A flipped image is ``image[:, :, ::-1]`` (the columns in reverse order, every channel).

    Inputs:
        images: (N, C, H, W).
        p: the probability of flipping an image, in [0, 1].
        rng: a ``numpy.random.Generator``.
    Returns:
        out: (N, C, H, W), a new array of the images' dtype: each image flipped or unchanged.
    """
    _check_images("random_horizontal_flip", images)
    _check_unit_interval("random_horizontal_flip", "p", p)
    _check_rng("random_horizontal_flip", rng)
    # BEGIN SOLUTION
    xp = xp_of(images)
    flip = xp.asarray(rng.random(images.shape[0]) < p)
    out = xp.where(flip[:, None, None, None], images[:, :, :, ::-1], images)
    # END SOLUTION
    return out


def random_crop(images, *, size, padding=0, rng):
    """Pad every image with ``padding`` zeros on each side, then cut one random size x size window.

    The window's top-left corner (i, j) in the padded image (of height H + 2 * padding and width
    W + 2 * padding) is drawn uniformly among all the positions where the window fits, i.e. i in
    0 .. H + 2 * padding - size and j in 0 .. W + 2 * padding - size (both ends included),
    independently per image; all channels of an image are cut at the same place.

    Inputs:
        images: (N, C, H, W).
        size: the side of the window, 1 <= size <= min(H, W) + 2 * padding.
        padding: zeros added on each side (>= 0).
        rng: a ``numpy.random.Generator``.
    Returns:
        out: (N, C, size, size), a new array of the images' dtype.
    """
    _check_images("random_crop", images)
    _check_int("random_crop", "size", size, 1)
    _check_int("random_crop", "padding", padding, 0)
    _check_rng("random_crop", rng)
    N, C, H, W = images.shape
    if size > min(H, W) + 2 * padding:
        raise ValueError(f"random_crop: a {size}x{size} window does not fit a {H}x{W} image "
                         f"padded by {padding}")
    # BEGIN SOLUTION
    xp = xp_of(images)
    padded = xp.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    tops = rng.integers(0, H + 2 * padding - size + 1, N)  # the high end is excluded: + 1
    lefts = rng.integers(0, W + 2 * padding - size + 1, N)
    out = xp.empty((N, C, size, size), dtype=images.dtype)
    for n in range(N):
        i, j = int(tops[n]), int(lefts[n])
        out[n] = padded[n, :, i:i + size, j:j + size]
    # END SOLUTION
    return out


def color_jitter(images, *, brightness=0.0, contrast=0.0, saturation=0.0, rng):
    """Change the brightness, contrast and saturation of each image by random factors.

    For each image three factors are drawn uniformly: b from [1 - brightness, 1 + brightness],
    c from [1 - contrast, 1 + contrast] and s from [1 - saturation, 1 + saturation]
    (independently for every image), and applied in this order, each to the result of the one
    before:
        brightness:  x <- b * x
        contrast:    x <- m + c * (x - m),   m the mean of the image over all its channels and
                                             pixels (one number per image)
        saturation:  x <- g + s * (x - g),   g[h, w] the mean over the channels at pixel (h, w)
                                             (the grey version of the image; no effect if C == 1)
    Values are not clipped. With all three at 0 the images come back unchanged (as a new array).

    Inputs:
        images: (N, C, H, W).
        brightness, contrast, saturation: how far each factor may stray from 1, each in [0, 1].
        rng: a ``numpy.random.Generator``.
    Returns:
        out: (N, C, H, W), a new array of the images' dtype.
    """
    _check_images("color_jitter", images)
    for what, value in (("brightness", brightness), ("contrast", contrast),
                        ("saturation", saturation)):
        _check_unit_interval("color_jitter", what, value)
    _check_rng("color_jitter", rng)
    # BEGIN SOLUTION
    xp = xp_of(images)
    N = images.shape[0]
    b, c, s = (xp.asarray(rng.uniform(1 - spread, 1 + spread, N)).reshape(N, 1, 1, 1)
               for spread in (brightness, contrast, saturation))  # one factor of each per image
    out = b * images
    m = out.mean(axis=(1, 2, 3), keepdims=True)
    out = m + c * (out - m)
    g = out.mean(axis=1, keepdims=True)
    out = g + s * (out - g)
    out = out.astype(images.dtype, copy=False)
    # END SOLUTION
    return out


def cutout(images, *, size, rng):
    """Set a random size x size square of each image to 0, in every channel.

    For each image a pixel (cy, cx) is drawn uniformly among all H * W pixels; rows cy - size // 2
    to cy - size // 2 + size - 1 and columns cx - size // 2 to cx - size // 2 + size - 1 are set
    to 0, clipped at the borders (a square centred near an edge is partly outside the image, and
    only its inside part is blanked).

    Inputs:
        images: (N, C, H, W).
        size: the side of the square (a positive integer; it may exceed the image).
        rng: a ``numpy.random.Generator``.
    Returns:
        out: (N, C, H, W), a new array of the images' dtype.
    """
    _check_images("cutout", images)
    _check_int("cutout", "size", size, 1)
    _check_rng("cutout", rng)
    # BEGIN SOLUTION
    xp = xp_of(images)
    N, C, H, W = images.shape
    top = xp.asarray(rng.integers(0, H, N) - size // 2).reshape(N, 1)
    left = xp.asarray(rng.integers(0, W, N) - size // 2).reshape(N, 1)
    rows = xp.arange(H).reshape(1, H)
    cols = xp.arange(W).reshape(1, W)
    in_rows = (rows >= top) & (rows < top + size)    # (N, H); clipping is automatic
    in_cols = (cols >= left) & (cols < left + size)  # (N, W)
    square = in_rows[:, :, None] & in_cols[:, None, :]
    out = xp.where(square[:, None], xp.zeros((), dtype=images.dtype), images)
    # END SOLUTION
    return out


def mixup(images, targets, *, alpha, rng):
    """Blend the batch with a shuffled copy of itself, images and targets alike.

    One lam is drawn from Beta(alpha, alpha) for the whole batch, and one random permutation
    ``perm`` of the N examples:
        mixed_images = lam * images + (1 - lam) * images[perm]
        mixed_targets = lam * targets + (1 - lam) * targets[perm]
    Small alpha (0.2) gives lam near 0 or 1 (mostly one image), alpha = 1 a uniform lam. The
    targets are one-hot rows or soft labels (each row a probability distribution); train on
    them with a loss that accepts soft targets.

    Inputs:
        images: (N, C, H, W).
        targets: (N, K) one-hot or soft targets, float.
        alpha: the parameter of the Beta distribution (> 0).
        rng: a ``numpy.random.Generator``.
    Returns:
        mixed_images: (N, C, H, W), a new array of the images' dtype.
        mixed_targets: (N, K), a new array.
    """
    _check_images("mixup", images)
    if getattr(targets, "ndim", None) != 2 or targets.shape[0] != images.shape[0]:
        raise ValueError(f"mixup: targets must be (N, K) with N = {images.shape[0]}, one-hot "
                         f"or soft rows, got {getattr(targets, 'shape', type(targets).__name__)}"
                         "; for integer labels y (N,) pass np.eye(K)[y]")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"mixup: alpha must be a positive number, got {alpha!r}")
    _check_rng("mixup", rng)
    # BEGIN SOLUTION
    xp = xp_of(images, targets)
    lam = float(rng.beta(alpha, alpha))
    perm = xp.asarray(rng.permutation(images.shape[0]))
    mixed_images = lam * images + (1 - lam) * images[perm]
    mixed_targets = lam * targets + (1 - lam) * targets[perm]
    # END SOLUTION
    return mixed_images, mixed_targets
