// The fused view kernel (include from .cu files only): one block per (sample, view), as many views
// of any sizes as a launch's table holds.
//   1. thread 0 copies its view's entry, samples the view's parameters (the sampler the CPU uses)
//      and the blur weights
//   2. when contrast applies: a block reduction (in double) of the grayscale image as it stands
//      before contrast, giving the mean contrast blends with
//   3. every pixel: crop + resize from the u8 source, flips, rotation, jitter, grayscale; without
//      blur, solarize + normalize + store straight into the output
//   4. with blur: the staged view goes to global scratch, then a horizontal pass and a vertical
//      pass (which also solarizes, normalizes and stores); __syncthreads makes the block's global
//      writes visible to the block between passes.
// Blocks run view-fastest (block i: view i % count of sample i / count), so the views of one
// sample read its source image close together in time.
// Compile without FMA contraction (--fmad=false) for the float arithmetic to round exactly like
// the CPU loops of augment_cpu.cpp.
#pragma once

#include "kernels/augment.h"
#include "kernels/half.cuh"
#include "kernels/launch.cuh"

namespace lumen::kernels {

constexpr int kAugmentViewBlock = 256;
// Views per launch: the table travels in the kernel's parameters, within the classic 4 KiB limit.
constexpr int kAugmentLaunchViews = 24;

struct AugmentLaunchTable {
  AugmentViewEntry entry[kAugmentLaunchViews];
};
static_assert(sizeof(AugmentLaunchTable) + 128 <= 4096, "augment launch table exceeds 4 KiB");

template <typename T>
__global__ void augment_views_kernel(const uint8_t* __restrict__ src, int64_t batch, int src_h,
                                     int src_w, const int64_t* __restrict__ indices,
                                     AugmentLaunchTable table, int count, uint64_t seed,
                                     uint64_t epoch, float* scratch) {
  // ViewParams and AugmentViewEntry have default member initialisers, which __shared__ variables
  // may not have.
  __shared__ alignas(ViewParams) unsigned char params_storage[sizeof(ViewParams)];
  __shared__ alignas(AugmentViewEntry) unsigned char entry_storage[sizeof(AugmentViewEntry)];
  ViewParams& params = *reinterpret_cast<ViewParams*>(params_storage);
  AugmentViewEntry& entry = *reinterpret_cast<AugmentViewEntry*>(entry_storage);
  __shared__ float weights[2 * kMaxBlurRadius + 1];
  __shared__ double reduce_scratch[32];
  __shared__ float mean_shared;

  const int e = int(blockIdx.x % unsigned(count));
  const int64_t b = int64_t(blockIdx.x / unsigned(count));
  const uint8_t* image = src + b * int64_t(src_h) * src_w * 3;
  if (threadIdx.x == 0) {
    entry = table.entry[e];
    params = sample_view_params(entry.spec, src_h, src_w, seed, epoch, indices[b], entry.view);
    if (params.blur_radius > 0) gaussian_weights(params.blur_sigma, params.blur_radius, weights);
  }
  __syncthreads();
  const AugmentViewSpec& spec = entry.spec;
  const ViewParams p = params;
  const int h = spec.out_h, w = spec.out_w;
  const int64_t pixels = int64_t(h) * w;

  float mean = 0.0f;
  if (contrast_position(p) >= 0) {
    double total = 0;
    for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
      float rgb[3];
      crop_pixel(image, src_w, spec, p, int(i / w), int(i % w), rgb);
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
      stage_pixel(image, src_w, spec, p, mean, int(i / w), int(i % w), rgb);
      for (int c = 0; c < 3; ++c)
        o[i * 3 + c] = store<T>(compute_t<T>(finish_value(spec, p, c, rgb[c])));
    }
    return;
  }

  float* stage = scratch + entry.scratch_offset + b * pixels * 3;
  float* tmp = scratch + entry.scratch_offset + (batch + b) * pixels * 3;
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    stage_pixel(image, src_w, spec, p, mean, int(i / w), int(i % w), stage + i * 3);
  }
  __syncthreads();
  const int r = p.blur_radius;
  for (int64_t i = threadIdx.x; i < pixels * 3; i += blockDim.x) {
    const int c = int(i % 3);
    const int64_t pix = i / 3;
    const int y = int(pix / w), x = int(pix % w);
    float acc = 0;
    for (int k = -r; k <= r; ++k) {
      acc += weights[k + r] * stage[(int64_t(y) * w + reflect_index(x + k, w)) * 3 + c];
    }
    tmp[i] = acc;
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < pixels * 3; i += blockDim.x) {
    const int c = int(i % 3);
    const int64_t pix = i / 3;
    const int y = int(pix / w), x = int(pix % w);
    float acc = 0;
    for (int k = -r; k <= r; ++k) {
      acc += weights[k + r] * tmp[(int64_t(reflect_index(y + k, h)) * w + x) * 3 + c];
    }
    o[i] = store<T>(compute_t<T>(finish_value(spec, p, c, acc)));
  }
}

// Launches the kernel over `entries` in tables of kAugmentLaunchViews.
template <typename T>
void launch_augment_views(const uint8_t* src, int64_t batch, int src_h, int src_w,
                          const int64_t* indices, const AugmentViewEntry* entries, int count,
                          uint64_t seed, uint64_t epoch, float* scratch, cudaStream_t stream) {
  if (batch == 0 || count == 0) return;
  for (int first = 0; first < count; first += kAugmentLaunchViews) {
    const int n = count - first < kAugmentLaunchViews ? count - first : kAugmentLaunchViews;
    LUMEN_CHECK(batch * n <= int64_t(0x7fffffff), "augment_views_cuda: batch ", batch,
                " is too large for one launch; split it");
    AugmentLaunchTable table;
    for (int k = 0; k < n; ++k) {
      table.entry[k] = entries[first + k];
      LUMEN_CHECK(table.entry[k].spec.blur_prob <= 0.0f || scratch != nullptr,
                  "augment_views_cuda: view ", table.entry[k].view,
                  " may blur but no scratch buffer was given");
    }
    augment_views_kernel<T><<<unsigned(batch * n), kAugmentViewBlock, 0, stream>>>(
        src, batch, src_h, src_w, indices, table, n, seed, epoch, scratch);
    LUMEN_LAUNCH_CHECK();
  }
}

}  // namespace lumen::kernels
