// Per-column statistics of (rows, cols) row-major matrices: reductions over the batch dim (see
// kernels/colstats.cuh for the math). T in {float, double, bf16, f16}; results in
// C = compute_t<T>. Both devices reduce in a fixed order (deterministic).
#pragma once

#include <cstdint>

#include "kernels/colstats.cuh"

namespace lumen::kernels {

// mean[c] and, when var is non-null, var[c] with the given correction.
//   x: (rows, cols) T;  mean, var: (cols) C
template <typename T>
void column_stats_cpu(const T* x, int64_t rows, int64_t cols, int correction, compute_t<T>* mean,
                      compute_t<T>* var);
template <typename T>
void column_stats_cuda(const T* x, int64_t rows, int64_t cols, int correction, compute_t<T>* mean,
                       compute_t<T>* var, cudaStream_t stream);

// dx = dmean / rows + dvar * 2 (x - mean) / (rows - correction); dmean or dvar null: that term is
// left out.   x, dx: (rows, cols) T;  mean, dmean, dvar: (cols) C
template <typename T>
void column_stats_backward_cpu(const T* x, int64_t rows, int64_t cols, int correction,
                               const compute_t<T>* mean, const compute_t<T>* dmean,
                               const compute_t<T>* dvar, T* dx);
template <typename T>
void column_stats_backward_cuda(const T* x, int64_t rows, int64_t cols, int correction,
                                const compute_t<T>* mean, const compute_t<T>* dmean,
                                const compute_t<T>* dvar, T* dx, cudaStream_t stream);

// sums[c] = sum_r x[r, c];  max[c] = max_r x[r, c] (NaN wins)    x: (rows, cols) C; out: (cols) C
// (C = float or double: the buffers of the losses' compute dtype)
template <typename C>
void column_sums_cpu(const C* x, int64_t rows, int64_t cols, C* sums);
template <typename C>
void column_sums_cuda(const C* x, int64_t rows, int64_t cols, C* sums, cudaStream_t stream);
template <typename C>
void column_max_cpu(const C* x, int64_t rows, int64_t cols, C* max);
template <typename C>
void column_max_cuda(const C* x, int64_t rows, int64_t cols, C* max, cudaStream_t stream);

// y[r, c] = x[r, c] - v[c]     x, y: (rows, cols) C (y may be x); v: (cols) C
template <typename C>
void subtract_columns_cpu(const C* x, const C* v, int64_t rows, int64_t cols, C* y);
template <typename C>
void subtract_columns_cuda(const C* x, const C* v, int64_t rows, int64_t cols, C* y,
                           cudaStream_t stream);

}  // namespace lumen::kernels
