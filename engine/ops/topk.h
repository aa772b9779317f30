// Row top-k, not recorded by autograd: the k largest entries of every row of a matrix, best first
// (kernels/topk.cuh's order: NaN first, then larger values, the lower column among equals).
//   x: (rows, cols) f32 or f64 on the CPU or a GPU; exclude: undefined, or (rows) i64 on x's
//   device, a column left out of each row (-1: none); 1 <= k <= the columns left (GPU: at most
//   kernels::kMaxCudaTopk). values (rows, k) in x's dtype, indices (rows, k) i64, on x's device.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

struct TopK {
  Tensor values;
  Tensor indices;
};

TopK row_topk(const Tensor& x, int64_t k, const Tensor& exclude = Tensor());

// The same into given outputs (rows, k), e.g. views of preallocated blocks.
void row_topk_into(const Tensor& x, int64_t k, const Tensor& exclude, Tensor& values,
                   Tensor& indices);

}  // namespace lumen
