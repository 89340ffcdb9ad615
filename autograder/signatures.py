"""Defaults are part of the specification: a graded function whose keyword default differs from
the docstring's signature fails before its tests run.

The tests call every function with explicit arguments, so ``conv_forward_naive(..., pad=1)`` as
a default, or ``nms(..., iou_threshold=0.3)``, kept full marks, while the notebooks (and anyone
calling the function) rely on the documented defaults. The student's defaults are read from the
source (never run): the last ``def`` of the function (or of its class's ``__init__``); a default
that is not a literal, and a function defined another way (an assignment, a decorator's
result), make no claim. The reference's come from ``inspect`` through ``t.ref.run``, so that a
release judges from its recorded data.
"""

import ast
import inspect

from .compare import Failed


def _reference_object(cw, key):
    module, _, rest = key.partition(".")
    obj = getattr(cw, module)
    for part in rest.split("."):
        obj = getattr(obj, part)
    return obj.__init__ if inspect.isclass(obj) else obj


def reference_defaults(cw, key):
    """[[name, default], ...] of the reference's ``key`` ('module.function', 'module.Class'
    for its constructor, 'module.Class.method') whose defaults are plain values."""
    out = []
    for name, parameter in inspect.signature(_reference_object(cw, key)).parameters.items():
        if parameter.default is not inspect.Parameter.empty and _plain(parameter.default):
            out.append([name, parameter.default])
    return out


def reference_signature(cw, key):
    """{"defaults": reference_defaults, "line": the def line as the stub has it} of the
    reference's ``key``: ``def svm_loss_naive(W, X, y, reg)``, ``def __init__(self, ...)`` for a
    class. Asked for every graded function, so that a release records it whatever the student
    wrote (a default the reference lacks, a signature error)."""
    function = _reference_object(cw, key)
    signature = inspect.signature(function)
    parameters = [p.replace(annotation=inspect.Parameter.empty,
                            default=p.default if p.default is inspect.Parameter.empty
                            or _plain(p.default) else _Elided())
                  for p in signature.parameters.values()]
    line = signature.replace(parameters=parameters,
                             return_annotation=inspect.Signature.empty)
    return {"defaults": reference_defaults(cw, key), "line": f"def {function.__name__}{line}"}


class _Elided:
    """A default that is not a plain value, shown as ``...`` in a def line."""

    def __repr__(self):
        return "..."


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (tuple, list)) and all(_plain(v) for v in value)


def _rebound_after(scope, node, name):
    """Whether a statement after ``node`` in ``scope`` binds ``name`` again (an assignment, an
    import): then the definition is not the code that runs."""
    later = scope[scope.index(node) + 1:]
    for statement in later:
        for sub in ast.walk(statement):
            if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Store):
                return True
            if isinstance(sub, (ast.Import, ast.ImportFrom)) and any(
                    (a.asname or a.name.split(".")[0]) == name for a in sub.names):
                return True
    return False


def _definition(source, parts):
    """The ast node of the last definition of parts[0] (then parts[1] inside it, ...), the
    constructor for a class; None when there is none."""
    try:
        scope = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    node = None
    for part in parts:
        found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and
                 n.name == part]
        if not found:
            return None
        node = found[-1]
        if _rebound_after(scope, node, part):
            return None  # the def is not what runs: a later assignment or import replaces it
        scope = node.body
    if isinstance(node, ast.ClassDef):
        init = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
        return init[-1] if init else None
    return node if not node.decorator_list else None


def definition_lines(source, key):
    """The lines of every definition of ``key``'s last name in the student's source (a
    function defined twice: Python uses the last one)."""
    parts = key.split(".")[1:]
    try:
        scope = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    for part in parts[:-1]:
        found = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == part]
        if not found:
            return []
        scope = found[-1].body
    return [n.lineno for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            and n.name == parts[-1]]


def student_defaults(source, key):
    """{name: default} of the student's definition of ``key``, for literal defaults only."""
    node = _definition(source, key.split(".")[1:])
    if node is None:
        return {}
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    out = {}
    for arg, default in pairs:
        try:
            out[arg.arg] = ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return out


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return a == b
    except Exception:  # noqa: BLE001 - a literal of the student's that does not compare
        return False


def check_defaults(t, key):
    """Fail when a literal default of the student's ``key`` differs from the reference's; return
    the reference's def line (for the hint of a call that does not fit the student's)."""
    reference = t.ref.run(reference_signature, key)  # always: a release must have recorded it
    source = t.source(key.split(".", 1)[0])
    mine = student_defaults(source, key) if source else {}
    for name, default in reference["defaults"]:
        if name in mine and not _same(mine[name], default):
            what = key.split(".", 1)[1]
            raise Failed(f"{what}: the default of {name} is {mine[name]!r}, but the docstring's "
                         f"signature has {name}={default!r}; keep the documented defaults (the "
                         "notebooks and other code rely on them)",
                         hint="write the def line as the stub gives it: change the body only")
    return reference["line"]
