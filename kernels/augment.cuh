// Per-view augmentation math shared by the CPU reference pipeline and the fused CUDA kernel.
//
// A view is made from one u8 source image (S_h, S_w, 3) NHWC RGB in this order (lightly 1.5.26's
// SimCLR/MoCo/SimSiam/BYOL view transforms):
//   random resized crop (bilinear or bicubic, straight from the u8 source to (H, W))
//   -> horizontal flip -> vertical flip -> 90 degree rotation (counter-clockwise)
//   -> colour jitter (brightness, contrast, saturation, hue in a random order) -> grayscale
//   -> Gaussian blur -> solarize -> normalize
// (VICReg's views solarize before the blur: AugmentViewSpec::solarize_before_blur.)
// Pixel values are floats in [0, 1] (the u8 value / 255, as ToTensor), and every op follows
// torchvision's functional ops on float tensors, including their clamping to [0, 1].
//
// Random parameters come from Philox keyed by (seed, epoch, sample index, view): stream =
// epoch << 32 | view, counter = sample * kAugmentDrawsPerView + draw. The CPU and the GPU call
// the same sampler, so they draw identical parameters.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/philox.cuh"

namespace lumen::kernels {

// ---- configuration of one view (plain numbers; augment/ fills it from a ViewConfig) ----------
enum Interpolation : int { kBilinear = 0, kBicubic = 1 };

struct AugmentViewSpec {
  int out_h = 224, out_w = 224;
  int interpolation = kBilinear;  // of the resized crop
  // RandomResizedCrop: area fraction in [scale_min, scale_max], log aspect ratio (w / h) uniform
  // in [log_ratio_min, log_ratio_max].
  float scale_min = 0.08f, scale_max = 1.0f;
  float log_ratio_min = -0.28768207f, log_ratio_max = 0.28768207f;  // log(3/4), log(4/3)
  float ratio_min = 0.75f, ratio_max = 4.0f / 3.0f;
  float rotate90_prob = 0, hflip_prob = 0.5f, vflip_prob = 0;
  // ColorJitter applied with jitter_prob; factor ranges as torchvision: brightness, contrast and
  // saturation factors in [max(0, 1 - x), 1 + x], hue in [-hue, hue]. A zero range disables the op
  // (torchvision then leaves it out).
  float jitter_prob = 0.8f;
  float brightness = 0.8f, contrast = 0.8f, saturation = 0.8f, hue = 0.2f;
  float grayscale_prob = 0.2f;
  float blur_prob = 0.5f, sigma_min = 0.1f, sigma_max = 2.0f;
  float solarize_prob = 0, solarize_threshold = 128.0f / 255.0f;
  int normalize = 1;  // 0: leave values in [0, 1]
  // 1: solarize right after grayscale, before the blur (lightly's VICRegViewTransform order);
  // 0: after the blur (every other view transform of lightly's)
  int solarize_before_blur = 0;
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};

// ---- the random parameters of one view ---------------------------------------------------------
enum JitterOp : int { kBrightness = 0, kContrast = 1, kSaturation = 2, kHue = 3 };

struct ViewParams {
  int crop_top = 0, crop_left = 0, crop_h = 1, crop_w = 1;  // in source pixels
  int rotate90 = 0, hflip = 0, vflip = 0;
  int jitter_ops = 0;           // how many entries of order[] apply (0: no colour jitter)
  int order[4] = {0, 1, 2, 3};  // JitterOp values in the order they are applied
  float brightness = 1, contrast = 1, saturation = 1, hue = 0;
  int grayscale = 0;
  int blur_radius = 0;  // 0: no blur; else the kernel has 2 * radius + 1 taps
  float blur_sigma = 0;
  int solarize = 0;
};

constexpr int kAugmentDrawsPerView = 64;
constexpr int kMaxBlurRadius = 64;  // sigma up to ~21

// Kernel radius for a Gaussian of standard deviation sigma: ceil(3 sigma), at least 1.
// lightly blurs with PIL's GaussianBlur(radius=sigma), whose "radius" is the standard deviation;
// a true Gaussian truncated at 3 sigma keeps 99.7% of its mass, the standard choice for a
// faithful discrete Gaussian (torchvision's gaussian_blur then takes kernel_size 2 * radius + 1).
LUMEN_HD int blur_radius_for_sigma(float sigma) {
  int r = int(ceil(3.0 * double(sigma)));
  if (r < 1) r = 1;
  return r > kMaxBlurRadius ? kMaxBlurRadius : r;
}

// ---- the sampler (torchvision's RandomResizedCrop.get_params, ColorJitter.get_params, ...) ---

struct ViewDraws {
  uint64_t seed, stream, base;
  int next = 0;
  LUMEN_HD float uniform() { return philox_uniform(seed, stream, base + uint64_t(next++)); }
};

// Python's round(): nearest, ties to even.
LUMEN_HD int round_half_even(double x) { return int(rint(x)); }

LUMEN_HD void sample_crop(const AugmentViewSpec& spec, int src_h, int src_w, ViewDraws& draws,
                          ViewParams& p) {
  const double area = double(src_h) * double(src_w);
  // torchvision tries 10 times; every attempt consumes its 4 draws so later draws stay put.
  bool found = false;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const float u_scale = draws.uniform(), u_ratio = draws.uniform();
    const float u_top = draws.uniform(), u_left = draws.uniform();
    if (found) continue;
    const double target_area =
        area * (double(spec.scale_min) + double(u_scale) * double(spec.scale_max - spec.scale_min));
    const double log_ratio = double(spec.log_ratio_min) +
                             double(u_ratio) * double(spec.log_ratio_max - spec.log_ratio_min);
    const double aspect = exp(log_ratio);
    const int w = round_half_even(sqrt(target_area * aspect));
    const int h = round_half_even(sqrt(target_area / aspect));
    if (w > 0 && w <= src_w && h > 0 && h <= src_h) {
      // torch.randint(0, n): uniform integer in [0, n)
      int top = int(double(u_top) * double(src_h - h + 1));
      int left = int(double(u_left) * double(src_w - w + 1));
      p.crop_top = top > src_h - h ? src_h - h : top;
      p.crop_left = left > src_w - w ? src_w - w : left;
      p.crop_h = h;
      p.crop_w = w;
      found = true;
    }
  }
  if (found) return;
  // Fallback: the central crop with the ratio clamped into [ratio_min, ratio_max].
  const double in_ratio = double(src_w) / double(src_h);
  int w = src_w, h = src_h;
  if (in_ratio < double(spec.ratio_min)) {
    h = round_half_even(double(w) / double(spec.ratio_min));
  } else if (in_ratio > double(spec.ratio_max)) {
    w = round_half_even(double(h) * double(spec.ratio_max));
  }
  p.crop_h = h;
  p.crop_w = w;
  p.crop_top = (src_h - h) / 2;
  p.crop_left = (src_w - w) / 2;
}

// Parameters of one view of one sample. Draws, in this fixed layout: 40 for the crop, then one
// each for rotation, hflip, vflip, jitter-apply, 3 for the permutation, 4 for the jitter factors,
// grayscale, blur-apply, sigma, solarize (55 of kAugmentDrawsPerView). A probability p applies
// when its uniform u < p (p = 0 never, p = 1 always).
LUMEN_HD ViewParams sample_view_params(const AugmentViewSpec& spec, int src_h, int src_w,
                                       uint64_t seed, uint64_t epoch, int64_t sample, int view) {
  ViewDraws draws{seed, (epoch << 32) | uint64_t(uint32_t(view)),
                  uint64_t(sample) * uint64_t(kAugmentDrawsPerView)};
  ViewParams p;
  sample_crop(spec, src_h, src_w, draws, p);
  p.rotate90 = draws.uniform() < spec.rotate90_prob;
  p.hflip = draws.uniform() < spec.hflip_prob;
  p.vflip = draws.uniform() < spec.vflip_prob;

  const bool jitter = draws.uniform() < spec.jitter_prob;
  // torch.randperm(4) as a Fisher-Yates shuffle.
  int perm[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) {
    int j = int(draws.uniform() * float(i + 1));
    j = j > i ? i : j;
    const int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const float u_b = draws.uniform(), u_c = draws.uniform(), u_s = draws.uniform(),
              u_h = draws.uniform();
  auto factor = [](float strength, float u) {
    const float lo = 1.0f - strength > 0.0f ? 1.0f - strength : 0.0f;
    return lo + u * (1.0f + strength - lo);
  };
  p.brightness = factor(spec.brightness, u_b);
  p.contrast = factor(spec.contrast, u_c);
  p.saturation = factor(spec.saturation, u_s);
  p.hue = -spec.hue + u_h * (2.0f * spec.hue);
  p.jitter_ops = 0;
  if (jitter) {
    const float strengths[4] = {spec.brightness, spec.contrast, spec.saturation, spec.hue};
    for (int k = 0; k < 4; ++k) {
      if (strengths[perm[k]] > 0.0f) p.order[p.jitter_ops++] = perm[k];
    }
  }

  p.grayscale = draws.uniform() < spec.grayscale_prob;
  const bool blur = draws.uniform() < spec.blur_prob;
  const float u_sigma = draws.uniform();
  if (blur) {
    p.blur_sigma = spec.sigma_min + u_sigma * (spec.sigma_max - spec.sigma_min);
    p.blur_radius = blur_radius_for_sigma(p.blur_sigma);
  }
  p.solarize = draws.uniform() < spec.solarize_prob;
  return p;
}

// ---- geometry ---------------------------------------------------------------------------------

// Source coordinate (in the resized crop, before flips and rotation) of output pixel (y, x) of a
// square (out_h, out_w) view. lightly 1.5.26 flips first, then rotates: this undoes the CCW
// rotation, then vflip, then hflip.
LUMEN_HD void view_to_crop_coords(const ViewParams& p, int out_h, int out_w, int y, int x, int& cy,
                                  int& cx) {
  int yy = y, xx = x;
  if (p.rotate90) {
    // rot90 CCW of a square A: R[i][j] = A[j][n - 1 - i]
    yy = x;
    xx = out_h - 1 - y;
  }
  cy = p.vflip ? out_h - 1 - yy : yy;
  cx = p.hflip ? out_w - 1 - xx : xx;
}

// One axis of PyTorch's resize (align_corners=False, no antialias), torchvision's tensor resize:
// output index d of out_size reads taps i[0..n) of in_size with weights w[0..n); n is 2 for
// bilinear and 4 for bicubic (resize_tap_count).
struct ResizeTap {
  int i[4];
  float w[4];
};
LUMEN_HD int resize_tap_count(int interpolation) { return interpolation == kBicubic ? 4 : 2; }

// Bilinear: the source index clamped at 0 (PyTorch's area_pixel_compute_source_index, cubic=false).
LUMEN_HD ResizeTap bilinear_tap(int d, int in_size, int out_size) {
  const float scale = float(in_size) / float(out_size);
  float src = scale * (float(d) + 0.5f) - 0.5f;
  if (src < 0) src = 0;
  int i0 = int(src);
  if (i0 > in_size - 1) i0 = in_size - 1;
  const int i1 = i0 < in_size - 1 ? i0 + 1 : i0;
  const float w1 = src - float(i0);
  return {{i0, i1, i1, i1}, {1.0f - w1, w1, 0.0f, 0.0f}};
}

// Bicubic (PyTorch's upsample_bicubic2d: A = -0.75, the source index not clamped, taps
// floor(src) - 1 .. floor(src) + 2 clamped into the input).
LUMEN_HD float cubic_convolution1(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
LUMEN_HD float cubic_convolution2(float x, float a) {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}
LUMEN_HD ResizeTap bicubic_tap(int d, int in_size, int out_size) {
  const float scale = float(in_size) / float(out_size);
  const float src = scale * (float(d) + 0.5f) - 0.5f;
  const int base = int(floorf(src));
  const float t = src - float(base);
  const float a = -0.75f;
  ResizeTap tap;
  tap.w[0] = cubic_convolution2(t + 1.0f, a);
  tap.w[1] = cubic_convolution1(t, a);
  tap.w[2] = cubic_convolution1(1.0f - t, a);
  tap.w[3] = cubic_convolution2((1.0f - t) + 1.0f, a);
  for (int j = 0; j < 4; ++j) {
    int k = base - 1 + j;
    k = k < 0 ? 0 : (k > in_size - 1 ? in_size - 1 : k);
    tap.i[j] = k;
  }
  return tap;
}

LUMEN_HD ResizeTap resize_tap(int interpolation, int d, int in_size, int out_size) {
  return interpolation == kBicubic ? bicubic_tap(d, in_size, out_size)
                                   : bilinear_tap(d, in_size, out_size);
}

// A u8 channel value as a float in [0, 1] (ToTensor: v / 255). The host reads a table of the same
// correctly rounded quotients the device computes.
struct U8UnitTable {
  float value[256];
  constexpr U8UnitTable() : value() {
    for (int v = 0; v < 256; ++v) value[v] = float(v) / 255.0f;
  }
};
#if !defined(__CUDA_ARCH__)
inline constexpr U8UnitTable kU8Unit{};
#endif
LUMEN_HD float u8_to_unit(uint8_t v) {
#if defined(__CUDA_ARCH__)
  return float(v) / 255.0f;
#else
  return kU8Unit.value[v];
#endif
}

LUMEN_HD float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// The blend of the n x n source taps in PyTorch's order (rows outer, columns inner, each sum
// accumulated tap by tap). Bicubic results are clamped into [0, 1], as PIL's 8-bit resize and
// torchvision's u8 resize clamp them (a bilinear blend of [0, 1] values stays inside).
//   crop: the crop's top-left pixel in a source of row stride src_w * 3, u8
LUMEN_HD void resize_mix(const uint8_t* crop, int src_w, int interpolation, const ResizeTap& ty,
                         const ResizeTap& tx, float rgb[3]) {
  const int n = resize_tap_count(interpolation);
  for (int c = 0; c < 3; ++c) {
    float out = 0.0f;
    for (int j = 0; j < n; ++j) {
      const uint8_t* row = crop + int64_t(ty.i[j]) * src_w * 3;
      float inner = tx.w[0] * u8_to_unit(row[tx.i[0] * 3 + c]);
      for (int k = 1; k < n; ++k) inner += tx.w[k] * u8_to_unit(row[tx.i[k] * 3 + c]);
      out = j == 0 ? ty.w[0] * inner : out + ty.w[j] * inner;
    }
    rgb[c] = interpolation == kBicubic ? clamp01(out) : out;
  }
}

// The resized crop at (cy, cx), straight from the u8 source (src_h, src_w, 3).
LUMEN_HD void resized_crop_pixel(const uint8_t* src, int src_w, const ViewParams& p,
                                 int interpolation, int out_h, int out_w, int cy, int cx,
                                 float rgb[3]) {
  const ResizeTap ty = resize_tap(interpolation, cy, p.crop_h, out_h);
  const ResizeTap tx = resize_tap(interpolation, cx, p.crop_w, out_w);
  const uint8_t* crop = src + (int64_t(p.crop_top) * src_w + p.crop_left) * 3;
  resize_mix(crop, src_w, interpolation, ty, tx, rgb);
}

// ---- colour (torchvision's functional ops on float tensors) ----------------------------------

// rgb_to_grayscale: 0.2989 r + 0.587 g + 0.114 b
LUMEN_HD float grayscale_of(const float rgb[3]) {
  return 0.2989f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
}

// _blend: clamp(ratio * a + (1 - ratio) * b, 0, 1)
LUMEN_HD float blend(float a, float b, float ratio) {
  return clamp01(ratio * a + (1.0f - ratio) * b);
}

LUMEN_HD void adjust_brightness(float rgb[3], float factor) {
  for (int c = 0; c < 3; ++c) rgb[c] = blend(rgb[c], 0.0f, factor);
}
// `mean` is the mean of the grayscale image the op is applied to.
LUMEN_HD void adjust_contrast(float rgb[3], float factor, float mean) {
  for (int c = 0; c < 3; ++c) rgb[c] = blend(rgb[c], mean, factor);
}
LUMEN_HD void adjust_saturation(float rgb[3], float factor) {
  const float gray = grayscale_of(rgb);
  for (int c = 0; c < 3; ++c) rgb[c] = blend(rgb[c], gray, factor);
}

// adjust_hue: rgb -> hsv (torchvision's _rgb2hsv), h += factor mod 1, hsv -> rgb (_hsv2rgb).
LUMEN_HD void adjust_hue(float rgb[3], float factor) {
  const float r = rgb[0], g = rgb[1], b = rgb[2];
  const float max_gb = g > b ? g : b, min_gb = g < b ? g : b;
  const float maxc = r > max_gb ? r : max_gb, minc = r < min_gb ? r : min_gb;
  const bool eqc = maxc == minc;
  const float cr = maxc - minc;
  const float s = cr / (eqc ? 1.0f : maxc);
  const float cr_divisor = eqc ? 1.0f : cr;
  const float rc = (maxc - r) / cr_divisor, gc = (maxc - g) / cr_divisor,
              bc = (maxc - b) / cr_divisor;
  float h;
  if (maxc == r) {
    h = bc - gc;
  } else if (maxc == g) {
    h = 2.0f + rc - bc;
  } else {
    h = 4.0f + gc - rc;
  }
  // fmod(h / 6 + 1, 1): h / 6 + 1 lies in [5/6, 11/6], where fmod is exactly "minus 1 if >= 1"
  h = h / 6.0f + 1.0f;
  if (h >= 1.0f) h -= 1.0f;
  // (h + factor) % 1.0 with Python's sign convention
  h = h + factor;
  h = h - floorf(h);
  const float v = maxc;
  const float fi = floorf(h * 6.0f);
  const float f = h * 6.0f - fi;
  int i = int(fi) % 6;
  if (i < 0) i += 6;
  const float pp = clamp01(v * (1.0f - s));
  const float q = clamp01(v * (1.0f - s * f));
  const float t = clamp01(v * (1.0f - s * (1.0f - f)));
  switch (i) {
    case 0:
      rgb[0] = v, rgb[1] = t, rgb[2] = pp;
      break;
    case 1:
      rgb[0] = q, rgb[1] = v, rgb[2] = pp;
      break;
    case 2:
      rgb[0] = pp, rgb[1] = v, rgb[2] = t;
      break;
    case 3:
      rgb[0] = pp, rgb[1] = q, rgb[2] = v;
      break;
    case 4:
      rgb[0] = t, rgb[1] = pp, rgb[2] = v;
      break;
    default:
      rgb[0] = v, rgb[1] = pp, rgb[2] = q;
      break;
  }
}

LUMEN_HD void apply_jitter_op(int op, const ViewParams& p, float contrast_mean, float rgb[3]) {
  switch (op) {
    case kBrightness:
      adjust_brightness(rgb, p.brightness);
      break;
    case kContrast:
      adjust_contrast(rgb, p.contrast, contrast_mean);
      break;
    case kSaturation:
      adjust_saturation(rgb, p.saturation);
      break;
    default:
      adjust_hue(rgb, p.hue);
      break;
  }
}

// Position of contrast in the view's jitter order, or -1 when contrast is not applied. Contrast
// blends with the mean grayscale of the image as it stands *at that point*, so the pipelines run
// a reduction pass over the ops before it (contrast_prefix_gray) first.
LUMEN_HD int contrast_position(const ViewParams& p) {
  for (int k = 0; k < p.jitter_ops; ++k) {
    if (p.order[k] == kContrast) return k;
  }
  return -1;
}

// Grayscale of a resized-crop pixel just before contrast is applied (summed by the mean pass).
LUMEN_HD float contrast_prefix_gray(const ViewParams& p, float rgb[3]) {
  const int stop = contrast_position(p);
  for (int k = 0; k < stop; ++k) apply_jitter_op(p.order[k], p, 0.0f, rgb);
  return grayscale_of(rgb);
}

// Jitter and grayscale of a resized-crop pixel, in place.
LUMEN_HD void color_pixel(const ViewParams& p, float contrast_mean, float rgb[3]) {
  for (int k = 0; k < p.jitter_ops; ++k) apply_jitter_op(p.order[k], p, contrast_mean, rgb);
  if (p.grayscale) {
    const float gray = grayscale_of(rgb);
    rgb[0] = rgb[1] = rgb[2] = gray;
  }
}

// Resized-crop pixel under output pixel (y, x) of the view (rotation and flips undone).
LUMEN_HD void crop_pixel(const uint8_t* src, int src_w, const AugmentViewSpec& spec,
                         const ViewParams& p, int y, int x, float rgb[3]) {
  int cy, cx;
  view_to_crop_coords(p, spec.out_h, spec.out_w, y, x, cy, cx);
  resized_crop_pixel(src, src_w, p, spec.interpolation, spec.out_h, spec.out_w, cy, cx, rgb);
}

// solarize(threshold): v >= threshold -> 1 - v
LUMEN_HD float solarize_value(float v, float threshold) { return v >= threshold ? 1.0f - v : v; }

// What comes before the blur, on a resized-crop pixel in place: jitter and grayscale, then
// solarize when drawn and the view solarizes before the blur.
LUMEN_HD void pre_blur_pixel(const AugmentViewSpec& spec, const ViewParams& p, float contrast_mean,
                             float rgb[3]) {
  color_pixel(p, contrast_mean, rgb);
  if (p.solarize && spec.solarize_before_blur) {
    for (int c = 0; c < 3; ++c) rgb[c] = solarize_value(rgb[c], spec.solarize_threshold);
  }
}

// Output pixel (y, x) through crop, flips, rotation and pre_blur_pixel (jitter, grayscale and,
// for VICReg's order, solarize).
LUMEN_HD void stage_pixel(const uint8_t* src, int src_w, const AugmentViewSpec& spec,
                          const ViewParams& p, float contrast_mean, int y, int x, float rgb[3]) {
  crop_pixel(src, src_w, spec, p, y, x, rgb);
  pre_blur_pixel(spec, p, contrast_mean, rgb);
}

// ---- blur, solarize, normalize ----------------------------------------------------------------

// Gaussian weights exp(-x^2 / (2 sigma^2)) for x = -radius..radius, normalised to sum 1 (as
// torchvision's _get_gaussian_kernel1d). Computed in double and rounded once, so both backends
// get bit-identical weights. weights: (2 * radius + 1)
LUMEN_HD void gaussian_weights(float sigma, int radius, float* weights) {
  double total = 0;
  for (int k = -radius; k <= radius; ++k) {
    const double x = double(k) / double(sigma);
    total += exp(-0.5 * x * x);
  }
  for (int k = -radius; k <= radius; ++k) {
    const double x = double(k) / double(sigma);
    weights[k + radius] = float(exp(-0.5 * x * x) / total);
  }
}

// torch.nn.functional.pad(mode="reflect") index: mirror without repeating the edge.
LUMEN_HD int reflect_index(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

// The last two steps: solarize when drawn (on [0, 1] values; unless the view solarized before
// the blur), then (v - mean) / std when normalising. A custom stage runs between them.
LUMEN_HD float solarized(const AugmentViewSpec& spec, const ViewParams& p, float v) {
  return p.solarize && !spec.solarize_before_blur ? solarize_value(v, spec.solarize_threshold) : v;
}
LUMEN_HD float normalized(const AugmentViewSpec& spec, int channel, float v) {
  return spec.normalize ? (v - spec.mean[channel]) / spec.std[channel] : v;
}
LUMEN_HD float finish_value(const AugmentViewSpec& spec, const ViewParams& p, int channel,
                            float v) {
  return normalized(spec, channel, solarized(spec, p, v));
}

// ---- custom stages (augment/custom_stage.h) ----------------------------------------------------

// The random stream of a view's custom stage: Philox keyed by (seed, epoch, dataset index, view)
// as the view's own draws, on a stream of its own (bit 31 of the view word set: stream = epoch
// << 32 | 1 << 31 | view) at counters index << 32 | k. A pure function of that key, so a stage's
// draws repeat on a resume and agree between the CPU and the GPU.
struct StageRandom {
  uint64_t seed = 0, stream = 0, base = 0;
  uint32_t next = 0;  // the draw uniform() takes next
  // The next uniform in [0, 1), from draw 0 up (for a stage's per-view parameters).
  LUMEN_HD float uniform() { return uniform_at(next++); }
  // Draw k, in any order (e.g. per pixel: k = a number past the per-view draws + pixel index).
  LUMEN_HD float uniform_at(uint32_t k) const { return philox_uniform(seed, stream, base + k); }
  LUMEN_HD float normal_at(uint32_t k) const { return philox_normal(seed, stream, base + k); }
};
LUMEN_HD StageRandom stage_random(uint64_t seed, uint64_t epoch, int64_t sample, int view) {
  StageRandom r;
  r.seed = seed;
  r.stream = (epoch << 32) | 0x80000000ull | uint64_t(uint32_t(view) & 0x7fffffffu);
  r.base = uint64_t(sample) << 32;
  return r;
}

// Where a pixel of a view lies, for a pointwise stage: row y, column x of an (h, w) view.
struct PixelAt {
  int y, x, h, w;
};

// The fused kernel's stage when a view has no custom one.
struct NoStage {
  struct Params {};
};

}  // namespace lumen::kernels
