#include "kernels/optim.h"

namespace lumen::kernels {

namespace {

// Per-chunk partial sums of p^2 and g^2, then each segment's LARS weight decay and scale. The
// partials are summed in chunk order, as on the GPU.
template <typename C>
void lars_factors_of_all_segments(const C* param, const C* grad, const OptimizerSegment* segments,
                                  int64_t num_segments, const OptimizerChunk* chunks,
                                  int64_t num_chunks, C* segment_work, C* chunk_work,
                                  const OptimizerHyper& h) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < num_chunks; ++c) {
    C pp = 0, gg = 0;
    for (int64_t i = chunks[c].begin; i < chunks[c].end; ++i) {
      pp += param[i] * param[i];
      gg += grad[i] * grad[i];
    }
    chunk_work[2 * c] = pp;
    chunk_work[2 * c + 1] = gg;
  }
  for (int64_t s = 0; s < num_segments; ++s) {
    lars_segment_factors(segments[s], chunk_work, h, segment_work[2 * s], segment_work[2 * s + 1]);
  }
}

}  // namespace

template <typename C>
void optimizer_step_cpu(C* param, const C* grad, C* state0, C* state1,
                        const OptimizerSegment* segments, int64_t num_segments,
                        const OptimizerChunk* chunks, int64_t num_chunks, C* segment_work,
                        C* chunk_work, const OptimizerHyper* hyper) {
  const OptimizerHyper& h = *hyper;
  if (h.kind == OptimizerKind::lars) {
    lars_factors_of_all_segments(param, grad, segments, num_segments, chunks, num_chunks,
                                 segment_work, chunk_work, h);
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < num_chunks; ++c) {
    const int64_t s = chunks[c].segment;
    if (segments[s].frozen) continue;
    const C decay = C(segments[s].weight_decay), lr_scale = C(segments[s].lr_scale);
    for (int64_t i = chunks[c].begin; i < chunks[c].end; ++i) {
      optimizer_update(param[i], grad[i], state0 ? state0 + i : nullptr,
                       state1 ? state1 + i : nullptr, decay, lr_scale, segment_work, s, h);
    }
  }
}

#define LUMEN_INSTANTIATE(C)                                                                  \
  template void optimizer_step_cpu<C>(C*, const C*, C*, C*, const OptimizerSegment*, int64_t, \
                                      const OptimizerChunk*, int64_t, C*, C*,                 \
                                      const OptimizerHyper*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
