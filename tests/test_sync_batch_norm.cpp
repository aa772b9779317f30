// Synchronised batch norm (torch's SyncBatchNorm) over ranks that are threads of one process,
// against one process holding the whole batch (the GPU twin: test_sync_batch_norm_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "layers/resnet.h"
#include "support/sync_batch_norm_cases.h"
#include "support/testing.h"

using namespace lumen;

TEST_CASE("sync batch norm over 2 and 3 ranks equals batch norm of the whole batch") {
  for (int world : {2, 3}) {
    CAPTURE(world);
    testing::check_sync_batch_norm(Device::cpu(), DType::f64, world, 1e-12);
    testing::check_sync_batch_norm(Device::cpu(), DType::f32, world, 2e-6);
  }
}

TEST_CASE("sync_batch_norms reaches every BatchNorm of a network") {
  auto net = make_resnet("resnet-18", 0.125);
  // the stem's, two per basic block (8 blocks) and one per downsampling shortcut (3)
  CHECK(sync_batch_norms(*net, single_process_communicator()) == 1 + 16 + 3);
}
