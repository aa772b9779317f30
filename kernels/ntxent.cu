#include "kernels/launch.cuh"
#include "kernels/ntxent.h"

namespace lumen::kernels {

constexpr int kNtxentBlock = 256;  // one block per anchor row

template <typename C>
__global__ void ntxent_rows_kernel(C* sim, C* row_loss, int64_t n, int64_t cols, int64_t col_offset,
                                   C inv_t, C scale) {
  __shared__ LseState<C> scratch[32];
  const int64_t r = blockIdx.x;
  C* s = sim + r * cols;
  const int64_t self = ntxent_self_column(r, col_offset);
  const int64_t pos = ntxent_positive_column(r, n, col_offset);
  LseState<C> state = lse_empty<C>();
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    if (j != self) state = lse_add(state, s[j] * inv_t);
  }
  const C lse = lse_value(block_lse(state, scratch));
  const C positive = s[pos];  // read by every thread before anyone overwrites the row
  __syncthreads();
  if (threadIdx.x == 0) row_loss[r] = lse - positive * inv_t;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    s[j] = j == self ? C(0) : ntxent_similarity_grad(s[j], lse, inv_t, j == pos, scale);
  }
}

template <typename C>
__global__ void ntxent_bank_rows_kernel(const C* z0, const C* z1, C* sim_neg, C* pos_grad,
                                        C* row_loss, int64_t dim, int64_t bank, C inv_t, C scale) {
  __shared__ C sum_scratch[32];
  __shared__ LseState<C> scratch[32];
  const int64_t r = blockIdx.x;
  C dot = 0;
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) dot += z0[r * dim + k] * z1[r * dim + k];
  const C positive = block_sum(dot, sum_scratch);
  C* s = sim_neg + r * bank;
  LseState<C> state = threadIdx.x == 0 ? lse_add(lse_empty<C>(), positive * inv_t) : lse_empty<C>();
  for (int64_t j = threadIdx.x; j < bank; j += blockDim.x) state = lse_add(state, s[j] * inv_t);
  const C lse = lse_value(block_lse(state, scratch));
  if (threadIdx.x == 0) {
    row_loss[r] = lse - positive * inv_t;
    pos_grad[r] = ntxent_similarity_grad(positive, lse, inv_t, true, scale);
  }
  for (int64_t j = threadIdx.x; j < bank; j += blockDim.x) {
    s[j] = ntxent_similarity_grad(s[j], lse, inv_t, false, scale);
  }
}

template <typename C>
__global__ void ntxent_positive_backward_kernel(const C* z0, const C* z1, const C* pos_grad, C* dz0,
                                                C* dz1, int64_t n, int64_t dim) {
  LUMEN_GRID_STRIDE(i, n * dim) {
    const C g = pos_grad[i / dim];
    dz0[i] += g * z1[i];
    dz1[i] = g * z0[i];
  }
}

template <typename C>
void ntxent_rows_cuda(C* sim, C* row_loss, int64_t n, int64_t cols, int64_t col_offset,
                      double inv_temperature, double grad_scale, cudaStream_t stream) {
  if (n == 0) return;
  ntxent_rows_kernel<<<unsigned(2 * n), kNtxentBlock, 0, stream>>>(
      sim, row_loss, n, cols, col_offset, C(inv_temperature), C(grad_scale));
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void ntxent_bank_rows_cuda(const C* z0, const C* z1, C* sim_neg, C* pos_grad, C* row_loss,
                           int64_t n, int64_t dim, int64_t bank, double inv_temperature,
                           double grad_scale, cudaStream_t stream) {
  if (n == 0) return;
  ntxent_bank_rows_kernel<<<unsigned(n), kNtxentBlock, 0, stream>>>(
      z0, z1, sim_neg, pos_grad, row_loss, dim, bank, C(inv_temperature), C(grad_scale));
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void ntxent_positive_backward_cuda(const C* z0, const C* z1, const C* pos_grad, C* dz0, C* dz1,
                                   int64_t n, int64_t dim, cudaStream_t stream) {
  if (n * dim == 0) return;
  ntxent_positive_backward_kernel<<<grid_for(n * dim), kBlock, 0, stream>>>(z0, z1, pos_grad, dz0,
                                                                            dz1, n, dim);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                                    \
  template void ntxent_rows_cuda<C>(C*, C*, int64_t, int64_t, int64_t, double, double,          \
                                    cudaStream_t);                                              \
  template void ntxent_bank_rows_cuda<C>(const C*, const C*, C*, C*, C*, int64_t, int64_t,      \
                                         int64_t, double, double, cudaStream_t);                \
  template void ntxent_positive_backward_cuda<C>(const C*, const C*, const C*, C*, C*, int64_t, \
                                                 int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
