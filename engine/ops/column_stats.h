// Statistics over the batch dim (per column of a matrix) with autograd:
//   column_mean(x)[c]            = mean_r x[r, c]                       (torch.mean(x, dim=0))
//   column_var(x, correction)[c] = sum_r (x[r, c] - mean)^2 / (rows - correction)
//                                                                   (torch.var(x, dim=0,
//                                                                   correction))
//   x: (rows, cols) float -> (cols), x's dtype (computed in f32, f64 for f64; kernels/colstats.h)
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor column_mean(const Tensor& x);
Tensor column_var(const Tensor& x, int correction = 1);

}  // namespace lumen
