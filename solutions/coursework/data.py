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
