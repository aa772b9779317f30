// Every CUDA op against its CPU twin, on fresh random inputs with poisoned outputs, per dtype.
// Skips (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "engine/ops/gemm.h"
#include "engine/ops/ops.h"

using namespace lumen;
using testing::check_close;
using testing::tolerance;

namespace {
const Device kGpu = Device::cuda(0);
const DType kFloatTypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16};

// The same random values on both devices (generated on the CPU, then copied).
std::pair<Tensor, Tensor> random_pair(const Shape& shape, uint64_t seed, DType dtype) {
  Tensor cpu = Tensor::normal(shape, seed, 0, 1, dtype);
  return {cpu, cpu.to(kGpu)};
}

// Runs fn on CPU and GPU inputs (requiring grad), backpropagates sum(out * w), and compares the
// outputs and every input gradient.
void compare_forward_backward(const char* name, DType dtype, const std::vector<Shape>& shapes,
                              const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              double tol_scale = 1.0) {
  CAPTURE(name);
  CAPTURE(dtype_name(dtype));
  std::vector<Tensor> cpu, gpu;
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto [c, g] = random_pair(shapes[i], 100 + i, dtype);
    cpu.push_back(c.set_requires_grad());
    gpu.push_back(g.set_requires_grad());
  }
  // Each forward is followed by its own backward: backward() clears the (per-thread) tape.
  Tensor y_cpu = fn(cpu);
  auto [w_cpu, w_gpu] = random_pair(y_cpu.shape(), 99, y_cpu.dtype());  // a loss may be f32
  sum(mul(y_cpu, w_cpu)).backward();
  Tensor y_gpu = fn(gpu);
  sum(mul(y_gpu, w_gpu)).backward();
  const double tol = tolerance(dtype) * tol_scale;
  check_close(y_gpu, y_cpu, tol, std::string(name) + " forward");
  for (size_t i = 0; i < cpu.size(); ++i) {
    check_close(gpu[i].grad(), cpu[i].grad(), tol,
                std::string(name) + " grad of input " + std::to_string(i));
  }
}
}  // namespace

TEST_CASE("GPU: elementwise ops match the CPU") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : kFloatTypes) {
    const Shape s{37, 129};  // not a multiple of any block size
    compare_forward_backward("add", t, {s, s}, [](auto& in) { return add(in[0], in[1]); });
    compare_forward_backward("sub", t, {s, s}, [](auto& in) { return sub(in[0], in[1]); });
    compare_forward_backward("mul", t, {s, s}, [](auto& in) { return mul(in[0], in[1]); });
    compare_forward_backward("scale", t, {s}, [](auto& in) { return scale(in[0], -0.37); });
    compare_forward_backward("relu", t, {s}, [](auto& in) { return relu(in[0]); });
  }
}

TEST_CASE("GPU: reductions match the CPU") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : kFloatTypes) {
    for (int64_t n : {1, 255, 1000, 1 << 20}) {
      CAPTURE(n);
      // Sums of n values carry error growing with n in narrow types; scale the tolerance.
      const double grow = (t == DType::bf16 || t == DType::f16) ? 4.0 : 10.0;
      compare_forward_backward(
          "sum", t, {{n}}, [](auto& in) { return sum(in[0]); }, grow);
      compare_forward_backward(
          "mean", t, {{n}}, [](auto& in) { return mean(in[0]); }, grow);
    }
  }
}

TEST_CASE("GPU: matmul matches the CPU for every transpose and a batch") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : kFloatTypes) {
    for (int ta = 0; ta < 2; ++ta) {
      for (int tb = 0; tb < 2; ++tb) {
        const Shape sa = ta ? Shape{70, 33} : Shape{33, 70};
        const Shape sb = tb ? Shape{45, 70} : Shape{70, 45};
        // K = 70 products per output: allow K-fold rounding in the narrow types.
        compare_forward_backward(
            "matmul", t, {sa, sb}, [=](auto& in) { return matmul(in[0], in[1], ta, tb); }, 4.0);
      }
    }
    compare_forward_backward(
        "batched matmul", t, {{3, 17, 20}, {3, 20, 9}},
        [](auto& in) { return matmul(in[0], in[1]); }, 4.0);
  }
}

TEST_CASE("GPU: gemm writes every output element") {
  if (!testing::cuda_or_skip()) return;
  auto [a_cpu, a_gpu] = random_pair({64, 48}, 1, DType::f32);
  auto [b_cpu, b_gpu] = random_pair({48, 80}, 2, DType::f32);
  Tensor c_cpu = Tensor::zeros({64, 80});
  Tensor c_gpu = testing::poisoned({64, 80}, DType::f32, kGpu);
  gemm(a_cpu, b_cpu, c_cpu, false, false);
  gemm(a_gpu, b_gpu, c_gpu, false, false);  // beta = 0: NaN poison must not survive
  check_close(c_gpu, c_cpu, 1e-5, "gemm over poison");
}

TEST_CASE("GPU: row ops match the CPU") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : kFloatTypes) {
    for (Shape s : {Shape{5, 3}, Shape{64, 128}, Shape{9, 2049}}) {
      compare_forward_backward("l2_normalize_rows", t, {s},
                               [](auto& in) { return l2_normalize_rows(in[0]); });
      compare_forward_backward(
          "log_softmax_rows", t, {s}, [](auto& in) { return log_softmax_rows(in[0]); }, 2.0);
      std::vector<double> labels;
      for (int64_t r = 0; r < s[0]; ++r) labels.push_back(double((r * 7) % s[1]));
      Tensor target = Tensor::from_vector(labels, {s[0]}, DType::i64);
      compare_forward_backward(
          "cross_entropy", t, {s}, [&](auto& in) { return cross_entropy(in[0], target); }, 2.0);
    }
  }
}

TEST_CASE("GPU: a cross-entropy target out of range gives a NaN loss, not garbage") {
  if (!testing::cuda_or_skip()) return;
  Tensor logits = Tensor::normal({2, 3}, 1, 0, 1, DType::f32, kGpu);
  Tensor target = Tensor::from_vector(std::vector<double>{0, 7}, {2}, DType::i64, kGpu);
  CHECK(std::isnan(cross_entropy(logits, target).item()));
}
