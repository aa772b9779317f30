// The heads of Barlow Twins, VICReg, SwaV and DINO against lightly's own heads
// (tests/fixtures/ssl_heads2.safetensors, made by tools/fixtures/ssl_losses_heads2.py): parameter
// names and shapes (small dims and lightly's defaults), and with lightly's weights loaded by name
// the train-mode output, input and parameter gradients and running statistics, then the eval-mode
// output, in f32 and f64; SwaVPrototypes' heads and normalize(); DINO's fixed weight_g, frozen
// last layer and initialisation; finite-difference checks of the input gradient in f64.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "layers/dino_head.h"
#include "layers/heads.h"
#include "layers/swav_prototypes.h"

using namespace lumen;
using testing::scaled_error;

namespace {

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> t =
      load_safetensors("fixtures/ssl_heads2.safetensors").tensors;
  return t;
}
const Tensor& entry(const std::string& key) {
  auto it = fixture().find(key);
  REQUIRE_MESSAGE(it != fixture().end(), "fixture lacks " << key);
  return it->second;
}

DINOProjectionHeadOptions dino_small() {
  DINOProjectionHeadOptions o;
  o.input_dim = 12;
  o.hidden_dim = 10;
  o.bottleneck_dim = 5;
  o.output_dim = 7;
  return o;
}

using HeadFactory = std::function<std::unique_ptr<Module>()>;

// The fixture's heads, built with the same arguments as in the fixture script.
const std::vector<std::pair<std::string, HeadFactory>>& cases() {
  static const std::vector<std::pair<std::string, HeadFactory>> c = {
      {"barlow_twins", [] { return barlow_twins_projection_head(12, 10, 8); }},
      {"vicreg", [] { return vicreg_projection_head(12, 10, 8); }},
      {"vicreg_2layers", [] { return vicreg_projection_head(12, 10, 8, 2); }},
      {"vicreg_4layers", [] { return vicreg_projection_head(12, 10, 8, 4); }},
      {"swav_projection", [] { return swav_projection_head(12, 10, 6); }},
      {"swav_prototypes",
       [] { return std::make_unique<SwaVPrototypes>(6, std::vector<int64_t>{9}); }},
      {"dino", [] { return std::make_unique<DINOProjectionHead>(dino_small()); }},
      {"dino_bn",
       [] {
         DINOProjectionHeadOptions o = dino_small();
         o.batch_norm = true;
         return std::make_unique<DINOProjectionHead>(o);
       }},
      {"dino_free_last_layer",
       [] {
         DINOProjectionHeadOptions o = dino_small();
         o.norm_last_layer = false;
         return std::make_unique<DINOProjectionHead>(o);
       }},
      {"dino_cifar10",
       [] {
         return std::make_unique<DINOProjectionHead>(dino_cifar10_head_options(12, 10, 5, 7));
       }},
  };
  return c;
}

// name -> shape of every declared parameter, and of the float buffers named weight_g (DINO's
// fixed scale: a parameter without gradient in lightly). No allocation: works before finalize.
void declared_shapes(Module& m, const std::string& prefix, std::map<std::string, Shape>& out) {
  for (auto& p : m.parameters()) out[prefix + p.name] = p.shape;
  for (auto& b : m.buffers()) {
    if (b.name == "weight_g") out[prefix + b.name] = b.value.shape();
  }
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

// Loads lightly's state (parameters and float buffers, by name); every float entry must be used.
void load_state(Module& head, const std::map<std::string, Tensor>& state) {
  std::set<std::string> used;
  for (auto& [key, t] : head.named_parameters()) {
    REQUIRE_MESSAGE(state.count(key) == 1, "lightly has no " << key);
    t.copy_from(state.at(key));
    used.insert(key);
  }
  for (auto& [key, t] : head.named_buffers()) {
    if (t.dtype() == DType::i64) continue;  // num_batches_tracked: 0 on both sides
    REQUIRE_MESSAGE(state.count(key) == 1, "lightly has no " << key);
    t.copy_from(state.at(key));
    used.insert(key);
  }
  CHECK(used.size() == state.size());
}

// (mean, standard deviation, largest magnitude) of a tensor's values.
std::tuple<double, double, double> value_stats(const Tensor& t) {
  const std::vector<double> v = t.to_doubles();
  double mean = 0, sq = 0, mx = 0;
  for (double e : v) mean += e / double(v.size());
  for (double e : v) {
    sq += (e - mean) * (e - mean) / double(v.size());
    mx = std::max(mx, std::fabs(e));
  }
  return {mean, std::sqrt(sq), mx};
}

}  // namespace

TEST_CASE("heads have lightly's parameter names and shapes, small and with lightly's defaults") {
  for (const auto& [name, make] : cases()) {
    CAPTURE(name);
    std::map<std::string, Shape> lumen;
    declared_shapes(*make(), "", lumen);
    std::map<std::string, Shape> lightly;
    for (const auto& [key, t] : entries("head." + name + ".state.")) {
      if (key.find("running_") == std::string::npos) lightly[key] = t.shape();
    }
    CHECK(lumen == lightly);
  }
  const std::vector<std::pair<std::string, HeadFactory>> defaults = {
      {"BarlowTwinsProjectionHead", [] { return barlow_twins_projection_head(); }},
      {"VICRegProjectionHead", [] { return vicreg_projection_head(); }},
      {"SwaVProjectionHead", [] { return swav_projection_head(); }},
      {"SwaVPrototypes", [] { return std::make_unique<SwaVPrototypes>(); }},
      {"DINOProjectionHead", [] { return std::make_unique<DINOProjectionHead>(); }},
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
      std::unique_ptr<Module> head = make();
      ParameterBuffer params;
      finalize(*head, params, Device::cpu(), 5, dtype);
      load_state(*head, entries(pre + "state."));
      head->train();
      Tensor x = entry(pre + "x").to(dtype).set_requires_grad();
      Tensor y = (*head)(x);
      sum(mul(y, entry(pre + "g").to(dtype))).backward();
      double worst = check_scaled(y, entry(pre + "y"), tol, "train output");
      worst = std::max(worst, check_scaled(x.grad(), entry(pre + "dx"), tol, "input grad"));
      int grads = 0;
      for (auto& [key, t] : head->named_parameters()) {
        worst =
            std::max(worst, check_scaled(t.grad(), entry(pre + "grad." + key), tol, "grad " + key));
        ++grads;
      }
      CHECK(size_t(grads) == entries(pre + "grad.").size());  // the same trained parameters
      for (auto& [key, t] : head->named_buffers()) {
        if (t.dtype() == DType::i64) {
          CHECK(t.data<int64_t>()[0] == 1);  // one training step counted
          continue;
        }
        if (key.find("running_") == std::string::npos) continue;  // DINO's fixed weight_g
        worst = std::max(worst, check_scaled(t, entry(pre + "after." + key), tol, "after " + key));
      }
      head->eval();
      Tensor y_eval;
      {
        NoGrad no_grad;
        y_eval = (*head)(x);
      }
      worst = std::max(worst, check_scaled(y_eval, entry(pre + "y_eval"), tol, "eval"));
      std::ostringstream line;
      line << std::scientific << std::setprecision(2) << name << " " << dtype_label
           << ": max scaled error " << worst;
      MESSAGE(line.str());
    }
  }
}

TEST_CASE("SwaVPrototypes: several heads and normalize() as lightly's") {
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(dtype);
    CAPTURE(dtype_label);
    const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
    SwaVPrototypes protos(6, {9, 4});
    ParameterBuffer params;
    finalize(protos, params, Device::cpu(), 1, dtype);
    load_state(protos, entries("prototypes_multi.state."));
    const Tensor x = entry("prototypes_multi.x").to(dtype);
    std::vector<Tensor> y = protos.forward_heads(x);
    REQUIRE(y.size() == 2);
    check_scaled(y[0], entry("prototypes_multi.y0_f64"), tol, "head 0");
    check_scaled(y[1], entry("prototypes_multi.y1_f64"), tol, "head 1");
    CHECK_THROWS_WITH_AS(protos(x), doctest::Contains("forward_heads"), Error);
    protos.normalize();
    for (auto& [key, t] : protos.named_parameters()) {
      CAPTURE(key);
      check_scaled(t, entry("prototypes_multi.normalized_f64." + key), tol, "normalized " + key);
    }
    // the biases are left as they were; every weight row has unit length
    const std::vector<double> w = params.get("heads.1.weight").to_doubles();
    for (int r = 0; r < 4; ++r) {
      double s = 0;
      for (int k = 0; k < 6; ++k) s += w[r * 6 + k] * w[r * 6 + k];
      CHECK(s == doctest::Approx(1.0).epsilon(dtype == DType::f32 ? 1e-6 : 1e-14));
    }
  }
  SwaVPrototypes frozen(8, {5}, 2);
  CHECK(frozen.frozen(0));
  CHECK(frozen.frozen(1));
  CHECK(!frozen.frozen(2));
  CHECK(!SwaVPrototypes(8, {5}).frozen(0));
  CHECK_THROWS_AS(SwaVPrototypes(8, {}), Error);
}

TEST_CASE("DINOProjectionHead: fixed weight_g, frozen last layer, lightly's initialisation") {
  DINOProjectionHeadOptions o;
  o.input_dim = 64;
  o.hidden_dim = 128;
  o.bottleneck_dim = 32;
  o.output_dim = 300;
  o.freeze_last_layer = 2;
  DINOProjectionHead head(o);
  ParameterBuffer params;
  finalize(head, params, Device::cpu(), 7);
  CHECK(!params.contains("last_layer.weight_g"));  // norm_last_layer: not trained
  CHECK(head.last_layer_parameter_names() == std::vector<std::string>{"last_layer.weight_v"});
  // the last layer's rows are unit vectors
  Tensor x = Tensor::normal({6, 64}, 3).set_requires_grad();
  Tensor y = head(x);
  sum(mul(y, Tensor::normal({6, 300}, 4))).backward();
  Tensor gv = params.get("last_layer.weight_v").grad();
  REQUIRE(gv.defined());
  const double norm_before = std::sqrt(sum(mul(gv, gv)).item());
  CHECK(norm_before > 0);
  CHECK(head.last_layer_frozen(1));
  CHECK(!head.last_layer_frozen(2));
  head.cancel_last_layer_gradients(2);  // not frozen: kept
  CHECK(sum(mul(gv, gv)).item() == doctest::Approx(norm_before * norm_before));
  Tensor g0 = params.get("layers.0.weight").grad().clone();
  head.cancel_last_layer_gradients(1);  // frozen: cleared, the rest kept
  CHECK(sum(mul(gv, gv)).item() == 0);
  CHECK(scaled_error(params.get("layers.0.weight").grad(), g0) == 0);
  // lightly's _init_weights: N(0, 0.02) weights, zero biases; the last layer nn.Linear's default
  auto stats = [&](const std::string& name) { return value_stats(params.get(name)); };
  for (const char* w : {"layers.0.weight", "layers.2.weight", "layers.4.weight"}) {
    CAPTURE(w);
    auto [mean, stddev, mx] = stats(w);
    CHECK(std::fabs(mean) < 0.002);
    CHECK(stddev == doctest::Approx(0.02).epsilon(0.1));
  }
  for (const char* b : {"layers.0.bias", "layers.2.bias", "layers.4.bias"}) {
    CHECK(std::get<2>(stats(b)) == 0);
  }
  auto [mean_v, std_v, max_v] = stats("last_layer.weight_v");
  CHECK(max_v <= 1 / std::sqrt(32.0));
  CHECK(std_v == doctest::Approx(1 / std::sqrt(3.0 * 32)).epsilon(0.1));  // U(-b, b)
  // norm_last_layer = false: weight_g is trained, starting at 1
  o.norm_last_layer = false;
  DINOProjectionHead free_head(o);
  ParameterBuffer free_params;
  finalize(free_head, free_params, Device::cpu(), 7);
  REQUIRE(free_params.contains("last_layer.weight_g"));
  const std::vector<double> g = free_params.get("last_layer.weight_g").to_doubles();
  CHECK(std::all_of(g.begin(), g.end(), [](double v) { return v == 1.0; }));
}

TEST_CASE("heads reject bad layouts") {
  CHECK_THROWS_WITH_AS(vicreg_projection_head(8, 8, 4, 1), doctest::Contains("at least 2 layers"),
                       Error);
  DINOProjectionHeadOptions o;
  o.num_layers = 4;
  CHECK_THROWS_WITH_AS(DINOProjectionHead{o}, doctest::Contains("num_layers"), Error);
  std::unique_ptr<ProjectionHead> head = swav_projection_head(6, 10, 6);
  ParameterBuffer params;
  finalize(*head, params, Device::cpu(), 1);
  CHECK_THROWS_AS((*head)(Tensor::zeros({4, 5})), Error);
  ModuleList list;
  CHECK_THROWS_WITH_AS(list(Tensor::zeros({1, 1})), doctest::Contains("ModuleList"), Error);
}

TEST_CASE("heads pass a finite-difference check of the input gradient in f64 (train mode)") {
  for (const auto& [name, make] : cases()) {
    CAPTURE(name);
    std::unique_ptr<Module> head = make();
    ParameterBuffer params;
    finalize(*head, params, Device::cpu(), 3, DType::f64);
    head->train();
    const int64_t in = name == "swav_prototypes" ? 6 : 12;
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
