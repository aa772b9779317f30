// View augmentations: both views of a u8 batch, straight into the model's layout and dtype.
// T in {float, double, bf16, f16}. The math is in kernels/augment.cuh.
#pragma once

#include <cstdint>

#include "kernels/augment.cuh"

namespace lumen::kernels {

// Every view v of every sample b, with parameters sampled from (seed, epoch, indices[b], v).
//   src:     (batch, src_h, src_w, 3) u8, NHWC RGB
//   indices: (batch) i64, each sample's dataset index
//   specs:   (views) the per-view configuration
//   out[v]:  (batch, specs[v].out_h, specs[v].out_w, 3) T, NHWC
template <typename T>
void augment_views_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const int64_t* indices, const AugmentViewSpec* specs, int views,
                       uint64_t seed, uint64_t epoch, T* const* out);

// The same pipeline with explicit parameters (fixtures, tests).
//   params: (views, batch) parameters of view v of sample b at params[v * batch + b]
template <typename T>
void augment_apply_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const ViewParams* params, const AugmentViewSpec* specs, int views,
                       T* const* out);

// The fused CUDA version of augment_views_cpu: one launch, one block per (sample, view); the block
// samples its parameters, reduces the contrast mean, writes the view and blurs it in place.
//   src, indices: device pointers as above; specs: host array (copied into the launch)
//   out[v]: device pointers (batch, out_h, out_w, 3) T
//   scratch: device floats, 2 * sum over views of batch * out_h * out_w * 3 (blur passes); may be
//            null when no view blurs (every blur_prob == 0)
// views <= kAugmentMaxViews.
constexpr int kAugmentMaxViews = 4;
template <typename T>
void augment_views_cuda(const uint8_t* src, int64_t batch, int src_h, int src_w,
                        const int64_t* indices, const AugmentViewSpec* specs, int views,
                        uint64_t seed, uint64_t epoch, T* const* out, float* scratch,
                        cudaStream_t stream);

}  // namespace lumen::kernels
