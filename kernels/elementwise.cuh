// Per-element math shared by the CPU loops and the CUDA kernels of kernels/elementwise.h.
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

enum class BinaryOp : int { add, sub, mul };

template <typename C>
LUMEN_HD C binary_apply(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    default:
      return a * b;
  }
}

template <typename C>
LUMEN_HD C relu_forward_elem(C x) {
  return x > C(0) ? x : C(0);
}
// d relu / dx at 0 is taken as 0, as PyTorch does.
template <typename C>
LUMEN_HD C relu_backward_elem(C x, C dy) {
  return x > C(0) ? dy : C(0);
}

}  // namespace lumen::kernels
