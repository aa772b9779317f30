// lightly's SwaVLoss (Caron et al. 2020), forward(high_resolution_outputs, low_resolution_outputs,
// queue_outputs): the outputs are prototype scores (batch, prototypes), one tensor per crop.
//   for each high-resolution crop i: q_i = sinkhorn(high_i, with queue_i's rows appended when a
//     queue is given)[:batch], detached (lightly computes it under no_grad; engine/ops/sinkhorn.h)
//   subloss(z, q) = -mean_b sum_k q_bk log_softmax(z / temperature)_bk
//   loss = mean_i [sum_{v != i} subloss(z_v, q_i)] / (n_crops - 1), v over every crop (high and
//          low resolution), n_crops = #high + #low
// Defaults: temperature 0.1, sinkhorn_iterations 3, sinkhorn_epsilon 0.05. A lone high-resolution
// crop gets no gradient (it predicts no code of its own), as lightly's. At least two crops
// (lightly divides by n_crops - 1 = 0 otherwise).
// sinkhorn_gather_distributed (through the Communicator): the codes are computed over every
// rank's rows (the sinkhorn's per-prototype sums all-reduced), as lightly's.
// Outputs f32, f64, bf16 or f16, one dtype and device for all, high and low-resolution crops of
// one batch size; queue outputs (queue rows, prototypes) of that dtype, one per high-resolution
// crop. Computed in f32 (f64 for f64); the loss is (1,) in that dtype and records one autograd
// node over the high and low-resolution outputs: per crop one fused row pass (kernels/
// soft_targets.h) gives its rows' loss and gradient against the sum of the codes it predicts.
#pragma once

#include <memory>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct SwaVOptions {
  double temperature = 0.1;
  int sinkhorn_iterations = 3;
  double sinkhorn_epsilon = 0.05;
  bool sinkhorn_gather_distributed = false;
};

class SwaVLoss {
 public:
  // comm: the job's communicator (default: single process); used only when gathering.
  explicit SwaVLoss(SwaVOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);

  // high: (batch, prototypes) each, at least one; low: (batch, prototypes) each; queue: empty, or
  // one (queue rows, prototypes) per high-resolution crop -> (1,)
  Tensor forward(const std::vector<Tensor>& high, const std::vector<Tensor>& low,
                 const std::vector<Tensor>& queue = {}) const;
  Tensor operator()(const std::vector<Tensor>& high, const std::vector<Tensor>& low,
                    const std::vector<Tensor>& queue = {}) const {
    return forward(high, low, queue);
  }
  const SwaVOptions& options() const { return options_; }

 private:
  SwaVOptions options_;
  std::shared_ptr<Communicator> comm_;
};

}  // namespace lumen
