// Fills and conversions on raw buffers. Every CPU function has a CUDA twin with the same math
// (element i of a random fill depends only on (seed, i), so both devices draw the same values).
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// y: (n) T  ← value
template <typename T>
void fill_value_cpu(T* y, int64_t n, double value);
template <typename T>
void fill_value_cuda(T* y, int64_t n, double value, cudaStream_t stream);

// y: (n) T  ← low + (high - low) * U[0,1) drawn from Philox(seed, stream 0, i)
template <typename T>
void fill_uniform_cpu(T* y, int64_t n, uint64_t seed, double low, double high);
template <typename T>
void fill_uniform_cuda(T* y, int64_t n, uint64_t seed, double low, double high,
                       cudaStream_t stream);

// y: (n) T  ← mean + stddev * N(0,1) drawn from Philox(seed, stream 1, i)
template <typename T>
void fill_normal_cpu(T* y, int64_t n, uint64_t seed, double mean, double stddev);
template <typename T>
void fill_normal_cuda(T* y, int64_t n, uint64_t seed, double mean, double stddev,
                      cudaStream_t stream);

// y: (n) To  ← x: (n) From, converted element by element
template <typename To, typename From>
void cast_cpu(const From* x, To* y, int64_t n);
template <typename To, typename From>
void cast_cuda(const From* x, To* y, int64_t n, cudaStream_t stream);

}  // namespace lumen::kernels
