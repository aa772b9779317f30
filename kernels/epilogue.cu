#include "kernels/epilogue.h"
#include "kernels/launch.cuh"
#include "kernels/vec.cuh"

namespace lumen::kernels {

namespace {

// V elements (one 16-byte vector when V = kVec<T>) of consecutive channels per step.
template <typename T, int V>
__global__ void conv_epilogue_kernel(T* y, const float* bias, const T* residual, bool relu,
                                     int64_t m, int64_t c) {
  const int64_t vectors = m * c / V;
  LUMEN_GRID_STRIDE(i, vectors) {
    const int64_t e = i * V, ch = e % c;
    Vec<T, V> out = load_vec<V>(y + e);
    const Vec<T, V> res = load_vec_or<V>(residual, e, out);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      float v = float(load(out.v[j])) + bias[ch + j];
      if (residual != nullptr) v += float(load(res.v[j]));
      if (relu) v = v > 0.0f ? v : 0.0f;
      out.v[j] = store<T>(v);
    }
    store_vec<V>(y + e, out);
  }
}

}  // namespace

template <typename T>
void conv_epilogue_cuda(T* y, const float* bias, const T* residual, bool relu, int64_t m, int64_t c,
                        cudaStream_t stream) {
  if (m * c == 0) return;
  // Vectors never straddle two rows when C is a multiple of the width.
  if (vec_width<T>(c, {y, residual}) == kVec<T>) {
    conv_epilogue_kernel<T, kVec<T>>
        <<<grid_for(m * c / kVec<T>), kBlock, 0, stream>>>(y, bias, residual, relu, m, c);
  } else {
    conv_epilogue_kernel<T, 1>
        <<<grid_for(m * c), kBlock, 0, stream>>>(y, bias, residual, relu, m, c);
  }
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                              \
  template void conv_epilogue_cuda<T>(T*, const float*, const T*, bool, int64_t, int64_t, \
                                      cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
