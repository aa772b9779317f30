// lightly's NegativeCosineSimilarity (SimSiam, BYOL): loss = -mean_i cos(x0_i, x1_i) over dim 1,
// the cosine as PyTorch 1.13's F.cosine_similarity computes it, each norm clamped on its own:
//   cos = <x0, x1> / (max(|x0|, eps) max(|x1|, eps))        (eps default 1e-8, as lightly's)
// (the documentation of older PyTorch releases, which lightly's docstring points to, describes
// max(|x0| |x1|, eps) instead; what 1.13 computes is what counts here). The gradient is PyTorch
// 1.13's too, which for a row of norm below eps is not the derivative of the clamped forward (see
// kernels/cosine.cuh).
// Inputs (batch, dim) f32, f64, bf16 or f16 (same dtype and device); sums in f32 (f64 for f64);
// the loss is (1,) f32 (f64 for f64) and records one autograd node, whose backward computes only
// the gradients needed (SimSiam and BYOL detach one side). Only dim = 1 (rows) is supported.
// Symmetric use, (loss(p0, z1) + loss(p1, z0)) / 2, is the method's business.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

class NegativeCosineSimilarity {
 public:
  explicit NegativeCosineSimilarity(double eps = 1e-8);

  // x0, x1: (batch, dim) -> (1,)
  Tensor forward(const Tensor& x0, const Tensor& x1) const;
  Tensor operator()(const Tensor& x0, const Tensor& x1) const { return forward(x0, x1); }
  double eps() const { return eps_; }

 private:
  double eps_;
};

}  // namespace lumen
