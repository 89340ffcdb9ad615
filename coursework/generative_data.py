"""Data and pictures for unit 10, generative models (provided code: you do not edit it).

Nothing is downloaded: the digits are scikit-learn's bundled 8x8 images (``data.py``), the ring
of Gaussians is generated. Arrays are float32 NumPy arrays (``torch.from_numpy`` takes them).
"""

import numpy as np

from .data import load_digits_split

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.1


def load_digits_generative(*, scale="unit", seed=0):
    """The digits as (N, 64) float32 rows for generative models.

    ``scale="unit"``: pixels in [0, 1] (targets of the autoencoders' binary cross entropy);
    ``scale="tanh"``: pixels in [-1, 1] (the range of a generator ending in tanh). Returns a dict
    with X_train, y_train, X_val, y_val, X_test, y_test (the split of ``load_digits_split``).
    """
    if scale not in ("unit", "tanh"):
        raise ValueError(f"load_digits_generative: scale must be 'unit' or 'tanh', got {scale!r}")
    data = load_digits_split(seed=seed, flatten=True)
    out = {}
    for key, value in data.items():
        if key.startswith("X_"):
            value = value / 16.0
            if scale == "tanh":
                value = value * 2.0 - 1.0
            value = value.astype(np.float32)
        out[key] = value
    return out


def ring_centers(modes=RING_MODES, radius=RING_RADIUS):
    """The (modes, 2) centres of the ring mixture, evenly spaced on a circle."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def make_ring(n, *, seed=0, modes=RING_MODES, radius=RING_RADIUS, std=RING_STD):
    """``n`` points (n, 2) float32 from a mixture of ``modes`` Gaussians (standard deviation
    ``std``) on a circle of ``radius``, every mode equally likely; and their mode indices (n,).
    The standard toy problem for watching a GAN cover (or collapse onto) modes."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, modes, n)
    points = ring_centers(modes, radius)[labels] + std * rng.standard_normal((n, 2))
    return points.astype(np.float32), labels


def modes_covered(samples, *, modes=RING_MODES, radius=RING_RADIUS, std=RING_STD,
                  within=3.0, min_fraction=0.05):
    """(number of modes covered, fraction of samples near each mode (modes,)).

    A mode counts as covered when at least ``min_fraction`` of the samples lie within
    ``within`` standard deviations (``within * std``) of its centre.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"modes_covered: expected samples of shape (n, 2), got {samples.shape}")
    centers = ring_centers(modes, radius).astype(np.float64)
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=2)
    fractions = (distances <= within * std).mean(axis=0)
    return int((fractions >= min_fraction).sum()), fractions


def image_grid(images, *, rows=None, shape=(8, 8), pad=1, value_range=(0.0, 1.0)):
    """Tile images (n, H*W) or (n, H, W) into one (rows*(H+pad)-pad, cols*(W+pad)-pad) array in
    [0, 1], for ``plt.imshow``; ``value_range`` is the range of the input pixels (``(-1, 1)``
    for a tanh generator). Empty cells and padding are 0.5 (grey)."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, *shape)
    lo, hi = value_range
    images = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    n = len(images)
    rows = rows or int(np.ceil(np.sqrt(n)))
    cols = int(np.ceil(n / rows))
    h, w = shape
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), 0.5)
    for k, image in enumerate(images):
        r, c = divmod(k, cols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return grid


def show_grid(ax, images, *, title=None, **kwargs):
    """Draw ``image_grid(images, **kwargs)`` on the matplotlib axes ``ax`` (grey, no ticks)."""
    ax.imshow(image_grid(images, **kwargs), cmap="gray", vmin=0.0, vmax=1.0,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
