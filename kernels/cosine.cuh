// Per-row math of the cosine similarity as PyTorch 1.13's F.cosine_similarity(x, y, dim=1, eps)
// computes it: each norm is clamped on its own,
//   cos = <x, y> / (max(|x|, eps) max(|y|, eps))
// (not the max(|x| |y|, eps) of older releases). Its gradient is PyTorch 1.13's, measured against
// it (tools/fixtures/ssl_losses_heads.py): the clamp is applied in place to the norm, so the norm's
// gradient x / max(|x|, eps) flows even where the clamp is active:
//   d cos / d x = y / (max(|x|, eps) max(|y|, eps)) - cos x / max(|x|, eps)^2
// Where |x| >= eps this is the derivative of cos; below eps (a row of norm < 1e-8) it is not (the
// derivative there lacks the second term), and Lumen follows PyTorch.
// C is the compute type (float or double).
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
LUMEN_HD C cosine_clamped_norm(C norm, C eps) {
  return norm >= eps ? norm : eps;
}

template <typename C>
LUMEN_HD C cosine_from_sums(C dot, C norm_x, C norm_y, C eps) {
  return dot / (cosine_clamped_norm(norm_x, eps) * cosine_clamped_norm(norm_y, eps));
}

// d cos / d x_k from x_k, y_k and the row's cos and norms (swap the roles for d cos / d y_k).
template <typename C>
LUMEN_HD C cosine_grad_elem(C x, C y, C cos, C norm_x, C norm_y, C eps) {
  const C cx = cosine_clamped_norm(norm_x, eps), cy = cosine_clamped_norm(norm_y, eps);
  return y / (cx * cy) - cos * x / (cx * cx);
}

}  // namespace lumen::kernels
