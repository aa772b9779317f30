#include "kernels/colstats.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

namespace {
dim3 column_block() { return dim3(kColumnTile, kColumnLanes); }
unsigned column_grid(int64_t cols) { return unsigned((cols + kColumnTile - 1) / kColumnTile); }
}  // namespace

template <typename T>
__global__ void column_stats_kernel(const T* x, int64_t rows, int64_t cols, int correction,
                                    compute_t<T>* mean, compute_t<T>* var) {
  using C = compute_t<T>;
  __shared__ C scratch[kColumnLanes][kColumnTile + 1];
  const int64_t c = int64_t(blockIdx.x) * kColumnTile + threadIdx.x;
  const bool valid = c < cols;
  C s = 0;
  if (valid) {
    for (int64_t r = threadIdx.y; r < rows; r += kColumnLanes) s += C(load(x[r * cols + c]));
  }
  const C m = column_lanes_reduce(s, ColumnSumOp{}, scratch) / C(rows);
  C q = 0;
  if (var) {  // the same for the whole block
    if (valid) {
      for (int64_t r = threadIdx.y; r < rows; r += kColumnLanes) {
        const C d = C(load(x[r * cols + c])) - m;
        q += d * d;
      }
    }
    q = column_lanes_reduce(q, ColumnSumOp{}, scratch);
  }
  if (valid && threadIdx.y == 0) {
    mean[c] = m;
    if (var) var[c] = q / column_var_divisor<C>(rows, correction);
  }
}

template <typename T>
__global__ void column_stats_backward_kernel(const T* x, int64_t rows, int64_t cols,
                                             const compute_t<T>* mean, const compute_t<T>* dmean,
                                             const compute_t<T>* dvar, compute_t<T> inv_rows,
                                             compute_t<T> divisor, T* dx) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(i, rows * cols) {
    const int64_t c = i % cols;
    dx[i] = store<T>(column_stats_grad_elem(C(load(x[i])), mean[c], dmean ? dmean[c] : C(0),
                                            dvar ? dvar[c] : C(0), inv_rows, divisor));
  }
}

template <typename C, typename Op>
__global__ void column_reduce_kernel(const C* x, int64_t rows, int64_t cols, C init, Op op,
                                     C* out) {
  __shared__ C scratch[kColumnLanes][kColumnTile + 1];
  const int64_t c = int64_t(blockIdx.x) * kColumnTile + threadIdx.x;
  C v = init;
  if (c < cols) {
    for (int64_t r = threadIdx.y; r < rows; r += kColumnLanes) v = op(v, x[r * cols + c]);
  }
  v = column_lanes_reduce(v, op, scratch);
  if (c < cols && threadIdx.y == 0) out[c] = v;
}

template <typename C>
__global__ void subtract_columns_kernel(const C* x, const C* v, int64_t rows, int64_t cols, C* y) {
  LUMEN_GRID_STRIDE(i, rows * cols) y[i] = x[i] - v[i % cols];
}

template <typename T>
void column_stats_cuda(const T* x, int64_t rows, int64_t cols, int correction, compute_t<T>* mean,
                       compute_t<T>* var, cudaStream_t stream) {
  if (cols == 0) return;
  column_stats_kernel<<<column_grid(cols), column_block(), 0, stream>>>(x, rows, cols, correction,
                                                                        mean, var);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void column_stats_backward_cuda(const T* x, int64_t rows, int64_t cols, int correction,
                                const compute_t<T>* mean, const compute_t<T>* dmean,
                                const compute_t<T>* dvar, T* dx, cudaStream_t stream) {
  using C = compute_t<T>;
  if (rows * cols == 0) return;
  column_stats_backward_kernel<<<grid_for(rows * cols), kBlock, 0, stream>>>(
      x, rows, cols, mean, dmean, dvar, C(1) / C(rows), column_var_divisor<C>(rows, correction),
      dx);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void column_sums_cuda(const C* x, int64_t rows, int64_t cols, C* sums, cudaStream_t stream) {
  if (cols == 0) return;
  column_reduce_kernel<<<column_grid(cols), column_block(), 0, stream>>>(x, rows, cols, C(0),
                                                                         ColumnSumOp{}, sums);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void column_max_cuda(const C* x, int64_t rows, int64_t cols, C* max, cudaStream_t stream) {
  if (cols == 0) return;
  column_reduce_kernel<<<column_grid(cols), column_block(), 0, stream>>>(
      x, rows, cols, C(-INFINITY), ColumnMaxOp{}, max);
  LUMEN_LAUNCH_CHECK();
}

template <typename C>
void subtract_columns_cuda(const C* x, const C* v, int64_t rows, int64_t cols, C* y,
                           cudaStream_t stream) {
  if (rows * cols == 0) return;
  subtract_columns_kernel<<<grid_for(rows * cols), kBlock, 0, stream>>>(x, v, rows, cols, y);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                            \
  template void column_stats_cuda<T>(const T*, int64_t, int64_t, int, compute_t<T>*,    \
                                     compute_t<T>*, cudaStream_t);                      \
  template void column_stats_backward_cuda<T>(const T*, int64_t, int64_t, int,          \
                                              const compute_t<T>*, const compute_t<T>*, \
                                              const compute_t<T>*, T*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)
#undef LUMEN_INSTANTIATE

#define LUMEN_INSTANTIATE(C)                                                       \
  template void column_sums_cuda<C>(const C*, int64_t, int64_t, C*, cudaStream_t); \
  template void column_max_cuda<C>(const C*, int64_t, int64_t, C*, cudaStream_t);  \
  template void subtract_columns_cuda<C>(const C*, const C*, int64_t, int64_t, C*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
