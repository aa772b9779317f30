#include "layers/module.h"

#include <cmath>

namespace lumen {

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

size_t Module::declare_parameter(const std::string& name, const Shape& shape, Init init) {
  parameters_.push_back(Parameter{name, shape, std::move(init), Tensor()});
  return parameters_.size() - 1;
}

size_t Module::declare_buffer(const std::string& name, const Tensor& initial) {
  buffers_.push_back(Buffer{name, initial});
  return buffers_.size() - 1;
}

const Tensor& Module::parameter(size_t i) const {
  const Parameter& p = parameters_.at(i);
  LUMEN_CHECK(p.value.defined(), "parameter '", p.name,
              "' is not allocated yet: call finalize(module, params, device, seed) before forward");
  return p.value;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (Parameter& p : parameters_) out.emplace_back(prefix + p.name, p.value);
  for (auto& [name, child] : children_) {
    for (auto& entry : child->named_parameters(prefix + name + ".")) out.push_back(entry);
  }
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (Buffer& b : buffers_) out.emplace_back(prefix + b.name, b.value);
  for (auto& [name, child] : children_) {
    for (auto& entry : child->named_buffers(prefix + name + ".")) out.push_back(entry);
  }
  return out;
}

namespace {

void declare_all(Module& m, const std::string& prefix, ParameterBuffer& params) {
  for (auto& p : m.parameters()) params.add(prefix + p.name, p.shape);
  for (auto& [name, child] : m.children()) declare_all(*child, prefix + name + ".", params);
}

void bind_all(Module& m, const std::string& prefix, ParameterBuffer& params, uint64_t seed,
              DType dtype, Device device) {
  for (auto& p : m.parameters()) {
    p.value = params.get(prefix + p.name);
    // Each parameter draws from its own stream: the seed mixed with its index in the buffer.
    Tensor init = Tensor::empty(p.shape, dtype);
    uint64_t key = seed * 0x9E3779B97F4A7C15ull;
    for (char ch : prefix + p.name) key = (key ^ uint8_t(ch)) * 0x100000001B3ull;
    p.init(init, key);
    p.value.copy_from(init);
  }
  for (auto& b : m.buffers()) {
    // Float buffers (running statistics) follow the parameters; integer counters stay on the host
    // so that updating them never waits for the GPU.
    if (dtype_is_float(b.value.dtype())) b.value = b.value.to(dtype).to(device);
  }
  for (auto& [name, child] : m.children()) {
    bind_all(*child, prefix + name + ".", params, seed, dtype, device);
  }
}

}  // namespace

void finalize(Module& root, ParameterBuffer& params, Device device, uint64_t seed, DType dtype,
              bool requires_grad) {
  LUMEN_CHECK(!params.finalized() && params.size() == 0,
              "finalize: the ParameterBuffer must be new and empty (one buffer per network)");
  LUMEN_CHECK(dtype == DType::f32 || dtype == DType::f64,
              "finalize: master weights are f32 (or f64 for gradient checks), not ",
              dtype_name(dtype), "; run a bf16 forward by feeding bf16 activations");
  declare_all(root, "", params);
  params.finalize(device, dtype, requires_grad);
  bind_all(root, "", params, seed, dtype, device);
}

Module::Init kaiming_normal_fan_out(int64_t fan_out) {
  const double stddev = std::sqrt(2.0 / double(fan_out));
  return [stddev](Tensor& value, uint64_t seed) {
    value.copy_from(Tensor::normal(value.shape(), seed, 0, stddev, value.dtype()));
  };
}

Module::Init uniform_init(double bound) {
  return [bound](Tensor& value, uint64_t seed) {
    value.copy_from(Tensor::uniform(value.shape(), seed, -bound, bound, value.dtype()));
  };
}

Module::Init normal_init(double stddev) {
  return [stddev](Tensor& value, uint64_t seed) {
    value.copy_from(Tensor::normal(value.shape(), seed, 0, stddev, value.dtype()));
  };
}

Module::Init constant_init(double v) {
  return [v](Tensor& value, uint64_t) { value.fill(v); };
}

}  // namespace lumen
