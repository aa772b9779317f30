#include "kernels/norm.h"

namespace lumen::kernels {

template <typename T>
void l2_normalize_forward_cpu(const T* x, T* y, compute_t<T>* norm, double eps, int64_t rows,
                              int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    C ss = 0;
    for (int64_t j = 0; j < cols; ++j) ss += C(load(xr[j])) * C(load(xr[j]));
    norm[r] = math_sqrt(ss);
    const C inv = l2_inverse_norm(norm[r], C(eps));
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = store<T>(C(load(xr[j])) * inv);
  }
}

template <typename T>
void l2_normalize_backward_cpu(const T* y, const T* dy, const compute_t<T>* norm, T* dx, double eps,
                               int64_t rows, int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += C(load(y[r * cols + j])) * C(load(dy[r * cols + j]));
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      dx[i] =
          store<T>(l2_normalize_backward_elem(C(load(y[i])), C(load(dy[i])), dot, norm[r], C(eps)));
    }
  }
}

template <typename T>
void weight_norm_forward_cpu(const T* v, const T* g, T* w, compute_t<T>* norm, int64_t rows,
                             int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* vr = v + r * cols;
    C ss = 0;
    for (int64_t j = 0; j < cols; ++j) ss += C(load(vr[j])) * C(load(vr[j]));
    norm[r] = math_sqrt(ss);
    const C gr = load(g[r]);
    for (int64_t j = 0; j < cols; ++j) {
      w[r * cols + j] = store<T>(weight_norm_elem(C(load(vr[j])), gr, norm[r]));
    }
  }
}

template <typename T>
void weight_norm_backward_cpu(const T* v, const T* g, const T* dw, const compute_t<T>* norm, T* dv,
                              T* dg, int64_t rows, int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += C(load(dw[r * cols + j])) * C(load(v[r * cols + j]));
    const C grad_g = dot / norm[r];
    if (dg) dg[r] = store<T>(grad_g);
    if (!dv) continue;
    const C gr = load(g[r]);
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      dv[i] = store<T>(weight_norm_grad_v_elem(C(load(v[i])), C(load(dw[i])), gr, norm[r], grad_g));
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void l2_normalize_forward_cpu<T>(const T*, T*, compute_t<T>*, double, int64_t,          \
                                            int64_t);                                              \
  template void l2_normalize_backward_cpu<T>(const T*, const T*, const compute_t<T>*, T*, double,  \
                                             int64_t, int64_t);                                    \
  template void weight_norm_forward_cpu<T>(const T*, const T*, T*, compute_t<T>*, int64_t,         \
                                           int64_t);                                               \
  template void weight_norm_backward_cpu<T>(const T*, const T*, const T*, const compute_t<T>*, T*, \
                                            T*, int64_t, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
