// Engine ops on the CPU: exact expectations, and finite-difference gradient checks in f64.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "engine/ops/gemm.h"
#include "engine/ops/ops.h"

using namespace lumen;
using testing::gradcheck;

namespace {
Tensor vec(std::vector<double> v, Shape shape) { return Tensor::from_vector(v, shape); }
Tensor randn64(Shape shape, uint64_t seed) { return Tensor::normal(shape, seed, 0, 1, DType::f64); }
// Values kept away from 0 by at least 0.1 so that finite differences never straddle relu's kink.
Tensor away_from_zero(Shape shape, uint64_t seed) {
  std::vector<double> v = randn64(shape, seed).to_doubles();
  for (double& x : v) x = x >= 0 ? x + 0.1 : x - 0.1;
  return vec(v, shape);
}
}  // namespace

TEST_CASE("elementwise ops: exact values") {
  Tensor a = vec({1, -2, 3}, {3});
  Tensor b = vec({4, 5, -6}, {3});
  CHECK(add(a, b).to_doubles() == std::vector<double>{5, 3, -3});
  CHECK(sub(a, b).to_doubles() == std::vector<double>{-3, -7, 9});
  CHECK(mul(a, b).to_doubles() == std::vector<double>{4, -10, -18});
  CHECK(scale(a, 0.5).to_doubles() == std::vector<double>{0.5, -1, 1.5});
  CHECK(relu(a).to_doubles() == std::vector<double>{1, 0, 3});
  CHECK_THROWS_WITH_AS(add(a, vec({1, 2}, {2})), doctest::Contains("different shapes"), Error);
  CHECK_THROWS_WITH_AS(add(a, a.to(DType::f32)), doctest::Contains("different dtypes"), Error);
}

TEST_CASE("reductions: exact values") {
  Tensor x = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(x).item() == 21);
  CHECK(mean(x).item() == 3.5);
  CHECK(sum(x).shape() == Shape{1});
}

TEST_CASE("matmul: exact values with every transpose and a batch") {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});     // (2, 3)
  Tensor b = vec({7, 8, 9, 10, 11, 12}, {3, 2});  // (3, 2)
  CHECK(matmul(a, b).to_doubles() == std::vector<double>{58, 64, 139, 154});
  Tensor at = vec({1, 4, 2, 5, 3, 6}, {3, 2});     // a^T stored
  Tensor bt = vec({7, 9, 11, 8, 10, 12}, {2, 3});  // b^T stored
  CHECK(matmul(at, b, true, false).to_doubles() == std::vector<double>{58, 64, 139, 154});
  CHECK(matmul(a, bt, false, true).to_doubles() == std::vector<double>{58, 64, 139, 154});
  CHECK(matmul(at, bt, true, true).to_doubles() == std::vector<double>{58, 64, 139, 154});
  Tensor a2 = vec({1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 1}, {2, 2, 3});
  Tensor b2 = vec({7, 8, 9, 10, 11, 12, 1, 0, 0, 1, 2, 3}, {2, 3, 2});
  CHECK(matmul(a2, b2).to_doubles() == std::vector<double>{58, 64, 139, 154, 0, 0, 2, 3});
  CHECK(matmul(a.to(DType::f32), b.to(DType::f32)).to_doubles() ==
        std::vector<double>{58, 64, 139, 154});
  CHECK(matmul(a.to(DType::bf16), b.to(DType::bf16)).to_doubles() ==
        std::vector<double>{58, 64, 139, 154});
  CHECK_THROWS_WITH_AS(matmul(a, a), doctest::Contains("inner dimensions"), Error);
}

TEST_CASE("gemm accumulates with beta") {
  Tensor a = vec({1, 2, 3, 4}, {2, 2});
  Tensor c = vec({1, 1, 1, 1}, {2, 2});
  gemm(a, a, c, false, false, 2.0, 1.0);  // c = 2 a a + c
  CHECK(c.to_doubles() == std::vector<double>{15, 21, 31, 45});
}

TEST_CASE("l2_normalize_rows: values and the eps clamp") {
  Tensor x = vec({3, 4, 0, 0}, {2, 2});
  testing::check_close(l2_normalize_rows(x), vec({0.6, 0.8, 0, 0}, {2, 2}), 1e-15, "normalize");
  Tensor tiny = vec({1e-14, 0}, {1, 2});
  CHECK(l2_normalize_rows(tiny, 1e-12).to_doubles()[0] == doctest::Approx(1e-2));
}

TEST_CASE("log_softmax and cross_entropy: values") {
  Tensor x = vec({0, 0, 1000, 1000, 0, std::log(3.0)}, {3, 2});
  const std::vector<double> y = log_softmax_rows(x).to_doubles();
  CHECK(y[0] == doctest::Approx(-std::log(2.0)));
  CHECK(y[2] == doctest::Approx(-std::log(2.0)));  // large logits stay finite
  CHECK(y[4] == doctest::Approx(-std::log(4.0)));
  CHECK(y[5] == doctest::Approx(std::log(0.75)));
  Tensor t = Tensor::from_vector(std::vector<double>{0, 1, 1}, {3}, DType::i64);
  const double expected = (std::log(2.0) + std::log(2.0) - std::log(0.75)) / 3;
  CHECK(cross_entropy(x, t).item() == doctest::Approx(expected));
  Tensor bad = Tensor::from_vector(std::vector<double>{0, 2, 1}, {3}, DType::i64);
  CHECK_THROWS_WITH_AS(cross_entropy(x, bad), doctest::Contains("outside [0, 2)"), Error);
}

TEST_CASE("gradcheck: add, sub, mul, scale") {
  auto a = randn64({3, 4}, 1), b = randn64({3, 4}, 2), w = randn64({3, 4}, 3);
  // A weighted sum makes every output element's gradient different.
  auto weighted = [w](const Tensor& y) { return sum(mul(y, w)); };
  gradcheck([&](const std::vector<Tensor>& in) { return weighted(add(in[0], in[1])); }, {a, b});
  gradcheck([&](const std::vector<Tensor>& in) { return weighted(sub(in[0], in[1])); }, {a, b});
  gradcheck([&](const std::vector<Tensor>& in) { return weighted(mul(in[0], in[1])); }, {a, b});
  gradcheck([&](const std::vector<Tensor>& in) { return weighted(scale(in[0], -1.7)); }, {a});
  // the same tensor used twice
  gradcheck([&](const std::vector<Tensor>& in) { return weighted(mul(in[0], in[0])); }, {a});
}

TEST_CASE("gradcheck: relu, sum, mean") {
  auto w = randn64({5, 3}, 4);
  gradcheck([&](const std::vector<Tensor>& in) { return sum(mul(relu(in[0]), w)); },
            {away_from_zero({5, 3}, 5)});
  gradcheck([&](const std::vector<Tensor>& in) { return mean(mul(in[0], in[0])); },
            {randn64({5, 3}, 6)});
}

TEST_CASE("gradcheck: matmul, every transpose, batched") {
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      CAPTURE(ta);
      CAPTURE(tb);
      Tensor a = randn64(ta ? Shape{4, 3} : Shape{3, 4}, 10 + ta);
      Tensor b = randn64(tb ? Shape{5, 4} : Shape{4, 5}, 20 + tb);
      Tensor w = randn64({3, 5}, 30);
      gradcheck(
          [&](const std::vector<Tensor>& in) { return sum(mul(matmul(in[0], in[1], ta, tb), w)); },
          {a, b});
    }
  }
  Tensor w = randn64({2, 3, 5}, 31);
  gradcheck(
      [&](const std::vector<Tensor>& in) { return sum(mul(matmul(in[0], in[1], false, true), w)); },
      {randn64({2, 3, 4}, 32), randn64({2, 5, 4}, 33)});
}

TEST_CASE("gradcheck: l2_normalize_rows, log_softmax_rows, cross_entropy") {
  Tensor w = randn64({4, 6}, 40);
  gradcheck([&](const std::vector<Tensor>& in) { return sum(mul(l2_normalize_rows(in[0]), w)); },
            {randn64({4, 6}, 41)});
  gradcheck([&](const std::vector<Tensor>& in) { return sum(mul(log_softmax_rows(in[0]), w)); },
            {randn64({4, 6}, 42)});
  Tensor t = Tensor::from_vector(std::vector<double>{5, 0, 2, 3}, {4}, DType::i64);
  gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(scale(in[0], 2.0), t); },
            {randn64({4, 6}, 43)});
}

TEST_CASE("gradcheck: a two-layer network with a chained loss") {
  Tensor x = randn64({6, 5}, 50), w1 = randn64({5, 7}, 51), w2 = randn64({7, 3}, 52);
  Tensor t = Tensor::from_vector(std::vector<double>{0, 1, 2, 0, 1, 2}, {6}, DType::i64);
  gradcheck(
      [&](const std::vector<Tensor>& in) {
        Tensor h = relu(matmul(in[0], in[1]));
        return cross_entropy(matmul(l2_normalize_rows(h), in[2]), t);
      },
      {x, w1, w2}, 1e-5);
}
