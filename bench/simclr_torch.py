"""PyTorch's SimCLR training step on the GPU, the peer of `lumen train`'s img/s.

    python3 bench/simclr_torch.py --batch 512 --image 32 --steps 30 --warmup 5
Same model as Lumen's SimCLR (small-image ResNet-18, lightly's SimCLRProjectionHead 512-512-128
with BN, NT-Xent at temperature 0.5 written as lightly computes it, SGD momentum 0.9 with weight
decay), bf16 autocast and channels_last (PyTorch eager). The two views are ready-made random
tensors on the GPU: augmentation and data loading cost PyTorch nothing here, so the figure is an
upper bound for a PyTorch pipeline. Prints "torch_simclr_img_per_s <value>".
"""
import argparse
import statistics

import torch
import torch.nn as nn
import torch.nn.functional as F

from resnet_torch import build


def ntxent(z0, z1, t=0.5):
    """lightly's NTXentLoss without memory bank, single process."""
    n = z0.shape[0]
    z0, z1 = F.normalize(z0, dim=1), F.normalize(z1, dim=1)
    out = torch.cat([z0, z1])
    logits = out @ out.T / t
    logits.fill_diagonal_(float("-inf"))
    labels = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z0.device)
    return F.cross_entropy(logits.float(), labels)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--image", type=int, default=32)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    dev = torch.device("cuda")
    backbone = build("resnet-18", 1.0)
    backbone.fc = nn.Identity()
    head = nn.Sequential(nn.Linear(512, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(),
                         nn.Linear(512, 128, bias=False), nn.BatchNorm1d(128))
    model = nn.Sequential(backbone, head).to(dev).to(memory_format=torch.channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.06 * a.batch / 128, momentum=0.9,
                          weight_decay=5e-4)
    views = [torch.randn(a.batch, 3, a.image, a.image, device=dev)
             .to(memory_format=torch.channels_last) for _ in range(2)]

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = ntxent(model(views[0]), model(views[1]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    times = []
    for i in range(a.warmup + a.steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        if i >= a.warmup:
            times.append(start.elapsed_time(end) / 1000)
    median = statistics.median(times)
    print(f"torch {torch.__version__} simclr resnet-18 batch {a.batch} {a.image}x{a.image} bf16: "
          f"median step {median * 1000:.1f} ms")
    print(f"torch_simclr_img_per_s {a.batch / median:.0f}")


if __name__ == "__main__":
    main()
