// Rows picked by index, as torch.index_select(x, 0, index) or x[index]:
//   x: (rows, ...) any dtype; index: (count) i64 on x's device -> (count, ...)
// Not recorded by autograd (used under no-grad: nearest-neighbour lookups, MoCo's batch shuffle).
// On the CPU every index is checked to lie in [0, rows); on the GPU they are trusted (checking
// would wait for the device), so GPU callers pass indices they made themselves.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

Tensor index_rows(const Tensor& x, const Tensor& index);

}  // namespace lumen
