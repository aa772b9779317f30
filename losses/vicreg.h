// lightly's VICRegLoss (Bardes et al. 2022), for two views z_a, z_b (batch, dim):
//   loss = lambda inv + mu var + nu cov                         defaults 25, 25, 1
//   inv  = mean (z_a - z_b)^2                                   (F.mse_loss)
//   var  = (v(z_a) + v(z_b)) / 2,  v(z) = mean_j relu(1 - sqrt(Var_j(z) + eps))   eps 1e-4,
//          Var the unbiased variance over the batch (torch.var(dim=0))
//   cov  = c(z_a) + c(z_b),  c(z) = sum_{i != j} Cov(z)_ij^2 / dim, Cov unbiased
// Batch 1 is rejected (lightly asserts batch > 1).
// gather_distributed (through the Communicator, as lightly's): the invariance stays this rank's;
// the variance and covariance are those of every rank's rows (all_gather), computed alike on every
// rank. Gradients as lightly's GatherLayer gives them: the gathered rows' gradient is the same on
// every rank, so its all-reduced sum is world times this rank's rows of it, and no collective is
// needed in backward.
// Inputs f32, f64, bf16 or f16, same shape, dtype and device; computed in f32 (f64 for f64); the
// loss is (1,) in that dtype and records one autograd node: per view one column-mean pass, the
// centring, one GEMM for the covariance (its diagonal is the variance) and one fused pass over it
// for the variance and covariance terms and their gradient (kernels/redundancy.h); the
// invariance's value and gradient in one pass; backward is one GEMM per view.
#pragma once

#include <memory>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct VICRegOptions {
  double lambda_param = 25.0;  // invariance
  double mu_param = 25.0;      // variance
  double nu_param = 1.0;       // covariance
  double eps = 1e-4;           // inside the square root of the variance; must be >= 0
  bool gather_distributed = false;
};

class VICRegLoss {
 public:
  // comm: the job's communicator (default: single process); used only when gather_distributed.
  explicit VICRegLoss(VICRegOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);

  // z_a, z_b: (batch, dim) projections of the two views -> (1,)
  Tensor forward(const Tensor& z_a, const Tensor& z_b) const;
  Tensor operator()(const Tensor& z_a, const Tensor& z_b) const { return forward(z_a, z_b); }
  const VICRegOptions& options() const { return options_; }

 private:
  VICRegOptions options_;
  std::shared_ptr<Communicator> comm_;
};

}  // namespace lumen
