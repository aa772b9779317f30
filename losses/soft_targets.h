// What SwaV's and DINO's losses share (for their implementations): the fused cross-entropy of each
// view's rows against the weighted sum of the other views' soft targets (kernels/soft_targets.h),
// recorded as one autograd node over the views.
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace lumen::losses {

// For each view v: its rows against weight * sum of targets[i], i != skips[v] (-1: none), at
// `temperature`. views: (batch, k) each, any float dtype, one device; targets: (count, batch, k)
// in the compute dtype. Returns sum over every view's rows (1,) in the compute dtype, recorded as
// one node named `name` over `views`.
Tensor soft_target_cross_entropy(const char* name, const std::vector<Tensor>& views,
                                 const Tensor& targets, const std::vector<int>& skips,
                                 double weight, double temperature);

}  // namespace lumen::losses
