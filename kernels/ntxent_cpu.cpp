#include "kernels/ntxent.h"

namespace lumen::kernels {

template <typename C>
void ntxent_rows_cpu(C* sim, C* row_loss, int64_t n, int64_t cols, int64_t col_offset,
                     double inv_temperature, double grad_scale) {
  const int64_t rows = 2 * n;
  const C inv_t = C(inv_temperature), scale = C(grad_scale);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C* s = sim + r * cols;
    const int64_t self = ntxent_self_column(r, col_offset);
    const int64_t pos = ntxent_positive_column(r, n, col_offset);
    LseState<C> state = lse_empty<C>();
    for (int64_t j = 0; j < cols; ++j) {
      if (j != self) state = lse_add(state, s[j] * inv_t);
    }
    const C lse = lse_value(state);
    row_loss[r] = lse - s[pos] * inv_t;
    for (int64_t j = 0; j < cols; ++j) {
      s[j] = j == self ? C(0) : ntxent_similarity_grad(s[j], lse, inv_t, j == pos, scale);
    }
  }
}

template <typename C>
void ntxent_bank_rows_cpu(const C* z0, const C* z1, C* sim_neg, C* pos_grad, C* row_loss, int64_t n,
                          int64_t dim, int64_t bank, double inv_temperature, double grad_scale) {
  const C inv_t = C(inv_temperature), scale = C(grad_scale);
#pragma omp parallel for schedule(static) if (n * bank > 32768)
  for (int64_t r = 0; r < n; ++r) {
    C positive = 0;
    for (int64_t k = 0; k < dim; ++k) positive += z0[r * dim + k] * z1[r * dim + k];
    C* s = sim_neg + r * bank;
    LseState<C> state = lse_add(lse_empty<C>(), positive * inv_t);
    for (int64_t j = 0; j < bank; ++j) state = lse_add(state, s[j] * inv_t);
    const C lse = lse_value(state);
    row_loss[r] = lse - positive * inv_t;
    pos_grad[r] = ntxent_similarity_grad(positive, lse, inv_t, true, scale);
    for (int64_t j = 0; j < bank; ++j) {
      s[j] = ntxent_similarity_grad(s[j], lse, inv_t, false, scale);
    }
  }
}

template <typename C>
void ntxent_positive_backward_cpu(const C* z0, const C* z1, const C* pos_grad, C* dz0, C* dz1,
                                  int64_t n, int64_t dim) {
#pragma omp parallel for schedule(static) if (n * dim > 32768)
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t k = 0; k < dim; ++k) {
      const int64_t i = r * dim + k;
      dz0[i] += pos_grad[r] * z1[i];
      dz1[i] = pos_grad[r] * z0[i];
    }
  }
}

#define LUMEN_INSTANTIATE(C)                                                                       \
  template void ntxent_rows_cpu<C>(C*, C*, int64_t, int64_t, int64_t, double, double);             \
  template void ntxent_bank_rows_cpu<C>(const C*, const C*, C*, C*, C*, int64_t, int64_t, int64_t, \
                                        double, double);                                           \
  template void ntxent_positive_backward_cpu<C>(const C*, const C*, const C*, C*, C*, int64_t,     \
                                                int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
