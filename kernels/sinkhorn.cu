#include "kernels/colstats.h"
#include "kernels/launch.cuh"
#include "kernels/sinkhorn.h"

namespace lumen::kernels {

constexpr int kSinkhornRowBlock = 256;  // one block per row

// Column tiles as in kernels/colstats.cuh: the exp written and each column's sum reduced in lane
// order.
template <typename C>
__global__ void sinkhorn_exp_kernel(const C* x, const C* shift, C epsilon, int64_t rows, int64_t k,
                                    C* p, C* colsum) {
  __shared__ C scratch[kColumnLanes][kColumnTile + 1];
  const int64_t j = int64_t(blockIdx.x) * kColumnTile + threadIdx.x;
  C s = 0;
  if (j < k) {
    const C m = shift[j];
    for (int64_t b = threadIdx.y; b < rows; b += kColumnLanes) {
      const C e = sinkhorn_exp_elem(x[b * k + j], m, epsilon);
      p[b * k + j] = e;
      s += e;
    }
  }
  s = column_lanes_reduce(s, ColumnSumOp{}, scratch);
  if (j < k && threadIdx.y == 0) colsum[j] = s;
}

template <typename C>
__global__ void sinkhorn_rows_kernel(C* p, const C* colsum, int64_t k) {
  __shared__ C scratch[32];
  C* pb = p + int64_t(blockIdx.x) * k;
  C s = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    const C q = pb[j] / colsum[j];
    pb[j] = q;
    s += q;
  }
  s = block_sum(s, scratch);
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) pb[j] /= s;
}

template <typename C>
void sinkhorn_exp_cuda(const C* x, const C* shift, double epsilon, int64_t rows, int64_t k, C* p,
                       C* colsum, cudaStream_t stream) {
  if (k == 0) return;
  const unsigned grid = unsigned((k + kColumnTile - 1) / kColumnTile);
  sinkhorn_exp_kernel<<<grid, dim3(kColumnTile, kColumnLanes), 0, stream>>>(x, shift, C(epsilon),
                                                                            rows, k, p, colsum);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void sinkhorn_rows_cuda(C* p, const C* colsum, int64_t rows, int64_t k, cudaStream_t stream) {
  if (rows == 0) return;
  sinkhorn_rows_kernel<<<unsigned(rows), kSinkhornRowBlock, 0, stream>>>(p, colsum, k);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(C)                                                               \
  template void sinkhorn_exp_cuda<C>(const C*, const C*, double, int64_t, int64_t, C*, C*, \
                                     cudaStream_t);                                        \
  template void sinkhorn_rows_cuda<C>(C*, const C*, int64_t, int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
