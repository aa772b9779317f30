// Row-wise L2 normalisation and weight normalisation of (rows, cols) row-major matrices, T in
// {float, double, bf16, f16}.
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

// w = v * (g / ||v_r||) per row; norm[r] = ||v_r|| (kept for backward)
//   v, w: (rows, cols) T;  g: (rows) T;  norm: (rows) compute_t<T>
template <typename T>
void weight_norm_forward_cpu(const T* v, const T* g, T* w, compute_t<T>* norm, int64_t rows,
                             int64_t cols);
template <typename T>
void weight_norm_forward_cuda(const T* v, const T* g, T* w, compute_t<T>* norm, int64_t rows,
                              int64_t cols, cudaStream_t stream);

// dv and dg from dw (kernels/norm.cuh); dv or dg null: not computed.
//   v, dw, dv: (rows, cols) T;  g, dg: (rows) T;  norm: (rows)
template <typename T>
void weight_norm_backward_cpu(const T* v, const T* g, const T* dw, const compute_t<T>* norm, T* dv,
                              T* dg, int64_t rows, int64_t cols);
template <typename T>
void weight_norm_backward_cuda(const T* v, const T* g, const T* dw, const compute_t<T>* norm, T* dv,
                               T* dg, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace lumen::kernels
