// GPU against CPU for DINO's head (GELU, batch norm, L2 normalisation, the weight-normalised last
// layer, norm_last_layer both ways) and SwaVPrototypes (forward and normalize()): the same weights
// on both devices, outputs and every gradient. Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "engine/ops/ops.h"
#include "layers/dino_head.h"
#include "layers/swav_prototypes.h"

using namespace lumen;

namespace {

// Copies every parameter and float buffer of `from` into `to` (the same module layout).
void copy_state(Module& from, Module& to) {
  auto src = from.named_parameters(), dst = to.named_parameters();
  REQUIRE(src.size() == dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i].second.copy_from(src[i].second);
  auto bsrc = from.named_buffers(), bdst = to.named_buffers();
  for (size_t i = 0; i < bsrc.size(); ++i) {
    if (dtype_is_float(bsrc[i].second.dtype())) bdst[i].second.copy_from(bsrc[i].second);
  }
}

void compare(Module& cpu, Module& gpu, int64_t in, int64_t batch) {
  Tensor x = Tensor::normal({batch, in}, 5);
  Tensor xc = x.clone().set_requires_grad(), xg = x.to(Device::cuda(0)).set_requires_grad();
  Tensor yc = cpu(xc);
  Tensor g = Tensor::normal(yc.shape(), 6);
  sum(mul(yc, g)).backward();
  Tensor yg = gpu(xg);
  sum(mul(yg, g.to(Device::cuda(0)))).backward();
  CHECK(testing::scaled_error(yg, yc) <= 1e-5);
  CHECK(testing::scaled_error(xg.grad(), xc.grad()) <= 1e-5);
  auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    CAPTURE(pc[i].first);
    CHECK(testing::scaled_error(pg[i].second.grad(), pc[i].second.grad()) <= 1e-5);
  }
}

}  // namespace

TEST_CASE("GPU: DINOProjectionHead matches the CPU (batch norm, norm_last_layer both ways)") {
  if (!testing::cuda_or_skip()) return;
  for (bool batch_norm : {false, true}) {
    for (bool norm_last_layer : {true, false}) {
      CAPTURE(batch_norm);
      CAPTURE(norm_last_layer);
      DINOProjectionHeadOptions o;
      o.input_dim = 96;
      o.hidden_dim = 300;
      o.bottleneck_dim = 64;
      o.output_dim = 1000;
      o.batch_norm = batch_norm;
      o.norm_last_layer = norm_last_layer;
      DINOProjectionHead cpu(o), gpu(o);
      ParameterBuffer pc, pg;
      finalize(cpu, pc, Device::cpu(), 3);
      finalize(gpu, pg, Device::cuda(0), 4);
      copy_state(cpu, gpu);
      compare(cpu, gpu, 96, 40);
    }
  }
}

TEST_CASE("GPU: SwaVPrototypes matches the CPU, normalize() included") {
  if (!testing::cuda_or_skip()) return;
  SwaVPrototypes cpu(128, {3000}), gpu(128, {3000});
  ParameterBuffer pc, pg;
  finalize(cpu, pc, Device::cpu(), 3);
  finalize(gpu, pg, Device::cuda(0), 4);
  copy_state(cpu, gpu);
  cpu.normalize();
  gpu.normalize();
  CHECK(testing::scaled_error(pg.get("heads.0.weight"), pc.get("heads.0.weight")) <= 1e-6);
  compare(cpu, gpu, 128, 64);
}
