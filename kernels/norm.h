// Row-wise L2 normalisation of (rows, cols) row-major matrices, T in {float, double, bf16, f16}.
#pragma once

#include <cstdint>

#include "kernels/norm.cuh"

namespace lumen::kernels {

// y = x / max(||x_r||, eps); norm[r] = ||x_r|| (kept for backward)
//   x, y: (rows, cols) T; norm: (rows) compute_t<T>
template <typename T>
void l2_normalize_forward_cpu(const T* x, T* y, compute_t<T>* norm, double eps, int64_t rows,
                              int64_t cols);
template <typename T>
void l2_normalize_forward_cuda(const T* x, T* y, compute_t<T>* norm, double eps, int64_t rows,
                               int64_t cols, cudaStream_t stream);

// dx from y, dy and the saved norms       y, dy, dx: (rows, cols) T; norm: (rows)
template <typename T>
void l2_normalize_backward_cpu(const T* y, const T* dy, const compute_t<T>* norm, T* dx, double eps,
                               int64_t rows, int64_t cols);
template <typename T>
void l2_normalize_backward_cuda(const T* y, const T* dy, const compute_t<T>* norm, T* dx,
                                double eps, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace lumen::kernels
