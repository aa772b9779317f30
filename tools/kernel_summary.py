#!/usr/bin/env python3
"""Kernel time of one profiled step, by category and by kernel, from Nsight Compute's CSV.

    ncu --profile-from-start off --metrics gpu__time_duration.sum --print-summary per-kernel \
        --csv build/bin/bench_resnet --arch torchvision/resnet50 --batch 128 --image 224 \
        --iters 1 --warmup 2 --no-torch --no-graph > ncu.csv
    python3 tools/kernel_summary.py ncu.csv

Prints a Markdown table of total milliseconds per category (cuDNN convolutions, our batch-norm
passes, elementwise, ...) and the 15 kernels that take longest. ncu serialises kernels and fixes
clocks, so the sums exceed a step's wall time; compare them with each other.
"""
import csv
import re
import sys

UNIT_MS = {"ns": 1e-6, "nsecond": 1e-6, "us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0,
           "s": 1e3, "second": 1e3}

# First match wins; patterns are searched in the kernel's (demangled) name.
CATEGORIES = [
    ("batch norm: partial sums", r"channel_partial_sums"),
    ("batch norm: finishing sums", r"finish_stats|finish_backward_sums|running_stats_kernel"),
    ("batch norm: forward pass (+ fused tail)", r"batchnorm.*forward_kernel|forward_kernel<"),
    ("batch norm: input gradient", r"backward_input_kernel"),
    ("cuDNN / cuBLAS (convolutions, GEMMs)",
     r"xmma|cudnn|cutlass|implicit_convolve|conv|dgrad|wgrad|fprop|gemm|sm\d\d_|Kernel2"),
    ("pooling", r"pool"),
    ("casts, fills, optimizer", r"cast|convert|fill|axpby|sgd|adam|lars|update"),
    ("elementwise (binary, ReLU, scale)", r"binary|relu|scale|unary|elementwise"),
    ("reductions", r"reduce|sum"),
]


def rows(path):
    with open(path, newline="") as f:
        lines = [line for line in f if line.startswith('"')]  # ncu's own messages are not quoted
    start = next((i for i, line in enumerate(lines) if '"Metric Name"' in line), None)
    if start is None:
        sys.exit(f"{path} has no ncu CSV table (no 'Metric Name' column)")
    reader = csv.reader(lines[start:])
    header = next(reader)
    col = {name: i for i, name in enumerate(header)}
    name_col = col.get("Kernel Name", col.get("Name"))
    for r in reader:
        if len(r) != len(header) or r[col["Metric Name"]] != "gpu__time_duration.sum":
            continue
        unit = UNIT_MS.get(r[col["Metric Unit"]].strip(), None)
        if unit is None:
            sys.exit(f"unknown time unit {r[col['Metric Unit']]!r} in {path}")
        average = float(r[col["Average"]].replace(",", "")) * unit
        calls = int(r[col["Invocations"]].replace(",", ""))
        yield r[name_col], calls, average * calls


def category(name):
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "other"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    kernels = list(rows(sys.argv[1]))
    if not kernels:
        sys.exit(f"no gpu__time_duration.sum rows in {sys.argv[1]}: was the step profiled?")
    totals = {}
    for name, calls, ms in kernels:
        label = category(name)
        n, t = totals.get(label, (0, 0.0))
        totals[label] = (n + calls, t + ms)
    all_ms = sum(ms for _, _, ms in kernels)
    print("| kernels | launches | ms | share |\n| --- | --- | --- | --- |")
    for label, (n, t) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        print(f"| {label} | {n} | {t:.2f} | {100 * t / all_ms:.1f}% |")
    print(f"| all | {sum(c for _, c, _ in kernels)} | {all_ms:.2f} | 100% |\n")
    print("| slowest kernels | launches | ms |\n| --- | --- | --- |")
    for name, calls, ms in sorted(kernels, key=lambda k: -k[2])[:15]:
        short = re.sub(r"\([^()]*\)$", "", name.replace("(anonymous namespace)::", ""))[:110]
        print(f"| `{short}` | {calls} | {ms:.3f} |")


if __name__ == "__main__":
    main()
