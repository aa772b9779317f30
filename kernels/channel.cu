#include "kernels/channel.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

namespace {

template <typename T>
__global__ void bias_add_kernel(const T* x, const T* bias, T* y, int64_t m, int64_t c) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(i, m * c) { y[i] = store<T>(C(load(x[i])) + C(load(bias[i % c]))); }
}

// One block per 32 channels: 32 x 8 threads walk the rows, then the 8 row lanes are added.
template <typename T>
__global__ void channel_sum_kernel(const T* x, T* out, int64_t m, int64_t c) {
  using C = compute_t<T>;
  __shared__ C tile[8][33];
  const int64_t j = int64_t(blockIdx.x) * 32 + threadIdx.x;
  C acc = 0;
  if (j < c) {
    for (int64_t r = threadIdx.y; r < m; r += 8) acc += C(load(x[r * c + j]));
  }
  tile[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && j < c) {
    C s = 0;
    for (int k = 0; k < 8; ++k) s += tile[k][threadIdx.x];
    out[j] = store<T>(s);
  }
}

}  // namespace

template <typename T>
void bias_add_cuda(const T* x, const T* bias, T* y, int64_t m, int64_t c, cudaStream_t stream) {
  if (m * c == 0) return;
  bias_add_kernel<<<grid_for(m * c), kBlock, 0, stream>>>(x, bias, y, m, c);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void channel_sum_cuda(const T* x, T* out, int64_t m, int64_t c, cudaStream_t stream) {
  if (c == 0) return;
  channel_sum_kernel<<<unsigned((c + 31) / 32), dim3(32, 8), 0, stream>>>(x, out, m, c);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                              \
  template void bias_add_cuda<T>(const T*, const T*, T*, int64_t, int64_t, cudaStream_t); \
  template void channel_sum_cuda<T>(const T*, T*, int64_t, int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
