#include "augment/normalize.h"

#include "kernels/image.h"

namespace lumen {

Tensor normalize_images(const Tensor& images, const NormalizeConfig& normalize, DType dtype) {
  LUMEN_CHECK(images.dtype() == DType::u8 && images.ndim() == 4 && images.size(3) == 3,
              "normalize_images expects (B, H, W, 3) u8 images, got ", images.str());
  LUMEN_CHECK(dtype == DType::f32 || dtype == DType::bf16, "normalize_images: dtype ",
              dtype_name(dtype), " is not supported (f32 or bf16)");
  Tensor out = Tensor::empty_on(images.shape(), dtype, images);
  const int64_t pixels = images.numel() / 3;
  const uint8_t* x = images.data<uint8_t>();
  const float* mean = normalize.mean.data();
  const float* stddev = normalize.std.data();
  auto run = [&](auto* y) {
    if (images.is_cuda()) {
      LUMEN_ON_CUDA(kernels::normalize_images_cuda(x, y, pixels, mean, stddev, stream_of(images)));
    } else {
      kernels::normalize_images_cpu(x, y, pixels, mean, stddev);
    }
  };
  if (dtype == DType::f32) {
    run(out.data<float>());
  } else {
    run(out.data<bf16>());
  }
  return out;
}

}  // namespace lumen
