"""Tests of unit 04, ``coursework/augmentation.py``, graded by properties.

An augmentation is random, and there are many correct ways to draw from ``rng``; so no output is
compared with a particular random stream. Instead, from the student's own outputs the judge
recovers what was done to each image (flipped or not; which window; which factors; which square;
which lam and partner) and checks that it is a transformation the docstring allows, and that over
many images the random choices have the promised distribution (within 6 standard deviations of
the sampling error, so a correct implementation fails with a probability below one in a million):
every crop position and cutout centre occurs, the flipped fraction is p, the jitter factors fill
their ranges uniformly, mixup's lam follows Beta(alpha, alpha) and its pairing changes from batch
to batch. Every test also checks that the same seed gives the same result, another seed another,
and that the input is not modified; every output must be a new array, not an input or a view of
one (an ndarray subclass included), as the worker reports for every call; flips with p = 0 and
p = 1 and a jitter with all factors 0 are also changed after the call to see. A hint names a
known mistake only when the outputs fit that mistake and no other (a last column that never
occurs may be an off-by-one or a square-image assumption: the other axis and the cases with
H != W tell them apart). An output right to float32's 7 digits only (float64 images worked on in
float32 and cast back) is said to be (``ROUNDED``), and a wrong dtype names the function and the
case. The hints are decided here from the outputs; the names below are the descriptions of the
registered known mistakes too. A call that raises gets the hint of a known mistake that raises
the same error on the same inputs (``call``, through ``seeded_call``): a per-image value of shape
(N,) broadcast against the (N, C, H, W) images, np.pad given one number.
"""

import math

import numpy as np

from ..compare import Failed, as_array, describe
from ..spec import Case, Spec
from ..wire import Handle, Seed

SPEC = Spec("augmentation")

FLIP_ROWS = ("a left-right flip reverses the columns (the last axis, images[:, :, :, ::-1]), not "
             "the rows")
FLIP_BATCH = "decide for each image separately: draw one random number per image"
FLIP_P = "p is the probability of flipping an image: flip when rng.random(N) < p"
CROP_OFF_BY_ONE = ("every window position must occur: the top-left corner ranges over 0 .. H + 2 * "
                   "padding - size with both ends included, and rng.integers(low, high) excludes "
                   "high")
CROP_NO_PAD = "pad the images with zeros first (np.pad), then cut the window from the padded image"
CROP_SQUARE = ("the left column ranges over 0 .. W + 2 * padding - size and the top row over 0 .. "
               "H + 2 * padding - size: use the width W for the columns (the images need not be "
               "square)")
JITTER_CHANNEL_MEAN = ("contrast uses the mean of the whole image, over all its channels and "
                       "pixels (one number per image), not one mean per channel")
JITTER_ADDITIVE = "brightness multiplies the image by its factor: x <- b * x"
JITTER_BATCH_MEAN = ("contrast uses the mean m of each image on its own (out.mean(axis=(1, 2, 3), "
                     "keepdims=True), one number per image), not the mean of the whole batch "
                     "(out.mean())")
JITTER_BATCH = "draw new factors for every image, not one set for the whole batch"
JITTER_RANGE = ("each factor is drawn uniformly from [1 - v, 1 + v] (rng.uniform(1 - v, 1 + v)), "
                "with v the brightness, contrast or saturation argument")
CUTOUT_OFF_BY_ONE = ("the centre is drawn among all H * W pixels: rng.integers(0, H) includes the "
                     "last row (the high end is excluded)")
CUTOUT_INSIDE = ("the centre may be any pixel: a square centred near a border is clipped there, "
                 "not moved inside the image")
CUTOUT_CORNER = ("the square is centred on the drawn pixel: rows cy - size // 2 to cy - size // 2 "
                 "+ size - 1, not cy to cy + size - 1")
CUTOUT_CHANNELS = "set the square to 0 in every channel of the image"
CUTOUT_NEGATIVE = ("clip the square's first row and column at 0 (max(cy - size // 2, 0)): a "
                   "negative start of a slice counts from the end of the axis")
CUTOUT_SQUARE = ("draw the centre row among the H rows and the centre column among the W columns "
                 "(rng.integers(0, W) for cx): the images need not be square")
JITTER_MEAN_FIRST = ("contrast uses the mean m of the image after the brightness change (x <- b * "
                     "x, then m = x.mean()), not the mean of the input")
JITTER_CLIPPED = ("the values are not clipped: leave them outside [0, 1] if the factors put them "
                  "there")
MIXUP_PER_EXAMPLE = "draw one lam for the whole batch, not one per example"
MIXUP_TARGETS = "mix the targets with the same lam and the same permutation as the images"
MIXUP_PERMUTATION = ("pair the examples by a random permutation (rng.permutation(N)): every "
                     "example is the partner of exactly one other")
MIXUP_BETA = "draw lam from Beta(alpha, alpha): lam = rng.beta(alpha, alpha)"
MIXUP_FIXED = ("draw the permutation from rng for every batch (perm = rng.permutation(N)), not a "
               "fixed pairing such as the reversed batch")
MIXUP_FOLDED = ("use lam = rng.beta(alpha, alpha) as drawn: do not fold it to max(lam, 1 - lam) "
                "(or min), so that an image's own weight is sometimes the smaller one")
JITTER_GREY_FIRST = ("blend with the grey version of the image being adjusted: take "
                     "g = out.mean(axis=1) after the brightness and contrast changes, not the "
                     "grey of the input images")
JITTER_GREY_BETWEEN = ("blend with the grey version of the image being adjusted: take "
                       "g = out.mean(axis=1) after the contrast change too, not the grey of the "
                       "brightened image")
JITTER_WEIGHTED_GREY = ("the grey version g is the plain mean over the channels at each pixel "
                        "(out.mean(axis=1)), not a luminance with weights such as 0.299, 0.587, "
                        "0.114")
# luminance weights a student may take for the grey: ITU-R BT.601 and BT.709
LUMINANCE_WEIGHTS = ((0.299, 0.587, 0.114), (0.2126, 0.7152, 0.0722))
CROP_SHARED = ("draw a top row and a left column for every image (rng.integers(0, H + 2 * "
               "padding - size + 1, N)), not one window position for the whole batch")
NOT_NEW = ("return a new array even when nothing changes (images.copy()): the caller may change "
           "images later, and that must not change the result")
GLOBAL_RNG = ("draw every random number from the rng argument, not from np.random's global "
              "generator: the same seed must give the same result")
ROUNDED = ("the output is right to about 7 digits only, as if it went through float32 (a float32 "
           "copy of the images, an array made with dtype=np.float32, then cast back): compute in "
           "the images' own dtype (float64 here) from start to end")
CUTOUT_EVEN = ("the square starts size // 2 rows above and columns left of the drawn pixel: rows "
               "cy - size // 2 to cy - size // 2 + size - 1; (size - 1) // 2 is the same for an "
               "odd size but one less for an even one")


# ---------------------------------------------------------------- helpers

def distinct_images(seed, shape, low=0.5, high=1.5):
    """Images of continuous random values in [low, high): no two pixels are equal, none is 0."""
    return low + (high - low) * np.random.default_rng(seed).random(shape)


def seeded_call(cw, target, args, kwargs, seed):
    """``target`` of ``cw`` (the reference, or a known mistake) called as ``call`` calls the
    student's: rng a generator seeded with ``seed``."""
    module, _, name = target.partition(".")
    return getattr(getattr(cw, module), name)(*args, rng=np.random.default_rng(seed), **kwargs)


def call(t, target, args, kwargs, seed, label, argnames=("images",)):
    # a call that raises gets the hint of a known mistake raising the same error on these
    # inputs (a per-image value of shape (N,) broadcast against (N, C, H, W): a shape error)
    with t.explaining_errors(target, seeded_call, target, list(args), kwargs, seed):
        got, modified = t.student.call_full(target, *args, rng=Seed(seed), **kwargs)
    t.no_input_modified(target, modified, argnames, label)
    try:  # every output is "a new array": not an input, nor a view of one (subclasses included)
        t.returns_new(target, modified, argnames, label)
    except Failed as failure:
        raise Failed(failure.message, NOT_NEW, kind=failure.kind, error=failure.error) from None
    return got


def out_array(target, got, expected_shape, dtype, label):
    name = target.split(".")[1]
    if not isinstance(got, np.ndarray):
        raise Failed(f"{name}({label}): should return an array of shape {expected_shape}, got "
                     f"{describe(got)}")
    try:
        out = as_array("the output", got, np.zeros(expected_shape, dtype=dtype))
    except Failed as failure:  # name the function and the case, as every other verdict does
        raise Failed(f"{name}({label}): {failure.message}", failure.hint, kind=failure.kind,
                     error=failure.error) from None
    if not np.all(np.isfinite(out)):
        raise Failed(f"{name}({label}): the output contains NaN or inf")
    return out


KEEP_DTYPE = ("keep the images' dtype, as the docstring says: make new arrays with "
              "dtype=images.dtype and factors as Python floats (or cast them with "
              ".astype(images.dtype)); a float64 array of factors turns float32 images into "
              "float64, twice the memory of every batch")


def rounded(out, *candidates):
    """ROUNDED when ``out`` differs from one of ``candidates`` (what it should equal) by float32
    rounding only (about 6e-8 relative), else None."""
    out = np.asarray(out, dtype=np.float64)
    for candidate in candidates:
        candidate = np.asarray(candidate, dtype=np.float64)
        if out.shape == candidate.shape and not np.array_equal(out, candidate) and \
                np.allclose(out, candidate, rtol=1e-6, atol=0):
            return ROUNDED
    return None


def check_keeps_dtype(t, target, kwargs, *, targets=False):
    """float32 images come back float32 (the docstrings' "a new array of the images' dtype")."""
    name = target.split(".")[1]
    images = distinct_images(5, (3, 2, 6, 5)).astype(np.float32)
    label = "float32 images (3, 2, 6, 5)"
    t.case(label)
    args = (images, np.eye(3)[[0, 2, 1]]) if targets else (images,)
    got = call(t, target, args, kwargs, 4, label,
               argnames=("images", "targets") if targets else ("images",))
    out = got[0] if targets and isinstance(got, (tuple, list)) and got else got
    if isinstance(out, np.ndarray) and out.dtype != images.dtype:
        what = "mixed_images" if targets else "the output"
        raise Failed(f"{name}({label}): {what} has dtype {out.dtype}, expected float32 (the "
                     "images' dtype)", KEEP_DTYPE, kind="dtype")


def check_seeds(t, target, args, kwargs, first, label, compare_other=True):
    """The same seed gives the same output; another seed another."""
    name = target.split(".")[1]
    again = call(t, target, args, kwargs, 1, label)
    if not _equal(again, first):
        raise Failed(f"{name}({label}): two calls with the same rng seed gave different results",
                     hint=GLOBAL_RNG)
    if compare_other:
        other = call(t, target, args, kwargs, 2, label)
        if _equal(other, first):
            raise Failed(f"{name}({label}): two calls with different rng seeds gave the same "
                         "result", hint="draw the random choices from the rng argument")


def _equal(a, b):
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and \
        np.array_equal(a, b)


def check_new_array(t, target, images, kwargs, label):
    """The output is a new array, not the input or a view of it. The input and the output are
    kept in the worker (the input being the student's own output of an earlier call); the input
    is then changed there, and the output must not change with it."""
    name = target.split(".")[1]
    t.case(label)
    kept = t.student.call(target, images, rng=Seed(1), opaque=[0], **kwargs)
    if isinstance(kept, Handle):
        # a writable copy of it: a read-only result (np.broadcast_to, setflags) is a new array
        # all the same, and filling it would raise in the grader's call, not the student's
        kept = t.student.method(kept, "copy", opaque=[0])
    out = t.student.call(target, kept, rng=Seed(1), opaque=[0], **kwargs)
    if not (isinstance(kept, Handle) and isinstance(out, Handle)):
        return  # not arrays: the checks before have failed such a result already
    before = t.student.method(out, "copy")
    t.student.method(kept, "fill", 0.0)
    if not _equal(t.student.method(out, "copy"), before):
        raise Failed(f"{name}({label}): the output is the input array itself (or a view of it): "
                     "changing images after the call changed the output", NOT_NEW)


def check_fraction(name, label, what, hits, n, p, hint=None):
    sigma = math.sqrt(p * (1 - p) / n)
    fraction = hits / n
    if abs(fraction - p) > 6 * sigma + 1e-12:
        raise Failed(f"{name}({label}): {what} {fraction:.3f} of {n}; expected about {p:g} "
                     f"(within {6 * sigma:.3f})", hint)


def check_uniform_counts(name, label, what, counts, hint_empty=None):
    """Counts of a uniform choice among len(counts) values: none empty, none far off."""
    n, k = int(counts.sum()), len(counts)
    expected = n / k
    sigma = math.sqrt(n * (1 / k) * (1 - 1 / k))
    empty = [i for i, c in enumerate(counts) if c == 0]
    if empty:
        # "top row 3 never occurred", "centre rows 0 and 5 never occurred" (not "row [0, 5]",
        # which reads as one pixel's coordinates)
        listed = (f"{what} {empty[0]}" if len(empty) == 1 else
                  f"{what}s {', '.join(map(str, empty[:-1]))} and {empty[-1]}")
        raise Failed(f"{name}({label}): {listed} never occurred in {n} draws (each should "
                     f"occur about {expected:.0f} times)", hint_empty)
    worst = int(np.argmax(np.abs(counts - expected)))
    if abs(counts[worst] - expected) > 6 * sigma:
        raise Failed(f"{name}({label}): {what} {worst} occurred {int(counts[worst])} times in {n} "
                     f"draws; a uniform choice gives about {expected:.0f} (within "
                     f"{6 * sigma:.0f})", hint_empty)


# ---------------------------------------------------------------- flip

def flip_cases(t):
    cases = [
        Case("images (600, 2, 3, 4), p=0.3", (distinct_images(1, (600, 2, 3, 4)),), {"p": 0.3}),
        Case("images (400, 1, 5, 2), p=0.5", (distinct_images(2, (400, 1, 5, 2)),), {"p": 0.5}),
    ]
    return cases + t.hidden("augmentation", "flip_cases", distinct_images)


@SPEC.test("random_horizontal_flip", points=1)
def random_horizontal_flip(t):
    """Each image unchanged or mirrored left-right; a fraction p mirrored, image by image."""
    target = "augmentation.random_horizontal_flip"
    name = "random_horizontal_flip"
    for case in flip_cases(t):
        (images,), p = case.args, case.kwargs["p"]
        out = out_array(target, call(t, target, case.args, case.kwargs, 1, case.label),
                        images.shape, images.dtype, case.label)
        mirrored = images[:, :, :, ::-1]
        same = np.all(out == images, axis=(1, 2, 3))
        flipped = np.all(out == mirrored, axis=(1, 2, 3))
        bad = np.flatnonzero(~same & ~flipped)
        if bad.size:
            n = int(bad[0])
            hint = FLIP_ROWS if np.array_equal(out[n], images[n, :, ::-1]) else \
                rounded(out[n], images[n], mirrored[n])
            raise Failed(f"{name}({case.label}): image {n} is neither the input image nor its "
                         "left-right mirror", hint)
        if flipped.all() or same.all():
            raise Failed(f"{name}({case.label}): all {len(out)} images were treated alike "
                         f"({'all' if flipped.all() else 'none'} flipped) with p={p}", FLIP_BATCH)
        hint = FLIP_P if abs(flipped.mean() - (1 - p)) < 0.05 and abs(p - 0.5) > 0.1 else None
        check_fraction(name, case.label, "flipped a fraction", int(flipped.sum()), len(out), p,
                       hint)
        check_seeds(t, target, case.args, case.kwargs, out, case.label)
    images = distinct_images(3, (5, 3, 2, 3))
    for p, expected in ((0.0, images), (1.0, images[:, :, :, ::-1])):
        label = f"images (5, 3, 2, 3), p={p:g}"
        t.case(label)
        out = out_array(target, call(t, target, (images,), {"p": p}, 1, label), images.shape,
                        images.dtype, label)
        if not np.array_equal(out, expected):
            raise Failed(f"{name}({label}): with p={p:g} {'no' if p == 0 else 'every'} image "
                         "should be flipped")
        check_new_array(t, target, images, {"p": p}, label)
    check_keeps_dtype(t, target, {"p": 0.5})


# ---------------------------------------------------------------- crop

def crop_cases(t):
    cases = [
        Case("images (800, 2, 5, 7), size=4, padding=1", (distinct_images(11, (800, 2, 5, 7)),),
             {"size": 4, "padding": 1}),
        Case("images (500, 1, 4, 6), size=3, padding=0", (distinct_images(12, (500, 1, 4, 6)),),
             {"size": 3, "padding": 0}),
        Case("images (300, 3, 3, 3), size=5, padding=1 (one position: the padded image)",
             (distinct_images(13, (300, 3, 3, 3)),), {"size": 5, "padding": 1}),
    ]
    return cases + t.hidden("augmentation", "crop_cases", distinct_images)


def _never(counts):
    return [i for i, c in enumerate(counts) if c == 0]


def crop_hint(row_counts, col_counts, padding):
    """The known mistake whose pattern the positions that never occurred fit, on both axes
    together, when exactly one fits (one axis alone is ambiguous: a last column that never
    occurs is an off-by-one or, one column wider than high, the height used for the width)."""
    R, C = len(row_counts), len(col_counts)
    rows, cols = _never(row_counts), _never(col_counts)
    axes = [(never, length) for never, length in ((rows, R), (cols, C)) if length > 1]
    fits = []
    if padding and all(never[:1] == [0] for never, _ in axes):
        fits.append(CROP_NO_PAD)
    if len(axes) == 2 and all(never == [length - 1] for never, length in axes):
        fits.append(CROP_OFF_BY_ONE)
    if (not rows and cols == list(range(R, C)) and C - R >= 2) or \
            (not cols and rows == list(range(C, R)) and R - C >= 2):
        fits.append(CROP_SQUARE)
    return fits[0] if len(fits) == 1 else None


@SPEC.test("random_crop", points=2)
def random_crop(t):
    """Every output a size x size window of its zero-padded image; every position occurs,
    uniformly, rows and columns independently."""
    target = "augmentation.random_crop"
    name = "random_crop"
    for case in crop_cases(t):
        (images,), size, pad = case.args, case.kwargs["size"], case.kwargs["padding"]
        N, C, H, W = images.shape
        out = out_array(target, call(t, target, case.args, case.kwargs, 1, case.label),
                        (N, C, size, size), images.dtype, case.label)
        padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(2, 3))
        # windows: (N, C, rows, cols, size, size) -> where does each output sit?
        match = np.all(windows == out[:, :, None, None], axis=(1, 4, 5))  # (N, rows, cols)
        found = match.reshape(N, -1).any(axis=1)
        if not found.all():
            n = int(np.flatnonzero(~found)[0])
            hint = None
            if pad and size <= min(H, W):
                plain = np.lib.stride_tricks.sliding_window_view(images[n], (size, size),
                                                                 axis=(1, 2))
                if np.all(plain == out[n][:, None, None], axis=(0, 3, 4)).any():
                    hint = CROP_NO_PAD
            if hint is None and np.all(np.isclose(windows[n], out[n][:, None, None], rtol=1e-6,
                                                  atol=0), axis=(0, 3, 4)).any():
                hint = ROUNDED
            raise Failed(f"{name}({case.label}): output {n} is not a {size}x{size} window of "
                         f"image {n} padded with {pad} zeros on each side (all channels cut at "
                         "the same place)", hint)
        positions = match.reshape(N, -1).argmax(axis=1)
        rows, cols = match.shape[1:]
        if rows * cols == 1:
            continue
        if N > 1 and np.all(positions == positions[0]):
            raise Failed(f"{name}({case.label}): all {N} images were cut at the same position "
                         f"(top row {int(positions[0] // cols)}, left column "
                         f"{int(positions[0] % cols)} of the padded image): each image needs "
                         "its own random offsets", CROP_SHARED)
        row_counts = np.bincount(positions // cols, minlength=rows)
        col_counts = np.bincount(positions % cols, minlength=cols)
        hint = crop_hint(row_counts, col_counts, pad)
        for what, counts in (("the window's top row", row_counts),
                             ("the window's left column", col_counts)):
            if len(counts) > 1:
                check_uniform_counts(name, case.label, what, counts, hint)
        check_uniform_counts(name, case.label, "the window's (row, column) position number",
                             np.bincount(positions, minlength=rows * cols))
        check_seeds(t, target, case.args, case.kwargs, out, case.label)
    check_keeps_dtype(t, target, {"size": 4, "padding": 1})


# ---------------------------------------------------------------- color jitter

def jitter_cases(t):
    cases = [
        Case("brightness=0.4 alone, images (600, 3, 3, 4)", (distinct_images(21, (600, 3, 3, 4),
                                                                             0.2, 0.8),),
             {"brightness": 0.4}),
        Case("contrast=0.5 alone", (distinct_images(22, (600, 3, 3, 4), 0.2, 0.8),),
             {"contrast": 0.5}),
        Case("saturation=0.6 alone", (distinct_images(23, (600, 3, 2, 3), 0.2, 0.8),),
             {"saturation": 0.6}),
        Case("brightness=0.3, contrast=0.3, saturation=0.3", (distinct_images(24, (600, 3, 3, 3),
                                                                              0.2, 0.8),),
             {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3}),
        Case("all three, C=1 (saturation has no effect)", (distinct_images(25, (600, 1, 4, 4),
                                                                           0.2, 0.8),),
             {"brightness": 0.2, "contrast": 0.4, "saturation": 0.5}),
    ]
    return cases + t.hidden("augmentation", "jitter_cases", distinct_images)


def jitter_factors(images, out):
    """(b, c, s, relative residual) per image, from out = b * (m + c * (g - m) + s * c * (x - g))
    with m the image mean and g the per-pixel channel mean of the input x."""
    N, C = images.shape[:2]
    m = images.mean(axis=(1, 2, 3), keepdims=True)
    g = images.mean(axis=1, keepdims=True)
    basis = [np.broadcast_to(m, images.shape), np.broadcast_to(g - m, images.shape)]
    if C > 1:
        basis.append(images - g)
    A = np.stack([b.reshape(N, -1) for b in basis], axis=2)  # (N, pixels, k)
    y = out.reshape(N, -1)
    coef = np.stack([np.linalg.lstsq(A[n], y[n], rcond=None)[0] for n in range(N)])
    residual = np.linalg.norm(np.einsum("npk,nk->np", A, coef) - y, axis=1) / \
        np.linalg.norm(y, axis=1)
    b = coef[:, 0]
    c = coef[:, 1] / b
    s = coef[:, 2] / coef[:, 1] if C > 1 else np.ones(N)
    return b, c, s, residual


def _explained(images, out, model):
    return np.allclose(model(images), out, rtol=1e-9, atol=1e-12)


def jitter_hint(images, out, n):
    """A known mistake that explains image n, if any."""
    x, o = images[n], out[n]
    mc = x.mean(axis=(1, 2), keepdims=True)
    # contrast around each channel's own mean (with any factor): o = mc + c (x - mc)
    d = x - mc
    c = float(((o - mc) * d).sum() / (d * d).sum())
    if np.allclose(mc + c * d, o, rtol=1e-9, atol=1e-12):
        return JITTER_CHANNEL_MEAN
    delta = o - x
    if np.allclose(delta, delta.flat[0], rtol=1e-9, atol=1e-12):
        return JITTER_ADDITIVE
    if (o.max() == 1.0 or o.min() == 0.0) and np.all((o >= 0) & (o <= 1)):
        return JITTER_CLIPPED
    if _contrast_around_one_mean(images, out):
        return JITTER_BATCH_MEAN
    if x.shape[0] == len(LUMINANCE_WEIGHTS[0]) and any(
            _weighted_grey_fits(x, o, w) for w in LUMINANCE_WEIGHTS):
        return JITTER_WEIGHTED_GREY
    return None


def _weighted_grey_fits(x, o, weights):
    """True when image o is the three steps applied to image x (C, H, W) with the grey taken
    as the weighted sum of the channels: each step is affine and the weights sum to 1, so
    o = A * grey(x) + B * x + beta for three numbers, fitted by least squares, with A != 0 (with
    A = 0, o = B * x + beta, any grey fits: the grey did not make the output)."""
    grey = np.tensordot(np.asarray(weights), x, axes=1)[None]
    features = np.stack([np.broadcast_to(grey, x.shape).ravel(), x.ravel(),
                         np.ones(x.size)], axis=1)
    coef = np.linalg.lstsq(features, o.ravel(), rcond=None)[0]
    return (abs(coef[0]) > 1e-6 * abs(coef[1])
            and np.allclose(features @ coef, o.ravel(), rtol=1e-9, atol=1e-12))


def _contrast_around_one_mean(images, out):
    """True when every output is o = B * x + (1 - B) * M with one M for the whole batch (B
    varying by image): the contrast step taken around the batch's mean, not each image's."""
    centres = []
    for x, o in zip(images, out):
        features = np.stack([x.ravel(), np.ones(x.size)], axis=1)
        (B, beta) = np.linalg.lstsq(features, o.ravel(), rcond=None)[0]
        if not np.allclose(features @ (B, beta), o.ravel(), rtol=1e-9, atol=1e-12):
            return False
        if abs(1 - B) > 1e-3:
            centres.append(beta / (1 - B))
    return len(centres) > 1 and np.ptp(centres) <= 1e-6 * max(1.0, abs(np.mean(centres)))


def _outside(values, spread):
    return values.min() < 1 - spread - 1e-8 or values.max() > 1 + spread + 1e-8


def mean_taken_first(b, c, kwargs):
    """True when the brightness and contrast factors recovered from the outputs (b, c) leave
    their ranges, but the factors of the same outputs read as out = m + c' * (b' * x - m), m the
    mean of the input image, all fit their ranges: b = 1 - c' + c' * b', b * c = c' * b'."""
    vb, vc = kwargs.get("brightness", 0.0), kwargs.get("contrast", 0.0)
    if not (vb and vc) or not (_outside(b, vb) or _outside(c, vc)):
        return False
    c_first = 1 - b + b * c
    if np.any(np.abs(c_first) < 1e-12):
        return False
    return not _outside(b * c / c_first, vb) and not _outside(c_first, vc)


def grey_taken_first(b, c, s, kwargs):
    """True when the factors recovered from the outputs (read as out = b * (m + c * (g - m) +
    s * c * (x - g))) leave their ranges, but the same outputs read with the grey g of the input
    image, out = g + s' * (m' + c' * (b' * x - m') - g), m' the mean of b' * x, fit all three
    ranges: b = 1 - s' + s' * b', b * c = 1 - s' + s' * c' * b', b * c * s = s' * c' * b'."""
    vb, vc, vs = (kwargs.get(k, 0.0) for k in ("brightness", "contrast", "saturation"))
    if not vs or not (vb or vc):
        return False
    if not (_outside(b, vb) or _outside(c, vc) or _outside(s, vs)):
        return False
    c0, c1, c2 = b, b * c, b * c * s
    s_in = 1 - c1 + c2
    if np.any(np.abs(s_in) < 1e-12):
        return False
    b_in = (c0 - 1 + s_in) / s_in
    if np.any(np.abs(b_in) < 1e-12):
        return False
    c_in = c2 / (s_in * b_in)
    return not _outside(b_in, vb) and not _outside(c_in, vc) and not _outside(s_in, vs)


def grey_taken_between(b, c, s, kwargs):
    """True when the factors recovered from the outputs leave their ranges, but the same
    outputs read with the grey of the brightened image (before the contrast change),
    out = b' g + s' * (m' + c' * (b' * x - m') - b' g), m' the mean of b' * x, fit all three
    ranges: b' = b, s' = 1 - c + c * s, c' = c * s / s'."""
    vb, vc, vs = (kwargs.get(k, 0.0) for k in ("brightness", "contrast", "saturation"))
    if not vs or not vc:
        return False
    if not (_outside(b, vb) or _outside(c, vc) or _outside(s, vs)):
        return False
    s_in = 1 - c + c * s
    if np.any(np.abs(s_in) < 1e-12):
        return False
    return not _outside(b, vb) and not _outside(c * s / s_in, vc) and not _outside(s_in, vs)


def check_factor(name, label, what, values, spread, hint_of):
    low, high = 1 - spread, 1 + spread
    if spread == 0:
        if not np.allclose(values, 1.0, rtol=0, atol=1e-8):
            n = int(np.argmax(np.abs(values - 1)))
            raise Failed(f"{name}({label}): with {what}=0 nothing changes the {what} of image "
                         f"{n}, but its output has a {what} factor of {values[n]:.4g}", hint_of(n))
        return
    if _outside(values, spread):
        # factors spread around 0 instead of 1 confirm the range mistake; others may come from
        # any wrong formula that the fit reads as a brightness, contrast or saturation change
        around_zero = np.all(np.abs(values) <= spread + 1e-8)
        raise Failed(f"{name}({label}): {what} factors range from {values.min():.4g} to "
                     f"{values.max():.4g}, outside [{low:g}, {high:g}]",
                     JITTER_RANGE if around_zero else None)
    if np.ptp(values) < 1e-12:
        raise Failed(f"{name}({label}): every image got the same {what} factor", JITTER_BATCH)
    n = len(values)
    width = high - low
    sigma_mean = width / math.sqrt(12 * n)
    std = float(values.std())
    if abs(values.mean() - 1) > 6 * sigma_mean or abs(std / (width / math.sqrt(12)) - 1) > 0.2:
        raise Failed(f"{name}({label}): the {what} factors have mean {values.mean():.4f} and "
                     f"standard deviation {std:.4f}; uniform on [{low:g}, {high:g}] gives 1 and "
                     f"{width / math.sqrt(12):.4f}", JITTER_RANGE)


@SPEC.test("color_jitter", points=2)
def color_jitter(t):
    """Each output is brightness, contrast and saturation changes of its input; the factors of
    every image uniform on [1 - v, 1 + v]; no effect with all three at 0."""
    target = "augmentation.color_jitter"
    name = "color_jitter"
    for case in jitter_cases(t):
        (images,) = case.args
        out = out_array(target, call(t, target, case.args, case.kwargs, 1, case.label),
                        images.shape, images.dtype, case.label)
        b, c, s, residual = jitter_factors(images, out)
        if residual.max() > 1e-8:
            n = int(np.argmax(residual))
            raise Failed(f"{name}({case.label}): image {n} is not a brightness, contrast and "
                         "saturation change of the input: out = b * x, then m + c * (x - m), then "
                         "g + s * (x - g) (relative misfit "
                         f"{residual[n]:.2g})",
                         ROUNDED if residual[n] < 1e-6 else jitter_hint(images, out, n))
        if mean_taken_first(b, c, case.kwargs):
            raise Failed(f"{name}({case.label}): read as the docstring's steps (the contrast mean "
                         "taken after the brightness change), the outputs need brightness factors "
                         "from "
                         f"{b.min():.4g} to {b.max():.4g} and contrast factors from {c.min():.4g} "
                         f"to {c.max():.4g}, not all in their ranges; with the mean of the input "
                         "image they all fit", JITTER_MEAN_FIRST)
        if images.shape[1] > 1 and grey_taken_first(b, c, s, case.kwargs):
            raise Failed(f"{name}({case.label}): read as the docstring's steps (the grey image "
                         "taken after the brightness and contrast changes), the outputs need "
                         f"brightness factors from {b.min():.4g} to {b.max():.4g}, contrast "
                         f"factors from {c.min():.4g} to {c.max():.4g} and saturation factors "
                         f"from {s.min():.4g} to {s.max():.4g}, not all in their ranges; with "
                         "the grey of the input image they all fit", JITTER_GREY_FIRST)
        if images.shape[1] > 1 and grey_taken_between(b, c, s, case.kwargs):
            raise Failed(f"{name}({case.label}): read as the docstring's steps (the grey image "
                         "taken after the brightness and contrast changes), the outputs need "
                         f"contrast factors from {c.min():.4g} to {c.max():.4g} and saturation "
                         f"factors from {s.min():.4g} to {s.max():.4g}, not all in their "
                         "ranges; with the grey of the brightened image (before the contrast "
                         "change) they all fit", JITTER_GREY_BETWEEN)
        factors = [("brightness", b), ("contrast", c), ("saturation", s)]
        if images.shape[1] == 1:
            factors.pop()
        # the factors that must be exactly 1 first: a wrong formula shows there
        factors.sort(key=lambda item: case.kwargs.get(item[0], 0.0) > 0)
        for what, values in factors:
            check_factor(name, case.label, what, values, case.kwargs.get(what, 0.0),
                         lambda n: jitter_hint(images, out, n))
        check_seeds(t, target, case.args, case.kwargs, out, case.label)
    images = distinct_images(26, (4, 3, 2, 2))
    t.case("all factors 0")
    out = out_array(target, call(t, target, (images,), {}, 1, "all factors 0"), images.shape,
                    images.dtype, "all factors 0")
    if not np.allclose(out, images, rtol=1e-12, atol=0):
        raise Failed(f"{name}(brightness=contrast=saturation=0): the images should come back "
                     "unchanged")
    check_new_array(t, target, images, {}, "brightness=contrast=saturation=0")
    check_keeps_dtype(t, target, {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4})


# ---------------------------------------------------------------- cutout

def cutout_cases(t):
    cases = [
        Case("images (1500, 2, 6, 5), size=3", (distinct_images(31, (1500, 2, 6, 5)),),
             {"size": 3}),
        Case("images (1200, 1, 5, 6), size=4 (even)", (distinct_images(32, (1200, 1, 5, 6)),),
             {"size": 4}),
        Case("images (600, 3, 4, 4), size=1", (distinct_images(33, (600, 3, 4, 4)),),
             {"size": 1}),
    ]
    return cases + t.hidden("augmentation", "cutout_cases", distinct_images)


def _centres(first, last, size, length, drawn=None, half=None):
    """The centres c in [0, drawn) (drawn = length unless given) whose span, clipped to the
    axis [0, length), is first..last (inclusive); the span starts ``half`` (size // 2 unless
    given) before its centre."""
    out = []
    for c in range(length if drawn is None else drawn):
        top = c - (size // 2 if half is None else half)
        if max(top, 0) == first and min(top + size, length) - 1 == last:
            out.append(c)
    return out


def blanked_spans(square):
    """(first row, last row, first column, last column) of each image's blanked pixels, None for
    an image with none."""
    spans = []
    for mask in square:
        rows, cols = mask.any(axis=1), mask.any(axis=0)
        spans.append((*_span(rows), *_span(cols)) if rows.any() else None)
    return spans


def cutout_span_hint(spans, size, H, W):
    """The hint for squares that are no clipped square centred on a pixel: a known mistake that
    every image's square fits."""
    squares = [s for s in spans if s is not None]
    if all(r1 == min(r0 + size, H) - 1 and c1 == min(c0 + size, W) - 1
           for r0, r1, c0, c1 in squares):
        return CUTOUT_CORNER  # every square starts at its drawn pixel
    for rows_from, cols_from in ((H, max(H, W)), (max(H, W), W)):
        if H != W and all(_centres(r0, r1, size, H, rows_from) and
                          _centres(c0, c1, size, W, cols_from) for r0, r1, c0, c1 in squares):
            return CUTOUT_SQUARE  # every centre drawn among max(H, W) on one of the axes
    if size % 2 == 0 and all(_centres(r0, r1, size, H, half=size // 2 - 1) and
                             _centres(c0, c1, size, W, half=size // 2 - 1)
                             for r0, r1, c0, c1 in squares):
        return CUTOUT_EVEN  # every square one row and column late: (size - 1) // 2 before cy
    return None


def cutout_empty_hint(spans, size, H, W):
    """The hint for an image without a blanked pixel: a negative slice start when no square
    is clipped at the top or left border (there a negative start gives an empty slice)."""
    clipped = any((r0 == 0 and r1 + 1 < min(size, H)) or (c0 == 0 and c1 + 1 < min(size, W))
                  for r0, r1, c0, c1 in (s for s in spans if s is not None))
    return None if clipped else CUTOUT_NEGATIVE


def cutout_count_hint(rows_c, cols_c, size, H, W):
    """The known mistake whose pattern the centres that never occurred fit, on the axes the
    square does not cover whole, when exactly one fits."""
    axes = [(_never(counts), length) for counts, length in ((rows_c, H), (cols_c, W))
            if size < length]
    if not axes:
        return None
    fits = []
    if all(never[:1] == [0] for never, _ in axes):
        fits.append(CUTOUT_INSIDE)
    if len(axes) == 2 and all(never == [length - 1] for never, length in axes):
        fits.append(CUTOUT_OFF_BY_ONE)
    rows, cols = _never(rows_c), _never(cols_c)
    if len(axes) == 2 and ((not rows and cols == list(range(H, W)) and W - H >= 2) or
                           (not cols and rows == list(range(W, H)) and H - W >= 2)):
        fits.append(CUTOUT_SQUARE)
    return fits[0] if len(fits) == 1 else None


def _span(mask):
    where = np.flatnonzero(mask)
    return int(where[0]), int(where[-1])


@SPEC.test("cutout", points=2)
def cutout(t):
    """Each output is its input with one clipped size x size square set to 0 in every channel;
    the centres are uniform over all H * W pixels."""
    target = "augmentation.cutout"
    name = "cutout"
    for case in cutout_cases(t):
        (images,), size = case.args, case.kwargs["size"]
        N, C, H, W = images.shape
        out = out_array(target, call(t, target, case.args, case.kwargs, 1, case.label),
                        images.shape, images.dtype, case.label)
        zero = out == 0
        changed = out != images
        bad = np.flatnonzero(np.any(changed & ~zero, axis=(1, 2, 3)))
        if bad.size:
            n = int(bad[0])
            raise Failed(f"{name}({case.label}): image {n} has pixels that are changed "
                         "but not set to 0: only the square changes, and it becomes 0",
                         rounded(out[n], np.where(zero[n], 0.0, images[n])))
        square = zero.any(axis=1)  # (N, H, W)
        uneven = np.flatnonzero(np.any(zero != square[:, None], axis=(1, 2, 3)))
        if uneven.size:
            raise Failed(f"{name}({case.label}): in image {int(uneven[0])} the blanked pixels "
                         "differ between channels", CUTOUT_CHANNELS)
        rows_c, cols_c = np.zeros(H, dtype=np.int64), np.zeros(W, dtype=np.int64)
        spans = blanked_spans(square)
        for n, span in enumerate(spans):
            if span is None:
                raise Failed(f"{name}({case.label}): image {n} has no blanked square; the "
                             "square always covers at least its centre pixel",
                             cutout_empty_hint(spans, size, H, W))
            r0, r1, c0, c1 = span
            rect = np.zeros((H, W), dtype=bool)
            rect[r0:r1 + 1, c0:c1 + 1] = True
            cy, cx = _centres(r0, r1, size, H), _centres(c0, c1, size, W)
            if not np.array_equal(rect, square[n]) or not cy or not cx:
                hint = cutout_span_hint(spans, size, H, W) \
                    if np.array_equal(rect, square[n]) else None
                raise Failed(f"{name}({case.label}): the blanked pixels of image {n} (rows "
                             f"{r0}-{r1}, columns {c0}-{c1}) are not a {size}x{size} square "
                             "centred on a pixel of the image and clipped at its borders", hint)
            rows_c[cy[0]] += 1
            cols_c[cx[0]] += 1
        hint = cutout_count_hint(rows_c, cols_c, size, H, W)
        for what, counts, length in (("centre row", rows_c, H), ("centre column", cols_c, W)):
            if size >= length:  # the square covers the whole axis: its centre is not seen
                continue
            check_uniform_counts(name, case.label, what, counts, hint)
        check_seeds(t, target, case.args, case.kwargs, out, case.label)
    check_keeps_dtype(t, target, {"size": 3})


# ---------------------------------------------------------------- mixup

def mixup_inputs(seed, shape, K):
    rng = np.random.default_rng(seed)
    images = rng.standard_normal(shape)
    targets = rng.random((shape[0], K)) + 0.1
    return images, targets / targets.sum(axis=1, keepdims=True)


def mixup_cases(t):
    cases = [
        Case("images (10, 2, 3, 3), soft targets (10, 4), alpha=0.4",
             mixup_inputs(41, (10, 2, 3, 3), 4), {"alpha": 0.4}),
        Case("images (7, 1, 4, 2), targets (7, 3), alpha=2", mixup_inputs(42, (7, 1, 4, 2), 3),
             {"alpha": 2.0}),
    ]
    return cases + t.hidden("augmentation", "mixup_cases", mixup_inputs)


def recover_mixup(images, targets, mixed, mixed_targets, label):
    """(lam or None, partner of each example), or Failed: mixed[i] = a x_i + (1 - a) x_j. An
    example left unchanged (lam 1, or its own partner) is given itself as its partner."""
    name = "mixup"
    N = len(images)
    x = images.reshape(N, -1)
    o = mixed.reshape(N, -1)
    scale = np.abs(x).max()
    partners, coefficients = [], []
    for i in range(N):
        errors, weights = np.empty(N), np.ones(N)
        for j in range(N):
            if j == i:
                errors[j] = np.linalg.norm(o[i] - x[i])
            else:
                d = x[i] - x[j]
                weights[j] = float((o[i] - x[j]) @ d / (d @ d))
                errors[j] = np.linalg.norm(o[i] - x[j] - weights[j] * d)
        j = int(np.argmin(errors))
        if errors[i] <= errors[j] + 1e-12 * scale:  # unchanged: its own partner (any lam)
            j = i
        error, a = errors[j], weights[j]
        if error > 1e-8 * scale * math.sqrt(x.shape[1]):
            raise Failed(f"{name}({label}): mixed image {i} is not lam * image {i} + (1 - lam) * "
                         "another image of the batch",
                         ROUNDED if error < 1e-6 * scale * math.sqrt(x.shape[1]) else None)
        partners.append(j)
        coefficients.append(a)
    if sorted(partners) != list(range(N)):
        raise Failed(f"{name}({label}): the partners {partners} of the examples are not a "
                     "permutation of the batch", MIXUP_PERMUTATION)
    mixing = [a for i, (j, a) in enumerate(zip(partners, coefficients)) if j != i]
    if mixing and np.ptp(mixing) > 1e-8:
        raise Failed(f"{name}({label}): the examples were mixed with different weights, from "
                     f"{min(mixing):.4g} to {max(mixing):.4g}", MIXUP_PER_EXAMPLE)
    lam = mixing[0] if mixing else None
    expected = np.array([a * targets[i] + (1 - a) * targets[j]
                         for i, (j, a) in enumerate(zip(partners, coefficients))])
    if not np.allclose(mixed_targets, expected, rtol=1e-9, atol=1e-12):
        raise Failed(f"{name}({label}): the targets are not mixed like the images (the same lam "
                     "and the same partner)", MIXUP_TARGETS)
    if lam is not None and not -1e-9 <= lam <= 1 + 1e-9:
        raise Failed(f"{name}({label}): lam = {lam:.4g} is outside [0, 1]", MIXUP_BETA)
    return lam, partners


def check_unfolded(own, label):
    """Beta(alpha, alpha) is symmetric about 1/2, so an example's own weight (lam, or 1 - lam
    where the shuffled copy is weighted by lam) is below 1/2 in about half of the batches: a lam
    folded to max(lam, 1 - lam) (or min) never is (or always is)."""
    own = np.array([a for a in own if abs(a - 0.5) > 1e-9])
    n = len(own)
    if n < 20:
        return
    below = int(np.sum(own < 0.5))
    if abs(below - n / 2) > 6 * math.sqrt(n) / 2:
        raise Failed(f"mixup({label}): an example's own image had the weight lam below 0.5 in "
                     f"{below} of {n} batches; lam ~ Beta(alpha, alpha) is below 0.5 half of the "
                     "time", MIXUP_FOLDED)


def mixup_pair(t, target, args, kwargs, seed, label):
    images, targets = args
    got = call(t, target, args, kwargs, seed, label, argnames=("images", "targets"))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failed(f"mixup({label}): should return (mixed_images, mixed_targets), got "
                     f"{describe(got)}")
    mixed = out_array(target, got[0], images.shape, images.dtype, label)
    mixed_targets = out_array(target, got[1], targets.shape, targets.dtype, label)
    return mixed, mixed_targets


@SPEC.test("mixup", points=2)
def mixup(t):
    """One lam and one permutation per batch, images and targets alike; lam ~ Beta(alpha,
    alpha) over many batches."""
    target = "augmentation.mixup"
    for case in mixup_cases(t):
        mixed, mixed_targets = mixup_pair(t, target, case.args, case.kwargs, 1, case.label)
        recover_mixup(*case.args, mixed, mixed_targets, case.label)
        check_seeds(t, target, case.args, case.kwargs, [mixed, mixed_targets], case.label)
    # the distribution of lam: 150 small batches against Beta(0.2, 0.2), as min(lam, 1 - lam)
    # (an implementation may weight the shuffled copy by lam instead: the same distribution)
    alpha, label = 0.2, "alpha=0.2, 150 batches of 6"
    t.case(label)
    args = mixup_inputs(43, (6, 1, 2, 2), 3)
    lams, pairings, own = [], set(), []
    for seed in range(100, 250):
        mixed, mixed_targets = mixup_pair(t, target, args, {"alpha": alpha}, seed, label)
        lam, partners = recover_mixup(*args, mixed, mixed_targets, label)
        if lam is not None:
            own.append(lam)
            lams.append(min(lam, 1 - lam))
            if min(lam, 1 - lam) > 1e-6:  # else an example may look unchanged: partner unclear
                pairings.add(tuple(partners))
    # 720 permutations of 6, one drawn for each of about 140 batches: that they are all the
    # same has a probability far below one in a million
    if len(pairings) == 1:
        raise Failed(f"mixup({label}): every batch paired the examples the same way (partners "
                     f"{list(pairings.pop())}): the permutation must be random, drawn anew for "
                     "each batch", MIXUP_FIXED)
    check_unfolded(own, label)
    sample = np.sort(np.array(lams))
    reference = np.random.default_rng(0).beta(alpha, alpha, 200_000)
    reference = np.sort(np.minimum(reference, 1 - reference))
    grid = np.concatenate([sample, reference[::1000]])
    own = np.searchsorted(sample, grid, side="right") / len(sample)
    theirs = np.searchsorted(reference, grid, side="right") / len(reference)
    distance = float(np.max(np.abs(own - theirs)))
    limit = math.sqrt(-0.5 * math.log(1e-6 / 2) / len(sample))  # Kolmogorov-Smirnov, p = 1e-6
    if distance > limit:
        raise Failed(f"mixup({label}): the values of lam do not follow Beta({alpha}, {alpha}) "
                     f"(Kolmogorov-Smirnov distance {distance:.2f}, more than {limit:.2f}; the "
                     f"median of min(lam, 1 - lam) is {np.median(sample):.3f}, Beta's "
                     f"{np.median(reference):.3f})", MIXUP_BETA)
    check_keeps_dtype(t, target, {"alpha": 0.4}, targets=True)
