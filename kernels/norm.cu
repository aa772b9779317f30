#include "kernels/launch.cuh"
#include "kernels/norm.h"

namespace lumen::kernels {

constexpr int kRowBlock = 128;  // one block per row

template <typename T>
__global__ void l2_normalize_forward_kernel(const T* x, T* y, compute_t<T>* norm, compute_t<T> eps,
                                            int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * cols;
  C ss = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) ss += C(load(xr[j])) * C(load(xr[j]));
  ss = block_sum(ss, scratch);
  const C n = math_sqrt(ss);
  if (threadIdx.x == 0) norm[r] = n;
  const C inv = l2_inverse_norm(n, eps);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    y[r * cols + j] = store<T>(C(load(xr[j])) * inv);
  }
}

template <typename T>
__global__ void l2_normalize_backward_kernel(const T* y, const T* dy, const compute_t<T>* norm,
                                             T* dx, compute_t<T> eps, int64_t cols) {
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
    dx[i] = store<T>(l2_normalize_backward_elem(C(load(y[i])), C(load(dy[i])), dot, norm[r], eps));
  }
}

template <typename T>
__global__ void weight_norm_forward_kernel(const T* v, const T* g, T* w, compute_t<T>* norm,
                                           int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  const T* vr = v + r * cols;
  C ss = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) ss += C(load(vr[j])) * C(load(vr[j]));
  const C n = math_sqrt(block_sum(ss, scratch));
  if (threadIdx.x == 0) norm[r] = n;
  const C gr = load(g[r]);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    w[r * cols + j] = store<T>(weight_norm_elem(C(load(vr[j])), gr, n));
  }
}

template <typename T>
__global__ void weight_norm_backward_kernel(const T* v, const T* g, const T* dw,
                                            const compute_t<T>* norm, T* dv, T* dg, int64_t cols) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  C dot = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    dot += C(load(dw[r * cols + j])) * C(load(v[r * cols + j]));
  }
  const C grad_g = block_sum(dot, scratch) / norm[r];
  if (dg && threadIdx.x == 0) dg[r] = store<T>(grad_g);
  if (!dv) return;
  const C gr = load(g[r]);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const int64_t i = r * cols + j;
    dv[i] = store<T>(weight_norm_grad_v_elem(C(load(v[i])), C(load(dw[i])), gr, norm[r], grad_g));
  }
}

template <typename T>
void weight_norm_forward_cuda(const T* v, const T* g, T* w, compute_t<T>* norm, int64_t rows,
                              int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  weight_norm_forward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(v, g, w, norm, cols);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void weight_norm_backward_cuda(const T* v, const T* g, const T* dw, const compute_t<T>* norm, T* dv,
                               T* dg, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  weight_norm_backward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(v, g, dw, norm, dv, dg,
                                                                        cols);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void l2_normalize_forward_cuda(const T* x, T* y, compute_t<T>* norm, double eps, int64_t rows,
                               int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  l2_normalize_forward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(x, y, norm,
                                                                        compute_t<T>(eps), cols);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void l2_normalize_backward_cuda(const T* y, const T* dy, const compute_t<T>* norm, T* dx,
                                double eps, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  l2_normalize_backward_kernel<<<unsigned(rows), kRowBlock, 0, stream>>>(y, dy, norm, dx,
                                                                         compute_t<T>(eps), cols);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void l2_normalize_forward_cuda<T>(const T*, T*, compute_t<T>*, double, int64_t,         \
                                             int64_t, cudaStream_t);                               \
  template void l2_normalize_backward_cuda<T>(const T*, const T*, const compute_t<T>*, T*, double, \
                                              int64_t, int64_t, cudaStream_t);                     \
  template void weight_norm_forward_cuda<T>(const T*, const T*, T*, compute_t<T>*, int64_t,        \
                                            int64_t, cudaStream_t);                                \
  template void weight_norm_backward_cuda<T>(const T*, const T*, const T*, const compute_t<T>*,    \
                                             T*, T*, int64_t, int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
