// Per-element math of the Sinkhorn-Knopp iterations of lightly's sinkhorn (SwaV's soft codes),
// shared by the CPU loops and the CUDA kernels of kernels/sinkhorn.h.
//
// lightly, on logits x (B samples, K prototypes): Q = exp(x / eps)^T, Q /= sum(Q), then per
// iteration Q /= its row sums (one per prototype, over the samples of every rank), Q /= its column
// sums (one per sample), Q /= B; at the end Q *= B, returned transposed (B, K). Every division by
// a per-prototype sum removes any factor common to that prototype's entries (the total sum is such
// a factor), and the last / B, * B cancel, so in exact arithmetic that equals, on P (B, K):
//   P = exp((x - m_k) / eps)   with m_k the largest entry of prototype k over every rank's rows
//   per iteration: P[:, k] /= sum_b P[b, k] (every rank's rows), then P[b, :] /= sum_k P[b, k]
// which is what is computed. The shift keeps exp in range: lightly's exp(x / eps) overflows f32
// for logits above 88 eps (4.4 at eps 0.05) and gives a prototype whose logits all lie below
// -87 eps a zero sum (NaN); here the largest entry of every prototype is exp(0) = 1.
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
LUMEN_HD C sinkhorn_exp_elem(C x, C shift, C epsilon) {
  return math_exp((x - shift) / epsilon);
}

}  // namespace lumen::kernels
