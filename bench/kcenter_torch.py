"""PyTorch reference timing for bench_kcenter: the same k-center greedy (furthest point first) as
Lumen's, on L2-normalised rows, from the same first point: per step one matrix-vector product
for the distances to the newest centre, a running minimum and an argmax. Prints the seconds of
the selection, then the selected rows, one per line.

usage: python3 bench/kcenter_torch.py EMBEDDINGS.f32 N DIM SAMPLES FIRST DEVICE
"""

import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def kcenter_greedy(x, samples, first):
    norms = (x * x).sum(1)
    distance = torch.full((x.shape[0],), float("inf"), device=x.device)
    candidate = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    selected = [first]
    candidate[first] = False
    for _ in range(samples - 1):
        c = selected[-1]
        d2 = norms + norms[c] - 2.0 * (x @ x[c])
        distance = torch.minimum(distance, d2.clamp_min(0).sqrt())
        score = torch.where(candidate, distance, torch.tensor(-1.0, device=x.device))
        nxt = int(score.argmax())
        selected.append(nxt)
        candidate[nxt] = False
    return selected


def main():
    path, n, dim, samples, first, device = sys.argv[1:7]
    n, dim, samples, first = int(n), int(dim), int(samples), int(first)
    x = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, dim)).to(device)
    x = F.normalize(x, dim=1)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    selected = kcenter_greedy(x, samples, first)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    print(f"{time.perf_counter() - start:.4f}")
    print("\n".join(str(i) for i in selected))


if __name__ == "__main__":
    main()
