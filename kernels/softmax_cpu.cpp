#include <algorithm>
#include <cmath>

#include "kernels/softmax.h"

namespace lumen::kernels {

namespace {
template <typename T>
compute_t<T> row_lse(const T* x, int64_t cols) {
  using C = compute_t<T>;
  C m = -INFINITY;
  for (int64_t j = 0; j < cols; ++j) m = std::max(m, C(load(x[j])));
  C s = 0;
  for (int64_t j = 0; j < cols; ++j) s += exp_shifted(C(load(x[j])), m);
  return m + math_log(s);
}
}  // namespace

template <typename T>
void log_softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const auto lse = row_lse(xr, cols);
    for (int64_t j = 0; j < cols; ++j)
      y[r * cols + j] = store<T>(log_softmax_elem(load(xr[j]), lse));
  }
}

template <typename T>
void softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const auto lse = row_lse(xr, cols);
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = store<T>(softmax_elem(load(xr[j]), lse));
  }
}

template <typename T>
void softmax_backward_cpu(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += C(load(y[r * cols + j])) * C(load(dy[r * cols + j]));
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      dx[i] = store<T>(softmax_backward_elem(C(load(y[i])), C(load(dy[i])), dot));
    }
  }
}

template <typename T>
void log_softmax_backward_cpu(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols) {
  using C = compute_t<T>;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    C sum_dy = 0;
    for (int64_t j = 0; j < cols; ++j) sum_dy += load(dy[r * cols + j]);
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      dx[i] = store<T>(log_softmax_backward_elem(C(load(y[i])), C(load(dy[i])), sum_dy));
    }
  }
}

template <typename T>
void cross_entropy_cpu(const T* x, const int64_t* target, compute_t<T>* loss, T* dx,
                       double grad_scale, int64_t rows, int64_t cols) {
  using C = compute_t<T>;
  for (int64_t r = 0; r < rows; ++r) {
    LUMEN_CHECK(target[r] >= 0 && target[r] < cols, "cross_entropy: target ", target[r], " of row ",
                r, " is outside [0, ", cols, ")");
  }
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const C lse = row_lse(xr, cols);
    loss[r] = lse - C(load(xr[target[r]]));
    for (int64_t j = 0; j < cols; ++j) {
      dx[r * cols + j] =
          store<T>(cross_entropy_grad_elem(C(load(xr[j])), lse, j == target[r], C(grad_scale)));
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void log_softmax_forward_cpu<T>(const T*, T*, int64_t, int64_t);                        \
  template void log_softmax_backward_cpu<T>(const T*, const T*, T*, int64_t, int64_t);             \
  template void softmax_forward_cpu<T>(const T*, T*, int64_t, int64_t);                            \
  template void softmax_backward_cpu<T>(const T*, const T*, T*, int64_t, int64_t);                 \
  template void cross_entropy_cpu<T>(const T*, const int64_t*, compute_t<T>*, T*, double, int64_t, \
                                     int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
