#include "kernels/launch.cuh"
#include "kernels/redundancy.h"

namespace lumen::kernels {

constexpr int kMatrixRowBlock = 256;  // one block per row

template <typename C>
__global__ void matrix_loss_rows_kernel(const C* m, int64_t d, MatrixLossParams p, C* row_loss,
                                        C* grad) {
  __shared__ C scratch[32];
  const int64_t i = blockIdx.x;
  C s = 0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    s += matrix_loss_elem(p, m[i * d + j], i == j, &grad[i * d + j]);
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) row_loss[i] = s;
}

template <typename C>
__global__ void squared_difference_rows_kernel(const C* a, const C* b, int64_t d, C scale,
                                               C* row_loss, C* da, C* db) {
  __shared__ C scratch[32];
  const int64_t r = blockIdx.x;
  C s = 0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const int64_t i = r * d + j;
    const C diff = a[i] - b[i];
    s += diff * diff;
    da[i] = C(2) * scale * diff;
    db[i] = -da[i];
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) row_loss[r] = scale * s;
}

template <typename C>
void matrix_loss_rows_cuda(const C* m, int64_t d, const MatrixLossParams& p, C* row_loss, C* grad,
                           cudaStream_t stream) {
  if (d == 0) return;
  matrix_loss_rows_kernel<<<unsigned(d), kMatrixRowBlock, 0, stream>>>(m, d, p, row_loss, grad);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void squared_difference_rows_cuda(const C* a, const C* b, int64_t n, int64_t d, double scale,
                                  C* row_loss, C* da, C* db, cudaStream_t stream) {
  if (n == 0) return;
  squared_difference_rows_kernel<<<unsigned(n), kMatrixRowBlock, 0, stream>>>(a, b, d, C(scale),
                                                                              row_loss, da, db);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                                      \
  template void matrix_loss_rows_cuda<C>(const C*, int64_t, const MatrixLossParams&, C*, C*,      \
                                         cudaStream_t);                                           \
  template void squared_difference_rows_cuda<C>(const C*, const C*, int64_t, int64_t, double, C*, \
                                                C*, C*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
