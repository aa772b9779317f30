"""PyTorch's side of bench_resnet: forward+backward images/s of the same ResNet on the same device.

    python3 bench/resnet_torch.py --arch resnet-18 --batch 32 --image 32 --device cpu --dtype f32
Prints one line "torch_img_per_s <value>" (plus a description line) for bench_resnet to parse.
CPU: fp32, channels_last, as many threads as OMP_NUM_THREADS (default: torch's). GPU: bf16
autocast and channels_last (PyTorch eager), timed with CUDA events.
"""
import argparse
import contextlib
import os
import statistics
import time

import torch
import torch.nn as nn
import torchvision


def build(arch, width):
    if arch.startswith("torchvision/"):
        assert width == 1, "torchvision networks have no width multiplier"
        return getattr(torchvision.models, arch.split("/")[1])()
    block, layers = {"resnet-9": (torchvision.models.resnet.BasicBlock, [1, 1, 1, 1]),
                     "resnet-18": (torchvision.models.resnet.BasicBlock, [2, 2, 2, 2]),
                     "resnet-34": (torchvision.models.resnet.BasicBlock, [3, 4, 6, 3]),
                     "resnet-50": (torchvision.models.resnet.Bottleneck, [3, 4, 6, 3])}[arch]
    m = torchvision.models.resnet.ResNet(block, layers)
    base = int(64 * width)  # stages of base, 2 base, 4 base, 8 base channels (as Lumen's width)
    m.inplanes = base
    m.conv1 = nn.Conv2d(3, base, 3, 1, 1, bias=False)  # small-image stem, no max-pool
    m.bn1 = nn.BatchNorm2d(base)
    m.maxpool = nn.Identity()
    for i in range(4):
        stage = m._make_layer(block, base * 2 ** i, layers[i], stride=1 if i == 0 else 2)
        setattr(m, f"layer{i + 1}", stage)
    return m


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet-18")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--image", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="f32")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--profile", action="store_true", help="print one step's kernel-time table")
    a = p.parse_args()
    if "OMP_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    dev = torch.device("cuda" if a.device.startswith("cuda") else "cpu")
    model = build(a.arch, a.width)
    model.fc = nn.Identity()
    model = model.to(dev).to(memory_format=torch.channels_last).train()
    x = torch.randn(a.batch, 3, a.image, a.image, device=dev).to(memory_format=torch.channels_last)
    autocast = dev.type == "cuda" and a.dtype == "bf16"

    def step():  # one training step's work, as Lumen's: gradients start from nothing each step
        model.zero_grad(set_to_none=True)
        context = (torch.autocast("cuda", dtype=torch.bfloat16) if autocast
                   else contextlib.nullcontext())
        with context:
            loss = model(x).float().sum()
        loss.backward()

    times = []
    for i in range(a.warmup + a.iters):
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            torch.cuda.synchronize()
            elapsed = start.elapsed_time(end) / 1000
        else:
            t0 = time.perf_counter()
            step()
            elapsed = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(elapsed)
    median = statistics.median(times)
    print(f"torch {torch.__version__} {a.arch} width {a.width:g} batch {a.batch} {a.image}x{a.image} {dev.type} "
          f"{a.dtype} threads {torch.get_num_threads()}: median {median * 1000:.1f} ms")
    print(f"torch_img_per_s {a.batch / median:.2f}")
    if a.profile:
        activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
        with torch.profiler.profile(activities=activities) as prof:
            step()
            if dev.type == "cuda":
                torch.cuda.synchronize()
        print(prof.key_averages().table(sort_by="self_device_time_total", row_limit=40,
                                        max_name_column_width=90))


if __name__ == "__main__":
    main()
