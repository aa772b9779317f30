// Launch helpers for the CUDA kernels (include from .cu files only).
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lumen::kernels {

constexpr int kBlock = 256;

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
inline unsigned grid_for(int64_t n, int block = kBlock) {
  int64_t blocks = (n + block - 1) / block;
  if (blocks > 65535LL * 16) blocks = 65535LL * 16;
  return unsigned(blocks < 1 ? 1 : blocks);
}

#define LUMEN_GRID_STRIDE(i, n)                                             \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(blockDim.x) * gridDim.x)

}  // namespace lumen::kernels

namespace lumen::kernels {

#if defined(__CUDACC__)
template <typename C>
__device__ __forceinline__ C warp_sum(C v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
template <typename C>
__device__ __forceinline__ C warp_max(C v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    C other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = other > v ? other : v;
  }
  return v;
}
// Sum / max over the whole block; every thread receives the result. blockDim.x must be a multiple
// of 32 and at most 1024. `scratch` holds 32 values of C in shared memory.
template <typename C>
__device__ C block_sum(C v, C* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : C(0);
  return warp_sum(v);
}
template <typename C>
__device__ C block_max(C v, C* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : scratch[0];
  return warp_max(v);
}
#endif

}  // namespace lumen::kernels
