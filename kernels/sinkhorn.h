// Sinkhorn-Knopp kernels of lightly's sinkhorn (see kernels/sinkhorn.cuh for the math); C is
// float or double (the compute dtype). The column sums between the two passes come from
// kernels/colstats.h (column_sums), so that an all-reduce can sit between them.
#pragma once

#include <cstdint>

#include "kernels/sinkhorn.cuh"

namespace lumen::kernels {

// p = exp((x - shift[k]) / epsilon) and colsum[k] = sum_b p[b, k]
//   x, p: (rows, k) C;  shift, colsum: (k) C
template <typename C>
void sinkhorn_exp_cpu(const C* x, const C* shift, double epsilon, int64_t rows, int64_t k, C* p,
                      C* colsum);
template <typename C>
void sinkhorn_exp_cuda(const C* x, const C* shift, double epsilon, int64_t rows, int64_t k, C* p,
                       C* colsum, cudaStream_t stream);

// In place: p[b, j] /= colsum[j], then p[b, :] /= its sum      p: (rows, k) C; colsum: (k) C
template <typename C>
void sinkhorn_rows_cpu(C* p, const C* colsum, int64_t rows, int64_t k);
template <typename C>
void sinkhorn_rows_cuda(C* p, const C* colsum, int64_t rows, int64_t k, cudaStream_t stream);

}  // namespace lumen::kernels
