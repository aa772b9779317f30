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
                                                      int64_t t0, int64_t t1, T* v) {
  const int64_t th = s.tiles_h(), tw = s.tiles_w(), count = t1 - t0;
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
    const int64_t xi = count * c;  // stride between the 16 positions in v
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

template <typename T>
LUMEN_VECTOR_CLONES void winograd_output_transform_cpu(const T* m, const WinogradShape& s,
                                                       int64_t k, int64_t t0, int64_t t1, T* y) {
  const int64_t th = s.tiles_h(), tw = s.tiles_w(), count = t1 - t0;
  const int64_t xi = count * k;  // stride between the 16 positions in m
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t n = t / (th * tw), ty = (t / tw) % th, tx = t % tw;
    const T* in = m + (t - t0) * k;
    T* dst[2][2];
    bool keep[2][2];
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const int64_t yy = 2 * ty + a, xx = 2 * tx + b;
        keep[a][b] = yy < s.h && xx < s.w;
        dst[a][b] = keep[a][b] ? y + ((n * s.h + yy) * s.w + xx) * k : nullptr;
      }
    }
#pragma omp simd
    for (int64_t ch = 0; ch < k; ++ch) {
      // r = A^T m (2x4), A^T = [1 1 1 0; 0 1 -1 -1]
      T r[2][4];
      for (int b = 0; b < 4; ++b) {
        const T m0 = in[(0 * 4 + b) * xi + ch], m1 = in[(1 * 4 + b) * xi + ch];
        const T m2 = in[(2 * 4 + b) * xi + ch], m3 = in[(3 * 4 + b) * xi + ch];
        r[0][b] = m0 + m1 + m2;
        r[1][b] = m1 - m2 - m3;
      }
      // Y = r A
      for (int a = 0; a < 2; ++a) {
        if (keep[a][0]) dst[a][0][ch] = r[a][0] + r[a][1] + r[a][2];
        if (keep[a][1]) dst[a][1][ch] = r[a][1] - r[a][2] - r[a][3];
      }
    }
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
                                                int64_t, T*);                                      \
  template void winograd_grad_transform_cpu<T>(const T*, const WinogradShape&, int64_t, int64_t,   \
                                               int64_t, T*);                                       \
  template void winograd_filter_grad_cpu<T>(const T*, int64_t, int64_t, T*);                       \
  template void winograd_output_transform_cpu<T>(const T*, const WinogradShape&, int64_t, int64_t, \
                                                 int64_t, T*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
