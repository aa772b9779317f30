#include "kernels/elementwise.h"

namespace lumen::kernels {

constexpr int64_t kParallelMin = 32768;

template <typename T>
void binary_cpu(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = store<T>(binary_apply(op, load(a[i]), load(b[i])));
}

template <typename T>
void axpby_cpu(double alpha, const T* x, double beta, T* y, int64_t n) {
  using C = compute_t<T>;
  const C a = C(alpha), b = C(beta);
  if (beta == 0) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = store<T>(a * load(x[i]));
  } else {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = store<T>(a * load(x[i]) + b * load(y[i]));
  }
}

template <typename T>
void scale_by_scalar_cpu(const T* x, const T* s, double alpha, T* y, int64_t n) {
  using C = compute_t<T>;
  const C k = C(alpha) * load(s[0]);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = store<T>(k * load(x[i]));
}

template <typename T>
void broadcast_scalar_cpu(const T* s, double alpha, T* y, int64_t n) {
  using C = compute_t<T>;
  const T v = store<T>(C(alpha) * load(s[0]));
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = v;
}

template <typename T>
void relu_forward_cpu(const T* x, T* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = store<T>(relu_forward_elem(load(x[i])));
}

template <typename T>
void relu_backward_cpu(const T* x, const T* dy, T* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = store<T>(relu_backward_elem(load(x[i]), load(dy[i])));
}

template <typename T>
void unary_forward_cpu(UnaryOp op, const T* x, T* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = store<T>(unary_forward_elem(op, load(x[i])));
}

template <typename T>
void unary_backward_cpu(UnaryOp op, const T* saved, const T* dy, T* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = store<T>(unary_backward_elem(op, load(saved[i]), load(dy[i])));
  }
}

#define LUMEN_INSTANTIATE(T)                                                     \
  template void binary_cpu<T>(BinaryOp, const T*, const T*, T*, int64_t);        \
  template void axpby_cpu<T>(double, const T*, double, T*, int64_t);             \
  template void scale_by_scalar_cpu<T>(const T*, const T*, double, T*, int64_t); \
  template void broadcast_scalar_cpu<T>(const T*, double, T*, int64_t);          \
  template void relu_forward_cpu<T>(const T*, T*, int64_t);                      \
  template void relu_backward_cpu<T>(const T*, const T*, T*, int64_t);           \
  template void unary_forward_cpu<T>(UnaryOp, const T*, T*, int64_t);            \
  template void unary_backward_cpu<T>(UnaryOp, const T*, const T*, T*, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
