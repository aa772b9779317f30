// Matrix product with autograd: op(a) @ op(b) for matrices (M, K) @ (K, N) or batches
// (B, M, K) @ (B, K, N); op transposes the last two dims where the flag is set.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace lumen
