// DCL / DCLW loss kernels (lightly's DCLLoss and DCLWLoss; see dcl.cuh for the math). As NT-Xent's,
// the row losses and the gradient of the similarity matrix come out of one pass written over the
// similarities. C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/dcl.cuh"

namespace lumen::kernels {

// In place.
//   sim:      (2n, cols) C  in: cosine similarities of this rank's 2n anchors [view 0; view 1]
//                               with all gathered columns; out: d(grad_scale * sum_r loss_r)/d sim
//   weights:  (n) C or null  the positive weight of pair i (rows i and n + i); null: all 1
//   row_loss: (2n) C
//   col_offset: first column of this rank's own block (rank * 2n); cols >= col_offset + 2n
template <typename C>
void dcl_rows_cpu(C* sim, const C* weights, C* row_loss, int64_t n, int64_t cols,
                  int64_t col_offset, double inv_temperature, double grad_scale);
template <typename C>
void dcl_rows_cuda(C* sim, const C* weights, C* row_loss, int64_t n, int64_t cols,
                   int64_t col_offset, double inv_temperature, double grad_scale,
                   cudaStream_t stream);

// DCLW's weights from the positive similarities sim[i, col_offset + n + i] (i < n), read before
// dcl_rows overwrites them:  weights: (n) C = 2 - n softmax_i(sim_i,pos / sigma)
template <typename C>
void dcl_vmf_weights_cpu(const C* sim, C* weights, int64_t n, int64_t cols, int64_t col_offset,
                         double inv_sigma);
template <typename C>
void dcl_vmf_weights_cuda(const C* sim, C* weights, int64_t n, int64_t cols, int64_t col_offset,
                          double inv_sigma, cudaStream_t stream);

}  // namespace lumen::kernels
