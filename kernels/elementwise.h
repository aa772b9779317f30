// Elementwise ops on raw contiguous buffers of n elements, T in {float, double, bf16, f16}.
// Arithmetic is done in compute_t<T> (float, or double for double).
#pragma once

#include <cstdint>

#include "kernels/elementwise.cuh"

namespace lumen::kernels {

// y = a (op) b                         a, b, y: (n) T
template <typename T>
void binary_cpu(BinaryOp op, const T* a, const T* b, T* y, int64_t n);
template <typename T>
void binary_cuda(BinaryOp op, const T* a, const T* b, T* y, int64_t n, cudaStream_t stream);

// y = alpha * x + beta * y             x, y: (n) T   (beta == 0 ignores y's old contents)
template <typename T>
void axpby_cpu(double alpha, const T* x, double beta, T* y, int64_t n);
template <typename T>
void axpby_cuda(double alpha, const T* x, double beta, T* y, int64_t n, cudaStream_t stream);

// y = alpha * s[0] * x                 x, y: (n) T; s: (1) T on the same device (no host sync)
template <typename T>
void scale_by_scalar_cpu(const T* x, const T* s, double alpha, T* y, int64_t n);
template <typename T>
void scale_by_scalar_cuda(const T* x, const T* s, double alpha, T* y, int64_t n,
                          cudaStream_t stream);

// y = alpha * s[0]                     y: (n) T; s: (1) T
template <typename T>
void broadcast_scalar_cpu(const T* s, double alpha, T* y, int64_t n);
template <typename T>
void broadcast_scalar_cuda(const T* s, double alpha, T* y, int64_t n, cudaStream_t stream);

// y = max(x, 0); dx = dy * (x > 0)     x, y, dy, dx: (n) T
template <typename T>
void relu_forward_cpu(const T* x, T* y, int64_t n);
template <typename T>
void relu_forward_cuda(const T* x, T* y, int64_t n, cudaStream_t stream);
template <typename T>
void relu_backward_cpu(const T* x, const T* dy, T* dx, int64_t n);
template <typename T>
void relu_backward_cuda(const T* x, const T* dy, T* dx, int64_t n, cudaStream_t stream);

// y = op(x); dx from dy and the saved tensor: the input x for gelu, the output y for sqrt and
// exp (unary_backward_reads_input, kernels/elementwise.cuh).   x, y, saved, dy, dx: (n) T
template <typename T>
void unary_forward_cpu(UnaryOp op, const T* x, T* y, int64_t n);
template <typename T>
void unary_forward_cuda(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream);
template <typename T>
void unary_backward_cpu(UnaryOp op, const T* saved, const T* dy, T* dx, int64_t n);
template <typename T>
void unary_backward_cuda(UnaryOp op, const T* saved, const T* dy, T* dx, int64_t n,
                         cudaStream_t stream);

}  // namespace lumen::kernels
