// GPU against CPU for BarlowTwinsLoss, VICRegLoss, SwaVLoss (low-resolution crops, queues) and
// DINOLoss (its centre after the update): loss and input gradients on the same random inputs,
// f32, f64 and bf16, sizes past a block. Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include <functional>

#include "engine/ops/ops.h"
#include "losses/barlow_twins.h"
#include "losses/dino.h"
#include "losses/swav.h"
#include "losses/vicreg.h"

using namespace lumen;

namespace {

using ListLoss = std::function<Tensor(const std::vector<Tensor>&)>;

// fn on the CPU and on the GPU, every input requiring grad: loss and gradients.
void compare(const char* name, const ListLoss& fn, const std::vector<Shape>& shapes, DType t,
             double stddev = 1) {
  CAPTURE(name);
  const std::string dtype_label = dtype_name(t);
  CAPTURE(dtype_label);
  std::vector<Tensor> cpu, gpu;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Tensor x = Tensor::normal(shapes[i], 100 + i, 0.3, stddev, t);
    cpu.push_back(x.clone().set_requires_grad());
    gpu.push_back(x.to(Device::cuda(0)).set_requires_grad());
  }
  Tensor lc = fn(cpu);
  lc.backward();
  Tensor lg = fn(gpu);
  lg.backward();
  const double tol = t == DType::bf16 ? testing::tolerance(t) : 10 * testing::tolerance(t);
  testing::check_close(lg, lc, tol, "loss");
  for (size_t i = 0; i < shapes.size(); ++i) {
    CAPTURE(i);
    CHECK(testing::scaled_error(gpu[i].grad(), cpu[i].grad()) <= tol);
  }
}

}  // namespace

TEST_CASE("GPU: BarlowTwinsLoss and VICRegLoss match the CPU (f32/f64/bf16)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    compare(
        "barlow", [](const auto& in) { return BarlowTwinsLoss()(in[0], in[1]); },
        {{64, 300}, {64, 300}}, t);
    compare(
        "vicreg", [](const auto& in) { return VICRegLoss()(in[0], in[1]); }, {{70, 300}, {70, 300}},
        t, 0.8);
  }
}

TEST_CASE("GPU: SwaVLoss matches the CPU (low-resolution crops, queues, many prototypes)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    const Tensor q0 = Tensor::normal({100, 700}, 7, 0, 0.3, t);
    const Tensor q1 = Tensor::normal({100, 700}, 8, 0, 0.3, t);
    compare(
        "swav",
        [&](const std::vector<Tensor>& in) {
          std::vector<Tensor> queue;
          if (in[0].is_cuda()) {
            queue = {q0.to(Device::cuda(0)), q1.to(Device::cuda(0))};
          } else {
            queue = {q0, q1};
          }
          return SwaVLoss()({in[0], in[1]}, {in[2], in[3], in[4], in[5]}, queue);
        },
        {{64, 700}, {64, 700}, {64, 700}, {64, 700}, {64, 700}, {64, 700}}, t, 0.3);
  }
}

TEST_CASE("GPU: DINOLoss matches the CPU, centre included (f32/f64/bf16)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    const std::string dtype_label = dtype_name(t);
    CAPTURE(dtype_label);
    DINOOptions o;
    o.output_dim = 2000;
    DINOLoss cpu_loss(o), gpu_loss(o);
    const Tensor center = Tensor::normal({1, 1, 2000}, 9, 0, 0.3, t == DType::f64 ? t : DType::f32);
    cpu_loss.load_state_tensors({{"center", center}});
    gpu_loss.load_state_tensors({{"center", center.to(Device::cuda(0))}});
    const Tensor t0 = Tensor::normal({32, 2000}, 10, 0, 1, t);
    const Tensor t1 = Tensor::normal({32, 2000}, 11, 0, 1, t);
    compare(
        "dino",
        [&](const std::vector<Tensor>& in) {
          const bool gpu = in[0].is_cuda();
          std::vector<Tensor> teacher = {gpu ? t0.to(Device::cuda(0)) : t0,
                                         gpu ? t1.to(Device::cuda(0)) : t1};
          return (gpu ? gpu_loss : cpu_loss)(teacher, in, int64_t(7));
        },
        {{32, 2000}, {32, 2000}, {32, 2000}, {32, 2000}, {32, 2000}, {32, 2000}}, t);
    CHECK(testing::scaled_error(gpu_loss.center(), cpu_loss.center()) <= 1e-5);
  }
}
