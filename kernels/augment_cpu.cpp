// CPU reference pipeline of the view augmentations: one (sample, view) pair per OpenMP task. The
// GPU kernel computes every value with the same per-pixel functions in the same order (it
// recomputes the crop where this file keeps it in a buffer; the values are identical).
#include <exception>
#include <mutex>
#include <vector>

#include "kernels/augment.h"
#include "kernels/half.cuh"

namespace lumen::kernels {
namespace {

// A view's custom stage and its random stream, for one (sample, view).
struct StageCall {
  const CpuViewStage* stage = nullptr;
  StageRandom random;
};

// With a custom stage: solarize the finished [0, 1] view `values` (h, w, 3) in place, run the
// stage on it, then normalize into out.
template <typename T>
void finish_with_stage(const AugmentViewSpec& spec, const ViewParams& p, float* values, int h,
                       int w, StageCall& call, T* out) {
  const size_t n = size_t(h) * w * 3;
  for (size_t i = 0; i < n; ++i) values[i] = solarized(spec, p, values[i]);
  call.stage->apply(call.stage->context, values, h, w, call.random);
  for (size_t i = 0; i < n; ++i) {
    out[i] = store<T>(compute_t<T>(normalized(spec, int(i % 3), values[i])));
  }
}

// One view of one image.
//   src: (src_h, src_w, 3) u8; out: (out_h, out_w, 3) T; stage, tmp: scratch of out_h*out_w*3
//   call: the view's custom stage, or null
// Passes: the resized crop (taps computed once per row and column), the contrast mean (summed in
// double, row-major) when contrast applies, colour, then blur or the final step (solarize,
// [custom stage,] normalize).
template <typename T>
void make_view(const uint8_t* src, int src_w, const ViewParams& p, const AugmentViewSpec& spec,
               StageCall* call, T* out, std::vector<float>& stage, std::vector<float>& tmp,
               std::vector<ResizeTap>& taps) {
  const int h = spec.out_h, w = spec.out_w;
  const size_t n = size_t(h) * w * 3;
  stage.resize(n);
  taps.resize(size_t(h) + w);
  ResizeTap* tap_y = taps.data();
  ResizeTap* tap_x = taps.data() + h;
  for (int cy = 0; cy < h; ++cy) tap_y[cy] = resize_tap(spec.interpolation, cy, p.crop_h, h);
  for (int cx = 0; cx < w; ++cx) tap_x[cx] = resize_tap(spec.interpolation, cx, p.crop_w, w);
  const uint8_t* crop = src + (int64_t(p.crop_top) * src_w + p.crop_left) * 3;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int cy, cx;
      view_to_crop_coords(p, h, w, y, x, cy, cx);
      resize_mix(crop, src_w, spec.interpolation, tap_y[cy], tap_x[cx],
                 &stage[(size_t(y) * w + x) * 3]);
    }
  }
  float mean = 0.0f;
  if (contrast_position(p) >= 0) {
    double total = 0;
    for (size_t i = 0; i < n; i += 3) {
      float rgb[3] = {stage[i], stage[i + 1], stage[i + 2]};
      total += contrast_prefix_gray(p, rgb);
    }
    mean = float(total / (double(h) * double(w)));
  }
  if (p.blur_radius == 0 && call != nullptr) {
    for (size_t i = 0; i < n; i += 3) pre_blur_pixel(spec, p, mean, &stage[i]);
    finish_with_stage(spec, p, stage.data(), h, w, *call, out);
    return;
  }
  if (p.blur_radius == 0) {
    for (size_t i = 0; i < n; i += 3) {
      pre_blur_pixel(spec, p, mean, &stage[i]);
      for (int c = 0; c < 3; ++c) {
        out[i + c] = store<T>(compute_t<T>(finish_value(spec, p, c, stage[i + c])));
      }
    }
    return;
  }
  for (size_t i = 0; i < n; i += 3) pre_blur_pixel(spec, p, mean, &stage[i]);
  tmp.resize(n);
  const int r = p.blur_radius;
  float weights[2 * kMaxBlurRadius + 1];
  gaussian_weights(p.blur_sigma, r, weights);
  // horizontal pass: stage -> tmp. Taps are summed in the order k = -r..r, as on the GPU; only
  // pixels within r of an edge pay for the reflection.
  for (int y = 0; y < h; ++y) {
    const float* row = &stage[size_t(y) * w * 3];
    float* dst = &tmp[size_t(y) * w * 3];
    for (int x = 0; x < w; ++x) {
      const bool inside = x >= r && x + r < w;
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        if (inside) {
          const float* window = row + (x - r) * 3 + c;
          for (int k = 0; k <= 2 * r; ++k) acc += weights[k] * window[k * 3];
        } else {
          for (int k = -r; k <= r; ++k)
            acc += weights[k + r] * row[reflect_index(x + k, w) * 3 + c];
        }
        dst[x * 3 + c] = acc;
      }
    }
  }
  // vertical pass: tmp -> out, with the final step (with a custom stage: tmp -> stage, which the
  // horizontal pass has finished reading, then the stage and the final step)
  const size_t stride = size_t(w) * 3;
  for (int y = 0; y < h; ++y) {
    const bool inside = y >= r && y + r < h;
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        const size_t col = size_t(x) * 3 + c;
        if (inside) {
          const float* window = &tmp[size_t(y - r) * stride + col];
          for (int k = 0; k <= 2 * r; ++k) acc += weights[k] * window[k * stride];
        } else {
          for (int k = -r; k <= r; ++k) {
            acc += weights[k + r] * tmp[size_t(reflect_index(y + k, h)) * stride + col];
          }
        }
        const size_t at = (size_t(y) * w + x) * 3 + c;
        if (call != nullptr) {
          stage[at] = acc;
        } else {
          out[at] = store<T>(compute_t<T>(finish_value(spec, p, c, acc)));
        }
      }
    }
  }
  if (call != nullptr) finish_with_stage(spec, p, stage.data(), h, w, *call, out);
}

// stage_of(v, b, storage): the custom stage call of view v of sample b (kept in storage), or null.
template <typename T, typename ParamsOf, typename StageOf>
void run_views(const uint8_t* src, int64_t batch, int src_h, int src_w,
               const AugmentViewSpec* specs, int views, T* const* out, const ParamsOf& params_of,
               const StageOf& stage_of) {
  const int64_t tasks = batch * views;
  const int64_t src_stride = int64_t(src_h) * src_w * 3;
  std::exception_ptr failure;  // the first exception of a task (a user's stage may throw)
  std::mutex failure_lock;
#pragma omp parallel
  {
    std::vector<float> stage, tmp;
    std::vector<ResizeTap> taps;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      const int v = int(t % views);
      const int64_t b = t / views;
      try {
        const AugmentViewSpec& spec = specs[v];
        const ViewParams p = params_of(v, b);
        T* o = out[v] + b * int64_t(spec.out_h) * spec.out_w * 3;
        StageCall storage;
        StageCall* call = stage_of(v, b, storage);
        make_view(src + b * src_stride, src_w, p, spec, call, o, stage, tmp, taps);
      } catch (...) {
        std::lock_guard<std::mutex> hold(failure_lock);
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

template <typename T>
void augment_views_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const int64_t* indices, const AugmentViewSpec* specs, int views,
                       uint64_t seed, uint64_t epoch, T* const* out, const CpuViewStage* stages) {
  run_views(
      src, batch, src_h, src_w, specs, views, out,
      [&](int v, int64_t b) {
        return sample_view_params(specs[v], src_h, src_w, seed, epoch, indices[b], v);
      },
      [&](int v, int64_t b, StageCall& storage) -> StageCall* {
        if (stages == nullptr || stages[v].apply == nullptr) return nullptr;
        storage = {&stages[v], stage_random(seed, epoch, indices[b], v)};
        return &storage;
      });
}

template <typename T>
void augment_apply_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const ViewParams* params, const AugmentViewSpec* specs, int views,
                       T* const* out) {
  run_views(
      src, batch, src_h, src_w, specs, views, out,
      [&](int v, int64_t b) { return params[v * batch + b]; },
      [](int, int64_t, StageCall&) -> StageCall* { return nullptr; });
}

#define LUMEN_INSTANTIATE(T)                                                                     \
  template void augment_views_cpu<T>(const uint8_t*, int64_t, int, int, const int64_t*,          \
                                     const AugmentViewSpec*, int, uint64_t, uint64_t, T* const*, \
                                     const CpuViewStage*);                                       \
  template void augment_apply_cpu<T>(const uint8_t*, int64_t, int, int, const ViewParams*,       \
                                     const AugmentViewSpec*, int, T* const*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
