#include "kernels/redundancy.h"

namespace lumen::kernels {

template <typename C>
void matrix_loss_rows_cpu(const C* m, int64_t d, const MatrixLossParams& p, C* row_loss, C* grad) {
#pragma omp parallel for schedule(static) if (d * d > 32768)
  for (int64_t i = 0; i < d; ++i) {
    C s = 0;
    for (int64_t j = 0; j < d; ++j)
      s += matrix_loss_elem(p, m[i * d + j], i == j, &grad[i * d + j]);
    row_loss[i] = s;
  }
}

template <typename C>
void squared_difference_rows_cpu(const C* a, const C* b, int64_t n, int64_t d, double scale,
                                 C* row_loss, C* da, C* db) {
  const C k = C(scale);
#pragma omp parallel for schedule(static) if (n * d > 32768)
  for (int64_t r = 0; r < n; ++r) {
    C s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const int64_t i = r * d + j;
      const C diff = a[i] - b[i];
      s += diff * diff;
      da[i] = C(2) * k * diff;
      db[i] = -da[i];
    }
    row_loss[r] = k * s;
  }
}

#define LUMEN_INSTANTIATE(C)                                                                     \
  template void matrix_loss_rows_cpu<C>(const C*, int64_t, const MatrixLossParams&, C*, C*);     \
  template void squared_difference_rows_cpu<C>(const C*, const C*, int64_t, int64_t, double, C*, \
                                               C*, C*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
