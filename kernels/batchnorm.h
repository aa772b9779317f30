// Batch normalisation over channel-last data: x is viewed as (M, C) with M = N*H*W for NHWC images
// (BatchNorm2d) or M = N for (N, C) features (BatchNorm1d). T in {float, double, bf16, f16}; the
// statistics, the affine parameters and the running buffers are P = compute_t<T> (f32, or f64 for
// f64 data). weight/bias may be null (affine=false: weight 1, bias 0).
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// Batch statistics: mean[c], invstd[c] = 1/sqrt(var_biased[c] + eps). When running_mean/var are
// non-null they are updated as PyTorch does:
//   running = (1 - momentum) * running + momentum * stat, with the unbiased variance (M / (M-1)).
// When moments is non-null it receives [mean (C), var_biased (C)] in double, unrounded by P (for
// synchronised batch norm: the CPU accumulates in double, so combining ranks' moments then gives
// the f32 statistics of the whole batch).
//   x: (M, C) T;  mean, invstd, running_mean, running_var: (C) P;  moments: (2C) double
template <typename T>
void batchnorm_stats_cpu(const T* x, int64_t m, int64_t c, double eps, double momentum,
                         compute_t<T>* mean, compute_t<T>* invstd, compute_t<T>* running_mean,
                         compute_t<T>* running_var, double* moments = nullptr);
template <typename T>
void batchnorm_stats_cuda(const T* x, int64_t m, int64_t c, double eps, double momentum,
                          compute_t<T>* mean, compute_t<T>* invstd, compute_t<T>* running_mean,
                          compute_t<T>* running_var, cudaStream_t stream,
                          double* moments = nullptr);

// Synchronised batch norm (torch's SyncBatchNorm): the statistics of every rank's batch from each
// rank's (mean, biased var, count) in double, combined in rank order in double (Chan's parallel
// formula: mean = sum n_r mean_r / N, M2 = sum n_r (var_r + (mean_r - mean)^2)), then as above:
// mean, invstd = 1/sqrt(M2 / N + eps), count = N and, when non-null, the running buffers with M2 /
// (N - 1).
//   gathered: (world, 2C + 1) double, row r = [mean_r (C), var_r (C), n_r];  count: (1) P;
//   the rest: (C) P
template <typename P>
void batchnorm_combine_stats_cpu(const double* gathered, int world, int64_t c, double eps,
                                 double momentum, P* mean, P* invstd, P* count, P* running_mean,
                                 P* running_var);
template <typename P>
void batchnorm_combine_stats_cuda(const double* gathered, int world, int64_t c, double eps,
                                  double momentum, P* mean, P* invstd, P* count, P* running_mean,
                                  P* running_var, cudaStream_t stream);

// Eval-mode statistics from the running buffers: mean = running_mean, invstd = 1/sqrt(var + eps).
//   running_mean, running_var, mean, invstd: (C) P
template <typename T>
void batchnorm_running_stats_cpu(const compute_t<T>* running_mean, const compute_t<T>* running_var,
                                 int64_t c, double eps, compute_t<T>* mean, compute_t<T>* invstd);
template <typename T>
void batchnorm_running_stats_cuda(const compute_t<T>* running_mean, const compute_t<T>* running_var,
                                  int64_t c, double eps, compute_t<T>* mean, compute_t<T>* invstd,
                                  cudaStream_t stream);

// y = act(xhat * weight + bias + residual), xhat = (x - mean) * invstd: the normalisation with
// the tail of a ResNet block fused in. residual: (M, C) T or null; relu: apply max(., 0).
//   x, y: (M, C) T;  mean, invstd, weight, bias: (C) P
template <typename T>
void batchnorm_forward_cpu(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                           const compute_t<T>* invstd, const compute_t<T>* weight,
                           const compute_t<T>* bias, const T* residual, bool relu, T* y);
template <typename T>
void batchnorm_forward_cuda(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                            const compute_t<T>* invstd, const compute_t<T>* weight,
                            const compute_t<T>* bias, const T* residual, bool relu, T* y,
                            cudaStream_t stream);

// The backward of that forward. The gradient reaching the normalisation is g = dy, or, when a
// ReLU was fused in, g = dy * (y > 0) with y the forward's output (y_relu; null without ReLU).
// It is also the residual's gradient: when g_out is non-null it is written there.
// Per-channel sums: sum_dy[c] = sum g, sum_dy_xhat[c] = sum g * xhat (dbias and dweight).
//   dy, y_relu, x, g_out: (M, C) T;  the rest: (C) P
template <typename T>
void batchnorm_backward_reduce_cpu(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                   const compute_t<T>* mean, const compute_t<T>* invstd,
                                   compute_t<T>* sum_dy, compute_t<T>* sum_dy_xhat, T* g_out);
template <typename T>
void batchnorm_backward_reduce_cuda(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                    const compute_t<T>* mean, const compute_t<T>* invstd,
                                    compute_t<T>* sum_dy, compute_t<T>* sum_dy_xhat, T* g_out,
                                    cudaStream_t stream);

// dx, with g as above. Training (batch statistics over N values per channel: N = *count, read
// from memory, every rank's rows when synchronised, with sum_dy and sum_dy_xhat summed over the
// ranks; count null: N = M):
//   dx = weight * invstd * (g - sum_dy / N - xhat * sum_dy_xhat / N)
// eval (fixed statistics): dx = weight * invstd * g  (sum_dy, sum_dy_xhat unused, may be null)
//   dy, y_relu, x, dx: (M, C) T;  count: (1) P or null;  the rest: (C) P
template <typename T>
void batchnorm_backward_input_cpu(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                  const compute_t<T>* count, const compute_t<T>* mean,
                                  const compute_t<T>* invstd, const compute_t<T>* weight,
                                  const compute_t<T>* sum_dy, const compute_t<T>* sum_dy_xhat,
                                  bool training, T* dx);
template <typename T>
void batchnorm_backward_input_cuda(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                   const compute_t<T>* count, const compute_t<T>* mean,
                                   const compute_t<T>* invstd, const compute_t<T>* weight,
                                   const compute_t<T>* sum_dy, const compute_t<T>* sum_dy_xhat,
                                   bool training, T* dx, cudaStream_t stream);

}  // namespace lumen::kernels
