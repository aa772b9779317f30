// Modules: networks as trees of named layers. A module declares its parameters (name, shape, init)
// and its buffers (running statistics); `finalize` registers every parameter of a tree into one
// ParameterBuffer under its dotted path (torchvision's names: "layer1.0.conv1.weight"), allocates
// the buffers on the same device, and initialises both.
//
//   ResNet net = ...;                        // declares
//   ParameterBuffer params;
//   finalize(net, params, Device::cpu(), /*seed=*/0);
//   Tensor features = net(x);                // x: NHWC
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameters.h"
#include "engine/core/tensor.h"

namespace lumen {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  Tensor operator()(const Tensor& x) { return forward(x); }
  virtual Tensor forward(const Tensor& x) = 0;

  // Training mode (batch statistics in BatchNorm) for this module and its children.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // A parameter's initial values, written into its (already allocated) tensor.
  using Init = std::function<void(Tensor& value, uint64_t seed)>;

  struct Parameter {
    std::string name;  // local name: "weight"
    Shape shape;
    Init init;
    Tensor value;  // a view into the ParameterBuffer once finalized
  };
  struct Buffer {
    std::string name;  // "running_mean"
    Tensor value;      // allocated by finalize (shape and initial value set at declaration)
  };

  std::vector<Parameter>& parameters() { return parameters_; }
  std::vector<Buffer>& buffers() { return buffers_; }
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

  // Every (dotted name, tensor) of the tree, in declaration order.
  std::vector<std::pair<std::string, Tensor>> named_parameters(const std::string& prefix = "");
  std::vector<std::pair<std::string, Tensor>> named_buffers(const std::string& prefix = "");

 protected:
  // Declarations, made in constructors. Returns the index of the parameter / buffer. `initial` is
  // a CPU tensor; finalize moves float buffers to the parameters' device and dtype and keeps
  // integer buffers (counters) on the host.
  size_t declare_parameter(const std::string& name, const Shape& shape, Init init);
  size_t declare_buffer(const std::string& name, const Tensor& initial);
  // Takes ownership; returns the child for the caller to keep a typed pointer.
  template <typename M>
  M* add_child(const std::string& name, std::unique_ptr<M> child) {
    M* raw = child.get();
    children_.emplace_back(name, raw);
    owned_.push_back(std::move(child));
    return raw;
  }
  const Tensor& parameter(size_t i) const;
  Tensor& buffer(size_t i) { return buffers_.at(i).value; }

 private:
  bool training_ = true;
  std::vector<Parameter> parameters_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  std::vector<std::unique_ptr<Module>> owned_;
};

// Registers every parameter of `root` into `params` (which must be empty), finalizes it on
// `device` in `dtype` (f32, or f64 for gradient checks), makes each module's parameters views into
// it, initialises them from `seed`, and allocates the buffers. Parameters and buffers of a module
// tree live on one device. requires_grad = false: parameters without gradients (no gradient
// buffer), as a momentum copy's (layers/momentum.h).
void finalize(Module& root, ParameterBuffer& params, Device device, uint64_t seed,
              DType dtype = DType::f32, bool requires_grad = true);

// Initialisers (PyTorch's defaults), drawing from counter-based streams keyed by the seed.
Module::Init kaiming_normal_fan_out(int64_t fan_out);  // N(0, 2 / fan_out): torchvision convs
Module::Init uniform_init(double bound);               // U(-bound, bound): nn.Linear
Module::Init normal_init(double stddev);               // N(0, stddev^2)
Module::Init constant_init(double value);

}  // namespace lumen
