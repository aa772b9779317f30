// Tensors on the GPU: copies, dtype conversions and random fills against the CPU. The suite is
// skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "support/testing.h"

using namespace lumen;

TEST_CASE("GPU: copies, conversions and random fills match the CPU") {
  if (!testing::cuda_or_skip()) return;
  const Device gpu = Device::cuda(0);
  Tensor x = Tensor::normal({1000}, 3);
  CHECK(x.to(gpu).to(Device::cpu()).to_doubles() == x.to_doubles());
  for (DType t : {DType::f64, DType::bf16, DType::f16, DType::i32, DType::u8}) {
    CHECK_MESSAGE(x.to(gpu).to(t).to_doubles() == x.to(t).to_doubles(), dtype_name(t));
  }
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    CHECK(Tensor::uniform({4097}, 5, -2, 2, t, gpu).to_doubles() ==
          Tensor::uniform({4097}, 5, -2, 2, t).to_doubles());
    testing::check_close(Tensor::normal({4097}, 5, 0, 1, t, gpu),
                         Tensor::normal({4097}, 5, 0, 1, t), testing::tolerance(t), "normal fill");
  }
  Tensor f = Tensor::full({300}, 1.5, DType::bf16, gpu);
  CHECK(f.to_doubles() == std::vector<double>(300, 1.5));
}
