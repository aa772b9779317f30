#include "kernels/image.h"

namespace lumen::kernels {

template <typename T>
void normalize_images_cpu(const uint8_t* x, T* y, int64_t pixels, const float mean[3],
                          const float std[3]) {
  const float inv[3] = {1.0f / std[0], 1.0f / std[1], 1.0f / std[2]};
#pragma omp parallel for schedule(static) if (pixels > 16384)
  for (int64_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c)
      y[p * 3 + c] = store<T>(normalized_pixel(x[p * 3 + c], mean[c], inv[c]));
  }
}

template void normalize_images_cpu<float>(const uint8_t*, float*, int64_t, const float*,
                                          const float*);
template void normalize_images_cpu<bf16>(const uint8_t*, bf16*, int64_t, const float*,
                                         const float*);

}  // namespace lumen::kernels
