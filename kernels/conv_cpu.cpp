#include <cstring>
#include <vector>

#include "kernels/conv.h"

namespace lumen::kernels {

template <typename T>
void im2col_cpu(const T* x, T* cols, const ConvGeometry& g) {
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), patch = g.patch();
  const int64_t rows = g.n * oh_n * ow_n;
#pragma omp parallel for schedule(static) if (rows * patch > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t ow = r % ow_n, oh = (r / ow_n) % oh_n, n = r / (ow_n * oh_n);
    T* out = cols + r * patch;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t y = oh * g.stride - g.padding + i;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t xx = ow * g.stride - g.padding + j;
        T* dst = out + (i * g.kw + j) * g.c;
        if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) {
          std::memset(static_cast<void*>(dst), 0, sizeof(T) * g.c);  // all-zero bits are 0
        } else {
          std::memcpy(dst, x + ((n * g.h + y) * g.w + xx) * g.c, sizeof(T) * g.c);
        }
      }
    }
  }
}

template <typename T>
void col2im_cpu(const T* cols, T* dx, const ConvGeometry& g) {
  using C = compute_t<T>;
  const int64_t oh_n = g.out_h(), ow_n = g.out_w(), patch = g.patch();
  const int64_t image = g.h * g.w * g.c;
  // One image per iteration: images never overlap, so threads never write the same element.
#pragma omp parallel for schedule(static) if (g.n > 1)
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<C> acc(image, C(0));
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        const T* row = cols + ((n * oh_n + oh) * ow_n + ow) * patch;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t y = oh * g.stride - g.padding + i;
          if (y < 0 || y >= g.h) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t xx = ow * g.stride - g.padding + j;
            if (xx < 0 || xx >= g.w) continue;
            const T* src = row + (i * g.kw + j) * g.c;
            C* dst = acc.data() + (y * g.w + xx) * g.c;
            for (int64_t c = 0; c < g.c; ++c) dst[c] += C(load(src[c]));
          }
        }
      }
    }
    T* out = dx + n * image;
    for (int64_t e = 0; e < image; ++e) out[e] = store<T>(acc[e]);
  }
}

#define LUMEN_INSTANTIATE(T)                                      \
  template void im2col_cpu<T>(const T*, T*, const ConvGeometry&); \
  template void col2im_cpu<T>(const T*, T*, const ConvGeometry&);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
