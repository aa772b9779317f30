// The library's instantiations of the fused view kernel (kernels/augment_kernel.cuh). This file is
// compiled with --fmad=false so that its float arithmetic rounds exactly like the CPU loops in
// augment_cpu.cpp.
#include "kernels/augment_kernel.cuh"

namespace lumen::kernels {

template <typename T>
void augment_views_cuda(const uint8_t* src, int64_t batch, int src_h, int src_w,
                        const int64_t* indices, const AugmentViewEntry* entries, int count,
                        uint64_t seed, uint64_t epoch, float* scratch, cudaStream_t stream) {
  launch_augment_views<T>(src, batch, src_h, src_w, indices, entries, count, seed, epoch, scratch,
                          stream);
}

#define LUMEN_INSTANTIATE(T)                                                                    \
  template void augment_views_cuda<T>(const uint8_t*, int64_t, int, int, const int64_t*,        \
                                      const AugmentViewEntry*, int, uint64_t, uint64_t, float*, \
                                      cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
