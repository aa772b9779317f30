// Elementwise reductions on host memory, for communicators that combine ranks' values themselves
// (InProcessGroup; MPI's reduction of bf16/f16, which MPI has no type for).
#pragma once

#include <cstdint>

#include "engine/core/dtype.h"
#include "engine/dist/communicator.h"

namespace lumen {

// into[i] = op(into[i], x[i]) for i < n, in dtype's compute type (bf16/f16 through float, rounded
// once per element). op: sum, max or min (mean is a sum, then scale_host).
void reduce_host(void* into, const void* x, int64_t n, DType dtype, ReduceOp op);
// x[i] *= factor, for a float dtype.
void scale_host(void* x, int64_t n, DType dtype, double factor);

}  // namespace lumen
