#include "kernels/launch.cuh"
#include "kernels/reduce.h"

namespace lumen::kernels {

// Pass 1: block b sums a strided share of x into partial[b].
template <typename T>
__global__ void sum_partial_kernel(const T* x, int64_t n, compute_t<T>* partial) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  C v = 0;
  LUMEN_GRID_STRIDE(i, n) v += load(x[i]);
  v = block_sum(v, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = v;
}
// Pass 2: one block sums the partials.
template <typename T>
__global__ void sum_final_kernel(const compute_t<T>* partial, int blocks, compute_t<T> alpha,
                                 T* out) {
  using C = compute_t<T>;
  __shared__ C scratch[32];
  C v = 0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) v += partial[i];
  v = block_sum(v, scratch);
  if (threadIdx.x == 0) out[0] = store<T>(alpha * v);
}

template <typename T>
void sum_cuda(const T* x, int64_t n, double alpha, T* out, compute_t<T>* workspace,
              cudaStream_t stream) {
  int blocks = int(grid_for(n));
  if (blocks > kSumWorkspace) blocks = int(kSumWorkspace);
  sum_partial_kernel<<<blocks, kBlock, 0, stream>>>(x, n, workspace);
  LUMEN_LAUNCH_CHECK();
  sum_final_kernel<<<1, 1024, 0, stream>>>(workspace, blocks, compute_t<T>(alpha), out);
  LUMEN_LAUNCH_CHECK();
}

template void sum_cuda<float>(const float*, int64_t, double, float*, float*, cudaStream_t);
template void sum_cuda<double>(const double*, int64_t, double, double*, double*, cudaStream_t);
template void sum_cuda<bf16>(const bf16*, int64_t, double, bf16*, float*, cudaStream_t);
template void sum_cuda<f16>(const f16*, int64_t, double, f16*, float*, cudaStream_t);

}  // namespace lumen::kernels
