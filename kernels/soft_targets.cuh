// Cross-entropy against soft targets summed over the other views: the swapped prediction of SwaV
// (codes of the high-resolution crops) and DINO's teacher-student terms (the teacher's centred
// softmax), shared by the CPU loops and the CUDA kernels of kernels/soft_targets.h.
//
// For row b of one view's logits z (rows, k), with y = z / temperature:
//   target_j = weight * sum_{i < views, i != skip} q[i][b, j]        q: (views, rows, k)
//   loss_b   = -sum_j target_j log_softmax(y)_j = sum_j target_j (lse(y) - y_j)
//   dz_bj    = (softmax(y)_j sum_j target_j - target_j) / temperature
// skip: the view's own index among the q views (no target from itself), or -1.
// DINO's teacher probabilities: p = softmax((x - center) / temperature) per row.
#pragma once

#include <cstdint>

#include "kernels/lse.cuh"

namespace lumen::kernels {

template <typename C>
LUMEN_HD C soft_target(const C* q, int views, int skip, int64_t view_stride, int64_t index,
                       C weight) {
  C t = 0;
  for (int i = 0; i < views; ++i) {
    if (i != skip) t += q[i * view_stride + index];
  }
  return weight * t;
}

template <typename C>
LUMEN_HD C soft_target_grad_elem(C y, C lse, C target_sum, C target, C temperature) {
  return (math_exp(y - lse) * target_sum - target) / temperature;
}

}  // namespace lumen::kernels
