"""Rules about how a function is written ("no Python loop", "loops over window offsets only"),
checked on the code that actually runs, not only on the function that bears the name.

The graded name is resolved as Python would resolve it in the submission's package (a ``def``, an
assignment or alias, an import from a sibling module, a decorator, an attribute assigned from
another module, a module ``__getattr__``), and every function, class, lambda and expression of the
package reachable from it is followed: through calls and references by name or attribute, through
decorators and default values, through string constants that name a definition. The loop depth of
what runs is computed across calls: a call made inside a loop adds the callee's depth. Recursion
is one loop (the call back into a function on the stack counts one level where it stands: a
recursive max over the window offsets is a loop over offsets; recursion over the data is caught
by the line counts of ``specs/loop_growth``, and anything with no loop allowed fails), and so
are ``map``, ``filter``, ``functools.reduce``, ``np.vectorize``, ``np.frompyfunc`` and
``np.apply_along_axis`` (a Python function called once per element); ``map``, ``filter``,
``reduce``, ``np.apply_over_axes`` and ``np.piecewise`` are not when what they go through is
written out in the call (``map(np.ravel, (pred, target))``: a fixed number of calls, a loop
over a fixed few things), and ``np.fromfunction`` (one call on index grids) is none. Nor are
they when what they go through is a comprehension (``reduce(np.maximum, (x[:, :, k::s, l::s]
for k in ... for l in ...))``: one call per item the comprehension makes, and the comprehension
is counted where it stands, as a loop, and runs a line of student code per item), nor ``map``
unpacked into names (``N, C, H, W = map(int, x.shape)``: as many calls as names, one more at
most). ``sorted``, ``min``, ``max`` and the like with a ``key=`` are loops when the key may be
called once per element of the data: not over a display, a comprehension or two or more
arguments (``min(h, w, key=abs)``); with a key written in the package (a lambda or a ``def``),
one call of student code per element, they count as a loop level that the line counts see,
not as a call hidden from them; with any other key (``key=np.sum``, ``key=d.get``) they are
still calls that the line counts cannot see. Any of these named without being called where it
stands (``m = map``, ``f(m=map)``, ``partial(map, f)``, ``@np.vectorize``) or imported under
another name (``from itertools import starmap as sm``, ``it.starmap`` with ``import itertools
as it``) counts as the loop call itself: the rule cannot see where, or over what, it is called;
but the builtin ``sorted``, ``min`` or ``max`` given as the function of ``map``, ``filter``,
``functools.reduce``... or as a ``key=`` is called by position only, with no key, and is none
(``functools.reduce(max, (h, w))``), nor is it where a function's for loop or a comprehension
goes through it written out into a name that scope only calls by position (``for g in (min,
max): g(a, b)``). A module's constant tuple (``SCALES = (0.5, 2.0)``, bound once and in no
other way) counts as written out; a shape does not (any object may have a ``.shape``): the
message of such a call names the allowed way (``math.prod(x.shape[1:])``: ``ADVICE``). A map
object bounded so counts as bounded only where it is consumed where it stands: its class is
``map`` (``type(map(int, ()))``), ``_kept_loop_objects``.

Whatever the analysis cannot see through (``exec``, ``importlib``, a string run as code... anywhere
in the package, or ``getattr`` with a computed name in the code that runs) fails the rule with a
message that says so: the grader must be able to see the code it grades (``unseen_code``).

Functions provided by the course (identical to the reference's functions that hold no solution
region: argument checks, ``xp_of``) do not count their own loops.
"""

import ast
import functools
import hashlib
import re

from .unseen_code import (call_name, debugging_imports, dynamic_call, dynamic_construct,
                          main_guarded, module_aliases, other_bindings, own_variables,
                          spec_reads)

INFINITE = float("inf")
LOOP_CALLS = {"map", "filter", "reduce", "vectorize", "frompyfunc", "apply_along_axis",
              "apply_over_axes", "piecewise", "starmap", "accumulate",
              "ThreadPoolExecutor", "ProcessPoolExecutor", "Counter", "Thread", "Pool",
              "ThreadPool",  # multiprocessing.pool.ThreadPool(1).map(f, X)
              # itertools' predicates, called once per element like filter's
              "filterfalse", "takewhile", "dropwhile"}
# Calls that call a function once per entry of one of their arguments: a fixed number of times
# when that argument is written out in the call (map(np.ravel, (pred, target)) calls np.ravel
# twice; np.apply_over_axes(np.sum, x, (0, 2)) calls np.sum twice; np.piecewise(x, [x > 0],
# [f, g]) calls f and g once each, on whole sub-arrays), a loop over a fixed few things. The
# argument as (position, keyword). (np.fromfunction is no loop at all: it calls its function
# once, on whole index grids.)
BOUNDED_BY_DISPLAY = {"apply_over_axes": (2, "axes"), "piecewise": (2, "funclist"),
                      "map": (1, None), "filter": (1, None), "reduce": (1, None),
                      "starmap": (1, None), "accumulate": (0, "iterable"),
                      "Counter": (0, "iterable"), "filterfalse": (1, None),
                      "takewhile": (1, None), "dropwhile": (1, None)}
# sorting and extremes with a key= call that function once per element of the iterable given
# as (position, keyword) (list.sort: the list it is called on, never written out)
KEYED_CALLS = {"sorted": (0, "iterable"), "sort": (None, None), "min": (0, None),
               "max": (0, None), "nsmallest": (1, "iterable"), "nlargest": (1, "iterable"),
               "groupby": (0, "iterable"), "merge": (None, None)}  # heapq.merge(*its, key=)
# calls that make one call per item they yield: unpacked into names (a, b = map(f, it)), they
# make as many calls as there are names, one more at most (filter may test any number of items
# before it yields one)
UNPACKED_BOUNDED = {"map", "starmap"}
# names that are loops only as builtins or from functools/itertools (np.add.reduce is not)
PLAIN_ONLY = {"map", "filter", "reduce", "starmap", "accumulate", "filterfalse", "takewhile",
              "dropwhile"}
LOOP_MODULES = {"functools", "itertools"}
# The names of those loops, referred to other than by calling them where they stand (m = map;
# f(m=map); functools.partial(map, f); @np.vectorize), or imported under another name (from
# itertools import starmap as sm): the rule would not see where, or over what, they are called,
# so such a reference counts as the loop call itself. (Keyed calls are loops only with a key=;
# as values, sorted, min and max may be called with one anywhere.)
LOOP_VALUES = LOOP_CALLS | {"sorted", "min", "max", "nsmallest", "nlargest", "groupby"}
# The builtins among them whose key can only be given by keyword (sorted, min, max): passed as
# the function that map, filter, functools.reduce and the like call, or as the key= of a keyed
# call, they are called with items by position, never with a key= (functools.reduce(max, (h,
# w)) is max(h, w)), so there they are no loop of their own; the call that receives them is
# judged by its own rule. (heapq.nsmallest and itertools.groupby take a key by position.)
KEYWORD_KEYED = {"sorted", "min", "max"}
# where map, filter, reduce... take the function they call once per item: (position, keyword)
FUNCTION_ARGUMENT = {"map": (0, None), "filter": (0, None), "reduce": (0, None),
                     "starmap": (0, None), "filterfalse": (0, None), "takewhile": (0, None),
                     "dropwhile": (0, None), "accumulate": (1, "func")}
# Bounds on what the judge analyses (it runs in the grader's own process, with no sandbox): a
# module's source, all the sources parsed for one submission, and the steps of one analysis.
# The reference's largest module has 39 KB and one analysis takes at most ~5,000 steps.
MAX_MODULE_CHARS = 512_000
MAX_TOTAL_CHARS = 2_000_000
MAX_STEPS = 500_000
# What the message of a loop call suggests instead, by the function called (where it goes
# through a shape or a name, whose length the rule cannot know: a fake object's .shape may be the
# rows of the data, so those stay refused)
ADVICE = {
    "reduce": "; for the product or sum of a shape or of a few numbers write "
              "math.prod(x.shape[1:]) or sum(...), over an array its NumPy reduction "
              "(np.prod(x, axis=0), np.maximum.reduce(x)), or reduce over a tuple written out "
              "in the call",
    "map": "; for the sizes of a shape unpack them (N, D = map(int, x.shape)) or write "
           "tuple(int(n) for n in x.shape); over a few values write them out in the call or "
           "as a module constant tuple (SCALES = (0.1, 1.0))",
    "starmap": "; go through a tuple written out in the call, or write a comprehension",
    "Counter": "; to count labels write np.bincount(y) or np.unique(y, return_counts=True); "
               "to count the sizes of a shape, a comprehension or x.shape.count(n)",
    "sorted": "; sort a shape without a key (sorted(x.shape)) or go through a tuple written out "
              "in the call; sort an array with np.sort / np.argsort",
}
# Calls that return an iterator of the loop's own class (a map object), whose class, reached
# through the object (type(m), m.__class__), is the loop function itself: bounded by a display
# only where that object is consumed where it stands (``_kept_loop_objects``). (A Counter is
# kept as a dict: its class counts items, and calls no function given to it.)
LOOP_OBJECTS = {"map", "filter", "starmap", "accumulate", "filterfalse", "takewhile",
                "dropwhile"}
# what consumes an iterable whole and keeps no reference to it: builtins called on it
CONSUMERS = {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all",
             "dict", "next"}
KEPT_ADVICE = ("; its result is kept or passed on whole, not consumed where it stands "
               "(type(map(...)) is map itself): write list(map(...)), unpack it "
               "(a, b = map(...)), or go through it in a for loop")
VALUE_ADVICE = ("; call it by name (min(a, b)), or go through a list or tuple of such builtins "
                "(for g in (min, max)) only to call them without a key=")
# An array of Python objects whose elements are arrays (np.array([*X[:, :, None], None],
# dtype=object)[:-1]): every ufunc over it calls NumPy once per element, in C, with no line of
# student code per element. Refused where its dtype is written out (``_object_dtype``): object,
# np.object_, "O" or "object", or a builtin class that NumPy stores as an object (dtype=list),
# as the dtype= of any call, or by position to NumPy's constructors, astype, view and np.dtype.
OBJECT_ARRAY = "an array of Python objects"
OBJECT_DTYPE_NAMES = {"object", "list", "tuple", "dict", "set", "frozenset", "type", "slice",
                      "range", "object_", "ObjectDType"}
OBJECT_DTYPE_STRING = re.compile(r"[|=<>]?(?:O\d*|object_?)")
# calls that take a dtype by position: the position
DTYPE_POSITION = {"array": 1, "asarray": 1, "asanyarray": 1, "ascontiguousarray": 1,
                  "asfortranarray": 1, "require": 1, "empty": 1, "zeros": 1, "ones": 1,
                  "full": 2, "empty_like": 1, "zeros_like": 1, "ones_like": 1, "full_like": 2,
                  "fromiter": 1, "frombuffer": 1, "identity": 1, "ndarray": 1, "astype": 0,
                  "view": 0, "dtype": 0}
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
LOOPS = (ast.For, ast.AsyncFor, ast.While)


def fingerprint(node):
    """A digest of a function's code (its AST without positions)."""
    return hashlib.sha256(ast.dump(node).encode("utf-8")).hexdigest()[:32]


def provided_fingerprints(sources):
    """Fingerprints of the functions (and methods) of reference sources that hold no solution
    region: the code the course provides."""
    out = set()
    for text in sources.values():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        lines = text.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = "\n".join(lines[node.lineno - 1:node.end_lineno])
                if "BEGIN SOLUTION" not in body:
                    out.add(fingerprint(node))
    return out


class Finding:
    """The loop depth of what runs, and where the deepest loop (or the blind spot) is;
    ``loop_call`` names the first call of a function once per element (map, np.vectorize...:
    ``LOOP_CALLS``) in the student's own code that runs, "" when there is none."""

    def __init__(self, depth=0, where="", dynamic="", loop_call=""):
        self.depth = depth
        self.where = where
        self.dynamic = dynamic
        self.loop_call = loop_call


def _parse(source):
    """The syntax tree of ``source`` (an empty module where it does not parse: its calls report
    the breakage). Sources of ordinary size are parsed once per process: the provided modules
    are the same in every submission, and the analysis only reads trees."""
    if len(source) <= 64_000:  # a tree takes about 40 bytes per character of source
        return _parse_cached(source)
    return _parse_now(source)


@functools.lru_cache(maxsize=32)  # the provided modules fit; at most ~100 MB of trees
def _parse_cached(source):
    return _parse_now(source)


def _parse_now(source):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


class Program:
    """The modules of a submission's package, parsed once."""

    def __init__(self, sources, provided=()):
        """``provided``: fingerprints of course-provided functions, or a function of a module
        name that returns those of that module."""
        self.sources = dict(sources)
        self.trees = {}
        self.provided = provided if callable(provided) else (lambda module, s=set(provided): s)
        self.names = {}  # every top-level binding name -> [(module, node)]
        self.aliases = {}  # module -> {local name: (module, name|None)}
        self.stars = {}
        self.attribute_stores = {}  # (module, name) -> [(module, value node)] assigned to it
        self.stored_attrs = set()  # every attribute name any module stores into (x.name = ...)
        self.blind = {}  # module -> the first construct that hides which code runs
        self.imports = {}  # module -> package modules it imports
        self.unpacked = set()  # ids of map calls unpacked into names (UNPACKED_BOUNDED)
        self.called = set()  # ids of the expressions called where they stand (f in f(x))
        self.renamed = {}  # module -> {local name: loop name} (from itertools import starmap as s)
        self.loop_modules = {}  # module -> names of functools/itertools (import itertools as it)
        self.self_bound = {}  # module -> names it binds itself (not by import): a variable filter
        self.bounded_names = {}  # id of a call -> the local names it may read as bounded
        self.keyless = set()  # ids of sorted/min/max passed where called by position only
        self.kept = set()  # ids of calls making a loop object not consumed where they stand
        self.consumed_through = {}  # id of such a call consumed -> (module, names consuming it)
        self.constant_tuples = {}  # module -> names bound once, at top level, to a tuple display
        # module -> (ids of the constant iterables its import-time code holds, those of them
        # that are range() calls): _import_time_constants
        self.import_constants = {}
        self.imported_at_import = {}  # module -> package modules its import-time code imports
        self.imported_late = {}  # module -> those its other code imports (a function's body)
        self._run_late = None  # modules whose import-time code may run in a call: _late_for
        self._unrun = {}  # module -> ids of the nodes that never run (the main guard...)
        self._memo = {}
        self._stack = set()
        self._chars = 0  # source parsed so far
        self._steps = 0  # steps left to the analysis in progress

    def load(self, *roots):
        """Parse and index the modules that importing ``roots`` (and the package) runs: only
        they can define, patch or rebind what runs."""
        todo, added = [*roots, "__init__"], False
        while todo:
            module = todo.pop()
            if module in self.trees or module not in self.sources:
                continue
            size = len(self.sources[module])
            if size > MAX_MODULE_CHARS or self._chars + size > MAX_TOTAL_CHARS:
                # too much code to analyse in the judge: the rules cannot see it
                self.blind[module] = (
                    f"more code than the grader analyses (coursework/{module}.py has "
                    f"{size / 1000:.0f} kB; at most {MAX_MODULE_CHARS // 1000} kB a module and "
                    f"{MAX_TOTAL_CHARS // 1000} kB in all)")
                tree = ast.Module(body=[], type_ignores=[])
            else:
                self._chars += size
                tree = _parse(self.sources[module])
            self.trees[module] = tree
            self.aliases[module], self.stars[module], self.imports[module] = {}, [], set()
            self._index(module, tree)
            todo.extend(self.imports[module])
            added = True
        if added:
            self._memo.clear()

    # -- indexing --------------------------------------------------------------------------
    def _module_of(self, module, node):
        """The package module an ImportFrom refers to, or None."""
        if node.level:
            base = node.module or ""
            return base.split(".")[0] if base else ""
        parts = (node.module or "").split(".")
        if parts and parts[0] == "coursework":
            return parts[1] if len(parts) > 1 else ""
        return None

    def _index(self, module, tree):
        for node in self._top_level(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(module, node.name, node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in _target_names(target):
                        if node.value is not None:
                            self._bind(module, name, node.value)
            elif isinstance(node, ast.ImportFrom):
                source = self._module_of(module, node)
                for alias in node.names:
                    if source is None:
                        continue
                    if alias.name == "*":
                        self.stars[module].append(source)
                    elif source == "":  # from . import linear
                        self.aliases[module][alias.asname or alias.name] = (alias.name, None)
                    else:
                        self.aliases[module][alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "coursework" and len(parts) > 1 and alias.asname:
                        self.aliases[module][alias.asname] = (parts[1], None)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                for name in _target_names(getattr(node, "target", None)):
                    self._bind(module, name, node)
        own, aliases = own_variables(tree), module_aliases(tree)
        unrun = main_guarded(tree) | debugging_imports(tree) | spec_reads(tree)
        self._unrun[module] = unrun
        self.renamed[module], self.loop_modules[module] = _loop_renames(tree)
        self.self_bound[module] = _self_bound(tree)
        self.constant_tuples[module] = _constant_tuples(tree)
        self.import_constants[module] = _import_time_constants(tree, unrun,
                                                               self.self_bound[module])
        import_time = {id(n) for n in _import_time(tree.body, unrun)}
        self.keyless.update(_keyless_values(tree, self.self_bound[module],
                                            self.loop_modules[module]))
        kept, through = _kept_loop_objects(tree, self.self_bound[module],
                                           self.loop_modules[module])
        self.kept.update(kept)
        self.consumed_through.update({k: (module, v) for k, v in through.items()})
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.called.add(id(node.func))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = _bound_once(node)
                if names:
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Call):
                            self.bounded_names.setdefault(id(inner), set()).update(names)
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], (ast.Tuple, ast.List)) and \
                    not any(isinstance(e, ast.Starred) for e in node.targets[0].elts) and \
                    isinstance(node.value, ast.Call) and \
                    call_name(node.value) in UNPACKED_BOUNDED:
                self.unpacked.add(id(node.value))
            blind = "" if id(node) in unrun else dynamic_construct(node, own, aliases, LOOP_CALLS)
            if blind and module not in self.blind:
                self.blind[module] = f"{blind} (coursework/{module}.py, line {node.lineno})"
            imported = set()
            if isinstance(node, ast.ImportFrom):
                source = self._module_of(module, node)
                if source == "":
                    imported.update(a.name for a in node.names)
                elif source:
                    imported.add(source)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "coursework" and len(parts) > 1:
                        imported.add(parts[1])
            if imported:
                self.imports[module].update(imported)
            if imported and id(node) not in unrun:  # (code under the main guard never runs)
                at_import = self.imported_at_import if id(node) in import_time \
                    else self.imported_late
                at_import.setdefault(module, set()).update(imported)
            for target, value in _stored(node):
                self.stored_attrs.add(target.attr)
                owner = self._module_named(module, target.value)
                if owner is not None:  # some_module.name = value, from anywhere, in any form
                    self.attribute_stores.setdefault((owner, target.attr), []).append(
                        (module, value))

    @staticmethod
    def _top_level(body):
        """Statements at module level, including those inside if/try/with/for blocks."""
        for node in body:
            yield node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    yield from Program._top_level(inner)
            for handler in getattr(node, "handlers", None) or []:
                yield from Program._top_level(handler.body)

    def _module_named(self, module, node):
        """The package module an expression names (``linear``, ``coursework.linear``), or
        None."""
        if isinstance(node, ast.Name) and node.id in self.aliases.get(module, {}):
            source, original = self.aliases[module][node.id]
            return source if original is None else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "coursework":
            return node.attr
        return None

    def _bind(self, module, name, node):
        self.names.setdefault(name, []).append((module, node))

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, module, name, seen=None, before=None):
        """[(module, node)] that the name ``name`` of ``module`` may be bound to; with
        ``before`` (a line), only the bindings made above it (a module-level expression sees
        the definitions made before it runs, a function body sees them all)."""
        seen = seen if seen is not None else set()
        if (module, name) in seen or module not in self.trees:
            return []
        seen.add((module, name))
        self._charge(len(self.names.get(name, ())))
        found = [(m, n) for m, n in self.names.get(name, []) if m == module
                 and (before is None or getattr(n, "lineno", 0) < before)]
        if name in self.aliases.get(module, {}):
            source, original = self.aliases[module][name]
            if original is not None:
                found += self.resolve(source, original, seen)
        for source in self.stars.get(module, []):
            found += self.resolve(source, name, seen)
        found += self.attribute_stores.get((module, name), [])
        found += [(m, n) for m, n in self.names.get("__getattr__", []) if m == module]
        return found

    def _reference(self, module, node, before=None):
        """[(module, node)] that an expression naming something may refer to."""
        if isinstance(node, ast.Name):
            return self.resolve(module, node.id, before=before)
        if isinstance(node, ast.Attribute):
            owner = self._module_named(module, node.value)
            if owner is not None:
                return self.resolve(owner, node.attr)
            # any other attribute: its base is followed as a name (a class of the package is
            # followed whole), and attributes assigned from elsewhere under the graded name are
            # among the bindings of that name
            return []
        if isinstance(node, ast.Call) and call_name(node) in ("getattr", "attrgetter",
                                                              "methodcaller") and \
                any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
            names = [a.value for a in node.args
                     if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            return [(m, n) for name in names for m, n in self.names.get(name, [])]
        return []

    # -- loop depth --------------------------------------------------------------------------
    def depth_of(self, module, node):
        key = (module, id(node))
        if key in self._memo:
            return self._memo[key]
        if key in self._stack:  # the call back into a function on the stack: one loop
            return Finding(1, f"recursion (coursework/{module}.py, line "
                              f"{getattr(node, 'lineno', '?')})")
        self._stack.add(key)
        try:
            own_loops = not (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                             and fingerprint(node) in self.provided(module))
            # a module-level expression (an alias, a wrapper call) runs where it stands
            before = None if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef, ast.Lambda, LOOPS)) \
                else getattr(node, "lineno", None)
            result = self._walk(module, node, 0, own_loops, before)
        finally:
            self._stack.discard(key)
        self._memo[key] = result
        return result

    def _charge(self, steps):
        """Count ``steps`` of work against the analysis in progress (``MAX_STEPS``): code made
        to take the analysis quadratic time (thousands of bindings of one name, each used
        thousands of times) stops it."""
        self._steps -= steps
        if self._steps < 0:
            raise _TooComplex

    def _walk(self, module, node, level, own_loops, before=None):
        self._charge(1)
        best = Finding(level, "")
        if isinstance(node, ast.Call):
            blind = dynamic_call(node)
            if blind:
                return Finding(INFINITE, "", f"{blind} (coursework/{module}.py, line "
                                             f"{node.lineno})")
        children = list(ast.iter_child_nodes(node))
        inner = level
        if own_loops and isinstance(node, LOOPS):
            inner = level + 1
            best = _deeper(best, Finding(inner, f"coursework/{module}.py, line {node.lineno}"))
        elif own_loops and isinstance(node, COMPREHENSIONS):
            inner = level + len(node.generators)
            best = _deeper(best, Finding(inner, f"coursework/{module}.py, line {node.lineno}"))
        elif own_loops and isinstance(node, (ast.Name, ast.Attribute)) and \
                isinstance(node.ctx, ast.Load) and id(node) not in self.called and \
                id(node) not in self.keyless and self._loop_value(module, node):
            value = self._loop_value(module, node)
            where = (f"{value} as a value (coursework/{module}.py, line {node.lineno}"
                     f"{VALUE_ADVICE if value in KEYWORD_KEYED else ''})")
            best = _deeper(best, Finding(level + 1, where, loop_call=where))
        elif own_loops and isinstance(node, ast.Call) and id(node) not in self.unpacked and \
                (self._kept(node) or
                 _is_loop_call(node, self._bounded(module, node), self.renamed.get(module, {}),
                               self.loop_modules.get(module, LOOP_MODULES),
                               self._constants(module))):
            inner = level + 1
            called = self.renamed.get(module, {}).get(call_name(node)) or call_name(node)
            advice = KEPT_ADVICE if self._kept(node) and not _is_loop_call(
                node, self._bounded(module, node), self.renamed.get(module, {}),
                self.loop_modules.get(module, LOOP_MODULES),
                self._constants(module)) else ADVICE.get(called, "")
            where = f"{call_name(node)}() (coursework/{module}.py, line {node.lineno}{advice})"
            if self._own_key(module, node):  # student code per element: the lines count it
                best = _deeper(best, Finding(inner, where))
            else:
                best = _deeper(best, Finding(inner, where, loop_call=where))
        elif own_loops and self._object_array(module, node):
            line = next((n.lineno for n in ast.walk(node) if hasattr(n, "lineno")), "?")
            where = (f"{OBJECT_ARRAY} ({self._object_array(module, node)}, "
                     f"coursework/{module}.py, line {line})")
            best = _deeper(best, Finding(level + 1, where, loop_call=where))
        if isinstance(node, (ast.Name, ast.Attribute, ast.Call)) and \
                not isinstance(getattr(node, "ctx", None), ast.Store):
            for target_module, target in self._reference(module, node, before):
                self._charge(1)
                if target is node:
                    continue
                found = self.depth_of(target_module, target)
                best = _deeper(best, Finding(level + found.depth, found.where, found.dynamic,
                                             found.loop_call))
        for child in children:  # nested defs count where they are defined (over-approximation)
            inside = before
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                inside = None  # a body runs when called, after the module has run
            # a for loop's iterable is evaluated once, before the loop: not inside it
            depth = level if isinstance(node, (ast.For, ast.AsyncFor)) and child is node.iter \
                else inner
            best = _deeper(best, self._walk(module, child, depth, own_loops, inside))
        return best

    def _object_array(self, module, node):
        """How ``node`` makes an array of Python objects (``_object_dtype``), or "": also a
        class of the package given as a dtype (np.array(rows, dtype=Row))."""
        found = _object_dtype(node)
        if found or not isinstance(node, ast.Call):
            return found
        for value in _dtype_values(node):
            if isinstance(value, ast.Name) and any(
                    isinstance(n, ast.ClassDef) for _, n in self.resolve(module, value.id)):
                return f"dtype {value.id}, a class of the package"
        return ""

    def _bounded(self, module, node):
        """The names a call may read as bounded (``_written_out``): the function's locals bound
        once to a generator or a tuple display (``_bound_once``), and the module's constant
        tuples (``_constant_tuples``) that no module of the package assigns from outside
        (``linear.SCALES = rows``)."""
        local = self.bounded_names.get(id(node), set())
        constants = {n for n in self.constant_tuples.get(module, ())
                     if (module, n) not in self.attribute_stores}
        return local | constants if constants else local

    def _constants(self, module):
        """The ids of the constant iterables of ``module``'s import-time code
        (``_import_time_constants``) that a call there may go through as written out: its
        ``range(...)`` calls only where no module assigns ``range`` from outside
        (``linear.range = ...``); none where that code may run inside a call (``_late``)."""
        if module in self._late():
            return frozenset()
        every, ranges = self.import_constants.get(module, (frozenset(), frozenset()))
        return every - ranges if (module, "range") in self.attribute_stores else every

    def _late(self):
        """The modules whose import-time code may first run inside a call of the function
        analysed (``analyse`` sets them: ``_late_for``)."""
        return self._run_late or frozenset()

    def _late_for(self, module):
        """The modules whose import-time code may first run inside a call of a function of
        ``module``, with its data at hand: those that code other than import-time code imports
        (``def f(X): from . import helpers``), and what their import-time code imports in turn;
        not those that importing ``module`` and the package (``__init__``) runs, which the
        worker does before it calls the function (it imports nothing else; ``importlib``,
        ``sys.modules``, ``reload`` are hidden code), so that their import-time code has run,
        once, before any data exists."""
        def closure(todo):
            found = set()
            while todo:
                m = todo.pop()
                if m not in found:
                    found.add(m)
                    todo.extend(self.imported_at_import.get(m, ()))
            return found
        early = closure([module, "__init__"])
        return frozenset(closure([m for found in self.imported_late.values()
                                  for m in found]) - early)

    def _loop_value(self, module, node):
        """The loop function (``LOOP_VALUES``) an expression that is not called where it
        stands names, or '': ``m = map``, ``f(m=map)``, ``partial(map, f)``, ``@np.vectorize``,
        ``it.starmap`` with ``import itertools as it``, a name imported as another. A variable
        of the module's own named ``filter`` is no loop; ``np.add.reduce`` is none either."""
        if isinstance(node, ast.Name):
            if node.id in self.renamed.get(module, {}):
                return self.renamed[module][node.id]
            if node.id in LOOP_VALUES and node.id not in self.self_bound.get(module, ()):
                return node.id
            return ""
        if node.attr not in LOOP_VALUES or node.attr in ("min", "max"):
            return ""  # x.max, np.min: methods and NumPy functions, no key
        if node.attr in PLAIN_ONLY or node.attr == "groupby":
            base = node.value
            modules = self.loop_modules.get(module, LOOP_MODULES)
            return node.attr if isinstance(base, ast.Name) and base.id in modules else ""
        return node.attr

    def _kept(self, node):
        """Whether a call making a loop object keeps it (``_kept_loop_objects``), or has it
        consumed by a name of its module that some module stores into as an attribute
        (``linear.list = lambda m: m``, ``linear.np = ...``): then no builtin consumes it; or
        by ``np.fromiter`` / ``math.prod`` where some module stores into an attribute of that
        name, of any object (``np.fromiter = lambda m, *a: m``, ``_n2.fromiter = ...`` with
        ``import numpy as _n2``, ``_l.np.fromiter = ...`` from another module, ``math.prod =
        ...`` in a helper: the module's function is replaced for everyone)."""
        if id(node) in self.kept:
            return True
        module, names = self.consumed_through.get(id(node), (None, ()))
        return any((module, n) in self.attribute_stores or
                   (n.startswith(".") and n[1:] in self.stored_attrs) for n in names)

    def _own_key(self, module, node):
        """Whether a keyed call's ``key=`` is code of the package (a lambda, or a name bound
        only to functions defined in the package): each of its calls runs a line of student
        code, which the line counts of ``specs/loop_growth`` see."""
        if call_name(node) not in KEYED_CALLS:
            return False
        key = next((k.value for k in node.keywords if k.arg == "key"), None)
        if isinstance(key, ast.Lambda):
            return True
        if not isinstance(key, ast.Name):
            return False
        bound = self.resolve(module, key.id)
        # an undecorated def (a decorator may return anything: np.sum, a cache)
        return bool(bound) and all(isinstance(n, ast.Lambda) or (
            isinstance(n, ast.FunctionDef) and not n.decorator_list) for _, n in bound)

    def _import_time_loop_values(self, modules, best):
        """``best`` with the first loop value or loop object found in the code that importing
        ``modules`` runs (``_import_time``) as its ``loop_call``: a loop function stored there
        where no name the graded function reads is bound (``_B.g = map``, ``_D[0] = map``,
        ``_h.__defaults__ = (map,)``, in a decorator or a default) would run out of the rule's
        sight. Loop calls that run there, bounded or not, run once, at import: not counted,
        except in a module that a function imports (``_late``: ``def f(X): from . import
        helpers``), whose import-time code runs in a call, with the data at hand."""
        for m in modules:
            for node in _import_time(self.trees[m].body, self._unrun.get(m, set())):
                if isinstance(node, (ast.Name, ast.Attribute)) and \
                        isinstance(node.ctx, ast.Load) and id(node) not in self.called and \
                        id(node) not in self.keyless and self._loop_value(m, node):
                    where = (f"{self._loop_value(m, node)} as a value, run at import "
                             f"(coursework/{m}.py, line {node.lineno})")
                elif isinstance(node, ast.Call) and self._kept(node):
                    where = (f"{call_name(node)}() (coursework/{m}.py, line {node.lineno}"
                             f"{KEPT_ADVICE})")
                elif isinstance(node, ast.Call) and m in self._late() and _is_loop_call(
                        node, self._bounded(m, node), self.renamed.get(m, {}),
                        self.loop_modules.get(m, LOOP_MODULES)):
                    # a module a function imports runs its import-time code in that call
                    where = (f"{call_name(node)}() (coursework/{m}.py, line {node.lineno}, "
                             f"run when a function imports coursework/{m}.py)")
                elif isinstance(node, (ast.Name, ast.Attribute, ast.Call)) and \
                        not isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
                    # what runs at import from there (a function called, a class whose body,
                    # __set_name__ or __init_subclass__ runs): read as the graded code is
                    where = next((found.loop_call for target_module, target
                                  in self._reference(m, node) if target is not node
                                  for found in [self.depth_of(target_module, target)]
                                  if found.loop_call), "")
                    if not where:
                        continue
                else:
                    continue
                return Finding(best.depth, best.where, best.dynamic, where)
        return best

    def analyse(self, module, name):
        """The Finding for the graded ``module.name``."""
        self.load(module)
        if module not in self.trees:
            return Finding(0, "")
        loaded, todo = set(), [module, "__init__"]
        while todo:  # the modules that run when the graded one is imported
            m = todo.pop()
            if m in self.trees and m not in loaded:
                loaded.add(m)
                todo.extend(self.imports.get(m, ()))
        for m in sorted(loaded):
            if m in self.blind:
                return Finding(INFINITE, "", self.blind[m])
        self._steps = MAX_STEPS
        late = self._late_for(module)
        if late != self._run_late:  # what was read with other modules run late is stale
            self._memo.clear()
            self._run_late = late
        try:
            best = Finding(0, "")
            for target_module, node in self.resolve(module, name):
                best = _deeper(best, self.depth_of(target_module, node))
            if not best.loop_call:
                best = self._import_time_loop_values(sorted(loaded), best)
        except _TooComplex:
            self._memo.clear()
            self._stack.clear()
            return Finding(INFINITE, "", f"more code paths than the grader follows (over "
                                         f"{MAX_STEPS:,} steps of analysis for {name})")
        return best


class _TooComplex(Exception):
    """The analysis ran out of steps."""


def _deeper(a, b):
    if b.dynamic and not a.dynamic:
        chosen, other = b, a
    elif a.dynamic:
        chosen, other = a, b
    else:
        chosen, other = (b, a) if b.depth > a.depth else (a, b)
    if other.loop_call and not chosen.loop_call:  # kept whichever loop is the deeper
        return Finding(chosen.depth, chosen.where, chosen.dynamic, other.loop_call)
    return chosen


def _import_time(body, unrun):
    """The nodes of the code that importing a module runs: its statements, the decorators,
    defaults, annotations and bases of its defs and classes, a class body's own statements;
    not the bodies of functions (they run when called), nor code that never runs (``unrun``)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        if id(node) in unrun:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            todo.extend(a.defaults + [d for d in a.kw_defaults if d is not None])
            if not isinstance(node, ast.Lambda):
                todo.extend(node.decorator_list)
                todo.extend(x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs
                            + [a.vararg, a.kwarg] if x is not None and x.annotation)
                if node.returns is not None:
                    todo.append(node.returns)
            continue
        yield node
        if isinstance(node, ast.ClassDef):
            todo.extend(node.decorator_list + node.bases + [k.value for k in node.keywords]
                        + node.body)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _stored(node):
    """[(attribute, value)] of the attributes a statement or comprehension stores into, with
    the expression whose value (or whose items) they receive: ``m.x = v``, ``m.x += v``,
    ``m.x: T = v``, but also ``(m.x, _) = (v, 0)``, ``for m.x in v``, ``with v as m.x``,
    ``[... for m.x in v]`` and ``del m.x`` (the name then falls through to a builtin): each of
    them rebinds the module's name ``x`` as much as a plain assignment does."""
    if isinstance(node, ast.Assign):
        pairs = [(t, node.value) for t in node.targets]
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        pairs = [(node.target, node.value if node.value is not None else node)]
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        pairs = [(node.target, node.iter)]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
    elif isinstance(node, ast.Delete):
        pairs = [(t, node) for t in node.targets]
    else:
        return []
    return [(a, value) for target, value in pairs for a in ast.walk(target)
            if isinstance(a, ast.Attribute) and isinstance(a.ctx, (ast.Store, ast.Del))]


def _target_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _is_loop_call(node, bounded_names=(), renamed=None, loop_modules=LOOP_MODULES,
                  constants=()):
    """Whether a call calls a function once per element of something the code does not bound;
    ``bounded_names``: local names bound once, to a generator expression or a tuple display
    (``_bound_once``), which count as written where they are read; ``renamed``: the module's
    loop functions imported under another name; ``loop_modules``: its names of functools and
    itertools; ``constants``: the ids of the constant iterables of the module's import-time
    code (``_import_time_constants``), which count as written out."""
    name = call_name(node)
    if isinstance(node.func, ast.Name) and renamed and name in renamed:
        name = renamed[name]
    if name in KEYED_CALLS and any(k.arg == "key" for k in node.keywords):
        if name in ("min", "max") and len(node.args) >= 2 and \
                not any(isinstance(a, ast.Starred) for a in node.args):
            return False  # min(h, w, key=abs): the arguments are the items
        position, keyword = KEYED_CALLS[name]
        return position is None or not _written_out(_argument(node, position, keyword),
                                                    bounded_names, constants)
    if name not in LOOP_CALLS:
        return False
    if name in PLAIN_ONLY and isinstance(node.func, ast.Attribute):
        base = node.func.value
        if not (isinstance(base, ast.Name) and base.id in loop_modules):
            return False
    if name in BOUNDED_BY_DISPLAY:
        return not _written_out(_argument(node, *BOUNDED_BY_DISPLAY[name]), bounded_names,
                                constants)
    return True


def _object_dtype(node):
    """How ``node`` writes out an object dtype (``OBJECT_ARRAY``), or "": np.object_ or
    np.dtypes.ObjectDType wherever they stand; object, "O", a builtin class such as list, or
    type(...) as the dtype= of a call, or by position where NumPy's constructors, astype, view
    and np.dtype take their dtype (``DTYPE_POSITION``)."""
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
            node.attr in ("object_", "ObjectDType"):
        return f"dtype {node.attr}"
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
            node.id in ("object_", "ObjectDType"):
        return f"dtype {node.id}"
    if not isinstance(node, ast.Call):
        # the class object kept as a value, to be given as a dtype elsewhere (t = object;
        # np.array(rows, dtype=t)): in a name, a display, a keyword, a default, a return
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.Return,
                             ast.keyword)):
            values = [node.value]
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values = node.elts
        elif isinstance(node, ast.Dict):
            values = node.values
        elif isinstance(node, ast.arguments):
            values = node.defaults + node.kw_defaults
        else:
            return ""
        return "the class object as a value" if any(
            isinstance(v, ast.Name) and v.id == "object" for v in values) else ""
    name = call_name(node)
    if name in ("full", "full_like"):  # np.full(n, None): filled later by a slice assignment
        fill = _argument(node, 1, "fill_value")
        if isinstance(fill, ast.Constant) and fill.value is None:
            return "None as the fill value"
    if name in ("array", "asarray", "asanyarray") and node.args:
        items = node.args[0]
        while isinstance(items, ast.BinOp) and isinstance(items.op, ast.Mult):
            items = items.left if isinstance(items.left, (ast.List, ast.Tuple)) else items.right
        if isinstance(items, (ast.List, ast.Tuple)) and any(
                isinstance(e, ast.Constant) and e.value is None for e in items.elts):
            return "None among the items"
    for value in _dtype_values(node):
        if isinstance(value, ast.Name) and value.id in OBJECT_DTYPE_NAMES:
            return f"dtype {value.id}"
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and \
                OBJECT_DTYPE_STRING.fullmatch(value.value):
            return f"dtype {value.value!r}"
        if isinstance(value, ast.Call) and call_name(value) == "type":
            return "dtype type(...)"
    return ""


def _dtype_values(node):
    """The expressions a call gives as a dtype: its dtype= and, for NumPy's constructors,
    astype, view and np.dtype, the argument at the dtype's position (``DTYPE_POSITION``)."""
    values = [k.value for k in node.keywords if k.arg == "dtype"]
    position = DTYPE_POSITION.get(call_name(node))
    if position is not None and len(node.args) > position and \
            not any(isinstance(a, ast.Starred) for a in node.args[:position + 1]):
        values.append(node.args[position])
    return values


def _argument(node, position, keyword):
    """The expression a call passes for a parameter (by position or keyword), or None."""
    if len(node.args) > position and not any(isinstance(a, ast.Starred)
                                             for a in node.args[:position + 1]):
        return node.args[position]
    for k in node.keywords:
        if keyword is not None and k.arg == keyword:
            return k.value
    return None


def _written_out(arg, bounded_names=(), constants=()):
    """Whether ``arg`` has a length fixed by the code or counted where it is made: a list or
    tuple display without a starred entry ([f, g], (0, 2, 3)), a constant (one axis), or a
    comprehension (a loop where it stands, its items made by lines of student code, which the
    line counts see), or one of ``constants`` (``_import_time_constants``: ``range(10)`` at
    module level); ``[f] * n``, a name or a call may be as long as the data."""
    if arg is not None and id(arg) in constants:
        return True
    if isinstance(arg, (ast.List, ast.Tuple)):
        return not any(isinstance(e, ast.Starred) for e in arg.elts)
    if isinstance(arg, COMPREHENSIONS):
        return True
    if isinstance(arg, ast.Name) and arg.id in bounded_names:
        return True  # parts = (x[k::s] for k in ...); reduce(np.maximum, parts)
    if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
        arg = arg.operand
    return isinstance(arg, ast.Constant) and isinstance(arg.value, int)


def _binding_counts(tree):
    """{name: how many times ``tree`` binds it}: an assignment, loop target or ``del`` counts 1;
    a parameter, ``global``/``nonlocal``, or a name bound as a string (except-as, imports, match
    captures, inner defs) counts 2, so that a name counted exactly 1 is bound by one plain
    assignment and in no other way."""
    stores = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            stores[node.arg] = stores.get(node.arg, 0) + 2
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for n in node.names:
                stores[n] = stores.get(n, 0) + 2
        else:
            for n in other_bindings(node):
                stores[n] = stores.get(n, 0) + 2
    return stores


def _bound_once(function):
    """The names a function binds exactly once, by ``name = <generator expression or tuple
    display>``, and in no other way (no parameter, loop target, augmented assignment, ``del``,
    ``global``/``nonlocal`` or second assignment anywhere in it, nested functions included): a
    generator and a tuple cannot grow after they are made. A list can (``rows = [...];
    rows.extend(x)``), so a list comprehension counts only where it is written in the call."""
    stores, once = _binding_counts(function), {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and \
                (isinstance(node.value, ast.GeneratorExp) or
                 (isinstance(node.value, ast.Tuple) and
                  not any(isinstance(e, ast.Starred) for e in node.value.elts))):
            once[node.targets[0].id] = True
    return {n for n in once if stores.get(n) == 1}


def _constant_tuples(tree):
    """The names a module binds exactly once, by a top-level ``NAME = (a, b, ...)`` (a tuple
    display without a starred entry), and in no other way anywhere in it (no second assignment,
    parameter, loop target, ``global``, import, ``def``; no star import, which could rebind it):
    a tuple of hyper-parameters (``SCALES = (0.1, 1.0)``) cannot grow, so ``map(float, SCALES)``
    makes a fixed number of calls. (A list could: ``SCALES.extend(rows)``.)"""
    if any(isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
           for node in ast.walk(tree)):
        return set()
    stores, once = _binding_counts(tree), set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Tuple) and \
                not any(isinstance(e, ast.Starred) for e in node.value.elts):
            once.add(node.targets[0].id)
    return {n for n in once if stores.get(n) == 1}


def _import_time_constants(tree, unrun, self_bound):
    """(ids, ids of range calls) of the constant iterables in the code that importing a module
    runs, once (``_import_time``: its statements, a class body, a def's defaults and
    decorators; not a function's or lambda's body, which may run later and more than once, nor
    a generator expression, whose items are made when it is consumed, at any time): ``range()``
    of int literals (``range(10)``, ``range(-2, 8, 2)``) where ``range`` is the builtin (the
    module binds it in no way, imports no name ``range`` and star-imports nothing;
    ``Program._constants`` adds: no module assigns ``linear.range``), a str or bytes literal,
    a set or dict display without ``*`` or ``**``. A map, filter, reduce... over one of them
    there (``NAMES = tuple(map(str, range(10)))``) makes a fixed number of calls, once, before
    any data exists: no loop over the data (``_written_out``). Its object must still be
    consumed where it stands (``_kept_loop_objects``); a map inside a function that module
    code calls is read where that function is, as any other."""
    imported = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    builtin_range = "range" not in self_bound and "range" not in imported and "*" not in imported
    nodes = list(_import_time(tree.body, unrun))
    lazy = {id(n) for g in nodes if isinstance(g, ast.GeneratorExp) for n in ast.walk(g)}
    every, ranges = set(), set()
    for node in nodes:
        if id(node) in lazy:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "range" and builtin_range and not node.keywords and \
                1 <= len(node.args) <= 3 and all(_int_literal(a) for a in node.args):
            ranges.add(id(node))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))) or \
                (isinstance(node, ast.Set) and
                 not any(isinstance(e, ast.Starred) for e in node.elts)) or \
                (isinstance(node, ast.Dict) and None not in node.keys):
            every.add(id(node))
    return frozenset(every | ranges), frozenset(ranges)


def _int_literal(node):
    """Whether ``node`` is an int literal, or one negated (``-2``); not a bool."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _own_statements(function):
    """The statements of a function's body, nested blocks included, not those of the functions
    and classes defined in it (their own scopes)."""
    todo = list(getattr(function, "body", [])) if isinstance(function.body, list) else []
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                todo.extend(inner)
        for handler in getattr(node, "handlers", None) or []:
            todo.extend(handler.body)
        for case in getattr(node, "cases", None) or []:
            todo.extend(case.body)


def _loop_renames(tree):
    """({local name: loop name} of ``from M import starmap as sm`` for the names of
    ``LOOP_VALUES``, the names functools and itertools go by: themselves and their aliases)."""
    renamed, modules = {}, set(LOOP_MODULES)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in LOOP_VALUES and alias.asname not in (None, alias.name):
                    renamed[alias.asname] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in LOOP_MODULES and alias.asname:
                    modules.add(alias.asname)
    return renamed, modules


def _self_bound(tree):
    """The names a module binds itself, by no import (assignments, parameters, loop and with
    targets, defs, except-as): a variable named ``filter`` is not the builtin."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif not isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(other_bindings(node))
    return bound


def _kept_loop_objects(tree, self_bound, loop_modules):
    """The ids of the calls of ``LOOP_OBJECTS`` whose result is not consumed where it stands:
    consumed means the iterable of a for loop or comprehension, unpacked by ``*``, or the
    argument of a builtin in ``CONSUMERS`` the module does not rebind (``list(map(float,
    SCALES))``), ``"".join``, ``np.fromiter`` or ``math.prod`` (NumPy and math imported as
    modules, under names the module binds in no other way), or an argument of the builtin
    ``zip`` (or the first of ``enumerate``) whose own result is consumed so (``dict(zip(NAMES,
    map(int, SHAPE)))``, ``for n, s in zip(NAMES, map(float, SCALES))``: a zip object reached
    by nothing else hands on the map's items, never the map). Anywhere else (a name,
    ``type(...)``, ``.__class__``, a zip kept or given to ``type()``, ``np.array``, ``yield
    from``, a function of the package) the object escapes, and with it its class, the loop
    function itself, which the rule would no longer see called: such a call is bounded by
    nothing (``Program._walk``). (Unpacked into names it is ``Program.unpacked``.) Returns
    (those ids, {id of a call consumed: the module's names that consume it, and ".fromiter" /
    ".prod" for those}): a name another module stores into (``linear.list = lambda m: m``) is
    no builtin, nor ``np.fromiter`` where any module stores into a ``.fromiter``
    (``Program._kept``)."""
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    makers = LOOP_OBJECTS | {n for n, loop in _loop_renames(tree)[0].items()
                             if loop in LOOP_OBJECTS}
    # a consumer imported, or star-imported, under a builtin's name is another function
    imported = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    consumers = set() if "*" in imported else CONSUMERS - imported - set(self_bound)
    wrappers = set() if "*" in imported else {"zip", "enumerate"} - imported - set(self_bound)
    # the names numpy and math go by where the module imports them as modules and binds those
    # names in no other way (np.fromiter and math.prod consume what they are given whole)
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                modules.setdefault(a.asname or a.name, set()).add(a.name)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                modules.setdefault(a.asname or a.name, set()).add("")
    module_consumers = {(name, "fromiter") for name, found in modules.items()
                        if found == {"numpy"} and name not in self_bound} | \
        {(name, "prod") for name, found in modules.items()
         if found == {"math"} and name not in self_bound}

    def consumed(node, through):
        """Whether ``node``'s value is consumed where it stands; the names of the module's
        builtins and modules that this relies on are added to ``through``."""
        parent = parents.get(id(node))
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and \
                parent.iter is node:
            return True
        if isinstance(parent, ast.Starred):
            return True
        if not isinstance(parent, ast.Call) or any(isinstance(a, ast.Starred)
                                                   for a in parent.args):
            return False
        func = parent.func
        if isinstance(func, ast.Name) and func.id in wrappers and (
                node in parent.args if func.id == "zip" else
                parent.args[:1] == [node] and not parent.keywords[1:]):
            through.add(func.id)
            return consumed(parent, through)  # zip(NAMES, m), enumerate(m): as far as they go
        if not (parent.args and parent.args[0] is node):
            return False
        # the first argument only, and alone where another could be returned instead
        # (sum((), m) is m, next(it, m) may be m, min(m, n) is one of them)
        if isinstance(func, ast.Name) and func.id in consumers and \
                (len(parent.args) == 1 or func.id not in ("min", "max", "next")):
            through.add(func.id)
            return True
        if isinstance(func, ast.Attribute) and func.attr == "join" and \
                isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            return True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                (func.value.id, func.attr) in module_consumers:
            through.update((func.value.id, "." + func.attr))  # np, and .fromiter (Program._kept)
            return True
        return False

    kept, consumed_through = set(), {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and call_name(node) in makers):
            continue
        if isinstance(node.func, ast.Attribute) and call_name(node) in PLAIN_ONLY and not (
                isinstance(node.func.value, ast.Name) and node.func.value.id in loop_modules):
            continue  # df.filter(...), np.add.accumulate(x): no loop object
        through = set()
        if consumed(node, through):
            consumed_through[id(node)] = through
        else:
            kept.add(id(node))
    return kept, consumed_through


def _keyless_values(tree, self_bound, loop_modules):
    """The ids of the names ``sorted``, ``min`` and ``max`` (the builtins: ``KEYWORD_KEYED``)
    passed as the function argument of the builtin map or filter or of functools' and
    itertools' own reduce, starmap... (``FUNCTION_ARGUMENT``), or as the ``key=`` of the builtin
    sorted, min or max: those call them with items by position, never with a key=. Not where
    the module binds the name of either itself or imports it from elsewhere, or star-imports
    (``def map(f, x): return f(x, key=np.sum)`` would be its own map)."""
    imported, stars = {}, False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                stars = stars or alias.name == "*"
                local = (alias.asname or alias.name).split(".")[0]
                real = isinstance(node, ast.ImportFrom) and node.module in LOOP_MODULES and \
                    not node.level and alias.asname in (None, alias.name)
                imported[local] = imported.get(local, True) and real
    if stars:
        return set()

    def builtin(name):  # the name is the builtin, or functools'/itertools' own function
        return name not in self_bound and imported.get(name, True)

    def function_of(func):  # the loop function a call's callee is, or ""
        if isinstance(func, ast.Name) and builtin(func.id):
            return func.id
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                func.value.id in loop_modules and func.value.id not in self_bound and \
                func.attr in PLAIN_ONLY:
            return func.attr
        return ""

    out = set()
    # for g in (min, max): g(a, b): the builtins written in a list or tuple display that a for
    # loop of a function, or a comprehension, goes through into a plain name that the function
    # (the comprehension), nested code included, only ever calls, by position (no key=, no
    # **kwargs); not where any code of the module declares that name global or nonlocal, nor
    # in a loop at module level (other modules may import the name)
    callees = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    shared = {n for node in ast.walk(tree) if isinstance(node, (ast.Global, ast.Nonlocal))
              for n in node.names}

    def only_called(scope, name):
        for n in ast.walk(scope):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load):
                call = callees.get(id(n))
                if call is None or any(k.arg in ("key", None) for k in call.keywords):
                    return False
        return True

    def loops_of(scope):  # (scope, loop) for the for loops of each function, comprehensions
        for node in ast.walk(scope):
            if isinstance(node, COMPREHENSIONS):
                yield from ((node, g) for g in node.generators)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from ((node, n) for n in _own_statements(node)
                            if isinstance(n, (ast.For, ast.AsyncFor)))

    for scope, loop in loops_of(tree):
        if isinstance(loop.target, ast.Name) and isinstance(loop.iter, (ast.List, ast.Tuple)) \
                and loop.target.id not in shared and only_called(scope, loop.target.id):
            out.update(id(e) for e in loop.iter.elts if isinstance(e, ast.Name)
                       and e.id in KEYWORD_KEYED and builtin(e.id))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = function_of(node.func)
        passed = []
        if name in FUNCTION_ARGUMENT:
            position, keyword = FUNCTION_ARGUMENT[name]
            passed.append(_argument(node, position, keyword))
        if name in KEYWORD_KEYED and isinstance(node.func, ast.Name):
            passed += [k.value for k in node.keywords if k.arg == "key"]
        out.update(id(a) for a in passed if isinstance(a, ast.Name)
                   and a.id in KEYWORD_KEYED and builtin(a.id))
    return out
