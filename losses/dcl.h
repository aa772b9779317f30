// lightly's DCLLoss and DCLWLoss (Decoupled Contrastive Learning, Yeh et al. 2021):
//   - both views are L2-normalised (F.normalize, in f32, or f64 for f64 inputs);
//   - anchor z0_i is scored against every other sample of both views except its own positive
//     z1_i (the "decoupling": the positive is left out of the log-sum-exp), and likewise z1_i;
//     loss = 0.5 (mean_i [-w_i <z0_i, z1_i> / t + lse_neg(z0_i)] + the same for z1_i);
//   - DCL: w_i = 1. DCLW: w_i = 2 - n softmax_i(<z0_i, z1_i> / sigma), lightly's
//     negative_mises_fisher_weights, computed from the detached normalised views (no gradient
//     flows through the weights) over this rank's n pairs;
//   - batch 1 on one rank has no negatives: the loss is -inf with finite gradients, as lightly's;
//   - gather_distributed: negatives come from every rank (gathered through the Communicator) and
//     gradients flow back to every rank's rows (an all-reduce in backward, so every rank must run
//     backward), as lightly's GatherLayer; the weights stay per rank.
// Inputs (batch, dim) f32, f64, bf16 or f16; the loss is (1,) f32 (f64 for f64) and records one
// autograd node (kernels/dcl.h: one fused pass per anchor row over the similarity matrix).
#pragma once

#include <memory>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct DCLOptions {
  double temperature = 0.1;  // lightly's default; must be finite and non-zero
  bool gather_distributed = false;
};

class DCLLoss {
 public:
  // comm: the job's communicator (default: single process); used only when gather_distributed.
  explicit DCLLoss(DCLOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);

  // out0, out1: (n, dim) projections of the two views, same dtype and device -> (1,)
  Tensor forward(const Tensor& out0, const Tensor& out1);
  Tensor operator()(const Tensor& out0, const Tensor& out1) { return forward(out0, out1); }
  const DCLOptions& options() const { return options_; }

 protected:
  // sigma > 0: DCLW's weights with that sigma; 0: none (DCL).
  DCLLoss(DCLOptions options, double sigma, std::shared_ptr<Communicator> comm);
  double weight_sigma() const { return sigma_; }

 private:
  DCLOptions options_;
  double sigma_;
  std::shared_ptr<Communicator> comm_;
};

struct DCLWOptions {
  double temperature = 0.1;
  double sigma = 0.5;  // lightly's default; must be finite and positive
  bool gather_distributed = false;
};

class DCLWLoss : public DCLLoss {
 public:
  explicit DCLWLoss(DCLWOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);
  double sigma() const { return weight_sigma(); }
};

}  // namespace lumen
