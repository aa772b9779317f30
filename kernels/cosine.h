// Row-wise cosine similarity kernels (PyTorch 1.13's F.cosine_similarity over dim 1; see
// cosine.cuh for the math), the core of lightly's NegativeCosineSimilarity. T in {float, double,
// bf16, f16}; sums and results in C = compute_t<T>.
#pragma once

#include <cstdint>

#include "kernels/cosine.cuh"

namespace lumen::kernels {

// x, y: (rows, dim) T; cos, norm_x, norm_y: (rows) C  (the norms are kept for backward)
template <typename T>
void cosine_rows_forward_cpu(const T* x, const T* y, compute_t<T>* cos, compute_t<T>* norm_x,
                             compute_t<T>* norm_y, int64_t rows, int64_t dim, double eps);
template <typename T>
void cosine_rows_forward_cuda(const T* x, const T* y, compute_t<T>* cos, compute_t<T>* norm_x,
                              compute_t<T>* norm_y, int64_t rows, int64_t dim, double eps,
                              cudaStream_t stream);

// Gradients of scale * grad[0] * sum_r cos_r (grad: one C on the tensors' device, read there):
//   dx = scale g d cos_r / d x_r, dy likewise; dx or dy may be null (not needed). (rows, dim) T
template <typename T>
void cosine_rows_backward_cpu(const T* x, const T* y, const compute_t<T>* cos,
                              const compute_t<T>* norm_x, const compute_t<T>* norm_y,
                              const compute_t<T>* grad, double scale, T* dx, T* dy, int64_t rows,
                              int64_t dim, double eps);
template <typename T>
void cosine_rows_backward_cuda(const T* x, const T* y, const compute_t<T>* cos,
                               const compute_t<T>* norm_x, const compute_t<T>* norm_y,
                               const compute_t<T>* grad, double scale, T* dx, T* dy, int64_t rows,
                               int64_t dim, double eps, cudaStream_t stream);

}  // namespace lumen::kernels
