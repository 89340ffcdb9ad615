"""Grade one submission: run every test of the requested units and build the report.

The report schema (stable; documented in the README):

    {"submission": str, "total": float, "max": float, "containment": str,
     "units": {"01_linear": {"score": float, "max": float,
               "functions": {"linear.svm_loss_naive": {"score": float, "max": float,
                             "status": "passed" | "failed" | "error" | "timeout" | "crashed"
                                       | "not_implemented",
                             "message": str, "hint": str | null}}}}}

Optional keys: "seconds" (grading time), "output" (the tail of what the student's code printed
during public cases), "grader_faults" (keys of functions whose test hit a bug of the grader itself;
each such entry also has "grader_fault": true), "refused" ({"coursework/x.py": why}: files of the
submission that staging did not take, see ``staging.py``), "supplied" (["coursework/x.py"]:
provided modules the submission lacked, taken from the course), "fingerprint" (SHA-256 of
the staged files: ``grade-many`` resumes only over unchanged submissions), per function
"wrong_output" (a failed function's output that was wrong: "scores", "grads['W1']") and
"failed_calls" (``dependencies.note_failed_dependencies``), and "instructor":
the part never shown to students (``report.student_view`` drops it, the table never prints it):

    {"functions": {key: {"message": str, "hint": str | null}},   # full verdicts on hidden cases
     "output": str}                                               # printed during hidden cases

A verdict on a hidden case tells the student only that a hidden case failed, how (wrong shape,
NaN, wrong values...) and the size of the error; its inputs, the values and the student's own
messages about them are in the instructor part.
"""

import builtins
import contextlib
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from . import oracle as oracle_mod
from . import scratch, staging, stubs
from .compare import Failed
from .dependencies import note_failed_dependencies
from .paths import PACKAGE_DIR, REPO_ROOT
from . import runner as runner_mod
from .runner import IMPORT_FAILED, Student, StudentError, StudentFault
from .sandbox import Limits
from .signatures import check_defaults, definition_lines
from .spec import CURRENT, Trial
from .units import UNITS, UnknownUnit, packages_of_module, resolve_units, specs_of

STATUSES = ("passed", "failed", "error", "timeout", "crashed", "not_implemented")


class UsageError(ValueError):
    """Unusable arguments (exit status 2)."""


def check_submission(path):
    """The submission directory as an absolute path (its last component not resolved: a link
    there is refused by staging), or UsageError saying what is wrong with it."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        raise UsageError(f"submission {str(path)!r} is not a directory"
                         + (" (it is a symbolic link, which is not followed)"
                            if path.is_symlink() else ""))
    return Path(os.path.abspath(path))


def stage_submission(submission):
    """Stage the submission (``staging.stage``): the grader runs and inspects only that copy.
    UsageError with the reason when it has no usable coursework package."""
    try:
        return staging.stage(submission)
    except staging.Refused as exc:
        raise UsageError(f"submission {str(submission)!r}: {exc}") from None


def default_hidden(submission, extra=()):
    """Folders the worker must not see: the repository (solutions, hidden tests, mistakes), the
    folder that holds this submission's siblings, and any extra ones (the output folder)."""
    submission = Path(submission).resolve()
    hidden = [REPO_ROOT, PACKAGE_DIR, submission, submission.parent, *map(Path, extra)]
    return [h for h in hidden if Path(h).exists()]


# Python's and PyTorch's own words for a slip, and what to do about it, appended to the
# student's error (which is kept as it is).
_KEY_ERROR = r"(?:^|: )KeyError: '([^']{1,60})'"

_EXPLAINED = [
    (r"cannot assign (module|parameters|buffer)\w* before Module\.__init__\(\) call",
     "start __init__ with super().__init__(), which sets up the nn.Module before any layer is "
     "assigned to it"),
    (r"mixed dtype|expected scalar type (Double|Float|Half)|(to|must) have the same dtype|Input "
     r"type \(.{1,40}\) and (weight|bias) type \(.{1,40}\) should be the same|found dtype "
     r"(Double|Float)",
     "float32 and float64 tensors met in one operation: the grader also runs modules in float64 "
     "(model.double()), so make new tensors in the input's dtype (dtype=x.dtype, "
     "torch.zeros_like(x)) and cast nothing to float32 (.float()) inside"),
    (r"the module could not be imported: (FileNotFoundError|PermissionError|IsADirectoryError|"
     r"NotADirectoryError|OSError)",
     "the grader imports your module alone, from a copy of coursework/ that holds only its .py "
     "files: read no file when the module is imported (load data in the notebook and pass it "
     "in)"),
    # a file that does not compile (the worker's words: "SyntaxError: expected ':'
    # (coursework/linear.py, line 24, column 51)")
    (r"(?:SyntaxError|IndentationError|TabError): .{0,600}\((coursework/\w+\.py), line (\d+)"
     r"(?:, column \d+)?\)",
     lambda found: (f"fix line {found.group(2)} of {found.group(1)} and save it (no function "
                    "of the file can run until the whole file compiles)")),
    (r'is missing the required "forward" function',
     "define forward(self, ...) as a method of the class: check its spelling and that it is "
     "indented inside the class"),
    (r"does not require grad and does not have a grad_fn",
     "the output is cut off from the parameters: forward must not use .detach(), .data, "
     ".item(), a round trip through NumPy or torch.no_grad() on the way to its result"),
    (r"leaf Variable that requires grad is being used in an in-place operation",
     "an in-place operation (+=, *=, x[...] = ..., .add_()) changed a tensor that needs its own "
     "gradient: build a new tensor instead (y = x + b, not y = x; y += b)"),
    (r"Torch not compiled with CUDA enabled|Found no NVIDIA driver|CUDA driver initialization "
     r"failed|no CUDA GPUs are available",
     "the grader may run on a machine without a GPU: make new tensors on the inputs' device "
     "(device=x.device, torch.zeros_like(x)), never on 'cuda' by name"),
    # NumPy's and PyTorch's max/min (argmax/argmin) of an empty selection
    (r"zero-size array to reduction operation \w+ which has no identity|attempt to get "
     r"arg(max|min) of an empty sequence|Expected reduction dim to be specified for "
     r"input\.numel\(\) == 0|operation does not have an identity",
     "the largest (or smallest) entry of an empty array does not exist, and this input makes "
     "the selection empty: test for that first (if mask.any(): ...) and use the value the "
     "docstring gives for that case"),
    # nn.LazyLinear / LazyConv2d: shapes the grader reads before any forward has run
    (r"uninitialized parameter|UninitializedParameter",
     "a lazy layer (nn.LazyLinear, nn.LazyConv2d) has no shape until its first forward, and "
     "the grader reads the parameters' shapes right after building the model: give the layer "
     "its in_features (compute the flattened size from the input size in __init__)"),
    # NumPy's shape errors: what the shapes say, in the student's terms
    (r"operands could not be broadcast together with shapes (\([\d, ]*\)) (\([\d, ]*\))",
     lambda found: (f"two arrays of shapes {found.group(1)} and {found.group(2)} met in one "
                    "elementwise operation, and their shapes do not line up from the right: "
                    "print the shapes at that line; a sum, max or mean over an axis without "
                    "keepdims=True (shape (N,) where (N, 1) was meant) or a missing .T is the "
                    "usual cause")),
    # np.einsum: the subscripts name each operand's axes in order
    (r"operands could not be broadcast together with remapped shapes \[original->remapped\]: "
     r"(\([\d, ]*\))->\S+ (\([\d, ]*\))->",
     lambda found: (f"in np.einsum, operands of shapes {_spaced(found.group(1))} and "
                    f"{_spaced(found.group(2))} do not fit the subscripts: each letter names "
                    "one axis of its operand, in order, and a letter that two operands share "
                    "must have the same size in both; print the shapes next to the subscripts "
                    "(a weight whose axes are in another order than the docstring's, (C, F, ...) "
                    "read as (F, C, ...), is the usual cause)")),
    (r"einstein sum subscripts string contains too many subscripts for operand (\d+)",
     lambda found: (f"in np.einsum, operand {found.group(1)} (counted from 0) has fewer axes "
                    "than its subscripts name: give it one letter per axis (print its shape)")),
    (r"matmul: Input operand 1 has a mismatch in its core dimension 0.*\(size (\d+) is "
     r"different from (\d+)\)|shapes \([\d, ]*\) and \([\d, ]*\) not aligned",
     "in A @ B (or A.dot(B)) the number of columns of A must equal the number of rows of B: "
     "compare the shapes with the docstring, and check which operand needs a .T"),
    (r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)",
     lambda found: (f"axis {found.group(2)} has {found.group(3)} entries, numbered 0 to "
                    f"{int(found.group(3)) - 1}: an index equal to the size is one past the "
                    "end (range(n), not range(1, n + 1); the last entry is [-1] or [n - 1])"
                    if found.group(1) == found.group(3) else
                    f"axis {found.group(2)} has {found.group(3)} entries, and index "
                    f"{found.group(1)} is outside them: check the loop's bounds and which axis "
                    "is indexed")),
    (r"cannot reshape array of size (\d+) into shape (\([\d, ]*\))",
     lambda found: (f"a reshape keeps the number of entries: {found.group(1)} cannot fill "
                    f"{found.group(2)}; print the array's shape just before it (np.bincount "
                    "without minlength=, for one, returns fewer counts when the largest value "
                    "is missing)")),
    (_KEY_ERROR,
     lambda found: (f"a dict was asked for the key {found.group(1)!r}, which it does not hold "
                    "at that line: print its keys there (d.keys()), and check the key's "
                    "spelling and that whatever fills the dict reached that key (a loop's "
                    "range over the layers, say)")),
    # an nn.Linear given another number of features than its in_features
    (r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)",
     lambda found: (f"if this is a linear layer, it was made for {found.group(3)} input "
                    f"features and given {found.group(2)}: check its in_features against the "
                    "flattened size before it (channels x height x width after the last "
                    "convolution or pooling; print x.shape there)" + _unflattened(*map(
                        int, found.groups())))),
]


def _cache_key_advice(message, detail):
    """Advice for a KeyError raised where the student's code reads a key of a ``cache`` (a
    backward pass reading what its forward pass stored), else None: the key is missing from
    what the forward returned, which "print its keys" alone does not say."""
    key = re.search(_KEY_ERROR, message)
    # the last frame of the student's file, with the source line the traceback quotes
    frames = re.findall(r'File "[^"]*?coursework/[^"]+", line \d+, in (\w+)\n[ \t]+([^\n]*)',
                        detail)
    if key is None or not frames:
        return None
    function, line = frames[-1]
    line = line.split("#", 1)[0]  # the code, not a comment beside it
    if not re.search(r"\bcache\w*\s*\[\s*['\"]" + re.escape(key.group(1)) + r"['\"]", line):
        return None
    forward = re.sub(r"_backward(_\w+)?$", "_forward", function)
    forward = f"your {forward}" if forward != function else "the forward pass"
    return (f"the cache holds only what {forward} put in it, and it has no key "
            f"{key.group(1)!r}: store that value in the cache the forward pass returns (in "
            "each mode that builds one), save, and check this function again")


def _unflattened(rows, cols, in_features, _out_features):
    """The words for a linear layer given a feature map that was never flattened: its input,
    rows x cols, holds a whole number of in_features-sized rows (the batch), and cols, the map's
    last axis, is fewer than in_features."""
    total = rows * cols
    if not total or cols >= in_features or total % in_features or rows % (total // in_features):
        return ""
    return (f". Its input holds exactly {total // in_features} x {in_features} numbers: if "
            f"{total // in_features} is the batch size, the feature map reached the layer "
            f"without a flatten, and the layer read its last axis (the width, {cols}) as the "
            "features: flatten it to (N, channels x height x width) first (nn.Flatten() or "
            "x.flatten(1))")


def _spaced(shape):
    """'(2,3,4)' as Python prints a shape, '(2, 3, 4)'."""
    return re.sub(r",\s*", ", ", shape)


def error_message(fault):
    """The student's exception plus where it happened in their file."""
    message = fault.message
    places = re.findall(r'File "[^"]*?(coursework/[^"]+)", line (\d+)', fault.detail or "")
    # a module staging did not take (missing, a link, too large) is the grader's stand-in, whose
    # line 1 is no place in the student's file
    if places and staging.NOT_GRADED not in message:
        path, line = places[-1]
        if f"({path}, line {line}" not in message:  # a SyntaxError's message names it already
            message += f" (at {path}, line {line})"
    undefined = re.search(r"name '(np|xp)' is not defined", message)
    if undefined and "coursework/" in (fault.detail or ""):
        # The NumPy units take their array module from their inputs and import no NumPy.
        message += ("; the coursework modules get their array module from the inputs: start the "
                    "function with xp = xp_of(x) (x: one of its array inputs) and write "
                    "xp.maximum(...) where you would write np.maximum(...)")
        if undefined.group(1) == "np":
            message += "; or add import numpy as np at the top of the file"
    said = message  # the advice is matched against the error, not against advice added
    cache_advice = _cache_key_advice(said, fault.detail or "")
    if cache_advice:
        message += "; " + cache_advice
    for pattern, advice in _EXPLAINED:
        if cache_advice and pattern == _KEY_ERROR:
            continue  # said more precisely above
        found = re.search(pattern, said)
        if found:
            message += "; " + (advice(found) if callable(advice) else advice)
    missing = re.search(r"No module named '([^']+)'", message)
    allowed = ("numpy",)
    if places:  # the module the import failed in: a PyTorch module may import torch
        try:
            allowed = packages_of_module(Path(places[-1][0]).stem)
        except UnknownUnit:
            pass
    if missing and missing.group(1).split(".")[0] not in ("coursework", *allowed):
        # Installed on the student's machine, perhaps, but not for the grader: say why.
        may = "NumPy, PyTorch" if "torch" in allowed else "NumPy"
        message += (f"; {Path(places[-1][0]).name if places else 'coursework'} may import only "
                    f"{may} and the Python standard library (the grader runs it without other "
                    "packages: the point is to write it yourself)")
    return message


# Python's own words for a call that does not fit a def line.
_SIGNATURE = re.compile(r"TypeError: ([\w.]+)\(\) (takes |missing \d+ required |got an unexpected "
                        r"keyword argument|got multiple values for argument|got some "
                        r"positional-only)")


def signature_hint(fault, def_line=None):
    """A hint for a TypeError raised by the grader's call itself (no frame of the student's
    code: the call does not fit the student's def line), else None. ``def_line`` is the
    reference's (the stub's), quoted when known."""
    found = _SIGNATURE.match(fault.message or "")
    if found is None or "coursework/" in (fault.detail or ""):
        return None
    stub = f" `{def_line}`" if def_line else ""
    return (f"the grader calls {found.group(1)}() with the parameters its docstring lists, as "
            f"in the stub's def line{stub}: keep their names, their order and the keyword-only "
            "marker (*), and give a default to any parameter you add")


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text, limit=2000, one_line=True):
    """Text from student code, safe to show: no control characters (terminal escapes), one line,
    bounded."""
    if text is None:
        return None
    text = " ".join(str(text).split()) if one_line else str(text).replace("\t", " ")
    text = _UNPRINTABLE.sub("?", text)
    return text if len(text) <= limit else text[:limit] + " [...]"


def _printable_output(text, limit=2000):
    """The end of the captured output, line breaks kept, control characters replaced."""
    return "\n".join(_printable(line, limit, one_line=False)
                     for line in text[-limit:].split("\n"))


# The hint of a failure on a hidden case that no known mistake explains: the public cases ran
# first and passed, so the student knows where to look.
HIDDEN_HINT = ("the public cases pass, so the code is right for them but not in general: read the "
               "docstring again for shapes and values they do not cover (batch size 1, "
               "non-square shapes, other hyperparameters, edge values)")
# ... and when the hidden case's answer came out NaN or inf where the expected one is finite.
HIDDEN_NONFINITE_HINT = ("the public cases pass, but on a hidden case the result holds NaN or inf "
                         "where the answer is finite: look for exp of large or widely spread "
                         "values (subtract each row's own maximum first), a division by a "
                         "quantity that can be 0, or log of 0")


# ... and when it is off by float32 rounding only.
HIDDEN_FLOAT32_HINT = ("the public cases pass, and on a hidden case the result is off only by "
                       "float32 rounding: look for float32 arithmetic that other shapes or values "
                       "reach (an .astype(np.float32), a float32 buffer or constant, np.float32 "
                       "scalars), or an eps used in another place than the docstring says")


# A NotImplementedError from a function whose earlier calls returned: a branch is left to write
# (``if method == "11point": raise NotImplementedError``). It is an error shown with its case,
# not a "todo" that hides where it was raised.
PARTIAL_NOTE = ("; its earlier calls returned, so part of it (or of a function it calls) is "
                "still to write")


def _written_in_part(key, trial):
    """Whether the graded function ``key`` (not a class: a constructor returns before its
    methods are written) answered a call before this one raised NotImplementedError."""
    name = key.rsplit(".", 1)[1]
    answered = getattr(trial.student, "answered", None)
    return (not name[:1].isupper() and isinstance(answered, dict)
            and answered.get(key, 0) > 0)


# The stubs' own words (``stubs.py``): which function's stub raised.
_STUB_RAISE = re.compile(r"([\w.]+): " + re.escape(stubs.NOT_WRITTEN + stubs.WRITE_IN)
                         + r"coursework/(\w+)\.py")


def _not_implemented_message(raised, name):
    """"not implemented yet", and whose stub raised when its words say: the function's own
    (OWN_STUB) or one it calls (a student who wrote the function is not told to write it)."""
    found = _STUB_RAISE.search(raised or "")
    if found is None:
        return "not implemented yet (it raises NotImplementedError)"
    stub, module = found.group(1), found.group(2)
    if stub == name or stub.startswith(name + "."):  # a method of the class under test
        return "not implemented yet " + OWN_STUB
    return (f"not implemented yet: {stub} in coursework/{module}.py, which this one needs, "
            "still has its `raise NotImplementedError`")


OWN_STUB = "(its own `raise NotImplementedError` is still there)"


def run_test(test, trial):
    """Run one function's test; return its report entry.

    Whatever the submission does, the entry has a status and a message. An exception that is not
    a verdict (a bug of the grader met by unusual output) costs only this function and is marked
    ``grader_fault``, as does a reference answer a release did not record (NotRecorded); a
    missing reference (GraderFault) stops grading. An entry whose failure happened on a hidden
    case carries the full text under "instructor" (moved out of the entry by ``grade``).
    """
    entry = {"score": 0.0, "max": test.points, "status": "passed", "message": "", "hint": None}
    name = test.key.split(".", 1)[1]
    CURRENT.reset()
    def_line = None
    try:
        def_line = check_defaults(trial, test.key)  # a rule on the source: no case in progress
        test.func(trial)
        entry["score"] = test.points
        entry["message"] = "all checks passed"
    except Failed as failure:
        entry.update(status="failed", message=failure.message, hint=failure.hint)
        if failure.quantity:  # which output: a wrong loss is no fault of a backward it calls
            entry["wrong_output"] = failure.quantity
        if CURRENT.hidden:
            entry["instructor"] = {"message": failure.message, "hint": failure.hint}
            entry["message"] = (f"{name}: failed on hidden case {max(CURRENT.hidden_seen, 1)}: "
                                f"{failure.summary()}")
            if not failure.hint:
                entry["hint"] = (HIDDEN_NONFINITE_HINT if failure.kind == "nonfinite"
                                 else HIDDEN_FLOAT32_HINT if failure.float32_sized()
                                 else HIDDEN_HINT)
    except StudentFault as fault:
        partial = fault.status == "not_implemented" and _written_in_part(test.key, trial)
        if partial:
            fault = StudentError(fault.message, fault.detail)
        message = error_message(fault) + (PARTIAL_NOTE if partial else "")
        if fault.status == "timeout" and "naive" in name:
            message = message.replace(runner_mod.SLOW_ADVICE, runner_mod.NAIVE_SLOW_ADVICE)
        if fault.status == "not_implemented":
            message = _not_implemented_message(fault.message, name)
            module = test.key.split(".", 1)[0]
            lines = definition_lines(trial.source(module), test.key)
            if len(lines) > 1:
                message += (f"; it is defined {len(lines)} times in coursework/{module}.py "
                            f"(lines {', '.join(map(str, lines))}): Python uses the last one")
        elif fault.status == "crashed" and fault.detail:
            message += "; its last output: " + fault.detail.strip()[-300:]
        entry.update(status=fault.status, message=message,
                     hint=getattr(fault, "hint", None) or signature_hint(fault, def_line))
        if fault.status != "not_implemented" and CURRENT.hidden:
            entry["instructor"] = {"message": message, "hint": entry["hint"]}
            kind = fault.message.split(":", 1)[0] if fault.status == "error" else fault.status
            if fault.status == "timeout" and "budget" in fault.message:
                kind = "budget"
            entry["message"] = (f"{name}: on hidden case {max(CURRENT.hidden_seen, 1)}: "
                                + _hidden_fault(fault.status, kind))
        elif (fault.status != "not_implemented" and CURRENT.label
              and not fault.message.startswith(IMPORT_FAILED)):  # no input is to blame
            # a label that is a call already ("TinyYOLO(3) on input ...") is not wrapped again
            called = CURRENT.label.startswith(name.rsplit(".", 1)[-1] + "(")
            entry["message"] = (f"{CURRENT.label}: {message}" if called
                                else f"{name}({CURRENT.label}): {message}")
    except oracle_mod.NotRecorded as exc:
        entry.update(status="error", grader_fault=True,
                     message=f"the grader could not check this function here ({exc}); this is a "
                             "fault of the course's release, not of your code: please report it "
                             "(the instructor's grader checks it in full)")
    except oracle_mod.GraderFault:
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        entry.update(status="error", grader_fault=True,
                     message=f"the grader could not check this function ({type(exc).__name__}: "
                             f"{exc}); this is a fault of the grader, please report it")
        if CURRENT.hidden:
            entry["instructor"] = {"message": entry["message"], "hint": None}
            entry["message"] = (f"the grader could not check this function on hidden case "
                                f"{max(CURRENT.hidden_seen, 1)}; this is a fault of the grader, "
                                "please report it")
    finally:
        CURRENT.reset()
    entry["message"] = _printable(entry["message"]) or entry["status"]
    entry["hint"] = _printable(entry["hint"])
    if "instructor" in entry:
        entry["instructor"] = {k: _printable(v) for k, v in entry["instructor"].items()}
    return entry


# The exception names shown for a hidden case: Python's own and NumPy's. Any other name is the
# student's to choose, so it could carry the hidden inputs out (a class named after them).
_SHOWN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)) | {
    "LinAlgError", "AxisError", "numpy.linalg.LinAlgError", "numpy.exceptions.AxisError"}


def _hidden_fault(status, kind):
    if status == "error":
        kind = kind if kind in _SHOWN_EXCEPTIONS else "an error"
        return f"the code raised {kind}"
    if kind == "budget":
        return ("the function's calls together took more than its time budget (each call "
                "within the limit of one call, but far too slow together)")
    return {"timeout": "the call did not finish within the time limit",
            "crashed": "the worker process died"}.get(status, status)


def _one_blas_thread():
    """The judge's reference computations on one BLAS thread: on a busy machine a threaded BLAS
    spinning against other processes makes a 0.1 s product take seconds."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def _one_judge_thread(unit_names):
    """BLAS and, where PyTorch units are graded, PyTorch on one thread in the judge while it
    grades (restored after): grade-many runs a judge per core, and each judge's PyTorch on
    every core made two workers slower than one."""
    torch = None
    if "torch" in sys.modules or any("torch" in packages_of_module(m) for u in unit_names
                                     for m in UNITS[u][1]):
        import torch
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    try:
        with _one_blas_thread():
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(threads)


def _limits_for(limits, packages, unit_names):
    """``limits`` for a worker that may import ``packages`` (on CUDA: CuPy too, calls into the
    PyTorch modules of ``unit_names`` get CUDA tensors, and longer time limits; ``device.py``)."""
    limits = replace(limits, packages=tuple(packages))
    if limits.device == "cuda":
        from .device import TIME_FACTOR, cuda_packages, torch_modules

        limits = replace(limits, packages=cuda_packages(limits.packages),
                         torch_modules=torch_modules(unit_names),
                         call_seconds=limits.call_seconds * TIME_FACTOR,
                         cpu_seconds=limits.cpu_seconds * TIME_FACTOR)
    return limits


def max_points(units=None):
    """The points ``grade`` would give a perfect submission of ``units`` (names as for
    ``resolve_units``)."""
    return float(sum(test.points for unit in resolve_units(units) for spec in specs_of(unit)
                     for test in spec.tests.values()))


def grade(submission, units=None, *, limits=None, public_only=False, hidden=(), oracle=None,
          budget_seconds=600.0, use_bwrap=None, keys=None):
    """Grade ``submission`` (a folder with a ``coursework`` package); return the report dict.

    ``keys`` restricts grading to these 'module.function' keys (the notebook checks).
    """
    submission = check_submission(submission)
    unit_names = resolve_units(units)
    limits = limits or Limits()
    oracle = oracle or oracle_mod.default_oracle(unit_names)
    report = {"submission": str(submission), "total": 0.0, "max": 0.0, "units": {}}
    started = time.monotonic()
    scratch.sweep_once()  # what a grader killed earlier left in the temporary directory
    staged = stage_submission(submission)
    if staged.refused:
        report["refused"] = {_printable(k, 200): _printable(v, 300)
                             for k, v in staged.refused.items()}
    if staged.supplied:
        report["supplied"] = list(staged.supplied)
    report["fingerprint"] = staging.fingerprint(staged.path)
    started_workers = []

    def trial_for(packages, stack):
        """The Trial of the worker that may import ``packages`` (started on first use): each
        set of packages gets a worker of its own (``units.packages_of_module``)."""
        for known, trial in started_workers:
            if known == packages:
                return trial
        worker_limits = _limits_for(limits, packages, unit_names)
        student = stack.enter_context(Student(staged.path, worker_limits, use_bwrap=use_bwrap,
                                              hidden=default_hidden(submission, hidden)))
        report.setdefault("containment", student.containment.note)
        student.deadline = started + budget_seconds
        trial = Trial(student, oracle, public_only=public_only)
        started_workers.append((packages, trial))
        return trial

    report["device"] = limits.device
    with staged, _one_judge_thread(unit_names), contextlib.ExitStack() as stack:
        for unit in unit_names:
            unit_report = {"title": UNITS[unit][0], "score": 0.0, "max": 0.0, "functions": {}}
            for spec in specs_of(unit):
                for key, test in spec.tests.items():
                    if keys is not None and key not in keys:
                        continue
                    if time.monotonic() - started > budget_seconds:
                        entry = {"score": 0.0, "max": test.points, "status": "timeout",
                                 "message": f"not graded: the submission used up its time "
                                            f"budget of {budget_seconds:g} s", "hint": None}
                    else:
                        trial = trial_for(packages_of_module(spec.module), stack)
                        trial.student.start_function()
                        entry = run_test(test, trial)
                    unit_report["functions"][key] = entry
                    unit_report["score"] += entry["score"]
                    unit_report["max"] += entry["max"]
            if unit_report["functions"]:
                report["units"][unit] = unit_report
                report["total"] += unit_report["score"]
                report["max"] += unit_report["max"]
        if not started_workers:  # nothing to grade: still say how code would be contained
            trial_for(packages_of_module(specs_of(unit_names[0])[0].module), stack)
        output = "\n".join(filter(None, (t.student.output().strip()
                                          for _, t in started_workers)))
        hidden_output = "\n".join(filter(None, (t.student.hidden_output().strip()
                                                 for _, t in started_workers)))
    if output:
        report["output"] = _printable_output(output)
    note_failed_dependencies(report)
    instructor = {}
    for unit in report["units"].values():
        for key, entry in unit["functions"].items():
            if "instructor" in entry:
                instructor.setdefault("functions", {})[key] = entry.pop("instructor")
    if hidden_output:
        instructor["output"] = _printable_output(hidden_output)
    if instructor:
        report["instructor"] = instructor
    faults = [k for u in report["units"].values() for k, e in u["functions"].items()
              if e.get("grader_fault")]
    if faults:
        report["grader_faults"] = faults
    report["seconds"] = round(time.monotonic() - started, 2)
    return report
