// Row-wise softmax, log-softmax and cross-entropy over (rows, cols) row-major matrices, T in
// {float, double, bf16, f16}; math in compute_t<T>.
#pragma once

#include <cstdint>

#include "kernels/softmax.cuh"

namespace lumen::kernels {

// y = log_softmax(x) along each row     x, y: (rows, cols) T
template <typename T>
void log_softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols);
template <typename T>
void log_softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream);

// y = softmax(x) along each row          x, y: (rows, cols) T
template <typename T>
void softmax_forward_cpu(const T* x, T* y, int64_t rows, int64_t cols);
template <typename T>
void softmax_forward_cuda(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream);

// dx = y * (dy - <dy, y>) per row         y, dy, dx: (rows, cols) T
template <typename T>
void softmax_backward_cpu(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols);
template <typename T>
void softmax_backward_cuda(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols,
                           cudaStream_t stream);

// dx = dy - exp(y) * rowsum(dy)         y, dy, dx: (rows, cols) T
template <typename T>
void log_softmax_backward_cpu(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols);
template <typename T>
void log_softmax_backward_cuda(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols,
                               cudaStream_t stream);

// Loss and gradient in one pass:
//   loss[r]  = lse(x[r]) - x[r, target[r]]                       loss: (rows) compute_t<T>
//   dx[r, j] = (softmax(x[r])_j - [j == target[r]]) * grad_scale  x, dx: (rows, cols) T
// target: (rows) int64. A target outside [0, cols) gives loss NaN for that row (the CPU version
// throws instead).
template <typename T>
void cross_entropy_cpu(const T* x, const int64_t* target, compute_t<T>* loss, T* dx,
                       double grad_scale, int64_t rows, int64_t cols);
template <typename T>
void cross_entropy_cuda(const T* x, const int64_t* target, compute_t<T>* loss, T* dx,
                        double grad_scale, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace lumen::kernels
