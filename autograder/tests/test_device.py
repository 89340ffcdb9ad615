"""The GPU path where there is no GPU: the backend's NumPy equivalents, --device cuda failing
with one line, --device auto choosing cpu, and the sandbox's GPU binds from a fake device list.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from autograder import device, sandbox
from autograder.oracle import load_reference

cw = load_reference()
backend = cw.backend
NO_GPU = device.cuda_problem()


def test_add_at_sums_repeated_indices():
    a = np.zeros((4, 2))
    idx = np.array([1, 1, 3, 1])
    vals = np.arange(8.0).reshape(4, 2)
    assert backend.add_at(a, idx, vals) is None
    expected = np.zeros((4, 2))
    expected[1] = vals[0] + vals[1] + vals[3]  # written out: 0+2+6, 1+3+7
    expected[3] = vals[2]
    assert np.array_equal(a, expected)
    assert np.array_equal(a[1], [8.0, 11.0])


def test_sliding_window_view_matches_numpy_and_the_cupy_layout_rule():
    x = np.arange(2 * 5 * 4, dtype=np.float32).reshape(2, 5, 4)
    got = backend.sliding_window_view(x, (3, 2), axis=(1, 2))
    assert got.shape == (2, 3, 3, 3, 2)
    assert got[1, 2, 1, 2, 1] == x[1, 4, 2]
    # the shape/strides rule the CuPy branch uses, checked against NumPy's own view
    ref = np.lib.stride_tricks.sliding_window_view(x, (3, 2), axis=(1, 2))
    shape, strides = backend._window_layout(x.shape, x.strides, (3, 2), (1, 2))
    assert (shape, strides) == (ref.shape, ref.strides)
    shape, strides = backend._window_layout(x.shape, x.strides, (2, 2, 2), None)
    view = np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)
    assert np.array_equal(view, np.lib.stride_tricks.sliding_window_view(x, (2, 2, 2)))
    with pytest.raises(ValueError, match="window 6 does not fit axis 1"):
        backend._window_layout(x.shape, x.strides, 6, 1)


def test_bincount_matches_numpy_and_counts_an_empty_array(monkeypatch):
    x = np.array([3, 0, 3, 1])
    assert np.array_equal(backend.bincount(x, minlength=6), np.bincount(x, minlength=6))
    assert np.array_equal(backend.bincount(x), [1, 1, 0, 2])
    empty = backend.bincount(np.zeros(0, dtype=np.int64), minlength=4)
    assert np.array_equal(empty, np.zeros(4)) and empty.dtype.kind == "i"
    # The CuPy branch, with a stand-in whose bincount fails on an empty array as CuPy < 14.2 does
    import types

    class FakeArray(np.ndarray):
        pass

    fake = types.ModuleType("cupy")
    fake.ndarray = FakeArray
    fake.zeros = lambda n, dtype: np.zeros(n, dtype=dtype).view(FakeArray)

    def cupy_bincount(a, minlength=None):
        if a.size == 0:
            raise ValueError("zero-size array to reduction operation maximum")
        return np.bincount(np.asarray(a), minlength=minlength).view(FakeArray)

    fake.bincount = cupy_bincount
    monkeypatch.setattr(backend, "_cupy", fake)
    got = backend.bincount(np.zeros(0, dtype=np.int64).view(FakeArray), minlength=9)
    assert isinstance(got, FakeArray) and np.array_equal(got, np.zeros(9))
    got = backend.bincount(x.view(FakeArray), minlength=2)
    assert isinstance(got, FakeArray) and np.array_equal(got, [1, 1, 0, 2])


def test_as_strided_default_rng_and_asarray_like_on_numpy():
    x = np.arange(6.0)
    v = backend.as_strided(x, shape=(2, 3), strides=(24, 8))
    assert np.array_equal(v, [[0, 1, 2], [3, 4, 5]])
    assert isinstance(backend.default_rng(0, like=x), np.random.Generator)
    assert backend.default_rng(3).integers(1000) == np.random.default_rng(3).integers(1000)
    y = backend.asarray_like([1, 2], x, dtype=np.float32)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32


def test_embedding_backward_unchanged_on_numpy():
    x = np.array([[0, 2, 0], [2, 2, 1]])
    dout = np.arange(18.0).reshape(2, 3, 3)
    _, cache = cw.rnn.word_embedding_forward(x, np.zeros((4, 3)))
    dW = cw.rnn.word_embedding_backward(dout, cache)
    assert np.array_equal(dW[0], dout[0, 0] + dout[0, 2])
    assert np.array_equal(dW[2], dout[0, 1] + dout[1, 0] + dout[1, 1])
    assert np.array_equal(dW[3], np.zeros(3))


@pytest.mark.skipif(NO_GPU is None, reason="this machine has a usable GPU")
def test_device_cuda_fails_with_one_line_and_auto_picks_cpu():
    with pytest.raises(device.DeviceUnavailable) as info:
        device.resolve("cuda")
    assert str(info.value).startswith("no CUDA device: ")
    assert "\n" not in str(info.value)
    assert device.resolve("auto") == "cpu"
    assert device.resolve("CPU") == "cpu"
    with pytest.raises(ValueError, match="'tpu'"):
        device.resolve("tpu")
    assert device.resolve("auto", ["01", "09"]) == "cpu"
    # a PyTorch unit needs torch to see the GPU; this machine's torch is the CPU build
    torch_problem = device.cuda_problem(cupy=False, torch=True)
    assert torch_problem.startswith("no CUDA device: torch")
    assert device.needs(["01"]) == (True, False)


@pytest.mark.skipif(NO_GPU is None, reason="this machine has a usable GPU")
def test_cli_device_cuda_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--device", "cuda",
                           "--unit", "01"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: no CUDA device: ")


def test_gpu_binds_from_a_fake_device_list():
    listing = ["/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm",
               "/dev/nvidia-uvm-tools", "/dev/nvidia-caps/nvidia-cap1", "/dev/nvme0n1",
               "/dev/null", "/dev/nvidiafoo", "/dev/sda"]
    files = device.gpu_device_files(listing)
    assert files == ["/dev/nvidia-caps/nvidia-cap1", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
                     "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl"]
    present = {"/usr/local/nvidia"}
    argv = device.gpu_binds(files, exists=present.__contains__)
    assert argv[:3] == ["--dev-bind", "/dev/nvidia-caps/nvidia-cap1",
                        "/dev/nvidia-caps/nvidia-cap1"]
    assert argv.count("--dev-bind") == 6
    assert argv[-3:] == ["--ro-bind", "/usr/local/nvidia", "/usr/local/nvidia"]
    assert "/dev/nvme0n1" not in argv and "/usr/local/cuda" not in argv


def test_worker_gets_gpu_binds_and_environment_only_on_cuda(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "bubblewrap_path", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(device, "gpu_device_files", lambda listing=None: ["/dev/nvidia0"])
    (tmp_path / "coursework").mkdir()
    common = dict(hidden=(), use_bwrap=True, packages=None)
    cpu = sandbox.worker_command(sys.executable, tmp_path, tmp_path, [], 3, 4, **common)
    cuda = sandbox.worker_command(sys.executable, tmp_path, tmp_path, [], 3, 4, device="cuda",
                                  **common)
    assert "--dev-bind" not in cpu
    i = cuda.index("--dev-bind")
    assert cuda[i:i + 3] == ["--dev-bind", "/dev/nvidia0", "/dev/nvidia0"]
    env = sandbox.worker_environment(sandbox.Limits(device="cuda"))
    assert env["GRADER_DEVICE"] == "cuda" and env["GRADER_TORCH_MODULES"] == ""
    assert env["GRADER_LIMITS"].split(",")[1] == "0"  # no address-space cap under CUDA
    torch_env = sandbox.worker_environment(sandbox.Limits(
        device="cuda", packages=("numpy", "torch"), torch_modules=("architectures", "nets")))
    assert torch_env["GRADER_TORCH_MODULES"] == "architectures,nets"
    assert "GRADER_DEVICE" not in sandbox.worker_environment(sandbox.Limits())


def test_worker_device_layer_converts_on_arrival_and_return(monkeypatch):
    from autograder import worker

    monkeypatch.setattr(worker, "np", np, raising=False)  # main() imports it inside the sandbox

    class FakeCupy:  # stands in for CuPy: arrays wrapped on arrival, unwrapped on return
        class ndarray:
            __module__ = "cupy"

            def __init__(self, a):
                self.a = a
                self.ndim = a.ndim

            def get(self):
                return self.a

        @classmethod
        def asarray(cls, a):
            return cls.ndarray(a)

    d = worker._Device({"GRADER_DEVICE": "cuda", "GRADER_TORCH_MODULES": "architectures"})
    d._libs["cupy"] = FakeCupy
    assert d.on
    assert d.kind_for("architectures.ResNet") == "torch"
    assert d.kind_for("coursework.architectures") == "torch"
    assert d.kind_for("layers.relu_forward") == "cupy"
    assert d.kind_for("coursework.rnn") == "cupy"
    args = d.to_device([np.ones(2), {"w": np.zeros(3)}, 3, "s"])
    assert type(args[0]).__module__ == "cupy" and type(args[1]["w"]).__module__ == "cupy"
    assert args[2:] == [3, "s"]
    back = d.to_host((args[0], args[1]), opaque=[1])
    assert isinstance(back[0], np.ndarray) and back[1] is args[1]
    assert d.to_host(FakeCupy.ndarray(np.array(2.5))) == 2.5  # 0-d: a NumPy scalar
    assert not worker._Device({}).on
    # a trusted NumPy function gets host arrays and hands an array result back to the device
    doubled = d.trusted(lambda x: x * 2)(FakeCupy.ndarray(np.ones(2)))
    assert type(doubled).__module__ == "cupy" and np.array_equal(doubled.a, [2.0, 2.0])
    assert d.trusted(lambda x: float(x.sum()))(FakeCupy.ndarray(np.ones(3))) == 3.0
    # ... and the arrays inside a tuple too: a stand-in loss's (loss, dW), whose dW stayed on
    # the host and broke W - learning_rate * dW on a GPU (seen on an H200)
    loss, dW = d.trusted(lambda x: (float(x.sum()), x * 3))(FakeCupy.ndarray(np.ones(2)))
    assert loss == 2.0 and type(dW).__module__ == "cupy" and np.array_equal(dW.a, [3.0, 3.0])
    assert d.trusted(lambda x: (1.0, x))(np.ones(2))[1].__class__ is np.ndarray  # host stays


def test_report_records_the_device():
    from autograder import engine
    from autograder.paths import REFERENCE_PACKAGE

    result = engine.grade(REFERENCE_PACKAGE.parent, ["01"],
                          keys={"linear.svm_loss_naive"}, public_only=True)
    assert result["device"] == "cpu"
    assert result["units"]["01_linear"]["functions"]["linear.svm_loss_naive"]["status"] == "passed"


@pytest.mark.skipif(NO_GPU is None, reason="this machine has a usable GPU")
def test_check_on_cuda_fails_in_one_line_and_honours_course_device(monkeypatch):
    from autograder.notebook_check import check

    with pytest.raises(ValueError, match=r"^no CUDA device: [^\n]*$"):
        check("linear.svm_loss_vectorized", device="cuda")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        check("linear.svm_loss_vectorized")


def test_gpu_setup_picks_the_cupy_wheel_from_the_driver():
    from autograder import gpu_setup

    header = ("| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4     |")
    assert gpu_setup.driver_cuda_version(header) == (12, 4)
    assert gpu_setup.cupy_wheel((12, 4)) == "cupy-cuda12x"
    assert gpu_setup.cupy_wheel((13, 0)) == "cupy-cuda13x"
    assert gpu_setup.cupy_wheel((14, 1)) == "cupy-cuda13x"
    assert gpu_setup.driver_cuda_version("NVIDIA-SMI has failed") is None
    with pytest.raises(ValueError, match="CUDA 11.8"):
        gpu_setup.cupy_wheel((11, 8))
    with pytest.raises(ValueError, match="did not report"):
        gpu_setup.cupy_wheel(None)


@pytest.mark.skipif(NO_GPU is None, reason="this machine has a usable GPU")
def test_cli_device_auto_grades_on_the_cpu_here(tmp_path):
    from autograder.paths import REFERENCE_PACKAGE

    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--device", "auto",
                           "--unit", "01", "--submission", str(REFERENCE_PACKAGE.parent),
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    import json

    report = json.loads(out.read_text())
    assert report["device"] == "cpu" and report["total"] == report["max"] > 0


@pytest.mark.skipif(not sandbox.bubblewrap_features(), reason="bubblewrap is not usable here")
def test_gpu_binds_work_in_the_real_sandbox():
    """Character devices standing in for the GPU's (one in a subfolder, as /dev/nvidia-caps/*)
    are reachable inside bubblewrap with the binds, and absent without them."""
    stand_ins = [p for p in ("/dev/net/tun", "/dev/fuse") if os.path.exists(p)]
    if not stand_ins:
        pytest.skip("no /dev/net/tun or /dev/fuse to stand in for a GPU device file")
    probe = " && ".join(f"test -c {p}" for p in stand_ins)
    base = sandbox.filesystem_argv(sys.executable, [])
    cmd = ["/bin/sh", "-c", probe]
    with_binds = subprocess.run(base + device.gpu_binds(stand_ins, library_dirs=[]) + cmd,
                                capture_output=True, text=True, timeout=60)
    assert with_binds.returncode == 0, with_binds.stderr
    without = subprocess.run(base + cmd, capture_output=True, text=True, timeout=60)
    assert without.returncode != 0


def test_gpu_benchmark_skips_without_a_gpu_and_its_dry_run_reaches_every_case():
    from autograder.paths import REFERENCE_PACKAGE

    script = REFERENCE_PACKAGE.parents[1] / "benchmarks" / "gpu_benchmark.py"
    if device.cuda_problem(cupy=True, torch=True) is not None:
        plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               timeout=120)
        assert plain.returncode == 0 and plain.stdout.startswith("GPU benchmark skipped: no CUDA")
    dry = subprocess.run([sys.executable, str(script), "--dry-run"], capture_output=True,
                         text=True, timeout=600)
    assert dry.returncode == 0, dry.stderr[-2000:]
    for case in ("conv fwd+bwd N=2 ", "conv fwd+bwd N=3 ", "max pool", "batch norm", "LSTM",
                 "one epoch of ThreeLayerConvNet"):
        assert case in dry.stdout, (case, dry.stdout)


def test_cupys_kernel_cache_is_the_workers_own():
    """On the GPU, CuPy writes compiled kernels to CUPY_CACHE_DIR. With bubblewrap /tmp is the
    worker's own; without it /tmp is shared by workers of other user ids, and a /tmp/cupy made
    by one refused the next one's writes (seen on a GPU: PermissionError on a .cubin)."""
    from autograder.sandbox import Limits, worker_environment

    cuda = Limits(device="cuda")
    assert worker_environment(cuda, uid=12345, use_bwrap=True)["CUPY_CACHE_DIR"] == "/tmp/cupy"
    assert worker_environment(cuda, uid=12345)["CUPY_CACHE_DIR"] == "/tmp/cupy-12345"
    assert worker_environment(cuda, uid=23456)["CUPY_CACHE_DIR"] == "/tmp/cupy-23456"
    assert worker_environment(cuda)["CUPY_CACHE_DIR"] == f"/tmp/cupy-{os.getuid()}"
    assert "CUPY_CACHE_DIR" not in worker_environment(Limits())
