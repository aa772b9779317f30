"""The peers of bench_embed: batch-1 latency and batch-N throughput of a torchvision ResNet's
forward pass (fc removed: the pooled features, as Lumen's embeddings), through
  CPU:  eager        PyTorch eager, channels_last, no_grad
        torchscript  torch.jit.trace -> torch.jit.freeze -> torch.jit.optimize_for_inference
        onnxruntime  the model exported with torch.onnx, an InferenceSession on the CPU provider
  GPU:  eager        bf16 autocast, channels_last, no_grad (synchronised after every call)
        compile      the same through torch.compile (PyTorch 2), skipped where it is absent
with as many threads as OMP_NUM_THREADS (intra-op; inter-op 1), timed like bench_embed times
Lumen: warm-up calls, then every call timed with a steady clock.

    python3 bench/embed_baseline.py --arch resnet18 --size 224 --calls 1000 --batch 32 --batches 10
                                    [--device cpu|cuda]
Prints one line per peer for bench_embed to parse:
    peer <name> p50_ms <v> p99_ms <v> batch_img_per_s <v>
or  peer <name> skipped <reason>   (onnxruntime not installed, say)
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import torch
import torchvision


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def time_calls(fn, calls, warmup):
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def report(name, one, batch_fn, batch, batches, warmup):
    single = time_calls(one, args.calls, warmup)
    many = time_calls(batch_fn, batches, 2)
    print(f"peer {name} p50_ms {statistics.median(single) * 1e3:.3f} "
          f"p99_ms {percentile(single, 0.99) * 1e3:.3f} "
          f"batch_img_per_s {batch / statistics.median(many):.2f}", flush=True)


p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet18")
p.add_argument("--size", type=int, default=224)
p.add_argument("--calls", type=int, default=1000)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--batches", type=int, default=10)
p.add_argument("--warmup", type=int, default=20)
p.add_argument("--device", default="cpu")
args = p.parse_args()
threads = int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads()))
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, args.arch)()
model.fc = torch.nn.Identity()
model.eval()
x1 = torch.randn(1, 3, args.size, args.size)
xb = torch.randn(args.batch, 3, args.size, args.size)
print(f"torch {torch.__version__} {args.arch} {args.size}x{args.size} {args.device} "
      f"threads {threads}", flush=True)

if args.device == "cuda":
    model = model.cuda().to(memory_format=torch.channels_last)
    x1c = x1.cuda().to(memory_format=torch.channels_last)
    xbc = xb.cuda().to(memory_format=torch.channels_last)

    def run(m, x):
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            return m(x)

    report("eager", lambda: run(model, x1c), lambda: run(model, xbc), args.batch, args.batches,
           args.warmup)
    if not hasattr(torch, "compile"):
        print(f"peer compile skipped: torch {torch.__version__} has no torch.compile", flush=True)
    else:
        compiled = torch.compile(model)
        report("compile", lambda: run(compiled, x1c), lambda: run(compiled, xbc), args.batch,
               args.batches, args.warmup)
    sys.exit(0)

with torch.no_grad():
    eager = model.to(memory_format=torch.channels_last)
    x1c, xbc = x1.to(memory_format=torch.channels_last), xb.to(memory_format=torch.channels_last)
    report("eager", lambda: eager(x1c), lambda: eager(xbc), args.batch, args.batches, args.warmup)
    model = model.to(memory_format=torch.contiguous_format)
    script = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x1)))
    report("torchscript", lambda: script(x1), lambda: script(xb), args.batch, args.batches,
           args.warmup)

try:
    import onnxruntime
except ImportError:
    print("peer onnxruntime skipped: the onnxruntime package is not installed for "
          f"{sys.executable} (pip install onnxruntime)", flush=True)
    sys.exit(0)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.onnx")
    torch.onnx.export(model, x1, path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    a1, ab = x1.numpy(), xb.numpy()
    report(f"onnxruntime-{onnxruntime.__version__}", lambda: session.run(None, {"x": a1}),
           lambda: session.run(None, {"x": ab}), args.batch, args.batches, args.warmup)
