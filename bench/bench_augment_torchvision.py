#!/usr/bin/env python3
"""torchvision's side of bench_augment: lightly's SimCLR view transform (as lightly builds it:
torchvision transforms on PIL images, PIL's GaussianBlur, ToTensor, Normalize) on the images the
C++ benchmark wrote, timed the same way. Prints one line: `views_per_s <number>`.

usage: bench_augment_torchvision.py RAW_FILE BATCH HEIGHT WIDTH OUT_SIZE REPS
  RAW_FILE holds BATCH x HEIGHT x WIDTH x 3 uint8 (NHWC, RGB).
"""
import random
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image, ImageFilter


class GaussianBlur:
    """lightly's GaussianBlur: PIL blur with radius = sigma drawn uniformly from sigmas."""

    def __init__(self, prob=0.5, sigmas=(0.1, 2.0)):
        self.prob, self.sigmas = prob, sigmas

    def __call__(self, img):
        if random.random() < self.prob:
            return img.filter(ImageFilter.GaussianBlur(radius=random.uniform(*self.sigmas)))
        return img


def simclr_view(size):
    jitter = T.ColorJitter(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)
    return T.Compose([
        T.RandomResizedCrop(size=size, scale=(0.08, 1.0)),
        T.RandomHorizontalFlip(p=0.5),
        T.RandomVerticalFlip(p=0.0),
        T.RandomApply([jitter], p=0.8),
        T.RandomGrayscale(p=0.2),
        GaussianBlur(prob=0.5, sigmas=(0.1, 2.0)),
        T.ToTensor(),
        T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])


def main():
    path, batch, height, width, out, reps = sys.argv[1], *map(int, sys.argv[2:7])
    torch.set_num_threads(1)
    data = np.fromfile(path, dtype=np.uint8).reshape(batch, height, width, 3)
    images = [Image.fromarray(data[i]) for i in range(batch)]
    transform = simclr_view(out)
    for img in images[: min(8, batch)]:  # warm-up
        transform(img)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for img in images:
            transform(img)
            transform(img)
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"views_per_s {2 * batch / times[len(times) // 2]:.1f}")


if __name__ == "__main__":
    main()
