// Batch norm on the GPU keeps its statistics accurate when the mean dwarfs the spread, as on the
// CPU (test_nn_ops). The suite is skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "support/batch_norm_cases.h"
#include "support/testing.h"

using namespace lumen;

TEST_CASE("GPU: batch_norm statistics stay accurate when the mean dwarfs the spread (f32)") {
  if (!testing::cuda_or_skip()) return;
  testing::check_batch_norm_far_mean(Device::cuda(0));
}
