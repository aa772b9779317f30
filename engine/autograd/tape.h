// Reverse-mode autograd as a tape. Ops record a node (inputs, output, backward function) while
// grad mode is on and an input requires grad; Tensor::backward() walks the tape in reverse,
// accumulates gradients of leaves into their .grad, and clears the tape. The tape is per thread.
//
// Backward functions run with grad mode off (no higher-order gradients). They receive the
// gradient of the output and which inputs need a gradient, and return one tensor per input
// (undefined where not needed).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

using BackwardFn =
    std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<bool>& needs)>;

struct TapeNode {
  const char* name;
  std::vector<Tensor> inputs;
  Tensor output;
  BackwardFn backward;
};

class Tape {
 public:
  static Tape& current();  // this thread's tape
  void push(TapeNode node) { nodes_.push_back(std::move(node)); }
  void clear() { nodes_.clear(); }
  size_t size() const { return nodes_.size(); }
  std::vector<TapeNode>& nodes() { return nodes_; }

 private:
  std::vector<TapeNode> nodes_;
};

bool grad_mode_enabled();

// Turns recording off for its lifetime (inference, EMA updates, memory-bank writes).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// True when an op on these inputs must be recorded.
bool needs_record(const std::vector<Tensor>& inputs);

// Records `output` as computed from `inputs` if needs_record(inputs); marks output as requiring
// grad. Does nothing otherwise.
void record_op(const char* name, Tensor& output, std::vector<Tensor> inputs, BackwardFn backward);

// Told by backward() when a leaf's gradient is complete: no node left to run takes the leaf as an
// input (called right after the node that used it first in the forward has run, or was skipped).
// Data parallelism starts a gradient bucket's all-reduce then (engine/dist/gradient_reducer.h).
class GradientObserver {
 public:
  virtual ~GradientObserver() = default;
  virtual void gradient_ready(const Tensor& leaf) = 0;
};

// This thread's backward() calls report to `observer` for the scope's lifetime.
class ObserveGradients {
 public:
  explicit ObserveGradients(GradientObserver* observer);
  ~ObserveGradients();
  ObserveGradients(const ObserveGradients&) = delete;
  ObserveGradients& operator=(const ObserveGradients&) = delete;

 private:
  GradientObserver* previous_;
};

// Backpropagates from a one-element tensor (its gradient is 1) and clears the tape.
void run_backward(const Tensor& root);

}  // namespace lumen
