// Per-element math of the NT-Xent loss (lightly's NTXentLoss), shared by the CPU loops and the
// CUDA kernels. C is the compute type (float or double).
//
// Plain mode. Anchor rows are this rank's 2n normalised outputs [view 0 (n); view 1 (n)]; columns
// are every rank's rows gathered in rank order, each rank's block laid out like the rows. For
// anchor row r (this rank's block starts at column col_offset = rank * 2n):
//   self column     col_offset + r                          (masked out of the logits)
//   positive column col_offset + (r < n ? r + n : r - n)    (the target)
//   loss_r = lse_{j != self}(s_rj / t) - s_r,pos / t
//   d loss_r / d s_rj = (softmax_j - [j == pos]) / t,  0 at the self column
// Memory-bank mode. Anchors are view 0 only; logits [<z0_r, z1_r>, z0_r . bank_k] / t, target 0.
#pragma once

#include "kernels/lse.cuh"

namespace lumen::kernels {

LUMEN_HD int64_t ntxent_self_column(int64_t row, int64_t col_offset) { return col_offset + row; }
LUMEN_HD int64_t ntxent_positive_column(int64_t row, int64_t n, int64_t col_offset) {
  return col_offset + (row < n ? row + n : row - n);
}

// Gradient of grad_scale * loss_r with respect to the similarity s (not the logit s / t).
template <typename C>
LUMEN_HD C ntxent_similarity_grad(C similarity, C lse, C inv_temperature, bool is_positive,
                                  C grad_scale) {
  const C softmax = math_exp(similarity * inv_temperature - lse);
  return (softmax - (is_positive ? C(1) : C(0))) * inv_temperature * grad_scale;
}

}  // namespace lumen::kernels
