// The fused view kernel: one block per (sample, view), one launch for the whole batch.
//   1. thread 0 samples the view's parameters (the sampler the CPU uses) and the blur weights
//   2. when contrast applies: a block reduction (in double) of the grayscale image as it stands
//      before contrast, giving the mean contrast blends with
//   3. every pixel: crop + resize from the u8 source, rotation, flips, jitter, grayscale; without
//      blur, solarize + normalize + store straight into the output
//   4. with blur: the staged view goes to global scratch, then a horizontal pass and a vertical
//   pass
//      (which also solarizes, normalizes and stores); __syncthreads makes the block's global
//      writes visible to the block between passes.
// The file is compiled without FMA contraction so that its float arithmetic rounds exactly like
// the CPU loops in augment_cpu.cpp.
#include "kernels/augment.h"
#include "kernels/half.cuh"
#include "kernels/launch.cuh"

namespace lumen::kernels {
namespace {

constexpr int kViewBlock = 256;

struct AugmentLaunch {
  AugmentViewSpec specs[kAugmentMaxViews];
  int64_t scratch_offset[kAugmentMaxViews];  // floats, start of view v's two scratch planes
};

template <typename T, int kMaxViews>
struct OutPointers {
  T* view[kMaxViews];
};

template <typename T>
__global__ void augment_views_kernel(const uint8_t* __restrict__ src, int64_t batch, int src_h,
                                     int src_w, const int64_t* __restrict__ indices,
                                     AugmentLaunch launch, int views, uint64_t seed, uint64_t epoch,
                                     OutPointers<T, kAugmentMaxViews> out, float* scratch) {
  // ViewParams has default member initialisers, which __shared__ variables may not have.
  __shared__ alignas(ViewParams) unsigned char params_storage[sizeof(ViewParams)];
  ViewParams& params = *reinterpret_cast<ViewParams*>(params_storage);
  __shared__ float weights[2 * kMaxBlurRadius + 1];
  __shared__ double reduce_scratch[32];
  __shared__ float mean_shared;

  const int v = int(blockIdx.x % unsigned(views));
  const int64_t b = int64_t(blockIdx.x / unsigned(views));
  const AugmentViewSpec& spec = launch.specs[v];
  const int h = spec.out_h, w = spec.out_w;
  const int64_t pixels = int64_t(h) * w;
  const uint8_t* image = src + b * int64_t(src_h) * src_w * 3;

  if (threadIdx.x == 0) {
    params = sample_view_params(spec, src_h, src_w, seed, epoch, indices[b], v);
    if (params.blur_radius > 0) gaussian_weights(params.blur_sigma, params.blur_radius, weights);
  }
  __syncthreads();
  const ViewParams p = params;

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

  T* o = out.view[v] + b * pixels * 3;
  if (p.blur_radius == 0) {
    for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
      float rgb[3];
      stage_pixel(image, src_w, spec, p, mean, int(i / w), int(i % w), rgb);
      for (int c = 0; c < 3; ++c)
        o[i * 3 + c] = store<T>(compute_t<T>(finish_value(spec, p, c, rgb[c])));
    }
    return;
  }

  float* stage = scratch + launch.scratch_offset[v] + b * pixels * 3;
  float* tmp = scratch + launch.scratch_offset[v] + (batch + b) * pixels * 3;
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

}  // namespace

template <typename T>
void augment_views_cuda(const uint8_t* src, int64_t batch, int src_h, int src_w,
                        const int64_t* indices, const AugmentViewSpec* specs, int views,
                        uint64_t seed, uint64_t epoch, T* const* out, float* scratch,
                        cudaStream_t stream) {
  LUMEN_CHECK(views >= 1 && views <= kAugmentMaxViews, "augment_views_cuda: ", views,
              " views; use 1 to ", kAugmentMaxViews);
  if (batch == 0) return;
  LUMEN_CHECK(batch * views <= int64_t(0x7fffffff), "augment_views_cuda: batch ", batch,
              " is too large for one launch; split it");
  AugmentLaunch launch;
  OutPointers<T, kAugmentMaxViews> ptrs{};
  int64_t offset = 0;
  bool blur = false;
  for (int v = 0; v < views; ++v) {
    launch.specs[v] = specs[v];
    launch.scratch_offset[v] = offset;
    offset += 2 * batch * int64_t(specs[v].out_h) * specs[v].out_w * 3;
    blur = blur || specs[v].blur_prob > 0.0f;
    ptrs.view[v] = out[v];
  }
  LUMEN_CHECK(!blur || scratch != nullptr,
              "augment_views_cuda: a view may blur but no scratch buffer was given");
  augment_views_kernel<T><<<unsigned(batch * views), kViewBlock, 0, stream>>>(
      src, batch, src_h, src_w, indices, launch, views, seed, epoch, ptrs, scratch);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                      \
  template void augment_views_cuda<T>(const uint8_t*, int64_t, int, int, const int64_t*,          \
                                      const AugmentViewSpec*, int, uint64_t, uint64_t, T* const*, \
                                      float*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
