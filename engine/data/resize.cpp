#include "engine/data/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lumen::data {

namespace {

// Fixed-point weights with 22 fractional bits, as PIL's 8-bit resampler uses, so that the cache
// holds exactly what PIL + torchvision would produce.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Filter taps of one output sample: input indices [first, first + weights.size()).
struct Taps {
  int first = 0;
  std::vector<int32_t> weights;
};

// Taps for output samples [crop, crop + count) of an axis resized from in_size to out_size, with
// a triangle filter stretched by the downscale factor (PIL's antialiased bilinear).
std::vector<Taps> triangle_taps(int in_size, int out_size, int crop, int count) {
  const double scale = double(in_size) / double(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's half-width is 1 input pixel, stretched
  std::vector<Taps> taps(static_cast<size_t>(count));
  std::vector<double> w;
  for (int j = 0; j < count; ++j) {
    const double center = (double(crop + j) + 0.5) * scale;
    const int lo = std::max(int(center - support + 0.5), 0);
    const int hi = std::min(int(center + support + 0.5), in_size);
    w.clear();
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      const double d = std::abs((double(x) - center + 0.5) / filter_scale);
      w.push_back(d < 1.0 ? 1.0 - d : 0.0);
      total += w.back();
    }
    Taps& t = taps[size_t(j)];
    t.first = lo;
    for (double v : w) {
      const double k = total != 0.0 ? v / total : 0.0;
      t.weights.push_back(
          int32_t(k < 0 ? -0.5 + k * (1 << kPrecisionBits) : 0.5 + k * (1 << kPrecisionBits)));
    }
  }
  return taps;
}

uint8_t clip8(int32_t fixed) {
  const int32_t v = fixed >> kPrecisionBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

void resize_shorter_and_center_crop(const uint8_t* src, int width, int height, uint8_t* dst,
                                    int size) {
  // torchvision's Resize(size): the shorter side becomes size, the longer int(size * long / short).
  int out_w = size, out_h = size;
  if (width <= height) {
    out_h = int(double(size) * height / width);
  } else {
    out_w = int(double(size) * width / height);
  }
  // CenterCrop: offset int(round((L - size) / 2)) with Python's round half to even.
  const int crop_x = int(std::nearbyint((out_w - size) / 2.0));
  const int crop_y = int(std::nearbyint((out_h - size) / 2.0));
  const std::vector<Taps> tx = triangle_taps(width, out_w, crop_x, size);
  const std::vector<Taps> ty = triangle_taps(height, out_h, crop_y, size);

  // Horizontal pass over the source rows the vertical taps reach, rounded to u8 as PIL does:
  // tmp (rows, size, 3) u8.
  const int row_lo = ty.front().first;
  const int row_hi = int(ty.back().first + ty.back().weights.size());
  std::vector<uint8_t> tmp(size_t(row_hi - row_lo) * size_t(size) * 3);
  for (int y = row_lo; y < row_hi; ++y) {
    const uint8_t* in = src + size_t(y) * size_t(width) * 3;
    uint8_t* out = &tmp[size_t(y - row_lo) * size_t(size) * 3];
    for (int j = 0; j < size; ++j) {
      const Taps& t = tx[size_t(j)];
      int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
      const uint8_t* p = in + size_t(t.first) * 3;
      for (size_t k = 0; k < t.weights.size(); ++k, p += 3) {
        r += int32_t(p[0]) * t.weights[k];
        g += int32_t(p[1]) * t.weights[k];
        b += int32_t(p[2]) * t.weights[k];
      }
      out[3 * j + 0] = clip8(r);
      out[3 * j + 1] = clip8(g);
      out[3 * j + 2] = clip8(b);
    }
  }
  // Vertical pass.
  std::vector<int32_t> acc(size_t(size) * 3);
  for (int i = 0; i < size; ++i) {
    const Taps& t = ty[size_t(i)];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const int32_t w = t.weights[k];
      const uint8_t* row = &tmp[(size_t(t.first - row_lo) + k) * size_t(size) * 3];
      for (size_t c = 0; c < acc.size(); ++c) acc[c] += int32_t(row[c]) * w;
    }
    uint8_t* out = dst + size_t(i) * size_t(size) * 3;
    for (size_t c = 0; c < acc.size(); ++c) out[c] = clip8(acc[c]);
  }
}

}  // namespace lumen::data
