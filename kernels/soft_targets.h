// Fused row passes of SwaV's and DINO's losses (see kernels/soft_targets.cuh for the math). C is
// the compute type (float or double).
#pragma once

#include <cstdint>

#include "kernels/soft_targets.cuh"

namespace lumen::kernels {

// One view's rows: row_loss[b] and dz (the gradient of sum_b row_loss[b]).
//   z, dz: (rows, k) C;  q: (views, rows, k) C;  row_loss: (rows) C
template <typename C>
void soft_target_ce_rows_cpu(const C* z, const C* q, int views, int skip, double weight,
                             double temperature, int64_t rows, int64_t k, C* row_loss, C* dz);
template <typename C>
void soft_target_ce_rows_cuda(const C* z, const C* q, int views, int skip, double weight,
                              double temperature, int64_t rows, int64_t k, C* row_loss, C* dz,
                              cudaStream_t stream);

// p[r, :] = softmax((x[r, :] - center) / temperature)     x, p: (rows, k) C;  center: (k) C
template <typename C>
void centered_softmax_rows_cpu(const C* x, const C* center, double temperature, int64_t rows,
                               int64_t k, C* p);
template <typename C>
void centered_softmax_rows_cuda(const C* x, const C* center, double temperature, int64_t rows,
                                int64_t k, C* p, cudaStream_t stream);

}  // namespace lumen::kernels
