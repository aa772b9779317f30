// lightly's BarlowTwinsLoss (Zbontar et al. 2021):
//   z_norm = F.batch_norm(z, training, no affine): (z - mean) / sqrt(var_biased + 1e-5) per column
//   c = z_a_norm^T z_b_norm / N                                   (d, d) cross-correlation
//   loss = sum_i (c_ii - 1)^2 + lambda sum_{i != j} c_ij^2          lambda default 5e-3
// (lightly normalises with torch's batch norm, so the variance is the biased one plus eps, not a
// hand-written (z - mean) / std.) Batch 1 is rejected, as F.batch_norm rejects it in training.
// gather_distributed (through the Communicator, as lightly's): every rank normalises its own batch,
// and c is the mean of the ranks' c (an all-reduce of c / world), so every rank gets the same
// loss; each rank's gradient is that of its own rows (torch's all_reduce backward sums the
// identical upstream gradients of the ranks and divides by the world size again: no collective
// is needed in backward).
// Inputs (batch, dim) f32, f64, bf16 or f16, same shape, dtype and device; computed in f32 (f64
// for f64); the loss is (1,) in that dtype and records one autograd node: normalisation (the batch
// norm kernels), one GEMM, one fused pass over c for the loss and d loss / d c (kernels/
// redundancy.h); backward is two GEMMs and the normalisation's backward.
#pragma once

#include <memory>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct BarlowTwinsOptions {
  double lambda_param = 5e-3;  // lightly's default; must be finite
  bool gather_distributed = false;
};

class BarlowTwinsLoss {
 public:
  // comm: the job's communicator (default: single process); used only when gather_distributed.
  explicit BarlowTwinsLoss(BarlowTwinsOptions options = {},
                           std::shared_ptr<Communicator> comm = nullptr);

  // z_a, z_b: (batch, dim) projections of the two views -> (1,)
  Tensor forward(const Tensor& z_a, const Tensor& z_b) const;
  Tensor operator()(const Tensor& z_a, const Tensor& z_b) const { return forward(z_a, z_b); }
  const BarlowTwinsOptions& options() const { return options_; }

 private:
  BarlowTwinsOptions options_;
  std::shared_ptr<Communicator> comm_;
};

}  // namespace lumen
