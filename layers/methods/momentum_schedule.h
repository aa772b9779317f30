// The momentum of a momentum encoder (MoCo, BYOL): constant, or lightly's
// cosine_schedule(step, total_steps, start, 1.0) per step, as lightly's newer benchmarks use it.
#pragma once

#include "layers/methods/method.h"

namespace lumen {

struct MomentumSchedule {
  double start = 0.99;  // lightly's CIFAR-10 benchmark: 0.99, constant
  bool cosine = false;  // true: from start to 1 over the run

  double at(const MethodStep& step) const;
};

}  // namespace lumen
