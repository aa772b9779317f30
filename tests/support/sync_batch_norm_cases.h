// Synchronised batch norm checks test_sync_batch_norm and its GPU twin share.
#pragma once

#include "engine/core/tensor.h"

namespace lumen::testing {

// batch_norm with sync over `world` ranks (threads of an InProcessGroup), each holding its part of
// a batch, against one process holding the whole batch, on `device`: outputs, running buffers,
// input and residual gradients of every rank's rows, and the weight and bias gradients summed over
// the ranks; NHWC and (N, C) inputs, with and without the fused tail, in `dtype`.
void check_sync_batch_norm(Device device, DType dtype, int world, double tol);

}  // namespace lumen::testing
