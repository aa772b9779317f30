// Momentum (EMA) update over flat parameter buffers (see momentum.cuh). C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/momentum.cuh"

namespace lumen::kernels {

// target, online: (n) C;  target = target * m + online * (1 - m), in place
template <typename C>
void momentum_update_cpu(C* target, const C* online, int64_t n, double m);
template <typename C>
void momentum_update_cuda(C* target, const C* online, int64_t n, double m, cudaStream_t stream);

}  // namespace lumen::kernels
