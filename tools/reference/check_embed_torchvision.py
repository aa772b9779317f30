#!/usr/bin/env python3
"""Checks `lumen embed` against torchvision on a torchvision-format ResNet-18.

Makes a torchvision.models.resnet18() with seeded random weights (BN statistics made non-trivial;
no download), saves its state dict as safetensors, writes a folder of 224x224 PNG images, computes
torchvision's features in eval mode (ToTensor + ImageNet Normalize; the images are already 224x224,
so Resize(224) + CenterCrop(224) leave them unchanged), runs
`lumen embed ... model.name=torchvision/resnet18 device=cpu` and compares the CSV.

usage: python3 tools/reference/check_embed_torchvision.py [path/to/lumen] [work folder]
"""
import csv
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from safetensors_writer import save_file  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def main():
    lumen = sys.argv[1] if len(sys.argv) > 1 else "build/bin/lumen"
    work = sys.argv[2] if len(sys.argv) > 2 else "/tmp/lumen_embed_check"
    os.makedirs(f"{work}/images", exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    save_file({k: v for k, v in model.state_dict().items()}, f"{work}/resnet18.safetensors")

    rng = np.random.default_rng(0)
    names = []
    for i in range(6):
        y, x = np.mgrid[0:224, 0:224]
        img = np.stack([(x * (i + 1)) % 256, (y * (i + 2)) % 256,
                        rng.integers(0, 256, (224, 224))], -1).astype(np.uint8)
        names.append(f"img_{i}.png")
        Image.fromarray(img).save(f"{work}/images/{names[-1]}")

    model.fc = torch.nn.Identity()
    model.eval()
    norm = torchvision.transforms.Normalize(MEAN, STD)
    expected = {}
    with torch.no_grad():
        for n in names:
            x = torchvision.transforms.functional.to_tensor(Image.open(f"{work}/images/{n}"))
            expected[n] = model(norm(x).unsqueeze(0))[0].numpy()

    subprocess.run([lumen, "embed", f"input_dir={work}/images",
                    f"checkpoint={work}/resnet18.safetensors", "model.name=torchvision/resnet18",
                    "device=cpu", f"output={work}/embeddings.csv"], check=True)
    worst = 0.0
    with open(f"{work}/embeddings.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "filenames" and rows[0][-1] == "labels", rows[0][:3]
    for row in rows[1:]:
        got = np.array([float(v) for v in row[1:-1]])
        want = expected[row[0]]
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))))
    print(f"{len(rows) - 1} images, 512 features each: max relative error {worst:.2e}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
