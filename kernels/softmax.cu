#include "kernels/launch.cuh"
#include "kernels/softmax.h"

namespace lumen::kernels {

constexpr int kRowBlock = 256;  // one block per row

template <typename T>
__device__ compute_t<T> block_row_lse(const T* xr, int64_t cols, compute_t<T>* scratch) {
  using C = compute_t<T>;
  C m = -INFINITY;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, C(load(xr[j])));
  m = block_max(m, scratch);
  C s = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += exp_shifted(C(load(xr[j])), m);
  s = block_sum(s, scratch);
  return m + math_log(s);
}

template <typename T>
__global__ void log_softmax_forward_kernel(const T* x, T* y, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  const C lse = block_row_lse(x + r * cols, cols, scratch);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    y[r * cols + j] = store<T>(log_softmax_elem(C(load(x[r * cols + j])), lse));
  }
}

template <typename T>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  const C lse = block_row_lse(x + r * cols, cols, scratch);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    y[r * cols + j] = store<T>(softmax_elem(C(load(x[r * cols + j])), lse));
  }
}

template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  C dot = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    dot += C(load(y[r * cols + j])) * C(load(dy[r * cols + j]));
  }
  dot = block_sum(dot, scratch);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const int64_t i = r * cols + j;
    dx[i] = store<T>(softmax_backward_elem(C(load(y[i])), C(load(dy[i])), dot));
  }
}

template <typename T>
__global__ void log_softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  C s = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += load(dy[r * cols + j]);
  s = block_sum(s, scratch);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const int64_t i = r * cols + j;
    dx[i] = store<T>(log_softmax_backward_elem(C(load(y[i])), C(load(dy[i])), s));
  }
}

template <typename T>
__global__ void cross_entropy_kernel(const T* x, const int64_t* target, compute_t<T>* loss, T* dx,
                                     compute_t<T> grad_scale, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * cols;
  const int64_t t = target[r];
  const C lse = block_row_lse(xr, cols, scratch);
  const bool valid = t >= 0 && t < cols;
  if (threadIdx.x == 0) loss[r] = valid ? lse - C(load(xr[t])) : C(NAN);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    dx[r * cols + j] = store<T>(cross_entropy_grad_elem(C(load(xr[j])), lse, j == t, grad_scale));
  }
}

template <typename T>
void log_softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  log_softmax_forward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(x, y, cols);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void log_softmax_backward_cuda(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols,
                               cudaStream_t stream) {
  if (rows == 0) return;
  log_softmax_backward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(y, dy, dx, cols);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  softmax_forward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(x, y, cols);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void softmax_backward_cuda(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols,
                           cudaStream_t stream) {
  if (rows == 0) return;
  softmax_backward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(y, dy, dx, cols);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void cross_entropy_cuda(const T* x, const int64_t* target, compute_t<T>* loss, T* dx,
                        double grad_scale, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  cross_entropy_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(x, target, loss, dx,
                                                                 compute_t<T>(grad_scale), cols);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                      \
  template void log_softmax_forward_cuda<T>(const T*, T*, int64_t, int64_t, cudaStream_t);        \
  template void log_softmax_backward_cuda<T>(const T*, const T*, T*, int64_t, int64_t,            \
                                             cudaStream_t);                                       \
  template void softmax_forward_cuda<T>(const T*, T*, int64_t, int64_t, cudaStream_t);            \
  template void softmax_backward_cuda<T>(const T*, const T*, T*, int64_t, int64_t, cudaStream_t); \
  template void cross_entropy_cuda<T>(const T*, const int64_t*, compute_t<T>*, T*, double,        \
                                      int64_t, int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
