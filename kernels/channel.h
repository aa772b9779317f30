// Per-channel ops on channel-last data viewed as (M, C): bias add and its gradient (channel sums).
// T in {float, double, bf16, f16}; bias in T.
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// y[r, c] = x[r, c] + bias[c]            x, y: (M, C) T;  bias: (C) T
template <typename T>
void bias_add_cpu(const T* x, const T* bias, T* y, int64_t m, int64_t c);
template <typename T>
void bias_add_cuda(const T* x, const T* bias, T* y, int64_t m, int64_t c, cudaStream_t stream);

// out[c] = sum over r of x[r, c]         x: (M, C) T;  out: (C) T
template <typename T>
void channel_sum_cpu(const T* x, T* out, int64_t m, int64_t c);
template <typename T>
void channel_sum_cuda(const T* x, T* out, int64_t m, int64_t c, cudaStream_t stream);

}  // namespace lumen::kernels
