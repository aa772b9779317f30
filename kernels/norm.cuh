// Per-element math of row-wise L2 normalisation (torch.nn.functional.normalize, p=2, dim=1):
//   y = x / max(||x||, eps)
// Backward, with n = ||x||:
//   n > eps:  dx = (dy - y * <dy, y>) / n
//   n <= eps: dx = dy / eps              (the clamp has zero derivative)
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

}  // namespace lumen::kernels
