// normalize_images: u8 NHWC images to normalised model inputs (ToTensor + Normalize), CPU values
// (the GPU twin: test_normalize_images_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "augment/normalize.h"

using namespace lumen;

TEST_CASE("values are (x / 255 - mean) / std per channel") {
  Tensor img = Tensor::from_vector(std::vector<float>{0, 255, 51, 102, 153, 204}, {1, 1, 2, 3})
                   .to(DType::u8);
  const NormalizeConfig n;
  const std::vector<double> y = normalize_images(img, n, DType::f32).to_doubles();
  const double x[6] = {0, 1, 0.2, 0.4, 0.6, 0.8};
  for (int i = 0; i < 6; ++i) {
    CHECK(y[size_t(i)] ==
          doctest::Approx((x[i] - n.mean[size_t(i % 3)]) / n.std[size_t(i % 3)]).epsilon(1e-6));
  }
  CHECK_THROWS_WITH_AS(normalize_images(img.to(DType::f32), n, DType::f32),
                       doctest::Contains("u8 images"), Error);
}
