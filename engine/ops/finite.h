// Whether tensors hold only finite values (no NaN, no inf): the trainer checks its state before it
// writes a checkpoint, and checkpoints are checked when they are read.
#pragma once

#include <map>
#include <string>

#include "engine/core/tensor.h"

namespace lumen {

// True when every element of x is finite; always true for integer dtypes. CPU: one pass over the
// values. GPU: one reduction on the device of 0 * x (0 for a finite value, NaN for inf or NaN; no
// overflow however large the values) and one value copied back, not the tensor.
bool all_finite(const Tensor& x);

// The name of the first tensor (in map order) holding a NaN or inf; empty when all are finite.
std::string first_non_finite(const std::map<std::string, Tensor>& tensors);

}  // namespace lumen
