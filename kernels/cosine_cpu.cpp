#include "kernels/cosine.h"

namespace lumen::kernels {

template <typename T>
void cosine_rows_forward_cpu(const T* x, const T* y, compute_t<T>* cos, compute_t<T>* norm_x,
                             compute_t<T>* norm_y, int64_t rows, int64_t dim, double eps) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * dim > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C dot = 0, xx = 0, yy = 0;
    for (int64_t k = 0; k < dim; ++k) {
      const C a = load(x[r * dim + k]), b = load(y[r * dim + k]);
      dot += a * b;
      xx += a * a;
      yy += b * b;
    }
    norm_x[r] = math_sqrt(xx);
    norm_y[r] = math_sqrt(yy);
    cos[r] = cosine_from_sums(dot, norm_x[r], norm_y[r], C(eps));
  }
}

template <typename T>
void cosine_rows_backward_cpu(const T* x, const T* y, const compute_t<T>* cos,
                              const compute_t<T>* norm_x, const compute_t<T>* norm_y,
                              const compute_t<T>* grad, double scale, T* dx, T* dy, int64_t rows,
                              int64_t dim, double eps) {
  using C = compute_t<T>;
  const C g = grad[0] * C(scale), e = C(eps);
#pragma omp parallel for schedule(static) if (rows * dim > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < dim; ++k) {
      const int64_t i = r * dim + k;
      const C a = load(x[i]), b = load(y[i]);
      if (dx) dx[i] = store<T>(g * cosine_grad_elem(a, b, cos[r], norm_x[r], norm_y[r], e));
      if (dy) dy[i] = store<T>(g * cosine_grad_elem(b, a, cos[r], norm_y[r], norm_x[r], e));
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                 \
  template void cosine_rows_forward_cpu<T>(const T*, const T*, compute_t<T>*, compute_t<T>*, \
                                           compute_t<T>*, int64_t, int64_t, double);         \
  template void cosine_rows_backward_cpu<T>(                                                 \
      const T*, const T*, const compute_t<T>*, const compute_t<T>*, const compute_t<T>*,     \
      const compute_t<T>*, double, T*, T*, int64_t, int64_t, double);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
