#!/usr/bin/env python3
"""The main job's recipe in PyTorch, for comparison with Lumen on the same data and machine.

SimCLR as lightly builds it (small-image ResNet, SimCLRProjectionHead, NT-Xent with temperature
0.5, SGD with momentum 0.9 and weight decay 5e-4 except on BN and biases, lightly's cosine schedule
per step), trained on the first LIMIT Fashion-MNIST training images, then kNN (k=200, t=0.1) of
the first LIMIT test images against the training images. lightly itself is not needed: its
formulas are written out here.

usage: python3 tools/reference/simclr_fashion_mnist.py [--epochs 8] [--limit 4096] [--width 0.25]
       [--blocks 1 1 1 1] [--batch 128]
"""
import argparse
import gzip
import math
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


class SmallResNet(nn.Module):
    """Lumen's resnet-N: 3x3 stride-1 stem, no max-pool, widths 64w..512w."""

    def __init__(self, blocks, width):
        super().__init__()
        w = [int(64 * width) * m for m in (1, 2, 4, 8)]  # lightly: base = int(64 * width)
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        layers, cin = [], w[0]
        for i, (n, planes) in enumerate(zip(blocks, w)):
            stage = []
            for j in range(n):
                stage.append(BasicBlock(cin, planes, 2 if (i > 0 and j == 0) else 1))
                cin = planes
            layers.append(nn.Sequential(*stage))
        self.layers = nn.Sequential(*layers)
        self.dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return torch.flatten(F.adaptive_avg_pool2d(self.layers(x), 1), 1)


def projection_head(d, out=128):
    return nn.Sequential(nn.Linear(d, d, bias=False), nn.BatchNorm1d(d), nn.ReLU(),
                         nn.Linear(d, out, bias=False), nn.BatchNorm1d(out))


def ntxent(z0, z1, t=0.5):
    """lightly's NTXentLoss without memory bank, single process."""
    n = z0.shape[0]
    z0, z1 = F.normalize(z0, dim=1), F.normalize(z1, dim=1)
    logits_00 = z0 @ z0.T / t
    logits_01 = z0 @ z1.T / t
    logits_10 = z1 @ z0.T / t
    logits_11 = z1 @ z1.T / t
    diag = torch.eye(n, dtype=torch.bool)
    logits_00 = logits_00[~diag].view(n, -1)
    logits_11 = logits_11[~diag].view(n, -1)
    logits_0100 = torch.cat([logits_01, logits_00], dim=1)
    logits_1011 = torch.cat([logits_10, logits_11], dim=1)
    logits = torch.cat([logits_0100, logits_1011], dim=0)
    labels = torch.arange(n).repeat(2)
    return F.cross_entropy(logits, labels)


def cosine_factor(step, max_steps, start=1.0, end=0.001):
    """lightly's cosine_schedule."""
    if max_steps == 1:
        return end
    if step >= max_steps - 1:
        return end
    return end - (end - start) * (math.cos(math.pi * step / (max_steps - 1)) + 1) / 2


def embed(backbone, images, batch=512):
    backbone.eval()
    norm = T.Normalize(MEAN, STD)
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i:i + batch]).float().div(255)
            x = norm(x.unsqueeze(1).repeat(1, 3, 1, 1))
            out.append(backbone(x))
    backbone.train()
    return F.normalize(torch.cat(out), dim=1)


def knn_top1(bank, bank_labels, queries, query_labels, classes=10, k=200, t=0.1):
    """lightly's knn_predict, top-1 accuracy."""
    hits = 0
    for i in range(0, len(queries), 1024):
        sim = queries[i:i + 1024] @ bank.T
        w, idx = sim.topk(k=min(k, len(bank)), dim=-1)
        labels = bank_labels[idx]
        w = (w / t).exp()
        onehot = torch.zeros(labels.shape[0] * labels.shape[1], classes)
        onehot = onehot.scatter(-1, labels.view(-1, 1), 1.0)
        scores = (onehot.view(labels.shape[0], -1, classes) * w.unsqueeze(-1)).sum(1)
        hits += (scores.argmax(-1) == query_labels[i:i + 1024]).sum().item()
    return hits / len(queries)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--limit", type=int, default=4096)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--blocks", type=int, nargs=4, default=[1, 1, 1, 1])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    train_x = read_idx(f"{DATA}/train-images-idx3-ubyte.gz")[:a.limit]
    train_y = torch.from_numpy(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz")[:a.limit].astype(np.int64))
    test_x = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")[:a.limit]
    test_y = torch.from_numpy(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz")[:a.limit].astype(np.int64))

    backbone = SmallResNet(a.blocks, a.width)
    head = projection_head(backbone.dim)
    random_backbone = SmallResNet(a.blocks, a.width)
    params = list(backbone.named_parameters()) + list(head.named_parameters())
    decay = [p for n, p in params if p.ndim > 1]
    no_decay = [p for n, p in params if p.ndim <= 1]
    lr = 0.06 * a.batch / 128
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9)
    view = T.Compose([
        T.RandomResizedCrop(28, scale=(0.08, 1.0)),
        T.RandomHorizontalFlip(0.5),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(0.2),
        T.Normalize(MEAN, STD),
    ])
    images = torch.from_numpy(train_x).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)
    steps = a.limit // a.batch
    total = steps * a.epochs
    start = time.time()
    for epoch in range(a.epochs):
        order = torch.randperm(a.limit)
        for s in range(steps):
            idx = order[s * a.batch:(s + 1) * a.batch]
            x0 = torch.stack([view(images[i]) for i in idx])
            x1 = torch.stack([view(images[i]) for i in idx])
            loss = ntxent(head(backbone(x0)), head(backbone(x1)))
            opt.zero_grad()
            loss.backward()
            for g in opt.param_groups:
                g["lr"] = lr * cosine_factor(epoch * steps + s, total)
            opt.step()
        print(f"epoch {epoch + 1}/{a.epochs} loss {loss.item():.4f}", flush=True)
    seconds = time.time() - start
    print(f"training: {seconds:.0f} s, {2 * a.limit * a.epochs / seconds:.0f} views/s")
    trained = knn_top1(embed(backbone, train_x), train_y, embed(backbone, test_x), test_y)
    random = knn_top1(embed(random_backbone, train_x), train_y, embed(random_backbone, test_x), test_y)
    print(f"pytorch knn top1: trained {trained:.4f}, random {random:.4f}")


if __name__ == "__main__":
    main()
