#!/usr/bin/env python3
"""Lumen and torchvision read each other's ResNet-18 weights (CPU, fp32).

    torchvision_interop.py LUMEN_PROGRAM

1. A torchvision.models.resnet18() state dict (seeded random weights, non-trivial batch-norm
   statistics), saved as safetensors, is given to `lumen embed model.name=torchvision/resnet18`:
   its features of a folder of 64x64 PNG images must equal torchvision's (1e-4 relative).
2. `lumen train` starts from those weights for one step and writes a checkpoint; its backbone
   entries load into torchvision.models.resnet18() (fc replaced by Identity) with strict=True, and
   that model's features equal `lumen embed` of the checkpoint (1e-4 relative).

Exits 77 (ctest's "skipped") when PyTorch or torchvision is not installed.
"""
import csv
import os
import subprocess
import sys
import tempfile

try:
    import torch
    import torchvision
except ImportError as e:
    print(f"skipped: {e}; install python3-torch and python3-torchvision")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "fixtures"))
from safetensors_writer import save_file  # noqa: E402
from torchvision_resnet18 import random_resnet18, read_metadata, read_safetensors  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
SIZE = 64


def lumen(program, *args):
    run = subprocess.run([program, *args], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FAILED: lumen {' '.join(args)} exited {run.returncode}:\n{run.stdout}{run.stderr}")
    return run.stdout


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    assert header[0] == "filenames" and header[-1] == "labels", header[:2] + header[-2:]
    return {r[0]: torch.tensor([float(v) for v in r[1:-1]], dtype=torch.float64) for r in rows}


def torch_features(model, folder, names):
    model = model.double().eval()
    model.fc = torch.nn.Identity()
    images = torch.stack([torchvision.io.read_image(os.path.join(folder, n)) for n in names])
    x = (images.double() / 255 - MEAN.double()) / STD.double()
    with torch.no_grad():
        return model(x)


def check_close(ours, theirs, what):
    error = ((ours - theirs).abs().max() / theirs.abs().max()).item()
    print(f"{what}: max relative error {error:.2e}")
    if not error < 1e-4:
        sys.exit(f"FAILED: {what} differ by {error:.2e} (relative), more than 1e-4")


def main():
    program = sys.argv[1]
    work = tempfile.mkdtemp(prefix="lumen_interop_")
    folder = os.path.join(work, "images")
    os.makedirs(folder)
    torch.manual_seed(0)
    names = []
    for i in range(8):  # smooth colour images: low-resolution noise upsampled
        low = torch.rand(1, 3, 8, 8)
        image = torch.nn.functional.interpolate(low, size=SIZE, mode="bilinear", align_corners=False)
        name = f"{i:02d}.png"
        torchvision.io.write_png((image[0] * 255).round().clamp(0, 255).to(torch.uint8),
                                 os.path.join(folder, name))
        names.append(name)

    model = random_resnet18()
    weights = os.path.join(work, "torchvision_resnet18.safetensors")
    save_file(model.state_dict(), weights)

    # 1. torchvision weights -> Lumen's features
    common = ["device=cpu", f"collate.input_size={SIZE}", "loader.batch_size=4", "seed=1"]
    csv_path = os.path.join(work, "tv.csv")
    lumen(program, "embed", f"input_dir={folder}", f"checkpoint={weights}",
          "model.name=torchvision/resnet18", f"output={csv_path}", *common)
    rows = read_csv(csv_path)
    ours = torch.stack([rows[n] for n in names])
    check_close(ours, torch_features(model, folder, names), "features of torchvision's weights")

    # 2. a Lumen checkpoint -> torchvision, strictly (minus fc)
    out = os.path.join(work, "run")
    lumen(program, "train", f"input_dir={folder}", f"output_dir={out}", f"checkpoint={weights}",
          "model.name=torchvision/resnet18", "trainer.max_epochs=1", "loader.batch_size=8",
          "collate.gaussian_blur=0", *common[:-2])
    checkpoint = os.path.join(out, "checkpoints", "last.safetensors")
    # The backbone's entries are those under the prefix the checkpoint's metadata names, as a
    # Lightning module's "backbone." entries.
    prefix = read_metadata(checkpoint)["backbone_prefix"]
    state = {k[len(prefix):]: v for k, v in read_safetensors(checkpoint).items()
             if k.startswith(prefix)}
    trained = torchvision.models.resnet18()
    trained.fc = torch.nn.Identity()
    trained.load_state_dict(state, strict=True)
    moved = max((state[k].double() - v.double()).abs().max().item()
                for k, v in model.state_dict().items() if k in state and v.is_floating_point())
    if not moved > 0:
        sys.exit("FAILED: the training step left every weight unchanged; nothing was exported")
    csv_path = os.path.join(work, "trained.csv")
    lumen(program, "embed", f"input_dir={folder}", f"checkpoint={checkpoint}",
          f"output={csv_path}", *common)
    rows = read_csv(csv_path)
    ours = torch.stack([rows[n] for n in names])
    check_close(ours, torch_features(trained, folder, names), "features of Lumen's checkpoint")
    print("torchvision interop: OK")


if __name__ == "__main__":
    main()
