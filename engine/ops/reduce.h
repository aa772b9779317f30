// Reductions to one value, with autograd.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor sum(const Tensor& x);   // shape (1,), dtype of x
Tensor mean(const Tensor& x);  // shape (1,), dtype of x

}  // namespace lumen
