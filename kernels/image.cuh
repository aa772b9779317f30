// Per-pixel math of kernels/image.h, shared by the CPU loop and the CUDA kernel.
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// (u8 / 255 - mean) / std, as torchvision's ToTensor followed by Normalize.
LUMEN_HD float normalized_pixel(uint8_t v, float mean, float inv_std) {
  return (float(v) * (1.0f / 255.0f) - mean) * inv_std;
}

}  // namespace lumen::kernels
