// Elementwise ops with autograd. Operands must share shape, dtype and device (no broadcasting).
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double alpha);  // alpha * x
Tensor relu(const Tensor& x);
// Unary ops with PyTorch's gradients (kernels/elementwise.cuh): torch.sqrt, torch.exp and nn.GELU's
// exact (erf) form. (Not named sqrt / exp: those would hide the math functions inside lumen.)
Tensor elementwise_sqrt(const Tensor& x);
Tensor elementwise_exp(const Tensor& x);
Tensor gelu(const Tensor& x);

// In-place, not recorded: into += alpha * x (gradient accumulation, optimizer math).
void add_inplace(Tensor& into, const Tensor& x, double alpha = 1.0);

// Not recorded: alpha * s * x where s is a one-element tensor on x's device (no host sync).
Tensor scale_by_scalar(const Tensor& x, const Tensor& s, double alpha = 1.0);
// Not recorded: a tensor of `shape` filled with alpha * s (no host sync).
Tensor broadcast_scalar(const Tensor& s, const Shape& shape, double alpha = 1.0);

}  // namespace lumen
