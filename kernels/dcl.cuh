// Per-row math of lightly's DCLLoss / DCLWLoss (Decoupled Contrastive Learning), shared by the CPU
// loops and the CUDA kernels. C is the compute type (float or double).
//
// Layout as NT-Xent's plain mode (kernels/ntxent.cuh): anchor rows are this rank's 2n normalised
// outputs [view 0; view 1], columns every rank's rows in rank order; for anchor row r the self
// column is col_offset + r and the positive column col_offset + (r < n ? r + n : r - n). DCL
// leaves the positive out of the log-sum-exp (the "decoupling"):
//   loss_r = lse_{j not in {self, pos}}(s_rj / t) - w_i s_r,pos / t       i = r mod n
//   d loss_r / d s_rj = softmax_j / t over the negatives, -w_i / t at the positive, 0 at self
// lightly's loss is 0.5 (mean over view-0 rows + mean over view-1 rows) = the mean over all 2n.
// Without negatives (batch 1, one rank) the log-sum-exp is -inf and so is the loss, as lightly's.
// w_i = 1 (DCL) or, for DCLW, lightly's negative_mises_fisher_weights on the detached views:
//   w_i = 2 - n softmax_i(<z0_i, z1_i> / sigma)          (softmax over this rank's n pairs)
#pragma once

#include "kernels/lse.cuh"
#include "kernels/ntxent.cuh"

namespace lumen::kernels {

// Gradient of grad_scale * loss_r with respect to the similarity of a negative column.
template <typename C>
LUMEN_HD C dcl_negative_grad(C similarity, C lse, C inv_temperature, C grad_scale) {
  return math_exp(similarity * inv_temperature - lse) * inv_temperature * grad_scale;
}

// The weight of pair i from its logit x_i = <z0_i, z1_i> / sigma and the log-sum-exp over the n.
template <typename C>
LUMEN_HD C dcl_vmf_weight(C x, C lse, int64_t n) {
  return C(2) - C(n) * math_exp(x - lse);
}

}  // namespace lumen::kernels
