// The fused GPU version of a pointwise custom stage (augment/custom_stage.h). Include from a .cu
// file compiled by nvcc with --fmad=false (as Lumen's own kernel, so the GPU views round like the
// CPU's): it instantiates Lumen's view kernel with the stage type, in the caller's translation
// unit, so no device code crosses a library boundary (no relocatable device code, no device
// function pointers).
//
//   lumen::CustomStage invert_colors(float p) {
//     return lumen::pointwise_stage_with_cuda("invert_colors", InvertColors{p});
//   }
#pragma once

#include <cstring>
#include <type_traits>

#include "augment/custom_stage.h"
#include "kernels/augment_kernel.cuh"

namespace lumen {

namespace detail {
// One address per stage type (an inline variable is one object program-wide).
template <typename Fn>
inline constexpr char kStageType = 0;

template <typename T, typename Fn>
void launch_stage(const kernels::AugmentBatch& batch, const kernels::AugmentViewEntry* entries,
                  const unsigned char* stages, int count) {
  kernels::launch_augment_views<T, Fn>(batch, entries, stages, count);
}
}  // namespace detail

// The kernel with `fn`'s type, and `fn`'s bytes as its parameters.
template <typename Fn>
CudaStage cuda_stage(const Fn& fn) {
  static_assert(
      std::is_trivially_copyable<Fn>::value && std::is_trivially_copyable_v<typename Fn::Params>,
      "a GPU stage and its Params are copied as bytes into the kernel: make them "
      "trivially copyable (plain numbers, no pointers to host memory)");
  CudaStage s;
  s.type = &detail::kStageType<Fn>;
  s.object.resize(sizeof(Fn));
  std::memcpy(s.object.data(), &fn, sizeof(Fn));
  s.launch = {&detail::launch_stage<float, Fn>, &detail::launch_stage<bf16, Fn>,
              &detail::launch_stage<f16, Fn>};
  return s;
}

// The stage with both versions: pointwise_stage's CPU loop and the fused GPU kernel.
template <typename Fn>
CustomStage pointwise_stage_with_cuda(std::string name, const Fn& fn) {
  CustomStage s = pointwise_stage(std::move(name), fn);
  s.cuda = cuda_stage(fn);
  return s;
}

}  // namespace lumen
