// Modules: registration under dotted names, initialisation, train/eval, buffers and errors.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "engine/ops/ops.h"
#include "layers/layers.h"
#include "layers/resnet.h"

using namespace lumen;

TEST_CASE("Sequential names children 0, 1, ... and finalize registers dotted names") {
  Sequential head;
  head.append(std::make_unique<Linear>(6, 4));
  head.append(std::make_unique<BatchNorm1d>(4));
  head.append(std::make_unique<ReLU>());
  head.append(std::make_unique<Linear>(4, 3, /*bias=*/false));
  ParameterBuffer params;
  CHECK_THROWS_WITH_AS(head(Tensor::zeros({2, 6})), doctest::Contains("finalize"), Error);
  finalize(head, params, Device::cpu(), 7);
  CHECK(params.size() == 5);
  CHECK(params.name(0) == "0.weight");
  CHECK(params.name(1) == "0.bias");
  CHECK(params.name(2) == "1.weight");
  CHECK(params.name(4) == "3.weight");
  CHECK(params.parameter_count() == 6 * 4 + 4 + 4 + 4 + 4 * 3);
  auto buffers = head.named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "1.running_mean");
  CHECK(buffers[2].first == "1.num_batches_tracked");
  // Linear init: U(-1/sqrt(in), 1/sqrt(in)), not constant
  const std::vector<double> w = params.get("0.weight").to_doubles();
  double lo = 1, hi = -1;
  for (double v : w) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -1 / std::sqrt(6.0));
  CHECK(hi <= 1 / std::sqrt(6.0));
  CHECK(hi - lo > 0.2);
  // a second finalize into a used buffer is an error
  CHECK_THROWS_WITH_AS(finalize(head, params, Device::cpu(), 7), doctest::Contains("empty"), Error);
}

TEST_CASE("train/eval reach every child; BatchNorm counts training steps only") {
  Sequential net;
  auto* bn = net.append(std::make_unique<BatchNorm1d>(3));
  ParameterBuffer params;
  finalize(net, params, Device::cpu(), 1);
  Tensor x = Tensor::normal({5, 3}, 2, 3.0, 2.0);
  net.train();
  Tensor y = net(x);
  CHECK(bn->training());
  // batch statistics: every output channel has mean 0
  const std::vector<double> v = y.to_doubles();
  for (int c = 0; c < 3; ++c) {
    double m = 0;
    for (int r = 0; r < 5; ++r) m += v[r * 3 + c];
    CHECK(std::abs(m / 5) < 1e-5);
  }
  net.eval();
  CHECK(!bn->training());
  net(x);
  auto buffers = net.named_buffers();
  CHECK(buffers[2].second.data<int64_t>()[0] == 1);
  CHECK(buffers[0].second.to_doubles() != std::vector<double>(3, 0.0));  // running mean moved
  CHECK_THROWS_WITH_AS(net(Tensor::zeros({5, 4})), doctest::Contains("C = 3"), Error);
  // A training batch that batch norm rejects (one value per channel) counts no step.
  net.train();
  CHECK_THROWS_WITH_AS(net(Tensor::zeros({1, 3})), doctest::Contains("more than one value"), Error);
  CHECK(buffers[2].second.data<int64_t>()[0] == 1);
}

TEST_CASE("Conv2d, pooling and Flatten modules; f32 weights drive bf16 activations") {
  Sequential net;
  net.append(std::make_unique<Conv2d>(3, 8, 3, 2, 1, /*bias=*/true));
  net.append(std::make_unique<MaxPool2d>(3, 2, 1));
  net.append(std::make_unique<Flatten>());
  ParameterBuffer params;
  finalize(net, params, Device::cpu(), 3);
  CHECK(params.get("0.weight").shape() == Shape{8, 3, 3, 3});  // OHWI
  // PyTorch's default conv bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 3 * 3 * 3
  for (double b : params.get("0.bias").to_doubles()) CHECK(std::abs(b) <= 1 / std::sqrt(27.0));
  CHECK(params.get("0.bias").to_doubles() != std::vector<double>(8, 0.0));
  Tensor x = Tensor::normal({2, 8, 8, 3}, 4);
  Tensor y = net(x);
  CHECK(y.shape() == Shape{2, 2 * 2 * 8});
  Tensor yb = net(x.to(DType::bf16));
  CHECK(yb.dtype() == DType::bf16);
  testing::check_close(yb, y, 3e-2, "bf16 forward");
  sum(yb).backward();
  CHECK(params.get("0.weight").grad().dtype() == DType::f32);
  CHECK(params.gradients().to_doubles() != std::vector<double>(params.gradients().numel(), 0.0));
  GlobalAvgPool gap;
  CHECK(gap(Tensor::zeros({2, 3, 3, 5})).shape() == Shape{2, 5});
  CHECK_THROWS_WITH_AS(Conv2d(3, 0, 3), doctest::Contains("positive"), Error);
}

TEST_CASE("BasicBlock and Bottleneck with downsample: input and weight gradients (f64)") {
  for (bool bottleneck : {false, true}) {
    CAPTURE(bottleneck);
    std::unique_ptr<Module> block;
    if (bottleneck) {
      block = std::make_unique<Bottleneck>(3, 2, 2);  // 3 -> 8 channels, stride 2
    } else {
      block = std::make_unique<BasicBlock>(3, 4, 2);  // 3 -> 4 channels, stride 2
    }
    ParameterBuffer params;
    finalize(*block, params, Device::cpu(), 11, DType::f64);
    block->train();
    const Tensor weights = Tensor::normal({2, 3, 3, bottleneck ? 8 : 4}, 12, 0, 1, DType::f64);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul((*block)(in[0]), weights)); },
        {Tensor::normal({2, 6, 5, 3}, 13, 0, 1, DType::f64)}, 1e-5);
    // one convolution weight, through the whole block (the check perturbs the parameter view)
    Tensor& w = params.get(bottleneck ? "conv2.weight" : "conv1.weight");
    const Tensor x = Tensor::normal({2, 6, 5, 3}, 14, 0, 1, DType::f64);
    params.zero_grad();
    sum(mul((*block)(x), weights)).backward();
    const std::vector<double> analytic = w.grad().to_doubles();
    const double h = 1e-6;
    for (int64_t i = 0; i < w.numel(); i += 5) {
      double* p = w.data<double>() + i;
      const double saved = *p;
      NoGrad no_grad;
      *p = saved + h;
      const double up = sum(mul((*block)(x), weights)).item();
      *p = saved - h;
      const double down = sum(mul((*block)(x), weights)).item();
      *p = saved;
      CHECK(analytic[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5));
    }
  }
}
