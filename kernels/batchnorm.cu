// Batch norm on the GPU with our own kernels (cuDNN's legacy batch-norm calls want NCHW-packed
// per-channel parameters of the activation dtype's family and offer no bf16 NHWC backward without
// the graph API; these kernels keep statistics and parameters in f32 for every activation dtype).
// Per-channel sums over (M, C) are two-level and deterministic: blocks of 32 channels x 8 rows
// write partial sums, a second kernel adds them in a fixed order.
#include <cuda_runtime.h>

#include "kernels/batchnorm.cuh"
#include "kernels/batchnorm.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

namespace {

constexpr int kTileC = 32, kTileR = 8;

enum class SumKind { value, centered_square, dy_and_dy_centered };

// partial[g * c + j] (and partial2 for dy_and_dy_centered) = the sum over rows r of row group g.
template <typename T, SumKind kKind>
__global__ void channel_partial_sums(const T* x, const T* dy, int64_t m, int64_t c,
                                     const compute_t<T>* mean, compute_t<T>* partial,
                                     compute_t<T>* partial2) {
  using C = compute_t<T>;
  __shared__ C tile[kTileR][kTileC + 1];
  __shared__ C tile2[kTileR][kTileC + 1];
  const int64_t j = int64_t(blockIdx.x) * kTileC + threadIdx.x;
  C acc = 0, acc2 = 0;
  if (j < c) {
    const C mu = kKind == SumKind::value ? C(0) : mean[j];
    for (int64_t r = int64_t(blockIdx.y) * kTileR + threadIdx.y; r < m;
         r += int64_t(gridDim.y) * kTileR) {
      const C v = C(load(x[r * c + j]));
      if (kKind == SumKind::value) {
        acc += v;
      } else if (kKind == SumKind::centered_square) {
        acc += batchnorm_centered_square(v, mu);
      } else {
        const C g = C(load(dy[r * c + j]));
        acc += g;
        acc2 += batchnorm_dy_centered(g, v, mu);
      }
    }
  }
  tile[threadIdx.y][threadIdx.x] = acc;
  tile2[threadIdx.y][threadIdx.x] = acc2;
  __syncthreads();
  if (threadIdx.y == 0 && j < c) {
    C s = 0, s2 = 0;
    for (int k = 0; k < kTileR; ++k) s += tile[k][threadIdx.x], s2 += tile2[k][threadIdx.x];
    partial[int64_t(blockIdx.y) * c + j] = s;
    if (kKind == SumKind::dy_and_dy_centered) partial2[int64_t(blockIdx.y) * c + j] = s2;
  }
}

template <typename C>
__global__ void finish_mean(const C* partial, int groups, int64_t m, int64_t c, C* mean) {
  LUMEN_GRID_STRIDE(j, c) {
    C s = 0;
    for (int g = 0; g < groups; ++g) s += partial[g * c + j];
    mean[j] = s / C(m);
  }
}

template <typename C>
__global__ void finish_variance(const C* partial, int groups, int64_t m, int64_t c, C eps,
                                C momentum, const C* mean, C* invstd, C* running_mean,
                                C* running_var) {
  LUMEN_GRID_STRIDE(j, c) {
    C s = 0;
    for (int g = 0; g < groups; ++g) s += partial[g * c + j];
    const C var = s / C(m);
    invstd[j] = batchnorm_invstd(var, eps);
    if (running_mean != nullptr) {
      const C unbiased = batchnorm_unbiased_var(s, m);
      running_mean[j] = batchnorm_running_update(running_mean[j], mean[j], momentum);
      running_var[j] = batchnorm_running_update(running_var[j], unbiased, momentum);
    }
  }
}

template <typename C>
__global__ void finish_backward_sums(const C* partial, const C* partial2, int groups, int64_t c,
                                     const C* invstd, C* sum_dy, C* sum_dy_xhat) {
  LUMEN_GRID_STRIDE(j, c) {
    C s = 0, s2 = 0;
    for (int g = 0; g < groups; ++g) s += partial[g * c + j], s2 += partial2[g * c + j];
    sum_dy[j] = s;
    sum_dy_xhat[j] = s2 * invstd[j];
  }
}

template <typename C>
__global__ void running_stats_kernel(const C* running_mean, const C* running_var, int64_t c, C eps,
                                     C* mean, C* invstd) {
  LUMEN_GRID_STRIDE(j, c) {
    mean[j] = running_mean[j];
    invstd[j] = batchnorm_invstd(running_var[j], eps);
  }
}

template <typename T>
__global__ void forward_kernel(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                               const compute_t<T>* invstd, const compute_t<T>* weight,
                               const compute_t<T>* bias, T* y) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(i, m * c) {
    const int64_t j = i % c;
    const C w = batchnorm_weight(weight, j), b = batchnorm_bias(bias, j);
    y[i] = store<T>(batchnorm_xhat(C(load(x[i])), mean[j], invstd[j]) * w + b);
  }
}

template <typename T>
__global__ void backward_input_kernel(const T* dy, const T* x, int64_t m, int64_t c,
                                      const compute_t<T>* mean, const compute_t<T>* invstd,
                                      const compute_t<T>* weight, const compute_t<T>* sum_dy,
                                      const compute_t<T>* sum_dy_xhat, bool training, T* dx) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(i, m * c) {
    const int64_t j = i % c;
    const C k = batchnorm_weight(weight, j) * invstd[j];
    const C g = C(load(dy[i]));
    if (training) {
      const C xhat = batchnorm_xhat(C(load(x[i])), mean[j], invstd[j]);
      dx[i] = store<T>(k * (g - sum_dy[j] / C(m) - xhat * sum_dy_xhat[j] / C(m)));
    } else {
      dx[i] = store<T>(k * g);
    }
  }
}

// Row groups: enough blocks to fill the GPU, at least 32 rows per thread row.
int row_groups(int64_t m) {
  const int64_t g = (m + kTileR * 32 - 1) / (kTileR * 32);
  return int(g < 1 ? 1 : (g > 256 ? 256 : g));
}

// Stream-ordered scratch for the partial sums (from the device's memory pool).
template <typename C>
C* scratch(int64_t count, cudaStream_t stream) {
  void* p = nullptr;
  LUMEN_CUDA_CHECK(cudaMallocAsync(&p, size_t(count) * sizeof(C), stream));
  return static_cast<C*>(p);
}

}  // namespace

template <typename T>
void batchnorm_stats_cuda(const T* x, int64_t m, int64_t c, double eps, double momentum,
                          compute_t<T>* mean, compute_t<T>* invstd, compute_t<T>* running_mean,
                          compute_t<T>* running_var, cudaStream_t stream) {
  using C = compute_t<T>;
  if (m == 0 || c == 0) return;
  const int groups = row_groups(m);
  const dim3 block(kTileC, kTileR), grid(unsigned((c + kTileC - 1) / kTileC), unsigned(groups));
  C* partial = scratch<C>(groups * c, stream);
  channel_partial_sums<T, SumKind::value>
      <<<grid, block, 0, stream>>>(x, nullptr, m, c, nullptr, partial, nullptr);
  LUMEN_LAUNCH_CHECK();
  finish_mean<<<grid_for(c), kBlock, 0, stream>>>(partial, groups, m, c, mean);
  LUMEN_LAUNCH_CHECK();
  channel_partial_sums<T, SumKind::centered_square>
      <<<grid, block, 0, stream>>>(x, nullptr, m, c, mean, partial, nullptr);
  LUMEN_LAUNCH_CHECK();
  finish_variance<<<grid_for(c), kBlock, 0, stream>>>(partial, groups, m, c, C(eps), C(momentum),
                                                      mean, invstd, running_mean, running_var);
  LUMEN_LAUNCH_CHECK();
  LUMEN_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

template <typename T>
void batchnorm_running_stats_cuda(const compute_t<T>* running_mean, const compute_t<T>* running_var,
                                  int64_t c, double eps, compute_t<T>* mean, compute_t<T>* invstd,
                                  cudaStream_t stream) {
  if (c == 0) return;
  running_stats_kernel<<<grid_for(c), kBlock, 0, stream>>>(running_mean, running_var, c,
                                                           compute_t<T>(eps), mean, invstd);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void batchnorm_forward_cuda(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                            const compute_t<T>* invstd, const compute_t<T>* weight,
                            const compute_t<T>* bias, T* y, cudaStream_t stream) {
  if (m * c == 0) return;
  forward_kernel<<<grid_for(m * c), kBlock, 0, stream>>>(x, m, c, mean, invstd, weight, bias, y);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void batchnorm_backward_reduce_cuda(const T* dy, const T* x, int64_t m, int64_t c,
                                    const compute_t<T>* mean, const compute_t<T>* invstd,
                                    compute_t<T>* sum_dy, compute_t<T>* sum_dy_xhat,
                                    cudaStream_t stream) {
  using C = compute_t<T>;
  if (m == 0 || c == 0) return;
  const int groups = row_groups(m);
  const dim3 block(kTileC, kTileR), grid(unsigned((c + kTileC - 1) / kTileC), unsigned(groups));
  C* partial = scratch<C>(2 * groups * c, stream);
  channel_partial_sums<T, SumKind::dy_and_dy_centered>
      <<<grid, block, 0, stream>>>(x, dy, m, c, mean, partial, partial + groups * c);
  LUMEN_LAUNCH_CHECK();
  finish_backward_sums<<<grid_for(c), kBlock, 0, stream>>>(partial, partial + groups * c, groups, c,
                                                           invstd, sum_dy, sum_dy_xhat);
  LUMEN_LAUNCH_CHECK();
  LUMEN_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

template <typename T>
void batchnorm_backward_input_cuda(const T* dy, const T* x, int64_t m, int64_t c,
                                   const compute_t<T>* mean, const compute_t<T>* invstd,
                                   const compute_t<T>* weight, const compute_t<T>* sum_dy,
                                   const compute_t<T>* sum_dy_xhat, bool training, T* dx,
                                   cudaStream_t stream) {
  if (m * c == 0) return;
  backward_input_kernel<<<grid_for(m * c), kBlock, 0, stream>>>(dy, x, m, c, mean, invstd, weight,
                                                                sum_dy, sum_dy_xhat, training, dx);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void batchnorm_stats_cuda<T>(const T*, int64_t, int64_t, double, double, compute_t<T>*, \
                                        compute_t<T>*, compute_t<T>*, compute_t<T>*,               \
                                        cudaStream_t);                                             \
  template void batchnorm_running_stats_cuda<T>(const compute_t<T>*, const compute_t<T>*, int64_t, \
                                                double, compute_t<T>*, compute_t<T>*,              \
                                                cudaStream_t);                                     \
  template void batchnorm_forward_cuda<T>(const T*, int64_t, int64_t, const compute_t<T>*,         \
                                          const compute_t<T>*, const compute_t<T>*,                \
                                          const compute_t<T>*, T*, cudaStream_t);                  \
  template void batchnorm_backward_reduce_cuda<T>(const T*, const T*, int64_t, int64_t,            \
                                                  const compute_t<T>*, const compute_t<T>*,        \
                                                  compute_t<T>*, compute_t<T>*, cudaStream_t);     \
  template void batchnorm_backward_input_cuda<T>(                                                  \
      const T*, const T*, int64_t, int64_t, const compute_t<T>*, const compute_t<T>*,              \
      const compute_t<T>*, const compute_t<T>*, const compute_t<T>*, bool, T*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
