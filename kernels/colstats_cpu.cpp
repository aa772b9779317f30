#include <algorithm>

#include "kernels/colstats.h"

namespace lumen::kernels {

namespace {

constexpr int64_t kColumnChunk = 64;

// fn(c0, c1) for every chunk [c0, c1) of at most kColumnChunk columns, in parallel; each chunk
// reads its columns row after row, so every column is summed in row order.
template <typename Fn>
void for_column_chunks(int64_t rows, int64_t cols, const Fn& fn) {
  const int64_t chunks = (cols + kColumnChunk - 1) / kColumnChunk;
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t k = 0; k < chunks; ++k) {
    fn(k * kColumnChunk, std::min(cols, (k + 1) * kColumnChunk));
  }
}

}  // namespace

template <typename T>
void column_stats_cpu(const T* x, int64_t rows, int64_t cols, int correction, compute_t<T>* mean,
                      compute_t<T>* var) {
  using C = compute_t<T>;
  for_column_chunks(rows, cols, [&](int64_t c0, int64_t c1) {
    double sum[kColumnChunk] = {}, m[kColumnChunk], centered[kColumnChunk] = {};
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = c0; c < c1; ++c) sum[c - c0] += double(load(x[r * cols + c]));
    }
    for (int64_t c = c0; c < c1; ++c) {
      m[c - c0] = sum[c - c0] / double(rows);
      mean[c] = C(m[c - c0]);
    }
    if (!var) return;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        const double d = double(load(x[r * cols + c])) - m[c - c0];
        centered[c - c0] += d * d;
      }
    }
    const double divisor = column_var_divisor<double>(rows, correction);
    for (int64_t c = c0; c < c1; ++c) var[c] = C(centered[c - c0] / divisor);
  });
}

template <typename T>
void column_stats_backward_cpu(const T* x, int64_t rows, int64_t cols, int correction,
                               const compute_t<T>* mean, const compute_t<T>* dmean,
                               const compute_t<T>* dvar, T* dx) {
  using C = compute_t<T>;
  const C inv_rows = C(1) / C(rows), divisor = column_var_divisor<C>(rows, correction);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      dx[i] = store<T>(column_stats_grad_elem(C(load(x[i])), mean[c], dmean ? dmean[c] : C(0),
                                              dvar ? dvar[c] : C(0), inv_rows, divisor));
    }
  }
}

template <typename C>
void column_sums_cpu(const C* x, int64_t rows, int64_t cols, C* sums) {
  for_column_chunks(rows, cols, [&](int64_t c0, int64_t c1) {
    double s[kColumnChunk] = {};
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = c0; c < c1; ++c) s[c - c0] += double(x[r * cols + c]);
    }
    for (int64_t c = c0; c < c1; ++c) sums[c] = C(s[c - c0]);
  });
}

template <typename C>
void column_max_cpu(const C* x, int64_t rows, int64_t cols, C* max) {
  for_column_chunks(rows, cols, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) max[c] = rows > 0 ? x[c] : C(-INFINITY);
    for (int64_t r = 1; r < rows; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        const C v = x[r * cols + c];
        if (v > max[c] || v != v) max[c] = v;  // NaN wins (a NaN max is never replaced)
      }
    }
  });
}

template <typename C>
void subtract_columns_cpu(const C* x, const C* v, int64_t rows, int64_t cols, C* y) {
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = x[r * cols + c] - v[c];
  }
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void column_stats_cpu<T>(const T*, int64_t, int64_t, int, compute_t<T>*,                \
                                    compute_t<T>*);                                                \
  template void column_stats_backward_cpu<T>(const T*, int64_t, int64_t, int, const compute_t<T>*, \
                                             const compute_t<T>*, const compute_t<T>*, T*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)
#undef LUMEN_INSTANTIATE

#define LUMEN_INSTANTIATE(C)                                        \
  template void column_sums_cpu<C>(const C*, int64_t, int64_t, C*); \
  template void column_max_cpu<C>(const C*, int64_t, int64_t, C*);  \
  template void subtract_columns_cpu<C>(const C*, const C*, int64_t, int64_t, C*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)

}  // namespace lumen::kernels
