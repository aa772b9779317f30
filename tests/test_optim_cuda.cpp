// The fused optimizer update on the GPU against the CPU, for every optimizer configuration of
// test_optim. The suite is skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "support/optim_cases.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::testing::optim_cases;

TEST_CASE("GPU: the fused optimizer update matches the CPU") {
  if (!testing::cuda_or_skip()) return;
  for (const auto& [config, make] : configs()) {
    CAPTURE(config);
    auto cpu = make_params(DType::f32);
    auto gpu = make_params(DType::f32, Device::cuda(0));
    auto opt_cpu = make(*cpu);
    auto opt_gpu = make(*gpu);
    run_steps(*cpu, *opt_cpu);
    run_steps(*gpu, *opt_gpu);
    testing::check_close(gpu->values(), cpu->values(), 1e-5, "parameters after three steps");
    for (const auto& [name, t] : opt_cpu->state_tensors()) {
      testing::check_close(opt_gpu->state_tensors().at(name), t, 1e-5, "state " + name);
    }
  }
}
