// Learning-rate schedules with lightly's formulas (lightly.utils.scheduler).
//
//   cosine_schedule(step, max_steps, start, end):  start at step 0, end from step max_steps - 1 on,
//     end - (end - start) * (cos(pi * step / (max_steps - 1)) + 1) / 2 between; with a period,
//     end - (end - start) * (cos(2 pi * step / period) + 1) / 2 for every step.
//   cosine_warmup_schedule(...): for step < warmup_steps a linear ramp that reaches
//     warmup_end_value (default: start_value) at the last warmup step,
//     warmup_start + (warmup_end - warmup_start) * (step + 1) / warmup_steps;
//     then cosine_schedule(step - warmup_steps, max_steps - warmup_steps (or - 1 with a period)).
//   CosineWarmupScheduler: like torch's LambdaLR with that schedule as the factor: the optimizer's
//     lr is base_lr * factor(epoch); construction applies epoch 0, each step() the next epoch.
//     ("epoch" may count steps or epochs, as in lightly.)
#pragma once

#include <cstdint>
#include <optional>

#include "engine/train/optimizer.h"

namespace lumen {

double cosine_schedule(int64_t step, int64_t max_steps, double start_value, double end_value,
                       std::optional<int64_t> period = std::nullopt);

double cosine_warmup_schedule(int64_t step, int64_t max_steps, double start_value, double end_value,
                              int64_t warmup_steps, double warmup_start_value,
                              std::optional<double> warmup_end_value = std::nullopt,
                              std::optional<int64_t> period = std::nullopt);

struct CosineWarmupOptions {
  int64_t warmup_epochs = 0;
  int64_t max_epochs = 1;
  double start_value = 1.0;
  double end_value = 0.001;
  std::optional<int64_t> period;
  double warmup_start_value = 0.0;
  std::optional<double> warmup_end_value;
};

class CosineWarmupScheduler {
 public:
  // Takes the optimizer's current lr as base_lr and sets lr = base_lr * factor(0).
  CosineWarmupScheduler(Optimizer& optimizer, const CosineWarmupOptions& options);

  void step();  // advances one epoch (or step) and sets the optimizer's lr
  double factor(int64_t epoch) const;
  int64_t last_epoch() const { return last_epoch_; }
  double base_lr() const { return base_lr_; }
  // For resuming: jumps to `epoch` and sets the lr it implies.
  void set_last_epoch(int64_t epoch);

 private:
  Optimizer& optimizer_;
  CosineWarmupOptions options_;
  double base_lr_;
  int64_t last_epoch_ = 0;
};

}  // namespace lumen
