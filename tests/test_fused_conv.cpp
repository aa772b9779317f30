// The inference path's convolution (engine/infer/fused_conv.h) and its packed GEMM
// (kernels/gemm_packed.h): every microkernel build this CPU runs against a double-precision
// reference, and every algorithm (direct with shared or per-chunk im2col, Winograd by blocks or
// by phases) against the training path's conv2d + bias + residual + ReLU in f64.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "engine/infer/fused_conv.h"
#include "engine/ops/ops.h"
#include "kernels/gemm_packed.h"

using namespace lumen;

namespace {

// relu?(conv(x, w) + bias + residual?) in f64 through the training path's ops.
Tensor reference(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& residual,
                 int64_t stride, int64_t padding, bool relu_on) {
  Tensor y = conv2d(x.to(DType::f64), w.to(DType::f64), bias.to(DType::f64), stride, padding);
  if (residual.defined()) y = add(y, residual.to(DType::f64));
  return relu_on ? relu(y) : y;
}

struct Case {
  int64_t n, h, w, c, o, kernel, stride, padding;
  bool residual, relu;
};

void check_case(const Case& t, int threads) {
  CAPTURE(t.n);
  CAPTURE(t.h);
  CAPTURE(t.c);
  CAPTURE(t.o);
  CAPTURE(t.kernel);
  CAPTURE(t.stride);
  CAPTURE(threads);
  const Tensor x = Tensor::normal({t.n, t.h, t.w, t.c}, 1);
  const Tensor w = Tensor::normal({t.o, t.kernel, t.kernel, t.c}, 2, 0,
                                  1.0 / std::sqrt(double(t.kernel * t.kernel * t.c)));
  const Tensor bias = Tensor::normal({t.o}, 3);
  FusedConv conv(w, bias, t.stride, t.padding, t.relu);
  const int64_t oh = conv.out_size(t.h), ow = conv.out_size(t.w);
  const Tensor residual = t.residual ? Tensor::normal({t.n, oh, ow, t.o}, 4) : Tensor();
  Tensor y = testing::poisoned({t.n, oh, ow, t.o}, DType::f32, Device::cpu());
  InferScratch scratch;
  conv.run_cpu(x.data<float>(), t.n, t.h, t.w,
               residual.defined() ? residual.data<float>() : nullptr, y.data<float>(), scratch,
               threads);
  testing::check_scaled(y, reference(x, w, bias, residual, t.stride, t.padding, t.relu), 2e-6,
                        "fused conv");
}

}  // namespace

TEST_CASE("every microkernel build equals a double-precision GEMM, epilogue and tails included") {
  for (const kernels::GemmKernel* kernel : kernels::gemm_kernels()) {
    CAPTURE(kernel->isa);
    for (int64_t m : {1, 5, kernel->mr, 2 * kernel->mr + 3}) {
      for (int64_t n : {int64_t(kernel->nr), int64_t(3 * kernel->nr + 5), int64_t(7),
                        int64_t(kernel->nr + 16)}) {
        const int64_t k = 37;
        CAPTURE(m);
        CAPTURE(n);
        const Tensor a = Tensor::normal({m, k}, 5), b = Tensor::normal({n, k}, 6);
        const Tensor bias = Tensor::normal({n}, 7), residual = Tensor::normal({m, n}, 8);
        std::vector<float> pb(size_t(kernels::packed_b_size(n, k, kernel->nr)));
        kernels::pack_b_cpu(b.data<float>(), n, k, kernel->nr, pb.data());
        for (bool with_epilogue : {false, true}) {
          Tensor c = testing::poisoned({m, n}, DType::f32, Device::cpu());
          // K in two blocks: the first overwrites C, the second accumulates and ends.
          for (int64_t k0 : {int64_t(0), int64_t(16)}) {
            kernels::GemmCall call;
            call.a = a.data<float>() + k0;
            call.lda = k;
            call.m = m;
            call.k = k0 == 0 ? 16 : k - 16;
            call.b = pb.data() + k0 * kernel->nr;
            call.panel_stride = k * kernel->nr;
            call.n = n;
            call.p0 = 0;
            call.p1 = kernels::gemm_panels(n, kernel->nr);
            call.c = c.data<float>();
            call.ldc = n;
            call.accumulate = k0 > 0;
            if (with_epilogue && k0 > 0) {
              call.epilogue = {bias.data<float>(), residual.data<float>(), n, true};
            }
            kernel->run(call);
          }
          Tensor expected = matmul(a.to(DType::f64), b.to(DType::f64), false, true);
          if (with_epilogue) {
            expected =
                relu(add(add_channel_bias(expected, bias.to(DType::f64)), residual.to(DType::f64)));
          }
          testing::check_scaled(c, expected, 1e-6, kernel->isa);
        }
      }
    }
  }
}

TEST_CASE("the fused convolution equals conv2d + bias + residual + ReLU on every path") {
  const std::vector<Case> cases = {
      {1, 9, 9, 5, 20, 1, 1, 0, false, false},    // pointwise, shared packing, a partial panel
      {2, 6, 5, 16, 48, 1, 2, 0, true, false},    // strided 1x1 (a downsample)
      {1, 13, 11, 3, 16, 7, 2, 3, false, true},   // a stem
      {2, 9, 9, 24, 40, 3, 2, 1, true, true},     // 3x3 stride 2: direct
      {1, 9, 9, 72, 40, 3, 2, 1, true, true},     // K = 648: two K blocks
      {1, 5, 5, 32, 32, 3, 1, 1, true, true},     // 9 tiles: too few for Winograd
      {1, 17, 15, 16, 24, 3, 1, 1, true, true},   // Winograd by phases (few blocks)
      {6, 32, 30, 16, 16, 3, 1, 1, true, true},   // Winograd by blocks
      {3, 40, 40, 8, 32, 3, 1, 1, false, true},   // 8 input channels: direct, shared im2col
      {8, 64, 64, 32, 16, 3, 2, 1, true, false},  // 9.4 MB of im2col rows: lowered per chunk
  };
  for (int threads : {1, 2, 3}) {
    for (const Case& t : cases) check_case(t, threads);
  }
}

TEST_CASE("the paths taken are the ones the cases above mean to cover") {
  const Tensor w3 = Tensor::normal({32, 3, 3, 32}, 1), b = Tensor::zeros({32});
  FusedConv conv(w3, b, 1, 1, true);
  CHECK_FALSE(conv.uses_winograd(1, 5, 5));
  CHECK(conv.uses_winograd(1, 17, 15));
  FusedConv narrow(Tensor::normal({32, 3, 3, 8}, 1), b, 1, 1, true);
  CHECK_FALSE(narrow.uses_winograd(3, 40, 40));
}
