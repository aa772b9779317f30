#include "kernels/launch.cuh"
#include "kernels/soft_targets.h"

namespace lumen::kernels {

constexpr int kSoftTargetBlock = 256;  // one block per row

template <typename C>
__global__ void soft_target_ce_rows_kernel(const C* z, const C* q, int views, int skip, C weight,
                                           C temperature, int64_t rows, int64_t k, C* row_loss,
                                           C* dz) {
  __shared__ LseState<C> lse_scratch[32];
  __shared__ C scratch[32];
  const int64_t b = blockIdx.x;
  const C* zb = z + b * k;
  const int64_t stride = rows * k;
  LseState<C> s = lse_empty<C>();
  C target_sum = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    s = lse_add(s, zb[j] / temperature);
    target_sum += soft_target(q, views, skip, stride, b * k + j, weight);
  }
  const C lse = lse_value(block_lse(s, lse_scratch));
  target_sum = block_sum(target_sum, scratch);
  C loss = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    const C y = zb[j] / temperature,
            target = soft_target(q, views, skip, stride, b * k + j, weight);
    loss += target * (lse - y);
    dz[b * k + j] = soft_target_grad_elem(y, lse, target_sum, target, temperature);
  }
  loss = block_sum(loss, scratch);
  if (threadIdx.x == 0) row_loss[b] = loss;
}

template <typename C>
__global__ void centered_softmax_rows_kernel(const C* x, const C* center, C temperature, int64_t k,
                                             C* p) {
  __shared__ LseState<C> lse_scratch[32];
  const int64_t r = blockIdx.x;
  const C* xr = x + r * k;
  LseState<C> s = lse_empty<C>();
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    s = lse_add(s, (xr[j] - center[j]) / temperature);
  }
  const C lse = lse_value(block_lse(s, lse_scratch));
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    p[r * k + j] = math_exp((xr[j] - center[j]) / temperature - lse);
  }
}

template <typename C>
void soft_target_ce_rows_cuda(const C* z, const C* q, int views, int skip, double weight,
                              double temperature, int64_t rows, int64_t k, C* row_loss, C* dz,
                              cudaStream_t stream) {
  if (rows == 0) return;
  soft_target_ce_rows_kernel<<<unsigned(rows), kSoftTargetBlock, 0, stream>>>(
      z, q, views, skip, C(weight), C(temperature), rows, k, row_loss, dz);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void centered_softmax_rows_cuda(const C* x, const C* center, double temperature, int64_t rows,
                                int64_t k, C* p, cudaStream_t stream) {
  if (rows == 0) return;
  centered_softmax_rows_kernel<<<unsigned(rows), kSoftTargetBlock, 0, stream>>>(
      x, center, C(temperature), k, p);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                                       \
  template void soft_target_ce_rows_cuda<C>(const C*, const C*, int, int, double, double, int64_t, \
                                            int64_t, C*, C*, cudaStream_t);                        \
  template void centered_softmax_rows_cuda<C>(const C*, const C*, double, int64_t, int64_t, C*,    \
                                              cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
