// One fused optimizer step over a flat parameter buffer (see optim.cuh for the math).
// C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/optim.cuh"

namespace lumen::kernels {

// param, grad:   (total) C    the flat buffers (only the segments' elements are touched)
// state0:        (total) C    momentum buffer (SGD/LARS; null without momentum) or exp_avg (Adam)
// state1:        (total) C    exp_avg_sq (Adam, AdamW); null otherwise
// segments:      (num_segments) and chunks: (num_chunks), in memory the device can read
// segment_work:  (2 * num_segments) C   LARS only: per-parameter weight decay and scale
// chunk_work:    (2 * num_chunks) C     LARS only: per-chunk partial sums of p^2 and g^2
// hyper:         the step's scalars, in memory the device reads (read when the kernels run, so a
//                captured CUDA Graph picks up new values written there before each replay)
// kind:          (CUDA) the host's copy of hyper->kind, which decides the kernels launched
template <typename C>
void optimizer_step_cpu(C* param, const C* grad, C* state0, C* state1,
                        const OptimizerSegment* segments, int64_t num_segments,
                        const OptimizerChunk* chunks, int64_t num_chunks, C* segment_work,
                        C* chunk_work, const OptimizerHyper* hyper);
template <typename C>
void optimizer_step_cuda(C* param, const C* grad, C* state0, C* state1,
                         const OptimizerSegment* segments, int64_t num_segments,
                         const OptimizerChunk* chunks, int64_t num_chunks, C* segment_work,
                         C* chunk_work, OptimizerKind kind, const OptimizerHyper* hyper,
                         cudaStream_t stream);

}  // namespace lumen::kernels
