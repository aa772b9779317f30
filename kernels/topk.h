// Row top-k: the k largest entries of each row of a matrix, e.g. of a block of similarities, best
// first in the order of topk.cuh. C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/topk.cuh"

namespace lumen::kernels {

// The most k the CUDA kernel selects per row (its candidates are sorted in shared memory).
constexpr int64_t kMaxCudaTopk = 1024;

// x: (rows, cols) C; exclude: (rows) i64, a column left out of each row (-1: none), or null;
// k >= 1 and at most the columns left (cols, or cols - 1 where a row excludes one; CUDA: also at
// most kMaxCudaTopk). values: (rows, k) C, indices: (rows, k) i64, best first.
template <typename C>
void row_topk_cpu(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                  C* values, int64_t* indices);
// CPU, a row in pieces: x holds columns [base, base + cols) of longer rows. Folds them into per-row
// heaps values, indices (rows, k) that hold sizes[r] entries so far (start from 0), worst first,
// with absolute columns (exclude too); pieces must come in increasing base. Then
// row_topk_finish_cpu sorts each full heap best first: the top-k of the whole rows.
template <typename C>
void row_topk_fold_cpu(const C* x, int64_t rows, int64_t cols, int64_t base, int64_t k,
                       const int64_t* exclude, C* values, int64_t* indices, int64_t* sizes);
template <typename C>
void row_topk_finish_cpu(int64_t rows, int64_t k, C* values, int64_t* indices);
template <typename C>
void row_topk_cuda(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                   C* values, int64_t* indices, cudaStream_t stream);

}  // namespace lumen::kernels
