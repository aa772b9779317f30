// Synchronised batch norm on the GPU (threads of one process as ranks), against one process
// holding the whole batch on the GPU.
#include "support/sync_batch_norm_cases.h"
#include "support/testing.h"

using namespace lumen;

TEST_CASE("GPU: sync batch norm over 2 ranks equals batch norm of the whole batch") {
  if (!testing::cuda_or_skip()) return;
  testing::check_sync_batch_norm(Device::cuda(0), DType::f64, 2, 1e-12);
  testing::check_sync_batch_norm(Device::cuda(0), DType::f32, 2, 2e-6);
  testing::check_sync_batch_norm(Device::cuda(0), DType::bf16, 2, 2e-2);
}
