#include "kernels/winograd.h"

#include "kernels/common.h"

#include <cstddef>
#include <vector>

namespace lumen::kernels {

template <typename T>
void winograd_filter_transform_cpu(const T* w, int64_t k, int64_t c, T* u) {
  const int64_t xi = k * c;  // stride between the 16 positions in u
#pragma omp parallel for schedule(static) if (k * c > 16384)
  for (int64_t o = 0; o < k; ++o) {
    const T* g = w + o * 9 * c;  // g[(a * 3 + b) * c + i]: the 3x3 taps, each a row over i
    T* out = u + o * c;
#pragma omp simd
    for (int64_t i = 0; i < c; ++i) {
      // t = G g (4x3), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
      T t[4][3];
      for (int b = 0; b < 3; ++b) {
        const T g0 = g[b * c + i], g1 = g[(3 + b) * c + i], g2 = g[(6 + b) * c + i];
        t[0][b] = g0;
        t[1][b] = T(0.5) * (g0 + g1 + g2);
        t[2][b] = T(0.5) * (g0 - g1 + g2);
        t[3][b] = g2;
      }
      // U = t G^T (4x4)
      for (int a = 0; a < 4; ++a) {
        out[(a * 4 + 0) * xi + i] = t[a][0];
        out[(a * 4 + 1) * xi + i] = T(0.5) * (t[a][0] + t[a][1] + t[a][2]);
        out[(a * 4 + 2) * xi + i] = T(0.5) * (t[a][0] - t[a][1] + t[a][2]);
        out[(a * 4 + 3) * xi + i] = t[a][2];
      }
    }
  }
}

template <typename T>
LUMEN_VECTOR_CLONES void winograd_input_transform_cpu(const T* x, const WinogradShape& s, int64_t c,
                                                      int64_t t0, int64_t t1, T* v,
                                                      int64_t stride) {
  const int64_t th = s.tiles_h(), tw = s.tiles_w();
  const std::vector<T> zeros(size_t(c), T(0));
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t n = t / (th * tw), ty = (t / tw) % th, tx = t % tw;
    // The 16 input rows of channels (zeros outside the image): d[a][b] at (2ty-1+a, 2tx-1+b).
    const T* d[4][4];
    for (int a = 0; a < 4; ++a) {
      const int64_t y = 2 * ty - 1 + a;
      for (int b = 0; b < 4; ++b) {
        const int64_t xx = 2 * tx - 1 + b;
        const bool inside = y >= 0 && y < s.h && xx >= 0 && xx < s.w;
        d[a][b] = inside ? x + ((n * s.h + y) * s.w + xx) * c : zeros.data();
      }
    }
    T* out = v + (t - t0) * c;
    const int64_t xi = stride * c;  // between the 16 positions in v
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      // t = B^T d, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
      T r[4][4];
      for (int b = 0; b < 4; ++b) {
        const T d0 = d[0][b][ch], d1 = d[1][b][ch], d2 = d[2][b][ch], d3 = d[3][b][ch];
        r[0][b] = d0 - d2;
        r[1][b] = d1 + d2;
        r[2][b] = d2 - d1;
        r[3][b] = d1 - d3;
      }
      // V = t B
      for (int a = 0; a < 4; ++a) {
        out[(a * 4 + 0) * xi + ch] = r[a][0] - r[a][2];
        out[(a * 4 + 1) * xi + ch] = r[a][1] + r[a][2];
        out[(a * 4 + 2) * xi + ch] = r[a][2] - r[a][1];
        out[(a * 4 + 3) * xi + ch] = r[a][1] - r[a][3];
      }
    }
  }
}

// The tile's output pixels: where each of its 2x2 outputs goes in y (null outside the image).
template <typename T>
inline void output_tile_pointers(const WinogradShape& s, int64_t k, int64_t t, T* y, T* dst[2][2]) {
  const int64_t th = s.tiles_h(), tw = s.tiles_w();
  const int64_t n = t / (th * tw), ty = (t / tw) % th, tx = t % tw;
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const int64_t yy = 2 * ty + a, xx = 2 * tx + b;
      dst[a][b] = yy < s.h && xx < s.w ? y + ((n * s.h + yy) * s.w + xx) * k : nullptr;
    }
  }
}

// The 2x2 outputs of one tile and channel.
template <typename T>
struct OutputTile {
  T y00, y01, y10, y11;
};

// Y = A^T m A for channel ch: m[ξ] at in[ξ * xi + ch], A^T = [1 1 1 0; 0 1 -1 -1]. Scalars in
// and out (no arrays), so that a channel loop calling it vectorises.
template <typename T>
inline OutputTile<T> output_tile_values(const T* in, int64_t xi, int64_t ch) {
  auto m = [&](int a, int b) { return in[(a * 4 + b) * xi + ch]; };
  // r = A^T m (2x4)
  const T r00 = m(0, 0) + m(1, 0) + m(2, 0), r10 = m(1, 0) - m(2, 0) - m(3, 0);
  const T r01 = m(0, 1) + m(1, 1) + m(2, 1), r11 = m(1, 1) - m(2, 1) - m(3, 1);
  const T r02 = m(0, 2) + m(1, 2) + m(2, 2), r12 = m(1, 2) - m(2, 2) - m(3, 2);
  const T r03 = m(0, 3) + m(1, 3) + m(2, 3), r13 = m(1, 3) - m(2, 3) - m(3, 3);
  // Y = r A
  return {r00 + r01 + r02, r01 - r02 - r03, r10 + r11 + r12, r11 - r12 - r13};
}

template <typename T>
LUMEN_VECTOR_CLONES void winograd_output_transform_cpu(const T* m, const WinogradShape& s,
                                                       int64_t k, int64_t t0, int64_t t1, T* y) {
  const int64_t xi = (t1 - t0) * k;  // stride between the 16 positions in m
  for (int64_t t = t0; t < t1; ++t) {
    const T* in = m + (t - t0) * k;
    T* dst[2][2];
    output_tile_pointers(s, k, t, y, dst);
#pragma omp simd
    for (int64_t ch = 0; ch < k; ++ch) {
      const OutputTile<T> v = output_tile_values(in, xi, ch);
      if (dst[0][0]) dst[0][0][ch] = v.y00;
      if (dst[0][1]) dst[0][1][ch] = v.y01;
      if (dst[1][0]) dst[1][0][ch] = v.y10;
      if (dst[1][1]) dst[1][1][ch] = v.y11;
    }
  }
}

// The epilogue of one output value.
template <bool kResidual, bool kRelu>
inline float epilogue_value(float v, float bias, const float* residual, int64_t ch) {
  float r = v + bias;
  if (kResidual) r += residual[ch];
  if (kRelu) r = r > 0.0f ? r : 0.0f;
  return r;
}

// A tile whose four outputs lie inside the image: one pass over the channels writing all four
// (explicit pointers, so that the loop vectorises).
template <bool kResidual, bool kRelu>
inline void output_tile_full(const float* in, int64_t xi, int64_t k, float* __restrict d00,
                             float* __restrict d01, float* __restrict d10, float* __restrict d11,
                             const float* r00, const float* r01, const float* r10, const float* r11,
                             const float* __restrict bias) {
#pragma omp simd
  for (int64_t ch = 0; ch < k; ++ch) {
    const OutputTile<float> v = output_tile_values(in, xi, ch);
    d00[ch] = epilogue_value<kResidual, kRelu>(v.y00, bias[ch], r00, ch);
    d01[ch] = epilogue_value<kResidual, kRelu>(v.y01, bias[ch], r01, ch);
    d10[ch] = epilogue_value<kResidual, kRelu>(v.y10, bias[ch], r10, ch);
    d11[ch] = epilogue_value<kResidual, kRelu>(v.y11, bias[ch], r11, ch);
  }
}

// A border tile: the outputs inside the image only.
template <bool kResidual, bool kRelu>
inline void output_tile_border(const float* in, int64_t xi, int64_t k, float* const dst[2][2],
                               const float* const res[2][2], const float* bias) {
  for (int64_t ch = 0; ch < k; ++ch) {
    const OutputTile<float> v = output_tile_values(in, xi, ch);
    const float values[2][2] = {{v.y00, v.y01}, {v.y10, v.y11}};
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        if (dst[a][b]) {
          dst[a][b][ch] = epilogue_value<kResidual, kRelu>(values[a][b], bias[ch], res[a][b], ch);
        }
      }
    }
  }
}

template <bool kResidual, bool kRelu>
LUMEN_VECTOR_CLONES void output_transform_fused(const float* m, int64_t stride,
                                                const WinogradShape& s, int64_t k, int64_t t0,
                                                int64_t t1, float* y, const float* bias,
                                                const float* residual) {
  const int64_t xi = stride * k;  // between the 16 positions in m
  for (int64_t t = t0; t < t1; ++t) {
    float* dst[2][2];
    output_tile_pointers(s, k, t, y, dst);
    const float* res[2][2];
    bool full = true;
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        full = full && dst[a][b] != nullptr;
        // The residual of the pixel the output goes to.
        res[a][b] = kResidual && dst[a][b] ? residual + (dst[a][b] - y) : nullptr;
      }
    }
    const float* in = m + (t - t0) * k;
    if (full) {
      output_tile_full<kResidual, kRelu>(in, xi, k, dst[0][0], dst[0][1], dst[1][0], dst[1][1],
                                         res[0][0], res[0][1], res[1][0], res[1][1], bias);
    } else {
      output_tile_border<kResidual, kRelu>(in, xi, k, dst, res, bias);
    }
  }
}

void winograd_output_transform_fused_cpu(const float* m, int64_t stride, const WinogradShape& s,
                                         int64_t k, int64_t t0, int64_t t1, float* y,
                                         const float* bias, const float* residual, bool relu) {
  if (residual) {
    relu ? output_transform_fused<true, true>(m, stride, s, k, t0, t1, y, bias, residual)
         : output_transform_fused<true, false>(m, stride, s, k, t0, t1, y, bias, residual);
  } else {
    relu ? output_transform_fused<false, true>(m, stride, s, k, t0, t1, y, bias, residual)
         : output_transform_fused<false, false>(m, stride, s, k, t0, t1, y, bias, residual);
  }
}

template <typename T>
LUMEN_VECTOR_CLONES void winograd_grad_transform_cpu(const T* dy, const WinogradShape& s, int64_t k,
                                                     int64_t t0, int64_t t1, T* z) {
  const int64_t th = s.tiles_h(), tw = s.tiles_w(), count = t1 - t0;
  const std::vector<T> zeros(size_t(k), T(0));
  const int64_t xi = count * k;  // stride between the 16 positions in z
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t n = t / (th * tw), ty = (t / tw) % th, tx = t % tw;
    const T* d[2][2];  // the tile's 2x2 output gradients (zeros outside the image)
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const int64_t yy = 2 * ty + a, xx = 2 * tx + b;
        d[a][b] = yy < s.h && xx < s.w ? dy + ((n * s.h + yy) * s.w + xx) * k : zeros.data();
      }
    }
    T* out = z + (t - t0) * k;
#pragma omp simd
    for (int64_t ch = 0; ch < k; ++ch) {
      // r = A dY (4x2), A = [1 0; 1 1; 1 -1; 0 -1]
      T r[4][2];
      for (int b = 0; b < 2; ++b) {
        const T y0 = d[0][b][ch], y1 = d[1][b][ch];
        r[0][b] = y0;
        r[1][b] = y0 + y1;
        r[2][b] = y0 - y1;
        r[3][b] = -y1;
      }
      // Z = r A^T (4x4)
      for (int a = 0; a < 4; ++a) {
        out[(a * 4 + 0) * xi + ch] = r[a][0];
        out[(a * 4 + 1) * xi + ch] = r[a][0] + r[a][1];
        out[(a * 4 + 2) * xi + ch] = r[a][0] - r[a][1];
        out[(a * 4 + 3) * xi + ch] = -r[a][1];
      }
    }
  }
}

template <typename T>
void winograd_filter_grad_cpu(const T* du, int64_t k, int64_t c, T* dw) {
  const int64_t xi = k * c;  // stride between the 16 positions in du
#pragma omp parallel for schedule(static) if (k * c > 16384)
  for (int64_t o = 0; o < k; ++o) {
    const T* in = du + o * c;
    T* g = dw + o * 9 * c;  // g[(a * 3 + b) * c + i]
#pragma omp simd
    for (int64_t i = 0; i < c; ++i) {
      // r = G^T dU (3x4), G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1]
      T r[3][4];
      for (int b = 0; b < 4; ++b) {
        const T u0 = in[(0 * 4 + b) * xi + i], u1 = in[(1 * 4 + b) * xi + i];
        const T u2 = in[(2 * 4 + b) * xi + i], u3 = in[(3 * 4 + b) * xi + i];
        r[0][b] = u0 + T(0.5) * (u1 + u2);
        r[1][b] = T(0.5) * (u1 - u2);
        r[2][b] = T(0.5) * (u1 + u2) + u3;
      }
      // dW = r G (3x3)
      for (int a = 0; a < 3; ++a) {
        g[(a * 3 + 0) * c + i] = r[a][0] + T(0.5) * (r[a][1] + r[a][2]);
        g[(a * 3 + 1) * c + i] = T(0.5) * (r[a][1] - r[a][2]);
        g[(a * 3 + 2) * c + i] = T(0.5) * (r[a][1] + r[a][2]) + r[a][3];
      }
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void winograd_filter_transform_cpu<T>(const T*, int64_t, int64_t, T*);                  \
  template void winograd_input_transform_cpu<T>(const T*, const WinogradShape&, int64_t, int64_t,  \
                                                int64_t, T*, int64_t);                             \
  template void winograd_grad_transform_cpu<T>(const T*, const WinogradShape&, int64_t, int64_t,   \
                                               int64_t, T*);                                       \
  template void winograd_filter_grad_cpu<T>(const T*, int64_t, int64_t, T*);                       \
  template void winograd_output_transform_cpu<T>(const T*, const WinogradShape&, int64_t, int64_t, \
                                                 int64_t, T*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
