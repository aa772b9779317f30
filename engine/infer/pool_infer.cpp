#include "engine/infer/pool_infer.h"

#include <algorithm>

#include "kernels/pool.cuh"

namespace lumen {

void max_pool2d_infer_cpu(const float* x, int64_t n, int64_t h, int64_t w, int64_t c,
                          int64_t kernel, int64_t stride, int64_t padding, float* y, int threads) {
  const int64_t oh = (h + 2 * padding - kernel) / stride + 1;
  const int64_t ow = (w + 2 * padding - kernel) / stride + 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (n * oh * ow * c > 65536)
  for (int64_t r = 0; r < n * oh * ow; ++r) {
    const int64_t ox = r % ow, oy = (r / ow) % oh, b = r / (ow * oh);
    const int64_t y0 = std::max<int64_t>(0, oy * stride - padding);
    const int64_t y1 = std::min(h, oy * stride - padding + kernel);
    const int64_t x0 = std::max<int64_t>(0, ox * stride - padding);
    const int64_t x1 = std::min(w, ox * stride - padding + kernel);
    float* out = y + r * c;
    // The first pixel of the window, then the others, channels contiguous.
    const float* first = x + ((b * h + y0) * w + x0) * c;
    std::copy(first, first + c, out);
    for (int64_t yy = y0; yy < y1; ++yy) {
      for (int64_t xx = x0; xx < x1; ++xx) {
        const float* in = x + ((b * h + yy) * w + xx) * c;
#pragma omp simd
        for (int64_t ch = 0; ch < c; ++ch) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
      }
    }
  }
}

void global_avg_pool_infer_cpu(const float* x, int64_t n, int64_t hw, int64_t c, float* y,
                               int threads) {
#pragma omp parallel for schedule(static) num_threads(threads) if (n * hw * c > 65536)
  for (int64_t b = 0; b < n; ++b) {
    float* out = y + b * c;
    std::fill(out, out + c, 0.0f);
    for (int64_t p = 0; p < hw; ++p) {
      const float* row = x + (b * hw + p) * c;
#pragma omp simd
      for (int64_t ch = 0; ch < c; ++ch) out[ch] += row[ch];
    }
    for (int64_t ch = 0; ch < c; ++ch) out[ch] = kernels::global_avg_pool_mean(out[ch], hw);
  }
}

}  // namespace lumen
