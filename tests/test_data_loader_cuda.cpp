// The data loader's GPU paths (resident, and streamed through pinned memory) against the CPU path.
// The suite is skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "engine/data/loader.h"
#include "support/datasets.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::numbered_dataset;

TEST_CASE("GPU loader: resident and streamed paths give the CPU path's batches") {
  if (!testing::cuda_or_skip()) return;
  const ImageDataset d = numbered_dataset(37, 8, 6);  // rows of 144 bytes: the 16-byte path
  for (bool resident : {true, false}) {
    CAPTURE(resident);
    LoaderOptions cpu_options;
    cpu_options.batch_size = 8;
    cpu_options.seed = 11;
    cpu_options.drop_last = false;
    LoaderOptions gpu_options = cpu_options;
    gpu_options.device = Device::cuda(0);
    gpu_options.gpu_resident_bytes = resident ? size_t(1) << 30 : 0;
    DataLoader cpu(d, cpu_options), gpu(d, gpu_options);
    CHECK(gpu.gpu_resident() == resident);
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
      cpu.start_epoch(epoch);
      gpu.start_epoch(epoch);
      Batch expected, actual;
      std::vector<Batch> held;  // keep batches alive across steps, as a trainer may
      while (cpu.next(&expected)) {
        REQUIRE(gpu.next(&actual));
        CHECK(actual.images.is_cuda());
        CHECK(actual.host_indices == expected.host_indices);
        testing::check_close(actual.images, expected.images, 0, "batch images");
        testing::check_close(actual.labels, expected.labels, 0, "batch labels");
        testing::check_close(actual.indices, expected.indices, 0, "batch indices");
        held.push_back(actual);
      }
      CHECK_FALSE(gpu.next(&actual));
    }
  }
  // Odd row sizes take the byte-wise gather.
  const ImageDataset odd = numbered_dataset(9, 3, 3);
  LoaderOptions options;
  options.batch_size = 4;
  DataLoader cpu(odd, options);
  options.device = Device::cuda(0);
  DataLoader gpu(odd, options);
  cpu.start_epoch(1);
  gpu.start_epoch(1);
  Batch expected, actual;
  while (cpu.next(&expected)) {
    REQUIRE(gpu.next(&actual));
    testing::check_close(actual.images, expected.images, 0, "odd-sized images");
  }
}
