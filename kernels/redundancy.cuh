// Per-element terms of the redundancy-reduction losses over a (d, d) matrix m, shared by the CPU
// loops and the CUDA kernels of kernels/redundancy.h: each term's value and its derivative.
//
// Barlow Twins (lightly's BarlowTwinsLoss on the cross-correlation c of the batch-normalised
// views):   loss = sum_i (c_ii - 1)^2 + lambda sum_{i != j} c_ij^2
//           d/dc_ii = 2 (c_ii - 1),  d/dc_ij = 2 lambda c_ij
// VICReg (lightly's variance_loss and covariance_loss of one view from its unbiased covariance C;
// the variance is C's diagonal):
//           loss = var_scale sum_i relu(1 - s_i) + cov_scale sum_{i != j} C_ij^2,
//           s_i = sqrt(C_ii + eps), var_scale = mu / (2 d), cov_scale = nu / d
//           d/dC_ii = -var_scale [1 - s_i > 0] / (2 s_i)  (relu'(0) = 0, as PyTorch),
//           d/dC_ij = 2 cov_scale C_ij
// VICReg's invariance term over two (n, d) views: scale sum (a - b)^2 with scale = lambda / (n d)
// (F.mse_loss), d/da = 2 scale (a - b) = -d/db.
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

enum class MatrixLoss : int { barlow_twins, vicreg };

struct MatrixLossParams {
  MatrixLoss kind = MatrixLoss::barlow_twins;
  double lambda = 5e-3;                             // Barlow Twins
  double var_scale = 0, cov_scale = 0, eps = 1e-4;  // VICReg
};

// The term of element m (on the diagonal or not); its derivative into *grad.
template <typename C>
LUMEN_HD C matrix_loss_elem(const MatrixLossParams& p, C m, bool diagonal, C* grad) {
  if (p.kind == MatrixLoss::barlow_twins) {
    if (diagonal) {
      *grad = C(2) * (m - C(1));
      return (m - C(1)) * (m - C(1));
    }
    *grad = C(2) * C(p.lambda) * m;
    return C(p.lambda) * m * m;
  }
  if (diagonal) {
    const C s = math_sqrt(m + C(p.eps));
    const C hinge = C(1) - s;
    *grad = hinge > C(0) ? -C(p.var_scale) / (C(2) * s) : C(0);
    return hinge > C(0) ? C(p.var_scale) * hinge : C(0);
  }
  *grad = C(2) * C(p.cov_scale) * m;
  return C(p.cov_scale) * m * m;
}

}  // namespace lumen::kernels
