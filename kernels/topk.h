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
template <typename C>
void row_topk_cuda(const C* x, int64_t rows, int64_t cols, int64_t k, const int64_t* exclude,
                   C* values, int64_t* indices, cudaStream_t stream);

}  // namespace lumen::kernels
