// Scratch memory of one inference worker (engine/infer): grow-only CPU buffers, sized before a
// parallel region and reused by every later call, so that a forward pass allocates nothing once
// it has run at a batch size. Not thread-safe: one per worker.
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

class InferScratch {
 public:
  // Buffer `slot` with room for at least `floats` (contents undefined).
  float* buffer(size_t slot, int64_t floats);
  // One slice of `floats` per thread, contiguous: thread t uses the result + t * floats.
  float* per_thread(int threads, int64_t floats) { return buffer(0, int64_t(threads) * floats); }

 private:
  std::vector<Tensor> buffers_;
};

}  // namespace lumen
