#include "kernels/dcl.h"

namespace lumen::kernels {

template <typename C>
void dcl_rows_cpu(C* sim, const C* weights, C* row_loss, int64_t n, int64_t cols,
                  int64_t col_offset, double inv_temperature, double grad_scale) {
  const int64_t rows = 2 * n;
  const C inv_t = C(inv_temperature), scale = C(grad_scale);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C* s = sim + r * cols;
    const int64_t self = ntxent_self_column(r, col_offset);
    const int64_t pos = ntxent_positive_column(r, n, col_offset);
    LseState<C> state = lse_empty<C>();
    for (int64_t j = 0; j < cols; ++j) {
      if (j != self && j != pos) state = lse_add(state, s[j] * inv_t);
    }
    const C lse = lse_value(state);
    const C w = weights ? weights[r % n] : C(1);
    row_loss[r] = lse - w * s[pos] * inv_t;
    for (int64_t j = 0; j < cols; ++j) {
      s[j] = j == self  ? C(0)
             : j == pos ? -w * inv_t * scale
                        : dcl_negative_grad(s[j], lse, inv_t, scale);
    }
  }
}

template <typename C>
void dcl_vmf_weights_cpu(const C* sim, C* weights, int64_t n, int64_t cols, int64_t col_offset,
                         double inv_sigma) {
  const C inv_s = C(inv_sigma);
  LseState<C> state = lse_empty<C>();
  for (int64_t i = 0; i < n; ++i) {
    state = lse_add(state, sim[i * cols + ntxent_positive_column(i, n, col_offset)] * inv_s);
  }
  const C lse = lse_value(state);
  for (int64_t i = 0; i < n; ++i) {
    weights[i] =
        dcl_vmf_weight(sim[i * cols + ntxent_positive_column(i, n, col_offset)] * inv_s, lse, n);
  }
}

#define LUMEN_INSTANTIATE(C)                                                                  \
  template void dcl_rows_cpu<C>(C*, const C*, C*, int64_t, int64_t, int64_t, double, double); \
  template void dcl_vmf_weights_cpu<C>(const C*, C*, int64_t, int64_t, int64_t, double);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
