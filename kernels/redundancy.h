// Fused passes of the Barlow Twins and VICReg losses (see kernels/redundancy.cuh for the terms).
// C is the compute type (float or double).
#pragma once

#include <cstdint>

#include "kernels/redundancy.cuh"

namespace lumen::kernels {

// One pass over the (d, d) matrix m: row_loss[i] = sum_j term(m_ij) and grad[i, j] = its
// derivative.   m, grad: (d, d) C;  row_loss: (d) C
template <typename C>
void matrix_loss_rows_cpu(const C* m, int64_t d, const MatrixLossParams& p, C* row_loss, C* grad);
template <typename C>
void matrix_loss_rows_cuda(const C* m, int64_t d, const MatrixLossParams& p, C* row_loss, C* grad,
                           cudaStream_t stream);

// VICReg's invariance: row_loss[r] = scale sum_j (a - b)^2, da = 2 scale (a - b), db = -da.
//   a, b, da, db: (n, d) C;  row_loss: (n) C
template <typename C>
void squared_difference_rows_cpu(const C* a, const C* b, int64_t n, int64_t d, double scale,
                                 C* row_loss, C* da, C* db);
template <typename C>
void squared_difference_rows_cuda(const C* a, const C* b, int64_t n, int64_t d, double scale,
                                  C* row_loss, C* da, C* db, cudaStream_t stream);

}  // namespace lumen::kernels
