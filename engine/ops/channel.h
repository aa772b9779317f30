// Per-channel ops with autograd on channel-last tensors (..., C).
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

// y = x + bias over the last dim          x: (..., C);  bias: (C), same dtype
Tensor add_channel_bias(const Tensor& x, const Tensor& bias);

// y = x @ w^T (+ bias), as torch.nn.functional.linear
//   x: (N, in);  w: (out, in);  bias: (out) or undefined  ->  y: (N, out)
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

}  // namespace lumen
