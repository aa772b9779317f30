// Runs a training step eagerly for a few warm-up steps, then captures it as a CUDA graph and
// replays the graph in every later step: one launch instead of hundreds, so the GPU never waits on
// the host between kernels.
//
//   StepGraph graph(StepGraph::Options{}, bn_counters);
//   optimizer.set_lr(lr);
//   optimizer.prepare_step();  // this step's scalars to the device, outside the graph
//   Tensor loss = graph.run({view0, view1}, [&](const std::vector<Tensor>& v) {
//     Tensor loss = criterion(model(v[0]), model(v[1]));
//     loss.backward();
//     optimizer.launch_update();  // reads the scalars from device memory
//     params.zero_grad();
//     return loss;
//   });
//
// The step function must depend only on its inputs and on device state that lives at fixed
// addresses (parameters, gradients, optimizer state and scalars, running statistics): it runs
// once at capture on tensors made for the graph, must queue all its GPU work on their context,
// and must keep nothing it creates. Host-side state it advances (BatchNorm's num_batches_tracked)
// is passed as `host_counters`: how much the captured step moved them is added again after every
// replay.
//
// If the capture fails (a host sync such as item() inside the step, a copy from pageable memory, a
// tensor kept past the step) the step runs eagerly, then and from then on, and reason() says why.
// Steps on the CPU always run eagerly; so do steps whose inputs differ in shape from the captured
// ones.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/core/cuda_graph.h"
#include "engine/core/tensor.h"

namespace lumen {

class StepGraph {
 public:
  struct Options {
    bool enabled = true;
    int warmup_steps = 3;  // eager steps first: cuDNN's algorithm choice, the memory pool filling
  };
  using StepFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

  explicit StepGraph(Options options, std::vector<Tensor> host_counters = {});

  // Runs one step on `inputs` and returns its loss: the step function's own result while eager,
  // the tensor the graph writes when replaying (overwritten by the next replay).
  Tensor run(const std::vector<Tensor>& inputs, const StepFn& step);

  bool replaying() const { return graph_.captured(); }
  int64_t replays() const { return replays_; }
  // Why steps run eagerly for good ("" while graphs are pending or in use).
  const std::string& reason() const { return reason_; }
  // Turns graphs off (e.g. a method whose step has host-side state); the next run() is eager.
  void disable(std::string reason);

 private:
  bool matches_inputs(const std::vector<Tensor>& inputs) const;
  void capture(const std::vector<Tensor>& inputs, const StepFn& step);

  Options options_;
  std::vector<Tensor> host_counters_;   // i64 CPU tensors
  std::vector<int64_t> counter_steps_;  // their change in one captured step
  int64_t eager_steps_ = 0;
  int64_t replays_ = 0;
  std::string reason_;
  CudaGraph graph_;
  std::vector<Tensor> static_inputs_;  // the graph reads its inputs from here
  Tensor static_loss_;                 // and writes the loss here
  Shape loss_shape_;                   // of the eager steps' loss
  DType loss_dtype_ = DType::f32;
};

}  // namespace lumen
