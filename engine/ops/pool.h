// Pooling with autograd on NHWC activations.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

// Max over kernel x kernel windows (padding never wins, as in PyTorch).
//   x: (N, H, W, C)  ->  (N, OH, OW, C),  OH = (H + 2*padding - kernel) / stride + 1
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);

// Mean over the spatial dims: (N, H, W, C) -> (N, C)
Tensor global_avg_pool(const Tensor& x);

}  // namespace lumen
