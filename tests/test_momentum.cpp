// Momentum encoders: momentum_update against lightly's update_momentum and cosine_schedule against
// lightly's values (tests/fixtures/ssl_momentum, made by tools/fixtures/ssl_losses_heads.py), and
// MomentumCopy: a copy of online modules in its own no-gradient buffer that follows them.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/train/momentum.h"
#include "engine/train/schedule.h"
#include "layers/heads.h"
#include "layers/momentum.h"

using namespace lumen;

namespace {

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> t =
      load_safetensors("fixtures/ssl_momentum.safetensors").tensors;
  return t;
}

// Packs the fixture's "<prefix><parameter>" tensors into the flat layout of `params`.
Tensor flat(ParameterBuffer& params, const std::string& prefix) {
  Tensor out = Tensor::zeros({params.values().numel()});
  for (size_t i = 0; i < params.size(); ++i) {
    const size_t offset = (params[i].impl()->byte_offset - params.values().impl()->byte_offset) / 4;
    out.rows(int64_t(offset), params[i].numel())
        .copy_from(fixture().at(prefix + params.name(i)).reshape({params[i].numel()}));
  }
  return out;
}

// A small online model laid out as BYOL's: backbone, projection head, then prediction head.
class Online : public Module {
 public:
  Online() {
    backbone = add_child("backbone", std::make_unique<Sequential>());
    backbone->append(std::make_unique<Linear>(5, 8));
    backbone->append(std::make_unique<BatchNorm1d>(8));
    backbone->append(std::make_unique<ReLU>());
    projection_head = add_child("projection_head", byol_projection_head(8, 7, 4));
    prediction_head = add_child("prediction_head", byol_prediction_head(4, 6, 4));
  }
  Tensor forward(const Tensor& x) override {
    return (*prediction_head)((*projection_head)((*backbone)(x)));
  }
  Sequential* backbone;
  ProjectionHead* projection_head;
  ProjectionHead* prediction_head;
};

std::unique_ptr<Sequential> make_backbone() {
  auto b = std::make_unique<Sequential>();
  b->append(std::make_unique<Linear>(5, 8));
  b->append(std::make_unique<BatchNorm1d>(8));
  b->append(std::make_unique<ReLU>());
  return b;
}

}  // namespace

TEST_CASE("momentum_update matches lightly's update_momentum (f32)") {
  for (const char* name : {"m099", "m05", "m09996"}) {
    CAPTURE(name);
    const std::string pre = std::string("update.") + name + ".";
    std::unique_ptr<ProjectionHead> head = moco_projection_head(12, 10, 6);
    ParameterBuffer params;
    finalize(*head, params, Device::cpu(), 1);
    Tensor target = flat(params, pre + "before.");
    const Tensor online = flat(params, pre + "online.");
    momentum_update(target, online, fixture().at(pre + "m").item());
    const double err = testing::max_relative_error(target, flat(params, pre + "after."));
    MESSAGE(std::string(name) << ": max relative error vs lightly " << err);
    CHECK(err <= 1e-7);  // one rounding apart at most (lightly's CPU add may fuse into an FMA)
  }
  // f64: the formula exactly
  Tensor t = Tensor::normal({70}, 3, 0, 1, DType::f64),
         o = Tensor::normal({70}, 4, 0, 1, DType::f64);
  const std::vector<double> tv = t.to_doubles(), ov = o.to_doubles();
  momentum_update(t, o, 0.9);
  const std::vector<double> after = t.to_doubles();
  for (size_t i = 0; i < tv.size(); ++i) CHECK(after[i] == tv[i] * 0.9 + ov[i] * (1.0 - 0.9));
  momentum_update(t, o, 0.0);  // m = 0 copies the online values
  CHECK(t.to_doubles() == ov);
  CHECK_THROWS_WITH_AS(momentum_update(t, o, 1.5), doctest::Contains("[0, 1]"), Error);
  CHECK_THROWS_AS(momentum_update(t, o.rows(0, 69), 0.5), Error);
  CHECK_THROWS_AS(momentum_update(t, o.to(DType::f32), 0.5), Error);
  CHECK_THROWS_AS(momentum_update(t.reshape({7, 10}), o.reshape({7, 10}), 0.5), Error);
}

TEST_CASE("cosine_schedule matches lightly's, max_steps 0, 1, 2 and steps past the end included") {
  const Tensor& table = fixture().at("cosine_schedule");
  const std::vector<double> v = table.to_doubles();
  const int64_t cols = table.size(1);
  REQUIRE(table.size(0) >= 40);
  for (int64_t r = 0; r < table.size(0); ++r) {
    const double* row = &v[size_t(r * cols)];
    CAPTURE(row[0]);
    CAPTURE(row[1]);
    CAPTURE(row[4]);
    const std::optional<int64_t> period =
        row[4] > 0 ? std::optional<int64_t>(int64_t(row[4])) : std::nullopt;
    const double got = cosine_schedule(int64_t(row[0]), int64_t(row[1]), row[2], row[3], period);
    CHECK(got == doctest::Approx(row[5]).epsilon(1e-15));
  }
}

TEST_CASE("MomentumCopy: a no-gradient copy of the online modules that follows them by EMA") {
  Online model;
  ParameterBuffer params;
  finalize(model, params, Device::cpu(), 7);
  model.train();
  Tensor x = Tensor::normal({6, 5}, 1, 0.3, 2.0);
  model(x);  // moves the online running statistics away from their initial values

  MomentumCopy momentum;
  Sequential* key_backbone = momentum.add("backbone", make_backbone(), *model.backbone);
  ProjectionHead* key_head =
      momentum.add("projection_head", byol_projection_head(8, 7, 4), *model.projection_head);
  CHECK_THROWS_WITH_AS(momentum.update(0.9), doctest::Contains("before finalize"), Error);
  momentum.finalize();

  // The copy: the online values and buffers, its own storage, no gradients.
  ParameterBuffer& copy = momentum.parameters();
  CHECK(!copy.gradients().defined());
  CHECK(copy.values().storage() != params.values().storage());
  auto copy_params = momentum.root().named_parameters();
  REQUIRE(copy_params.size() == 2 * 2 + 2 + 3);  // backbone Linear+BN, head Linear+BN, Linear
  for (const auto& [name, t] : copy_params) {
    CAPTURE(name);
    CHECK(!t.requires_grad());
    CHECK(testing::max_relative_error(t, params.get(name)) == 0);
  }
  auto online_buffers = model.backbone->named_buffers("backbone.");
  auto copy_buffers = momentum.root().named_buffers();
  for (size_t k = 0; k < online_buffers.size(); ++k) {
    CHECK(copy_buffers[k].first == online_buffers[k].first);
    CHECK(testing::max_relative_error(copy_buffers[k].second, online_buffers[k].second) == 0);
  }
  CHECK(copy_buffers[2].second.data<int64_t>()[0] == 1);  // num_batches_tracked copied too
  CHECK(momentum.online_values().numel() == copy.values().numel());

  // Same weights, same statistics: the same training-mode output; the copy records nothing.
  Tensor online_out = (*model.projection_head)((*model.backbone)(x));
  const size_t tape_before = Tape::current().size();
  Tensor key = (*key_head)((*key_backbone)(x));
  CHECK(Tape::current().size() == tape_before);
  CHECK(!key.requires_grad());
  CHECK(testing::max_relative_error(key, online_out) < 1e-6);
  Tape::current().clear();

  // The online model moves; update() blends every parameter, leaving the prediction head alone.
  const std::vector<double> copy_before = copy.values().to_doubles();
  Tensor followed = params.values().rows(0, copy.values().numel());
  add_inplace(followed, Tensor::normal({copy.values().numel()}, 9));
  const std::vector<double> online_now = momentum.online_values().to_doubles();
  momentum.update(0.99);
  const std::vector<double> copy_after = copy.values().to_doubles();
  for (size_t i = 0; i < copy_after.size(); ++i) {
    CHECK(copy_after[i] == doctest::Approx(0.99 * copy_before[i] + 0.01 * online_now[i]));
  }
  CHECK(testing::max_relative_error(momentum.online_values(), followed) == 0);
  momentum.copy_from_online();
  CHECK(testing::max_relative_error(copy.values(), momentum.online_values()) == 0);
}

TEST_CASE("MomentumCopy rejects copies that do not match their online modules") {
  Online model;
  ParameterBuffer params;
  finalize(model, params, Device::cpu(), 7);
  SUBCASE("a copy built with other dims") {
    MomentumCopy momentum;
    momentum.add("projection_head", byol_projection_head(8, 5, 4), *model.projection_head);
    CHECK_THROWS_WITH_AS(momentum.finalize(), doctest::Contains("exactly like"), Error);
  }
  SUBCASE("online modules that are not consecutive in the online buffer") {
    MomentumCopy momentum;
    momentum.add("backbone", make_backbone(), *model.backbone);
    momentum.add("prediction_head", byol_prediction_head(4, 6, 4), *model.prediction_head);
    CHECK_THROWS_WITH_AS(momentum.finalize(), doctest::Contains("consecutively"), Error);
  }
  SUBCASE("online modules added out of order") {
    MomentumCopy momentum;
    momentum.add("projection_head", byol_projection_head(8, 7, 4), *model.projection_head);
    momentum.add("backbone", make_backbone(), *model.backbone);
    CHECK_THROWS_WITH_AS(momentum.finalize(), doctest::Contains("consecutively"), Error);
  }
  SUBCASE("an online model not finalized") {
    Online fresh;
    MomentumCopy momentum;
    momentum.add("backbone", make_backbone(), *fresh.backbone);
    CHECK_THROWS_WITH_AS(momentum.finalize(), doctest::Contains("finalize the online"), Error);
  }
  SUBCASE("a name added twice") {
    MomentumCopy momentum;
    momentum.add("backbone", make_backbone(), *model.backbone);
    CHECK_THROWS_WITH_AS(momentum.add("backbone", make_backbone(), *model.backbone),
                         doctest::Contains("twice"), Error);
  }
}
