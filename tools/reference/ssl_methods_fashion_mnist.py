#!/usr/bin/env python3
"""The methods' benchmark recipe in PyTorch + lightly, beside `lumen train method=NAME` on the same
images and cores (tools/bench_methods.sh runs both and prints the table).

Recipe (issue "One method interface ..."): small-image ResNet-18 (3x3 stem, no max-pool) at width
0.25, 32 px views, 500 training and 100 test images per class of Fashion-MNIST (the first ones of
each class, written as class folders by --write-folders), batch 128, 10 epochs, no blur. Each
method as lightly's CIFAR-10 benchmark wires it (heads sized from the backbone's 128 features,
temperatures, banks, momentum 0.99, symmetric losses), with lightly's own transforms, heads,
losses, memory banks and momentum update; SGD (momentum 0.9, weight decay 5e-4 except on biases
and 1-D parameters) at 0.06 x batch / 128 (SimSiam: 0.06), lightly's cosine schedule per step, as
Lumen. Barlow Twins' LARS wiring (--optimizer lars) and VICReg (not in lightly's CIFAR-10
benchmark; its example's head) take lightly's ImageNet benchmark optimizers: lightly's LARS with
its parameter groups, its CosineWarmupScheduler per step, the warm-up at most a tenth of the run
as Lumen's. SwaV: lightly's benchmark SwaVModel with Adam (1e-3 x batch / 128, weight decay 1e-6);
DINO: its DINOModel, momentum cosine_schedule(step, total, 0.996, 1) after each step; both on 2
crops of 32 px and 2 of 16 px without blur. Then kNN (k 200, t 0.1) of the test folder against
the training folder, images resized to 32 px.

Needs lightly 1.5.26 (pip install --no-deps lightly==1.5.26 in a venv made with
--system-site-packages beside Debian's python3-torch).

usage: ssl_methods_fashion_mnist.py --write-folders OUT      (train/ and test/ class folders)
       ssl_methods_fashion_mnist.py --method byol --train OUT/train --test OUT/test [--threads 2]
       ssl_methods_fashion_mnist.py --method barlowtwins --optimizer lars --train ... --test ...
"""
import argparse
import copy
import gzip
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from lightly.data import LightlyDataset
from lightly.loss import (BarlowTwinsLoss, DCLLoss, DCLWLoss, DINOLoss, NegativeCosineSimilarity,
                          NTXentLoss, SwaVLoss, VICRegLoss)
from lightly.models import utils
from lightly.models.modules import heads
from lightly.models.modules.memory_bank import MemoryBankModule
from lightly.models.modules.nn_memory_bank import NNMemoryBankModule
from lightly.transforms import (BYOLTransform, BYOLView1Transform, BYOLView2Transform,
                                DINOTransform, MoCoV2Transform, SimCLRTransform, SimSiamTransform,
                                SwaVTransform, VICRegTransform)
from lightly.utils.lars import LARS
from lightly.utils.scheduler import CosineWarmupScheduler, cosine_schedule

sys.path.insert(0, os.path.dirname(__file__))
from simclr_fashion_mnist import SmallResNet, cosine_factor, knn_top1  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CLASSES = ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle_boot"]
SIZE = 32


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_folders(out, per_class_train=500, per_class_test=100):
    from PIL import Image
    for split, prefix, n in (("train", "train", per_class_train), ("test", "t10k", per_class_test)):
        images = read_idx(f"{DATA}/{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(f"{DATA}/{prefix}-labels-idx1-ubyte.gz")
        for c, name in enumerate(CLASSES):
            folder = os.path.join(out, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in np.flatnonzero(labels == c)[:n]:
                Image.fromarray(images[i]).save(os.path.join(folder, f"{i:05d}.png"))
    print(f"wrote {out}/train and {out}/test")


def two_layer_head(d_in, hidden, out):
    return heads.ProjectionHead([(d_in, hidden, nn.BatchNorm1d(hidden), nn.ReLU()),
                                 (hidden, out, nn.BatchNorm1d(out), None)])


class Method(nn.Module):
    """lightly's CIFAR-10 benchmark models on the given backbone (its `dim` features), with the
    children Lumen gives the method: backbone, projection_head, prediction_head,
    backbone_momentum, projection_head_momentum. Sizes default to the benchmark's (from
    backbone.dim); tools/fixtures/ssl_method_steps.py passes small ones."""

    def __init__(self, name, backbone, hidden=None, out=None, prediction_hidden=None, bank=4096):
        super().__init__()
        d = backbone.dim
        self.name, self.backbone, self.momentum = name, backbone, False
        if name in ("simclr", "dcl", "dclw"):
            out = out or 128
            self.projection_head = heads.SimCLRProjectionHead(d, hidden or d, out)
            self.criterion = {"simclr": NTXentLoss(), "dcl": DCLLoss(),
                              "dclw": DCLWLoss()}[name]
        elif name == "mocov2":
            out = out or 128
            self.projection_head = heads.MoCoProjectionHead(d, hidden or d, out)
            self.criterion = NTXentLoss(temperature=0.1, memory_bank_size=(bank, out))
            self.momentum = True
        elif name == "byol":
            out = out or 256
            self.projection_head = heads.BYOLProjectionHead(d, hidden or 1024, out)
            self.prediction_head = heads.BYOLPredictionHead(out, prediction_hidden or 1024, out)
            self.criterion = NegativeCosineSimilarity()
            self.momentum = True
        elif name == "simsiam":
            out = out or 2048
            self.projection_head = two_layer_head(d, hidden or 2048, out)
            self.prediction_head = heads.SimSiamPredictionHead(out, prediction_hidden or 512, out)
            self.criterion = NegativeCosineSimilarity()
        elif name == "nnclr":
            out = out or 256
            self.projection_head = two_layer_head(d, hidden or 2048, out)
            self.prediction_head = heads.NNCLRPredictionHead(out, prediction_hidden or 4096, out)
            self.criterion = NTXentLoss()
            self.memory_bank = NNMemoryBankModule(size=(bank, out))
        elif name == "barlowtwins":
            # "use a 2-layer projection head for cifar10 as described in the paper"
            hidden, out = hidden or 2048, out or 2048
            self.projection_head = heads.ProjectionHead([
                (d, hidden, nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)),
                (hidden, out, None, None)])
            self.criterion = BarlowTwinsLoss()  # lambda 5e-3
        elif name == "vicreg":  # lightly's examples/pytorch/vicreg.py
            self.projection_head = heads.VICRegProjectionHead(d, hidden or 2048, out or 2048,
                                                              num_layers=2)
            self.criterion = VICRegLoss()
        else:
            raise ValueError(f"unknown method {name}")
        if self.momentum:
            self.backbone_momentum = copy.deepcopy(self.backbone)
            self.projection_head_momentum = copy.deepcopy(self.projection_head)
            utils.deactivate_requires_grad(self.backbone_momentum)
            utils.deactivate_requires_grad(self.projection_head_momentum)

    def trained(self):
        """(name, parameter) of what the optimizer trains."""
        return [(f"{c}.{n}", p) for c in ("backbone", "projection_head", "prediction_head")
                if hasattr(self, c) for n, p in getattr(self, c).named_parameters()]

    def before_step(self, epoch):
        """What training_step does before the forward besides the momentum update (SwaV)."""

    def after_backward(self):
        """What runs between backward and the optimizer step (DINO)."""

    def update_momentum(self, m=0.99):
        """lightly's update_momentum of the targets (the benchmark runs it at each step's start)."""
        if self.momentum:
            utils.update_momentum(self.backbone, self.backbone_momentum, m)
            utils.update_momentum(self.projection_head, self.projection_head_momentum, m)

    def project(self, x):
        return self.projection_head(self.backbone(x))

    def loss(self, x0, x1):
        """The benchmark's training_step loss, forwards in its order."""
        n = self.name
        if n in ("simclr", "dcl", "dclw", "barlowtwins", "vicreg"):
            return self.criterion(self.project(x0), self.project(x1))
        if n == "mocov2":
            def step(a, b):
                b, shuffle = utils.batch_shuffle(b)
                q = self.project(a)
                k = self.projection_head_momentum(self.backbone_momentum(b))
                return q, utils.batch_unshuffle(k, shuffle)
            return 0.5 * (self.criterion(*step(x0, x1)) + self.criterion(*step(x1, x0)))
        if n == "byol":
            def target(x):
                return self.projection_head_momentum(self.backbone_momentum(x)).detach()
            p0 = self.prediction_head(self.project(x0))
            z0 = target(x0)
            p1 = self.prediction_head(self.project(x1))
            z1 = target(x1)
            return 0.5 * (self.criterion(p0, z1) + self.criterion(p1, z0))
        z0 = self.project(x0)
        p0 = self.prediction_head(z0)
        z1 = self.project(x1)
        p1 = self.prediction_head(z1)
        if n == "simsiam":
            return 0.5 * (self.criterion(z0.detach(), p1) + self.criterion(z1.detach(), p0))
        z0 = self.memory_bank(z0.detach(), update=False)
        z1 = self.memory_bank(z1.detach(), update=True)
        return 0.5 * (self.criterion(z0, p1) + self.criterion(z1, p0))


class SwaV(Method):
    """lightly's CIFAR-10 benchmark SwaVModel (SwaVProjectionHead(D, 512, 128), SwaVPrototypes(128,
    512), SwaVLoss) on the given backbone; with queue_length > 0 the queues of lightly's SwaVQueue
    example (one MemoryBankModule per high-resolution crop, used from start_queue_at_epoch on).
    The first n_high crops are the high-resolution ones."""

    def __init__(self, backbone, hidden=512, out=128, prototypes=512, n_high=2, queue_length=0,
                 start_queue_at_epoch=0):
        nn.Module.__init__(self)
        self.name, self.backbone, self.momentum = "swav", backbone, False
        self.projection_head = heads.SwaVProjectionHead(backbone.dim, hidden, out)
        self.prototypes = heads.SwaVPrototypes(out, prototypes)
        self.criterion = SwaVLoss()
        self.n_high, self.start_queue_at_epoch = n_high, start_queue_at_epoch
        self.queues = nn.ModuleList([MemoryBankModule(size=(queue_length, out))
                                     for _ in range(n_high if queue_length > 0 else 0)])
        self.epoch = 0

    def trained(self):
        return [(f"{c}.{n}", p) for c in ("backbone", "projection_head", "prototypes")
                for n, p in getattr(self, c).named_parameters()]

    def before_step(self, epoch):
        self.epoch = epoch
        self.prototypes.normalize()  # lightly: at the start of training_step

    def project(self, x):
        return F.normalize(self.projection_head(self.backbone(x).flatten(start_dim=1)), dim=1)

    def loss(self, *crops):
        features = [self.project(x) for x in crops]
        scores = [self.prototypes(z) for z in features]
        queue_scores = None
        if len(self.queues) > 0:  # lightly's SwaVQueue example: _get_queue_prototypes
            queued = [q(z, update=True)[1].permute(1, 0)
                      for q, z in zip(self.queues, features[:self.n_high])]
            if not (self.start_queue_at_epoch > 0 and self.epoch < self.start_queue_at_epoch):
                queue_scores = [self.prototypes(x) for x in queued]
        return self.criterion(scores[:self.n_high], scores[self.n_high:], queue_scores)


class DINO(Method):
    """lightly's CIFAR-10 benchmark DINOModel (DINOProjectionHead(D, 2048, 256, 2048,
    batch_norm=True) with its two-layer MLP, teacher backbone and head without gradient,
    DINOLoss) on the given backbone. The teacher sees the first two views; the momentum comes
    from lightly's cosine_schedule, as its DINO example."""

    def __init__(self, backbone, hidden=2048, bottleneck=256, out=2048, freeze_last_layer=-1,
                 **loss_args):
        nn.Module.__init__(self)
        self.name, self.backbone, self.momentum = "dino", backbone, True
        d = backbone.dim

        def head():
            h = heads.DINOProjectionHead(d, hidden, bottleneck, out, batch_norm=True,
                                         freeze_last_layer=freeze_last_layer)
            h.layers = heads.ProjectionHead([(d, hidden, nn.BatchNorm1d(hidden), nn.GELU()),
                                             (hidden, bottleneck, None, None)]).layers
            return h
        self.head = head()
        self.teacher_backbone = copy.deepcopy(self.backbone)
        self.teacher_head = head()  # lightly builds it anew; Lumen copies the student's
        self.teacher_head.load_state_dict(self.head.state_dict())
        utils.deactivate_requires_grad(self.teacher_backbone)
        utils.deactivate_requires_grad(self.teacher_head)
        self.criterion = DINOLoss(output_dim=out, **loss_args)
        self.epoch = 0

    def trained(self):
        return [(f"{c}.{n}", p) for c in ("backbone", "head")
                for n, p in getattr(self, c).named_parameters()]

    def before_step(self, epoch):
        self.epoch = epoch

    def update_momentum(self, m=0.996):
        utils.update_momentum(self.backbone, self.teacher_backbone, m)
        utils.update_momentum(self.head, self.teacher_head, m)

    def after_backward(self):
        self.head.cancel_last_layer_gradients(current_epoch=self.epoch)

    def loss(self, *views):
        teacher_out = [self.teacher_head(self.teacher_backbone(v).flatten(start_dim=1))
                       for v in views[:2]]
        student_out = [self.head(self.backbone(v).flatten(start_dim=1)) for v in views]
        return self.criterion(teacher_out, student_out, epoch=self.epoch)


def make_method(name, backbone):
    """The benchmark model of `name` at the benchmark's sizes."""
    if name == "swav":
        return SwaV(backbone)
    if name == "dino":
        return DINO(backbone)
    return Method(name, backbone)


def adam(model, lr, weight_decay=1e-6):
    """torch.optim.Adam as lightly's SwaV benchmark (weight decay coupled), with Lumen's groups:
    no weight decay on biases and 1-D parameters."""
    params = model.trained()
    decays = [p.ndim > 1 and not n.endswith(".bias") for n, p in params]
    return torch.optim.Adam([{"params": [p for (_, p), d in zip(params, decays) if d],
                              "weight_decay": weight_decay},
                             {"params": [p for (_, p), d in zip(params, decays) if not d],
                              "weight_decay": 0.0}], lr=lr)


def sgd(model, lr):
    """SGD as Lumen's default: momentum 0.9, weight decay 5e-4 except on biases and 1-D
    parameters."""
    params = model.trained()
    decays = [p.ndim > 1 and not n.endswith(".bias") for n, p in params]
    return torch.optim.SGD([{"params": [p for (_, p), d in zip(params, decays) if d],
                             "weight_decay": 5e-4},
                            {"params": [p for (_, p), d in zip(params, decays) if not d],
                             "weight_decay": 0.0}], lr=lr, momentum=0.9)


def lars(model, lr_factor):
    """lightly's ImageNet benchmark optimizer of Barlow Twins and VICReg at lr_factor = global
    batch / 256: LARS (momentum 0.9) with its parameter groups, batch norm and biases
    (get_weight_decay_parameters) without weight decay, hence without LARS adaptation (Barlow
    Twins: at 0.0048 x lr_factor). Returns the optimizer and the cosine's end value."""
    params, no_decay = utils.get_weight_decay_parameters([model.backbone, model.projection_head])
    if model.name == "barlowtwins":
        groups = [{"params": params},
                  {"params": no_decay, "weight_decay": 0.0, "lr": 0.0048 * lr_factor}]
        return LARS(groups, lr=0.2 * lr_factor, momentum=0.9, weight_decay=1.5e-6), 0.001
    if model.name == "vicreg":
        groups = [{"params": params}, {"params": no_decay, "weight_decay": 0.0}]
        return LARS(groups, lr=0.2 * lr_factor, momentum=0.9, weight_decay=1e-6), 0.01
    raise ValueError(f"no LARS wiring for {model.name}")


def transform_of(name):
    # Multi-crop recipe (the same keys on Lumen's side, tools/bench_methods.sh): 2 crops of 32 px
    # and 2 of 16 px, no blur (as lightly's CIFAR-10 benchmark disables it); other arguments
    # lightly's defaults.
    if name == "swav":
        return SwaVTransform(crop_sizes=(SIZE, SIZE // 2), crop_counts=(2, 2), gaussian_blur=0.0)
    if name == "dino":
        return DINOTransform(global_crop_size=SIZE, local_crop_size=SIZE // 2, n_local_views=2,
                             gaussian_blur=(0.0, 0.0, 0.0))
    if name == "byol":
        return BYOLTransform(BYOLView1Transform(input_size=SIZE, gaussian_blur=0.0),
                             BYOLView2Transform(input_size=SIZE, gaussian_blur=0.0))
    if name == "mocov2":
        return MoCoV2Transform(input_size=SIZE, gaussian_blur=0.0)
    if name == "simsiam":
        return SimSiamTransform(input_size=SIZE, gaussian_blur=0.0)
    if name == "barlowtwins":  # lightly's benchmarks give Barlow Twins BYOL's views
        return transform_of("byol")
    if name == "vicreg":
        return VICRegTransform(input_size=SIZE, gaussian_blur=0.0)
    return SimCLRTransform(input_size=SIZE, gaussian_blur=0.0)


def embed(backbone, folder):
    dataset = LightlyDataset(folder, transform=T.Compose([
        T.Resize(SIZE), T.CenterCrop(SIZE), T.ToTensor(), T.Normalize(MEAN, STD)]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=False)
    backbone.eval()
    features, labels = [], []
    with torch.no_grad():
        for x, y, _ in loader:
            features.append(backbone(x))
            labels.append(y)
    backbone.train()
    return torch.nn.functional.normalize(torch.cat(features), dim=1), torch.cat(labels)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--write-folders")
    p.add_argument("--method", default="simclr")
    p.add_argument("--train")
    p.add_argument("--test")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--optimizer", default="",
                   help="sgd or lars (default: the method's; vicreg: lars, others: sgd)")
    a = p.parse_args()
    if a.write_folders:
        return write_folders(a.write_folders)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = make_method(a.method, SmallResNet([2, 2, 2, 2], a.width)).train()
    dataset = LightlyDataset(a.train, transform=transform_of(a.method))
    loader = torch.utils.data.DataLoader(dataset, batch_size=a.batch, shuffle=True,
                                         drop_last=True, num_workers=0)
    total = len(loader) * a.epochs
    optimizer = a.optimizer or ("lars" if a.method == "vicreg" else "sgd")
    scheduler = None
    if optimizer == "lars":
        opt, end_value = lars(model, a.batch / 256)
        # lightly's ImageNet benchmarks warm up for 10 epochs; Lumen keeps at most a tenth of
        # the run
        warmup = int(len(loader) * min(10, a.epochs / 10))
        scheduler = CosineWarmupScheduler(opt, warmup_epochs=warmup, max_epochs=total,
                                          end_value=end_value)
    elif a.method == "swav":  # lightly's SwaV benchmark: Adam 1e-3 x batch / 128, wd 1e-6
        lr = 1e-3 * a.batch / 128
        opt = adam(model, lr, 1e-6)
    else:
        lr = 0.06 if a.method == "simsiam" else 0.06 * a.batch / 128
        opt = sgd(model, lr)
    start = time.time()
    step = 0
    for epoch in range(a.epochs):
        for views, _, _ in loader:
            if scheduler is None:
                for g in opt.param_groups:
                    g["lr"] = lr * cosine_factor(step, total)
            if a.method != "dino":
                model.update_momentum()
            model.before_step(epoch)
            loss = model.loss(*views)
            opt.zero_grad()
            loss.backward()
            model.after_backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()  # per step, as the benchmarks' "interval": "step"
            if a.method == "dino":  # lightly's DINO example's schedule, per step, after the step
                model.update_momentum(cosine_schedule(step, total, 0.996, 1.0))
            step += 1
        print(f"epoch {epoch + 1}/{a.epochs} loss {loss.item():.4f}", flush=True)
    seconds = time.time() - start
    bank, bank_labels = embed(model.backbone, a.train)
    queries, query_labels = embed(model.backbone, a.test)
    top1 = knn_top1(bank, bank_labels, queries, query_labels)
    print(f"method {a.method} training_s {seconds:.1f} "
          f"img_per_s {len(loader) * a.batch * a.epochs / seconds:.1f} knn_top1 {top1:.4f}")


if __name__ == "__main__":
    main()
