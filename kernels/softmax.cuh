// Per-element math of row-wise log-softmax and cross-entropy, shared by CPU and CUDA.
//   lse = max + log(sum exp(x - max)) over a row
#pragma once

#include <cmath>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
LUMEN_HD C exp_shifted(C x, C shift) {
  return math_exp(x - shift);
}
template <typename C>
LUMEN_HD C log_softmax_elem(C x, C lse) {
  return x - lse;
}
template <typename C>
LUMEN_HD C softmax_elem(C x, C lse) {
  return math_exp(x - lse);
}
// d softmax: dx_j = y_j (dy_j - <dy, y>)
template <typename C>
LUMEN_HD C softmax_backward_elem(C y, C dy, C dot) {
  return y * (dy - dot);
}
// d log_softmax: dx_j = dy_j - softmax_j * sum(dy)
template <typename C>
LUMEN_HD C log_softmax_backward_elem(C y, C dy, C sum_dy) {
  return dy - math_exp(y) * sum_dy;
}
// d cross_entropy / d x_j = (softmax_j - [j == target]) * scale
template <typename C>
LUMEN_HD C cross_entropy_grad_elem(C x, C lse, bool is_target, C scale) {
  return (math_exp(x - lse) - (is_target ? C(1) : C(0))) * scale;
}

}  // namespace lumen::kernels
