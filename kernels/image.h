// Images to model inputs without augmentation (embedding, evaluation).
#pragma once

#include <cstdint>

#include "kernels/image.cuh"

namespace lumen::kernels {

// y = (x / 255 - mean[c]) / std[c]     x: (n, 3) u8 (NHWC pixels); y: (n, 3) T in {float, bf16}
template <typename T>
void normalize_images_cpu(const uint8_t* x, T* y, int64_t pixels, const float mean[3],
                          const float std[3]);
template <typename T>
void normalize_images_cuda(const uint8_t* x, T* y, int64_t pixels, const float mean[3],
                           const float std[3], cudaStream_t stream);

}  // namespace lumen::kernels
