// The momentum (exponential moving average) update of lightly's update_momentum:
//   target = target * m + online * (1 - m)
// as torch._foreach_mul_(target, m) then torch._foreach_add_(target, online, alpha=1 - m): two
// products and a sum, each rounded (on the GPU without contraction into an FMA, so both devices
// give the same bits). C is float or double.
#pragma once

#include "kernels/half.cuh"

namespace lumen::kernels {

LUMEN_HD float momentum_blend(float target, float online, float m, float one_minus_m) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(__fmul_rn(target, m), __fmul_rn(online, one_minus_m));
#else
  return target * m + online * one_minus_m;
#endif
}
LUMEN_HD double momentum_blend(double target, double online, double m, double one_minus_m) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(__dmul_rn(target, m), __dmul_rn(online, one_minus_m));
#else
  return target * m + online * one_minus_m;
#endif
}

}  // namespace lumen::kernels
