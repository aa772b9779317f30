#include <cstring>
#include <vector>

#include "kernels/conv.h"

namespace lumen::kernels {

namespace {

// dst[0, n) = src[0, n): a plain loop for short runs (a 7x7 stem over 3 channels copies 21
// elements at a time, where a memcpy call cost as much as the copy), memcpy for long ones.
template <typename T>
inline void copy_run(T* dst, const T* src, int64_t n) {
  if (n >= 64) {
    std::memcpy(static_cast<void*>(dst), src, sizeof(T) * size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// Writes row r of the im2col matrix (one receptive field, ordered (i, j, c)) to out.
template <typename T>
inline void im2col_row(const T* x, T* out, const ConvGeometry& g, int64_t r) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  const int64_t ow = r % ow_n, oh = (r / ow_n) % oh_n, n = r / (ow_n * oh_n);
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t y = oh * g.stride - g.padding + i;
    T* dst = out + i * g.kw * g.c;
    if (y < 0 || y >= g.h) {
      std::memset(static_cast<void*>(dst), 0, sizeof(T) * g.kw * g.c);  // all-zero bits are 0
      continue;
    }
    const int64_t x0 = ow * g.stride - g.padding;
    const T* src_row = x + (n * g.h + y) * g.w * g.c;
    if (x0 >= 0 && x0 + g.kw <= g.w) {  // the whole window row is inside: one copy
      copy_run(dst, src_row + x0 * g.c, g.kw * g.c);
      continue;
    }
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t xx = x0 + j;
      if (xx < 0 || xx >= g.w) {
        std::memset(static_cast<void*>(dst + j * g.c), 0, sizeof(T) * g.c);
      } else {
        copy_run(dst + j * g.c, src_row + xx * g.c, g.c);
      }
    }
  }
}

// Adds row r of a cols matrix into its receptive field of acc (C = T or a wider type).
template <typename T, typename C>
inline void col2im_row(const T* row, C* acc, const ConvGeometry& g, int64_t r) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  const int64_t ow = r % ow_n, oh = (r / ow_n) % oh_n, n = r / (ow_n * oh_n);
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t y = oh * g.stride - g.padding + i;
    if (y < 0 || y >= g.h) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t xx = ow * g.stride - g.padding + j;
      if (xx < 0 || xx >= g.w) continue;
      const T* src = row + (i * g.kw + j) * g.c;
      C* dst = acc + ((n * g.h + y) * g.w + xx) * g.c;
      for (int64_t c = 0; c < g.c; ++c) dst[c] = store<C>(load(dst[c]) + load(src[c]));
    }
  }
}

}  // namespace

template <typename T>
void im2col_cpu(const T* x, T* cols, const ConvGeometry& g) {
  const int64_t rows = g.n * g.out_h() * g.out_w(), patch = g.patch();
#pragma omp parallel for schedule(static) if (rows * patch > 65536)
  for (int64_t r = 0; r < rows; ++r) im2col_row(x, cols + r * patch, g, r);
}

template <typename T>
void im2col_rows_cpu(const T* x, T* cols, const ConvGeometry& g, int64_t row_begin,
                     int64_t row_end) {
  const int64_t patch = g.patch();
  for (int64_t r = row_begin; r < row_end; ++r) im2col_row(x, cols + (r - row_begin) * patch, g, r);
}

template <typename T>
void col2im_add_rows_cpu(const T* cols, T* dx, const ConvGeometry& g, int64_t row_begin,
                         int64_t row_end) {
  const int64_t patch = g.patch();
  for (int64_t r = row_begin; r < row_end; ++r)
    col2im_row(cols + (r - row_begin) * patch, dx, g, r);
}

template <typename T>
void col2im_cpu(const T* cols, T* dx, const ConvGeometry& g) {
  using C = compute_t<T>;
  const int64_t per_image = g.out_h() * g.out_w(), patch = g.patch();
  const int64_t image = g.h * g.w * g.c;
  // One image per iteration: images never overlap, so threads never write the same element.
#pragma omp parallel for schedule(static) if (g.n > 1)
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<C> acc(image, C(0));
    const ConvGeometry one{1, g.h, g.w, g.c, g.kh, g.kw, g.stride, g.padding};
    for (int64_t r = 0; r < per_image; ++r) {
      col2im_row(cols + (n * per_image + r) * patch, acc.data(), one, r);
    }
    T* out = dx + n * image;
    for (int64_t e = 0; e < image; ++e) out[e] = store<T>(acc[e]);
  }
}

#define LUMEN_INSTANTIATE(T)                                                             \
  template void im2col_cpu<T>(const T*, T*, const ConvGeometry&);                        \
  template void col2im_cpu<T>(const T*, T*, const ConvGeometry&);                        \
  template void im2col_rows_cpu<T>(const T*, T*, const ConvGeometry&, int64_t, int64_t); \
  template void col2im_add_rows_cpu<T>(const T*, T*, const ConvGeometry&, int64_t, int64_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
