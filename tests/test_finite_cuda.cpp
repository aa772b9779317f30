// all_finite on GPU tensors (a device reduction) agrees with the CPU pass. Skips (saying so) where
// no CUDA device is present.
#include "support/testing.h"

#include <cmath>

#include "engine/ops/finite.h"

using namespace lumen;

TEST_CASE("GPU: all_finite finds one inf or NaN in every float dtype, and passes large values") {
  if (!testing::cuda_or_skip()) return;
  const Device gpu = Device::cuda(0);
  for (DType t : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    CAPTURE(dtype_name(t));
    Tensor x = Tensor::normal({300001}, 3, 0, 1, DType::f64);  // several blocks of the reduction
    CHECK(all_finite(x.to(t).to(gpu)));
    for (double bad : {double(INFINITY), double(-INFINITY), double(NAN)}) {
      Tensor y = x.to(Device::cpu());
      y.data<double>()[299999] = bad;
      CHECK_FALSE(all_finite(y.to(t).to(gpu)));
    }
  }
  CHECK(all_finite(Tensor::full({1 << 20}, 3e38, DType::f32).to(gpu)));  // a sum would overflow
  CHECK(all_finite(Tensor::full({5}, 7, DType::i64).to(gpu)));
}
