// Batch norm on the GPU with our own kernels (cuDNN's legacy batch-norm calls want NCHW-packed
// per-channel parameters of the activation dtype's family and offer no bf16 NHWC backward without
// the graph API; these kernels keep statistics and parameters in f32 for every activation dtype).
// Every pass over the (M, C) activations moves 16-byte vectors of channels (kVec<T> of them) when C
// and the pointers allow it. Per-channel sums are two-level and deterministic: blocks over a
// range of rows write partial sums, a second kernel adds them in a fixed order. The batch
// statistics take one pass (shifted sums, batchnorm.cuh). The ReLU and the residual add of a ResNet
// block are fused into the forward pass and its backward.
#include <cuda_runtime.h>

#include <algorithm>

#include "kernels/batchnorm.cuh"
#include "kernels/batchnorm.h"
#include "kernels/launch.cuh"
#include "kernels/vec.cuh"

namespace lumen::kernels {

namespace {

// shifted: s1 = sum (x - K), s2 = sum (x - K)^2 with K = x[0, j]; grad: sum g, sum g * (x - mean)
enum class SumKind { shifted, grad };

// The layout of a channel-sum launch: each thread owns V consecutive channels (a "channel group")
// and walks rows; a block holds `lanes_c` channel groups x `lanes_r` row lanes and covers the rows
// [blockIdx.y * rows_per_block, ...). partial[blockIdx.y * c + j] receives the block's sum.
struct SumPlan {
  int v = 1;        // channels per thread (vector width)
  int lanes_c = 1;  // channel groups per block
  int lanes_r = 1;  // row lanes per block
  int64_t rows_per_block = 1;
  dim3 grid;
  int groups() const { return int(grid.y); }
};

// The gradient reaching the normalisation (batchnorm.h): dy, masked by a fused ReLU's output.
template <typename C, typename T>
__device__ __forceinline__ C reaching_grad(T dy, const T* y_relu, T y) {
  return y_relu != nullptr ? batchnorm_relu_grad(C(load(dy)), C(load(y))) : C(load(dy));
}

template <typename T, int V, SumKind kKind>
__global__ void channel_partial_sums(const T* x, const T* dy, const T* y_relu, int64_t m, int64_t c,
                                     int lanes_c, int64_t rows_per_block, const compute_t<T>* mean,
                                     compute_t<T>* partial, compute_t<T>* partial2, T* g_out) {
  using C = compute_t<T>;
  extern __shared__ unsigned char shared_raw[];
  C* tile = reinterpret_cast<C*>(shared_raw);  // (lanes_r, lanes_c, V)
  C* tile2 = tile + blockDim.x * V;
  const int lanes_r = int(blockDim.x) / lanes_c;
  const int lane_c = int(threadIdx.x) % lanes_c, lane_r = int(threadIdx.x) / lanes_c;
  const int64_t j0 = (int64_t(blockIdx.x) * lanes_c + lane_c) * V;
  const bool active = lane_r < lanes_r && j0 < c;
  C acc[V], acc2[V], mu[V];
#pragma unroll
  for (int k = 0; k < V; ++k) acc[k] = acc2[k] = mu[k] = C(0);
  if (active) {
    // The centre of the sums: the first row's values, or the batch mean.
#pragma unroll
    for (int k = 0; k < V; ++k)
      mu[k] = kKind == SumKind::shifted ? C(load(x[j0 + k])) : mean[j0 + k];
    const int64_t r_begin = int64_t(blockIdx.y) * rows_per_block;
    const int64_t r_end = r_begin + rows_per_block < m ? r_begin + rows_per_block : m;
    for (int64_t r = r_begin + lane_r; r < r_end; r += lanes_r) {
      const int64_t i = r * c + j0;
      const Vec<T, V> xv = load_vec<V>(x + i);
      if (kKind == SumKind::shifted) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
          const C d = C(load(xv.v[k])) - mu[k];
          acc[k] += d;
          acc2[k] += d * d;
        }
      } else {
        const Vec<T, V> dv = load_vec<V>(dy + i);
        const Vec<T, V> yv = load_vec_or(y_relu, i, dv);
        Vec<T, V> gv;
#pragma unroll
        for (int k = 0; k < V; ++k) {
          const C g = reaching_grad<C>(dv.v[k], y_relu, yv.v[k]);
          gv.v[k] = store<T>(g);
          acc[k] += g;
          acc2[k] += batchnorm_dy_centered(g, C(load(xv.v[k])), mu[k]);
        }
        if (g_out != nullptr) store_vec<V>(g_out + i, gv);
      }
    }
  }
  if (lane_r < lanes_r) {
#pragma unroll
    for (int k = 0; k < V; ++k) {
      tile[(lane_r * lanes_c + lane_c) * V + k] = acc[k];
      tile2[(lane_r * lanes_c + lane_c) * V + k] = acc2[k];
    }
  }
  __syncthreads();
  if (lane_r == 0 && j0 < c) {
#pragma unroll
    for (int k = 0; k < V; ++k) {
      C s = 0, s2 = 0;
      for (int r = 0; r < lanes_r; ++r) {
        s += tile[(r * lanes_c + lane_c) * V + k];
        s2 += tile2[(r * lanes_c + lane_c) * V + k];
      }
      partial[int64_t(blockIdx.y) * c + j0 + k] = s;
      partial2[int64_t(blockIdx.y) * c + j0 + k] = s2;
    }
  }
}

// Sums the partials of channel j over the row groups: a block of 32 channels x kFinishG group
// lanes, each lane keeping four independent sums so that four loads are in flight (one block
// reads up to ~1024 partials per channel, and the loop is bound by load latency, not bandwidth);
// the sums and then the lanes are added in a fixed order. Returns the total in the lane-0 thread
// (others get 0).
constexpr int kFinishC = 32, kFinishG = 32;
template <typename C>
__device__ C sum_groups(const C* partial, int groups, int64_t c, int64_t j,
                        C (*shared)[kFinishC + 1]) {
  C s[4] = {C(0), C(0), C(0), C(0)};
  if (j < c) {
    int g = int(threadIdx.y);
    for (; g + 3 * kFinishG < groups; g += 4 * kFinishG) {
#pragma unroll
      for (int k = 0; k < 4; ++k) s[k] += partial[int64_t(g + k * kFinishG) * c + j];
    }
    for (int k = 0; g < groups; g += kFinishG, ++k) s[k] += partial[int64_t(g) * c + j];
  }
  shared[threadIdx.y][threadIdx.x] = (s[0] + s[1]) + (s[2] + s[3]);
  __syncthreads();
  C total = 0;
  if (threadIdx.y == 0) {
    for (int k = 0; k < kFinishG; ++k) total += shared[k][threadIdx.x];
  }
  __syncthreads();
  return total;
}

template <typename T, typename C = compute_t<T>>
__global__ void finish_stats(const C* partial, const C* partial2, int groups, const T* x, int64_t m,
                             int64_t c, C eps, C momentum, C* mean, C* invstd, C* running_mean,
                             C* running_var, double* moments) {
  __shared__ C shared[kFinishG][kFinishC + 1];
  const int64_t j = int64_t(blockIdx.x) * kFinishC + threadIdx.x;
  const C s1 = sum_groups(partial, groups, c, j, shared);
  const C s2 = sum_groups(partial2, groups, c, j, shared);
  if (threadIdx.y == 0 && j < c) {
    const C mu = batchnorm_shifted_mean(s1, m, C(load(x[j])));
    const C centered = batchnorm_shifted_centered_sum(s1, s2, m);
    mean[j] = mu;
    invstd[j] = batchnorm_invstd(centered / C(m), eps);
    if (moments != nullptr) {
      moments[j] = double(mu);
      moments[c + j] = double(centered / C(m));
    }
    if (running_mean != nullptr) {
      const C unbiased = batchnorm_unbiased_var(centered, m);
      running_mean[j] = batchnorm_running_update(running_mean[j], mu, momentum);
      running_var[j] = batchnorm_running_update(running_var[j], unbiased, momentum);
    }
  }
}

template <typename C>
__global__ void finish_backward_sums(const C* partial, const C* partial2, int groups, int64_t c,
                                     const C* invstd, C* sum_dy, C* sum_dy_xhat) {
  __shared__ C shared[kFinishG][kFinishC + 1];
  const int64_t j = int64_t(blockIdx.x) * kFinishC + threadIdx.x;
  const C s = sum_groups(partial, groups, c, j, shared);
  const C s2 = sum_groups(partial2, groups, c, j, shared);
  if (threadIdx.y == 0 && j < c) {
    sum_dy[j] = s;
    sum_dy_xhat[j] = s2 * invstd[j];
  }
}

template <typename P>
__global__ void combine_stats_kernel(const double* gathered, int world, int64_t c, double eps,
                                     double momentum, P* mean, P* invstd, P* count, P* running_mean,
                                     P* running_var) {
  LUMEN_GRID_STRIDE(j, c) {
    const BatchNormCombined s = batchnorm_combine(gathered, world, c, j);
    mean[j] = P(s.mean);
    invstd[j] = P(batchnorm_invstd(s.centered_sum / s.count, eps));
    if (j == 0) *count = P(s.count);
    if (running_mean != nullptr) {
      const double unbiased = batchnorm_unbiased_var(s.centered_sum, int64_t(s.count));
      running_mean[j] = P(batchnorm_running_update(double(running_mean[j]), s.mean, momentum));
      running_var[j] = P(batchnorm_running_update(double(running_var[j]), unbiased, momentum));
    }
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

template <typename T, int V>
__global__ void forward_kernel(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                               const compute_t<T>* invstd, const compute_t<T>* weight,
                               const compute_t<T>* bias, const T* residual, bool relu, T* y) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(iv, m * c / V) {
    const int64_t i = iv * V, j0 = i % c;
    const Vec<T, V> xv = load_vec<V>(x + i);
    const Vec<T, V> rv = load_vec_or(residual, i, xv);
    Vec<T, V> out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t j = j0 + k;
      const C v =
          batchnorm_xhat(C(load(xv.v[k])), mean[j], invstd[j]) * batchnorm_weight(weight, j) +
          batchnorm_bias(bias, j);
      const C res = residual != nullptr ? C(load(rv.v[k])) : C(0);
      out.v[k] = store<T>(batchnorm_tail(v, res, relu));
    }
    store_vec<V>(y + i, out);
  }
}

template <typename T, int V>
__global__ void backward_input_kernel(const T* dy, const T* y_relu, const T* x, int64_t m,
                                      int64_t c, const compute_t<T>* count,
                                      const compute_t<T>* mean, const compute_t<T>* invstd,
                                      const compute_t<T>* weight, const compute_t<T>* sum_dy,
                                      const compute_t<T>* sum_dy_xhat, bool training, T* dx) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(iv, m * c / V) {
    const int64_t i = iv * V, j0 = i % c;
    const Vec<T, V> dv = load_vec<V>(dy + i);
    const Vec<T, V> yv = load_vec_or(y_relu, i, dv);
    const Vec<T, V> xv = load_vec_or(training ? x : nullptr, i, dv);
    Vec<T, V> out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t j = j0 + k;
      const C kj = batchnorm_weight(weight, j) * invstd[j];
      const C n = count != nullptr ? *count : C(m);
      const C g = reaching_grad<C>(dv.v[k], y_relu, yv.v[k]);
      if (training) {
        const C xhat = batchnorm_xhat(C(load(xv.v[k])), mean[j], invstd[j]);
        out.v[k] = store<T>(kj * (g - sum_dy[j] / n - xhat * sum_dy_xhat[j] / n));
      } else {
        out.v[k] = store<T>(kj * g);
      }
    }
    store_vec<V>(dx + i, out);
  }
}

// Enough blocks to fill the GPU (up to ~1024), each thread walking at least ~8 rows.
SumPlan sum_plan(int64_t m, int64_t c, int v) {
  SumPlan plan;
  plan.v = v;
  const int64_t channel_groups = c / v;
  plan.lanes_c = int(std::min<int64_t>(channel_groups, kBlock));
  plan.lanes_r = kBlock / plan.lanes_c;
  const int64_t blocks_c = (channel_groups + plan.lanes_c - 1) / plan.lanes_c;
  const int64_t max_groups = std::max<int64_t>(1, 1024 / blocks_c);
  const int64_t wanted = (m + int64_t(plan.lanes_r) * 8 - 1) / (int64_t(plan.lanes_r) * 8);
  const int64_t groups = std::max<int64_t>(1, std::min(wanted, max_groups));
  plan.rows_per_block = (m + groups - 1) / groups;
  plan.grid =
      dim3(unsigned(blocks_c), unsigned((m + plan.rows_per_block - 1) / plan.rows_per_block));
  return plan;
}

template <typename T, SumKind kKind>
void launch_partial_sums(const SumPlan& plan, const T* x, const T* dy, const T* y_relu, int64_t m,
                         int64_t c, const compute_t<T>* mean, compute_t<T>* partial,
                         compute_t<T>* partial2, T* g_out, cudaStream_t stream) {
  using C = compute_t<T>;
  constexpr int V = kVec<T>;
  if (plan.v == V) {
    const size_t shared = 2 * size_t(kBlock) * V * sizeof(C);
    channel_partial_sums<T, V, kKind><<<plan.grid, kBlock, shared, stream>>>(
        x, dy, y_relu, m, c, plan.lanes_c, plan.rows_per_block, mean, partial, partial2, g_out);
  } else {
    const size_t shared = 2 * size_t(kBlock) * sizeof(C);
    channel_partial_sums<T, 1, kKind><<<plan.grid, kBlock, shared, stream>>>(
        x, dy, y_relu, m, c, plan.lanes_c, plan.rows_per_block, mean, partial, partial2, g_out);
  }
  LUMEN_LAUNCH_CHECK();
}

unsigned finish_blocks(int64_t c) { return unsigned((c + kFinishC - 1) / kFinishC); }
const dim3 kFinishBlock(kFinishC, kFinishG);

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
                          compute_t<T>* running_var, cudaStream_t stream, double* moments) {
  using C = compute_t<T>;
  if (m == 0 || c == 0) return;
  const SumPlan plan = sum_plan(m, c, vec_width<T>(c, {x}));
  C* partial = scratch<C>(2 * int64_t(plan.groups()) * c, stream);
  C* partial2 = partial + int64_t(plan.groups()) * c;
  launch_partial_sums<T, SumKind::shifted>(plan, x, nullptr, nullptr, m, c, nullptr, partial,
                                           partial2, nullptr, stream);
  finish_stats<T><<<finish_blocks(c), kFinishBlock, 0, stream>>>(
      partial, partial2, plan.groups(), x, m, c, C(eps), C(momentum), mean, invstd, running_mean,
      running_var, moments);
  LUMEN_LAUNCH_CHECK();
  LUMEN_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

template <typename P>
void batchnorm_combine_stats_cuda(const double* gathered, int world, int64_t c, double eps,
                                  double momentum, P* mean, P* invstd, P* count, P* running_mean,
                                  P* running_var, cudaStream_t stream) {
  if (c == 0) return;
  combine_stats_kernel<<<grid_for(c), kBlock, 0, stream>>>(
      gathered, world, c, eps, momentum, mean, invstd, count, running_mean, running_var);
  LUMEN_LAUNCH_CHECK();
}
template void batchnorm_combine_stats_cuda<float>(const double*, int, int64_t, double, double,
                                                  float*, float*, float*, float*, float*,
                                                  cudaStream_t);
template void batchnorm_combine_stats_cuda<double>(const double*, int, int64_t, double, double,
                                                   double*, double*, double*, double*, double*,
                                                   cudaStream_t);

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
                            const compute_t<T>* bias, const T* residual, bool relu, T* y,
                            cudaStream_t stream) {
  if (m * c == 0) return;
  constexpr int V = kVec<T>;
  if (vec_width<T>(c, {x, residual, y}) == V) {
    forward_kernel<T, V><<<grid_for(m * c / V), kBlock, 0, stream>>>(x, m, c, mean, invstd, weight,
                                                                     bias, residual, relu, y);
  } else {
    forward_kernel<T, 1><<<grid_for(m * c), kBlock, 0, stream>>>(x, m, c, mean, invstd, weight,
                                                                 bias, residual, relu, y);
  }
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void batchnorm_backward_reduce_cuda(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                    const compute_t<T>* mean, const compute_t<T>* invstd,
                                    compute_t<T>* sum_dy, compute_t<T>* sum_dy_xhat, T* g_out,
                                    cudaStream_t stream) {
  using C = compute_t<T>;
  if (m == 0 || c == 0) return;
  const SumPlan plan = sum_plan(m, c, vec_width<T>(c, {dy, y_relu, x, g_out}));
  C* partial = scratch<C>(2 * int64_t(plan.groups()) * c, stream);
  C* partial2 = partial + int64_t(plan.groups()) * c;
  launch_partial_sums<T, SumKind::grad>(plan, x, dy, y_relu, m, c, mean, partial, partial2, g_out,
                                        stream);
  finish_backward_sums<<<finish_blocks(c), kFinishBlock, 0, stream>>>(
      partial, partial2, plan.groups(), c, invstd, sum_dy, sum_dy_xhat);
  LUMEN_LAUNCH_CHECK();
  LUMEN_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

template <typename T>
void batchnorm_backward_input_cuda(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                   const compute_t<T>* count, const compute_t<T>* mean,
                                   const compute_t<T>* invstd, const compute_t<T>* weight,
                                   const compute_t<T>* sum_dy, const compute_t<T>* sum_dy_xhat,
                                   bool training, T* dx, cudaStream_t stream) {
  if (m * c == 0) return;
  constexpr int V = kVec<T>;
  if (vec_width<T>(c, {dy, y_relu, x, dx}) == V) {
    backward_input_kernel<T, V><<<grid_for(m * c / V), kBlock, 0, stream>>>(
        dy, y_relu, x, m, c, count, mean, invstd, weight, sum_dy, sum_dy_xhat, training, dx);
  } else {
    backward_input_kernel<T, 1><<<grid_for(m * c), kBlock, 0, stream>>>(
        dy, y_relu, x, m, c, count, mean, invstd, weight, sum_dy, sum_dy_xhat, training, dx);
  }
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                       \
  template void batchnorm_stats_cuda<T>(const T*, int64_t, int64_t, double, double, compute_t<T>*, \
                                        compute_t<T>*, compute_t<T>*, compute_t<T>*, cudaStream_t, \
                                        double*);                                                  \
  template void batchnorm_running_stats_cuda<T>(const compute_t<T>*, const compute_t<T>*, int64_t, \
                                                double, compute_t<T>*, compute_t<T>*,              \
                                                cudaStream_t);                                     \
  template void batchnorm_forward_cuda<T>(const T*, int64_t, int64_t, const compute_t<T>*,         \
                                          const compute_t<T>*, const compute_t<T>*,                \
                                          const compute_t<T>*, const T*, bool, T*, cudaStream_t);  \
  template void batchnorm_backward_reduce_cuda<T>(const T*, const T*, const T*, int64_t, int64_t,  \
                                                  const compute_t<T>*, const compute_t<T>*,        \
                                                  compute_t<T>*, compute_t<T>*, T*, cudaStream_t); \
  template void batchnorm_backward_input_cuda<T>(                                                  \
      const T*, const T*, const T*, int64_t, int64_t, const compute_t<T>*, const compute_t<T>*,    \
      const compute_t<T>*, const compute_t<T>*, const compute_t<T>*, const compute_t<T>*, bool,    \
      T*, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
