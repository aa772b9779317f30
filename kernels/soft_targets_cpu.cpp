#include "kernels/soft_targets.h"

namespace lumen::kernels {

template <typename C>
void soft_target_ce_rows_cpu(const C* z, const C* q, int views, int skip, double weight,
                             double temperature, int64_t rows, int64_t k, C* row_loss, C* dz) {
  const C t = C(temperature), w = C(weight);
  const int64_t stride = rows * k;
#pragma omp parallel for schedule(static) if (rows * k > 32768)
  for (int64_t b = 0; b < rows; ++b) {
    const C* zb = z + b * k;
    LseState<C> s = lse_empty<C>();
    C target_sum = 0;
    for (int64_t j = 0; j < k; ++j) {
      s = lse_add(s, zb[j] / t);
      target_sum += soft_target(q, views, skip, stride, b * k + j, w);
    }
    const C lse = lse_value(s);
    C loss = 0;
    for (int64_t j = 0; j < k; ++j) {
      const C y = zb[j] / t, target = soft_target(q, views, skip, stride, b * k + j, w);
      loss += target * (lse - y);
      dz[b * k + j] = soft_target_grad_elem(y, lse, target_sum, target, t);
    }
    row_loss[b] = loss;
  }
}

template <typename C>
void centered_softmax_rows_cpu(const C* x, const C* center, double temperature, int64_t rows,
                               int64_t k, C* p) {
  const C t = C(temperature);
#pragma omp parallel for schedule(static) if (rows * k > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const C* xr = x + r * k;
    LseState<C> s = lse_empty<C>();
    for (int64_t j = 0; j < k; ++j) s = lse_add(s, (xr[j] - center[j]) / t);
    const C lse = lse_value(s);
    for (int64_t j = 0; j < k; ++j) p[r * k + j] = math_exp((xr[j] - center[j]) / t - lse);
  }
}

#define LUMEN_INSTANTIATE(C)                                                                      \
  template void soft_target_ce_rows_cpu<C>(const C*, const C*, int, int, double, double, int64_t, \
                                           int64_t, C*, C*);                                      \
  template void centered_softmax_rows_cpu<C>(const C*, const C*, double, int64_t, int64_t, C*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
