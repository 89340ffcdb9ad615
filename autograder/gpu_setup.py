"""Install the CUDA builds on a machine with an NVIDIA GPU and say which were installed.

Run by ``make`` (the ``.venv/.installed`` step) only where ``nvidia-smi`` works, as
``.venv/bin/python autograder/gpu_setup.py``; it uses the standard library only (the package is
not installed yet). CuPy's wheel is chosen from the CUDA version the driver supports (the
"CUDA Version" in ``nvidia-smi``'s header): cupy-cuda12x for 12.x, cupy-cuda13x for 13.x.
PyTorch comes from pyproject's range (``pip install -e .``: its Linux wheels on PyPI are CUDA
builds); this script reports what it got.
"""

import re
import subprocess
import sys

# driver's CUDA major version -> CuPy wheel
CUPY_WHEELS = {12: "cupy-cuda12x", 13: "cupy-cuda13x"}


def driver_cuda_version(nvidia_smi_text):
    """(major, minor) of "CUDA Version: 12.4" in nvidia-smi's output, or None."""
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", nvidia_smi_text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def cupy_wheel(version):
    """The CuPy wheel for a driver supporting CUDA ``version`` ((major, minor)).

    Raises:
        ValueError: naming the version when no CuPy wheel fits it.
    """
    if version is None:
        raise ValueError("nvidia-smi did not report a CUDA version")
    major = version[0]
    if major in CUPY_WHEELS:
        return CUPY_WHEELS[major]
    if major > max(CUPY_WHEELS):  # newer drivers run older CUDA builds
        return CUPY_WHEELS[max(CUPY_WHEELS)]
    raise ValueError(f"the driver supports CUDA {version[0]}.{version[1]}; CuPy's wheels need "
                     f"CUDA {min(CUPY_WHEELS)} or newer: update the NVIDIA driver")


def main():
    text = subprocess.run(["nvidia-smi"], capture_output=True, text=True, check=True).stdout
    version = driver_cuda_version(text)
    wheel = cupy_wheel(version)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"{wheel}>=13"], check=True)
    probe = ("import torch, cupy; print(f'torch {torch.__version__} (CUDA {torch.version.cuda}, "
             "GPU usable: {torch.cuda.is_available()}), ' + f'cupy {cupy.__version__}')")
    got = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    print(f"NVIDIA driver supports CUDA {version[0]}.{version[1]}: installed {wheel}; "
          + (got.stdout.strip() or got.stderr.strip()[-300:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
