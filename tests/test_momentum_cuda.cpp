// GPU against CPU for the momentum update (the vector and the scalar path, f32 and f64) and a
// MomentumCopy of a GPU model. Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "engine/train/momentum.h"
#include "layers/heads.h"
#include "layers/momentum.h"

using namespace lumen;

TEST_CASE("GPU: momentum_update gives the CPU's bits (vector and scalar path, f32/f64)") {
  if (!testing::cuda_or_skip()) return;
  const Device gpu = Device::cuda(0);
  for (DType t : {DType::f32, DType::f64}) {
    for (int64_t n : {int64_t(64) * 1031, int64_t(100003)}) {  // multiple of every vector; odd
      const std::string dtype_label = dtype_name(t);
      CAPTURE(dtype_label);
      CAPTURE(n);
      Tensor target = Tensor::normal({n}, 1, 0, 1, t), online = Tensor::normal({n}, 2, 0, 1, t);
      Tensor target_gpu = target.to(gpu);
      momentum_update(target, online, 0.996);
      momentum_update(target_gpu, online.to(gpu), 0.996);
      CHECK(testing::max_relative_error(target_gpu, target) == 0);
    }
  }
}

TEST_CASE("GPU: a MomentumCopy of a GPU model follows it as on the CPU") {
  if (!testing::cuda_or_skip()) return;
  std::vector<Tensor> results;
  for (Device device : {Device::cpu(), Device::cuda(0)}) {
    std::unique_ptr<ProjectionHead> head = moco_projection_head(12, 10, 6);
    ParameterBuffer params;
    finalize(*head, params, device, 3);
    MomentumCopy momentum;
    momentum.add("projection_head", moco_projection_head(12, 10, 6), *head);
    momentum.finalize();
    CHECK(momentum.parameters().values().device() == device);
    Tensor values = params.values();
    values.copy_from(Tensor::normal({values.numel()}, 5).to(device));
    momentum.update(0.9);
    results.push_back(momentum.parameters().values().to(Device::cpu()));
  }
  CHECK(testing::max_relative_error(results[1], results[0]) == 0);
}
