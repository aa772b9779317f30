// 2-D convolution with autograd on NHWC activations and OHWI filters (dilation 1, groups 1).
//   x: (N, H, W, C);  w: (O, KH, KW, C);  bias: (O) or undefined  ->  y: (N, OH, OW, O)
//   OH = (H + 2*padding - KH) / stride + 1 (likewise OW)
// CPU: im2col + BLAS (1x1 stride-1 convolutions skip the im2col); f32 / f64 in cache-sized row
// blocks spread over the OpenMP threads (engine/ops/conv_cpu.h). GPU: cuDNN
// (engine/ops/cudnn/conv_cudnn.h).
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride,
              int64_t padding);

}  // namespace lumen
