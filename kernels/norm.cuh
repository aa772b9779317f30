// Per-element math of row-wise L2 normalisation (torch.nn.functional.normalize, p=2, dim=1):
//   y = x / max(||x||, eps)
// Backward, with n = ||x||:
//   n > eps:  dx = (dy - y * <dy, y>) / n
//   n <= eps: dx = dy / eps              (the clamp has zero derivative)
// Weight normalisation (torch.nn.utils.weight_norm, dim = 0: one norm per output row, no eps):
//   w = v * (g / ||v||)
// Backward (torch's formulas), with n = ||v|| and dot = <dw, v> over the row:
//   dg = dot / n,  dv = (g / n) (dw - v dg / n)
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
LUMEN_HD C l2_inverse_norm(C norm, C eps) {
  return C(1) / (norm > eps ? norm : eps);
}
template <typename C>
LUMEN_HD C l2_normalize_backward_elem(C y, C dy, C dot, C norm, C eps) {
  return norm > eps ? (dy - y * dot) / norm : dy / eps;
}

template <typename C>
LUMEN_HD C weight_norm_elem(C v, C g, C norm) {
  return v * (g / norm);
}
template <typename C>
LUMEN_HD C weight_norm_grad_v_elem(C v, C dw, C g, C norm, C dg) {
  return (g / norm) * (dw - v * (dg / norm));
}

}  // namespace lumen::kernels
