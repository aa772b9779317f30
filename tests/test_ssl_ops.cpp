// The ops of Barlow Twins, VICReg, SwaV and DINO against PyTorch and lightly
// (tests/fixtures/ssl_ops2.safetensors and ssl_dist2, made by tools/fixtures/ssl_losses_heads2.py):
// sqrt, exp, GELU, softmax over a row, column mean and variance, weight normalisation and
// lightly's sinkhorn (also gathered over simulated ranks), values and input gradients in f32 and
// f64; finite-difference gradient checks in f64; argument errors.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>
#include <functional>
#include <iomanip>
#include <sstream>
#include <thread>

#include "engine/dist/in_process_group.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/ops/sinkhorn.h"

using namespace lumen;
using testing::scaled_error;

namespace {

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> t =
      load_safetensors("fixtures/ssl_ops2.safetensors").tensors;
  return t;
}
const Tensor& entry(const std::string& key) {
  auto it = fixture().find(key);
  REQUIRE_MESSAGE(it != fixture().end(), "fixture lacks " << key);
  return it->second;
}

double check_scaled(const Tensor& actual, const Tensor& expected, double tol,
                    const std::string& what) {
  const double err = scaled_error(actual, expected);
  CHECK_MESSAGE(err <= tol, what << ": scaled error " << err << " > " << tol);
  return err;
}

Tensor randn(const Shape& shape, uint64_t seed, double mean = 0, double stddev = 1) {
  return Tensor::normal(shape, seed, mean, stddev, DType::f64);
}

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// The fixture case `name` (inputs in0.., upstream gradient g): Lumen's output and the inputs'
// gradients of sum(output * g) in f32 and f64 against PyTorch in f64 (and f32 against PyTorch's
// f32). Prints the largest error per dtype.
void check_op(const std::string& name, int inputs, const OpFn& fn) {
  CAPTURE(name);
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(dtype);
    CAPTURE(dtype_label);
    const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
    std::vector<Tensor> in;
    for (int i = 0; i < inputs; ++i) {
      in.push_back(entry(name + ".in" + std::to_string(i)).to(dtype).set_requires_grad());
    }
    Tensor y = fn(in);
    CHECK(y.dtype() == dtype);
    sum(mul(y, entry(name + ".g").to(dtype).reshape(y.shape()))).backward();
    double worst = check_scaled(y, entry(name + ".out_f64"), tol, "output");
    double worst_f32 =
        dtype == DType::f32 ? check_scaled(y, entry(name + ".out_f32"), tol, "output vs f32") : 0.0;
    for (int i = 0; i < inputs; ++i) {
      const std::string g = name + ".grad" + std::to_string(i);
      worst = std::max(worst, check_scaled(in[i].grad(), entry(g + "_f64"), tol, g));
      if (dtype == DType::f32) {
        worst_f32 = std::max(worst_f32, check_scaled(in[i].grad(), entry(g + "_f32"), tol, g));
      }
    }
    std::ostringstream line;
    line << std::scientific << std::setprecision(2) << name << " " << dtype_label
         << ": max scaled error vs torch f64 " << worst;
    if (dtype == DType::f32) line << ", vs torch f32 " << worst_f32;
    MESSAGE(line.str());
  }
}

// The fixture's sinkhorn cases ("n6_k10", ...).
std::vector<std::string> sinkhorn_cases() {
  std::vector<std::string> out;
  const std::string prefix = "sinkhorn.", suffix = ".logits";
  for (const auto& [key, t] : fixture()) {
    if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size() + suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(key.substr(prefix.size(), key.size() - prefix.size() - suffix.size()));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("sqrt, exp and GELU match PyTorch (f32 and f64)") {
  check_op("sqrt", 1, [](const std::vector<Tensor>& in) { return elementwise_sqrt(in[0]); });
  check_op("exp", 1, [](const std::vector<Tensor>& in) { return elementwise_exp(in[0]); });
  check_op("gelu", 1, [](const std::vector<Tensor>& in) { return gelu(in[0]); });
}

TEST_CASE("softmax_rows, column_mean, column_var and weight_norm match PyTorch (f32 and f64)") {
  check_op("softmax", 1, [](const std::vector<Tensor>& in) { return softmax_rows(in[0]); });
  check_op("column_mean", 1, [](const std::vector<Tensor>& in) { return column_mean(in[0]); });
  check_op("column_var", 1, [](const std::vector<Tensor>& in) { return column_var(in[0]); });
  check_op("column_var0", 1, [](const std::vector<Tensor>& in) { return column_var(in[0], 0); });
  check_op("weight_norm", 2,
           [](const std::vector<Tensor>& in) { return weight_norm(in[0], in[1]); });
}

TEST_CASE("sinkhorn matches lightly's (f32 and f64, iterations and epsilon)") {
  const std::vector<std::string> names = sinkhorn_cases();
  REQUIRE(names.size() >= 5);
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(dtype);
    CAPTURE(dtype_label);
    const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
    double worst = 0, worst_f32 = 0;
    for (const std::string& name : names) {
      CAPTURE(name);
      const std::string pre = "sinkhorn." + name + ".";
      Tensor codes = sinkhorn(entry(pre + "logits").to(dtype),
                              int(entry(pre + "iterations").item()), entry(pre + "epsilon").item());
      CHECK(codes.dtype() == dtype);
      worst = std::max(worst, check_scaled(codes, entry(pre + "codes_f64"), tol, "codes"));
      if (dtype == DType::f32) {
        worst_f32 =
            std::max(worst_f32, check_scaled(codes, entry(pre + "codes_f32"), tol, "codes f32"));
      }
      // every sample's codes are a distribution
      const std::vector<double> v = codes.to_doubles();
      const int64_t k = codes.size(1);
      for (int64_t r = 0; r < codes.size(0); ++r) {
        double s = 0;
        for (int64_t j = 0; j < k; ++j) s += v[r * k + j];
        CHECK(s == doctest::Approx(1.0).epsilon(dtype == DType::f32 ? 1e-5 : 1e-12));
      }
    }
    std::ostringstream line;
    line << std::scientific << std::setprecision(2) << "sinkhorn " << dtype_label
         << ": max scaled error vs lightly f64 " << worst;
    if (dtype == DType::f32) line << ", vs lightly f32 " << worst_f32;
    MESSAGE(line.str());
  }
}

TEST_CASE("sinkhorn takes bf16 logits and stays finite where lightly's exp overflows") {
  const Tensor logits = Tensor::uniform({12, 9}, 5, -1, 1);
  Tensor ref = sinkhorn(logits);
  Tensor from_bf16 = sinkhorn(logits.to(DType::bf16));
  CHECK(from_bf16.dtype() == DType::f32);
  CHECK(scaled_error(from_bf16, sinkhorn(logits.to(DType::bf16).to(DType::f32))) == 0);
  CHECK(scaled_error(from_bf16, ref) <= 0.1);
  // Logits around 40: exp(40 / 0.05) overflows even f64 in lightly's order (inf / inf = NaN);
  // the shift by each prototype's maximum gives the codes of logits - 40, which are the same.
  const Tensor logits64 = logits.to(DType::f64);
  Tensor big = sinkhorn(add(logits64, Tensor::full({12, 9}, 40.0, DType::f64)));
  CHECK(testing::scaled_error(big, sinkhorn(logits64)) <= 1e-10);
}

TEST_CASE("sinkhorn gathered over simulated ranks equals one process on all rows") {
  // Against lightly itself on 3 gloo ranks (ssl_dist2: its SwaVLoss with
  // sinkhorn_gather_distributed is checked in test_ssl_losses2); here the op alone: each rank's
  // codes are its rows of the codes of the concatenated rows.
  const int world = 3;
  const int64_t n = 5, k = 8;
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(dtype);
    CAPTURE(dtype_label);
    const Tensor all = Tensor::uniform({world * n, k}, 17, -1, 1, dtype);
    const Tensor single = sinkhorn(all, 3, 0.05);
    auto group = InProcessGroup::create(world);
    std::vector<Tensor> codes(world);
    std::vector<std::string> errors(world);
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r) {
      threads.emplace_back([&, r] {
        try {
          codes[r] = sinkhorn(all.rows(r * n, n).clone(), 3, 0.05, group->communicator(r).get());
        } catch (const std::exception& e) {
          errors[r] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int r = 0; r < world; ++r) {
      REQUIRE_MESSAGE(errors[r].empty(), errors[r]);
      check_scaled(codes[r], single.rows(r * n, n), dtype == DType::f32 ? 1e-6 : 1e-13,
                   "rank " + std::to_string(r));
    }
    // and not merely each rank's own sinkhorn
    CHECK(scaled_error(codes[0], sinkhorn(all.rows(0, n).clone(), 3, 0.05)) > 1e-3);
  }
}

TEST_CASE("the new ops pass finite-difference gradient checks in f64") {
  SUBCASE("sqrt") {
    testing::gradcheck([](const std::vector<Tensor>& in) { return sum(elementwise_sqrt(in[0])); },
                       {Tensor::uniform({3, 4}, 1, 0.2, 3.0, DType::f64)});
  }
  SUBCASE("exp") {
    Tensor g = randn({3, 4}, 2);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(elementwise_exp(in[0]), g)); },
        {randn({3, 4}, 3)});
  }
  SUBCASE("gelu") {
    Tensor g = randn({4, 5}, 4);
    testing::gradcheck([&](const std::vector<Tensor>& in) { return sum(mul(gelu(in[0]), g)); },
                       {randn({4, 5}, 5, 0, 2)});
  }
  SUBCASE("softmax_rows") {
    Tensor g = randn({3, 6}, 6);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(softmax_rows(in[0]), g)); },
        {randn({3, 6}, 7, 0, 2)});
  }
  SUBCASE("column_mean and column_var") {
    Tensor g = randn({4}, 8);
    const Tensor x = randn({5, 4}, 9, 1, 2);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(column_mean(in[0]), g)); }, {x});
    for (int correction : {0, 1, 2}) {
      CAPTURE(correction);
      testing::gradcheck(
          [&](const std::vector<Tensor>& in) { return sum(mul(column_var(in[0], correction), g)); },
          {x});
    }
  }
  SUBCASE("weight_norm, both inputs, and one of them") {
    Tensor g = randn({4, 3}, 10);
    const Tensor v = randn({4, 3}, 11), scale = randn({4, 1}, 12);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(weight_norm(in[0], in[1]), g)); },
        {v, scale});
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(weight_norm(in[0], scale), g)); }, {v});
    Tensor flat_g = scale.reshape({4}).clone();
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return sum(mul(weight_norm(v, in[0]), g)); },
        {flat_g});
  }
}

TEST_CASE("weight_norm computes only the gradients asked for") {
  Tensor v = randn({3, 5}, 13).set_requires_grad(), g = randn({3, 1}, 14);
  sum(weight_norm(v, g)).backward();
  CHECK(v.grad().defined());
  CHECK(!g.grad().defined());
}

TEST_CASE("the new ops reject bad arguments with clear errors") {
  const Tensor x = Tensor::normal({4, 3}, 1);
  CHECK_THROWS_WITH_AS(column_mean(Tensor::normal({4}, 1)), doctest::Contains("(rows, cols)"),
                       Error);
  CHECK_THROWS_WITH_AS(column_var(x, -1), doctest::Contains("correction"), Error);
  CHECK_THROWS_WITH_AS(softmax_rows(Tensor::normal({4}, 1)), doctest::Contains("softmax_rows"),
                       Error);
  CHECK_THROWS_WITH_AS(weight_norm(x, Tensor::normal({3, 1}, 2)), doctest::Contains("one scale"),
                       Error);
  CHECK_THROWS_AS(weight_norm(x, Tensor::normal({4, 1}, 2, 0, 1, DType::f64)), Error);
  CHECK_THROWS_WITH_AS(sinkhorn(x, 0), doctest::Contains("iterations"), Error);
  CHECK_THROWS_WITH_AS(sinkhorn(x, 3, 0.0), doctest::Contains("epsilon"), Error);
  CHECK_THROWS_WITH_AS(sinkhorn(Tensor::zeros({4, 3}, DType::i64)), doctest::Contains("f32"),
                       Error);
  CHECK_THROWS_WITH_AS(sinkhorn(Tensor::normal({0, 3}, 1)), doctest::Contains("rows"), Error);
  CHECK_THROWS_AS(gelu(Tensor::zeros({3}, DType::i32)), Error);
}
