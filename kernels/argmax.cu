#include "kernels/argmax.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

constexpr int kArgmaxBlock = 256;  // one block per row

template <typename C>
__device__ __forceinline__ ArgmaxState<C> warp_argmax(ArgmaxState<C> s) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    ArgmaxState<C> other{__shfl_xor_sync(0xffffffffu, s.value, offset),
                         __shfl_xor_sync(0xffffffffu, s.index, offset)};
    s = argmax_merge(s, other);
  }
  return s;
}

template <typename C>
__global__ void row_argmax_kernel(const C* x, int64_t cols, int64_t* index) {
  __shared__ ArgmaxState<C> scratch[32];
  const int64_t r = blockIdx.x;
  ArgmaxState<C> best = argmax_empty<C>();
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    best = argmax_merge(best, ArgmaxState<C>{x[r * cols + j], j});
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  best = warp_argmax(best);
  if (lane == 0) scratch[warp] = best;
  __syncthreads();
  if (warp == 0) {
    best = lane < warps ? scratch[lane] : argmax_empty<C>();
    best = warp_argmax(best);
    if (lane == 0) index[r] = best.index;
  }
}

template <typename C>
void row_argmax_cuda(const C* x, int64_t rows, int64_t cols, int64_t* index, cudaStream_t stream) {
  if (rows == 0) return;
  row_argmax_kernel<<<unsigned(rows), kArgmaxBlock, 0, stream>>>(x, cols, index);
  LUMEN_LAUNCH_CHECK();
}

template void row_argmax_cuda<float>(const float*, int64_t, int64_t, int64_t*, cudaStream_t);
template void row_argmax_cuda<double>(const double*, int64_t, int64_t, int64_t*, cudaStream_t);

}  // namespace lumen::kernels
