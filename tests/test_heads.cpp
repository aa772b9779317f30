// Projection and prediction heads against lightly's own heads (tests/fixtures/ssl_heads, made by
// tools/fixtures/ssl_losses_heads.py): the same parameter names and shapes (small dims and
// lightly's defaults), and with lightly's weights loaded by name the same train-mode output, input
// and parameter gradients and running statistics, then the same eval-mode output, in f32 and f64.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <functional>
#include <map>
#include <set>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "layers/heads.h"

using namespace lumen;
using testing::scaled_error;

namespace {

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> t =
      load_safetensors("fixtures/ssl_heads.safetensors").tensors;
  return t;
}

using HeadFactory = std::function<std::unique_ptr<ProjectionHead>()>;

// The fixture's heads, built with the same arguments as in the fixture script.
const std::vector<std::pair<std::string, HeadFactory>>& cases() {
  static const std::vector<std::pair<std::string, HeadFactory>> c = {
      {"simclr", [] { return simclr_projection_head(12, 10, 6); }},
      {"simclr_3layers", [] { return simclr_projection_head(12, 10, 6, 3); }},
      {"moco", [] { return moco_projection_head(12, 10, 6); }},
      {"moco_3layers_bn", [] { return moco_projection_head(12, 10, 6, 3, true); }},
      {"byol_projection", [] { return byol_projection_head(12, 10, 6); }},
      {"byol_prediction", [] { return byol_prediction_head(6, 10, 6); }},
      {"simsiam_projection", [] { return simsiam_projection_head(12, 10, 8); }},
      {"simsiam_prediction", [] { return simsiam_prediction_head(8, 5, 8); }},
      {"nnclr_projection", [] { return nnclr_projection_head(12, 10, 6); }},
      {"nnclr_prediction", [] { return nnclr_prediction_head(6, 10, 6); }},
  };
  return c;
}

// name -> shape of every declared parameter (no allocation: works before finalize).
void declared_shapes(Module& m, const std::string& prefix, std::map<std::string, Shape>& out) {
  for (auto& p : m.parameters()) out[prefix + p.name] = p.shape;
  for (auto& [name, child] : m.children()) declared_shapes(*child, prefix + name + ".", out);
}

// The fixture's entries "<prefix><name>", keyed by name.
std::map<std::string, Tensor> entries(const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, t] : fixture()) {
    if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = t;
  }
  return out;
}

double check_scaled(const Tensor& actual, const Tensor& expected, double tol,
                    const std::string& what) {
  const double err = scaled_error(actual, expected);
  CHECK_MESSAGE(err <= tol, what << ": scaled error " << err << " > " << tol);
  return err;
}

}  // namespace

TEST_CASE("heads have lightly's parameter names and shapes, small and with lightly's defaults") {
  for (const auto& [name, make] : cases()) {
    CAPTURE(name);
    std::map<std::string, Shape> lumen;
    declared_shapes(*make(), "", lumen);
    std::map<std::string, Shape> lightly;
    for (const auto& [key, t] : entries("head." + name + ".grad.")) lightly[key] = t.shape();
    CHECK(lumen == lightly);
  }
  const std::vector<std::pair<std::string, HeadFactory>> defaults = {
      {"SimCLRProjectionHead", [] { return simclr_projection_head(2048, 2048); }},
      {"MoCoProjectionHead", [] { return moco_projection_head(); }},
      {"BYOLProjectionHead", [] { return byol_projection_head(); }},
      {"BYOLPredictionHead", [] { return byol_prediction_head(); }},
      {"SimSiamProjectionHead", [] { return simsiam_projection_head(); }},
      {"SimSiamPredictionHead", [] { return simsiam_prediction_head(); }},
      {"NNCLRProjectionHead", [] { return nnclr_projection_head(); }},
      {"NNCLRPredictionHead", [] { return nnclr_prediction_head(); }},
  };
  for (const auto& [cls, make] : defaults) {
    CAPTURE(cls);
    std::map<std::string, Shape> lumen;
    declared_shapes(*make(), "", lumen);
    std::map<std::string, Shape> lightly;
    for (const auto& [key, t] : entries("defaults." + cls + ".")) {
      Shape s;
      for (double v : t.to_doubles()) s.push_back(int64_t(v));
      lightly[key] = s;
    }
    REQUIRE(!lightly.empty());
    CHECK(lumen == lightly);
  }
}

TEST_CASE("heads match lightly's forward, backward and running statistics (f32 and f64)") {
  for (const auto& [name, make] : cases()) {
    CAPTURE(name);
    const std::string pre = "head." + name + ".";
    for (DType dtype : {DType::f32, DType::f64}) {
      const std::string dtype_label = dtype_name(dtype);
      CAPTURE(dtype_label);
      const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
      std::unique_ptr<ProjectionHead> head = make();
      ParameterBuffer params;
      finalize(*head, params, Device::cpu(), 5, dtype);
      // lightly's weights and running statistics, by name; every float entry is used.
      const std::map<std::string, Tensor> state = entries(pre + "state.");
      std::set<std::string> used;
      for (auto& [key, t] : head->named_parameters()) {
        REQUIRE(state.count(key) == 1);
        t.copy_from(state.at(key));
        used.insert(key);
      }
      for (auto& [key, t] : head->named_buffers()) {
        if (t.dtype() == DType::i64) continue;  // num_batches_tracked: 0 on both sides
        REQUIRE(state.count(key) == 1);
        t.copy_from(state.at(key));
        used.insert(key);
      }
      CHECK(used.size() == state.size());
      head->train();
      Tensor x = fixture().at(pre + "x").to(dtype).set_requires_grad();
      Tensor y = (*head)(x);
      sum(mul(y, fixture().at(pre + "g").to(dtype))).backward();
      double worst = check_scaled(y, fixture().at(pre + "y"), tol, "train output");
      worst = std::max(worst, check_scaled(x.grad(), fixture().at(pre + "dx"), tol, "input grad"));
      for (auto& [key, t] : head->named_parameters()) {
        worst = std::max(
            worst, check_scaled(t.grad(), fixture().at(pre + "grad." + key), tol, "grad " + key));
      }
      for (auto& [key, t] : head->named_buffers()) {
        if (t.dtype() == DType::i64) {
          CHECK(t.data<int64_t>()[0] == 1);  // one training step counted
          continue;
        }
        worst = std::max(
            worst, check_scaled(t, fixture().at(pre + "after." + key), tol, "after step " + key));
      }
      head->eval();
      Tensor y_eval;
      {
        NoGrad no_grad;
        y_eval = (*head)(x);
      }
      worst = std::max(worst, check_scaled(y_eval, fixture().at(pre + "y_eval"), tol, "eval"));
      MESSAGE(name << " " << dtype_label << ": max scaled error " << worst);
    }
  }
}

TEST_CASE("heads reject too few layers and wrong input widths") {
  CHECK_THROWS_WITH_AS(moco_projection_head(8, 8, 4, 1), doctest::Contains("at least 2 layers"),
                       Error);
  CHECK_THROWS_WITH_AS(simclr_projection_head(8, 8, 4, 1), doctest::Contains("at least 2 layers"),
                       Error);
  std::unique_ptr<ProjectionHead> head = byol_prediction_head(6, 10, 6);
  ParameterBuffer params;
  finalize(*head, params, Device::cpu(), 1);
  CHECK_THROWS_AS((*head)(Tensor::zeros({4, 5})), Error);
}

TEST_CASE("heads pass a finite-difference check of the input gradient in f64 (train mode)") {
  for (const auto& [name, make] : cases()) {
    CAPTURE(name);
    std::unique_ptr<ProjectionHead> head = make();
    ParameterBuffer params;
    finalize(*head, params, Device::cpu(), 3, DType::f64);
    head->train();
    const int64_t in = params[0].size(1);
    Tensor x = Tensor::normal({5, in}, 4, 0.2, 1.5, DType::f64);
    int64_t out = 0;
    {
      NoGrad no_grad;
      out = (*head)(x).size(1);
    }
    Tensor g = Tensor::normal({5, out}, 5, 0, 1, DType::f64);
    testing::gradcheck([&](const std::vector<Tensor>& v) { return sum(mul((*head)(v[0]), g)); },
                       {x});
  }
}
