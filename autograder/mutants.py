"""``python -m autograder mutants``: how many small slips in the reference does the grader catch?

A *mutant* is the reference package with one small change inside one solution region: an
operator, a comparison, a constant, an axis, a reduction, a dropped keyword argument, a deleted
accumulation, an off-by-one loop bound. These are the slips students make. Each mutant is graded
on the tests it can fail: those of the function it changed and of its forward or backward
partner (a forward's cache is read by its backward), or the whole module when the change is in a
helper that is not graded itself. It is *killed* when one of them loses points, and it
*survives* when all keep full marks.

A survivor is one of two things:

- an **equivalent** mutant: no input could tell it apart from the reference (``<`` for ``<=``
  where ties cannot occur, an epsilon halved, ``axis=-1`` for ``axis=1`` on 2-D arrays);
- a **gap**: a wrong function with full marks. Add a hidden case or a rule that tells them apart.

The sweep is slow (one grade per mutant), so it is a tool for the engineer who adds or changes a
unit, not part of ``make test``; its mutation operators are tested in
``autograder/tests/test_mutants.py``. See docs/design.md, "Adding a graded function".
"""

import ast
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .paths import REFERENCE_PACKAGE
from .stubs import BEGIN, END
from .units import unit_of_key

# Operators: each maps an AST node type (or name) to its replacements.
BINOP_SWAPS = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv), ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,),
}
COMPARE_SWAPS = {
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt,), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt,),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
}
NAME_SWAPS = {  # function and attribute names a student confuses
    "sum": ("mean",), "mean": ("sum",), "max": ("min",), "min": ("max",),
    "maximum": ("minimum",), "minimum": ("maximum",), "argmax": ("argmin",),
    "argmin": ("argmax",), "floor": ("ceil",), "ceil": ("floor",), "var": ("std",),
    "std": ("var",), "amax": ("amin",), "amin": ("amax",),
}
DIMENSION_PAIRS = {  # names a student swaps, mutated only where both occur in the function
    "H": "W", "W": "H", "HH": "WW", "WW": "HH", "H_out": "W_out", "W_out": "H_out",
    "Hp": "Wp", "Wp": "Hp", "i": "j", "j": "i", "k": "l", "l": "k", "row": "col", "col": "row",
    "stride": "pad", "pad": "stride",
}
UNWRAPPED_CALLS = {  # f(x) -> x: a forgotten square root, exponential, absolute value...
    "sqrt", "exp", "log", "abs", "tanh", "log1p", "expm1", "square",
}


@dataclass
class Mutant:
    module: str          # coursework module, e.g. "normalization"
    function: str        # enclosing top-level def or class, e.g. "batchnorm_forward"
    line: int            # line of the changed code in the reference
    change: str          # what was changed, in words: "`+` -> `-`"
    source: str = ""     # the whole mutated module (not kept in the report)


def solution_lines(source):
    """The set of line numbers inside ``# BEGIN SOLUTION`` / ``# END SOLUTION`` regions."""
    inside, lines = False, set()
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            inside = True
        elif marker == END:
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _top_level_names(tree):
    """line -> name of the top-level def or class holding it."""
    owner = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for line in range(node.lineno, node.end_lineno + 1):
                owner[line] = node.name
    return owner


def _op_text(op):
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.Eq: "==", ast.NotEq: "!="}.get(type(op), type(op).__name__)


def _edits(node):
    """Yield ``(description, apply)`` for each mutation of ``node``; ``apply()`` changes the node
    in place and returns a function that undoes it."""

    def setter(obj, field, value, index=None):
        def apply():
            if index is None:
                old = getattr(obj, field)
                setattr(obj, field, value)
                return lambda: setattr(obj, field, old)
            seq = getattr(obj, field)
            old = seq[index]
            seq[index] = value
            return lambda: seq.__setitem__(index, old)
        return apply

    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        for new in BINOP_SWAPS.get(type(node.op), ()):
            yield f"`{_op_text(node.op)}` -> `{_op_text(new())}`", setter(node, "op", new())
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Div)):
        def swap(node=node):
            def undo():
                node.left, node.right = node.right, node.left
            undo()
            return undo
        yield f"operands of `{_op_text(node.op)}` swapped", swap
    if isinstance(node, ast.Slice):
        for field in ("lower", "upper"):
            bound = getattr(node, field)
            if bound is None:
                continue
            for op, sign in ((ast.Add(), "+"), (ast.Sub(), "-")):
                moved = ast.BinOp(left=bound, op=op, right=ast.Constant(1))
                yield f"slice {field} bound {sign} 1", setter(node, field, moved)
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in COMPARE_SWAPS.get(type(op), ()):
                yield (f"`{_op_text(op)}` -> `{_op_text(new())}`",
                       setter(node, "ops", new(), index=i))
    if isinstance(node, ast.BoolOp):
        new = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield f"`{type(node.op).__name__.lower()}` swapped", setter(node, "op", new)
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
        value = node.value
        if isinstance(value, int):
            for new in (value + 1, value - 1):
                yield f"constant {value} -> {new}", setter(node, "value", new)
        elif isinstance(value, float):
            for new in {0.0, 1.0, 2 * value} - {value}:
                yield f"constant {value!r} -> {new!r}", setter(node, "value", new)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} -> {not node.value}", setter(node, "value", not node.value)
    if isinstance(node, ast.Attribute):
        for new in NAME_SWAPS.get(node.attr, ()):
            yield f"`.{node.attr}` -> `.{new}`", setter(node, "attr", new)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        for new in NAME_SWAPS.get(node.id, ()):
            yield f"`{node.id}` -> `{new}`", setter(node, "id", new)
    if isinstance(node, ast.Call):
        for i, kw in enumerate(node.keywords):
            if kw.arg is not None:
                def drop(call=node, i=i):
                    kept = call.keywords
                    call.keywords = kept[:i] + kept[i + 1:]
                    return lambda: setattr(call, "keywords", kept)
                yield f"keyword `{kw.arg}=` dropped", drop
        if isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
            last = len(node.args) - 1 if len(node.args) < 3 else 1
            shorter = ast.BinOp(left=node.args[last], op=ast.Sub(), right=ast.Constant(1))
            yield "range end - 1", setter(node, "args", shorter, index=last)
            if len(node.args) >= 2:
                later = ast.BinOp(left=node.args[0], op=ast.Add(), right=ast.Constant(1))
                yield "range start + 1", setter(node, "args", later, index=0)


def _name_edits(node, names, params):
    """Edits that need the enclosing function: a dimension swapped for its partner (``H`` for
    ``W``, both in the function), and an input rebound by ``x = x + ...`` changed in place
    (``x += ...``)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        partner = DIMENSION_PAIRS.get(node.id)
        if partner in names:
            def swap(node=node, old=node.id, new=partner):
                node.id = new
                return lambda: setattr(node, "id", old)
            yield node, f"`{node.id}` -> `{partner}`", swap
    for field in ("body", "orelse"):
        body = getattr(node, field, None)
        if not isinstance(body, list):
            continue
        for i, stmt in enumerate(body):
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in params
                    and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.left, ast.Name)
                    and stmt.value.left.id == stmt.targets[0].id):
                name = stmt.targets[0].id
                inplace = ast.AugAssign(target=ast.Name(name, ast.Store()), op=stmt.value.op,
                                        value=stmt.value.right, lineno=stmt.lineno)
                yield (stmt, f"`{name} = {name} {_op_text(stmt.value.op)} ...` -> "
                       f"`{name} {_op_text(stmt.value.op)}= ...` (in place)",
                       _replace(body, i, inplace))


def _statement_edits(parent):
    """Edits of the statements of a body: an accumulation written as a plain assignment, and a
    deleted statement that writes into an array or calls something (``dx[m] = 0``,
    ``np.add.at(...)``, ``grads.append(...)``)."""
    for field in ("body", "orelse"):
        body = getattr(parent, field, None)
        if not isinstance(body, list):
            continue
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AugAssign):
                plain = ast.Assign(targets=[stmt.target], value=stmt.value, lineno=stmt.lineno)
                yield stmt, f"`{_op_text(stmt.op)}=` -> `=`", _replace(body, i, plain)
            deletable = (isinstance(stmt, ast.AugAssign)
                         or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call))
                         or (isinstance(stmt, ast.Assign)
                             and all(isinstance(t, ast.Subscript) for t in stmt.targets)))
            if deletable:
                yield stmt, "statement deleted", _replace(body, i, ast.Pass(lineno=stmt.lineno))


def _replace(seq, index, value):
    def apply():
        old = seq[index]
        seq[index] = value
        return lambda: seq.__setitem__(index, old)
    return apply


def _child_unwraps(parent):
    """Edits that replace a child by part of itself: ``-x`` -> ``x``, ``not c`` -> ``c``,
    ``a.T`` -> ``a``, ``xp.sqrt(v)`` -> ``v``."""
    for field, value in ast.iter_fields(parent):
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            inner = None
            if isinstance(child, ast.UnaryOp) and isinstance(child.op, (ast.USub, ast.Not)):
                inner, what = child.operand, ("`-` removed" if isinstance(child.op, ast.USub)
                                              else "`not` removed")
            elif isinstance(child, ast.Attribute) and child.attr == "T":
                inner, what = child.value, "`.T` removed"
            elif (isinstance(child, ast.Call) and len(child.args) == 1 and not child.keywords
                  and not isinstance(child.args[0], ast.Starred)):
                called = getattr(child.func, "attr", getattr(child.func, "id", None))
                if called in UNWRAPPED_CALLS:
                    inner, what = child.args[0], f"`{called}(x)` -> `x`"
            if inner is None:
                continue
            if isinstance(value, list):
                yield child, what, _replace(value, i, inner)
            else:
                def apply(parent=parent, field=field, child=child, inner=inner):
                    setattr(parent, field, inner)
                    return lambda: setattr(parent, field, child)
                yield child, what, apply


def mutants_of(source, module):
    """Every mutant of ``source`` (a reference module's text), in source order."""
    tree = ast.parse(source)
    inside = solution_lines(source)
    owner = _top_level_names(tree)
    names, params = {}, {}  # per top-level definition: the names it uses, its parameters
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.ClassDef)):
            names[top.name] = {n.id for n in ast.walk(top) if isinstance(n, ast.Name)}
            params[top.name] = {a.arg for f in ast.walk(top) if isinstance(f, ast.FunctionDef)
                                for a in f.args.args + f.args.kwonlyargs} - {"self"}
    found = []

    def record(node, what, apply):
        line = getattr(node, "lineno", None)
        if line not in inside:
            return
        undo = apply()
        try:
            text = ast.unparse(tree)
        finally:
            undo()
        found.append(Mutant(module, owner.get(line, "<module>"), line, what, text))

    for node in ast.walk(tree):
        for what, apply in _edits(node):
            record(node, what, apply)
        for child, what, apply in _statement_edits(node):
            record(child, what, apply)
        for child, what, apply in _child_unwraps(node):
            record(child, what, apply)
        top = owner.get(getattr(node, "lineno", None))
        for child, what, apply in _name_edits(node, names.get(top, set()),
                                              params.get(top, set())):
            record(child, what, apply)
    found.sort(key=lambda m: m.line)
    return found


def _keys_of(module, unit):
    from .engine import specs_of

    return [key for spec in specs_of(unit) if spec.module == module for key in spec.tests]


def _stem(key):
    """The layer a key belongs to: conv_forward_naive and conv_backward_naive -> conv_naive,
    batchnorm_forward and batchnorm_backward_alt -> batchnorm."""
    return re.sub(r"_(forward|backward)(_alt)?", "", key)


def _keys_to_grade(key, keys):
    """The tests a change in ``key`` can fail: a forward's cache is read by its backward, so a
    change in ``name_forward`` is graded with every test of ``name_*``; a change in a helper
    that is not graded itself, with the whole module; a change in a class, with the tests of
    its methods too (``rnn.CharRNN.sample``)."""
    if key not in keys:
        return list(keys)
    return [k for k in keys if _stem(k) == _stem(key) or k.startswith(key + ".")]


_WORKDIR = None


def _grade_mutant(mutant, unit, keys):
    """Grade one mutant in this process's private copy of the reference; return its verdict."""
    global _WORKDIR
    from .engine import grade

    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="mutants-"))
        shutil.copytree(REFERENCE_PACKAGE, _WORKDIR / "coursework",
                        ignore=shutil.ignore_patterns("__pycache__"))
    target = _WORKDIR / "coursework" / f"{mutant.module}.py"
    original = (REFERENCE_PACKAGE / f"{mutant.module}.py").read_text()
    graded = _keys_to_grade(f"{mutant.module}.{mutant.function}", keys)
    try:
        target.write_text(mutant.source)
        report = grade(_WORKDIR, [unit], keys=set(graded))
    finally:
        target.write_text(original)
    functions = report["units"].get(unit, {}).get("functions", {})
    lost = {k: f"{v['score']:g}/{v['max']:g}: {v['message'][:600]}"
            for k, v in functions.items() if v["score"] < v["max"]}
    hinted = any(v.get("hint") for v in functions.values() if v["score"] < v["max"])
    return {"killed": bool(lost), "by": lost, "hinted": hinted}


def sweep(module, *, workers=2, limit=None, only=None, changes=None, progress=True):
    """Grade every mutant of ``module`` (only those inside the functions ``only`` and whose
    change's text holds one of ``changes``, when given); return ``(baseline_ok, results)``."""
    unit = unit_of_key(f"{module}.")
    keys = _keys_of(module, unit)
    source = (REFERENCE_PACKAGE / f"{module}.py").read_text()
    mutants = mutants_of(source, module)
    if only:
        defined = {node.name for node in ast.parse(source).body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        unknown = sorted(set(only) - defined)
        if unknown:
            from .engine import UsageError

            close = {n: difflib.get_close_matches(n, sorted(defined), n=1) for n in unknown}
            raise UsageError("--function: " + "; ".join(
                f"{module}.py defines no function or class {n!r}"
                + (f" (did you mean {close[n][0]!r}?)" if close[n] else "") for n in unknown))
        mutants = [m for m in mutants if m.function in only]
    if changes:
        mutants = [m for m in mutants if any(c in m.change for c in changes)]
    if limit:
        mutants = mutants[:limit]
    # The unparsed reference (comments gone, same code) must itself get full marks.
    plain = Mutant(module, "<module>", 0, "none", ast.unparse(ast.parse(source)))
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        baseline = pool.submit(_grade_mutant, plain, unit, keys).result()
        if baseline["killed"]:
            return False, [dict(asdict(plain), source="", **baseline)]
        futures = [pool.submit(_grade_mutant, m, unit, keys) for m in mutants]
        for n, (mutant, future) in enumerate(zip(mutants, futures), 1):
            try:
                verdict = future.result()
            except Exception as exc:  # the grader itself failed: report, do not count as killed
                verdict = {"killed": None, "by": {"grader": f"{type(exc).__name__}: {exc}"}}
            results.append(dict(asdict(mutant), source="", **verdict))
            if progress:
                print(f"\r{module}: {n}/{len(mutants)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return True, results


def summary(module, results):
    """Text: per function, mutants killed of all (and how many of the killed got a hint, the
    message of a known mistake); then every survivor with its line."""
    by_function = {}
    for r in results:
        by_function.setdefault(r["function"], []).append(r)
    lines = [f"{module}: {sum(bool(r['killed']) for r in results)} of {len(results)} "
             "mutants killed"]
    for name, rs in by_function.items():
        killed = sum(bool(r["killed"]) for r in rs)
        hinted = sum(bool(r.get("hinted")) for r in rs)
        lines.append(f"  {name:<34} {killed:>4} / {len(rs):<4} ({hinted} with a hint)")
    survivors = [r for r in results if not r["killed"]]
    if survivors:
        lines.append("survivors (equivalent, or a gap in the tests):")
        for r in survivors:
            note = "" if r["killed"] is False else f"  [grader error: {r['by']}]"
            lines.append(f"  {module}.py:{r['line']:<5} {r['function']:<30} {r['change']}{note}")
    return "\n".join(lines)


def cmd_mutants(args):
    from .engine import UsageError
    from .units import UNITS, resolve_units

    if args.module:
        modules = list(args.module)
    else:
        modules = [m for unit in resolve_units(args.unit) for m in UNITS[unit][1]]
    out = Path(args.out) if args.out else None
    for module in modules:
        if not (REFERENCE_PACKAGE / f"{module}.py").is_file():
            raise UsageError(f"no reference module {module!r} in {REFERENCE_PACKAGE}")
        started = time.monotonic()
        ok, results = sweep(module, workers=args.workers, limit=args.limit,
                            only=set(args.function or ()), changes=args.change,
                            progress=not args.quiet and sys.stderr.isatty())
        if not ok:
            print(f"{module}: the unparsed reference does not get full marks "
                  f"({results[0]['by']}); no sweep", file=sys.stderr)
            return 1
        print(summary(module, results))
        print(f"({time.monotonic() - started:.0f} s)")
        if out:
            out.mkdir(parents=True, exist_ok=True)
            tmp = out / f".{module}.json.tmp"
            tmp.write_text(json.dumps(results, indent=1))
            os.replace(tmp, out / f"{module}.json")
    return 0


def register(subparsers):
    p = subparsers.add_parser("mutants", help="grade small changes of the reference (slow): "
                              "which ones keep full marks?")
    p.add_argument("--unit", action="append", help="units whose modules to sweep (repeatable)")
    p.add_argument("--module", action="append", help="coursework module to sweep (repeatable)")
    p.add_argument("--function", action="append", help="only mutants inside this function")
    p.add_argument("--change", action="append", help="only mutants whose change holds this "
                   "text, e.g. 'sqrt' or 'range' (repeatable)")
    p.add_argument("--limit", type=int, help="at most this many mutants per module")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", help="folder for <module>.json, every mutant's verdict")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_mutants)


