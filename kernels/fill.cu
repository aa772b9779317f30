#include "kernels/fill.cuh"
#include "kernels/fill.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

template <typename T>
__global__ void fill_value_kernel(T* y, int64_t n, T value) {
  LUMEN_GRID_STRIDE(i, n) y[i] = value;
}
template <typename T>
__global__ void fill_uniform_kernel(T* y, int64_t n, uint64_t seed, double low, double high) {
  LUMEN_GRID_STRIDE(i, n) y[i] = uniform_at<T>(seed, i, low, high);
}
template <typename T>
__global__ void fill_normal_kernel(T* y, int64_t n, uint64_t seed, double mean, double stddev) {
  LUMEN_GRID_STRIDE(i, n) y[i] = normal_at<T>(seed, i, mean, stddev);
}
template <typename To, typename From>
__global__ void cast_kernel(const From* x, To* y, int64_t n) {
  LUMEN_GRID_STRIDE(i, n) y[i] = from_double<To>(to_double(x[i]));
}

template <typename T>
void fill_value_cuda(T* y, int64_t n, double value, cudaStream_t stream) {
  if (n == 0) return;
  fill_value_kernel<<<grid_for(n), kBlock, 0, stream>>>(y, n, from_double<T>(value));
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void fill_uniform_cuda(T* y, int64_t n, uint64_t seed, double low, double high,
                       cudaStream_t stream) {
  if (n == 0) return;
  fill_uniform_kernel<<<grid_for(n), kBlock, 0, stream>>>(y, n, seed, low, high);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void fill_normal_cuda(T* y, int64_t n, uint64_t seed, double mean, double stddev,
                      cudaStream_t stream) {
  if (n == 0) return;
  fill_normal_kernel<<<grid_for(n), kBlock, 0, stream>>>(y, n, seed, mean, stddev);
  LUMEN_LAUNCH_CHECK();
}
template <typename To, typename From>
void cast_cuda(const From* x, To* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  cast_kernel<To, From><<<grid_for(n), kBlock, 0, stream>>>(x, y, n);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_FILL_INSTANTIATE(T)                                                          \
  template void fill_value_cuda<T>(T*, int64_t, double, cudaStream_t);                     \
  template void fill_uniform_cuda<T>(T*, int64_t, uint64_t, double, double, cudaStream_t); \
  template void fill_normal_cuda<T>(T*, int64_t, uint64_t, double, double, cudaStream_t);
#define LUMEN_CAST_INSTANTIATE_FROM(To)                                             \
  template void cast_cuda<To, float>(const float*, To*, int64_t, cudaStream_t);     \
  template void cast_cuda<To, double>(const double*, To*, int64_t, cudaStream_t);   \
  template void cast_cuda<To, bf16>(const bf16*, To*, int64_t, cudaStream_t);       \
  template void cast_cuda<To, f16>(const f16*, To*, int64_t, cudaStream_t);         \
  template void cast_cuda<To, uint8_t>(const uint8_t*, To*, int64_t, cudaStream_t); \
  template void cast_cuda<To, int32_t>(const int32_t*, To*, int64_t, cudaStream_t); \
  template void cast_cuda<To, int64_t>(const int64_t*, To*, int64_t, cudaStream_t);
#define LUMEN_FOR_ALL_TYPES(X) X(float) X(double) X(bf16) X(f16) X(uint8_t) X(int32_t) X(int64_t)
LUMEN_FOR_ALL_TYPES(LUMEN_FILL_INSTANTIATE)
LUMEN_FOR_ALL_TYPES(LUMEN_CAST_INSTANTIATE_FROM)

}  // namespace lumen::kernels
