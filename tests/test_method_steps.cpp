// One training step of every method against the same step in PyTorch + lightly
// (tools/fixtures/ssl_method_steps.py): the same tiny backbone and small heads, the same weights,
// views and bank, then forward, loss, backward, SGD and the momentum update; every tensor of the
// method's state after the step (online and target networks, running statistics, banks and their
// positions) within 1e-5 in f32 on the CPU. Barlow Twins' LARS wiring and VICReg's take the
// optimizer the method table wires (make_optimizer: LARS and its lr scale of batch norm and
// biases) against lightly's LARS with the benchmark's parameter groups.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <cmath>

#include "api/methods.h"
#include "api/ssl_task.h"
#include "engine/io/safetensors.h"
#include "engine/train/adamw.h"
#include "engine/train/sgd.h"
#include "layers/layers.h"
#include "layers/methods/barlow_twins.h"
#include "layers/methods/byol.h"
#include "layers/methods/dcl.h"
#include "layers/methods/dino.h"
#include "layers/methods/moco.h"
#include "layers/methods/nnclr.h"
#include "layers/methods/simclr.h"
#include "layers/methods/simsiam.h"
#include "layers/methods/swav.h"
#include "layers/methods/vicreg.h"
#include "layers/weights.h"

using namespace lumen;

namespace {

constexpr int64_t kD = 16, kHidden = 32, kOut = 16, kBank = 24;

// conv 3x3 -> BN -> ReLU -> conv 3x3 stride 2 -> BN -> ReLU -> global average pool: 16 features,
// the fixture's TinyBackbone.
class TinyBackbone : public Module {
 public:
  TinyBackbone() {
    conv1_ = add_child("conv1", std::make_unique<Conv2d>(3, 8, 3, 1, 1));
    bn1_ = add_child("bn1", std::make_unique<BatchNorm2d>(8));
    conv2_ = add_child("conv2", std::make_unique<Conv2d>(8, kD, 3, 2, 1));
    bn2_ = add_child("bn2", std::make_unique<BatchNorm2d>(kD));
    relu_ = add_child("relu", std::make_unique<ReLU>());
    pool_ = add_child("pool", std::make_unique<GlobalAvgPool>());
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = (*relu_)((*bn1_)((*conv1_)(x)));
    return (*pool_)((*relu_)((*bn2_)((*conv2_)(h))));
  }

 private:
  Conv2d *conv1_, *conv2_;
  BatchNorm2d *bn1_, *bn2_;
  ReLU* relu_;
  GlobalAvgPool* pool_;
};

const Backbone kTiny{"tiny", kD, [] { return std::make_unique<TinyBackbone>(); }};

std::unique_ptr<Method> make_method(const std::string& name) {
  if (name == "simclr") return std::make_unique<SimCLR>(kTiny, SimCLROptions{kHidden, kOut});
  if (name == "mocov2") {
    MoCoOptions o;
    o.hidden_dim = kHidden;
    o.out_dim = kOut;
    o.loss.memory_bank_size = kBank;
    return std::make_unique<MoCo>(kTiny, o);
  }
  if (name == "byol") return std::make_unique<BYOL>(kTiny, BYOLOptions{kHidden, kOut, kHidden});
  if (name == "simsiam") {
    return std::make_unique<SimSiam>(kTiny, SimSiamOptions{kHidden, kOut, kHidden});
  }
  if (name == "nnclr") {
    NNCLROptions o{kHidden, kOut, kHidden, 0.5, kBank};
    return std::make_unique<NNCLR>(kTiny, o);
  }
  if (name == "barlowtwins") {
    return std::make_unique<BarlowTwins>(kTiny, BarlowTwinsMethodOptions{kHidden, kOut});
  }
  if (name == "vicreg") return std::make_unique<VICReg>(kTiny, VICRegMethodOptions{kHidden, kOut});
  DCLMethodOptions o{kHidden, kOut, 0.1, name == "dclw" ? 0.5 : 0.0};
  return std::make_unique<DCL>(kTiny, o);
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_doubles()) m = std::max(m, std::abs(v));
  return m;
}

const SafetensorsFile& fixture() {
  static const SafetensorsFile f = load_safetensors("fixtures/ssl_method_steps.safetensors");
  return f;
}

// Copies the fixture case's state before the steps into the method's live state; the method has
// the same entries as lightly's model, name for name.
void load_init(Method& method, const std::string& key) {
  const auto& t = fixture().tensors;
  NamedTensors state = method.state();
  size_t fixture_entries = 0;
  for (const auto& [entry, value] : t) fixture_entries += entry.rfind(key + "/init/", 0) == 0;
  CHECK(state.size() == fixture_entries);
  for (auto& [entry, live] : state) {
    copy_from_checkpoint(live, t.at(key + "/init/" + entry), entry);
  }
}

// Every tensor of the method's state against the fixture's state after the steps.
void check_after(Method& method, const std::string& key, int steps, double tol) {
  const auto& t = fixture().tensors;
  double worst = 0;
  for (auto& [entry, live] : method.state()) {
    CAPTURE(entry);
    const Tensor expected = t.at(key + "/after/" + entry);
    const Tensor actual = to_checkpoint_layout(live);
    if (actual.dtype() == DType::i64) {
      CHECK(actual.to_doubles() == expected.to_doubles());  // counters and bank positions
      continue;
    }
    // max |a - b| / max |b|; tensors the step leaves below 1e-2 (statistics of zero-mean
    // activations, a last batch norm's bias under a scale-invariant loss: float32 noise around
    // 1e-9) are measured against 1e-2, an absolute 1e-7.
    const double e =
        testing::scaled_error(actual, expected) * std::min(1.0, max_abs(expected) / 1e-2);
    worst = std::max(worst, e);
    CHECK(e <= tol);
  }
  MESSAGE(key << ": worst scaled error of the state after " << steps << " step(s) " << worst);
}

using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(ParameterBuffer&)>;

// The fixture's SGD: lr 0.05, momentum 0.9, weight decay 5e-4 except on biases and 1-D parameters.
std::unique_ptr<Optimizer> fixture_sgd(ParameterBuffer& params) {
  return std::make_unique<SGD>(params, SGDOptions{0.05, 0.9, 0, 5e-4, false},
                               no_decay_for_bias_and_norm);
}

// The optimizer training builds for `method` with `optimizer` ("": the method's default), at the
// fixture's global batch of 1280 (lightly's lr_factor 5).
OptimizerFactory wired(const std::string& method, const std::string& optimizer) {
  return [=](ParameterBuffer& params) {
    const OptimizerWiring w = optimizer_wiring(find_method(method), optimizer, 1280);
    OptimizerSettings s;
    s.name = w.optimizer;
    s.lr = w.lr;
    s.momentum = 0.9;
    s.weight_decay = w.weight_decay;
    s.no_decay_lr_scale = w.no_decay_lr_scale;
    return make_optimizer(params, s);
  };
}

// The fixture case `key` ("byol", or "byol_3steps" for three steps in a row) of method `name`.
void check_steps(const std::string& name, const std::string& key, int steps, double tol,
                 const OptimizerFactory& make_optimizer = fixture_sgd) {
  CAPTURE(key);
  const auto& t = fixture().tensors;
  std::unique_ptr<Method> method = make_method(name);
  ParameterBuffer params;
  finalize(*method, params, Device::cpu(), 7);
  method->setup(params, Device::cpu(), 7);
  method->train();
  load_init(*method, key);

  std::unique_ptr<Optimizer> optimizer = make_optimizer(params);
  for (int step = 0; step < steps; ++step) {
    const std::string at = steps == 1 ? "" : "/" + std::to_string(step);
    method->prepare_step(MethodStep{step, steps});
    Tensor loss =
        method->training_loss({t.at(key + "/views" + at + "/0"), t.at(key + "/views" + at + "/1")});
    CHECK(loss.item() == doctest::Approx(t.at(key + "/loss" + at).item()).epsilon(tol));
    loss.backward();
    optimizer->step();
    method->after_update();
    params.zero_grad();
  }

  check_after(*method, key, steps, tol);
}

void check_one_step(const std::string& name) { check_steps(name, name, 1, 1e-5); }

}  // namespace

TEST_CASE("simclr: one step as PyTorch + lightly") { check_one_step("simclr"); }
TEST_CASE("mocov2: one step as PyTorch + lightly") { check_one_step("mocov2"); }
TEST_CASE("byol: one step as PyTorch + lightly") { check_one_step("byol"); }
TEST_CASE("simsiam: one step as PyTorch + lightly") { check_one_step("simsiam"); }
TEST_CASE("nnclr: one step as PyTorch + lightly") { check_one_step("nnclr"); }
TEST_CASE("dcl: one step as PyTorch + lightly") { check_one_step("dcl"); }
TEST_CASE("dclw: one step as PyTorch + lightly") { check_one_step("dclw"); }
TEST_CASE("barlowtwins: one step as PyTorch + lightly") { check_one_step("barlowtwins"); }

// lightly's ImageNet wirings: LARS 0.2 x batch/256; Barlow Twins' batch norm and biases at 0.0048 x
// batch/256 (lr scale 0.024), both methods' without weight decay and so without LARS adaptation.
TEST_CASE("barlowtwins with optimizer.name=lars: one step as lightly's LARS parameter groups") {
  check_steps("barlowtwins", "barlowtwins_lars", 1, 1e-5, wired("barlowtwins", "lars"));
}
TEST_CASE("vicreg with its default wiring (LARS): one step as PyTorch + lightly") {
  check_steps("vicreg", "vicreg", 1, 1e-5, wired("vicreg", ""));
}

// Three steps in a row: the momentum targets follow the online weights step after step, the
// banks fill and wrap.
TEST_CASE("mocov2, byol, nnclr: three steps as PyTorch + lightly") {
  for (const char* name : {"mocov2", "byol", "nnclr"}) {
    check_steps(name, std::string(name) + "_3steps", 3, 1e-5);
  }
}

// Multi-crop methods: two 12 px and two 8 px views, the same tensors as lightly's; step i at
// epoch i (what changes by epoch changes within a case); DINO's momentum from
// cosine_schedule(step, 4, 0.996, 1); one SwaV step with Adam (lr 1e-3, weight decay 1e-6) as
// lightly's benchmark, the other cases with the SGD above.
namespace {

constexpr int64_t kMultiTotalSteps = 4;

std::unique_ptr<Method> make_multi_crop_method(const std::string& name) {
  if (name == "swav" || name == "swav_queue") {
    SwaVMethodOptions o;
    o.hidden_dim = kHidden, o.out_dim = kOut, o.n_prototypes = kBank;
    if (name == "swav_queue") o.queue_length = 12, o.start_queue_at_epoch = 1;
    return std::make_unique<SwaV>(kTiny, o);
  }
  DINOMethodOptions o;
  o.hidden_dim = kHidden, o.bottleneck_dim = kOut, o.out_dim = kBank;
  o.freeze_last_layer = 1;
  o.loss.warmup_teacher_temp = 0.02, o.loss.teacher_temp = 0.05;
  o.loss.warmup_teacher_temp_epochs = 3;
  return std::make_unique<DINO>(kTiny, o);
}

void check_multi_crop(const std::string& name, int steps) {
  const std::string key = steps == 1 ? name : name + "_" + std::to_string(steps) + "steps";
  CAPTURE(key);
  const auto& t = fixture().tensors;
  std::unique_ptr<Method> method = make_multi_crop_method(name);
  ParameterBuffer params;
  finalize(*method, params, Device::cpu(), 7);
  method->setup(params, Device::cpu(), 7);
  method->train();
  load_init(*method, key);
  std::unique_ptr<Optimizer> opt;
  if (name == "swav") {  // the fixture's one Adam case (see tools/fixtures/ssl_method_steps.py)
    AdamOptions o;
    o.lr = 1e-3, o.weight_decay = 1e-6;
    opt = std::make_unique<Adam>(params, o, no_decay_for_bias_and_norm);
  } else {
    opt = std::make_unique<SGD>(params, SGDOptions{0.05, 0.9, 0, 5e-4, false},
                                no_decay_for_bias_and_norm);
  }
  for (int step = 0; step < steps; ++step) {
    const std::string at = steps == 1 ? "" : "/" + std::to_string(step);
    const MethodStep where{step, kMultiTotalSteps, step, kMultiTotalSteps};
    const std::vector<std::string> frozen = method->frozen_parameters(where);
    opt->set_frozen([&](const std::string& n) {
      return std::find(frozen.begin(), frozen.end(), n) != frozen.end();
    });
    method->prepare_step(where);
    std::vector<Tensor> views;
    for (int v = 0; v < 4; ++v)
      views.push_back(t.at(key + "/views" + at + "/" + std::to_string(v)));
    Tensor loss = method->training_loss(views);
    CHECK(loss.item() == doctest::Approx(t.at(key + "/loss" + at).item()).epsilon(1e-5));
    loss.backward();
    opt->step();
    method->after_update();
    params.zero_grad();
  }
  check_after(*method, key, steps, 1e-5);
}

}  // namespace

TEST_CASE("swav: one step as PyTorch + lightly (multi-crop, Adam)") { check_multi_crop("swav", 1); }
TEST_CASE("swav with queues: three steps as PyTorch + lightly (queue from epoch 1, wrapping)") {
  check_multi_crop("swav_queue", 3);
}
TEST_CASE("dino: one step as PyTorch + lightly (multi-crop, last layer frozen)") {
  check_multi_crop("dino", 1);
}
TEST_CASE("dino: two steps as PyTorch + lightly (teacher momentum, centre, temperature warm-up)") {
  check_multi_crop("dino", 2);
}

// lightly's CIFAR-10 benchmark SwaVTransform makes only the two high-resolution crops.
TEST_CASE("swav: two high-resolution crops and no low-resolution crop (lightly's CIFAR-10 crops)") {
  std::unique_ptr<Method> method = make_multi_crop_method("swav");
  ParameterBuffer params;
  finalize(*method, params, Device::cpu(), 7);
  method->setup(params, Device::cpu(), 7);
  method->train();
  const auto& t = fixture().tensors;
  method->prepare_step(MethodStep{});
  Tensor loss = method->training_loss({t.at("swav/views/0"), t.at("swav/views/1")});
  CHECK(std::isfinite(loss.item()));
  loss.backward();
  CHECK(max_abs(params.get("projection_head.layers.0.weight").grad()) > 0);
}
