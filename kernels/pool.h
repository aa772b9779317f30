// Pooling over NHWC images, T in {float, double, bf16, f16}.
#pragma once

#include <cstdint>

#include "kernels/conv.h"

namespace lumen::kernels {

// Max over each window (padding never wins, as in PyTorch); argmax[o] = the input element's index
// within its image (h * W + w) * C + c, kept for backward.
//   x: (N, H, W, C) T;  y, argmax: (N, OH, OW, C) T / int32
template <typename T>
void max_pool2d_forward_cpu(const T* x, T* y, int32_t* argmax, const ConvGeometry& g);
template <typename T>
void max_pool2d_forward_cuda(const T* x, T* y, int32_t* argmax, const ConvGeometry& g,
                             cudaStream_t stream);

// dx = scatter-add of dy at argmax (dx is overwritten)
//   dy, argmax: (N, OH, OW, C);  dx: (N, H, W, C) T
template <typename T>
void max_pool2d_backward_cpu(const T* dy, const int32_t* argmax, T* dx, const ConvGeometry& g);
template <typename T>
void max_pool2d_backward_cuda(const T* dy, const int32_t* argmax, T* dx, const ConvGeometry& g,
                              cudaStream_t stream);

// y[n, c] = mean over (h, w) of x[n, h, w, c]
//   x: (N, HW, C) T;  y: (N, C) T
template <typename T>
void global_avg_pool_forward_cpu(const T* x, T* y, int64_t n, int64_t hw, int64_t c);
template <typename T>
void global_avg_pool_forward_cuda(const T* x, T* y, int64_t n, int64_t hw, int64_t c,
                                  cudaStream_t stream);

// dx[n, h, w, c] = dy[n, c] / HW          dy: (N, C) T;  dx: (N, HW, C) T
template <typename T>
void global_avg_pool_backward_cpu(const T* dy, T* dx, int64_t n, int64_t hw, int64_t c);
template <typename T>
void global_avg_pool_backward_cuda(const T* dy, T* dx, int64_t n, int64_t hw, int64_t c,
                                   cudaStream_t stream);

}  // namespace lumen::kernels
