"""PyTorch reference timing for bench_search: exact cosine k-NN as matmul + topk, the bank
normalised once, the queries in blocks of the size Lumen uses. Prints the median seconds of the
search, then for each query its k neighbours (one line, space separated).

usage: python3 bench/search_torch.py BANK.f32 N QUERIES.f32 Q DIM K BLOCK DEVICE RUNS
"""

import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def search(bank, queries, k, block):
    out = []
    for start in range(0, queries.shape[0], block):
        q = F.normalize(queries[start:start + block], dim=1)
        out.append(torch.topk(q @ bank.T, k, dim=1).indices)
    return torch.cat(out)


def main():
    bank_path, n, query_path, nq, dim, k, block, device, runs = sys.argv[1:10]
    n, nq, dim, k, block, runs = int(n), int(nq), int(dim), int(k), int(block), int(runs)
    bank = torch.from_numpy(np.fromfile(bank_path, dtype=np.float32).reshape(n, dim)).to(device)
    queries = torch.from_numpy(np.fromfile(query_path, dtype=np.float32).reshape(nq, dim)).to(device)
    bank = F.normalize(bank, dim=1)
    times = []
    for _ in range(runs + 1):  # the first run warms up
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        found = search(bank, queries, k, block)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times[1:]):.5f}")
    for row in found.cpu().tolist():
        print(" ".join(str(i) for i in row))


if __name__ == "__main__":
    main()
