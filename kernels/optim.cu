#include "kernels/launch.cuh"
#include "kernels/optim.h"

namespace lumen::kernels {

constexpr int kOptimizerBlock = 256;  // one block per chunk

template <typename C>
__global__ void lars_chunk_norms_kernel(const C* param, const C* grad, const OptimizerChunk* chunks,
                                        C* chunk_work) {
  __shared__ C scratch[32];
  const OptimizerChunk chunk = chunks[blockIdx.x];
  C pp = 0, gg = 0;
  for (int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) {
    pp += param[i] * param[i];
    gg += grad[i] * grad[i];
  }
  pp = block_sum(pp, scratch);
  gg = block_sum(gg, scratch);
  if (threadIdx.x == 0) {
    chunk_work[2 * blockIdx.x] = pp;
    chunk_work[2 * blockIdx.x + 1] = gg;
  }
}

template <typename C>
__global__ void lars_segment_factors_kernel(const OptimizerSegment* segments, int64_t num_segments,
                                            const C* chunk_work, C* segment_work,
                                            const OptimizerHyper* hyper) {
  const OptimizerHyper h = *hyper;
  LUMEN_GRID_STRIDE(s, num_segments) {
    const OptimizerSegment seg = segments[s];
    lars_segment_factors(seg, chunk_work, h, segment_work[2 * s], segment_work[2 * s + 1]);
  }
}

template <typename C>
__global__ void optimizer_step_kernel(C* param, const C* grad, C* state0, C* state1,
                                      const OptimizerSegment* segments,
                                      const OptimizerChunk* chunks, const C* segment_work,
                                      const OptimizerHyper* hyper) {
  const OptimizerHyper h = *hyper;
  const OptimizerChunk chunk = chunks[blockIdx.x];
  const int64_t s = chunk.segment;
  if (segments[s].frozen) return;
  const C decay = C(segments[s].weight_decay), lr_scale = C(segments[s].lr_scale);
  for (int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) {
    C p = param[i];
    optimizer_update(p, grad[i], state0 ? state0 + i : nullptr, state1 ? state1 + i : nullptr,
                     decay, lr_scale, segment_work, s, h);
    param[i] = p;
  }
}

template <typename C>
void optimizer_step_cuda(C* param, const C* grad, C* state0, C* state1,
                         const OptimizerSegment* segments, int64_t num_segments,
                         const OptimizerChunk* chunks, int64_t num_chunks, C* segment_work,
                         C* chunk_work, OptimizerKind kind, const OptimizerHyper* hyper,
                         cudaStream_t stream) {
  if (num_chunks == 0) return;
  if (kind == OptimizerKind::lars) {
    lars_chunk_norms_kernel<<<unsigned(num_chunks), kOptimizerBlock, 0, stream>>>(
        param, grad, chunks, chunk_work);
    LUMEN_LAUNCH_CHECK();
    lars_segment_factors_kernel<<<grid_for(num_segments), kBlock, 0, stream>>>(
        segments, num_segments, chunk_work, segment_work, hyper);
    LUMEN_LAUNCH_CHECK();
  }
  optimizer_step_kernel<<<unsigned(num_chunks), kOptimizerBlock, 0, stream>>>(
      param, grad, state0, state1, segments, chunks, segment_work, hyper);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                                   \
  template void optimizer_step_cuda<C>(C*, const C*, C*, C*, const OptimizerSegment*, int64_t, \
                                       const OptimizerChunk*, int64_t, C*, C*, OptimizerKind,  \
                                       const OptimizerHyper*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
