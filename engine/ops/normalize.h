// Row-wise L2 normalisation with autograd, as torch.nn.functional.normalize(x, p=2, dim=1, eps):
//   y[r] = x[r] / max(||x[r]||, eps)          x: (rows, cols) float; y: same
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor l2_normalize_rows(const Tensor& x, double eps = 1e-12);

}  // namespace lumen
