#include "layers/methods/momentum_schedule.h"

#include "engine/train/schedule.h"

namespace lumen {

double MomentumSchedule::at(const MethodStep& step) const {
  return cosine ? cosine_schedule(step.global_step, step.total_steps, start, 1.0) : start;
}

}  // namespace lumen
