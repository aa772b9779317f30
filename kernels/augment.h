// View augmentations: every view of a u8 batch, straight into the model's layout and dtype.
// T in {float, double, bf16, f16}. The math is in kernels/augment.cuh, the fused CUDA kernel in
// kernels/augment_kernel.cuh.
#pragma once

#include <cstdint>

#include "kernels/augment.cuh"

namespace lumen::kernels {

// Every view v of every sample b, with parameters sampled from (seed, epoch, indices[b], v).
//   src:     (batch, src_h, src_w, 3) u8, NHWC RGB
//   indices: (batch) i64, each sample's dataset index
//   specs:   (views) the per-view configuration (views may differ in size)
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

// One view of a fused CUDA launch: its configuration, its index in the transform (which keys its
// random draws) and where it is written.
struct AugmentViewEntry {
  AugmentViewSpec spec;
  int view = 0;
  int64_t scratch_offset = 0;  // floats into the scratch buffer: this view's two blur planes
  void* out = nullptr;         // device (batch, spec.out_h, spec.out_w, 3) T
};

// Floats of blur scratch a view needs: 0 when it never blurs, else two planes of the batch.
inline int64_t augment_scratch_floats(const AugmentViewSpec& spec, int64_t batch) {
  return spec.blur_prob > 0.0f ? 2 * batch * int64_t(spec.out_h) * spec.out_w * 3 : 0;
}

// The fused CUDA version of augment_views_cpu for any number of views of any sizes: one block per
// (sample, view), which samples its parameters, reduces the contrast mean, writes the view and
// blurs it. The entries travel in the kernel's parameters, kAugmentLaunchViews per launch (one
// launch up to that many views, as many as needed beyond), so nothing is copied to the device
// first.
//   src, indices: device pointers as above; entries: host array of `count`
//   scratch: device floats, the sum of augment_scratch_floats over the entries (null when 0)
template <typename T>
void augment_views_cuda(const uint8_t* src, int64_t batch, int src_h, int src_w,
                        const int64_t* indices, const AugmentViewEntry* entries, int count,
                        uint64_t seed, uint64_t epoch, float* scratch, cudaStream_t stream);

}  // namespace lumen::kernels
