// The method interface: what a self-supervised method (SimCLR, MoCo, BYOL, ...) is to the generic
// task that trains it (api/ssl_task.h). The task runs every method the same way:
//
//   views = make_views(batch, method's transform preset)        (the task)
//   method.frozen_parameters(step)                               left out of the optimizer's step
//   method.prepare_step(step)                                    scalars of this step to the device
//   loss = method.training_loss(views)                           forward, recorded on the tape
//   loss.backward()                                              (the task)
//   [gradient all-reduce across ranks]                           (the task, data parallelism)
//   optimizer update                                             (the task)
//   method.after_update()                                        momentum update, ...
//   learning-rate schedule                                       (the task)
//
// A Method is the module tree the optimizer trains (its parameters are the optimizer's), with the
// names lightly's models give their attributes: "backbone", "projection_head", "prediction_head".
// The task finalizes it into one ParameterBuffer, then calls setup(), where the method builds what
// the optimizer does not train: momentum targets (frozen_networks()) and memory banks
// (extra_state()). Everything a checkpoint must hold is state(): live tensors under prefixed names
// — copying saved values into them restores the method.
//
// Between prepare_step() and after_update() a step must depend only on its inputs and on device
// state at fixed addresses, so that it can be captured once as a CUDA graph (engine/train/
// step_graph.h); a method whose step keeps host-side state says why in graph_blocker().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "layers/backbone.h"

namespace lumen {

// Where the run is, for schedules (momentum, ...).
struct MethodStep {
  int64_t global_step = 0;  // counts from 0 over the whole run
  int64_t total_steps = 1;  // steps of the whole run (max_epochs * steps per epoch)
  int64_t epoch = 0;        // counts from 0 (lightly's current_epoch)
  int64_t max_epochs = 1;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Method : public Module {
 public:
  // The online backbone: (N, H, W, 3) -> (N, feature_dim()); its entries are "backbone.*".
  Module& backbone() { return *backbone_; }
  int64_t feature_dim() const { return feature_dim_; }
  static constexpr const char* kBackbonePrefix = "backbone.";
  // The backbone's features: what embed, knn and export use.
  Tensor forward(const Tensor& x) override { return (*backbone_)(x); }

  // Once, after finalize(*this, params, device, seed): builds momentum targets, memory banks.
  // `params` is the buffer this module's parameters live in.
  virtual void setup(ParameterBuffer& params, Device device, uint64_t seed) {}
  // Before each step, outside any CUDA graph: this step's scalars to the device.
  virtual void prepare_step(const MethodStep& step) {}
  // The step's forward: one view per view of the preset, (B, H, W, 3) each -> the loss (1,).
  virtual Tensor training_loss(const std::vector<Tensor>& views) = 0;
  // After the optimizer's update, inside the step: momentum updates and the like.
  virtual void after_update() {}

  // Networks kept beside this one that the optimizer does not train (momentum targets); their
  // entries are named by the module (e.g. "backbone_momentum.*").
  virtual std::vector<Module*> frozen_networks() { return {}; }
  // Other live state (memory banks and their positions), by checkpoint name.
  virtual NamedTensors extra_state() { return {}; }
  // Why a step cannot be captured as a CUDA graph ("" when it can).
  virtual std::string graph_blocker() const { return ""; }
  // The parameters (this module's dotted names) the optimizer leaves alone at this step, as
  // PyTorch's optimizers skip a parameter lightly left without gradient (SwaV's prototypes, DINO's
  // last layer in the first epochs); asked before each step, outside any graph.
  virtual std::vector<std::string> frozen_parameters(const MethodStep& step) { return {}; }

  // Every tensor of the method's state, live: this module's parameters and buffers, those of the
  // frozen networks, and extra_state().
  NamedTensors state();
  // The host-side counters a step advances (BatchNorm's num_batches_tracked of every network).
  std::vector<Tensor> host_counters();

 protected:
  explicit Method(const Backbone& backbone);

 private:
  Module* backbone_;
  int64_t feature_dim_;
};

}  // namespace lumen
