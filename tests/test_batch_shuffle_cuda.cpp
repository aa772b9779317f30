// GPU against CPU for MoCo's batch shuffle: the same permutation, rows and restored order (bf16
// images, f32 features). Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "engine/ops/batch_shuffle.h"

using namespace lumen;

TEST_CASE("GPU: batch_shuffle and batch_unshuffle match the CPU") {
  if (!testing::cuda_or_skip()) return;
  const Device gpu = Device::cuda(0);
  Tensor x = Tensor::normal({33, 8, 8, 3}, 4, 0, 1, DType::bf16);
  BatchShuffle c = batch_shuffle(x, 11, 42);
  BatchShuffle g = batch_shuffle(x.to(gpu), 11, 42);
  CHECK(g.order == c.order);
  CHECK(g.batch.device() == gpu);
  CHECK(testing::max_relative_error(g.batch, c.batch) == 0);
  Tensor features = Tensor::normal({33, 16}, 5);
  CHECK(testing::max_relative_error(batch_unshuffle(features.to(gpu), g),
                                    batch_unshuffle(features, c)) == 0);
}
