// Batch-norm checks test_nn_ops and test_nn_ops_cuda share.
#pragma once

#include "engine/core/tensor.h"

namespace lumen::testing {

// Training-mode batch norm of x = 1000 + 0.01 * noise (f32) on `device`: the output and the
// running variance against statistics computed in double precision on the CPU.
void check_batch_norm_far_mean(Device device);

}  // namespace lumen::testing
