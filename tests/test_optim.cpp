// Optimizers and schedules: three steps of SGD / LARS / Adam / AdamW against PyTorch fixtures (f32
// and f64), weight-decay exclusion, state round trips for checkpoints, argument errors, lightly's
// cosine warmup schedule against torch's LambdaLR (the GPU update against the CPU:
// test_optim_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/optim_cases.h"
#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "api/ssl_task.h"
#include "engine/io/safetensors.h"
#include "engine/train/adamw.h"
#include "engine/train/lars.h"
#include "engine/train/schedule.h"
#include "engine/train/sgd.h"

using namespace lumen;
using namespace lumen::testing::optim_cases;
using testing::scaled_error;

TEST_CASE("optimizers match PyTorch over three steps (SGD, LARS, Adam, AdamW; f32 and f64)") {
  for (const auto& [config, make] : configs()) {
    for (DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(config);
      const std::string dtype_label = dtype_name(dtype);
      CAPTURE(dtype_label);
      const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
      auto params = make_params(dtype);
      auto opt = make(*params);
      run_steps(*params, *opt);
      CHECK(opt->steps_taken() == 3);
      for (const auto& [name, shape] : kShapes) {
        CAPTURE(name);
        const double err = scaled_error(params->get(name), fixture().at(config + "." + name));
        CHECK(err <= tol);
        // The parameters moved: a no-op update could not pass.
        CHECK(scaled_error(params->get(name), fixture().at("init." + name)) > 10 * tol);
      }
    }
  }
}

TEST_CASE("weight-decay exclusion: biases and 1-D parameters get none") {
  auto params = make_params(DType::f32);
  SGDOptions o;
  o.weight_decay = 0.1;
  SGD with_rule(*params, o, no_decay_for_bias_and_norm), without(*params, o);
  for (size_t i = 0; i < params->size(); ++i) {
    const std::string& name = params->name(i);
    CAPTURE(name);
    const bool decays = name == "conv.weight" || name == "big.weight" || name == "fc.weight";
    CHECK(with_rule.weight_decay_of(i) == (decays ? 0.1 : 0.0));
    CHECK(without.weight_decay_of(i) == 0.1);
  }
  // An explicit list works as a rule too.
  const std::vector<std::string> only = {"fc.weight"};
  SGD listed(*params, o, [&](const std::string& name, const Tensor&) {
    return std::find(only.begin(), only.end(), name) != only.end();
  });
  CHECK(listed.weight_decay_of(4) == 0.1);
  CHECK(listed.weight_decay_of(0) == 0.0);
}

TEST_CASE(
    "parameter groups with their own learning rate, and frozen parameters (SGD, LARS, AdamW)") {
  // A parameter at lr_scale 0.5 moves as under an optimizer of half the learning rate; a frozen
  // one does not move and keeps its state; unfrozen, it moves again.
  using Make = std::function<std::unique_ptr<Optimizer>(ParameterBuffer&, double lr)>;
  const std::vector<std::pair<const char*, Make>> kinds = {
      {"sgd",
       [](ParameterBuffer& p, double lr) {
         return std::make_unique<SGD>(p, SGDOptions{lr, 0.9, 0, 5e-4, false});
       }},
      {"lars",
       [](ParameterBuffer& p, double lr) {
         LARSOptions o;
         o.lr = lr, o.momentum = 0.9, o.weight_decay = 5e-4;
         return std::make_unique<LARS>(p, o);
       }},
      {"adamw", [](ParameterBuffer& p, double lr) {
         AdamWOptions o;
         o.lr = lr, o.weight_decay = 0.01;
         return std::make_unique<AdamW>(p, o);
       }}};
  for (const auto& [kind, make] : kinds) {
    CAPTURE(kind);
    auto grouped = make_params(DType::f64), full = make_params(DType::f64),
         half = make_params(DType::f64);
    auto a = make(*grouped, 0.1), b = make(*full, 0.1), c = make(*half, 0.05);
    a->set_lr_scales(
        [](const std::string& name, const Tensor&) { return name == "fc.weight" ? 0.5 : 1.0; });
    a->set_frozen([](const std::string& name) { return name == "conv.weight"; });
    const std::vector<double> conv_before = grouped->get("conv.weight").to_doubles();
    for (int step = 0; step < 3; ++step) {
      for (ParameterBuffer* p : {grouped.get(), full.get(), half.get()}) set_grads(*p, step);
      a->step();
      b->step();
      c->step();
    }
    CHECK(grouped->get("fc.weight").to_doubles() == half->get("fc.weight").to_doubles());
    CHECK(grouped->get("fc.bias").to_doubles() == full->get("fc.bias").to_doubles());
    CHECK(grouped->get("conv.weight").to_doubles() == conv_before);
    CHECK(a->lr_scale_of(4) == 0.5);
    a->set_frozen(nullptr);
    set_grads(*grouped, 0);
    a->step();
    CHECK(grouped->get("conv.weight").to_doubles() != conv_before);
  }
}

TEST_CASE("a training run's optimizer puts batch norm and biases at the wiring's lr scale") {
  for (const char* name : {"sgd", "lars", "adam", "adamw"}) {
    CAPTURE(name);
    auto params = make_params(DType::f32);
    OptimizerSettings s;
    s.name = name;
    s.no_decay_lr_scale = 0.024;  // lightly's Barlow Twins: 0.0048 of LARS' 0.2
    auto grouped = make_optimizer(*params, s);
    s.no_decay_lr_scale = 1;
    auto plain = make_optimizer(*params, s);
    for (size_t i = 0; i < params->size(); ++i) {
      const bool decays = no_decay_for_bias_and_norm(params->name(i), params->get(params->name(i)));
      CAPTURE(params->name(i));
      CHECK(grouped->lr_scale_of(i) == (decays ? 1.0 : 0.024));
      CHECK(plain->lr_scale_of(i) == 1.0);
    }
  }
}

TEST_CASE("prepare_step + launch_update (the CUDA Graph split) equals step()") {
  for (const auto& [config, make] : configs()) {
    CAPTURE(config);
    auto straight = make_params(DType::f32);
    auto opt = make(*straight);
    run_steps(*straight, *opt);
    auto split = make_params(DType::f32);
    auto opt_split = make(*split);
    const std::vector<double> lrs = fixture().at("lrs").to_doubles();
    for (int step = 0; step < 3; ++step) {
      set_grads(*split, step);
      opt_split->set_lr(lrs[size_t(step)]);
      opt_split->prepare_step();
      opt_split->launch_update();
    }
    CHECK(testing::max_relative_error(split->values(), straight->values()) == 0);
  }
}

TEST_CASE("optimizer state round-trips: resuming from state_tensors() gives the same weights") {
  for (const auto& [config, make] : configs()) {
    CAPTURE(config);
    auto straight = make_params(DType::f32);
    auto opt = make(*straight);
    run_steps(*straight, *opt);

    auto first = make_params(DType::f32);
    auto opt_first = make(*first);
    run_steps(*first, *opt_first, 0, 2);
    std::map<std::string, Tensor> saved;
    for (const auto& [name, t] : opt_first->state_tensors()) saved[name] = t.clone();
    CHECK(saved.at("step").item() == 2);

    auto resumed = make_params(DType::f32);
    resumed->values().copy_from(first->values());
    auto opt_resumed = make(*resumed);
    opt_resumed->load_state_tensors(saved);
    CHECK(opt_resumed->steps_taken() == 2);
    run_steps(*resumed, *opt_resumed, 2, 3);
    CHECK(testing::max_relative_error(resumed->values(), straight->values()) == 0);

    // The trainer's way: copy the saved tensors into the live ones that state_tensors() returns.
    auto live = make_params(DType::f32);
    live->values().copy_from(first->values());
    auto opt_live = make(*live);
    for (auto& [name, t] : opt_live->state_tensors()) t.copy_from(saved.at(name));
    CHECK(opt_live->steps_taken() == 2);
    run_steps(*live, *opt_live, 2, 3);
    CHECK(testing::max_relative_error(live->values(), straight->values()) == 0);
  }
  auto params = make_params(DType::f32);
  SGDOptions o;
  o.momentum = 0.9;
  SGD sgd(*params, o);
  AdamW adamw(*params, AdamWOptions{});
  CHECK(sgd.state_tensors().count("momentum_buffer") == 1);
  CHECK(adamw.state_tensors().count("exp_avg_sq") == 1);
  CHECK_THROWS_WITH_AS(adamw.load_state_tensors(sgd.state_tensors()), doctest::Contains("exp_avg"),
                       Error);
}

TEST_CASE("optimizers reject bad settings with clear errors") {
  ParameterBuffer unfinished;
  unfinished.add("w", {2, 2});
  CHECK_THROWS_WITH_AS(SGD(unfinished, SGDOptions{}), doctest::Contains("finalize"), Error);
  auto params = make_params(DType::f32);
  CHECK_THROWS_AS(SGD(*params, SGDOptions{-1.0}), Error);
  SGDOptions nesterov;
  nesterov.nesterov = true;
  CHECK_THROWS_WITH_AS(SGD(*params, nesterov), doctest::Contains("Nesterov"), Error);
  SGDOptions decay;
  decay.weight_decay = -0.1;
  CHECK_THROWS_AS(SGD(*params, decay), Error);
  AdamWOptions betas;
  betas.beta2 = 1.0;
  CHECK_THROWS_WITH_AS(AdamW(*params, betas), doctest::Contains("betas"), Error);
  SGD not_prepared(*params, SGDOptions{});
  CHECK_THROWS_WITH_AS(not_prepared.launch_update(), doctest::Contains("prepare_step"), Error);
  auto narrow = std::make_unique<ParameterBuffer>();
  narrow->add("w", {3});
  narrow->finalize(Device::cpu(), DType::bf16);
  CHECK_THROWS_WITH_AS(SGD(*narrow, SGDOptions{}), doctest::Contains("master weights"), Error);
}

TEST_CASE("cosine warmup schedule matches lightly's formula through torch's LambdaLR") {
  struct Case {
    const char* name;
    CosineWarmupOptions options;
  };
  std::vector<Case> cases(4);
  cases[0] = {"warmup3_max10", {3, 10, 1.0, 0.001}};
  cases[1] = {"nowarmup_max5", {0, 5, 1.0, 0.001}};
  cases[2] = {"warmup2_max10_period4", {2, 10, 1.0, 0.1, 4, 0.1, 0.5}};
  cases[3] = {"max1", {0, 1, 1.0, 0.001}};
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::vector<double> expected =
        fixture().at(std::string("schedule.") + c.name).to_doubles();
    auto params = make_params(DType::f32);
    SGD sgd(*params, SGDOptions{0.5});
    CosineWarmupScheduler scheduler(sgd, c.options);
    for (size_t epoch = 0; epoch < expected.size(); ++epoch) {
      CAPTURE(epoch);
      CHECK(sgd.lr() == doctest::Approx(expected[epoch]).epsilon(1e-12));
      scheduler.step();
    }
    scheduler.set_last_epoch(1);
    CHECK(sgd.lr() == doctest::Approx(expected[1]).epsilon(1e-12));
  }
  CHECK(cosine_schedule(0, 10, 2.0, 0.5) == 2.0);
  CHECK(cosine_schedule(9, 10, 2.0, 0.5) == 0.5);
  CHECK_THROWS_AS(cosine_schedule(-1, 10, 1, 0), Error);
  CHECK_THROWS_AS(cosine_schedule(0, 10, 1, 0, 0), Error);
  CHECK_THROWS_WITH_AS(cosine_warmup_schedule(0, 5, 1, 0, 6, 0), doctest::Contains("warmup"),
                       Error);
}
