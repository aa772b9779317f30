#include "engine/train/schedule.h"

#include <cmath>

namespace lumen {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

double cosine_schedule(int64_t step, int64_t max_steps, double start_value, double end_value,
                       std::optional<int64_t> period) {
  LUMEN_CHECK(step >= 0, "cosine_schedule: step ", step, " can't be negative");
  LUMEN_CHECK(max_steps >= 0, "cosine_schedule: max_steps ", max_steps, " can't be negative");
  LUMEN_CHECK(!period || *period > 0, "cosine_schedule: period ", period.value_or(0),
              " must be >= 1");
  if (period) {
    return end_value -
           (end_value - start_value) * (std::cos(2 * kPi * double(step) / double(*period)) + 1) / 2;
  }
  if (max_steps <= 1 || step >= max_steps - 1) return end_value;
  return end_value -
         (end_value - start_value) * (std::cos(kPi * double(step) / double(max_steps - 1)) + 1) / 2;
}

double cosine_warmup_schedule(int64_t step, int64_t max_steps, double start_value, double end_value,
                              int64_t warmup_steps, double warmup_start_value,
                              std::optional<double> warmup_end_value,
                              std::optional<int64_t> period) {
  LUMEN_CHECK(warmup_steps >= 0, "cosine_warmup_schedule: warmup steps ", warmup_steps,
              " can't be negative");
  LUMEN_CHECK(warmup_steps <= max_steps, "cosine_warmup_schedule: warmup steps ", warmup_steps,
              " must be <= max_steps ", max_steps, " (lower scheduler.warmup_epochs)");
  const double warmup_end = warmup_end_value.value_or(start_value);
  if (step < warmup_steps) {
    return warmup_start_value +
           (warmup_end - warmup_start_value) * double(step + 1) / double(warmup_steps);
  }
  const int64_t cosine_steps = max_steps - (period ? 1 : warmup_steps);
  return cosine_schedule(step - warmup_steps, cosine_steps, start_value, end_value, period);
}

CosineWarmupScheduler::CosineWarmupScheduler(Optimizer& optimizer,
                                             const CosineWarmupOptions& options)
    : optimizer_(optimizer), options_(options), base_lr_(optimizer.lr()) {
  LUMEN_CHECK(options.warmup_epochs >= 0 && options.warmup_epochs <= options.max_epochs,
              "CosineWarmupScheduler: warmup_epochs ", options.warmup_epochs,
              " must lie in [0, max_epochs = ", options.max_epochs, "]");
  set_last_epoch(0);
}

double CosineWarmupScheduler::factor(int64_t epoch) const {
  return cosine_warmup_schedule(
      epoch, options_.max_epochs, options_.start_value, options_.end_value, options_.warmup_epochs,
      options_.warmup_start_value, options_.warmup_end_value, options_.period);
}

void CosineWarmupScheduler::step() { set_last_epoch(last_epoch_ + 1); }

void CosineWarmupScheduler::set_last_epoch(int64_t epoch) {
  LUMEN_CHECK(epoch >= 0, "CosineWarmupScheduler: epoch ", epoch, " can't be negative");
  last_epoch_ = epoch;
  optimizer_.set_lr(base_lr_ * factor(epoch));
}

}  // namespace lumen
