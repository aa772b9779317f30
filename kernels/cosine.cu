#include "kernels/cosine.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

constexpr int kCosineBlock = 128;  // one block per row

template <typename T>
__global__ void cosine_rows_forward_kernel(const T* x, const T* y, compute_t<T>* cos,
                                           compute_t<T>* norm_x, compute_t<T>* norm_y, int64_t dim,
                                           compute_t<T> eps) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  C dot = 0, xx = 0, yy = 0;
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) {
    const C a = load(x[r * dim + k]), b = load(y[r * dim + k]);
    dot += a * b;
    xx += a * a;
    yy += b * b;
  }
  dot = block_sum(dot, scratch);
  xx = block_sum(xx, scratch);
  yy = block_sum(yy, scratch);
  if (threadIdx.x == 0) {
    const C nx = math_sqrt(xx), ny = math_sqrt(yy);
    norm_x[r] = nx;
    norm_y[r] = ny;
    cos[r] = cosine_from_sums(dot, nx, ny, eps);
  }
}

template <typename T>
__global__ void cosine_rows_backward_kernel(const T* x, const T* y, const compute_t<T>* cos,
                                            const compute_t<T>* norm_x, const compute_t<T>* norm_y,
                                            const compute_t<T>* grad, compute_t<T> scale, T* dx,
                                            T* dy, int64_t rows, int64_t dim, compute_t<T> eps) {
  using C = compute_t<T>;
  const C g = grad[0] * scale;
  LUMEN_GRID_STRIDE(i, rows * dim) {
    const int64_t r = i / dim;
    const C a = load(x[i]), b = load(y[i]);
    if (dx) dx[i] = store<T>(g * cosine_grad_elem(a, b, cos[r], norm_x[r], norm_y[r], eps));
    if (dy) dy[i] = store<T>(g * cosine_grad_elem(b, a, cos[r], norm_y[r], norm_x[r], eps));
  }
}

template <typename T>
void cosine_rows_forward_cuda(const T* x, const T* y, compute_t<T>* cos, compute_t<T>* norm_x,
                              compute_t<T>* norm_y, int64_t rows, int64_t dim, double eps,
                              cudaStream_t stream) {
  if (rows == 0) return;
  cosine_rows_forward_kernel<<<unsigned(rows), kCosineBlock, 0, stream>>>(x, y, cos, norm_x, norm_y,
                                                                          dim, compute_t<T>(eps));
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void cosine_rows_backward_cuda(const T* x, const T* y, const compute_t<T>* cos,
                               const compute_t<T>* norm_x, const compute_t<T>* norm_y,
                               const compute_t<T>* grad, double scale, T* dx, T* dy, int64_t rows,
                               int64_t dim, double eps, cudaStream_t stream) {
  if (rows * dim == 0) return;
  cosine_rows_backward_kernel<<<grid_for(rows * dim), kBlock, 0, stream>>>(
      x, y, cos, norm_x, norm_y, grad, compute_t<T>(scale), dx, dy, rows, dim, compute_t<T>(eps));
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                  \
  template void cosine_rows_forward_cuda<T>(const T*, const T*, compute_t<T>*, compute_t<T>*, \
                                            compute_t<T>*, int64_t, int64_t, double,          \
                                            cudaStream_t);                                    \
  template void cosine_rows_backward_cuda<T>(                                                 \
      const T*, const T*, const compute_t<T>*, const compute_t<T>*, const compute_t<T>*,      \
      const compute_t<T>*, double, T*, T*, int64_t, int64_t, double, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
