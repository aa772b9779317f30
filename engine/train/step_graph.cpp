#include "engine/train/step_graph.h"

#include <cstdio>
#include <exception>

#include "engine/autograd/tape.h"

namespace lumen {

StepGraph::StepGraph(Options options, std::vector<Tensor> host_counters)
    : options_(options), host_counters_(std::move(host_counters)) {
  LUMEN_CHECK(options_.warmup_steps >= 1, "StepGraph: warmup_steps must be at least 1, got ",
              options_.warmup_steps);
  for (const Tensor& c : host_counters_) {
    LUMEN_CHECK(c.defined() && c.device().is_cpu() && c.dtype() == DType::i64,
                "StepGraph: host counters must be i64 CPU tensors, got ", c.str());
  }
  if (!options_.enabled) reason_ = "CUDA graphs are turned off";
}

void StepGraph::disable(std::string reason) {
  reason_ = std::move(reason);
  graph_.clear();
  static_inputs_.clear();
  static_loss_ = Tensor();
}

bool StepGraph::matches_inputs(const std::vector<Tensor>& inputs) const {
  if (inputs.size() != static_inputs_.size()) return false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& a = inputs[i];
    const Tensor& b = static_inputs_[i];
    if (a.shape() != b.shape() || a.dtype() != b.dtype() || a.device() != b.device()) return false;
  }
  return true;
}

Tensor StepGraph::run(const std::vector<Tensor>& inputs, const StepFn& step) {
  LUMEN_CHECK(!inputs.empty(), "StepGraph::run: a step needs at least one input");
  if (reason_.empty() && !inputs[0].is_cuda()) reason_ = "the step runs on the CPU";
  if (!reason_.empty() || (graph_.captured() && !matches_inputs(inputs))) return step(inputs);
  if (!graph_.captured()) {
    if (eager_steps_ < options_.warmup_steps) {
      Tensor loss = step(inputs);
      ++eager_steps_;
      loss_shape_ = loss.shape();
      loss_dtype_ = loss.dtype();
      return loss;
    }
    try {
      capture(inputs, step);
    } catch (const std::exception& e) {
      disable(std::string("CUDA graph capture failed, so steps run eagerly: ") + e.what());
      std::fprintf(stderr, "lumen: %s\n", reason_.c_str());
      return step(inputs);
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) static_inputs_[i].copy_from(inputs[i]);
  graph_.replay();
  for (size_t i = 0; i < host_counters_.size(); ++i) {
    host_counters_[i].data<int64_t>()[0] += counter_steps_[i];
  }
  ++replays_;
  return static_loss_;
}

void StepGraph::capture(const std::vector<Tensor>& inputs, const StepFn& step) {
  static_inputs_.clear();
  for (const Tensor& x : inputs) static_inputs_.push_back(Tensor::empty_like(x));
  static_loss_ = Tensor::empty_on(loss_shape_, loss_dtype_, inputs[0]);
  std::vector<int64_t> before;
  for (const Tensor& c : host_counters_) before.push_back(c.data<int64_t>()[0]);
  auto restore_counters = [&] {
    for (size_t i = 0; i < host_counters_.size(); ++i) {
      host_counters_[i].data<int64_t>()[0] = before[i];
    }
  };
  try {
    graph_.capture(inputs[0].storage()->context(), [&] {
      try {
        Tensor loss = step(static_inputs_);
        LUMEN_CHECK(loss.shape() == loss_shape_ && loss.dtype() == loss_dtype_,
                    "StepGraph: the captured step returned ", loss.str(), " but the eager steps ",
                    shape_str(loss_shape_), " ", dtype_name(loss_dtype_));
        static_loss_.copy_from(loss);
      } catch (...) {
        Tape::current().clear();  // release what a half-run step recorded, inside the capture
        throw;
      }
    });
  } catch (...) {
    restore_counters();
    throw;
  }
  // The capture ran the step's host code once; the replays do the step itself.
  counter_steps_.clear();
  for (size_t i = 0; i < host_counters_.size(); ++i) {
    counter_steps_.push_back(host_counters_[i].data<int64_t>()[0] - before[i]);
  }
  restore_counters();
}

}  // namespace lumen
