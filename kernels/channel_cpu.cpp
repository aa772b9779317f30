#include <vector>

#include "kernels/channel.h"

namespace lumen::kernels {

template <typename T>
void bias_add_cpu(const T* x, const T* bias, T* y, int64_t m, int64_t c) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (m * c > 65536)
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      y[r * c + j] = store<T>(C(load(x[r * c + j])) + C(load(bias[j])));
    }
  }
}

template <typename T>
void channel_sum_cpu(const T* x, T* out, int64_t m, int64_t c) {
  std::vector<double> total(c, 0.0);
#pragma omp parallel if (m * c > 65536)
  {
    std::vector<double> local(c, 0.0);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t j = 0; j < c; ++j) local[j] += double(load(x[r * c + j]));
    }
#pragma omp critical
    for (int64_t j = 0; j < c; ++j) total[j] += local[j];
  }
  for (int64_t j = 0; j < c; ++j) out[j] = store<T>(compute_t<T>(total[j]));
}

#define LUMEN_INSTANTIATE(T)                                               \
  template void bias_add_cpu<T>(const T*, const T*, T*, int64_t, int64_t); \
  template void channel_sum_cpu<T>(const T*, T*, int64_t, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
