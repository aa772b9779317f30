#include "kernels/launch.cuh"
#include "kernels/momentum.h"
#include "kernels/vec.cuh"

namespace lumen::kernels {

// Grid-stride over vectors of V elements (n is a multiple of V).
template <typename C, int V>
__global__ void momentum_update_kernel(C* target, const C* online, int64_t n, C m, C rest) {
  LUMEN_GRID_STRIDE(v, n / V) {
    Vec<C, V> t = load_vec<V>(target + v * V);
    const Vec<C, V> o = load_vec<V>(online + v * V);
#pragma unroll
    for (int k = 0; k < V; ++k) t.v[k] = momentum_blend(t.v[k], o.v[k], m, rest);
    store_vec(target + v * V, t);
  }
}

template <typename C>
void momentum_update_cuda(C* target, const C* online, int64_t n, double m, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int V = kVec<C>;
  // Flat parameter buffers are 64-element aligned: the vector path is the usual one.
  if (n % V == 0 && aligned16(target) && aligned16(online)) {
    momentum_update_kernel<C, V>
        <<<grid_for(n / V), kBlock, 0, stream>>>(target, online, n, C(m), C(1.0 - m));
  } else {
    momentum_update_kernel<C, 1>
        <<<grid_for(n), kBlock, 0, stream>>>(target, online, n, C(m), C(1.0 - m));
  }
  LUMEN_LAUNCH_CHECK();
}

template void momentum_update_cuda<float>(float*, const float*, int64_t, double, cudaStream_t);
template void momentum_update_cuda<double>(double*, const double*, int64_t, double, cudaStream_t);

}  // namespace lumen::kernels
