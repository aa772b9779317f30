#include "kernels/kcenter.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

namespace {

constexpr int kStepThreads = 256;  // 8 warps, one point per warp at a time
constexpr int kStepBlocks = 1024;  // partial keys per step, reduced by one block

__device__ __forceinline__ KCenterKey shuffle_key(const KCenterKey& k, int offset) {
  KCenterKey o;
  o.score = __shfl_xor_sync(0xffffffffu, k.score, offset);
  o.tie = __shfl_xor_sync(0xffffffffu, k.tie, offset);
  o.index = __shfl_xor_sync(0xffffffffu, k.index, offset);
  return o;
}

__device__ __forceinline__ KCenterKey warp_best(KCenterKey k) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const KCenterKey other = shuffle_key(k, offset);
    if (kcenter_better(other, k)) k = other;
  }
  return k;
}

// The best key of the block (valid in thread 0).
__device__ KCenterKey block_best(KCenterKey k) {
  __shared__ KCenterKey warps[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  k = warp_best(k);
  if (lane == 0) warps[warp] = k;
  __syncthreads();
  if (warp == 0) {
    k = lane < int(blockDim.x >> 5) ? warps[lane] : kcenter_none();
    k = warp_best(k);
  }
  return k;
}

// Updates every point against the centre selected at step - 1 (step > 0) and writes each block's
// best candidate to partial[blockIdx.x]. One warp per point: the lanes share the dot product.
__global__ void kcenter_rank_kernel(const float* x, const float* norms, int64_t n, int64_t d,
                                    float* distance, uint8_t* candidate, const double* weight,
                                    const uint32_t* tie, KCenterObjective objective, int64_t step,
                                    const int64_t* selected, KCenterKey* partial) {
  extern __shared__ float centre[];  // (d)
  const int64_t c = step > 0 ? selected[step - 1] : -1;
  KCenterKey best = kcenter_none();
  if (step == 0 || c >= 0) {
    if (c >= 0) {
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) centre[j] = x[c * d + j];
    }
    __syncthreads();
    const float centre_norm = c >= 0 ? norms[c] : 0.0f;
    const int lane = threadIdx.x & 31;
    const int64_t warps = int64_t(gridDim.x) * (blockDim.x >> 5);
    for (int64_t i = int64_t(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5); i < n;
         i += warps) {
      if (!candidate[i]) continue;  // the same for the whole warp
      float dot = 0.0f;
      if (c >= 0) {
        for (int64_t j = lane; j < d; j += 32) dot += x[i * d + j] * centre[j];
        for (int offset = 16; offset > 0; offset >>= 1) {
          dot += __shfl_xor_sync(0xffffffffu, dot, offset);
        }
      }
      if (lane != 0) continue;
      const double w = weight ? weight[i] : 0.0;
      if (c < 0) {  // step 0: no distances yet
        const KCenterKey key{w, tie[i], i};
        if (kcenter_better(key, best)) best = key;
        continue;
      }
      const float dist = kcenter_distance(norms[i], centre_norm, dot);
      const float nearest = dist < distance[i] ? dist : distance[i];
      distance[i] = nearest;
      if (!kcenter_eligible(nearest, objective)) {
        candidate[i] = 0;
        continue;
      }
      const KCenterKey key{kcenter_score(nearest, w, objective), tie[i], i};
      if (kcenter_better(key, best)) best = key;
    }
  }
  best = block_best(best);
  if (threadIdx.x == 0) partial[blockIdx.x] = best;
}

// One block: the best of the partial keys becomes selected[step] and stops being a candidate.
__global__ void kcenter_pick_kernel(const KCenterKey* partial, int blocks, int64_t step,
                                    int64_t* selected, uint8_t* candidate) {
  KCenterKey best = kcenter_none();
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
    if (kcenter_better(partial[b], best)) best = partial[b];
  }
  best = block_best(best);
  if (threadIdx.x == 0) {
    selected[step] = best.index;
    if (best.index >= 0) candidate[best.index] = 0;
  }
}

__global__ void kcenter_norms_kernel(const float* x, int64_t n, int64_t d, float* norms) {
  LUMEN_GRID_STRIDE(i, n) {
    float s = 0.0f;
    for (int64_t j = 0; j < d; ++j) s += x[i * d + j] * x[i * d + j];
    norms[i] = s;
  }
}

}  // namespace

void kcenter_norms_cuda(const float* x, int64_t n, int64_t d, float* norms, cudaStream_t stream) {
  if (n == 0) return;
  kcenter_norms_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, n, d, norms);
  LUMEN_LAUNCH_CHECK();
}

int kcenter_step_blocks() { return kStepBlocks; }

void kcenter_step_cuda(const float* x, const float* norms, int64_t n, int64_t d, float* distance,
                       uint8_t* candidate, const double* weight, const uint32_t* tie,
                       const KCenterObjective& objective, int64_t step, int64_t* selected,
                       KCenterKey* partial, cudaStream_t stream) {
  const size_t shared = size_t(d) * sizeof(float);
  LUMEN_CHECK(shared <= 48 * 1024, "kcenter_step_cuda: dimension ", d, " above ", 48 * 1024 / 4);
  kcenter_rank_kernel<<<kStepBlocks, kStepThreads, shared, stream>>>(
      x, norms, n, d, distance, candidate, weight, tie, objective, step, selected, partial);
  LUMEN_LAUNCH_CHECK();
  kcenter_pick_kernel<<<1, 1024, 0, stream>>>(partial, kStepBlocks, step, selected, candidate);
  LUMEN_LAUNCH_CHECK();
}

}  // namespace lumen::kernels
