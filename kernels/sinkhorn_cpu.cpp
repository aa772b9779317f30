#include "kernels/colstats.h"
#include "kernels/sinkhorn.h"

namespace lumen::kernels {

template <typename C>
void sinkhorn_exp_cpu(const C* x, const C* shift, double epsilon, int64_t rows, int64_t k, C* p,
                      C* colsum) {
  const C eps = C(epsilon);
#pragma omp parallel for schedule(static) if (rows * k > 32768)
  for (int64_t b = 0; b < rows; ++b) {
    for (int64_t j = 0; j < k; ++j) p[b * k + j] = sinkhorn_exp_elem(x[b * k + j], shift[j], eps);
  }
  column_sums_cpu(p, rows, k, colsum);
}

template <typename C>
void sinkhorn_rows_cpu(C* p, const C* colsum, int64_t rows, int64_t k) {
#pragma omp parallel for schedule(static) if (rows * k > 32768)
  for (int64_t b = 0; b < rows; ++b) {
    C* pb = p + b * k;
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) {
      pb[j] /= colsum[j];
      sum += double(pb[j]);
    }
    const C s = C(sum);
    for (int64_t j = 0; j < k; ++j) pb[j] /= s;
  }
}

#define LUMEN_INSTANTIATE(C)                                                               \
  template void sinkhorn_exp_cpu<C>(const C*, const C*, double, int64_t, int64_t, C*, C*); \
  template void sinkhorn_rows_cpu<C>(C*, const C*, int64_t, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
