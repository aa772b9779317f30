// Pooling of the inference path on the CPU, f32 NHWC, without the argmax training keeps.
#pragma once

#include <cstdint>

namespace lumen {

// Max over kernel x kernel windows (padding never wins, as in PyTorch).
//   x: (N, H, W, C)  ->  y: (N, OH, OW, C), OH = (H + 2 * padding - kernel) / stride + 1
void max_pool2d_infer_cpu(const float* x, int64_t n, int64_t h, int64_t w, int64_t c,
                          int64_t kernel, int64_t stride, int64_t padding, float* y, int threads);

// Mean over (H, W):  x: (N, H * W, C)  ->  y: (N, C)
void global_avg_pool_infer_cpu(const float* x, int64_t n, int64_t hw, int64_t c, float* y,
                               int threads);

}  // namespace lumen
