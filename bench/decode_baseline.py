#!/usr/bin/env python3
"""PyTorch-side baseline for bench_decode: decodes every image of a folder the way lightly's
datasets do (PIL open + convert("RGB")), then torchvision's Resize(S) + CenterCrop(S), in one
process and in a pool of worker processes (as a DataLoader with num_workers would). Also times
torchvision.io.decode_jpeg where available. Prints one line per measurement:
    <name> <images> <seconds>
Usage: decode_baseline.py FOLDER SIZE WORKERS"""
import multiprocessing as mp
import os
import sys
import time

from PIL import Image
import torch
import torchvision.transforms as T


def list_files(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def load(path, transform):
    with open(path, "rb") as f:
        image = Image.open(f).convert("RGB")
    return transform(image)


def run_chunk(args):
    paths, size = args
    torch.set_num_threads(1)
    transform = T.Compose([T.Resize(size), T.CenterCrop(size)])
    for p in paths:
        load(p, transform)
    return len(paths)


def main():
    folder, size, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    paths = list_files(folder)
    run_chunk((paths[:8], size))  # warm up
    start = time.perf_counter()
    run_chunk((paths, size))
    print(f"pil_resize_1proc {len(paths)} {time.perf_counter() - start:.6f}", flush=True)

    chunks = [(paths[i::workers], size) for i in range(workers)]
    with mp.Pool(workers) as pool:
        pool.map(run_chunk, [(paths[:workers], size)] * workers)  # start and warm the workers
        start = time.perf_counter()
        pool.map(run_chunk, chunks)
        print(f"pil_resize_{workers}proc {len(paths)} {time.perf_counter() - start:.6f}",
              flush=True)

    try:
        from torchvision.io import decode_jpeg, read_file
        torch.set_num_threads(1)
        start = time.perf_counter()
        for p in paths:
            decode_jpeg(read_file(p))
        print(f"torchvision_decode_jpeg_1proc {len(paths)} {time.perf_counter() - start:.6f}",
              flush=True)
    except Exception as e:  # decode_jpeg missing from this build of torchvision
        print(f"# torchvision.io.decode_jpeg unavailable: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
