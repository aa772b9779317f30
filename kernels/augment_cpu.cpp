// CPU reference pipeline of the view augmentations: one (sample, view) pair per OpenMP task, each
// a mean pass (when contrast applies), a staging pass, an optional separable blur and the final
// solarize/normalize/store. The GPU kernel runs the same passes with the same per-pixel functions.
#include <vector>

#include "kernels/augment.h"
#include "kernels/half.cuh"

namespace lumen::kernels {
namespace {

// Mean of the grayscale image at the point where contrast applies, accumulated in double.
float contrast_mean(const uint8_t* src, int src_w, const ViewParams& p, int out_h, int out_w) {
  if (contrast_position(p) < 0) return 0.0f;
  double total = 0;
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x)
      total += contrast_prefix_gray(src, src_w, p, out_h, out_w, y, x);
  }
  return float(total / (double(out_h) * double(out_w)));
}

// One view of one image.
//   src: (src_h, src_w, 3) u8; out: (out_h, out_w, 3) T; stage, tmp: scratch of out_h*out_w*3
template <typename T>
void make_view(const uint8_t* src, int src_w, const ViewParams& p, const AugmentViewSpec& spec,
               T* out, std::vector<float>& stage, std::vector<float>& tmp) {
  const int h = spec.out_h, w = spec.out_w;
  const float mean = contrast_mean(src, src_w, p, h, w);
  if (p.blur_radius == 0) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        float rgb[3];
        stage_pixel(src, src_w, p, h, w, mean, y, x, rgb);
        T* o = out + (int64_t(y) * w + x) * 3;
        for (int c = 0; c < 3; ++c) o[c] = store<T>(compute_t<T>(finish_value(spec, p, c, rgb[c])));
      }
    }
    return;
  }
  const size_t n = size_t(h) * w * 3;
  stage.resize(n);
  tmp.resize(n);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x)
      stage_pixel(src, src_w, p, h, w, mean, y, x, &stage[(y * w + x) * 3]);
  }
  const int r = p.blur_radius;
  float weights[2 * kMaxBlurRadius + 1];
  gaussian_weights(p.blur_sigma, r, weights);
  // horizontal pass: stage -> tmp
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        for (int k = -r; k <= r; ++k) {
          acc += weights[k + r] * stage[(size_t(y) * w + reflect_index(x + k, w)) * 3 + c];
        }
        tmp[(size_t(y) * w + x) * 3 + c] = acc;
      }
    }
  }
  // vertical pass: tmp -> out, with the final step
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        for (int k = -r; k <= r; ++k) {
          acc += weights[k + r] * tmp[(size_t(reflect_index(y + k, h)) * w + x) * 3 + c];
        }
        out[(int64_t(y) * w + x) * 3 + c] = store<T>(compute_t<T>(finish_value(spec, p, c, acc)));
      }
    }
  }
}

template <typename T, typename ParamsOf>
void run_views(const uint8_t* src, int64_t batch, int src_h, int src_w,
               const AugmentViewSpec* specs, int views, T* const* out, const ParamsOf& params_of) {
  const int64_t tasks = batch * views;
  const int64_t src_stride = int64_t(src_h) * src_w * 3;
#pragma omp parallel
  {
    std::vector<float> stage, tmp;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      const int v = int(t % views);
      const int64_t b = t / views;
      const AugmentViewSpec& spec = specs[v];
      const ViewParams p = params_of(v, b);
      T* o = out[v] + b * int64_t(spec.out_h) * spec.out_w * 3;
      make_view(src + b * src_stride, src_w, p, spec, o, stage, tmp);
    }
  }
}

}  // namespace

template <typename T>
void augment_views_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const int64_t* indices, const AugmentViewSpec* specs, int views,
                       uint64_t seed, uint64_t epoch, T* const* out) {
  run_views(src, batch, src_h, src_w, specs, views, out, [&](int v, int64_t b) {
    return sample_view_params(specs[v], src_h, src_w, seed, epoch, indices[b], v);
  });
}

template <typename T>
void augment_apply_cpu(const uint8_t* src, int64_t batch, int src_h, int src_w,
                       const ViewParams* params, const AugmentViewSpec* specs, int views,
                       T* const* out) {
  run_views(src, batch, src_h, src_w, specs, views, out,
            [&](int v, int64_t b) { return params[v * batch + b]; });
}

#define LUMEN_INSTANTIATE(T)                                                                      \
  template void augment_views_cpu<T>(const uint8_t*, int64_t, int, int, const int64_t*,           \
                                     const AugmentViewSpec*, int, uint64_t, uint64_t, T* const*); \
  template void augment_apply_cpu<T>(const uint8_t*, int64_t, int, int, const ViewParams*,        \
                                     const AugmentViewSpec*, int, T* const*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
