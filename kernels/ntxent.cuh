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

#include <cmath>

#include "kernels/half.cuh"

namespace lumen::kernels {

LUMEN_HD int64_t ntxent_self_column(int64_t row, int64_t col_offset) { return col_offset + row; }
LUMEN_HD int64_t ntxent_positive_column(int64_t row, int64_t n, int64_t col_offset) {
  return col_offset + (row < n ? row + n : row - n);
}

// A running log-sum-exp as (max, sum of exp(x - max)); merging two is associative, so CPU loops and
// CUDA blocks can reduce in any order.
template <typename C>
struct LseState {
  C max;
  C sum;
};
template <typename C>
LUMEN_HD LseState<C> lse_empty() {
  return LseState<C>{C(-INFINITY), C(0)};
}
template <typename C>
LUMEN_HD LseState<C> lse_add(LseState<C> s, C x) {
  if (x <= s.max) return LseState<C>{s.max, s.sum + math_exp(x - s.max)};
  return LseState<C>{x, s.sum * math_exp(s.max - x) + C(1)};
}
template <typename C>
LUMEN_HD LseState<C> lse_merge(LseState<C> a, LseState<C> b) {
  if (b.sum == C(0)) return a;
  if (a.sum == C(0)) return b;
  if (a.max >= b.max) return LseState<C>{a.max, a.sum + b.sum * math_exp(b.max - a.max)};
  return LseState<C>{b.max, b.sum + a.sum * math_exp(a.max - b.max)};
}
template <typename C>
LUMEN_HD C lse_value(LseState<C> s) {
  return s.max + math_log(s.sum);
}

// Gradient of grad_scale * loss_r with respect to the similarity s (not the logit s / t).
template <typename C>
LUMEN_HD C ntxent_similarity_grad(C similarity, C lse, C inv_temperature, bool is_positive,
                                  C grad_scale) {
  const C softmax = math_exp(similarity * inv_temperature - lse);
  return (softmax - (is_positive ? C(1) : C(0))) * inv_temperature * grad_scale;
}

}  // namespace lumen::kernels
