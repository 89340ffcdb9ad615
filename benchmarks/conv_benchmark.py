"""Unit 03 benchmark: the reference's fast convolution and max pooling against PyTorch (CPU).

    .venv/bin/python benchmarks/conv_benchmark.py [--repeats 7]

Prints ratios measured in this one run (best of ``--repeats`` timings each); asserts nothing.
Targets on 2 CPU cores: fast conv forward+backward within 1.5x of torch's conv2d, at least 100x
faster than the naive loops; fast max pool within 2x of torch's max_pool2d. Both libraries use
their default thread counts (printed), so that each runs as a user would run it.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "solutions"))
from coursework import conv  # noqa: E402  (the reference package)


def best_time(fn, repeats):
    fn()  # warm up (allocations, BLAS threads)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def conv_case(dtype, repeats, N=64, C=16, H=32, W=32, Fn=32, k=3, pad=1):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = (0.1 * rng.standard_normal((Fn, C, k, k))).astype(dtype)
    b = rng.standard_normal(Fn).astype(dtype)
    dout = rng.standard_normal((N, Fn, H, W)).astype(dtype)

    def ours():
        _, cache = conv.conv_forward(x, w, b, stride=1, pad=pad)
        conv.conv_backward(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dt = torch.tensor(dout)

    def theirs():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, stride=1, padding=pad).backward(dt)

    return best_time(ours, repeats), best_time(theirs, repeats)


def naive_case(repeats):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 16, 16)), rng.standard_normal((8, 3, 3, 3)), np.zeros(8)
    dout = rng.standard_normal((2, 8, 16, 16))

    def run(forward, backward):
        _, cache = forward(x, w, b, stride=1, pad=1)
        backward(dout, cache)

    naive = best_time(lambda: run(conv.conv_forward_naive, conv.conv_backward_naive),
                      max(1, repeats // 3))
    fast = best_time(lambda: run(conv.conv_forward, conv.conv_backward), repeats)
    return naive, fast


def pool_case(dtype, repeats, pool_size=2, stride=2, shape=(64, 32, 32, 32)):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    out, _ = conv.max_pool_forward(x, pool_size=pool_size, stride=stride)
    dout = rng.standard_normal(out.shape).astype(dtype)

    def ours():
        _, cache = conv.max_pool_forward(x, pool_size=pool_size, stride=stride)
        conv.max_pool_backward(dout, cache)

    xt = torch.tensor(x, requires_grad=True)
    dt = torch.tensor(dout)

    def theirs():
        xt.grad = None
        F.max_pool2d(xt, pool_size, stride).backward(dt)

    return best_time(ours, repeats), best_time(theirs, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    print(f"# unit 03 benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), best of {repeats}")
    print("conv forward+backward, N=64, C=16, 32x32, F=32, 3x3, pad 1 (ours / torch conv2d):")
    for dtype in (np.float32, np.float64):
        ours, theirs = conv_case(dtype, repeats)
        print(f"  {np.dtype(dtype).name:8s} ours {ours * 1e3:7.1f} ms   "
              f"torch {theirs * 1e3:7.1f} ms   ratio {ours / theirs:5.2f}  (target <= 1.5)")
    naive, fast = naive_case(repeats)
    print("conv forward+backward, N=2, C=3, 16x16, F=8, 3x3, pad 1 (naive / fast):")
    print(f"  float64  naive {naive * 1e3:7.1f} ms   fast {fast * 1e3:7.2f} ms   speed-up "
          f"{naive / fast:6.0f}x  (target >= 100)")
    print("max pool forward+backward, N=64, C=32, 32x32 (ours / torch max_pool2d):")
    for dtype in (np.float32, np.float64):
        for size, stride, shape in ((2, 2, (64, 32, 32, 32)), (3, 2, (64, 32, 33, 33))):
            ours, theirs = pool_case(dtype, repeats, size, stride, shape)
            print(f"  {np.dtype(dtype).name:8s} {size}x{size} stride {stride}  ours "
                  f"{ours * 1e3:6.2f} ms   torch {theirs * 1e3:6.2f} ms   ratio "
                  f"{ours / theirs:5.2f}  (target <= 2)")


if __name__ == "__main__":
    main()
