"""Datasets of the course (provided code: you do not edit it).

Nothing is downloaded. The digits come from scikit-learn's bundled copy (1,797 8x8 grey images of
handwritten digits); the 2-D problems are generated; CIFAR-10 is read from the standard python
pickles in a directory you name.
"""

import os
import pickle

import numpy as np

DIGITS_SPLIT = {"train": 1197, "val": 300, "test": 300}


def load_digits_split(*, seed=0, flatten=True):
    """The scikit-learn digits, shuffled with ``seed`` and split into train/val/test.

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test. Images are float64 in
    [0, 16]; with ``flatten`` they are (N, 64) rows, otherwise (N, 1, 8, 8) images. The split sizes
    are ``DIGITS_SPLIT`` (1197 / 300 / 300) and the same seed always gives the same split.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"load_digits_split: seed must be an integer >= 0, got {seed!r}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.astype(np.float64)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    X = X.reshape(len(y), -1) if flatten else X[:, None, :, :]
    n_train, n_val = DIGITS_SPLIT["train"], DIGITS_SPLIT["val"]
    parts = {
        "train": slice(0, n_train),
        "val": slice(n_train, n_train + n_val),
        "test": slice(n_train + n_val, None),
    }
    out = {}
    for name, part in parts.items():
        out[f"X_{name}"], out[f"y_{name}"] = X[part], y[part]
    return out


def preprocess(data, *, bias=True):
    """Subtract the mean training image from every split and (optionally) append a bias column.

    ``data`` is a dict like the one ``load_digits_split`` returns, with (N, D) rows. The mean is
    computed on the training split only (the validation and test sets must not leak into training).
    Returns a new dict (the input is not modified) with the same keys plus ``mean_image``.
    """
    if not isinstance(data, dict) or "X_train" not in data:
        raise TypeError(f"preprocess: data must be a dict of splits as load_digits_split returns "
                        f"(X_train, y_train, X_val, ...), got {type(data).__name__}")
    if bias:
        for key in [k for k in data if k.startswith("X_")]:
            X = data[key]
            if getattr(X, "ndim", None) != 2:
                raise ValueError(f"preprocess: {key} should be (N, D) rows to append a bias "
                                 f"column to, got {getattr(X, 'shape', type(X).__name__)}; "
                                 "load the data with flatten=True, or pass bias=False")
    out = dict(data)
    mean_image = data["X_train"].mean(axis=0)
    out["mean_image"] = mean_image
    for key in [k for k in data if k.startswith("X_")]:
        X = data[key] - mean_image
        if bias:
            X = np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
        out[key] = X
    return out


def add_bias_column(X):
    """Return X (N, D) with a last column of ones appended: (N, D + 1)."""
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"add_bias_column: X should be an array (N, D), one row per example, "
                         f"got {getattr(X, 'shape', type(X).__name__)}")
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def make_hard_case(kind, n=300, *, seed=0, noise=0.1):
    """A 2-D dataset that a linear classifier cannot solve.

    kind:
        "xor": class 1 in the first and third quadrants, class 0 in the second and fourth.
        "ring": class 1 where 1 <= ||x|| <= 2 (a ring), class 0 everywhere else (inside the
            ring and around it).
        "modes": class 1 in three separate blobs ("three modes"), class 0 everywhere else.
    Returns X (n, 2) float64 and y (n,) int64; ``noise`` blurs the class boundaries.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"make_hard_case: n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    if kind == "xor":
        X = rng.uniform(-1, 1, size=(n, 2))
        y = ((X[:, 0] > 0) == (X[:, 1] > 0)).astype(np.int64)
        X = X + noise * 0.2 * rng.standard_normal(X.shape)
    elif kind == "ring":
        radius = rng.uniform(0, 3, n)  # uniform in radius: a third of the points in the ring
        angle = rng.uniform(0, 2 * np.pi, n)
        X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        blurred = radius + noise * 0.5 * rng.standard_normal(n)
        y = ((blurred >= 1) & (blurred <= 2)).astype(np.int64)
    elif kind == "modes":
        centres = np.array([[-2.0, -1.5], [0.0, 2.0], [2.0, -1.5]])
        n_modes = n // 2
        which = rng.integers(0, 3, n_modes)
        blobs = centres[which] + (0.4 + noise) * rng.standard_normal((n_modes, 2))
        background = rng.uniform(-3.5, 3.5, size=(4 * (n - n_modes), 2))
        far = np.min(np.linalg.norm(background[:, None] - centres[None], axis=2), axis=1) > 1.2
        background = background[far][: n - n_modes]
        X = np.concatenate([blobs, background])
        y = np.concatenate([np.ones(n_modes), np.zeros(len(background))]).astype(np.int64)
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    else:
        raise ValueError(f"make_hard_case: unknown kind {kind!r}; choose 'xor', 'ring' or 'modes'")
    return X, y


def make_spiral(n_per_class=100, n_classes=3, *, seed=0, noise=0.2):
    """The classic interleaved spirals: X (n_per_class * n_classes, 2), y in [0, n_classes)."""
    for name, value in (("n_per_class", n_per_class), ("n_classes", n_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"make_spiral: {name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    for c in range(n_classes):
        idx = slice(n_per_class * c, n_per_class * (c + 1))
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(c * 4, (c + 1) * 4, n_per_class) + noise * rng.standard_normal(n_per_class)
        X[idx] = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        y[idx] = c
    return X, y


def make_moons(n=200, *, seed=0, noise=0.1):
    """Two interleaving half circles (scikit-learn's generator): X (n, 2), y (n,) in {0, 1}."""
    from sklearn.datasets import make_moons as sk_make_moons

    X, y = sk_make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)


CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)


def _load_cifar_batch(path):
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch[b"data"] if b"data" in batch else batch["data"]
    labels = batch[b"labels"] if b"labels" in batch else batch["labels"]
    X = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return X, np.asarray(labels, dtype=np.int64)


def load_cifar10(directory):
    """Read CIFAR-10 from the standard python pickles in ``directory``.

    ``directory`` must hold data_batch_1 ... data_batch_5 and test_batch, as unpacked from
    cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html); nothing is downloaded.
    Returns X_train (N, 3, 32, 32) uint8, y_train (N,), X_test, y_test.

    Only load pickles you trust: unpickling can run code.
    """
    directory = os.fspath(directory)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"load_cifar10: {directory!r} is not a directory. Download cifar-10-python.tar.gz "
            "from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and pass the folder "
            "cifar-10-batches-py"
        )
    missing = [n for n in names if not os.path.isfile(os.path.join(directory, n))]
    if missing:
        raise FileNotFoundError(
            f"load_cifar10: {directory!r} lacks {', '.join(missing)}; it must hold the unpacked "
            "cifar-10-batches-py files data_batch_1..5 and test_batch"
        )
    train = [_load_cifar_batch(os.path.join(directory, n)) for n in names[:5]]
    X_test, y_test = _load_cifar_batch(os.path.join(directory, "test_batch"))
    X_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([t for _, t in train])
    return X_train, y_train, X_test, y_test


# ---------------------------------------------------------------------------------------------
# Synthetic shapes (units 06-08): one generator for classification, segmentation and detection
# ---------------------------------------------------------------------------------------------

SHAPE_CLASSES = ("circle", "ring", "square", "frame", "triangle", "cross", "x", "bar")
SHAPE_TEXTURES = ("plain", "stripes", "checker", "dots")


def _shape_masks(kind, u, v):
    """Boolean masks (N, S, S) of one shape kind, from coordinates (N, S, S) that are centred
    on the shape, rotated and divided by its radius (the shape spans about [-1, 1])."""
    r2 = u * u + v * v
    au, av = np.abs(u), np.abs(v)
    if kind == "circle":
        return r2 <= 1.0
    if kind == "ring":
        return (r2 <= 1.0) & (r2 >= 0.5 ** 2)
    if kind == "square":
        return np.maximum(au, av) <= 0.8
    if kind == "frame":
        m = np.maximum(au, av)
        return (m <= 0.85) & (m >= 0.5)
    if kind == "triangle":
        inside = np.ones(u.shape, dtype=bool)
        for k in range(3):  # three half-planes; the incircle has radius 0.5
            a = np.pi / 2 + 2 * np.pi * k / 3
            inside &= u * np.cos(a) + v * np.sin(a) <= 0.5
        return inside
    if kind in ("cross", "x"):
        if kind == "x":
            u, v = (u + v) / np.sqrt(2), (v - u) / np.sqrt(2)
            au, av = np.abs(u), np.abs(v)
        return ((au <= 0.28) & (av <= 0.95)) | ((av <= 0.28) & (au <= 0.95))
    if kind == "bar":
        return (au <= 1.0) & (av <= 0.28)
    raise ValueError(f"unknown shape {kind!r}")


def make_shapes(n, *, seed=0, size=32, classes=SHAPE_CLASSES, textures=SHAPE_TEXTURES,
                noise=0.06, min_radius=None, max_radius=None):
    """Synthetic colour images of one shape each, for classification, segmentation and detection.

    Every image shows one shape of a class drawn uniformly from ``classes`` (names from
    ``SHAPE_CLASSES``: circle, ring, square, frame (a hollow square), triangle, cross, x, bar),
    of random colour, radius, position and small rotation (any rotation for the bar), filled with
    one of ``textures`` (plain, stripes, checker, dots), on a background of another random
    colour with a smooth gradient and Gaussian pixel noise of standard deviation ``noise``. The
    same ``seed`` always gives the same images.

    Returns a dict:
        images (n, 3, size, size) float32 in [0, 1];
        labels (n,) int64, the index of the shape's class in ``classes``;
        texture_labels (n,) int64, the index of its texture in ``textures``;
        masks (n, size, size) int64: 0 on the background, label + 1 on the shape's pixels
            (for segmentation);
        boxes (n, 4) float32: the tight box of the shape's pixels as (x_min, y_min, x_max,
            y_max) in pixels, max exclusive (for detection);
        class_names, texture_names: the tuples of names.
    """
    classes, textures = tuple(classes), tuple(textures)
    unknown = [c for c in classes if c not in SHAPE_CLASSES]
    unknown += [t for t in textures if t not in SHAPE_TEXTURES]
    if unknown or not classes or not textures:
        raise ValueError(f"make_shapes: unknown or no classes/textures {unknown!r}; choose from "
                         f"{SHAPE_CLASSES} and {SHAPE_TEXTURES}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_shapes: n must be a positive integer, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"make_shapes: size must be an integer >= 8, got {size!r}")
    rng = np.random.default_rng(seed)
    lo = min_radius if min_radius is not None else 0.17 * size
    hi = max_radius if max_radius is not None else 0.38 * size
    labels = rng.integers(0, len(classes), n)
    texture_labels = rng.integers(0, len(textures), n)
    radius = rng.uniform(lo, hi, n)
    cx = rng.uniform(radius * 0.8, size - radius * 0.8)
    cy = rng.uniform(radius * 0.8, size - radius * 0.8)
    angle = rng.uniform(-0.26, 0.26, n)  # about +-15 degrees
    is_bar = np.array([classes[k] == "bar" for k in labels])
    angle[is_bar] = rng.uniform(0, np.pi, is_bar.sum())
    ys, xs = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u = (cos * dx + sin * dy) / radius[:, None, None]
    v = (-sin * dx + cos * dy) / radius[:, None, None]
    inside = np.zeros((n, size, size), dtype=bool)
    for k, kind in enumerate(classes):
        pick = labels == k
        if pick.any():
            inside[pick] = _shape_masks(kind, u[pick], v[pick])

    # Texture: a pattern in [0, 1] that darkens the shape's colour where it is 1.
    period = rng.uniform(3.0, 5.0, n)[:, None, None]
    phi = rng.uniform(0, np.pi, n)[:, None, None]
    along = (np.cos(phi) * xs + np.sin(phi) * ys) / period
    stripes = (np.sin(2 * np.pi * along) > 0).astype(float)
    checker = ((np.floor(xs / period) + np.floor(ys / period)) % 2).astype(float)
    dots = ((np.sin(2 * np.pi * xs / period) * np.sin(2 * np.pi * ys / period)) > 0.5)
    patterns = {"plain": np.zeros_like(stripes), "stripes": stripes, "checker": checker,
                "dots": dots.astype(float)}
    pattern = np.zeros((n, size, size))
    for k, name in enumerate(textures):
        pick = texture_labels == k
        pattern[pick] = patterns[name][pick]

    fg = rng.uniform(0.0, 1.0, (n, 3))
    bg = rng.uniform(0.0, 1.0, (n, 3))
    close = np.linalg.norm(fg - bg, axis=1) < 0.5
    bg[close] = 1.0 - fg[close]  # keep the shape visible against its background
    gradient = rng.uniform(-0.15, 0.15, (n, 2))
    shade = (gradient[:, 0, None, None] * (xs / size - 0.5)
             + gradient[:, 1, None, None] * (ys / size - 0.5))
    background = bg[:, :, None, None] + shade[:, None]
    shape = fg[:, :, None, None] * (1.0 - 0.45 * pattern[:, None]) + 0.2 * pattern[:, None] * (
        fg[:, :, None, None] < 0.3)
    images = np.where(inside[:, None], shape, background)
    images = images + noise * rng.standard_normal(images.shape)
    images = np.clip(images, 0.0, 1.0).astype(np.float32)

    masks = np.where(inside, labels[:, None, None] + 1, 0).astype(np.int64)
    rows, cols = inside.any(axis=2), inside.any(axis=1)
    boxes = np.zeros((n, 4), dtype=np.float32)
    for i in range(n):  # a shape always covers some pixels at these radii
        r, c = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if len(r):
            boxes[i] = (c[0], r[0], c[-1] + 1, r[-1] + 1)
    return {"images": images, "labels": labels.astype(np.int64),
            "texture_labels": texture_labels.astype(np.int64), "masks": masks, "boxes": boxes,
            "class_names": classes, "texture_names": textures}


def standardize_images(images, eps=1e-3):
    """Per image and channel: subtract the mean over the pixels and divide by their standard
    deviation (plus ``eps``). images (N, C, H, W) -> same shape and dtype. The background colour
    of ``make_shapes`` images then no longer matters, only the contrast of the shape."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"standardize_images: images must be (N, C, H, W), got shape "
                         f"{images.shape}")
    mean = images.mean(axis=(2, 3), keepdims=True)
    std = images.std(axis=(2, 3), keepdims=True)
    return ((images - mean) / (std + eps)).astype(images.dtype)


# ---------------------------------------------------------------------------------------------
# Segmentation scenes (unit 07): several shapes per image, one rare small class
# ---------------------------------------------------------------------------------------------

SCENE_PALETTE = np.array([[0.0, 0.0, 0.0], [0.90, 0.10, 0.10], [0.10, 0.65, 0.15],
                          [0.15, 0.35, 0.95], [1.00, 0.75, 0.00], [0.70, 0.20, 0.85],
                          [0.00, 0.80, 0.80], [1.00, 0.45, 0.70], [0.55, 0.35, 0.15]])


def make_shape_scenes(n, *, seed=0, size=32, classes=("circle", "square", "triangle"),
                      rare="cross", rare_probability=0.5, objects=2, textures=("plain",),
                      noise=0.04):
    """Segmentation scenes from ``make_shapes``: up to ``objects`` large shapes of ``classes``
    per image, and, in a fraction ``rare_probability`` of the images, one small shape of the
    ``rare`` class drawn on top (class imbalance: few, small objects).

    Each scene starts from one ``make_shapes`` image (its background and first shape); every
    further shape (present with probability 0.6 for the large ones) is pasted over it, the
    later ones hiding the earlier ones. The same ``seed`` always gives the same scenes.

    Returns a dict:
        images (n, 3, size, size) float32 in [0, 1];
        masks (n, size, size) int64: 0 background, k + 1 for the k-th class of
            ``class_names``;
        class_names: ("background", *classes, rare).
    """
    if rare in classes:
        raise ValueError(f"make_shape_scenes: the rare class {rare!r} is also in {classes!r}")
    if isinstance(objects, bool) or not isinstance(objects, int) or objects < 1:
        raise ValueError(f"make_shape_scenes: objects must be a positive integer, got "
                         f"{objects!r}")
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2 ** 31, objects + 1)
    images = masks = None
    for k in range(objects):
        part = make_shapes(n, seed=int(seeds[k]), size=size, classes=classes, textures=textures,
                           noise=noise, min_radius=0.16 * size, max_radius=0.3 * size)
        present = np.ones(n, bool) if k == 0 else rng.random(n) < 0.6
        if images is None:
            images, masks = part["images"].copy(), part["masks"].copy()
            continue
        paste = (part["masks"] > 0) & present[:, None, None]
        images = np.where(paste[:, None], part["images"], images)
        masks = np.where(paste, part["masks"], masks)
    small = make_shapes(n, seed=int(seeds[-1]), size=size, classes=(rare,), textures=textures,
                        noise=noise, min_radius=0.12 * size, max_radius=0.18 * size)
    paste = (small["masks"] > 0) & (rng.random(n) < rare_probability)[:, None, None]
    images = np.where(paste[:, None], small["images"], images).astype(np.float32)
    masks = np.where(paste, len(classes) + 1, masks).astype(np.int64)
    return {"images": images, "masks": masks,
            "class_names": ("background",) + tuple(classes) + (rare,)}


def overlay(images, masks, *, alpha=0.5, palette=None):
    """Images with their label maps drawn over them in colour (background left as it is).

    images (N, 3, H, W) in [0, 1], masks (N, H, W) integer classes -> (N, H, W, 3) float in
    [0, 1] for ``plt.imshow``; class k gets ``palette[k]`` (``SCENE_PALETTE`` by default),
    blended with weight ``alpha``.
    """
    palette = SCENE_PALETTE if palette is None else np.asarray(palette, dtype=float)
    images = np.asarray(images, dtype=float).transpose(0, 2, 3, 1)
    masks = np.asarray(masks)
    if masks.max() >= len(palette):
        raise ValueError(f"overlay: a mask holds class {int(masks.max())} but the palette has "
                         f"{len(palette)} colours")
    colours = palette[masks]
    blend = np.where((masks > 0)[..., None], (1 - alpha) * images + alpha * colours, images)
    return np.clip(blend, 0.0, 1.0)
