// Per-window and per-element math of pooling over NHWC images, shared by the CPU loops and the
// CUDA kernels.
//   max pool:         y = max over the window's in-image elements (padding never wins); NaN wins
//                     and propagates, as in PyTorch; argmax = the winner's index (h * W + w) * C +
//                     c within its image, -1 when the window holds no in-image element (y = 0)
//   global avg pool:  y = sum / HW;  dx = dy / HW
#pragma once

#include <cstdint>

#include "kernels/conv.h"
#include "kernels/half.cuh"

namespace lumen::kernels {

// Scans the window of output (oh, ow) in channel c of one image.   image: (H, W, C) T
template <typename T>
LUMEN_HD void max_pool_window(const T* image, const ConvGeometry& g, int64_t oh, int64_t ow,
                              int64_t c, compute_t<T>& best, int32_t& best_index) {
  using C = compute_t<T>;
  best = C(0);
  best_index = -1;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t yy = oh * g.stride - g.padding + i;
    if (yy < 0 || yy >= g.h) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t xx = ow * g.stride - g.padding + j;
      if (xx < 0 || xx >= g.w) continue;
      const int64_t index = (yy * g.w + xx) * g.c + c;
      const C v = C(load(image[index]));
      if (best_index < 0 || v > best || v != v) {  // NaN propagates, as in PyTorch
        best = v;
        best_index = int32_t(index);
      }
    }
  }
}

// The mean of a channel's HW values from their sum, and the gradient each of them receives.
template <typename C>
LUMEN_HD C global_avg_pool_mean(C sum, int64_t hw) {
  return sum / C(hw);
}
template <typename C>
LUMEN_HD C global_avg_pool_grad(C dy, int64_t hw) {
  return dy / C(hw);
}

}  // namespace lumen::kernels
