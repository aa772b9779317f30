#include "kernels/fill.cuh"
#include "kernels/fill.h"

namespace lumen::kernels {

template <typename T>
void fill_value_cpu(T* y, int64_t n, double value) {
  const T v = from_double<T>(value);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = v;
}

template <typename T>
void fill_uniform_cpu(T* y, int64_t n, uint64_t seed, double low, double high) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) y[i] = uniform_at<T>(seed, i, low, high);
}

template <typename T>
void fill_normal_cpu(T* y, int64_t n, uint64_t seed, double mean, double stddev) {
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; ++i) y[i] = normal_at<T>(seed, i, mean, stddev);
}

template <typename To, typename From>
void cast_cpu(const From* x, To* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = from_double<To>(to_double(x[i]));
}

#define LUMEN_FILL_INSTANTIATE(T)                                           \
  template void fill_value_cpu<T>(T*, int64_t, double);                     \
  template void fill_uniform_cpu<T>(T*, int64_t, uint64_t, double, double); \
  template void fill_normal_cpu<T>(T*, int64_t, uint64_t, double, double);
#define LUMEN_CAST_INSTANTIATE_FROM(To)                              \
  template void cast_cpu<To, float>(const float*, To*, int64_t);     \
  template void cast_cpu<To, double>(const double*, To*, int64_t);   \
  template void cast_cpu<To, bf16>(const bf16*, To*, int64_t);       \
  template void cast_cpu<To, f16>(const f16*, To*, int64_t);         \
  template void cast_cpu<To, uint8_t>(const uint8_t*, To*, int64_t); \
  template void cast_cpu<To, int32_t>(const int32_t*, To*, int64_t); \
  template void cast_cpu<To, int64_t>(const int64_t*, To*, int64_t);
#define LUMEN_FOR_ALL_TYPES(X) X(float) X(double) X(bf16) X(f16) X(uint8_t) X(int32_t) X(int64_t)
LUMEN_FOR_ALL_TYPES(LUMEN_FILL_INSTANTIATE)
LUMEN_FOR_ALL_TYPES(LUMEN_CAST_INSTANTIATE_FROM)

}  // namespace lumen::kernels
