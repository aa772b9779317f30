// The tape: recording, accumulation into leaves, NoGrad, flat parameter buffers.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "engine/autograd/parameters.h"
#include "engine/ops/ops.h"

using namespace lumen;

TEST_CASE("backward fills leaf gradients and clears the tape") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  x.set_requires_grad();
  Tensor y = sum(mul(x, x));  // dy/dx = 2x
  CHECK(Tape::current().size() == 2);
  CHECK_FALSE(y.is_leaf());
  y.backward();
  CHECK(Tape::current().size() == 0);
  CHECK(x.grad().to_doubles() == std::vector<double>{2, 4, 6});
}

TEST_CASE("gradients accumulate across backward calls until zeroed") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, -1}, {2});
  x.set_requires_grad();
  sum(scale(x, 3.0)).backward();
  sum(scale(x, 3.0)).backward();
  CHECK(x.grad().to_doubles() == std::vector<double>{6, 6});
  x.set_grad(Tensor());
  sum(x).backward();
  CHECK(x.grad().to_doubles() == std::vector<double>{1, 1});
}

TEST_CASE("a second loss whose graph an earlier backward cleared is an error, not silence") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  x.set_requires_grad();
  Tensor first = sum(mul(x, x)), second = sum(scale(x, 2.0));
  first.backward();
  CHECK_THROWS_WITH(second.backward(), doctest::Contains("graph of this loss is gone"));
  CHECK(x.grad().to_doubles() == std::vector<double>{2, 4});
}

TEST_CASE("no recording without requires_grad or under NoGrad") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  Tensor b = add(a, a);
  CHECK(Tape::current().size() == 0);
  CHECK_FALSE(b.requires_grad());
  a.set_requires_grad();
  {
    NoGrad no_grad;
    Tensor c = mul(a, a);
    CHECK(Tape::current().size() == 0);
    CHECK_FALSE(c.requires_grad());
  }
  CHECK(grad_mode_enabled());
  CHECK_THROWS_WITH_AS(sum(b).backward(), doctest::Contains("does not require grad"), Error);
}

TEST_CASE("a gradient flows only to the inputs that need it") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2}, {1, 2});
  Tensor b = Tensor::from_vector(std::vector<double>{3, 4}, {2, 1});
  b.set_requires_grad();
  sum(matmul(a, b)).backward();
  CHECK_FALSE(a.grad().defined());
  CHECK(b.grad().to_doubles() == std::vector<double>{1, 2});
}

TEST_CASE("reshape is differentiable and detach cuts the graph") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
  x.set_requires_grad();
  Tensor w = Tensor::from_vector(std::vector<double>{1, 10, 100, 1000}, {4});
  sum(mul(x.reshape({4}), w)).backward();
  CHECK(x.grad().to_doubles() == std::vector<double>{1, 10, 100, 1000});
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.raw_data() == x.raw_data());
}

TEST_CASE("parameters live in one flat buffer, gradients in another") {
  ParameterBuffer params;
  params.add("fc.weight", {3, 2});
  params.add("fc.bias", {3});
  params.finalize(Device::cpu(), DType::f64);
  CHECK(params.parameter_count() == 9);
  CHECK(params.values().numel() == 2 * ParameterBuffer::kAlignElements);
  Tensor& w = params.get("fc.weight");
  Tensor& bias = params.get("fc.bias");
  CHECK(w.requires_grad());
  CHECK(static_cast<char*>(bias.raw_data()) - static_cast<char*>(w.raw_data()) ==
        ParameterBuffer::kAlignElements * 8);
  w.fill(1.0);
  bias.fill(0.5);
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
  // y = x @ w^T + bias (per row), summed
  Tensor y = matmul(x, w, false, true);  // (2, 3)
  Tensor ones = Tensor::full({2, 1}, 1.0, DType::f64);
  Tensor loss = sum(add(y, matmul(ones, bias.reshape({1, 3}))));
  loss.backward();
  // dL/dw[j] = sum over rows of x = (4, 6); dL/dbias = 2
  CHECK(w.grad().to_doubles() == std::vector<double>{4, 6, 4, 6, 4, 6});
  CHECK(bias.grad().to_doubles() == std::vector<double>{2, 2, 2});
  CHECK(w.grad().raw_data() == params.gradients().raw_data());  // the grad is a view, not a copy
  params.zero_grad();
  CHECK(w.grad().to_doubles() == std::vector<double>(6, 0.0));
  CHECK_THROWS_WITH_AS(params.get("fc.nope"), doctest::Contains("no parameter named"), Error);
  CHECK_THROWS_AS(params.add("late", {1}), Error);
}
