// Per-element math shared by the CPU loops and the CUDA kernels of kernels/elementwise.h.
#pragma once

#include <cmath>

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

// Unary ops with their gradients (PyTorch's formulas):
//   sqrt: y = sqrt(x),                     dx = dy / (2 y)
//   exp:  y = exp(x),                      dx = dy y
//   gelu: y = x Phi(x), the exact form     dx = dy (Phi(x) + x phi(x))
//         (nn.GELU()'s default, approximate="none"): Phi(x) = (1 + erf(x / sqrt 2)) / 2,
//         phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
enum class UnaryOp : int { sqrt, exp, gelu };

LUMEN_HD float math_erf(float x) { return erff(x); }
LUMEN_HD double math_erf(double x) { return erf(x); }

template <typename C>
LUMEN_HD C gelu_cdf(C x) {
  return C(0.5) * (C(1) + math_erf(x * C(0.70710678118654752440)));  // M_SQRT1_2
}
template <typename C>
LUMEN_HD C gelu_pdf(C x) {
  return C(0.39894228040143267794) * math_exp(C(-0.5) * x * x);  // M_2_SQRTPI M_SQRT1_2 / 2
}

template <typename C>
LUMEN_HD C unary_forward_elem(UnaryOp op, C x) {
  switch (op) {
    case UnaryOp::sqrt:
      return math_sqrt(x);
    case UnaryOp::exp:
      return math_exp(x);
    default:
      return x * gelu_cdf(x);
  }
}
// What the backward reads: the input x for gelu, the output y for sqrt and exp.
LUMEN_HD bool unary_backward_reads_input(UnaryOp op) { return op == UnaryOp::gelu; }
// dx from that saved value and the output's gradient dy.
template <typename C>
LUMEN_HD C unary_backward_elem(UnaryOp op, C saved, C dy) {
  switch (op) {
    case UnaryOp::sqrt:
      return dy / (C(2) * saved);
    case UnaryOp::exp:
      return dy * saved;
    default:
      return dy * (gelu_cdf(saved) + saved * gelu_pdf(saved));
  }
}

}  // namespace lumen::kernels
