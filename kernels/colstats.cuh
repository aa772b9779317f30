// Per-column statistics of (rows, cols) row-major matrices (reductions over the batch dim), shared
// by the CPU loops and the CUDA kernels of kernels/colstats.h. A is the accumulation type: the CPU
// sums in double, the GPU in compute_t<T> (as the batch-norm kernels do).
//   mean = sum_r x[r, c] / rows
//   var  = sum_r (x[r, c] - mean)^2 / (rows - correction)    two passes, as torch.var(dim=0):
//          correction 1 is the unbiased estimate; rows <= correction divides by 0 (inf or NaN,
//          as torch)
//   backward: dx = dmean / rows + dvar * 2 (x - mean) / (rows - correction)
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename A>
LUMEN_HD A column_var_divisor(int64_t rows, int correction) {
  return rows > correction ? A(rows - correction) : A(0);
}

template <typename C>
LUMEN_HD C column_stats_grad_elem(C x, C mean, C dmean, C dvar, C inv_rows, C var_divisor) {
  return dmean * inv_rows + dvar * C(2) * (x - mean) / var_divisor;
}

#if defined(__CUDACC__)
// Column reductions on the GPU: a block of (kColumnTile, kColumnLanes) threads owns kColumnTile
// adjacent columns; thread (tx, ty) reads column blockIdx.x * kColumnTile + tx at rows ty,
// ty + kColumnLanes, ... (adjacent threads read adjacent addresses), and the lanes' partial
// results are combined in lane order, so the result never depends on timing.
constexpr int kColumnTile = 32, kColumnLanes = 16;

// Every thread of a column receives op-reduction of the column's lane values. scratch: shared
// [kColumnLanes][kColumnTile + 1].
template <typename C, typename Op>
__device__ C column_lanes_reduce(C v, Op op, C (*scratch)[kColumnTile + 1]) {
  scratch[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y == 0) {
    C r = scratch[0][threadIdx.x];
    for (int k = 1; k < kColumnLanes; ++k) r = op(r, scratch[k][threadIdx.x]);
    scratch[0][threadIdx.x] = r;
  }
  __syncthreads();
  const C out = scratch[0][threadIdx.x];
  __syncthreads();  // scratch may be reused at once
  return out;
}

struct ColumnSumOp {
  template <typename C>
  __device__ C operator()(C a, C b) const {
    return a + b;
  }
};
// NaN wins, as torch.max.
struct ColumnMaxOp {
  template <typename C>
  __device__ C operator()(C a, C b) const {
    return (a > b || a != a) ? a : b;
  }
};
#endif

}  // namespace lumen::kernels
