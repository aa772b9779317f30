#include "engine/infer/scratch.h"

namespace lumen {

float* InferScratch::buffer(size_t slot, int64_t floats) {
  if (buffers_.size() <= slot) buffers_.resize(slot + 1);
  Tensor& b = buffers_[slot];
  if (!b.defined() || b.numel() < floats) b = Tensor::empty({std::max<int64_t>(floats, 1)});
  return b.data<float>();
}

}  // namespace lumen
