"""``check(...)``: instant feedback in a notebook, from the same tests as the grader.

    from autograder import check
    check("linear.svm_loss_naive")                        # one function
    check("layers.relu_forward", "layers.relu_backward")  # several: a verdict for each
    check("01")                                           # a unit ("01", "01_linear", "linear")
    check(linear.svm_loss_naive)                          # the function itself (imported)

It grades the ``coursework`` package the notebook imports, on the public tests, in a fresh worker
process: the latest saved ``.py`` file is what is tested, without restarting the kernel. It prints
one line per function (and the reason and a hint for each failure), then raises
``AssertionError`` when something did not pass, so that a check cell can be an nbgrader test cell.
Every function named gets its verdict, even when an earlier one is not written yet. A name that is
not a graded function, module or unit is refused with the close matches (a typo must never pass).

In a notebook, ``%load_ext autograder`` (next to ``%autoreload 2``) turns a ``NotImplementedError``
raised by a function of ``coursework/`` that is not written yet into one line naming the function
and the file to edit, and a failed check shows the verdicts without the grader's traceback. What
a cell meets because a cell above stopped early (a name it did not define, a key it did not
store, the notebook's own guard ``raise RuntimeError("the cell above did not finish ...")``) is
one line that says what to run.

From a terminal: ``python -m autograder.notebook_check linear.svm_loss_naive [more names]``
(``make check F=...``, several names separated by spaces or commas); exit status 1 when a check
failed, 2 for a name that is not graded.
"""

import difflib
import importlib.util
import os
import sys
from pathlib import Path

from . import engine
from .dependencies import called_name, callees, note_failed_dependencies
from .notebook_reload import coursework_label, quiet_reloads
from .units import UNITS, available_units, resolve_units, specs_of, unit_of_key

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
        "crashed": "CRASH", "not_implemented": "TODO"}


class UnknownName(ValueError):
    """A name given to ``check`` that is not a graded function, module or unit."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def _one_line(exc):
    """Make IPython show ``exc`` as one line, without the grader's frames."""
    exc._render_traceback_ = lambda: [f"{type(exc).__name__}: {exc}"]
    return exc


class SetupError(RuntimeError):
    """The course folder is not as ``check`` needs it (no coursework package)."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def _submission():
    spec = importlib.util.find_spec("coursework")
    folders = list(getattr(spec, "submodule_search_locations", None) or []) if spec else []
    if spec is None or not spec.origin:
        # a folder named coursework without its __init__.py: Python sees a namespace package
        # (or, from notebooks/ with the course on the path by an installed finder, nothing)
        folders += [str(here / "coursework") for here in (Path.cwd(), Path.cwd().parent)
                    if (here / "coursework").is_dir()]
        if folders:
            raise SetupError(f"check: {Path(folders[0]) / '__init__.py'} is missing; restore "
                             "it (`git checkout coursework/__init__.py`, or create an empty "
                             "file of that name) and run the cell again")
        raise SetupError("check: the coursework package cannot be found; start JupyterLab with "
                         "`make lab` from the course folder")
    return Path(spec.origin).resolve().parent.parent


def graded_names():
    """{unit: [keys]} of the units whose tests exist, in course order."""
    return {unit: [key for spec in specs_of(unit) for key in spec.tests]
            for unit in available_units()}


def _unknown(name, graded):
    keys = [k for keys in graded.values() for k in keys]
    modules = [m for unit in graded for m in UNITS[unit][1]]
    candidates = keys + modules + list(graded) + [u.split("_", 1)[0] for u in graded]
    close = [k for k in keys if k.startswith(name + "_") or k.startswith(name + ".")]
    close += [c for c in difflib.get_close_matches(name, candidates, n=4, cutoff=0.6)
              if c not in close]
    if "." in name and not close:  # a method of a graded class: mlp.TwoLayerNet.loss
        head = name.rsplit(".", 1)[0]
        close = [k for k in keys if k == head]
    text = f"check: {name!r} is not a graded function, module or unit"
    if close:
        text += "; did you mean " + ", ".join(repr(c) for c in close[:6]) + "?"
    else:
        text += (f"; graded functions look like {keys[0]!r} (a module: "
                 f"{modules[0]!r}, a unit: '01')" if keys else "; no unit has tests yet")
    return UnknownName(text)


def _name_of(obj):
    """The name of a function, class, method or module of ``coursework`` given itself rather
    than by name (``check(linear.svm_loss_naive)``: 'linear.svm_loss_naive'), to be resolved
    as that name is (a method not graded on its own is refused, naming its class); None for
    anything else."""
    import types

    if isinstance(obj, types.ModuleType):
        head, _, module = obj.__name__.rpartition(".")
        return module if head == "coursework" else None
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    head, _, module = str(getattr(obj, "__module__", "")).rpartition(".")
    qualname = getattr(obj, "__qualname__", None)
    if head != "coursework" or not isinstance(qualname, str) or "<" in qualname:
        return None
    return f"{module}.{qualname}"


def resolve(name, graded=None):
    """The graded keys that ``name`` (a function key, a module or a unit) stands for, in grading
    order; ``UnknownName`` with the close matches for anything else. The function, class or
    module itself is accepted too (``linear.svm_loss_naive`` without quotes)."""
    graded = graded_names() if graded is None else graded
    if not isinstance(name, str):
        name = _name_of(name) or name
    if not isinstance(name, str) or not name.strip():
        raise UnknownName(f"check: give a function like 'linear.svm_loss_naive', a module like "
                          f"'linear' or a unit like '01', got {name!r}")
    name = name.strip()
    keys = [k for unit_keys in graded.values() for k in unit_keys]
    if name in keys:
        return [name]
    if "." not in name:
        by_module = [k for k in keys if k.split(".", 1)[0] == name]
        if by_module:
            return by_module
        try:
            units = resolve_units([name])
        except ValueError:
            units = []
        found = [k for u in units for k in graded.get(u, [])]
        if found:
            return found
    raise _unknown(name, graded)


def _todo_text(key, entry):
    module, _, function = key.partition(".")
    unwritten = [k for k in entry.get("failed_calls", ())]
    own = engine.OWN_STUB in (entry.get("message") or "")
    if unwritten:  # the NotImplementedError may come from a function it calls
        names = ", ".join(called_name(k, key) for k in unwritten)
        failing = (f"it calls your {names}, which {'does' if len(unwritten) == 1 else 'do'} "
                   "not pass yet")
        if own:
            return (f"not implemented yet: replace the `raise NotImplementedError` of "
                    f"{function} in coursework/{module}.py with your code; {failing}: fix "
                    f"{'that' if len(unwritten) == 1 else 'those'} too")
        return (f"not implemented yet: {failing}: write or fix "
                f"{'that' if len(unwritten) == 1 else 'those'} first, then {function} in "
                f"coursework/{module}.py if its own `raise NotImplementedError` is still there")
    twice = (entry.get("message") or "").partition("; it is defined ")[2]
    return (f"not implemented yet: replace the `raise NotImplementedError` of {function} in "
            f"coursework/{module}.py with your code, and save the file"
            + (f"; it is defined {twice}" if twice else ""))


def _note_failing_callees(report, entries, submission, limits, graded):
    """When a checked function fails, grade the graded functions it calls that were not
    checked (not shown), so that its verdict can say "it calls your ..., which fails its own
    test: fix that first" (``dependencies``)."""
    every_key = [k for keys in graded.values() for k in keys]
    failing = [k for k, e in entries.items() if e["status"] != "passed"]
    extra = [k for k in callees(failing, every_key) if k not in entries]
    if not extra:
        return
    units = [u for u in graded if any(unit_of_key(k) == u for k in extra)]
    more = engine.grade(submission or _submission(), units, keys=set(extra), public_only=True,
                        limits=limits)
    merged = {"units": {"all": {"functions": {
        **{k: e for u in more["units"].values() for k, e in u["functions"].items()},
        **entries}}}}
    note_failed_dependencies(merged)  # annotates the entries of ``entries`` in place


def check(*names, submission=None, timeout=None, device=None):
    """Check functions, modules or units on the public tests; raise AssertionError on failure.

    ``device``: "cpu", "cuda" (the inputs reach the code as GPU arrays; without a GPU this
    raises ValueError saying why, in one line) or "auto" (cuda when usable); by default the
    COURSE_DEVICE environment variable, else "cpu".

    Each name is a graded function ('linear.svm_loss_naive'), a module ('linear') or a unit
    ('01'), or the function, class or module itself; every function named gets a verdict.
    Unknown names raise ``UnknownName`` (a ``ValueError``) listing the close matches, before
    anything is graded.
    """
    if len(names) == 1 and isinstance(names[0], (list, tuple)):
        names = tuple(names[0])
    # 'relu_forward, relu_backward' or make check F=a,b: commas separate names too
    names = tuple(part for name in names
                  for part in (name.split(",") if isinstance(name, str) and "," in name
                               else [name]))
    if not names:
        raise _one_line(UnknownName("check: give at least one name, e.g. "
                                    "check('linear.svm_loss_naive')"))
    graded = graded_names()
    keys = []
    for name in names:
        for key in resolve(name, graded):
            if key not in keys:
                keys.append(key)
    units = [u for u in graded if any(unit_of_key(k) == u for k in keys)]
    limits = None
    source = "check(..., device=...)" if device else "the environment variable COURSE_DEVICE"
    device = device or os.environ.get("COURSE_DEVICE") or "cpu"
    if timeout is not None or device != "cpu":
        from .device import resolve as resolve_device
        from .sandbox import Limits

        limits = Limits()
        if timeout is not None:
            limits = Limits(call_seconds=timeout, cpu_seconds=timeout)
        try:
            limits.device = resolve_device(device, units, source=source)
        except ValueError as exc:
            raise _one_line(exc) from None
    report = engine.grade(submission or _submission(), units, keys=set(keys), public_only=True,
                          limits=limits)
    entries = {k: e for unit_report in report["units"].values()
               for k, e in unit_report["functions"].items()}
    _note_failing_callees(report, entries, submission, limits, graded)
    failed = []
    for key in keys:
        entry = entries[key]
        print(f"{MARK[entry['status']]:<8}{key}  ({entry['score']:g}/{entry['max']:g})")
        if entry["status"] == "passed":
            continue
        failed.append(key)
        todo = entry["status"] == "not_implemented"
        print(f"        {_todo_text(key, entry) if todo else entry['message']}")
        if entry.get("hint") and not (todo and entry.get("failed_calls")):
            print(f"        hint: {entry['hint']}")
    if failed:
        _print_output(report.get("output") or "")
        raise _one_line(AssertionError(
            f"{len(failed)} of the {len(keys)} checked functions did not pass: "
            f"{', '.join(failed)}"))
    print("All checks passed." if len(keys) == 1 else f"All {len(keys)} checks passed.")


PRINTED_LINES = 15  # of what the code printed, the last lines a failed check shows


def _print_output(output):
    """The end of what the student's code printed while it was checked (its prints run in the
    grader's process, not in the notebook's kernel, where they would not be seen)."""
    lines = output.rstrip("\n").split("\n") if output.strip() else []
    if not lines:
        return
    print("What your code printed while it was checked"
          + (f" (its last {PRINTED_LINES} lines)" if len(lines) > PRINTED_LINES else "") + ":")
    for line in lines[-PRINTED_LINES:]:
        print(f"    {line}")


# ------------------------------------------------------------------------------ notebooks

def _coursework_frame(tb):
    """(module, qualified function name, path, line) of the innermost frame of ``tb`` in a
    file of a ``coursework`` folder, or None."""
    found = None
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.parent.name == "coursework" and path.suffix == ".py":
            code = tb.tb_frame.f_code
            found = (path.stem, getattr(code, "co_qualname", code.co_name), path, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _raise_line(path, qualname):
    """The line of ``raise NotImplementedError`` in the last definition of ``qualname``
    ('f' or 'Class.method') in the file as it is saved now; 0 when that definition raises none;
    None when the file cannot be read or has no such definition. (The kernel's code may be older
    than the file: autoreload keeps the line numbers of the code it loaded.)"""
    import ast

    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    scope, found = tree.body, None
    for part in qualname.split("."):
        matches = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.ClassDef)) and n.name == part]
        if not matches:
            return None
        found = matches[-1]  # defined twice: Python uses the last one
        scope = found.body
    for node in ast.walk(found):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return node.lineno
    return 0


def not_written_message(tb):
    """One line for a NotImplementedError raised in coursework/, or None."""
    where = _coursework_frame(tb)
    if where is None:
        return None
    module, function, path, line = where
    saved = _raise_line(path, function)
    if saved == 0:
        return (f"{module}.{function} raised NotImplementedError, but coursework/{module}.py as "
                f"saved no longer does: this kernel still runs an older version of it; run the "
                f"cell again (or restart the kernel)")
    return (f"{module}.{function} is not written yet (coursework/{module}.py, line "
            f"{saved or line}), and this cell needs it: replace its `raise NotImplementedError` "
            f"with your code, save the file, check it, and run this cell again")


def not_defined_message(error, tb, namespace):
    """One line for a NameError raised by the notebook's own code (its innermost frame runs in
    the notebook's namespace ``namespace``), or None: the name is usually one that a cell above
    defines, and that cell was not run, or stopped before it defined it."""
    frame = None
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    if frame is None or frame.f_globals is not namespace:
        return None
    import difflib

    name = getattr(error, "name", None)
    if not isinstance(name, str):
        return None
    message = (f"name '{name}' is not defined: a cell above defines it, and in this kernel it "
               f"has not run to its end (not run yet, stopped with an error, or the kernel was "
               f"restarted since). Run the cells above in order (Run > Run All Above Selected "
               f"Cell), fix the first one that stops, then run this cell again")
    close = difflib.get_close_matches(name, [n for n in namespace if not n.startswith("_")],
                                      n=1, cutoff=0.8)
    if close:
        message += f" (or did you mean '{close[0]}'?)"
    return message


def missing_key_message(error, tb, namespace):
    """One line for a KeyError raised by the notebook's own code, or None: a notebook's cell
    that reads results by key (``paths[name, rule]``) finds one missing when the cell above
    that fills them stopped before that entry (a function it calls is not written yet)."""
    frame = None
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    if frame is None or frame.f_globals is not namespace or len(error.args) != 1:
        return None
    key = repr(error.args[0])
    if len(key) > 200:
        key = key[:200] + " [...]"
    return (f"{key}: this cell reads a result that a cell above stores under that key, and in "
            f"this kernel that cell has not run to its end (not run yet, stopped with an error, "
            f"or the kernel was restarted since). Run the cells above in order (Run > Run All "
            f"Above Selected Cell), fix the first one that stops, then run this cell again (if "
            f"they all ran without an error, the key is misspelled)")


def guard_message(error, tb, namespace):
    """The message of a RuntimeError that a cell of the notebook raises itself (``raise
    RuntimeError("the cell above did not finish: ...")``, the guards in front of a plot or a
    result), or None: the message says what to do, and a traceback would bury it."""
    import linecache

    frame, line = None, 0
    while tb is not None:
        frame, line, tb = tb.tb_frame, tb.tb_lineno, tb.tb_next
    if frame is None or frame.f_globals is not namespace:
        return None
    source = linecache.getline(frame.f_code.co_filename, line).strip()
    return str(error) if source.startswith("raise RuntimeError(") else None


_FIGURES_BEFORE_CELL = set()  # the matplotlib figures open when the running cell started


def _note_open_figures(*args):
    """pre_run_cell: remember which figures are open before the cell runs."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    _FIGURES_BEFORE_CELL.clear()
    if pyplot is not None:
        _FIGURES_BEFORE_CELL.update(pyplot.get_fignums())


def _close_unfinished_figures():
    """Close the figures that the stopping cell opened and did not show: the inline backend
    would display them under the one-line error, empty axes that look like a broken plot (the
    cell made ``plt.subplots`` before calling a function that is not written yet). Figures
    shown with ``plt.show()`` are already out; those of earlier cells are left alone."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    for number in pyplot.get_fignums():
        if number not in _FIGURES_BEFORE_CELL:
            pyplot.close(number)


# ------------------------------------------------ a coursework file that does not compile

def syntax_message(error, label, then, named=True):
    """One line for a SyntaxError (an IndentationError, a TabError) of the coursework file
    ``label``: where (line, column), Python's words (after the exception's name unless
    ``named`` is false: the line starts with it) and what to do; ``then`` says what happens
    until the file is fixed."""
    line = error.lineno if type(error.lineno) is int else None
    column = (f", column {error.offset}" if type(error.offset) is int and error.offset > 0
              else "")
    where = f"line {line}{column}: " if line else ""
    words = error.msg if isinstance(error.msg, str) else str(error)
    kind = f" ({type(error).__name__})" if named else ""
    fix = f"fix line {line} of {label}" if line else f"fix {label}"
    return f"{label} does not compile: {where}{words}{kind}; {fix} and save it; {then}"


def _loaded(label):
    return f"coursework.{Path(label).stem}" in sys.modules


def _coursework_folder():
    """The folder of the coursework package the kernel imports (or would import), or None."""
    package = sys.modules.get("coursework")
    try:
        paths = list(getattr(package, "__path__", None) or []) if package is not None else []
        if not paths:
            spec = importlib.util.find_spec("coursework")
            paths = list(getattr(spec, "submodule_search_locations", None) or []) if spec else []
    except (ImportError, ValueError):
        return None
    return Path(paths[0]) if paths else None


class CompileWatch:
    """pre_run_cell: compile the files of coursework/ that this kernel imported and that were
    saved since the last cell, and print one line for each that does not compile (once per
    saved version; a file not imported yet gets its line from ``_notebook_handler`` when a cell
    imports it). Without it, ``%autoreload 2``
    prints a long "[autoreload of coursework.X failed: Traceback ...]" and the cell runs the
    code loaded before without a word about it. Runs before autoreload, and tells it that the
    file's version failed already, so that its traceback is not printed under the line."""

    def __init__(self, shell):
        self.shell = shell
        self.seen = {}  # path: (mtime_ns, size) when last looked at
        self.reported = {}  # path: the source reported as not compiling
        self._look(report=False)

    def __call__(self, *args):
        quiet_reloads(self.shell)  # autoreload may be loaded after the autograder
        try:
            self._look(report=True)
        except Exception:  # noqa: BLE001 - a notebook's cell must run whatever happens here
            pass

    def _look(self, report):
        folder = _coursework_folder()
        if folder is None:
            return
        try:
            entries = [e for e in os.scandir(folder) if e.name.endswith(".py") and e.is_file()]
        except OSError:
            return
        for entry in sorted(entries, key=lambda e: e.name):
            try:
                info = entry.stat()
            except OSError:
                continue
            version = (info.st_mtime_ns, info.st_size)
            if self.seen.get(entry.path) == version:
                continue
            self.seen[entry.path] = version
            if report:
                self._compile(entry.path)

    def _compile(self, path):
        label = coursework_label(path) or str(path)
        if not _loaded(label):
            # not imported by this kernel: a cell that imports it gets the line then
            self.reported.pop(path, None)
            return
        try:
            source = Path(path).read_bytes()
        except OSError:
            return
        try:
            compile(source, path, "exec", dont_inherit=True)
        except SyntaxError as error:  # IndentationError, TabError
            self._autoreload_skips(path)
            if self.reported.get(path) == source:
                return  # saved again unchanged: said already
            self.reported[path] = source
            then = f"until then the cells still run the {Path(path).name} loaded before"
            print(syntax_message(error, label, then), file=sys.stderr)
        except (ValueError, MemoryError, RecursionError):  # null bytes, a pathological file
            return
        else:
            self.reported.pop(path, None)

    def _autoreload_skips(self, path):
        """Mark the saved version of ``path`` as failed in autoreload's reloader, which then
        skips it silently until the file is saved again (IPython's ``ModuleReloader.failed``);
        nothing when autoreload is not loaded or is not as expected."""
        try:
            magics = self.shell.magics_manager.registry.get("AutoreloadMagics")
            reloader = getattr(magics, "_reloader", None)
            failed = getattr(reloader, "failed", None)
            if not isinstance(failed, dict):
                return
            target = os.path.realpath(path)
            for name, module in list(sys.modules.items()):
                if not name.startswith("coursework.") or module is None:
                    continue
                filename, mtime = reloader.filename_and_mtime(module)
                if filename and os.path.realpath(filename) == target:
                    failed[filename] = mtime
        except Exception:  # noqa: BLE001 - IPython's internals changed: its traceback it is
            return


def _notebook_handler(shell, etype, value, tb, tb_offset=None):
    if isinstance(value, SyntaxError):  # importing a coursework file that does not compile
        label = coursework_label(value.filename) if isinstance(value.filename, str) else None
        if label is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return None
        message = syntax_message(value, label, "then run this cell again", named=False)
        shell._showtraceback(etype, value, [f"{etype.__name__}: {message}"])
        return None
    if isinstance(value, NotImplementedError):
        message = not_written_message(tb)
    elif isinstance(value, KeyError):
        message = missing_key_message(value, tb, shell.user_ns)
    elif isinstance(value, RuntimeError):
        message = guard_message(value, tb, shell.user_ns)
    else:
        message = not_defined_message(value, tb, shell.user_ns)
    if message is not None:
        value._render_traceback_ = lambda: [f"{etype.__name__}: {message}"]
        _close_unfinished_figures()
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return None


def load_ipython_extension(ipython):
    """``%load_ext autograder``: a function of coursework/ that is not written yet stops a cell
    with one line that names it and its file, instead of a traceback; a name that a cell above
    should have defined, or a key it should have stored, says so in one line, with what to
    run; a notebook's own guard (``raise RuntimeError("the cell above did not finish ...")``) is
    its message alone. A cell stopped that way shows no empty figure of its own under the
    line (``_close_unfinished_figures``). A file of coursework/ saved with a syntax error is
    one line before the next cell runs (``CompileWatch``), and one line where a cell imports
    it."""
    ipython.set_custom_exc((NotImplementedError, NameError, KeyError, RuntimeError,
                            SyntaxError), _notebook_handler)
    callbacks = ipython.events.callbacks["pre_run_cell"]
    if _note_open_figures not in callbacks:  # loaded twice
        ipython.events.register("pre_run_cell", _note_open_figures)
    if not any(isinstance(callback, CompileWatch) for callback in callbacks):
        callbacks.insert(0, CompileWatch(ipython))  # before autoreload's check


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    if not names:
        print("usage: make check F=linear.svm_loss_naive  (a function, a module such as linear, "
              "or a unit such as 01; several names separated by spaces or commas)", file=sys.stderr)
        return 2
    try:
        check(*names)
    except (UnknownName, SetupError) as error:
        print(error, file=sys.stderr)
        return 2
    except AssertionError as error:
        print(f"AssertionError: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
