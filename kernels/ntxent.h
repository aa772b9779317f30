// NT-Xent loss kernels (lightly's NTXentLoss; see ntxent.cuh for the math). The loss and the
// gradient of the similarity matrix come out of one pass, written over the similarities, so no
// more than the similarity matrix is ever held. C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/ntxent.cuh"

namespace lumen::kernels {

// Plain (and gathered) mode, in place.
//   sim:      (2n, cols) C  in: cosine similarities of this rank's 2n anchors [view 0; view 1]
//                               with all gathered columns; out: d(grad_scale * sum_r loss_r)/d sim
//   row_loss: (2n) C        cross-entropy of each anchor row
//   col_offset: first column of this rank's own block (rank * 2n); cols >= col_offset + 2n
template <typename C>
void ntxent_rows_cpu(C* sim, C* row_loss, int64_t n, int64_t cols, int64_t col_offset,
                     double inv_temperature, double grad_scale);
template <typename C>
void ntxent_rows_cuda(C* sim, C* row_loss, int64_t n, int64_t cols, int64_t col_offset,
                      double inv_temperature, double grad_scale, cudaStream_t stream);

// Memory-bank mode, in place.
//   z0, z1:   (n, dim) C   normalised views; the positive logit of row r is <z0_r, z1_r> / t
//   sim_neg:  (n, bank) C  in: z0 @ bank^T; out: d(grad_scale * sum_r loss_r) / d sim_neg
//   pos_grad: (n) C        out: d(grad_scale * sum_r loss_r) / d <z0_r, z1_r>
//   row_loss: (n) C
template <typename C>
void ntxent_bank_rows_cpu(const C* z0, const C* z1, C* sim_neg, C* pos_grad, C* row_loss, int64_t n,
                          int64_t dim, int64_t bank, double inv_temperature, double grad_scale);
template <typename C>
void ntxent_bank_rows_cuda(const C* z0, const C* z1, C* sim_neg, C* pos_grad, C* row_loss,
                           int64_t n, int64_t dim, int64_t bank, double inv_temperature,
                           double grad_scale, cudaStream_t stream);

// The positive pair's share of the gradients: dz0 += pos_grad_r * z1_r; dz1 = pos_grad_r * z0_r
//   z0, z1, dz0, dz1: (n, dim) C; pos_grad: (n) C
template <typename C>
void ntxent_positive_backward_cpu(const C* z0, const C* z1, const C* pos_grad, C* dz0, C* dz1,
                                  int64_t n, int64_t dim);
template <typename C>
void ntxent_positive_backward_cuda(const C* z0, const C* z1, const C* pos_grad, C* dz0, C* dz1,
                                   int64_t n, int64_t dim, cudaStream_t stream);

}  // namespace lumen::kernels
