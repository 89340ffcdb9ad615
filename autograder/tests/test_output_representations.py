"""Outputs in another representation, the same values: the reference with each graded function's
results wrapped in one transform at a time, graded through the engine.

A sweep of units 01-05 and 07-09 (every graded function of the NumPy modules, models' ``loss``
included; round 33) tried a Fortran-ordered copy, a reversed-stride view of a reversed copy, a
read-only view (``setflags(write=False)``) and ``np.broadcast_to``, Python float vs NumPy
float64 vs 0-d array for scalars, an np.float32 scalar for float32 inputs, int32 index arrays,
int masks for bool ones and a list for a tuple of results. The wire sends arrays in C order, so
layout never reaches the judge; what did go wrong was in the worker: two checks that a result
is a new array changed the student's earlier result in place (``fill``), and a read-only result
(a new array all the same) raised "assignment destination is read-only" as if the student's
code had (``augmentation.check_new_array``: random_horizontal_flip, color_jitter;
``optim.check_new_dict``: clip_grad_norm). They now fill a writable copy of it. Transforms that
a docstring rules out (int32 where it fixes int64, a 0-d array where it says "an int", an int
mask where it says bool) fail with a message that says so.
"""

import ast
import shutil
import textwrap
from pathlib import Path

import pytest

from autograder import engine
from autograder.paths import REFERENCE_PACKAGE

# What the wrapper does to every array (a) and scalar (v) of a result, by transform
TRANSFORMS = {
    "identity": ("a", "v"),
    "fortran": ("_np.asfortranarray(a) if a.ndim >= 2 else a", "v"),
    "reversed strides": ("a[(slice(None, None, -1),) * a.ndim].copy()"
                         "[(slice(None, None, -1),) * a.ndim] if a.ndim and a.size else a", "v"),
    "read-only": ("_readonly(a)", "v"),
    "broadcast_to": ("_np.broadcast_to(a, a.shape)", "v"),
    "Python scalars": ("a.item() if a.ndim == 0 else a",
                       "v.item() if isinstance(v, _np.generic) else v"),
    "0-d arrays": ("a", "_np.asarray(v) if isinstance(v, (float, _np.floating)) else v"),
    "list of results": ("a", "v"),
    "int32 indices": ("a.astype(_np.int32) if a.dtype == _np.int64 else a", "v"),
    "0-d int": ("a", "_np.asarray(v) if isinstance(v, int) and not isinstance(v, bool) else v"),
}

HELPER = '''

import numpy as _np


def _readonly(a):
    b = a.view()
    b.setflags(write=False)
    return b


def _g_array(a):
    return {array}


def _g_scalar(v):
    return {scalar}


def _g(v, top=False):
    if isinstance(v, _np.ndarray):
        return _g_array(v)
    if type(v) is tuple:
        out = tuple(_g(e) for e in v)
        return list(out) if top and {as_list} else out
    if type(v) is list:
        return [_g(e) for e in v]
    if type(v) is dict:
        return {{k: _g(e) for k, e in v.items()}}
    return _g_scalar(v)
'''


def _wrappers(source, names):
    """Code that replaces each module-level function of ``names`` by one of the same def line
    that returns its result through ``_g``."""
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            a = node.args
            pos = [x.arg for x in a.posonlyargs + a.args]
            kw = [x.arg for x in a.kwonlyargs]
            call = ", ".join(pos + [f"{k}={k}" for k in kw])
            out += [f"_o_{node.name} = {node.name}", "", "",
                    f"def {node.name}({ast.unparse(a)}):",
                    f"    return _g(_o_{node.name}({call}), top=True)", "", ""]
    assert len(out) == 7 * len(names), names
    return "\n".join(out)


def _submission(root, transform, functions):
    """The reference, with ``functions`` ({module: [names]}) returning through ``transform``."""
    target = Path(root) / "student" / "coursework"
    shutil.copytree(REFERENCE_PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    array, scalar = TRANSFORMS[transform]
    helper = HELPER.format(array=array, scalar=scalar, as_list=transform == "list of results")
    for module, names in functions.items():
        path = target / f"{module}.py"
        source = path.read_text()
        path.write_text(source + helper + "\n\n" + _wrappers(source, names) + "\n")
    return target.parent


def _grade(root, transform, unit, functions):
    sub = _submission(root, transform, functions)
    keys = {f"{m}.{n}" for m, names in functions.items() for n in names}
    report = engine.grade(sub, [unit], keys=keys, use_bwrap=False)
    return {k: e for u in report["units"].values() for k, e in u["functions"].items()}


# ---------------------------------------------------------------- read-only results: new arrays

READ_ONLY = {"augmentation": ["random_horizontal_flip", "color_jitter"]}


@pytest.mark.parametrize("transform", ["read-only", "broadcast_to"])
def test_read_only_new_arrays_keep_full_marks(tmp_path, transform):
    entries = _grade(tmp_path / "a", transform, "04", READ_ONLY)
    entries.update(_grade(tmp_path / "o", transform, "05", {"optim": ["clip_grad_norm"]}))
    for key, entry in entries.items():
        assert entry["status"] == "passed" and entry["score"] == entry["max"], (key, entry)
        assert "read-only" not in entry["message"], entry


def test_a_read_only_view_of_the_input_still_fails(tmp_path):
    """The check fills a writable copy of the earlier result now: a result that is a read-only
    view of its input is still caught."""
    sub = _submission(tmp_path, "identity", {})
    path = sub / "coursework" / "augmentation.py"
    path.write_text(path.read_text() + textwrap.dedent('''

        _flip = random_horizontal_flip


        def random_horizontal_flip(images, *, p=0.5, rng):
            if p == 0:
                out = images.view()
                out.setflags(write=False)
                return out
            return _flip(images, p=p, rng=rng)
        '''))
    report = engine.grade(sub, ["04"], keys={"augmentation.random_horizontal_flip"},
                          use_bwrap=False)
    entry = report["units"]["04_normalization"]["functions"]["augmentation.random_horizontal_flip"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "itself (or a view of it)" in entry["message"], entry


# ---------------------------------------------------------------- layouts and scalar types

# a loss (a float and a gradient), a layer (out and its cache, a backward), a conv layer, a
# model's pieces: what the docstrings return as arrays, floats and tuples
ALLOWED = {"linear": ["softmax_loss_vectorized", "svm_loss_vectorized"],
           "layers": ["affine_forward", "affine_backward", "relu_forward"]}


@pytest.mark.parametrize("transform", ["fortran", "reversed strides", "Python scalars",
                                       "0-d arrays", "list of results"])
def test_a_representation_the_docstrings_allow_keeps_full_marks(tmp_path, transform):
    entries = _grade(tmp_path / "l", transform, "01", {"linear": ALLOWED["linear"]})
    entries.update(_grade(tmp_path / "m", transform, "02", {"layers": ALLOWED["layers"]}))
    assert len(entries) == 5
    for key, entry in entries.items():
        assert entry["status"] == "passed" and entry["score"] == entry["max"], (key, entry)


# ---------------------------------------------------------------- what a docstring rules out

def test_int32_indices_where_the_docstring_fixes_int64_are_told_so(tmp_path):
    entries = _grade(tmp_path, "int32 indices", "08", {"detection": ["nms"]})
    entry = entries["detection.nms"]
    assert entry["status"] == "failed", entry
    assert "has dtype int32 but the docstring fixes int64" in entry["message"], entry


def test_a_0d_array_where_the_docstring_says_an_int_is_told_so(tmp_path):
    entry = _grade(tmp_path, "0-d int", "03", {"cnn": ["count_parameters"]})[
        "cnn.count_parameters"]
    assert entry["status"] == "failed", entry
    assert "should return an int, got an array of shape ()" in entry["message"], entry


# ---------------------------------------------------------------- PyTorch: a loss of shape (1,)

def test_a_loss_of_one_entry_in_shape_1_is_not_told_to_average(tmp_path):
    """The PyTorch modules and functions (units 06-08, 10) kept full marks with non-contiguous
    tensors and a list for a tuple; a float loss is told to stay a tensor. A loss of shape (1,)
    (keepdim=True, .view(1)) was told to "average over the batch with .mean()", which it had."""
    pytest.importorskip("torch")
    from .submissions import bwrap, make_submission

    sub = make_submission(tmp_path, append={"generative.py": """
        _generator_loss = generator_loss


        def generator_loss(logits_fake):
            return _generator_loss(logits_fake).reshape(1)
        """})
    report = engine.grade(sub, ["10"], keys={"generative.generator_loss"},
                          use_bwrap=bwrap("10_generative"))
    entry = report["units"]["10_generative"]["functions"]["generative.generator_loss"]
    assert entry["status"] == "failed", entry
    assert "has shape (1,), expected ()" in entry["message"], entry
    assert "keepdim" in entry["hint"] and ".mean()" not in entry["hint"], entry
