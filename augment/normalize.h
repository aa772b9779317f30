// Images to model inputs without augmentation: u8 pixels scaled to [0, 1] and normalised per
// channel (torchvision's ToTensor + Normalize), as embedding and evaluation use them.
#pragma once

#include "augment/transform.h"

namespace lumen {

// images: (B, H, W, 3) u8 on the CPU or a GPU -> (B, H, W, 3) `dtype` (f32 or bf16), same device.
Tensor normalize_images(const Tensor& images, const NormalizeConfig& normalize, DType dtype);

}  // namespace lumen
