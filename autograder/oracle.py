"""The reference answers, from the reference code or, in a student release, from recorded data.

In the instructor's repository the judge loads ``solutions/coursework`` in its own process (under
the private name ``_reference_coursework``, so it never meets a student's ``coursework``) and runs
it; the known mistakes of ``autograder/mistakes`` run beside it to recognise wrong answers. The
student release has neither: ``record`` stores the outputs the public tests need, keyed by a
digest of the recipe and its inputs, and ``Oracle(recorded=...)`` answers from that store.
"""

import hashlib
import importlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from . import wire
from .paths import MISTAKES_DIR, RECORDED_DIR, REFERENCE_PACKAGE

REFERENCE_NAME = "_reference_coursework"


class GraderFault(RuntimeError):
    """A fault of the grader itself (not of the submission)."""


class NotRecorded(GraderFault):
    """A release's recorded data has no reference answer for a call: the submission led a test
    down a path the reference never takes. It costs that function only (a grader fault), not
    the whole check."""


class Namespace:
    """``cw.linear`` -> the reference module ``linear``, imported on first use."""

    def __init__(self, package_name):
        self._package = package_name

    def __getattr__(self, module):
        if module.startswith("_"):
            raise AttributeError(module)
        return importlib.import_module(f"{self._package}.{module}")


class _ModuleView:
    """A module with one attribute replaced."""

    def __init__(self, module, name, value):
        self._module, self._name, self._value = module, name, value

    def __getattr__(self, attr):
        return self._value if attr == self._name else getattr(self._module, attr)


class Patched:
    """The namespace ``cw`` with ``target`` ('module.function') replaced by ``func``."""

    def __init__(self, cw, target, func):
        self._cw = cw
        self._module, _, self._name = target.partition(".")
        self._func = func

    def __getattr__(self, module):
        real = getattr(self._cw, module)
        return _ModuleView(real, self._name, self._func) if module == self._module else real


def load_reference(path=REFERENCE_PACKAGE):
    """Import the reference package under its private name and return a Namespace for it."""
    path = Path(path)
    if REFERENCE_NAME not in sys.modules:
        if not (path / "__init__.py").exists():
            raise GraderFault(f"no reference package at {path}")
        spec = importlib.util.spec_from_file_location(
            REFERENCE_NAME, path / "__init__.py", submodule_search_locations=[str(path)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[REFERENCE_NAME] = module
        spec.loader.exec_module(module)
    return Namespace(REFERENCE_NAME)


def digest(recipe_id, args, kwargs):
    """A stable key for a recipe applied to inputs."""
    payload = wire.dumps({"recipe": recipe_id, "args": wire.encode(list(args)),
                          "kwargs": wire.encode(dict(kwargs))})
    return hashlib.sha256(payload).hexdigest()[:32]


def recipe_id(recipe):
    if isinstance(recipe, str):
        return recipe
    return f"{recipe.__module__.rsplit('.', 1)[-1]}.{recipe.__qualname__}"


class Oracle:
    """Reference outputs and known-mistake outputs for the tests."""

    def __init__(self, recorded=None):
        self.recorded = recorded  # None: run the reference; else a dict loaded from disk
        self.recording = None  # dict filled by ``run``/``mistakes`` when recording
        self._cw = None
        self._mistakes = {}

    @property
    def cw(self):
        if self._cw is None:
            self._cw = load_reference()
        return self._cw

    def run(self, recipe, *args, **kwargs):
        """The reference result of ``recipe`` on these inputs.

        ``recipe`` is "module.function" (call that reference function) or a function
        ``recipe(cw, *args, **kwargs)`` of the reference namespace ``cw`` (``cw.layers`` is the
        reference module ``layers``), for results that need several calls (forward, then
        backward with the forward's cache).
        """
        if self.recorded is not None:
            key = digest(recipe_id(recipe), args, kwargs)
            if key not in self.recorded["outputs"]:
                raise NotRecorded(f"no recorded reference output for {recipe_id(recipe)} on "
                                  "this call; the release's recorded data does not cover it")
            return wire.decode(self.recorded["outputs"][key])
        result = _apply(recipe, self.cw, args, kwargs)
        if self.recording is not None:  # (the live reference needs no key: digests cost time)
            self.recording["outputs"][digest(recipe_id(recipe), args, kwargs)] = \
                wire.encode(result)
        return result

    def provided(self, module):
        """Fingerprints of the functions of ``module`` the course provides (reference functions
        without a solution region): the rules about loops do not count their loops."""
        if self.recorded is not None:
            return set(self.recorded.get("provided", []))
        found = _reference_provided(module)
        if self.recording is not None:
            self.recording["provided"] = sorted(set(self.recording.get("provided", [])) | found)
        return found

    def mistakes(self, target, recipe, *args, **kwargs):
        """[(description, output)] of every known mistake of ``target`` on these inputs: the
        recipe run with ``target`` replaced by each mistaken variant."""
        key = digest(f"mistakes:{target}:{recipe_id(recipe)}", args, kwargs)
        if self.recorded is not None:
            return [(d, wire.decode(v)) for d, v in self.recorded["mistakes"].get(key, [])]
        return self._outcomes(key, target, recipe, args, kwargs)[0]

    def raised(self, target, recipe, *args, **kwargs):
        """[(description, "ExceptionName: message")] of the known mistakes of ``target`` that
        raise on these inputs (the recipe run as in ``mistakes``): a student's call that raises
        the same error may be one of them (``spec.raised_hint``)."""
        key = digest(f"mistakes:{target}:{recipe_id(recipe)}", args, kwargs)
        if self.recorded is not None:
            return [tuple(pair) for pair in self.recorded.get("raised", {}).get(key, [])]
        return self._outcomes(key, target, recipe, args, kwargs)[1]

    def _outcomes(self, key, target, recipe, args, kwargs):
        """([(description, output)], [(description, error)]): each known mistake of ``target``
        run through the recipe, by whether it returned or raised."""
        results, raised = [], []
        for description, func in self.known_mistakes(target):
            try:  # a mistake's warnings (NumPy's, PyTorch's "zero-element tensors") say
                with np.errstate(all="ignore"), warnings.catch_warnings():  # nothing to anyone
                    warnings.simplefilter("ignore")
                    results.append((description,
                                    _apply(recipe, Patched(self.cw, target, func), args, kwargs)))
            except Exception as exc:  # noqa: BLE001 - a mistake that raises on these inputs
                raised.append((description, f"{type(exc).__name__}: {exc}"[:2000]))
        if self.recording is not None:
            self.recording["mistakes"][key] = [(d, wire.encode(v)) for d, v in results]
            if raised:
                self.recording.setdefault("raised", {})[key] = [list(pair) for pair in raised]
        return results, raised

    def ruled_out(self, target, recipe, passed, same):
        """The descriptions of the known mistakes of ``target`` that answer one of the calls in
        ``passed`` ([(args, kwargs, the reference's answer)], calls the student got right)
        otherwise (``same(mistake's answer, reference's)`` False): they cannot be what the
        student wrote, though they may agree with the student on the failing call alone."""
        out = set()
        for args, kwargs, expected in passed:
            out |= {d for d, v in self.mistakes(target, recipe, *args, **kwargs)
                    if not same(v, expected)}
        return out

    def known_mistakes(self, target):
        """The registered (description, function) pairs for ``target``; each function has the
        signature of the target itself."""
        module = target.split(".", 1)[0]
        if module not in self._mistakes:
            self._mistakes[module] = {}
            if (MISTAKES_DIR / f"{module}.py").exists():
                mod = importlib.import_module(f"autograder.mistakes.{module}")
                self._mistakes[module] = getattr(mod, "MISTAKES", {})
        return self._mistakes[module].get(target, [])


_PROVIDED = {}


def _reference_provided(module):
    """Fingerprints of the provided functions of the reference's ``module``, computed once per
    state of its file."""
    from .rules import provided_fingerprints

    path = Path(REFERENCE_PACKAGE) / f"{module}.py"
    try:
        info = path.stat()
    except OSError:
        return set()
    key = (module, info.st_mtime_ns, info.st_size)
    if key not in _PROVIDED:
        _PROVIDED[key] = provided_fingerprints({module: path.read_text(encoding="utf-8")})
    return _PROVIDED[key]


def _apply(recipe, cw, args, kwargs):
    if isinstance(recipe, str):
        module, _, name = recipe.partition(".")
        return getattr(getattr(cw, module), name)(*args, **kwargs)
    return recipe(cw, *args, **kwargs)


def recorded_path(module, directory=RECORDED_DIR):
    return Path(directory) / f"{module}.json"


def load_recorded(modules, directory=RECORDED_DIR):
    """Merge the recorded files of these modules; None if none exists."""
    merged = {"outputs": {}, "mistakes": {}, "raised": {}}
    found = False
    for module in modules:
        path = recorded_path(module, directory)
        if path.exists():
            found = True
            data = json.loads(path.read_text())
            merged["outputs"].update(data["outputs"])
            merged["mistakes"].update(data["mistakes"])
            merged["raised"].update(data.get("raised", {}))
            merged.setdefault("provided", [])
            merged["provided"] = sorted(set(merged["provided"]) | set(data.get("provided", [])))
    return merged if found else None


def default_oracle(units):
    """The live reference where ``solutions/`` exists (the instructor's repository), else the
    recorded outputs shipped with a student release."""
    if (REFERENCE_PACKAGE / "__init__.py").exists():
        return Oracle()
    from .units import UNITS

    modules = [m for u in units for m in UNITS[u][1]]
    recorded = load_recorded(modules)
    if recorded is None:
        raise GraderFault("neither solutions/coursework nor recorded reference outputs are "
                          "present: is this a complete checkout?")
    return Oracle(recorded=recorded)
