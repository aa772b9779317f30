#include "kernels/dcl.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

constexpr int kDclBlock = 256;  // one block per anchor row; one block for the weights

template <typename C>
__global__ void dcl_rows_kernel(C* sim, const C* weights, C* row_loss, int64_t n, int64_t cols,
                                int64_t col_offset, C inv_t, C scale) {
  __shared__ LseState<C> scratch[32];
  const int64_t r = blockIdx.x;
  C* s = sim + r * cols;
  const int64_t self = ntxent_self_column(r, col_offset);
  const int64_t pos = ntxent_positive_column(r, n, col_offset);
  LseState<C> state = lse_empty<C>();
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    if (j != self && j != pos) state = lse_add(state, s[j] * inv_t);
  }
  const C lse = lse_value(block_lse(state, scratch));
  const C w = weights ? weights[r % n] : C(1);
  const C positive = s[pos];  // read by every thread before anyone overwrites the row
  __syncthreads();
  if (threadIdx.x == 0) row_loss[r] = lse - w * positive * inv_t;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    s[j] = j == self  ? C(0)
           : j == pos ? -w * inv_t * scale
                      : dcl_negative_grad(s[j], lse, inv_t, scale);
  }
}

template <typename C>
__global__ void dcl_vmf_weights_kernel(const C* sim, C* weights, int64_t n, int64_t cols,
                                       int64_t col_offset, C inv_s) {
  __shared__ LseState<C> scratch[32];
  LseState<C> state = lse_empty<C>();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    state = lse_add(state, sim[i * cols + ntxent_positive_column(i, n, col_offset)] * inv_s);
  }
  const C lse = lse_value(block_lse(state, scratch));
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    weights[i] =
        dcl_vmf_weight(sim[i * cols + ntxent_positive_column(i, n, col_offset)] * inv_s, lse, n);
  }
}

template <typename C>
void dcl_rows_cuda(C* sim, const C* weights, C* row_loss, int64_t n, int64_t cols,
                   int64_t col_offset, double inv_temperature, double grad_scale,
                   cudaStream_t stream) {
  if (n == 0) return;
  dcl_rows_kernel<<<unsigned(2 * n), kDclBlock, 0, stream>>>(
      sim, weights, row_loss, n, cols, col_offset, C(inv_temperature), C(grad_scale));
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void dcl_vmf_weights_cuda(const C* sim, C* weights, int64_t n, int64_t cols, int64_t col_offset,
                          double inv_sigma, cudaStream_t stream) {
  if (n == 0) return;
  dcl_vmf_weights_kernel<<<1, kDclBlock, 0, stream>>>(sim, weights, n, cols, col_offset,
                                                      C(inv_sigma));
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                                  \
  template void dcl_rows_cuda<C>(C*, const C*, C*, int64_t, int64_t, int64_t, double, double, \
                                 cudaStream_t);                                               \
  template void dcl_vmf_weights_cuda<C>(const C*, C*, int64_t, int64_t, int64_t, double,      \
                                        cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
