#include "engine/core/capture_ledger.h"

#include "kernels/common.h"

namespace lumen {

void CaptureLedger::begin() {
  std::lock_guard<std::mutex> lock(mutex_);
  LUMEN_CHECK(!capturing_.load(),
              "a graph capture is already running on this context; captures "
              "do not nest");
  capturing_ = true;
}

void CaptureLedger::on_allocate(void* block) {
  if (!capturing_.load() || block == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (capturing_.load()) captured_.insert(block);
}

CaptureLedger::Release CaptureLedger::on_release(void* block) {
  if (!active()) return Release::free;
  std::lock_guard<std::mutex> lock(mutex_);
  if (abandoned_.erase(block) != 0) {
    has_abandoned_ = !abandoned_.empty();
    return Release::skip;
  }
  if (!capturing_.load()) return Release::free;
  if (captured_.erase(block) != 0) return Release::free_in_capture;
  retained_.push_back(block);
  return Release::keep;
}

CaptureLedger::Ended CaptureLedger::end(bool discard) {
  std::lock_guard<std::mutex> lock(mutex_);
  LUMEN_CHECK(capturing_.load(), "end of a graph capture that was not begun");
  capturing_ = false;
  Ended ended;
  ended.retained = std::move(retained_);
  retained_.clear();
  ended.outliving = captured_.size();
  if (discard || ended.outliving != 0) {
    abandoned_.insert(captured_.begin(), captured_.end());
    has_abandoned_ = !abandoned_.empty();
  }
  captured_.clear();
  return ended;
}

}  // namespace lumen
