"""A thread storm: asks PyTorch for 64 threads and starts busy Python threads in forward."""
import threading

import torch

try:
    torch.set_num_threads(64)
except Exception:  # noqa: BLE001
    pass


def storm(n=200):
    def spin():
        x = 0
        while True:
            x += 1

    for _ in range(n):
        try:
            threading.Thread(target=spin, daemon=True).start()
        except RuntimeError:  # can't start new thread: the process cap holds
            break
