#include "support/optim_cases.h"

#include "engine/io/safetensors.h"
#include "engine/train/adamw.h"
#include "engine/train/lars.h"
#include "engine/train/sgd.h"

namespace lumen::testing::optim_cases {

const std::vector<std::pair<std::string, Shape>> kShapes = {
    {"conv.weight", {4, 3, 3, 3}}, {"bn.weight", {4}},    {"bn.bias", {4}},
    {"big.weight", {70, 64}},      {"fc.weight", {5, 4}}, {"fc.bias", {5}}};

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> tensors =
      load_safetensors("fixtures/optim_steps.safetensors").tensors;
  return tensors;
}

std::unique_ptr<ParameterBuffer> make_params(DType dtype, Device device) {
  auto params = std::make_unique<ParameterBuffer>();
  for (const auto& [name, shape] : kShapes) params->add(name, shape);
  params->finalize(device, dtype);
  for (const auto& [name, shape] : kShapes)
    params->get(name).copy_from(fixture().at("init." + name));
  return params;
}

void set_grads(ParameterBuffer& params, int step) {
  for (const auto& [name, shape] : kShapes) {
    Tensor g = params.get(name).grad();
    g.copy_from(fixture().at("grad" + std::to_string(step) + "." + name));
  }
}

std::map<std::string, Factory> configs() {
  std::map<std::string, Factory> c;
  c["sgd_plain"] = [](ParameterBuffer& p) { return std::make_unique<SGD>(p, SGDOptions{0.1}); };
  c["sgd_momentum_wd_excluded"] = [](ParameterBuffer& p) {
    SGDOptions o;
    o.lr = 0.1, o.momentum = 0.9, o.weight_decay = 5e-4;
    return std::make_unique<SGD>(p, o, no_decay_for_bias_and_norm);
  };
  c["sgd_nesterov_wd"] = [](ParameterBuffer& p) {
    SGDOptions o;
    o.lr = 0.1, o.momentum = 0.9, o.nesterov = true, o.weight_decay = 1e-3;
    return std::make_unique<SGD>(p, o);
  };
  c["sgd_dampening"] = [](ParameterBuffer& p) {
    SGDOptions o;
    o.lr = 0.1, o.momentum = 0.8, o.dampening = 0.3, o.weight_decay = 1e-2;
    return std::make_unique<SGD>(p, o);
  };
  c["lars_momentum_wd_excluded"] = [](ParameterBuffer& p) {
    LARSOptions o;
    o.lr = 0.1, o.momentum = 0.9, o.weight_decay = 1e-2, o.trust_coefficient = 0.02;
    return std::make_unique<LARS>(p, o, no_decay_for_bias_and_norm);
  };
  c["lars_nesterov"] = [](ParameterBuffer& p) {
    LARSOptions o;
    o.lr = 0.1, o.momentum = 0.9, o.nesterov = true, o.weight_decay = 5e-3;
    return std::make_unique<LARS>(p, o);
  };
  c["adamw_wd_excluded"] = [](ParameterBuffer& p) {
    AdamWOptions o;
    o.lr = 0.1, o.beta1 = 0.8, o.beta2 = 0.95, o.eps = 1e-6, o.weight_decay = 0.05;
    return std::make_unique<AdamW>(p, o, no_decay_for_bias_and_norm);
  };
  c["adamw_default"] = [](ParameterBuffer& p) {
    AdamWOptions o;
    o.lr = 0.1;
    return std::make_unique<AdamW>(p, o);
  };
  c["adam_wd_excluded"] = [](ParameterBuffer& p) {
    AdamOptions o;
    o.lr = 0.1, o.beta1 = 0.8, o.beta2 = 0.95, o.eps = 1e-6, o.weight_decay = 0.05;
    return std::make_unique<Adam>(p, o, no_decay_for_bias_and_norm);
  };
  c["adam_default"] = [](ParameterBuffer& p) {
    AdamOptions o;
    o.lr = 0.1;
    return std::make_unique<Adam>(p, o);
  };
  return c;
}

void run_steps(ParameterBuffer& params, Optimizer& opt, int first, int last) {
  const std::vector<double> lrs = fixture().at("lrs").to_doubles();
  for (int step = first; step < last; ++step) {
    set_grads(params, step);
    opt.set_lr(lrs[size_t(step)]);
    opt.step();
  }
}

}  // namespace lumen::testing::optim_cases
