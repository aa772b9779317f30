// The library's instantiations of the fused view kernel (kernels/augment_kernel.cuh), for views
// without a custom stage. This file is compiled with --fmad=false so that its float arithmetic
// rounds exactly like the CPU loops in augment_cpu.cpp.
#include "kernels/augment_kernel.cuh"

namespace lumen::kernels {

template <typename T>
void augment_views_cuda(const AugmentBatch& batch, const AugmentViewEntry* entries, int count) {
  launch_augment_views<T, NoStage>(batch, entries, nullptr, count);
}

#define LUMEN_INSTANTIATE(T) \
  template void augment_views_cuda<T>(const AugmentBatch&, const AugmentViewEntry*, int);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
