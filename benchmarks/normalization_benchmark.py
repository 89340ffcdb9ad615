"""Unit 04 benchmark: batch norm's backward pass, step by step through the graph
(``batchnorm_backward``) against the simplified closed form (``batchnorm_backward_alt``), and
both against PyTorch's autograd of ``batch_norm`` (CPU).

    .venv/bin/python benchmarks/normalization_benchmark.py [--repeats 15]

Prints the times and ratios measured in this one run (best of ``--repeats`` each); asserts
nothing. The closed form makes fewer passes over the (N, D) arrays, so it is expected to be
faster; by how much depends on the memory bandwidth. NumPy's elementwise operations use one
thread, so torch is limited to one thread too.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "solutions"))
from coursework import normalization  # noqa: E402  (the reference package)


def best_time(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def case(N, D, dtype, repeats):
    rng = np.random.default_rng(0)
    x = (3 + 2 * rng.standard_normal((N, D))).astype(dtype)
    gamma, beta = rng.standard_normal(D).astype(dtype), rng.standard_normal(D).astype(dtype)
    dout = rng.standard_normal((N, D)).astype(dtype)
    _, cache, _ = normalization.batchnorm_forward(x, gamma, beta,
                                                  normalization.initial_state(D, dtype))
    graph = best_time(lambda: normalization.batchnorm_backward(dout, cache), repeats)
    closed = best_time(lambda: normalization.batchnorm_backward_alt(dout, cache), repeats)
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = F.batch_norm(xt, None, None, gt, bt, training=True)
    grad = torch.tensor(dout)
    torch_time = best_time(lambda: torch.autograd.grad(out, (xt, gt, bt), grad,
                                                       retain_graph=True), repeats)
    print(f"  N={N:<5d} D={D:<5d} {np.dtype(dtype).name:8s} graph {graph * 1e3:7.2f} ms   "
          f"closed form {closed * 1e3:7.2f} ms   ratio {graph / closed:5.2f}x   "
          f"torch autograd {torch_time * 1e3:7.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"batchnorm backward (numpy {np.__version__}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch thread):")
    for N, D in ((64, 256), (256, 1024), (1024, 1024)):
        for dtype in (np.float64, np.float32):
            case(N, D, dtype, args.repeats)


if __name__ == "__main__":
    main()
