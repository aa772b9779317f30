// Row-wise normalisations with autograd.
//
// l2_normalize_rows, as torch.nn.functional.normalize(x, p=2, dim=1, eps):
//   y[r] = x[r] / max(||x[r]||, eps)          x: (rows, cols) float; y: same
//
// weight_norm, the weight torch.nn.utils.weight_norm(module, dim=0) computes from weight_v and
// weight_g (no eps: a zero row gives NaN, as torch):
//   w[r] = v[r] * (g[r] / ||v[r]||)           v: (rows, cols) float; g: (rows, 1) or (rows), v's
//                                             dtype and device; w: like v
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor l2_normalize_rows(const Tensor& x, double eps = 1e-12);
Tensor weight_norm(const Tensor& v, const Tensor& g);

}  // namespace lumen
