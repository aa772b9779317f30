// Per-element math of kernels/fill.h, shared by the CPU loops and the CUDA kernels.
#pragma once

#include "kernels/half.cuh"
#include "kernels/philox.cuh"

namespace lumen::kernels {

constexpr uint64_t kUniformStream = 0;
constexpr uint64_t kNormalStream = 1;

template <typename T>
LUMEN_HD T uniform_at(uint64_t seed, int64_t i, double low, double high) {
  return from_double<T>(low + (high - low) * philox_uniform(seed, kUniformStream, uint64_t(i)));
}

template <typename T>
LUMEN_HD T normal_at(uint64_t seed, int64_t i, double mean, double stddev) {
  return from_double<T>(mean + stddev * philox_normal(seed, kNormalStream, uint64_t(i)));
}

}  // namespace lumen::kernels
