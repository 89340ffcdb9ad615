"""Code the grader cannot see: the constructs that change or hide which code runs.

Whatever the analysis cannot see through (``exec``, ``eval``, ``compile``, ``globals()``,
``setattr``, ``sys.modules``, ``__dict__``, ``importlib``... anywhere in the package, or
``getattr`` with a computed name in the code that runs) fails the rule with a message that says
so: the grader must be able to see the code it grades. A module's own variable named
``code`` (``code = target * K + pred``) is not that module (``ORDINARY_NAMES``); such a module
reached as another's attribute (``pkgutil.importlib``) is. So is what runs a string of code or
reaches a builtin from a string (``cProfile.runctx``, ``doctest``, ``typing.get_type_hints``,
``eval_str=True``, the C API through ctypes, ``len.__self__``, ``pkgutil.resolve_name``,
``attrgetter("...map")``): a ``map`` hidden there loops where no line is counted. Code under
the module's ``if __name__ == "__main__":`` is not read (the grader imports the module), nor is
an ``import pdb`` (``doctest``, ``cProfile``, ``profile``; also among other names, ``import
cProfile, pstats``) left from debugging: the name's uses are.

The loop rules (``rules``) fail a function whose package uses any of them, with the construct
and its line in the message.
"""

import ast
import re

DYNAMIC_CALLS = {"exec", "eval", "compile", "globals", "locals", "vars", "__import__",
                 "setattr", "delattr", "execfile", "reload"}
# Modules that run strings as code or reach any object from a string naming it: besides those of
# imports and interpreters, the debuggers and profilers that run a statement given as a string
# (cProfile.runctx, profile, pdb, bdb, trace), doctest (runs the examples of a docstring) and
# pydoc (locate("builtins.map") is the builtin, out of the rules' sight).
DYNAMIC_NAMES = {"importlib", "marshal", "builtins", "__builtins__", "runpy", "code", "codeop",
                 "shelve", "copyreg", "doctest", "cProfile", "profile", "pdb", "bdb", "trace",
                 "pydoc",
                 # imp.load_source and a module's own loader (type(__loader__)(name, path))
                 # run a file that no import statement names, which the rule never reads;
                 # __main__ is the worker's module (from __main__ import __name__ would run
                 # code under the main guard)
                 "imp", "zipimport", "__loader__", "__spec__", "__main__"}
# ... of which these a student may leave imported from debugging or profiling (import pdb): the
# plain import statement runs no string and is not refused; every use of the module is
# (pdb.set_trace() too: a debugger runs the commands it reads as code)
IMPORT_ONLY = {"pdb", "doctest", "cProfile", "profile"}
# what a student who left one of them in the code may do instead (the message says it)
_GUARD_ONLY = (" outside the main guard: call it directly under 'if __name__ == \"__main__\":' "
               "(a function defined outside the guard, such as a main(), may be called from "
               "anywhere, and is refused), or remove it")
DEBUGGING_ADVICE = {"doctest": _GUARD_ONLY, "cProfile": _GUARD_ONLY, "profile": _GUARD_ONLY,
                    "pdb": " (a breakpoint left in: remove it before handing in)",
                    "__spec__": " (only __spec__.name, .parent and .origin may be read)"}
# ... of which these are also ordinary variable names: a module's own variable of that name
# (code = target * K + pred, from numpy import trace) is not the module (any other, importlib =
# pkgutil.importlib, is); as an attribute (np.trace) they are not refused either
ORDINARY_NAMES = {"code", "profile", "trace"}
# Modules that hide code only through some of their names: unpickling can call anything (a
# pickled ``exec``), saving cannot; ``types`` builds functions from code objects, but its
# SimpleNamespace does not; ``timeit`` runs a string of code (an ``exec``), its default_timer
# does not; ``sys.path`` (also as ``from sys import path``) imports code from a file written at
# run time. ``import pickle`` for a helper that saves weights is fine.
DYNAMIC_MEMBERS = {"pickle": {"load", "loads", "Unpickler", "_load", "_loads", "_Unpickler"},
                   "types": {"CodeType", "FunctionType", "LambdaType"},
                   "timeit": {"timeit", "repeat", "Timer", "main"},
                   "sys": {"path", "meta_path", "path_hooks"},
                   # evaluate strings of code: annotations written as strings, forward references
                   "typing": {"get_type_hints", "ForwardRef", "_eval_type", "evaluate_forward_ref"},
                   "typing_extensions": {"get_type_hints", "ForwardRef", "evaluate_forward_ref"},
                   # any object from a string that names it ("builtins:map")
                   "pkgutil": {"resolve_name"},
                   # logging.config's converters resolve "ext://builtins.map" and "()" factories
                   "logging": {"config"},
                   # the interpreter's C API (PyRun_SimpleString runs a string of code)
                   "ctypes": {"pythonapi", "PyDLL", "pydll"},
                   # any live object: a module's namespace (get_referrers(SCALES) is the dict
                   # that a module constant lives in, globals() by another name), the builtin
                   # map among the objects of the heap
                   "gc": {"get_referrers", "get_referents", "get_objects"},
                   # attributes fetched by a computed name (getmembers(len)'s "__self__" is
                   # the builtins module), as getattr with a computed name is; a generator's
                   # locals, f_locals by another name (its ".0" is the iterator it consumes:
                   # (t for t in map(int, ())) kept a map, and so the class map, reachable)
                   "inspect": {"getmembers", "getmembers_static", "getattr_static",
                               "getgeneratorlocals", "getcoroutinelocals", "getasyncgenlocals",
                               # a closure's cells, a frame's locals: the grader's counting
                               # sum keeps the builtin in one (worker.count_consumers), as
                               # __closure__ and f_locals do
                               "getclosurevars", "getargvalues"}}
# the modules of DYNAMIC_MEMBERS whose alias (import sys as s) is refused outright; the others'
# aliases are followed (import typing as t; t.get_type_hints is refused, t.Optional is not)
ALIAS_REFUSED = {"pickle", "types", "timeit", "sys"}
# Submodules imported by their dotted name that are such members (import logging.config)
DYNAMIC_SUBMODULES = {f"{m}.{n}" for m, names in DYNAMIC_MEMBERS.items() for n in names}
# Keyword arguments that make a call evaluate strings of code (inspect.signature(f,
# eval_str=True) and inspect.get_annotations evaluate string annotations)
DYNAMIC_KEYWORDS = {"eval_str"}
# Names of the interpreter's C API (PyRun_SimpleString, Py_CompileString, PyEval_EvalCode), as
# attributes or strings (ctypes.CDLL(None)["PyRun_SimpleString"]): they run or build code
C_API_NAME = re.compile(r"_?Py(?:Run|Eval|Import|Object|Code|Function|Frame|Module|Dict|Sys|"
                        r"Marshal|GILState|Thread|Interpreter|CFunction|Callable|Type|Cell|"
                        r"Capsule|Err|Instance|Method|Gen|Coro|AST|Parser|Unstable|Long|"
                        r"Unicode|Bytes|Tuple|List|Iter|Mapping|Sequence|Number|Mem|"
                        r"Buffer|Context|Config|State)?_[A-Za-z_]+$")
# Functions that fetch an attribute named by a string: the names they are given are checked as
# attributes (attrgetter("__self__.map")), and a computed name hides what runs
NAMED_GETTERS = {"getattr", "attrgetter", "methodcaller"}
DYNAMIC_ATTRS = {"__dict__", "__globals__", "__code__", "__builtins__", "modules",
                 "__getattribute__", "__setattr__", "__class__", "__closure__", "f_globals",
                 "f_locals", "__wrapped__", "f_trace", "f_trace_lines", "_getframe",
                 "settrace", "setprofile",
                 # a builtin function's __self__ is the builtins module (len.__self__.map)
                 "__self__",
                 # every class (object.__subclasses__() holds map); the class of an object
                 # and its arguments (map(int, ()).__reduce__()[0] is map)
                 "__subclasses__", "__reduce__", "__reduce_ex__"}


def call_name(node):
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def other_bindings(node):
    """Names a node binds that are no ``ast.Name`` in a store context."""
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    return []


def dynamic_call(node):
    name = call_name(node)
    if name == "getattr" and (len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
        return "getattr with a computed name"
    if name in ("attrgetter", "methodcaller") and (
            not node.args or not isinstance(node.args[0], ast.Constant)
            or name == "attrgetter" and not all(isinstance(a, ast.Constant) for a in node.args)):
        return f"{name} with a computed name"
    return ""


def _named_attribute(node):
    """The attribute names a getattr/attrgetter/methodcaller call names by a string constant
    (dotted for attrgetter: "__self__.map" names __self__ and map)."""
    if not (isinstance(node, ast.Call) and call_name(node) in NAMED_GETTERS):
        return []
    args = node.args[1:2] if call_name(node) == "getattr" else node.args[:1] \
        if call_name(node) == "methodcaller" else node.args
    return [part for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            for part in a.value.split(".")]


def _refused_attribute(attr, loop_calls=frozenset()):
    """Why reaching attribute ``attr`` (of anything) hides which code runs, or ''."""
    if attr in DYNAMIC_ATTRS or attr in DYNAMIC_NAMES - ORDINARY_NAMES:
        return f".{attr}"
    if C_API_NAME.match(attr) or attr in DYNAMIC_MEMBERS["ctypes"]:
        return f".{attr} (the interpreter's C API)"
    if attr in loop_calls:  # a call once per element that the loop rules would not see
        return f"a loop call ({attr}) named by a string"
    return ""


def main_guarded(tree):
    """The ids of the nodes inside the module's top-level ``if __name__ == "__main__":`` blocks
    (``import doctest; doctest.testmod()`` there is a common idiom): code the grader never runs,
    since it imports the module; none when the module binds ``__name__`` itself, in any way
    (``__name__ = ...``, ``from __main__ import __name__``, ``def __name__``...)."""
    if any((isinstance(n, ast.Name) and n.id == "__name__" and not isinstance(n.ctx, ast.Load))
           or "__name__" in other_bindings(n) for n in ast.walk(tree)):
        return set()
    guarded = set()
    for node in tree.body:
        test = node.test if isinstance(node, ast.If) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 \
                and isinstance(test.ops[0], ast.Eq) and not node.orelse \
                and _name_is_main(test.left, test.comparators[0]):
            guarded.update(id(n) for statement in node.body for n in ast.walk(statement))
    return guarded


def _name_is_main(left, right):
    """``__name__ == "__main__"``, written either way round (``"__main__" == __name__``)."""
    def is_name(n):
        return isinstance(n, ast.Name) and n.id == "__name__"

    def is_main(n):
        return isinstance(n, ast.Constant) and n.value == "__main__"

    return (is_name(left) and is_main(right)) or (is_main(left) and is_name(right))


# What reading ``__spec__`` for may give: strings (the module's name, its package, its file, as
# ``__name__`` and ``__file__`` do); its loader and the rest stay refused
SPEC_READS = {"name", "parent", "origin"}


def spec_reads(tree):
    """The ids of the ``__spec__`` names read only for ``SPEC_READS`` (``log.debug("%s",
    __spec__.name)``), not called there: none when the module binds ``__spec__`` in any way (an
    assignment, a parameter, ``import x as __spec__``, ``global __spec__``), where its
    ``.name`` could be anything."""
    if any((isinstance(n, ast.Name) and n.id == "__spec__" and not isinstance(n.ctx, ast.Load))
           or (isinstance(n, ast.arg) and n.arg == "__spec__")
           or (isinstance(n, (ast.Global, ast.Nonlocal)) and "__spec__" in n.names)
           or "__spec__" in other_bindings(n) for n in ast.walk(tree)):
        return set()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)
            and n.attr in SPEC_READS and id(n) not in called
            and isinstance(n.value, ast.Name) and n.value.id == "__spec__"}


def debugging_imports(tree):
    """The ids of the statements that import a debugging or profiling module and nothing else
    (IMPORT_ONLY), as itself: ``import pdb`` left from debugging. Any use of the name is still
    refused where it stands."""
    return {id(node) for node in ast.walk(tree) if isinstance(node, ast.Import) and all(
        a.name in IMPORT_ONLY and a.asname in (None, a.name) for a in node.names)}


def module_aliases(tree):
    """{alias: module} of ``import typing as t`` for the modules of DYNAMIC_MEMBERS whose
    aliases are followed (not refused outright: ALIAS_REFUSED)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in DYNAMIC_MEMBERS:
                    aliases[alias.asname] = alias.name
    return aliases


def own_variables(tree):
    """The ``ORDINARY_NAMES`` the module binds itself (assigned, parameters, loop and with
    targets, defs, except-as), not by an import: a variable the student named ``code`` (code =
    target * K + pred) is not the stdlib module ``code``, which only an import (refused), a
    star import (which binds no name in the tree) or an attribute (refused) brings in."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            own.add(node.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] \
                not in DYNAMIC_NAMES:  # from numpy import trace: numpy's, not the module
            own.update(a.asname or a.name for a in node.names)
    return own & ORDINARY_NAMES


def dynamic_construct(node, own=frozenset(), aliases=None, loop_calls=frozenset()):
    """A construct that changes or hides which code runs, anywhere in the package (``own``:
    the names the module binds as its own variables, ``own_variables``; ``aliases``: the
    module's ``import typing as t``, ``module_aliases``)."""
    aliases = aliases or {}
    if isinstance(node, ast.Call) and call_name(node) in DYNAMIC_CALLS:
        return f"{call_name(node)}()"
    if isinstance(node, ast.Call):
        for k in node.keywords:
            if k.arg in DYNAMIC_KEYWORDS:
                return f"{call_name(node)}({k.arg}=...)"
        for attr in _named_attribute(node):
            refused = _refused_attribute(attr, loop_calls)
            if refused:
                return f"{call_name(node)}(..., {attr!r}): {refused}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and C_API_NAME.match(node.value):
        return f"{node.value!r} (the interpreter's C API)"
    if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES and node.id not in own:
        return node.id + DEBUGGING_ADVICE.get(node.id, "")
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        # import pdb, sys: the debugging module imported as itself runs nothing (IMPORT_ONLY);
        # the statement's other names are judged as if imported alone
        names = [a.name for a in node.names if not (
            isinstance(node, ast.Import) and a.name in IMPORT_ONLY
            and a.asname in (None, a.name))] + [getattr(node, "module", None) or ""]
        for n in names:
            if n.split(".")[0] in DYNAMIC_NAMES or n in DYNAMIC_SUBMODULES:
                if isinstance(node, ast.ImportFrom) and node.module and n in ORDINARY_NAMES \
                        and n != node.module:
                    continue  # from numpy import trace: numpy's function, not the module
                return f"import {n}"
        members = DYNAMIC_MEMBERS.get(getattr(node, "module", None) or "")
        if isinstance(node, ast.ImportFrom) and members is not None:
            for alias in node.names:
                if alias.name == "*" or alias.name in members:
                    return f"from {node.module} import {alias.name}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ALIAS_REFUSED and alias.asname not in (None, alias.name):
                    return f"import {alias.name} as {alias.asname}"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.attr in DYNAMIC_MEMBERS.get(aliases.get(node.value.id, node.value.id), ()):
        return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Attribute) and (C_API_NAME.match(node.attr)
                                            or node.attr in DYNAMIC_MEMBERS["ctypes"]):
        return f".{node.attr} (the interpreter's C API)"
    if isinstance(node, ast.Call) and call_name(node) == "getattr" and node.args \
            and isinstance(node.args[0], ast.Name) \
            and aliases.get(node.args[0].id, node.args[0].id) in DYNAMIC_MEMBERS:
        return f"getattr({node.args[0].id}, ...)"
    if isinstance(node, ast.Attribute) and node.attr == "__class__" and \
            not isinstance(node.ctx, (ast.Store, ast.Del)):
        return ""  # reading it is type(x) (a progress line's class name); assigning swaps code
    if isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRS:
        return f".{node.attr}"
    if isinstance(node, ast.Attribute) and node.attr in DYNAMIC_NAMES - ORDINARY_NAMES:
        return f".{node.attr}"  # such a module reached as another module's attribute
    if isinstance(node, ast.Attribute) and node.attr == "path" and \
            isinstance(node.value, ast.Name) and node.value.id == "sys":
        return "sys.path"  # code imported from elsewhere is neither analysed nor counted
    return ""
