// The narrow ResNet fixtures of test_resnet on the GPU in f32, against PyTorch, train and eval.
// The suite is skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "support/resnet_golden.h"
#include "support/testing.h"

using namespace lumen;
using testing::resnet_golden::check_against_golden;

TEST_CASE("GPU: narrow ResNet-18 and ResNet-50 in f32 match PyTorch, train and eval") {
  if (!testing::cuda_or_skip()) return;
  // cuDNN's f32 algorithms (FMA, no TF32) sum in other orders than the CPU: 1e-3, not 1e-4.
  check_against_golden("torchvision/resnet18", 0.0625, "fixtures/resnet18_narrow.safetensors",
                       Device::cuda(0), 1e-3);
  check_against_golden("resnet-50", 0.03125, "fixtures/resnet50_narrow.safetensors",
                       Device::cuda(0), 1e-3);
}
