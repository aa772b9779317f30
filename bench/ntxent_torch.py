"""PyTorch reference timing for bench_ntxent: lightly's NT-Xent formula (plain mode), forward and
backward, on the CPU or the GPU. Prints one line: the median milliseconds per iteration.

usage: python3 bench/ntxent_torch.py BATCH DIM DEVICE ITERATIONS
"""

import statistics
import sys
import time

import torch
import torch.nn.functional as F


def ntxent(out0, out1, temperature=0.5):
    n = out0.shape[0]
    z0, z1 = F.normalize(out0, dim=1), F.normalize(out1, dim=1)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=out0.device)
    l00 = (z0 @ z0.T / temperature)[off_diagonal].view(n, n - 1)
    l11 = (z1 @ z1.T / temperature)[off_diagonal].view(n, n - 1)
    logits = torch.cat([torch.cat([z0 @ z1.T / temperature, l00], 1),
                        torch.cat([z1 @ z0.T / temperature, l11], 1)], 0)
    labels = torch.arange(n, device=out0.device).repeat(2)
    return F.cross_entropy(logits, labels)


def main():
    batch, dim, device, iterations = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    out0 = torch.randn(batch, dim, device=device, requires_grad=True)
    out1 = torch.randn(batch, dim, device=device, requires_grad=True)
    times = []
    for i in range(iterations + 3):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        ntxent(out0, out1).backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3)
    print(f"{statistics.median(times):.4f}")


if __name__ == "__main__":
    main()
