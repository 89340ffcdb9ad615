"""Which graded functions a graded function calls, read from the reference's source.

A student's ``lstm_backward`` calls the student's own ``lstm_step_backward`` (the stubs keep the
reference's imports), so one bug in the step fails both. When a function fails and a function it
calls fails too, the report says so (``note_failed_dependencies``): the student fixes the
callee first instead of hunting for a bug that is not there.

The calls are found statically in ``solutions/coursework/<module>.py`` with ``ast``: inside the
function's (or class's) body, a name imported from another course module (``from .layers import
affine_forward``), a module-level function of the same module, or ``module.function`` after
``from . import module``. A backward also "calls" its forward: its test gets the cache from the
student's own forward. Only graded keys count. A student may structure the code differently,
so the report says the failure *may* follow from the callee's.
"""

import ast
import json
from functools import lru_cache

from .paths import RECORDED_DIR, REFERENCE_PACKAGE
from .spec import is_gradient

# The call graph of the graded functions, written into a student release (which has no
# reference source to read it from) by ``write_calls``.
CALLS_FILE = "calls.json"


@lru_cache(maxsize=None)
def _tree(module):
    path = REFERENCE_PACKAGE / f"{module}.py"
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None


def _imported(tree):
    """{local name: 'module.name'} for ``from .module import name`` and {local name: 'module'}
    for ``from . import module``, anywhere in the file."""
    names, modules = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module:
                    names[local] = f"{node.module}.{alias.name}"
                else:
                    modules[local] = alias.name
    return names, modules


def _definition(tree, path):
    """The FunctionDef/ClassDef at ``path`` ('f', 'Class' or 'Class.method'), or None."""
    body = tree.body
    node = None
    for part in path.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return node


@lru_cache(maxsize=None)
def calls(key, graded):
    """The graded keys (from the frozenset ``graded``) that the reference of ``key`` refers
    to, other than itself, sorted; in a student release, from the shipped call graph."""
    if not REFERENCE_PACKAGE.is_dir():
        return tuple(k for k in _shipped().get(key, ()) if k in graded)
    module, _, path = key.partition(".")
    tree = _tree(module)
    node = _definition(tree, path) if tree is not None else None
    if node is None:
        return ()
    found = _referred(module, tree, node)
    # a module-level table of functions (layers.ACTIVATIONS: name -> (forward, backward)) is
    # followed to the functions it holds
    for name in sorted(found):
        table_module, _, table = name.partition(".")
        table_tree = _tree(table_module)
        value = _module_value(table_tree, table) if table_tree is not None else None
        if value is not None:
            found |= _referred(table_module, table_tree, value)
    forward = _forward_of(key, graded)
    if forward is not None:
        found.add(forward)
    found.discard(key)
    return tuple(sorted(k for k in found if k in graded and not key.startswith(k + ".")))


def _forward_of(key, graded):
    """The forward whose cache a backward's test hands to it: the test calls the student's own
    forward (``toolkit.check_backward``), so a forward that raises or fails fails the backward
    too. 'conv.max_pool_backward_naive' -> 'conv.max_pool_forward_naive',
    'normalization.batchnorm_backward_alt' -> 'normalization.batchnorm_forward',
    'segmentation.upsample_nearest_backward' -> 'segmentation.upsample_nearest'."""
    module, _, name = key.partition(".")
    if "_backward" not in name:
        return None
    head, _, tail = name.partition("_backward")
    for candidate in (f"{head}_forward{tail}", f"{head}_forward", head):
        if f"{module}.{candidate}" in graded:
            return f"{module}.{candidate}"
    return None


def _referred(module, tree, node):
    """'module.name' of every name and ``module.attribute`` that ``node`` refers to."""
    names, modules = _imported(tree)
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(names.get(sub.id, f"{module}.{sub.id}"))
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                and sub.value.id in modules:
            found.add(f"{modules[sub.value.id]}.{sub.attr}")
    return found


def _module_value(tree, name):
    """The value assigned to ``name`` at the top level of ``tree`` (a table), or None."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            return node.value
    return None


@lru_cache(maxsize=1)
def _shipped(directory=RECORDED_DIR):
    try:
        data = json.loads((directory / CALLS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_calls(directory, graded):
    """Write the call graph of the graded keys (``calls``) into ``directory``/calls.json."""
    graded = frozenset(graded)
    graph = {key: list(calls(key, graded)) for key in sorted(graded) if calls(key, graded)}
    path = directory / CALLS_FILE
    # one line: the release's leak check compares lines with the hidden tests and mistakes
    path.write_text(json.dumps(graph, sort_keys=True, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    return graph


def callees(keys, graded):
    """The graded keys that ``keys`` call (directly), not among ``keys``."""
    graded = frozenset(graded)
    return sorted({c for k in keys for c in calls(k, graded)} - set(keys))


def called_name(callee, caller):
    """How a verdict about ``caller`` names the graded function ``callee`` it calls: its bare
    name in the caller's own module (``lstm_step_backward``), with its module from another one
    (``layers.affine_forward`` called by ``regularization.RegularizedNet``), so that the student
    knows which file to open."""
    module, _, name = callee.partition(".")
    return name if module == caller.partition(".")[0] else callee


def note_failed_dependencies(report):
    """Add to the hint of every function that did not pass the graded functions it calls that
    did not pass either (in this report)."""
    entries = {key: entry for unit in report["units"].values()
               for key, entry in unit["functions"].items()}
    graded = frozenset(entries)
    for key, entry in entries.items():
        if entry["status"] == "passed" or "failed_calls" in entry or _import_failed(entry):
            continue
        failing, through = _failing_callees(key, graded, entries)
        if entry.get("wrong_output") and not is_gradient(str(entry["wrong_output"])):
            # a wrong loss or scores (no gradient): what the backward passes compute is not in it
            failing = [k for k in failing if "_backward" not in k.split(".", 1)[1]]
        if not failing:
            continue
        named = ", ".join(called_name(k, key) + (f" (through your {called_name(through[k], key)})"
                                                  if k in through else "") for k in failing)
        unwritten = all(entries[k]["status"] == "not_implemented" for k in failing)
        verb = ("is not implemented yet" if len(failing) == 1 else "are not implemented yet") \
            if unwritten else ("fails its own test" if len(failing) == 1
                               else "fail their own tests")
        one = len(failing) == 1
        note = (f"this function calls your {named}, which {verb}: fix "
                f"{'that' if one else 'those'} first, this failure may only follow from "
                f"{'it' if one else 'them'}")
        entry["hint"] = note + (f"; otherwise: {entry['hint']}" if entry.get("hint") else "")
        entry["failed_calls"] = failing


def _import_failed(entry):
    """Whether ``entry`` failed because a module could not be imported (a syntax error, a hang
    at import): its message names that cause, which every function of the module shares; a
    note sending the student to another function of it would only repeat it."""
    message = entry.get("message") or ""
    return "the module could not be imported" in message or (
        "importing coursework/" in message and "did not finish" in message)


def _failing_callees(key, graded, entries):
    """The graded functions that ``key`` calls, directly or through functions that pass their
    own tests (coco_map -> mean_average_precision -> average_precision), that do not pass;
    and {such a callee: the direct callee it is reached through}."""
    failing, through, seen = [], {}, {key}
    frontier = [(callee, None) for callee in calls(key, graded)]
    while frontier:
        callee, via = frontier.pop(0)
        if callee in seen:
            continue
        seen.add(callee)
        if entries[callee]["status"] != "passed":
            failing.append(callee)
            if via is not None:
                through[callee] = via
            continue  # its own note names what it calls
        frontier += [(deeper, via or callee) for deeper in calls(callee, graded)]
    return failing, through
