"""The GPU side of the benchmarks: the references on CuPy against PyTorch CUDA and the CPU.

    .venv/bin/python benchmarks/gpu_benchmark.py [--repeats 5]

Prints ratios measured in this one run (best of ``--repeats`` timings each, the GPU synchronized
around each timing); asserts nothing. Without CuPy or a usable CUDA GPU it prints why it skips
and exits 0. Targets: the CuPy convolution (forward+backward) within 2x of PyTorch CUDA's
conv2d; the GPU at least 20x faster than this machine's CPU on the CIFAR-size batch (N=256).

Cases: fast convolution forward+backward at N=64 C=16 32x32 F=32 3x3 and at N=256 (CIFAR-size);
max pooling 2x2; batch norm (when unit 04's module is present); the LSTM forward+backward over
T=100; one training epoch of unit 03's ThreeLayerConvNet. All float32.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "solutions"))
sys.path.insert(1, str(ROOT))
from autograder.device import cuda_problem  # noqa: E402
from coursework import cnn, conv, rnn  # noqa: E402  (the reference package)


def timed(fn, repeats, sync=lambda: None):
    fn()  # warm up: kernel compilation, allocations
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


class _NumpyAsCupy:
    """NumPy in CuPy's place for ``--dry-run``."""

    asarray = staticmethod(np.asarray)
    asnumpy = staticmethod(np.asarray)
    ones = staticmethod(np.ones)
    zeros = staticmethod(np.zeros)


def conv_inputs(xp, N, C=16, H=32, W=32, Fn=32, k=3):
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((N, C, H, W)), 0.1 * rng.standard_normal((Fn, C, k, k)),
              rng.standard_normal(Fn), rng.standard_normal((N, Fn, H, W)))
    return [xp.asarray(a.astype(np.float32)) for a in arrays]


def conv_fb(x, w, b, dout):
    _, cache = conv.conv_forward(x, w, b, stride=1, pad=1)
    conv.conv_backward(dout, cache)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dry-run", action="store_true", help="every case at tiny sizes with "
                        "NumPy and CPU torch standing in for the GPU (checks the script, "
                        "measures nothing)")
    args = parser.parse_args(argv)
    import torch
    import torch.nn.functional as F

    if args.dry_run:
        cp, sync, tsync, dev, small = _NumpyAsCupy, (lambda: None), (lambda: None), "cpu", True
        print("dry run: NumPy and CPU torch stand in for the GPU; the figures mean nothing")
    else:
        problem = cuda_problem(cupy=True, torch=True)
        if problem:
            print(f"GPU benchmark skipped: {problem}")
            return 0
        import cupy as cp

        sync, tsync, dev, small = cp.cuda.Stream.null.synchronize, torch.cuda.synchronize, \
            "cuda", False
        print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}; cupy "
              f"{cp.__version__}; torch {torch.__version__} (CUDA {torch.version.cuda}); "
              f"CPU threads for torch: {torch.get_num_threads()}; best of {args.repeats}")
    r = 1 if small else args.repeats
    for N in ((2, 3) if small else (64, 256)):
        gpu_in = conv_inputs(cp, N)
        cpu_in = conv_inputs(np, N)
        t_cupy = timed(lambda: conv_fb(*gpu_in), r, sync)
        t_cpu = timed(lambda: conv_fb(*cpu_in), max(1, r // 2))
        xt, wt, bt = (torch.tensor(cp.asnumpy(a), device=dev, requires_grad=True)
                      for a in gpu_in[:3])
        dt = torch.tensor(cp.asnumpy(gpu_in[3]), device=dev)

        def torch_fb():
            out = F.conv2d(xt, wt, bt, stride=1, padding=1)
            torch.autograd.grad(out, (xt, wt, bt), dt)

        t_torch = timed(torch_fb, r, tsync)
        print(f"conv fwd+bwd N={N} C=16 32x32 F=32 3x3: CuPy reference {t_cupy * 1e3:.2f} ms, "
              f"torch CUDA {t_torch * 1e3:.2f} ms, NumPy reference (CPU) {t_cpu * 1e3:.1f} ms; "
              f"CuPy/torch CUDA = {t_cupy / t_torch:.2f}x (target <= 2), "
              f"CPU/GPU = {t_cpu / t_cupy:.1f}x (target >= 20 at N=256)")

    def pool(x, dout):
        _, cache = conv.max_pool_forward(x, pool_size=2, stride=2)
        conv.max_pool_backward(dout, cache)

    pools = {}
    for name, xp in (("GPU", cp), ("CPU", np)):
        n = 2 if small else 256
        x = xp.asarray(np.random.default_rng(1).standard_normal((n, 32, 32, 32))
                       .astype(np.float32))
        dout = xp.ones((n, 32, 16, 16), dtype=np.float32)
        pools[name] = timed(lambda: pool(x, dout), r, sync if xp is cp else (lambda: None))
    print(f"max pool 2x2 fwd+bwd N={n} C=32 32x32: GPU {pools['GPU'] * 1e3:.2f} ms, CPU "
          f"{pools['CPU'] * 1e3:.1f} ms; CPU/GPU = {pools['CPU'] / pools['GPU']:.1f}x")

    try:
        from coursework import normalization
    except ImportError:
        normalization = None
    if normalization is None or not hasattr(normalization, "batchnorm_forward"):
        print("batch norm: not benchmarked (unit 04's normalization module is not in this tree)")
    else:
        bn = {}
        for name, xp in (("GPU", cp), ("CPU", np)):
            n, d = (8, 16) if small else (4096, 1024)
            x = xp.asarray(np.random.default_rng(2).standard_normal((n, d)).astype(np.float32))
            gamma, beta = xp.ones(d, dtype=np.float32), xp.zeros(d, dtype=np.float32)
            state = normalization.initial_state(d, np.float32, xp)

            def bn_fb(x=x, gamma=gamma, beta=beta, state=state):
                out, cache, _ = normalization.batchnorm_forward(x, gamma, beta, state)
                normalization.batchnorm_backward(out, cache)

            bn[name] = timed(bn_fb, r, sync if xp is cp else (lambda: None))
        print(f"batch norm fwd+bwd {n}x{d}: GPU {bn['GPU'] * 1e3:.2f} ms, CPU "
              f"{bn['CPU'] * 1e3:.1f} ms; CPU/GPU = {bn['CPU'] / bn['GPU']:.1f}x")

    lstm = {}
    for name, xp in (("GPU", cp), ("CPU", np)):
        rng = np.random.default_rng(3)
        N, T, D, H = (2, 5, 4, 3) if small else (64, 100, 128, 256)
        arrays = [rng.standard_normal(s).astype(np.float32) * 0.1
                  for s in ((N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (N, T, H))]
        x, h0, Wx, Wh, b, dh = (xp.asarray(a) for a in arrays)

        def lstm_fb(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, dh=dh):
            _, cache, _ = rnn.lstm_forward(x, h0, Wx, Wh, b)
            rnn.lstm_backward(dh, cache)

        lstm[name] = timed(lstm_fb, max(1, r // 2), sync if xp is cp else (lambda: None))
    print(f"LSTM fwd+bwd N={N} T={T} D={D} H={H}: GPU {lstm['GPU'] * 1e3:.1f} ms, CPU "
          f"{lstm['CPU'] * 1e3:.1f} ms; CPU/GPU = {lstm['CPU'] / lstm['GPU']:.1f}x")

    epoch = {}
    for name, xp in (("GPU", cp), ("CPU", np)):
        rng = np.random.default_rng(4)
        n = 16 if small else 1024
        X = xp.asarray(rng.standard_normal((n, 3, 32, 32)).astype(np.float32))
        y = xp.asarray(rng.integers(0, 10, n))
        model = cnn.ThreeLayerConvNet((3, 32, 32), num_filters=32, filter_size=7,
                                      hidden_dim=100, num_classes=10, dtype=np.float32,
                                      rng=np.random.default_rng(0))
        model.params = {k: xp.asarray(v) for k, v in model.params.items()}

        def run_epoch(model=model, X=X, y=y):
            for i in range(0, len(y), 64):
                _, grads = model.loss(X[i:i + 64], y[i:i + 64])
                for k, g in grads.items():
                    model.params[k] -= 1e-3 * g

        epoch[name] = timed(run_epoch, 1, sync if xp is cp else (lambda: None))
    print(f"one epoch of ThreeLayerConvNet ({n} images 3x32x32, batch 64, SGD): GPU "
          f"{epoch['GPU']:.2f} s, CPU {epoch['CPU']:.2f} s; CPU/GPU = "
          f"{epoch['CPU'] / epoch['GPU']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
