"""Data-parallel scaling model of Lumen's training step (bench/results/data_parallel_scaling_*.md).

From a measured one-GPU step, the gradient buffer of each network (parameters in the order of
Lumen's flat buffer, 64-element aligned), the buckets GradientReducer cuts (from the end, the first
at most 1 MB, then 25 MB), the time backward reaches each bucket's earliest layer (backward time
shared among the convolutions by their FLOPs) and an alpha-beta model of NCCL's all-reduce
(t = alpha + bytes * 2 (n - 1) / n / (busbw * bytes / (bytes + half)): the published busbw is
reached only by large messages, half of it at `half` bytes), it simulates one step: forward, backward with the
bucket all-reduces queued on NCCL's stream as they become ready, the optimizer, and the per-step
agreement of the ranks on the CPU. Standard library only:  python3 bench/scaling_model.py
"""

KB, MB = 1024.0, 1024.0 * 1024.0


def conv(name, cin, cout, k, hw_out):
    """A convolution and the batch norm after it: (name, parameters, forward FLOPs per image)."""
    return [(name + ".conv", cin * cout * k * k, 2.0 * cin * cout * k * k * hw_out * hw_out),
            (name + ".bn", 2 * cout, 0.0)]


def resnet18_small(image=32):
    """Lumen's resnet-18 for small images: 3x3 stem, no max pool, basic blocks."""
    layers = conv("stem", 3, 64, 3, image)
    cin, hw = 64, image
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            hw_out = hw // stride
            name = "layer%d.%d" % (stage + 1, block)
            layers += conv(name + ".1", cin, cout, 3, hw_out)
            layers += conv(name + ".2", cout, cout, 3, hw_out)
            if stride != 1 or cin != cout:
                layers += conv(name + ".down", cin, cout, 1, hw_out)
            cin, hw = cout, hw_out
    return layers, 512


def resnet50(image=224):
    """torchvision's ResNet-50: 7x7 stem, max pool, bottlenecks (stride on the 3x3)."""
    layers = conv("stem", 3, 64, 7, image // 2)
    cin, hw = 64, image // 4
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        cout = 4 * width
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            hw_out = hw // stride
            name = "layer%d.%d" % (stage + 1, block)
            layers += conv(name + ".1", cin, width, 1, hw)
            layers += conv(name + ".2", width, width, 3, hw_out)
            layers += conv(name + ".3", width, cout, 1, hw_out)
            if stride != 1 or cin != cout:
                layers += conv(name + ".down", cin, cout, 1, hw_out)
            cin, hw = cout, hw_out
    return layers, 2048


def simclr_head(d, out=128):
    """lightly's SimCLRProjectionHead(d, d, out): Linear (no bias) + BN + ReLU + Linear."""
    return [("head.0", d * d, 2.0 * d * d), ("head.1", 2 * d, 0.0),
            ("head.3", d * out + out, 2.0 * d * out)]


def padded(count):
    return (count + 63) // 64 * 64


def buckets(layers, bucket_bytes=25 * MB, first_bytes=1 * MB):
    """GradientReducer's buckets: [(bytes, index of the earliest layer in it)], in start order."""
    out, size = [], 0
    for i in range(len(layers) - 1, -1, -1):
        size += padded(layers[i][1]) * 4
        cap = min(bucket_bytes, first_bytes) if not out else bucket_bytes
        if size >= cap or i == 0:
            out.append((size, i))
            size = 0
    return out


HALF = 8 * MB  # message size at which NCCL reaches half its large-message bus bandwidth
CONTENTION = 0.05  # backward slows by this share of the communication it overlaps (NCCL's SMs)


def step(layers, t1, n, alpha, busbw, agree, contention=CONTENTION, overlap=True, sync_bn=0.0):
    """One step's time (s) on n GPUs. t1: the measured forward + backward on one GPU (s);
    busbw in bytes/s; sync_bn: the time of the synchronised batch norms' collectives (exposed).
    Returns (step time, communication time, communication left after backward)."""
    params = sum(p for _, p, _ in layers)
    optimizer = padded(params) * 4 * 5 / 3.0e12  # SGD: read value, grad, momentum; write two
    forward, backward = t1 / 3.0, 2.0 * t1 / 3.0
    if n == 1:
        return forward + backward + optimizer, 0.0, 0.0
    # backward FLOPs: twice the forward (data and weight gradients), the stem's input needs none
    flops = [2.0 * f for _, _, f in layers]
    flops[0] /= 2.0
    total = sum(flops)
    done_at, t = [0.0] * len(layers), 0.0  # when backward has finished layer i
    for i in range(len(layers) - 1, -1, -1):
        t += backward * flops[i] / total
        done_at[i] = t
    comm_end, comm_total = 0.0, 0.0
    for size, earliest in buckets(layers):
        duration = alpha + size * 2.0 * (n - 1) / n / (busbw * size / (size + HALF))
        ready = done_at[earliest] if overlap else backward
        comm_end = max(comm_end, ready) + duration
        comm_total += duration
    exposed = max(0.0, comm_end - backward)
    overlapped = comm_total - exposed
    time = forward + backward + contention * overlapped + exposed + optimizer + agree + sync_bn
    return time, comm_total, exposed


def row(label, layers, t1, n, alpha, busbw, agree, sync_bn=0.0):
    t, comm, exposed = step(layers, t1, n, alpha, busbw, agree, sync_bn=sync_bn)
    t_serial, _, _ = step(layers, t1, n, alpha, busbw, agree, overlap=False, sync_bn=sync_bn)
    t_one, _, _ = step(layers, t1, 1, alpha, busbw, agree)
    return "| %s | %.1f | %.2f | %.2f | %.1f | %.0f%% | %.0f%% |" % (
        label, t * 1e3, comm * 1e3, exposed * 1e3, t_serial * 1e3, 100 * t_one / t,
        100 * t_one / t_serial)


def main():
    nets = [
        # name, layers, measured one-GPU forward+backward (s) at the per-GPU batch
        ("ResNet-18, 32 px, batch 512 per GPU (bf16; measured 9.9 ms)",
         resnet18_small(32), 9.9e-3),
        ("ResNet-50, 224 px, batch 256 per GPU (bf16; measured 38.3 ms at batch 128, x2)",
         resnet50(224), 2 * 38.3e-3),
    ]
    # (label, GPUs, alpha, busbw, per-step agreement on the CPU)
    setups = [
        ("1 GPU", 1, 0.0, 1.0, 0.0),
        ("2 GPUs, NVLink, busbw 370 GB/s", 2, 15e-6, 370e9, 10e-6),
        ("4 GPUs, NVLink, busbw 370 GB/s", 4, 20e-6, 370e9, 10e-6),
        ("8 GPUs, NVLink, busbw 370 GB/s", 8, 25e-6, 370e9, 10e-6),
        ("8 GPUs, NVLink, busbw 480 GB/s", 8, 25e-6, 480e9, 10e-6),
        ("2 nodes x 8, 8 x 400 Gb/s IB per node, busbw 360 GB/s", 16, 50e-6, 360e9, 20e-6),
        ("2 nodes x 8, 1 x 400 Gb/s IB per node, busbw 84 GB/s", 16, 50e-6, 84e9, 20e-6),
    ]
    header = ("| setup | step (ms) | all-reduce (ms) | exposed (ms) | step without overlap (ms) "
              "| efficiency | without overlap |\n| --- | --- | --- | --- | --- | --- | --- |")
    for name, (backbone, dim), t1 in nets:
        layers = backbone + simclr_head(dim)
        params = sum(p for _, p, _ in layers)
        plan = buckets(layers)
        print("### %s\n" % name)
        print("gradients: %.2f M parameters, %.1f MB f32; buckets (start order): %s\n" % (
            params / 1e6, sum(padded(p) for _, p, _ in layers) * 4 / MB,
            ", ".join("%.1f MB" % (s / MB) for s, _ in plan)))
        print(header)
        for label, n, alpha, busbw, agree in setups:
            print(row(label, layers, t1, n, alpha, busbw, agree))
        bn_layers = sum(1 for lname, _, _ in layers if lname.endswith(".bn") or lname == "head.1")
        for label, n, alpha, busbw, agree in [setups[3], setups[5]]:
            # two latency-bound collectives per batch norm (forward all_gather, backward
            # all_reduce), in the compute stream's order: exposed
            print(row(label + ", sync batch norm", layers, t1, n, alpha, busbw, agree,
                      sync_bn=2 * bn_layers * alpha))
        print()


if __name__ == "__main__":
    main()
