#include "kernels/image.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

struct Channels {
  float mean[3], inv_std[3];
};

template <typename T>
__global__ void normalize_images_kernel(const uint8_t* x, T* y, int64_t n, Channels ch) {
  LUMEN_GRID_STRIDE(i, n) {
    const int c = int(i % 3);
    y[i] = store<T>(normalized_pixel(x[i], ch.mean[c], ch.inv_std[c]));
  }
}

template <typename T>
void normalize_images_cuda(const uint8_t* x, T* y, int64_t pixels, const float mean[3],
                           const float std[3], cudaStream_t stream) {
  if (pixels == 0) return;
  Channels ch;
  for (int c = 0; c < 3; ++c) {
    ch.mean[c] = mean[c];
    ch.inv_std[c] = 1.0f / std[c];
  }
  normalize_images_kernel<<<grid_for(pixels * 3), kBlock, 0, stream>>>(x, y, pixels * 3, ch);
  LUMEN_LAUNCH_CHECK();
}

template void normalize_images_cuda<float>(const uint8_t*, float*, int64_t, const float*,
                                           const float*, cudaStream_t);
template void normalize_images_cuda<bf16>(const uint8_t*, bf16*, int64_t, const float*,
                                          const float*, cudaStream_t);

}  // namespace lumen::kernels
