"""The units of the course, in order, and the coursework modules each one grades."""

import importlib
import warnings

from .paths import PACKAGE_DIR

DEFAULT_PACKAGES = ("numpy",)


class Unit(tuple):
    """A unit's entry: ``(title, modules)`` like a plain pair, plus ``packages``: the installed
    distributions its student code may import in the grader's worker (their dependencies come
    with them; everything else is invisible there). Units 01-05 use NumPy only; a unit that
    needs PyTorch declares ``Unit("...", ["..."], packages=("numpy", "torch"))``.

    ``module_packages`` narrows it for single modules: a PyTorch unit's NumPy module (unit 07's
    ``segmentation``) declares ``module_packages={"segmentation": ("numpy",)}`` and is graded in
    a worker that cannot import PyTorch (``packages_of_module``)."""

    def __new__(cls, title, modules, packages=DEFAULT_PACKAGES, module_packages=None):
        self = super().__new__(cls, (title, modules))
        self.packages = tuple(packages)
        self.module_packages = {m: tuple(p) for m, p in (module_packages or {}).items()}
        unknown = sorted(set(self.module_packages) - set(modules))
        if unknown:
            raise ValueError(f"module_packages names {unknown}, which are not among the unit's "
                             f"modules {list(modules)}")
        return self


# unit name -> (title, modules whose specs it grades), a plain pair or a Unit (to declare
# packages). Add a unit here and a spec per module in autograder/specs/.
UNITS = {
    "01_linear": ("Linear classifiers", ["linear"]),
    "02_mlp": ("MLPs and backpropagation", ["layers", "losses", "gradcheck", "mlp"]),
    "03_cnn": ("Convolution, pooling and a CNN from scratch", ["conv", "cnn"]),
    "04_normalization": ("Normalization and regularization",
                         ["normalization", "regularization", "augmentation"]),
    "05_optim": ("Optimizers and learning-rate schedules", ["optim"]),
    "06_architectures": Unit("CNN architectures in PyTorch and transfer learning",
                             ["architectures"], packages=("numpy", "torch")),
    "07_segmentation": Unit("Semantic segmentation: upsampling, metrics, losses and a U-Net",
                            ["segmentation", "segnets"], packages=("numpy", "torch"),
                            module_packages={"segmentation": ("numpy",)}),
    "08_detection": Unit("Object detection: IoU, NMS, YOLO and mAP", ["detection", "detectors"],
                         packages=("numpy", "torch"), module_packages={"detection": ("numpy",)}),
    "09_rnn": ("Recurrent networks: RNN, LSTM and backpropagation through time", ["rnn"]),
    "10_generative": Unit("Autoencoders, VAEs and GANs in PyTorch", ["generative"],
                          packages=("numpy", "torch")),
}


class UnknownUnit(ValueError):
    pass


class MissingSpecWarning(UserWarning):
    """A unit of UNITS grades a module that has no spec yet; the unit is left out."""


def available_units():
    """Units whose every spec module exists, in course order. A unit with a module that has no
    spec is left out with a ``MissingSpecWarning`` naming the module, never silently."""
    out = []
    for name, (_, modules) in UNITS.items():
        missing = [m for m in modules if not (PACKAGE_DIR / "specs" / f"{m}.py").exists()]
        if missing:
            warnings.warn(
                f"unit {name} is not graded: no spec for its module(s) "
                f"{', '.join(repr(m) for m in missing)} (write autograder/specs/"
                f"{missing[0]}.py with SPEC = Spec({missing[0]!r}))",
                MissingSpecWarning, stacklevel=2)
            continue
        out.append(name)
    return out


def resolve_units(requested):
    """Map '01' (or '1'), '01_linear' or 'linear' to unit names, each item possibly a
    comma-separated list ('01,02'); UnknownUnit naming the bad one."""
    available = available_units()
    if not requested:
        return available
    out = []
    items = [part.strip() for item in requested for part in str(item).split(",")]
    for item in items:
        number = item.zfill(2) if item.isdigit() else None  # "1" is unit 01
        match = [u for u in available
                 if item == u or item == u.split("_", 1)[0] or item == u.split("_", 1)[1]
                 or item in UNITS[u][1] or number == u.split("_", 1)[0]]
        if not match:
            raise UnknownUnit(f"unknown unit {item!r}; available: {', '.join(available)}")
        for u in match:
            if u not in out:
                out.append(u)
    return out


def specs_of(unit):
    """The Spec objects of a unit, in the order of its modules."""
    return [importlib.import_module(f"autograder.specs.{m}").SPEC for m in UNITS[unit][1]]


def unit_packages(units):
    """The distributions the worker may import when grading ``units`` (their union, in order):
    each unit's ``packages`` (``DEFAULT_PACKAGES`` for a plain pair)."""
    out = []
    for unit in units:
        for name in getattr(UNITS.get(unit), "packages", DEFAULT_PACKAGES):
            if name not in out:
                out.append(name)
    return tuple(out) or DEFAULT_PACKAGES


def packages_of_module(module):
    """The distributions the worker may import while grading ``module``'s functions: its own
    declaration in its unit's ``module_packages``, else its unit's ``packages``. Grading runs
    each set in a worker of its own, so a NumPy module graded beside a PyTorch unit still cannot
    import PyTorch."""
    for unit in UNITS.values():
        if module in unit[1]:
            declared = getattr(unit, "module_packages", {})
            return declared.get(module) or getattr(unit, "packages", DEFAULT_PACKAGES)
    raise UnknownUnit(f"no unit grades the module {module!r}")


def unit_of_key(key):
    """The unit that grades 'module.function'."""
    module = key.split(".", 1)[0]
    for name, (_, modules) in UNITS.items():
        if module in modules:
            return name
    raise UnknownUnit(f"no unit grades the module {module!r}")
