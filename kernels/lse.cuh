// A running log-sum-exp as (max, sum of exp(x - max)), shared by the fused contrastive losses
// (NT-Xent, DCL). Merging two states is associative, so CPU loops and CUDA blocks can reduce in any
// order. The log-sum-exp of nothing is -inf. C is the compute type (float or double).
#pragma once

#include <cmath>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
struct LseState {
  C max;
  C sum;
};
template <typename C>
LUMEN_HD LseState<C> lse_empty() {
  return LseState<C>{C(-INFINITY), C(0)};
}
template <typename C>
LUMEN_HD LseState<C> lse_add(LseState<C> s, C x) {
  if (x <= s.max) return LseState<C>{s.max, s.sum + math_exp(x - s.max)};
  return LseState<C>{x, s.sum * math_exp(s.max - x) + C(1)};
}
template <typename C>
LUMEN_HD LseState<C> lse_merge(LseState<C> a, LseState<C> b) {
  if (b.sum == C(0)) return a;
  if (a.sum == C(0)) return b;
  if (a.max >= b.max) return LseState<C>{a.max, a.sum + b.sum * math_exp(b.max - a.max)};
  return LseState<C>{b.max, b.sum + a.sum * math_exp(a.max - b.max)};
}
template <typename C>
LUMEN_HD C lse_value(LseState<C> s) {
  return s.max + math_log(s.sum);
}

#if defined(__CUDACC__)
template <typename C>
__device__ __forceinline__ LseState<C> warp_lse(LseState<C> s) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    LseState<C> other{__shfl_xor_sync(0xffffffffu, s.max, offset),
                      __shfl_xor_sync(0xffffffffu, s.sum, offset)};
    s = lse_merge(s, other);
  }
  return s;
}

// Log-sum-exp state over the whole block; every thread receives it. blockDim.x: a multiple of 32,
// at most 1024. scratch: 32 states in shared memory.
template <typename C>
__device__ LseState<C> block_lse(LseState<C> s, LseState<C>* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  s = warp_lse(s);
  __syncthreads();
  if (lane == 0) scratch[warp] = s;
  __syncthreads();
  s = lane < warps ? scratch[lane] : lse_empty<C>();
  return warp_lse(s);
}
#endif

}  // namespace lumen::kernels
