// Dtype conversion with autograd: the gradient is converted back to the input's dtype. Used to run
// a bf16 forward pass from f32 master weights.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor to_dtype(const Tensor& x, DType dtype);  // returns x itself when the dtype already matches

}  // namespace lumen
