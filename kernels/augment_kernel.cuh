// The fused view kernel (include from .cu files only): one block per (sample, view), as many views
// of any sizes as a launch's table holds.
//   1. thread 0 copies its view's entry (and custom stage) into shared memory, samples the view's
//      parameters (the sampler the CPU uses), the blur weights and the stage's parameters
//   2. when contrast applies: a block reduction (in double) of the grayscale image as it stands
//      before contrast, giving the mean contrast blends with
//   3. every pixel: crop + resize from the u8 source, flips, rotation, jitter, grayscale; without
//      blur, solarize + [custom stage +] normalize + store straight into the output
//   4. with blur: the staged view goes to global scratch, then a horizontal pass and a vertical
//      pass (which also solarizes, [runs the custom stage,] normalizes and stores);
//      __syncthreads makes the block's global writes visible to the block between passes.
// Blocks run view-fastest (block i: view i % count of sample i / count), so the views of one
// sample read its source image close together in time.
//
// Stage is NoStage (the library's launch) or a pointwise custom stage type (see
// augment/custom_stage.h): `Stage::Params sample(StageRandom&) const` runs once per view on thread
// 0, `void pixel(const Params&, const PixelAt&, const StageRandom&, float rgb[3]) const` on every
// pixel after solarize. One launch serves the views of one Stage type, each with its own object.
// Compile without FMA contraction (--fmad=false) for the float arithmetic to round exactly like
// the CPU loops of augment_cpu.cpp.
#pragma once

#include <cstring>
#include <type_traits>

#include "kernels/augment.h"
#include "kernels/half.cuh"
#include "kernels/launch.cuh"

namespace lumen::kernels {

constexpr int kAugmentViewBlock = 256;
// The table travels in the kernel's parameters, within the classic 4 KiB limit: 24 views a
// launch, fewer when each carries a large custom stage object.
constexpr size_t kAugmentTableBytes = 3584;
constexpr int kAugmentLaunchViews = 24;
template <typename Stage>
constexpr int augment_launch_views() {
  if (std::is_same<Stage, NoStage>::value) return kAugmentLaunchViews;
  const size_t n = kAugmentTableBytes / (sizeof(AugmentViewEntry) + sizeof(Stage));
  return n < size_t(kAugmentLaunchViews) ? int(n) : kAugmentLaunchViews;
}

template <typename Stage>
struct AugmentLaunchTable {
  static constexpr int kViews = augment_launch_views<Stage>();
  static_assert(kViews >= 1, "custom stage object too large for the kernel's parameters");
  AugmentViewEntry entry[kViews];
  // The stage objects as bytes (trivially copyable), so Stage need not be default-constructible.
  alignas(
      Stage) unsigned char stage[std::is_same<Stage, NoStage>::value ? 1 : kViews][sizeof(Stage)];
};
static_assert(sizeof(AugmentLaunchTable<NoStage>) <= kAugmentTableBytes + 16,
              "augment launch table exceeds the kernel parameter budget");

template <typename T, typename Stage>
__global__ void augment_views_kernel(AugmentBatch a, AugmentLaunchTable<Stage> table, int count) {
  constexpr bool kCustom = !std::is_same<Stage, NoStage>::value;
  using StageParams = typename Stage::Params;
  // Types with default member initialisers may not be __shared__ variables: raw storage instead.
  __shared__ alignas(ViewParams) unsigned char params_storage[sizeof(ViewParams)];
  __shared__ alignas(AugmentViewEntry) unsigned char entry_storage[sizeof(AugmentViewEntry)];
  __shared__ alignas(Stage) unsigned char stage_storage[sizeof(Stage)];
  __shared__ alignas(StageParams) unsigned char stage_params_storage[sizeof(StageParams)];
  ViewParams& params = *reinterpret_cast<ViewParams*>(params_storage);
  AugmentViewEntry& entry = *reinterpret_cast<AugmentViewEntry*>(entry_storage);
  const Stage& stage = *reinterpret_cast<const Stage*>(stage_storage);
  const StageParams& stage_params = *reinterpret_cast<const StageParams*>(stage_params_storage);
  __shared__ float weights[2 * kMaxBlurRadius + 1];
  __shared__ double reduce_scratch[32];
  __shared__ float mean_shared;

  const int e = int(blockIdx.x % unsigned(count));
  const int64_t b = int64_t(blockIdx.x / unsigned(count));
  const uint8_t* image = a.src + b * int64_t(a.src_h) * a.src_w * 3;
  if (threadIdx.x == 0) {
    entry = table.entry[e];
    params =
        sample_view_params(entry.spec, a.src_h, a.src_w, a.seed, a.epoch, a.indices[b], entry.view);
    if (params.blur_radius > 0) gaussian_weights(params.blur_sigma, params.blur_radius, weights);
    if constexpr (kCustom) {
      memcpy(stage_storage, table.stage[e], sizeof(Stage));
      StageRandom random = stage_random(a.seed, a.epoch, a.indices[b], entry.view);
      const StageParams q = stage.sample(random);
      memcpy(stage_params_storage, &q, sizeof(StageParams));
    }
  }
  __syncthreads();
  const AugmentViewSpec& spec = entry.spec;
  const ViewParams p = params;
  const int h = spec.out_h, w = spec.out_w;
  const int64_t pixels = int64_t(h) * w;
  [[maybe_unused]] const StageRandom random =
      stage_random(a.seed, a.epoch, a.indices[b], entry.view);
  // The last steps of a pixel (rgb: the view before solarize) into out[0..3).
  auto finish_pixel = [&](float rgb[3], int y, int x, T* out) {
    for (int c = 0; c < 3; ++c) rgb[c] = solarized(spec, p, rgb[c]);
    if constexpr (kCustom) stage.pixel(stage_params, PixelAt{y, x, h, w}, random, rgb);
    for (int c = 0; c < 3; ++c) out[c] = store<T>(compute_t<T>(normalized(spec, c, rgb[c])));
  };

  float mean = 0.0f;
  if (contrast_position(p) >= 0) {
    double total = 0;
    for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
      float rgb[3];
      crop_pixel(image, a.src_w, spec, p, int(i / w), int(i % w), rgb);
      total += contrast_prefix_gray(p, rgb);
    }
    total = block_sum(total, reduce_scratch);
    if (threadIdx.x == 0) mean_shared = float(total / double(pixels));
    __syncthreads();
    mean = mean_shared;
  }

  T* o = static_cast<T*>(entry.out) + b * pixels * 3;
  if (p.blur_radius == 0) {
    for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
      float rgb[3];
      const int y = int(i / w), x = int(i % w);
      stage_pixel(image, a.src_w, spec, p, mean, y, x, rgb);
      finish_pixel(rgb, y, x, o + i * 3);
    }
    return;
  }

  float* staged = a.scratch + entry.scratch_offset + b * pixels * 3;
  float* tmp = a.scratch + entry.scratch_offset + (a.batch + b) * pixels * 3;
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    stage_pixel(image, a.src_w, spec, p, mean, int(i / w), int(i % w), staged + i * 3);
  }
  __syncthreads();
  const int r = p.blur_radius;
  for (int64_t i = threadIdx.x; i < pixels * 3; i += blockDim.x) {
    const int c = int(i % 3);
    const int64_t pix = i / 3;
    const int y = int(pix / w), x = int(pix % w);
    float acc = 0;
    for (int k = -r; k <= r; ++k) {
      acc += weights[k + r] * staged[(int64_t(y) * w + reflect_index(x + k, w)) * 3 + c];
    }
    tmp[i] = acc;
  }
  __syncthreads();
  auto vertical = [&](int y, int x, int c) {
    float acc = 0;
    for (int k = -r; k <= r; ++k) {
      acc += weights[k + r] * tmp[(int64_t(reflect_index(y + k, h)) * w + x) * 3 + c];
    }
    return acc;
  };
  if constexpr (kCustom) {
    // A pointwise stage needs a pixel's three channels at once.
    for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
      const int y = int(i / w), x = int(i % w);
      float rgb[3] = {vertical(y, x, 0), vertical(y, x, 1), vertical(y, x, 2)};
      finish_pixel(rgb, y, x, o + i * 3);
    }
  } else {
    for (int64_t i = threadIdx.x; i < pixels * 3; i += blockDim.x) {
      const int c = int(i % 3);
      const int64_t pix = i / 3;
      o[i] =
          store<T>(compute_t<T>(finish_value(spec, p, c, vertical(int(pix / w), int(pix % w), c))));
    }
  }
}

// Launches the kernel over `entries` in tables of augment_launch_views<Stage>() views.
//   stages: null for NoStage, else `count` Stage objects as bytes, one per entry
template <typename T, typename Stage>
void launch_augment_views(const AugmentBatch& a, const AugmentViewEntry* entries,
                          const unsigned char* stages, int count) {
  if (a.batch == 0 || count == 0) return;
  using Table = AugmentLaunchTable<Stage>;
  for (int first = 0; first < count; first += Table::kViews) {
    const int n = count - first < Table::kViews ? count - first : Table::kViews;
    LUMEN_CHECK(a.batch * n <= int64_t(0x7fffffff), "augment_views_cuda: batch ", a.batch,
                " is too large for one launch; split it");
    Table table;
    for (int k = 0; k < n; ++k) {
      table.entry[k] = entries[first + k];
      LUMEN_CHECK(table.entry[k].spec.blur_prob <= 0.0f || a.scratch != nullptr,
                  "augment_views_cuda: view ", table.entry[k].view,
                  " may blur but no scratch buffer was given");
      if constexpr (!std::is_same<Stage, NoStage>::value) {
        std::memcpy(table.stage[k], stages + size_t(first + k) * sizeof(Stage), sizeof(Stage));
      }
    }
    augment_views_kernel<T, Stage>
        <<<unsigned(a.batch * n), kAugmentViewBlock, 0, a.stream>>>(a, table, n);
    LUMEN_LAUNCH_CHECK();
  }
}

}  // namespace lumen::kernels
