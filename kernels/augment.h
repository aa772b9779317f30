// View augmentations: every view of a u8 batch, straight into the model's layout and dtype.
// T in {float, double, bf16, f16}. The math is in kernels/augment.cuh, the fused CUDA kernel in
// kernels/augment_kernel.cuh.
#pragma once

#include <cstdint>

#include "kernels/augment.cuh"

namespace lumen::kernels {

// A custom stage on the CPU (augment/custom_stage.h makes them): called on each view of each
// sample after solarize and before normalize, concurrently for different (sample, view) pairs.
//   hwc: (h, w, 3) floats in [0, 1] as the view stands, changed in place
//   random: the stage's stream for this view of this sample (stage_random)
struct CpuViewStage {
  void (*apply)(const void* context, float* hwc, int h, int w, StageRandom& random) = nullptr;
  const void* context = nullptr;
};

// Every view v of every sample b, with parameters sampled from (seed, epoch, indices[b], v).
//   src:     (batch, src_h, src_w, 3) u8, NHWC RGB
//   indices: (batch) i64, each sample's dataset index
//   specs:   (views) the per-view configuration (views may differ in size)
//   out[v]:  (batch, specs[v].out_h, specs[v].out_w, 3) T, NHWC
//   stages:  null, or (views) with apply null where a view has no custom stage. An exception a
//            stage throws is rethrown once every task has finished.
template <typename T>
void augment_views_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const int64_t* indices, const AugmentViewSpec* specs, int views,
                       uint64_t seed, uint64_t epoch, T* const* out,
                       const CpuViewStage* stages = nullptr);

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

// The batch a fused CUDA launch augments.
struct AugmentBatch {
  const uint8_t* src = nullptr;  // device (batch, src_h, src_w, 3) u8
  int64_t batch = 0;
  int src_h = 0, src_w = 0;
  const int64_t* indices = nullptr;  // device (batch) i64
  uint64_t seed = 0, epoch = 0;
  float* scratch = nullptr;  // device, the sum of augment_scratch_floats over the entries (or null)
  cudaStream_t stream = nullptr;
};

// The fused CUDA version of augment_views_cpu for any number of views of any sizes, views
// without a custom stage: one block per (sample, view), which samples its parameters, reduces
// the contrast mean, writes the view and blurs it. The entries (a host array of `count`) travel
// in the kernel's parameters, up to 24 a launch (one launch up to that many views, one more per
// 24 beyond), so nothing is copied to the device first.
template <typename T>
void augment_views_cuda(const AugmentBatch& batch, const AugmentViewEntry* entries, int count);

// The same kernel compiled with a custom stage type (augment/custom_stage_cuda.cuh instantiates
// it in the user's .cu): `stages` holds `count` objects of that type, one per entry, as bytes.
using AugmentStageLaunch = void (*)(const AugmentBatch& batch, const AugmentViewEntry* entries,
                                    const unsigned char* stages, int count);

}  // namespace lumen::kernels
