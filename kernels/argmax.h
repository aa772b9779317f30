// Row argmax (see argmax.cuh for the rule), e.g. of a similarity matrix: the nearest neighbour
// lookup of NNCLR's memory bank. C in {float, double}.
#pragma once

#include <cstdint>

#include "kernels/argmax.cuh"

namespace lumen::kernels {

// x: (rows, cols) C with cols > 0; index: (rows) i64, the column of each row's maximum
template <typename C>
void row_argmax_cpu(const C* x, int64_t rows, int64_t cols, int64_t* index);
template <typename C>
void row_argmax_cuda(const C* x, int64_t rows, int64_t cols, int64_t* index, cudaStream_t stream);

}  // namespace lumen::kernels
