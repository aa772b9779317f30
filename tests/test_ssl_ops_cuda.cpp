// GPU against CPU for the ops of Barlow Twins, VICReg, SwaV and DINO (sqrt, exp, GELU, softmax
// over a row, column mean and variance, weight normalisation, sinkhorn): outputs and input
// gradients on the same random inputs, f32, f64 and bf16, shapes larger than a block. Skips
// (saying so) where no CUDA device is present.
#include "support/testing.h"

#include <functional>

#include "engine/ops/ops.h"
#include "engine/ops/sinkhorn.h"

using namespace lumen;

namespace {

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// fn on the CPU and on the GPU, with the same inputs and upstream gradient: output and gradients.
void compare(const char* name, const OpFn& fn, const std::vector<Shape>& shapes, DType t,
             double low = -2, double high = 2) {
  CAPTURE(name);
  const std::string dtype_label = dtype_name(t);
  CAPTURE(dtype_label);
  const Device gpu = Device::cuda(0);
  std::vector<Tensor> cpu, dev;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Tensor x = Tensor::uniform(shapes[i], 70 + i, low, high, t);
    cpu.push_back(x.clone().set_requires_grad());
    dev.push_back(x.to(gpu).set_requires_grad());
  }
  Tensor yc = fn(cpu);
  Tensor g = Tensor::normal(yc.shape(), 80, 0, 1, t);
  sum(mul(yc, g)).backward();
  Tensor yg = fn(dev);
  sum(mul(yg, g.to(gpu))).backward();
  const double tol = t == DType::bf16 ? testing::tolerance(t) : 10 * testing::tolerance(t);
  CHECK(testing::scaled_error(yg, yc) <= tol);
  for (size_t i = 0; i < shapes.size(); ++i) {
    CAPTURE(i);
    CHECK(testing::scaled_error(dev[i].grad(), cpu[i].grad()) <= tol);
  }
}

}  // namespace

TEST_CASE("GPU: sqrt, exp and GELU match the CPU (f32/f64/bf16)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    compare(
        "sqrt", [](const auto& in) { return elementwise_sqrt(in[0]); }, {{300, 70}}, t, 0.1, 4);
    compare(
        "exp", [](const auto& in) { return elementwise_exp(in[0]); }, {{300, 70}}, t);
    compare(
        "gelu", [](const auto& in) { return gelu(in[0]); }, {{300, 70}}, t, -6, 6);
  }
}

TEST_CASE("GPU: softmax_rows, column stats and weight_norm match the CPU (f32/f64/bf16)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    compare(
        "softmax_rows", [](const auto& in) { return softmax_rows(in[0]); }, {{37, 700}}, t);
    compare(
        "column_mean", [](const auto& in) { return column_mean(in[0]); }, {{333, 70}}, t);
    compare(
        "column_var", [](const auto& in) { return column_var(in[0]); }, {{333, 70}}, t);
    compare(
        "column_var0", [](const auto& in) { return column_var(in[0], 0); }, {{5, 1000}}, t);
    compare(
        "weight_norm", [](const auto& in) { return weight_norm(in[0], in[1]); },
        {{65, 300}, {65, 1}}, t);
  }
}

TEST_CASE("GPU: sinkhorn matches the CPU (f32/f64/bf16, many prototypes and rows)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    const std::string dtype_label = dtype_name(t);
    CAPTURE(dtype_label);
    for (const Shape& s : {Shape{6, 10}, Shape{640, 3000}, Shape{1000, 33}}) {
      const Tensor logits = Tensor::uniform(s, 90, -1, 1, t);
      Tensor cpu = sinkhorn(logits, 3, 0.05);
      Tensor gpu = sinkhorn(logits.to(Device::cuda(0)), 3, 0.05);
      CHECK(gpu.is_cuda());
      CHECK(testing::scaled_error(gpu, cpu) <= (t == DType::f64 ? 1e-12 : 1e-5));
    }
  }
}
