// normalize_images on the GPU against the CPU. The suite is skipped (support/cuda_main.cpp) where
// no CUDA device is present.
#include "support/testing.h"

#include "augment/normalize.h"

using namespace lumen;

TEST_CASE("GPU: normalize_images matches the CPU") {
  if (!testing::cuda_or_skip()) return;
  Tensor img = Tensor::uniform({3, 17, 9, 3}, 4, 0, 256, DType::f32).to(DType::u8);
  for (DType t : {DType::f32, DType::bf16}) {
    testing::check_close(normalize_images(img.to(Device::cuda(0)), NormalizeConfig{}, t),
                         normalize_images(img, NormalizeConfig{}, t), testing::tolerance(t),
                         "normalize_images");
  }
}
