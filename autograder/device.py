"""Where the grader runs student code: ``cpu`` or ``cuda`` (``auto`` picks cuda when usable).

With ``cuda`` the worker receives its array inputs as device arrays (CuPy for NumPy units, CUDA
tensors for PyTorch units), converts what it returns back to NumPy, and the judge compares on the
host. The sandbox then lets the worker reach the NVIDIA device files and nothing more
(``gpu_binds``). Without a usable GPU, asking for ``cuda`` fails with one line saying why.
"""

import glob
import importlib.util
import os

CHOICES = ("cpu", "cuda", "auto")

# The NVIDIA device files a CUDA program opens: the per-GPU nodes (nvidia0, nvidia1, ...), the
# control node, unified memory and its tools node, modeset, and the capability nodes (MIG).
_DEVICE_PATTERNS = ("/dev/nvidia[0-9]*", "/dev/nvidiactl", "/dev/nvidia-uvm",
                    "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/nvidia-caps/*")
# Driver libraries outside /usr (bound whole by the sandbox already): where containers put them.
_LIBRARY_DIRS = ("/usr/local/nvidia", "/usr/local/cuda", "/run/nvidia")


# On a GPU each worker starts CUDA and CuPy compiles each elementwise kernel on first use (into
# the worker's private /tmp: a cache shared between students could be poisoned), so the per-call
# time limits are multiplied by this. Set before any GPU run; on an H200 the whole course's
# reference graded on the GPU with nothing timing out (README, "GPU").
TIME_FACTOR = 3.0


class DeviceUnavailable(ValueError):
    """``--device cuda`` on a machine where CUDA cannot be used; the message is one line."""


def needs(units):
    """(CuPy needed, PyTorch needed) to grade ``units`` on a GPU: CuPy for the modules graded
    with NumPy only, PyTorch for those graded with ``torch`` (``units.packages_of_module``)."""
    from .units import UNITS, packages_of_module, resolve_units

    with_torch = ["torch" in packages_of_module(m) for u in resolve_units(units)
                  for m in UNITS[u][1]]
    return (not all(with_torch), any(with_torch))


def torch_modules(units):
    """The coursework modules of ``units`` whose calls get CUDA tensors: those graded with
    PyTorch (``units.packages_of_module``); a PyTorch unit's NumPy module gets CuPy arrays."""
    from .units import UNITS, packages_of_module, resolve_units

    return tuple(m for u in resolve_units(units) for m in UNITS[u][1]
                 if "torch" in packages_of_module(m))


def cuda_problem(cupy=True, torch=False):
    """None when the worker could compute on a CUDA GPU with CuPy (``cupy``) and PyTorch
    (``torch``), else one line that says why not (the first missing piece)."""
    if torch:
        if importlib.util.find_spec("torch") is None:
            return "no CUDA device: torch is not installed"
        import torch as torch_module

        if not torch_module.cuda.is_available():
            return (f"no CUDA device: torch.cuda.is_available() is False (torch "
                    f"{torch_module.__version__}, built for CUDA {torch_module.version.cuda})")
    if cupy:
        if importlib.util.find_spec("cupy") is None:
            return "no CUDA device: cupy is not installed (make grade installs it on a GPU machine)"
        try:
            import cupy as cupy_module

            count = cupy_module.cuda.runtime.getDeviceCount()
        except Exception as exc:  # the CUDA runtime or driver fails to load
            return f"no CUDA device: cupy cannot use the GPU ({type(exc).__name__}: {exc})"[:300]
        if count < 1:
            return "no CUDA device: cupy sees 0 GPUs"
    if not gpu_device_files():  # the sandbox binds these into the worker
        return "no CUDA device: no /dev/nvidia* device files on this machine"
    return None


def resolve(device, units=None, *, source="--device"):
    """``cpu``, ``cuda`` or ``auto`` -> ``cpu`` or ``cuda``, for grading ``units`` (default all).
    ``source`` names where the value came from in the error for another name (``--device``, the
    ``COURSE_DEVICE`` environment variable, ``check``'s ``device=``).

    Raises:
        ValueError: for another name.
        DeviceUnavailable: for ``cuda`` without a usable GPU (the message says why, one line).
    """
    device = (device or "cpu").strip().lower()
    if device not in CHOICES:
        raise ValueError(f"{source} must be one of {', '.join(CHOICES)}, got {device!r}")
    if device == "cpu":
        return "cpu"
    cupy, torch = needs(units)
    problem = cuda_problem(cupy=cupy, torch=torch)
    if device == "auto":
        return "cpu" if problem else "cuda"
    if problem:
        raise DeviceUnavailable(problem)
    return "cuda"


def gpu_device_files(listing=None):
    """The NVIDIA device files present, sorted (``listing``: paths to use instead of /dev, for
    tests). Only character devices count on the real /dev."""
    if listing is not None:
        pats = [p.replace("[0-9]*", "") for p in _DEVICE_PATTERNS]
        out = []
        for path in listing:
            if path.startswith("/dev/nvidia-caps/") or path in pats[1:5]:
                out.append(path)
            elif path.startswith("/dev/nvidia") and path[len("/dev/nvidia"):].isdigit():
                out.append(path)
        return sorted(set(out))
    found = set()
    for pattern in _DEVICE_PATTERNS:
        for path in glob.glob(pattern):
            try:
                import stat

                if stat.S_ISCHR(os.stat(path).st_mode):
                    found.add(path)
            except OSError:
                continue
    return sorted(found)


def gpu_binds(device_files, library_dirs=None, exists=os.path.exists):
    """The bubblewrap arguments that let the worker reach the GPU: ``--dev-bind`` of each device
    file (read-write: CUDA opens them for writing) and ``--ro-bind`` of each driver library
    folder outside /usr that exists. Nothing else of /dev or /sys is exposed."""
    argv = []
    for path in device_files:
        argv += ["--dev-bind", path, path]
    for d in (_LIBRARY_DIRS if library_dirs is None else library_dirs):
        if exists(d):
            argv += ["--ro-bind", d, d]
    return argv


def cuda_packages(packages):
    """The distributions the worker may import on a GPU: the units' own, plus the installed CuPy
    distribution (cupy-cuda12x, cupy-cuda13x...) and what it needs."""
    try:
        from importlib.metadata import packages_distributions

        dists = packages_distributions().get("cupy", [])
    except Exception:
        dists = []
    return tuple(packages) + tuple(d for d in dists if d not in packages)
