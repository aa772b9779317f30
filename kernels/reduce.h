// Reductions to one value.
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// out[0] = alpha * sum(x)              x: (n) T; out: (1) T. Accumulates in double on the CPU and
// in compute_t<T> on the GPU (per-block partials, then one block; deterministic).
template <typename T>
void sum_cpu(const T* x, int64_t n, double alpha, T* out);

// Number of compute_t<T> elements of workspace sum_cuda needs.
constexpr int64_t kSumWorkspace = 1024;
template <typename T>
void sum_cuda(const T* x, int64_t n, double alpha, T* out, compute_t<T>* workspace,
              cudaStream_t stream);

}  // namespace lumen::kernels
