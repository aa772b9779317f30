#include "engine/data/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lumen::data {

namespace {

// Filter taps of one output sample: input indices [first, first + weights.size()).
struct Taps {
  int first = 0;
  std::vector<float> weights;
};

// Taps for output samples [crop, crop + count) of an axis resized from in_size to out_size, with
// a triangle filter stretched by the downscale factor (PIL's antialiased bilinear).
std::vector<Taps> triangle_taps(int in_size, int out_size, int crop, int count) {
  const double scale = double(in_size) / double(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's half-width is 1 input pixel, stretched
  std::vector<Taps> taps(static_cast<size_t>(count));
  for (int j = 0; j < count; ++j) {
    const double center = (double(crop + j) + 0.5) * scale;
    const int lo = std::max(int(center - support + 0.5), 0);
    const int hi = std::min(int(center + support + 0.5), in_size);
    Taps& t = taps[size_t(j)];
    t.first = lo;
    double total = 0;
    std::vector<double> w;
    for (int x = lo; x < hi; ++x) {
      const double d = std::abs((double(x) - center + 0.5) / filter_scale);
      const double v = d < 1.0 ? 1.0 - d : 0.0;
      w.push_back(v);
      total += v;
    }
    if (w.empty() || total <= 0) {  // cannot happen for sizes >= 1; keep the nearest pixel
      t.first = std::min(std::max(int(center), 0), in_size - 1);
      t.weights = {1.0f};
      continue;
    }
    for (double v : w) t.weights.push_back(float(v / total));
  }
  return taps;
}

// The resized length of the longer side and the crop offsets, as torchvision computes them.
void resized_geometry(int width, int height, int size, int* out_w, int* out_h) {
  if (width <= height) {
    *out_w = size;
    *out_h = int(double(size) * height / width);
  } else {
    *out_h = size;
    *out_w = int(double(size) * width / height);
  }
}

}  // namespace

void resize_shorter_and_center_crop(const uint8_t* src, int width, int height, uint8_t* dst,
                                    int size) {
  int out_w = 0, out_h = 0;
  resized_geometry(width, height, size, &out_w, &out_h);
  const int crop_x = int(std::lround((out_w - size) / 2.0));
  const int crop_y = int(std::lround((out_h - size) / 2.0));
  const std::vector<Taps> tx = triangle_taps(width, out_w, crop_x, size);
  const std::vector<Taps> ty = triangle_taps(height, out_h, crop_y, size);

  // Horizontal pass over the source rows the vertical taps reach: tmp (rows, size, 3) f32.
  const int row_lo = ty.front().first;
  const int row_hi = int(ty.back().first + ty.back().weights.size());
  std::vector<float> tmp(size_t(row_hi - row_lo) * size_t(size) * 3);
  for (int y = row_lo; y < row_hi; ++y) {
    const uint8_t* in = src + size_t(y) * size_t(width) * 3;
    float* out = &tmp[size_t(y - row_lo) * size_t(size) * 3];
    for (int j = 0; j < size; ++j) {
      const Taps& t = tx[size_t(j)];
      float r = 0, g = 0, b = 0;
      const uint8_t* p = in + size_t(t.first) * 3;
      for (size_t k = 0; k < t.weights.size(); ++k, p += 3) {
        r += t.weights[k] * p[0];
        g += t.weights[k] * p[1];
        b += t.weights[k] * p[2];
      }
      out[3 * j + 0] = r;
      out[3 * j + 1] = g;
      out[3 * j + 2] = b;
    }
  }
  // Vertical pass, rounded to the nearest integer and clamped to [0, 255].
  std::vector<float> acc(size_t(size) * 3);
  for (int i = 0; i < size; ++i) {
    const Taps& t = ty[size_t(i)];
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const float w = t.weights[k];
      const float* row = &tmp[(size_t(t.first - row_lo) + k) * size_t(size) * 3];
      for (size_t c = 0; c < acc.size(); ++c) acc[c] += w * row[c];
    }
    uint8_t* out = dst + size_t(i) * size_t(size) * 3;
    for (size_t c = 0; c < acc.size(); ++c) {
      out[c] = uint8_t(std::min(std::max(std::lround(acc[c]), 0L), 255L));
    }
  }
}

}  // namespace lumen::data
