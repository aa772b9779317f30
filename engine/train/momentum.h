// The momentum (EMA) update of momentum encoders (MoCo, BYOL), lightly's update_momentum on flat
// parameter buffers: one fused pass (kernels/momentum.h),
//   target = target * m + online * (1 - m)
// target, online: (n,) flat buffers of the same dtype (f32, or f64 for checks), size and device,
// typically a momentum copy's ParameterBuffer values and the matching range of the online model's
// (layers/momentum.h pairs them). Not recorded by autograd. m in [0, 1]; lightly's methods take it
// from cosine_schedule(step, max_steps, start, 1.0) (engine/train/schedule.h). m is passed by value
// into the launch: run the update eagerly each step (lightly does it first in training_step), not
// inside a captured CUDA graph, which would replay the captured m.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

void momentum_update(Tensor target, const Tensor& online, double m);

}  // namespace lumen
