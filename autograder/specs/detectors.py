"""Tests of unit 08, ``detectors`` (PyTorch modules graded by contract, through torch handles).

The architecture is the student's choice, so nothing is compared with the reference's numbers.
Each module is built with several arguments, loaded with parameters the judge draws (fan-in
scaled, in float64, batch norm statistics named by their buffer names, other buffers kept as the
module made them), and run on inputs of several sizes and batch sizes in eval and train mode
(train mode only for batches of two or more: batch norm cannot train on one example, so a batch
of one runs in eval mode alone): the output's
shape, dtype (float64 stays float64) and ranges (sigmoids in [0, 1], class probabilities summing
to 1 within 1e-9, and a float32 softmax, 1e-7 off, named as such; box entries that do not sum
to 1, class_logits that are not probabilities; no sigmoid
output exactly 0, which only a clamp or a ReLU gives) are checked,
the examples of a batch (different images) must get different outputs in eval mode (a detector
that ignores the image fails), and a random upstream gradient must reach every parameter
(LocalizationNet: and a gradient of each head alone must reach the image, so neither head sits
on detached features; the first image run alone in eval mode must give row 0 of the batch's
outputs, so a box transposed on a batch of four fails).
TinyYOLO's grid must keep the image's layout: the gradient of a corner cell's output to the image
must not sit clearly in another corner (a transposed or flipped grid fails; a detector that
mixes the whole image, with no layout to keep, gets no claim). An
error raised by the module names the input shape and the mode. In the instructor's grading (live
reference, not a public check) TinyYOLO also takes a few Adam steps, driven by the judge with
the reference's ``yolo_loss``, on a fixed batch: the loss must fall.

Known mistakes (``autograder/mistakes/detectors.py``) are recognised by their symptoms, which do
not depend on the architecture or its parameters: the output's shape and dtype, which of its
entries lie in [0, 1] and which of its sums are 1 (``symptoms``). A failing output whose
symptoms are exactly those of a known mistake, on the same input with parameters drawn the same
way, gets that mistake's description as hint, in place of the generic one. A forward that
raises gets the hint of a known mistake raising the same error on the same input
(``_explaining``): only errors that name the output's layout (a head of the wrong channel count
reshaped to (N, S, S, B, 5 + C)), never the backbone's widths, can match a student's detector.
"""

import numpy as np

from ..compare import Failed, describe
from ..spec import Spec
from ..torch_handles import StudentModule
from .architectures import squeezed_hint
from .model_checks import check_two_calls

SPEC = Spec("detectors")


def _call_text(name, args, kwargs):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _modes(shape):
    """The modes an input of ``shape`` runs in: eval, and train for a batch of two or more (batch
    norm cannot train on a single example, and need not)."""
    return (False, True) if shape[0] >= 2 else (False,)


def _mode(train):
    return "train" if train else "eval"


def _where(name, args, kwargs, shape, train):
    return f"{_call_text(name, args, kwargs)} on input {shape}, {_mode(train)} mode"


def _values(params, buffers, seed):
    """Parameters (fan-in scaled normals; the 1-D weights of normalization layers near 1, as
    PyTorch starts them; other 1-D ones small) and batch norm's running statistics by name
    (float64). Scales near 0 would shrink what depends on the image tenfold at every batch norm:
    a correct detector with batch norm everywhere would give all images nearly the same output.
    Any other buffer is a constant of the detector's own (an input mean and std, anchors): None,
    kept as the module made it (``torch_ops.load``); random values there (a std near 0) made a
    correct detector's training a lottery."""
    rng = np.random.default_rng(seed)
    values = []
    for name, shape in params:
        if len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            values.append(rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1)))
        elif name.endswith("weight"):
            values.append(1.0 + 0.1 * rng.standard_normal(shape))
        else:
            values.append(0.1 * rng.standard_normal(shape))
    bufs = [rng.uniform(0.5, 1.5, shape) if name.endswith("running_var")
            else 0.1 * rng.standard_normal(shape) if name.endswith("running_mean") else None
            for name, shape in buffers]
    return values, bufs


# -- symptoms: what is wrong with an output, whatever the architecture ----------------------------

def _in_unit(value):
    return bool(value.size == 0 or (value.min() >= -1e-12 and value.max() <= 1 + 1e-12))


def _sums_to_one(total):
    return bool(np.allclose(total, 1.0, rtol=0, atol=1e-9))


def symptoms(target, out, expected):
    """Plain data saying what is wrong with ``out``, the output of ``target`` (expected shape
    ``expected``; for LocalizationNet the two shapes): its shape and dtype, and when the shape is
    right, which entries (TinyYOLO: per slot and entry of the last axis) lie in [0, 1] and
    (TinyYOLO) which sums of entries are 1. None when it is not an array (or pair of arrays)."""
    if target == "detectors.TinyYOLO":
        if not isinstance(out, np.ndarray):
            return None
        found = {"shape": [int(n) for n in out.shape], "dtype": str(out.dtype)}
        if out.shape != tuple(expected) or not np.isfinite(out).all():
            return found
        found["in_unit"] = [[_in_unit(out[..., b, j]) for j in range(out.shape[-1])]
                            for b in range(out.shape[-2])]
        sums = [("classes", out[..., 5:].sum(-1)), ("objectness and classes", out[..., 4:].sum(-1)),
                ("slot", out.sum(-1))]
        sums += [(f"classes over dim {d}", out[..., 5:].sum(d)) for d in range(4)]
        found["sum_to_one"] = [name for name, total in sums if _sums_to_one(total)]
        return found
    if not isinstance(out, (list, tuple)) or len(out) != 2 \
            or not all(isinstance(o, np.ndarray) for o in out):
        return None
    found = {"shapes": [[int(n) for n in o.shape] for o in out],
             "dtypes": [str(o.dtype) for o in out]}
    if [o.shape for o in out] != [tuple(e) for e in expected] \
            or not all(np.isfinite(o).all() for o in out):
        return found
    found["in_unit"] = [_in_unit(o) for o in out]
    return found


# -- recipes (module level: their names key the recorded outputs of a release) ------------------

def output_symptoms(cw, target, args, kwargs, seed, x, train, expected):
    """The symptoms of the output of ``target`` built from ``cw`` (a known mistake when ``cw`` is
    patched) with parameters drawn as the judge draws a student's (``_values``), on ``x``."""
    import torch

    from ..torch_handles import reference_build, reference_load

    model = reference_build(cw, target, args, kwargs)
    params = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    buffers = [(n, tuple(b.shape)) for n, b in model.named_buffers() if b.is_floating_point()]
    values, bufs = _values(params, buffers, seed)
    model = reference_load(model, values, bufs, "float64")
    model.train(bool(train))
    with torch.no_grad():
        out = model(torch.from_numpy(np.array(x)))
    out = [o.numpy() for o in out] if isinstance(out, (tuple, list)) else out.numpy()
    return symptoms(target, out, expected)


def _checked(t, target, args, kwargs, seed, x, train, expected, out, check):
    """``check(out)``; when it fails and a known mistake has exactly the symptoms of ``out`` (on
    this input, parameters drawn with ``seed``), that mistake's description is the hint."""
    def mistakes():
        return t.ref.mistakes(target, output_symptoms, target, list(args), kwargs, seed, x,
                              bool(train), expected)

    if getattr(t.ref, "recording", None) is not None:
        mistakes()  # recorded for the release, which gives the same hints
    try:
        check(out)
    except Failed as failure:
        got = symptoms(target, out, expected)
        if got is not None and not getattr(failure, "keep_hint", False):
            for description, wrong in mistakes():
                if wrong == got:
                    failure.hint = description
                    break
        raise


def _build(t, name, args, kwargs, seed):
    student = StudentModule.build(t.student, f"detectors.{name}", *args, **kwargs)
    params = student.parameters()
    if not params:
        raise Failed(f"{_call_text(name, args, kwargs)} has no parameters",
                     hint="register the layers as attributes (or in an nn.Sequential) in "
                          "__init__")
    count = sum(int(np.prod(shape, dtype=object)) for _, shape in params)
    if count > MAX_PARAMETERS:
        raise Failed(f"{_call_text(name, args, kwargs)} has {count:,} parameters; the "
                     f"docstring asks for fewer than {MAX_PARAMETERS:,}",
                     hint="use narrower layers: a small grid and a few classes need far fewer "
                          "(a convolution to the B * (5 + C) outputs per cell instead of a wide "
                          "fully connected head)")
    values, bufs = _values(params, student.buffers(), seed)
    student.load(values, bufs, "float64")
    return student, params, values, bufs


def _outputs(value):
    """The output's arrays in a list (LocalizationNet returns two)."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_kept_state(t, name, args, kwargs, student, values, bufs, shape, seed, build_seed,
                      expected):
    """The student's detector just built (parameters ``values`` drawn with ``build_seed``,
    buffers ``bufs``) on two batches of images of ``shape``, one after the other in eval mode:
    the second answer must be a newly built detector's with the same parameters (student code
    only: the architecture is the student's). A detector that keeps its first features or output
    on self, by shape, answers from them, and its gradient check would blame a layer not applied
    in forward. A first forward that raises gets the hint of a known mistake raising the same
    error (``expected``: the output's shape, for the symptoms recipe)."""
    rng = np.random.default_rng(seed)
    first, second = rng.uniform(0, 1, shape), rng.uniform(0, 1, shape)
    t.case(_where(name, args, kwargs, shape, False) + ", called twice on images of that shape")
    with _explaining(t, f"detectors.{name}", args, kwargs, build_seed, first, False, expected):
        check_two_calls(t, f"detectors.{name}", args, kwargs, student, values, bufs,
                        lambda module, x: _outputs(module.forward(x, False)), first, second,
                        f"{_where(name, args, kwargs, shape, False)}: called on a batch of "
                        "images, then on other images of the same shape, it answers the second "
                        f"batch otherwise than a newly built {name} with the same parameters "
                        "does")


def _explaining(t, target, args, kwargs, seed, x, train, expected):
    """``t.explaining_errors`` around a forward of the student's ``target`` on ``x``: the known
    mistakes run through ``output_symptoms`` with parameters drawn with ``seed``. Only an error
    that names nothing of the architecture (the output's layout, the head's channel count) can
    match a student's detector, whose backbone is the student's own."""
    return t.explaining_errors(target, output_symptoms, target, list(args), kwargs, seed, x,
                               bool(train), expected)


# The judge draws (float64) and sends every parameter value of a detector: the docstring's
# bound keeps that to 40 MB, within what one message carries (wire.MAX_FRAME).
MAX_PARAMETERS = 5_000_000


def _array(where, value, shape):
    if not isinstance(value, np.ndarray):
        raise Failed(f"{where}: the output should be a tensor of shape {shape}, got "
                     f"{describe(value)}")
    if value.shape != tuple(shape):
        raise Failed(f"{where}: the output has shape {value.shape}, expected {tuple(shape)}",
                     hint=_shape_hint(value.shape, shape))
    if value.dtype != np.float64:
        raise Failed(f"{where}: the output has dtype {value.dtype} for a float64 model and "
                     "input; create no tensor with a fixed dtype in forward (use x.new_* or "
                     "the dtype of x)")
    if not np.isfinite(value).all():
        raise Failed(f"{where}: the output contains NaN or inf")
    return value


def _shape_hint(got, expected):
    if len(got) == 4 and len(expected) == 5:
        return "reshape the head's output to (N, S, S, B, 5 + C): B slots per cell"
    if len(got) == len(expected) == 5 and got[1:3] != tuple(expected[1:3]):
        return ("end the backbone with nn.AdaptiveAvgPool2d(grid_size), so that every input "
                "size gives an S x S grid")
    return None


def _check_range(where, what, value, low=0.0, high=1.0):
    if value.size and (value.min() < low - 1e-12 or value.max() > high + 1e-12):
        raise Failed(f"{where}: {what} should lie in [{low:g}, {high:g}], found values from "
                     f"{value.min():.4g} to {value.max():.4g}",
                     hint=f"pass {what} through a sigmoid")
    # A float64 sigmoid is exactly 0 only below -745: an exact 0 comes from a clamp, a ReLU or
    # a hard sigmoid, whose gradient is 0 there (a slot or box stuck at 0 never learns)
    zeros = int(np.count_nonzero(value == low)) if value.size else 0
    if zeros:
        failure = Failed(f"{where}: {zeros} of the {value.size} entries of {what} are exactly "
                         f"{low:g}: they were cut off (clamp, ReLU, hard sigmoid), not squashed "
                         "by a sigmoid, which never reaches 0",
                         hint=f"pass {what} through torch.sigmoid: it lies in (0, 1) and its "
                              "gradient never vanishes, where a clamp to [0, 1] stops the "
                              "gradient of every entry it cuts")
        # the symptoms (ranges, sums) are a right output's: a known mistake with those symptoms
        # explains nothing here (_checked keeps this hint)
        failure.keep_hint = True
        raise failure


def _check_depends_on_image(where, out, what="the output"):
    """Examples of one batch hold different images (uniform noise), so a detector that looks at
    the image gives them different outputs; one whose output is the same for all ignores x."""
    outs = out if isinstance(out, (list, tuple)) else [out]
    for i in range(1, outs[0].shape[0]):
        if all(np.allclose(o[i], o[0], rtol=0, atol=1e-7) for o in outs):
            raise Failed(f"{where}: examples 0 and {i} of the batch are different images but "
                         f"{what} is the same for both: the output does not depend on the image",
                         hint="compute the output from x (backbone, then head), not from "
                              "parameters alone")


def _check_gradients(where, grads, params):
    if not isinstance(grads, list) or len(grads) != len(params) + 1:
        raise Failed(f"{where}: the gradients could not be computed")
    for (name, _), g in zip(params, grads[1:]):
        if g is None or not np.any(g):
            raise Failed(f"{where}: no gradient reaches the parameter {name!r}: it is not used "
                         "in forward (or its result is thrown away)",
                         hint="every layer you create must be applied in forward")
        if not np.isfinite(g).all():
            raise Failed(f"{where}: the gradient of {name!r} contains NaN or inf")


# how far from 1 a float32 softmax's sums stray (C of them at most 0.5 ulp each: about 1e-7 for a
# few classes); a softmax over the wrong entries is off by far more
FLOAT32_SUM_TOLERANCE = 1e-5


def _from_one(total):
    """A sum near 1 written as 1 plus or minus its distance from 1 ("1 - 6.7e-08")."""
    d = float(total) - 1.0
    return f"1 {'-' if d < 0 else '+'} {abs(d):.1e}"


def _check_yolo(where, out, expected):
    out = _array(where, out, expected)
    _check_range(where, "x, y, w, h and the objectness (entries 0 to 4)", out[..., :5])
    probs = out[..., 5:]
    sums = probs.sum(-1)
    off = float(np.abs(sums - 1.0).max()) if sums.size else 0.0
    near = bool(probs.size) and probs.min() >= 0 and 1e-9 < off <= FLOAT32_SUM_TOLERANCE
    if near and not np.array_equal(probs, probs.astype(np.float32)):
        # float64 probabilities (not float32 ones cast back): a softmax that is not quite one,
        # an epsilon added to its denominator
        raise Failed(
            f"{where}: the class probabilities sum to 1 only within {off:.1e} (sums from "
            f"{_from_one(sums.min())} to {_from_one(sums.max())}); a softmax's probabilities sum "
            "to 1 within 1e-9 in float64: was something added to the denominator (an epsilon)?",
            hint="divide the exponentials by their sum itself, or use the library's softmax "
                 "over the last dimension: a softmax cannot divide by zero (after subtracting "
                 "the maximum, its largest term is 1)")
    if near:
        # a float64 output whose softmax ran in float32 (dtype=torch.float32, .float()): its
        # sums are 1 to float32's precision, and every probability is a float32 number; the
        # docstring asks for the computation in x's dtype
        failure = Failed(
            f"{where}: the class probabilities sum to 1 only to float32's precision (sums from "
            f"{_from_one(sums.min())} to {_from_one(sums.max())}; a float64 computation gives "
            "1 within 1e-9): the docstring asks for the computation in x's dtype, float64 here",
            hint="compute in the dtype of x: no dtype=torch.float32 (a softmax's dtype=, "
                 ".float(), a tensor created as float32) anywhere in forward")
        failure.keep_hint = True
        raise failure
    if probs.min() < 0 or not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
        raise Failed(f"{where}: the class probabilities (entries 5 onwards) should be "
                     "non-negative and sum to 1 in every slot; sums range from "
                     f"{sums.min():.4g} to {sums.max():.4g}",
                     hint="apply a softmax over the last C entries of each slot (dim=-1), not "
                          "over the whole output")


# -- which part of the image each grid cell looks at ----------------------------------------------

_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")

# The eight ways to lay an S x S grid over the image: what each does to a corner's (row, column)
# signs (-1 top or left, +1 bottom or right), with what to say when the student's grid is laid
# that way instead of the first.
_LAYOUTS = [
    (lambda r, c: (r, c), None),
    (lambda r, c: (c, r), "rows and columns are swapped (the grid is transposed)"),
    (lambda r, c: (-r, c), "the grid is upside down (rows counted from the bottom)"),
    (lambda r, c: (r, -c), "the grid is mirrored (columns counted from the right)"),
    (lambda r, c: (-r, -c), "the grid is turned by 180 degrees"),
    (lambda r, c: (-c, r), "the grid is turned by 90 degrees"),
    (lambda r, c: (c, -r), "the grid is turned by 90 degrees"),
    (lambda r, c: (-c, -r), "the grid is transposed across the other diagonal"),
]


def _looks_at(dx):
    """The centre of mass of |dx| (C, H, W) over the image as (row, column) offsets from the
    image's centre, each in [-0.5, 0.5]: where in the image an output depends on."""
    mass = np.abs(dx).sum(0)
    total = mass.sum()
    if not np.isfinite(total) or total <= 0:
        return None
    h, w = mass.shape
    row = float((mass.sum(1) * (np.arange(h) + 0.5)).sum() / total / h)
    col = float((mass.sum(0) * (np.arange(w) + 0.5)).sum() / total / w)
    return row - 0.5, col - 0.5


def _check_grid_layout(where, student, shape, S, B, C, rng, margin=0.05):
    """Grid cell [i, j] is the image's row i (from the top) and column j (from the left), as in
    yolo_encode's target. The gradient of the four corner cells' outputs to the image says where
    each looks. A detector that keeps the image's layout (convolutions, pooling) looks near its
    own corner; one that mixes everything (a fully connected head) looks near the centre and
    gets no claim. Only when all four corners clearly look at the corners of one other layout
    (transposed, flipped, turned) does the check fail."""
    corners = [(0, 0), (0, S - 1), (S - 1, 0), (S - 1, S - 1)]
    x = rng.uniform(0, 1, (len(corners),) + tuple(shape[1:]))
    dout = np.zeros((len(corners), S, S, B, 5 + C))
    for k, (i, j) in enumerate(corners):
        dout[k, i, j, :, :5] = 1.0  # x, y, w, h, objectness of every slot of that cell
    grads = student.backward(x, dout, False)
    if not isinstance(grads, list) or not grads or not isinstance(grads[0], np.ndarray) \
            or grads[0].shape != x.shape:
        return  # the gradient checks report what is wrong with backward
    seen = [_looks_at(grads[0][k]) for k in range(len(corners))]
    if any(s is None or min(abs(s[0]), abs(s[1])) < margin for s in seen):
        return  # some corner looks near the centre: no claim on the layout
    signs = [(int(np.sign(s[0])), int(np.sign(s[1]))) for s in seen]
    expected = [(-1 if i == 0 else 1, -1 if j == 0 else 1) for i, j in corners]
    for layout, what in _LAYOUTS:
        if all(layout(*e) == got for e, got in zip(expected, signs)):
            if what is None:
                return
            k = 1  # the top-right cell: row 0, column S - 1
            looks = _CORNERS[expected.index(signs[k])]
            raise Failed(f"{where}: {what}. The output at grid cell [0, {S - 1}] (row 0, "
                         f"column {S - 1}: the top-right cell) depends mostly on the {looks} "
                         f"of the image; out[n, i, j] must be the cell in row i from the top "
                         f"and column j from the left, as in yolo_encode's target",
                         hint="the head's output is (N, channels, S, S), rows before columns: "
                              "permute it with (0, 2, 3, 1) before reshaping, and flip or "
                              "transpose nothing")


def _check_cell_numbers(where, student, shape, S, B, C, rng, margin=0.1):
    """The B * (5 + C) numbers of one grid cell all come from one place of the image: the
    gradient of each to the image is centred on the same side of it. A reshape of the head's
    (N, channels, S, S) output without moving the channels last gives each cell numbers from all
    over the feature map: some look at the top of the image and others at the bottom. A correct
    detector's numbers of a corner cell all look near that corner, a fully connected head's all
    near the centre; only numbers clearly on both sides of the centre (beyond ``margin``) fail."""
    corners = [(0, 0), (S - 1, S - 1)]
    L = B * (5 + C)
    image = rng.uniform(0, 1, (1,) + tuple(shape[1:]))
    dout = np.zeros((len(corners) * L, S, S, B, 5 + C))
    for k, (i, j) in enumerate(corners):
        for slot in range(L):
            dout[k * L + slot, i, j, slot // (5 + C), slot % (5 + C)] = 1.0
    dx = []
    for start in range(0, len(dout), 4):  # four images a call: a large model's memory
        chunk = dout[start:start + 4]
        grads = student.backward(np.repeat(image, len(chunk), axis=0), chunk, False)
        if not isinstance(grads, list) or not grads or not isinstance(grads[0], np.ndarray) \
                or grads[0].shape != (len(chunk),) + image.shape[1:]:
            return  # the gradient checks report what is wrong with backward
        dx.extend(grads[0])
    names = ["x", "y", "w", "h", "objectness"] + [f"p(class {c})" for c in range(C)]
    for k, (i, j) in enumerate(corners):
        seen = [_looks_at(dx[k * L + slot]) for slot in range(L)]
        if any(s is None for s in seen):
            continue
        for axis, (low, high) in enumerate((("top", "bottom"), ("left", "right"))):
            first = min(range(L), key=lambda n: seen[n][axis])
            last = max(range(L), key=lambda n: seen[n][axis])
            if seen[first][axis] < -margin and seen[last][axis] > margin:
                def number(n):
                    return f"out[n, {i}, {j}, {n // (5 + C)}, {n % (5 + C)}] ({names[n % (5 + C)]})"
                raise Failed(
                    f"{where}: the numbers of grid cell [{i}, {j}] come from different parts of "
                    f"the image: {number(first)} depends mostly on the {low} of the image, "
                    f"{number(last)} on the {high}; all B * (5 + C) numbers of a cell must come "
                    "from the same position of the head's output",
                    hint="the head's output is (N, B * (5 + C), S, S), channels first: a reshape "
                         "to (N, S, S, B, 5 + C) without .permute(0, 2, 3, 1) first fills each "
                         "cell with numbers from all over the feature map")


YOLO_CONFIGS = [
    ((3,), {}, [(1, 3, 32, 32), (2, 3, 48, 40)]),
    ((2,), {"grid_size": 3, "boxes_per_cell": 1, "in_channels": 1}, [(3, 1, 33, 37)]),
    ((4,), {"grid_size": 5, "boxes_per_cell": 3}, [(2, 3, 64, 50)]),
]


@SPEC.test("TinyYOLO", points=3)
def tiny_yolo(t):
    """Output (N, S, S, B, 5 + C) for several sizes: sigmoids in [0, 1], probabilities summing
    to 1, float64, different images give different outputs, gradients to every parameter, grid
    cell [i, j] looks at row i and column j of the image (not transposed or flipped); a few steps
    lower yolo_loss."""
    for k, (args, kwargs, shapes) in enumerate(YOLO_CONFIGS):
        t.no_case()  # an error while building names the constructor call
        student, params, values, bufs = _build(t, "TinyYOLO", args, kwargs, seed=10 + k)
        C, S, B = args[0], kwargs.get("grid_size", 4), kwargs.get("boxes_per_cell", 2)
        _check_kept_state(t, "TinyYOLO", args, kwargs, student, values, bufs, shapes[0],
                          seed=60 + k, build_seed=10 + k,
                          expected=[shapes[0][0], S, S, B, 5 + C])
        rng = np.random.default_rng(20 + k)
        for shape in shapes:
            x = rng.uniform(0, 1, shape)
            for train in _modes(shape):
                where = _where("TinyYOLO", args, kwargs, shape, train)
                t.case(where)
                expected = [shape[0], S, S, B, 5 + C]
                with _explaining(t, "detectors.TinyYOLO", args, kwargs, 10 + k, x, train,
                                 expected):
                    out = student.forward(x, train)
                _checked(t, "detectors.TinyYOLO", args, kwargs, 10 + k, x, train, expected,
                         out, lambda out: _check_yolo(where, out, expected))
                if not train:
                    _check_depends_on_image(where, out)
            dout = rng.standard_normal((shape[0], S, S, B, 5 + C))
            train = _modes(shape)[-1]
            t.case(_where("TinyYOLO", args, kwargs, shape, train) + ", backward")
            _check_gradients(f"TinyYOLO on input {shape} ({_mode(train)} mode)",
                             student.backward(x, dout, train), params)
        if S >= 3:  # on a 2 x 2 grid, every cell of a small detector sees the whole image
            t.case(_where("TinyYOLO", args, kwargs, shapes[0], False)
                   + ", where each grid cell looks")
            _check_grid_layout(f"TinyYOLO({args[0]}, grid_size={S}) on images of size "
                               f"{tuple(shapes[0][2:])}", student, shapes[0], S, B, C, rng)
            _check_cell_numbers(f"TinyYOLO({args[0]}, grid_size={S}) on images of size "
                                f"{tuple(shapes[0][2:])}", student, shapes[0], S, B, C, rng)
    if not t.public_only and getattr(t.ref, "recorded", True) is None:
        _training_lowers_loss(t)


def _training_lowers_loss(t, steps=12, lr=0.01):
    """Adam steps driven by the judge with the reference yolo_loss: the loss must fall.

    The steps run in eval mode: the same function at every step, whatever the model draws in
    train mode (dropout, as in YOLO v1's head, made a correct detector's 12 steps a lottery)."""
    detection = t.ref.cw.detection
    args, kwargs = (2,), {"grid_size": 2, "boxes_per_cell": 1}
    t.no_case()
    student, params, values, bufs = _build(t, "TinyYOLO", args, kwargs, seed=31)
    t.case(_where("TinyYOLO", args, kwargs, (4, 3, 32, 32), False) + ", training")
    rng = np.random.default_rng(32)
    x = rng.uniform(0, 1, (4, 3, 32, 32))
    targets = []
    for _ in range(4):
        boxes = np.concatenate([rng.uniform(0.1, 0.9, (2, 2)), rng.uniform(0.1, 0.5, (2, 2))],
                               axis=1)
        targets.append(detection.yolo_encode(boxes, rng.integers(0, 2, 2), grid_size=2,
                                             num_classes=2, boxes_per_cell=1)[0])
    target = np.stack(targets)
    m = [np.zeros_like(v) for v in values]
    v2 = [np.zeros_like(v) for v in values]
    losses = []
    for step in range(1, steps + 1):
        out = _array("TinyYOLO during training", student.forward(x, False), target.shape)
        pred = out.copy()
        pred[..., 2:4] = np.maximum(pred[..., 2:4], 1e-9)
        loss, dpred = detection.yolo_loss(pred, target)
        losses.append(loss)
        grads = student.backward(x, dpred, False)
        _check_gradients("TinyYOLO during training", grads, params)
        for i, g in enumerate(grads[1:]):
            m[i] = 0.9 * m[i] + 0.1 * g
            v2[i] = 0.999 * v2[i] + 0.001 * g * g
            values[i] = values[i] - lr * (m[i] / (1 - 0.9 ** step)) / (
                np.sqrt(v2[i] / (1 - 0.999 ** step)) + 1e-8)
        student.load(values, bufs, "float64")
    final = detection.yolo_loss(np.maximum(student.forward(x, False), 1e-9), target)[0]
    if not final < 0.7 * losses[0]:
        raise Failed(f"TinyYOLO: {steps} Adam steps (lr {lr}) on a fixed batch of 4 images took "
                     f"yolo_loss only from {losses[0]:.4g} to {final:.4g} (a fall of 30% "
                     "expected)",
                     hint="the output must depend on the parameters smoothly: a sigmoid or "
                          "softmax of the head's raw output, no detach or rounding")


def _check_localization(where, out, expected):
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise Failed(f"{where}: forward should return (class_logits, box), got {describe(out)}",
                     hint="return a tuple of two tensors: class_logits, box")
    _array(where + ", class_logits", out[0], expected[0])
    box = _array(where + ", box", out[1], expected[1])
    _check_range(where, "the box (cx, cy, w, h relative to the image)", box)
    # Four independent sigmoids never sum to exactly 1 in every example; a softmax always does.
    if box.size and _sums_to_one(box.sum(-1)):
        raise Failed(f"{where}: the four box entries sum to 1 in every example: cx, cy, w and h "
                     "are independent numbers in [0, 1], not a distribution over four things",
                     hint="pass the box head's 4 outputs through a sigmoid each "
                          "(torch.sigmoid), not a softmax over them")
    # Raw scores of a linear layer never lie in [0, 1] with every row summing to exactly 1;
    # probabilities do (cross_entropy would then take a softmax of a softmax).
    logits = out[0]
    if logits.size and _in_unit(logits) and _sums_to_one(logits.sum(-1)):
        raise Failed(f"{where}: class_logits lie in [0, 1] and sum to 1 in every example: "
                     "they are probabilities, not the raw class scores",
                     hint="return the class head's raw output as class_logits, without a "
                          "softmax: the cross entropy applies the softmax itself")


LOC_CONFIGS = [
    ((10,), {"in_channels": 1}, [(2, 1, 32, 32), (1, 1, 40, 36)]),
    ((3,), {}, [(4, 3, 48, 48)]),
]


@SPEC.test("LocalizationNet", points=2)
def localization_net(t):
    """(class_logits (N, C), box (N, 4)) for several sizes: box in [0, 1], raw class scores
    (not probabilities), float64, different images give different outputs, gradients of both
    heads reach every parameter."""
    for k, (args, kwargs, shapes) in enumerate(LOC_CONFIGS):
        t.no_case()  # an error while building names the constructor call
        student, params, values, bufs = _build(t, "LocalizationNet", args, kwargs,
                                               seed=40 + k)
        C = args[0]
        _check_kept_state(t, "LocalizationNet", args, kwargs, student, values, bufs, shapes[0],
                          seed=70 + k, build_seed=40 + k,
                          expected=[[shapes[0][0], C], [shapes[0][0], 4]])
        rng = np.random.default_rng(50 + k)
        for shape in shapes:
            x = rng.uniform(0, 1, shape)
            for train in _modes(shape):
                where = _where("LocalizationNet", args, kwargs, shape, train)
                t.case(where)
                expected = [[shape[0], C], [shape[0], 4]]
                with _explaining(t, "detectors.LocalizationNet", args, kwargs, 40 + k, x, train,
                                 expected):
                    out = student.forward(x, train)
                _checked(t, "detectors.LocalizationNet", args, kwargs, 40 + k, x, train,
                         expected, out, lambda out: _check_localization(where, out, expected))
                if not train:
                    _check_depends_on_image(where, out, "(class_logits, box)")
                    _check_first_alone(t, student, where, x, out)
            douts = [rng.standard_normal((shape[0], C)), rng.standard_normal((shape[0], 4))]
            train = _modes(shape)[-1]
            t.case(_where("LocalizationNet", args, kwargs, shape, train) + ", backward")
            grads = student.backward(x, douts, train)
            _check_gradients(f"LocalizationNet on input {shape} ({_mode(train)} mode)", grads,
                             params)
            _check_each_head_reaches_image(student, x, douts, train, shape)


def _check_first_alone(t, student, where, x, out):
    """In eval mode an example's output depends on its own image only: the first image run alone
    gives the first rows of the batch's output. (A box of (N, 4) transposed on a batch of four,
    entries of other examples in each row, has the right shape and ranges otherwise.)"""
    if x.shape[0] < 2:
        return
    t.case(where + ", the first image again alone")
    alone = student.forward(x[:1], False)
    outs, alones = list(out), alone if isinstance(alone, (list, tuple)) else [alone]
    if len(alones) != len(outs):
        raise Failed(f"{where}: the first image alone gives {len(alones)} outputs, the batch "
                     f"{len(outs)}")
    for name, o, a in zip(("class_logits", "box"), outs, alones):
        a, shape = np.asarray(a), (1,) + tuple(o.shape[1:])
        if a.shape != shape:
            raise Failed(f"{where}: {name} of the first image alone (input "
                         f"{tuple(x[:1].shape)}) has shape {a.shape}, expected {shape}",
                         hint=squeezed_hint(a, np.empty(shape)))
        if not np.allclose(a[0], o[0], rtol=1e-6, atol=1e-9):
            raise Failed(f"{where}: {name} of the first image alone (input {tuple(x[:1].shape)}) "
                         f"is not row 0 of {name} for the batch: an example's output mixes in "
                         "the other examples of the batch",
                         hint="keep the batch axis first and compute each example's output from "
                              "its own image: no transpose or reshape across the batch axis "
                              "(box is (N, 4), one row per image)")


def _check_each_head_reaches_image(student, x, douts, train, shape):
    """A gradient of each head alone (the other's upstream gradient zero) must reach the image:
    a head computed from features cut off from the graph (``h.detach()``, ``h.data``) still
    trains its own layer, and the whole-output check above finds gradients everywhere through
    the other head, but its loss never trains the backbone."""
    for k, head in enumerate(("class_logits", "box")):
        alone = [d if i == k else np.zeros_like(d) for i, d in enumerate(douts)]
        grads = student.backward(x, alone, train)
        dx = grads[0] if isinstance(grads, list) and grads else None
        if dx is None or not np.any(dx):
            raise Failed(f"LocalizationNet on input {shape} ({_mode(train)} mode): a gradient of "
                         f"{head} alone does not reach the image: {head} is computed from "
                         "features cut off from the graph (.detach(), .data or torch.no_grad())",
                         hint=f"compute {head} from the shared features as they are: the loss "
                              f"on {head} must train the backbone too, not only its own head")
