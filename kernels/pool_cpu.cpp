#include <vector>

#include "kernels/pool.cuh"
#include "kernels/pool.h"

namespace lumen::kernels {

template <typename T>
void max_pool2d_forward_cpu(const T* x, T* y, int32_t* argmax, const ConvGeometry& g) {
  using C = compute_t<T>;
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  const int64_t rows = g.n * oh_n * ow_n;
#pragma omp parallel for schedule(static) if (rows * g.c > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t ow = r % ow_n, oh = (r / ow_n) % oh_n, n = r / (ow_n * oh_n);
    const T* image = x + n * g.h * g.w * g.c;
    for (int64_t c = 0; c < g.c; ++c) {
      C best;
      int32_t best_index;
      max_pool_window(image, g, oh, ow, c, best, best_index);
      y[r * g.c + c] = store<T>(best);
      argmax[r * g.c + c] = best_index;
    }
  }
}

template <typename T>
void max_pool2d_backward_cpu(const T* dy, const int32_t* argmax, T* dx, const ConvGeometry& g) {
  using C = compute_t<T>;
  const int64_t per_out = g.out_h() * g.out_w() * g.c, image = g.h * g.w * g.c;
#pragma omp parallel for schedule(static) if (g.n > 1)
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<C> acc(image, C(0));
    for (int64_t o = 0; o < per_out; ++o) {
      const int32_t index = argmax[n * per_out + o];
      if (index >= 0) acc[index] += C(load(dy[n * per_out + o]));
    }
    for (int64_t e = 0; e < image; ++e) dx[n * image + e] = store<T>(acc[e]);
  }
}

template <typename T>
void global_avg_pool_forward_cpu(const T* x, T* y, int64_t n, int64_t hw, int64_t c) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (n * hw * c > 65536)
  for (int64_t b = 0; b < n; ++b) {
    std::vector<C> acc(c, C(0));
    for (int64_t p = 0; p < hw; ++p) {
      const T* row = x + (b * hw + p) * c;
      for (int64_t j = 0; j < c; ++j) acc[j] += C(load(row[j]));
    }
    for (int64_t j = 0; j < c; ++j) y[b * c + j] = store<T>(global_avg_pool_mean(acc[j], hw));
  }
}

template <typename T>
void global_avg_pool_backward_cpu(const T* dy, T* dx, int64_t n, int64_t hw, int64_t c) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (n * hw * c > 65536)
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t p = 0; p < hw; ++p) {
      for (int64_t j = 0; j < c; ++j) {
        dx[(b * hw + p) * c + j] = store<T>(global_avg_pool_grad(C(load(dy[b * c + j])), hw));
      }
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                   \
  template void max_pool2d_forward_cpu<T>(const T*, T*, int32_t*, const ConvGeometry&);        \
  template void max_pool2d_backward_cpu<T>(const T*, const int32_t*, T*, const ConvGeometry&); \
  template void global_avg_pool_forward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t);       \
  template void global_avg_pool_backward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
