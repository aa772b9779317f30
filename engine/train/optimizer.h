// Optimizers over a ParameterBuffer: one fused update of the whole flat buffer per step (see
// kernels/optim.h), with per-parameter weight decay decided when the optimizer is built.
//
//   ParameterBuffer params;  ...  params.finalize(device);
//   SGD sgd(params, {.lr = 0.06, .momentum = 0.9, .weight_decay = 5e-4},
//           no_decay_for_bias_and_norm);
//   loss.backward(); sgd.step(); params.zero_grad();
//
// Optimizer state (momentum buffers, Adam moments, the step count) is flat like the parameters and
// is exposed by name for checkpoints: state_tensors() / load_state_tensors().
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd/parameters.h"
#include "kernels/optim.cuh"

namespace lumen {

// Decides whether a parameter receives weight decay (and, for LARS, layer-wise scaling).
using WeightDecayRule = std::function<bool(const std::string& name, const Tensor& param)>;

// Every parameter decays.
bool decay_all(const std::string& name, const Tensor& param);
// Biases and normalisation parameters do not decay: names ending in ".bias" and every parameter
// with at most one dimension (batch-norm weight and bias, and any other vector).
bool no_decay_for_bias_and_norm(const std::string& name, const Tensor& param);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter from the gradient buffer, with the current learning rate:
  // prepare_step() then launch_update().
  void step();

  // The two halves of step(), for CUDA Graphs: capture launch_update() once (it only launches
  // kernels, which read the step's scalars from device memory), then before each replay call
  // prepare_step(), which writes this step's scalars (lr, step number, bias corrections) there
  // with an asynchronous copy on the parameters' stream and counts the step.
  void prepare_step();
  void launch_update();

  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t steps_taken() const { return step_count_.data<int64_t>()[0]; }
  const char* name() const { return name_; }
  // The weight decay parameter i of the buffer receives (0 where the rule excluded it).
  double weight_decay_of(size_t i) const { return segments_.at(i).weight_decay; }

  // Parameter groups with their own learning rate, as a PyTorch param group's "lr": parameter i
  // steps at lr() * scale(name, parameter) (1 for all by default; the schedule scales both).
  using ParameterScale = std::function<double(const std::string& name, const Tensor& param)>;
  void set_lr_scales(const ParameterScale& scale);
  double lr_scale_of(size_t i) const { return segments_.at(i).lr_scale; }
  // Parameters left out of the coming steps, state and weight decay included, as PyTorch's
  // optimizers skip a parameter whose grad is None (a method freezing its prototypes or last
  // layer for some epochs); call again when the set changes. The device copy of the table is
  // written in place, so a captured step sees the change.
  void set_frozen(const std::function<bool(const std::string& name)>& frozen);

  // "step" (1,) i64 (CPU) and the flat state buffers, each (total,) in the parameters' dtype,
  // e.g. "momentum_buffer" (SGD, LARS) or "exp_avg", "exp_avg_sq" (AdamW). These are the live
  // tensors, not copies: copying saved values into them restores the optimizer, as
  // load_state_tensors() does.
  std::map<std::string, Tensor> state_tensors() const;
  // Restores what state_tensors() returned (copied in; names, shapes must match).
  void load_state_tensors(const std::map<std::string, Tensor>& state);

 protected:
  // kind and the per-step scalars; weight_decay applies to the parameters the rule selects.
  Optimizer(ParameterBuffer& params, const char* name, double lr, double weight_decay,
            const WeightDecayRule& decays, std::vector<std::string> state_names);
  // The step's scalars (lr and first_step are filled in by step()).
  virtual kernels::OptimizerHyper hyper() const = 0;

 private:
  ParameterBuffer& params_;
  const char* name_;
  double lr_;
  Tensor step_count_;      // (1,) i64 on the CPU, live in state_tensors()
  void upload_segments();  // segments_ into segment_table_ (in place)
  std::vector<kernels::OptimizerSegment> segments_;
  std::vector<kernels::OptimizerChunk> chunks_;
  Tensor segment_table_, chunk_table_;  // the tables above, on the parameters' device (u8)
  Tensor segment_work_, chunk_work_;    // LARS scratch: (2 * segments), (2 * chunks)
  kernels::OptimizerHyper staged_;      // host copy of the scalars of the prepared step
  Tensor scalars_;                      // the same on the parameters' device (u8 bytes)
  std::vector<std::string> state_names_;
  std::vector<Tensor> state_;  // (total,) each, zero-initialised
};

}  // namespace lumen
