// k-center greedy steps (see kcenter.cuh for the rule). Shapes: n points of dimension d.
//   x: (n, d) f32 unit rows; norms: (n) f32 squared norms; distance: (n) f32, each point's distance
//   to its nearest selected point (+inf before the first); candidate: (n) u8, 1 while a point may
//   still be selected; weight: (n) f64 constant objectives (see kcenter.cuh) or null for none;
//   tie: (n) u32 seeded tie keys.
#pragma once

#include <cstdint>

#include "kernels/kcenter.cuh"

namespace lumen::kernels {

// CPU: updates the points [begin, begin + count) against m new centres from their dot products
// dots: (count, m) f32 and the centres' squared norms centre_norms: (m), then returns the best
// candidate among them (kcenter_none() when there is none). m = 0 only ranks them as they are.
KCenterKey kcenter_update_cpu(const float* dots, const float* centre_norms, int64_t m,
                              int64_t begin, int64_t count, const float* norms, float* distance,
                              uint8_t* candidate, const double* weight, const uint32_t* tie,
                              const KCenterObjective& objective);

// norms: (n) squared norms of the rows of x: (n, d).
void kcenter_norms_cpu(const float* x, int64_t n, int64_t d, float* norms);
void kcenter_norms_cuda(const float* x, int64_t n, int64_t d, float* norms, cudaStream_t stream);

// CUDA: step `step` of a selection whose picks go to selected: (steps) i64 on the device. Step 0
// ranks the candidates by their constant objectives alone (no distance yet); step s > 0 first
// updates every point against the point selected at step s - 1 (when that step found none, -1,
// nothing is done and step s finds none either), then ranks; the winner becomes selected[step]
// (-1 when there is no candidate left) and stops being a candidate. partial: scratch for
// kcenter_step_blocks() keys. Launches only; no host synchronisation.
int kcenter_step_blocks();
void kcenter_step_cuda(const float* x, const float* norms, int64_t n, int64_t d, float* distance,
                       uint8_t* candidate, const double* weight, const uint32_t* tie,
                       const KCenterObjective& objective, int64_t step, int64_t* selected,
                       KCenterKey* partial, cudaStream_t stream);

}  // namespace lumen::kernels
