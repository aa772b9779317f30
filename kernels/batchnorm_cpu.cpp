#include <omp.h>

#include <vector>

#include "kernels/batchnorm.cuh"
#include "kernels/batchnorm.h"

namespace lumen::kernels {

template <typename T>
void batchnorm_stats_cpu(const T* x, int64_t m, int64_t c, double eps, double momentum,
                         compute_t<T>* mean, compute_t<T>* invstd, compute_t<T>* running_mean,
                         compute_t<T>* running_var, double* moments) {
  using P = compute_t<T>;
  if (m == 0) return;
  // One pass of shifted sums (batchnorm.cuh) in double; per-thread sums added in thread order.
  std::vector<double> shift(c);
  for (int64_t j = 0; j < c; ++j) shift[j] = double(load(x[j]));
  const int threads = m * c > 65536 ? omp_get_max_threads() : 1;
  std::vector<double> sums(size_t(threads) * 2 * c, 0.0);  // per thread: s1 (c), s2 (c)
#pragma omp parallel num_threads(threads)
  {
    double* s1 = sums.data() + size_t(omp_get_thread_num()) * 2 * c;
    double* s2 = s1 + c;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < m; ++r) {
      const T* row = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        const double d = double(load(row[j])) - shift[j];
        s1[j] += d;
        s2[j] += d * d;
      }
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double s1 = 0, s2 = 0;
    for (int t = 0; t < threads; ++t) {
      s1 += sums[size_t(t) * 2 * c + j];
      s2 += sums[size_t(t) * 2 * c + c + j];
    }
    const double mu = batchnorm_shifted_mean(s1, m, shift[j]);
    const double centered = batchnorm_shifted_centered_sum(s1, s2, m);
    mean[j] = P(mu);
    invstd[j] = P(batchnorm_invstd(centered / double(m), eps));
    if (moments != nullptr) {
      moments[j] = mu;
      moments[c + j] = centered / double(m);
    }
    if (running_mean != nullptr) {
      const double unbiased = batchnorm_unbiased_var(centered, m);
      running_mean[j] = P(batchnorm_running_update(double(running_mean[j]), mu, momentum));
      running_var[j] = P(batchnorm_running_update(double(running_var[j]), unbiased, momentum));
    }
  }
}

template <typename P>
void batchnorm_combine_stats_cpu(const double* gathered, int world, int64_t c, double eps,
                                 double momentum, P* mean, P* invstd, P* count, P* running_mean,
                                 P* running_var) {
  for (int64_t j = 0; j < c; ++j) {
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
template void batchnorm_combine_stats_cpu<float>(const double*, int, int64_t, double, double,
                                                 float*, float*, float*, float*, float*);
template void batchnorm_combine_stats_cpu<double>(const double*, int, int64_t, double, double,
                                                  double*, double*, double*, double*, double*);

template <typename T>
void batchnorm_running_stats_cpu(const compute_t<T>* running_mean, const compute_t<T>* running_var,
                                 int64_t c, double eps, compute_t<T>* mean, compute_t<T>* invstd) {
  using P = compute_t<T>;
  for (int64_t j = 0; j < c; ++j) {
    mean[j] = running_mean[j];
    invstd[j] = P(batchnorm_invstd(double(running_var[j]), eps));
  }
}

template <typename T>
void batchnorm_forward_cpu(const T* x, int64_t m, int64_t c, const compute_t<T>* mean,
                           const compute_t<T>* invstd, const compute_t<T>* weight,
                           const compute_t<T>* bias, const T* residual, bool relu, T* y) {
  using P = compute_t<T>;
  // y = tail((x - mean) * scale + bias) per channel, scale = invstd * weight. (Not x * scale +
  // shift: with |mean| >> std both terms are large and their difference loses digits.)
  std::vector<P> scale(c), shift(c);
  for (int64_t j = 0; j < c; ++j) {
    scale[j] = invstd[j] * batchnorm_weight(weight, j);
    shift[j] = batchnorm_bias(bias, j);
  }
#pragma omp parallel for schedule(static) if (m * c > 65536)
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const int64_t i = r * c + j;
      const P res = residual != nullptr ? P(load(residual[i])) : P(0);
      y[i] = store<T>(batchnorm_tail((P(load(x[i])) - mean[j]) * scale[j] + shift[j], res, relu));
    }
  }
}

namespace {
// The gradient reaching the normalisation at element i (see batchnorm.h).
template <typename T>
compute_t<T> reaching_grad(const T* dy, const T* y_relu, int64_t i) {
  using P = compute_t<T>;
  const P g = P(load(dy[i]));
  return y_relu != nullptr ? batchnorm_relu_grad(g, P(load(y_relu[i]))) : g;
}
}  // namespace

template <typename T>
void batchnorm_backward_reduce_cpu(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                   const compute_t<T>* mean, const compute_t<T>* invstd,
                                   compute_t<T>* sum_dy, compute_t<T>* sum_dy_xhat, T* g_out) {
  using P = compute_t<T>;
  // Row by row in branch-free loops over the channels (they vectorise); sums in double, per
  // thread, added in thread order so that the result does not depend on which thread ends first.
  const int threads = m * c > 65536 ? omp_get_max_threads() : 1;
  std::vector<double> sums(size_t(threads) * 2 * c, 0.0);  // per thread: sum dy (c), dy*xc (c)
#pragma omp parallel num_threads(threads)
  {
    double* local_g = sums.data() + size_t(omp_get_thread_num()) * 2 * c;
    double* local_xc = local_g + c;
    std::vector<P> g(c);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < m; ++r) {
      const int64_t base = r * c;
      for (int64_t j = 0; j < c; ++j) g[j] = P(load(dy[base + j]));
      if (y_relu != nullptr) {
        for (int64_t j = 0; j < c; ++j) g[j] = batchnorm_relu_grad(g[j], P(load(y_relu[base + j])));
      }
      if (g_out != nullptr) {
        for (int64_t j = 0; j < c; ++j) g_out[base + j] = store<T>(g[j]);
      }
      for (int64_t j = 0; j < c; ++j) {
        local_g[j] += double(g[j]);
        local_xc[j] +=
            batchnorm_dy_centered(double(g[j]), double(load(x[base + j])), double(mean[j]));
      }
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double s_dy = 0, s_dy_xc = 0;
    for (int t = 0; t < threads; ++t) {
      s_dy += sums[size_t(t) * 2 * c + j];
      s_dy_xc += sums[size_t(t) * 2 * c + c + j];
    }
    sum_dy[j] = P(s_dy);
    sum_dy_xhat[j] = P(s_dy_xc * double(invstd[j]));
  }
}

template <typename T>
void batchnorm_backward_input_cpu(const T* dy, const T* y_relu, const T* x, int64_t m, int64_t c,
                                  const compute_t<T>* count, const compute_t<T>* mean,
                                  const compute_t<T>* invstd, const compute_t<T>* weight,
                                  const compute_t<T>* sum_dy, const compute_t<T>* sum_dy_xhat,
                                  bool training, T* dx) {
  using P = compute_t<T>;
  std::vector<P> k(c), mean_dy(c), mean_dy_xhat(c);
  const P n = count != nullptr ? *count : P(m);
  for (int64_t j = 0; j < c; ++j) {
    k[j] = batchnorm_weight(weight, j) * invstd[j];
    mean_dy[j] = training ? P(sum_dy[j] / n) : P(0);
    mean_dy_xhat[j] = training ? P(sum_dy_xhat[j] / n) : P(0);
  }
#pragma omp parallel for schedule(static) if (m * c > 65536)
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const int64_t i = r * c + j;
      const P xhat = batchnorm_xhat(P(load(x[i])), mean[j], invstd[j]);
      dx[i] = store<T>(k[j] * (reaching_grad(dy, y_relu, i) - mean_dy[j] - xhat * mean_dy_xhat[j]));
    }
  }
}

#define LUMEN_INSTANTIATE(T)                                                                      \
  template void batchnorm_stats_cpu<T>(const T*, int64_t, int64_t, double, double, compute_t<T>*, \
                                       compute_t<T>*, compute_t<T>*, compute_t<T>*, double*);     \
  template void batchnorm_running_stats_cpu<T>(const compute_t<T>*, const compute_t<T>*, int64_t, \
                                               double, compute_t<T>*, compute_t<T>*);             \
  template void batchnorm_forward_cpu<T>(const T*, int64_t, int64_t, const compute_t<T>*,         \
                                         const compute_t<T>*, const compute_t<T>*,                \
                                         const compute_t<T>*, const T*, bool, T*);                \
  template void batchnorm_backward_reduce_cpu<T>(const T*, const T*, const T*, int64_t, int64_t,  \
                                                 const compute_t<T>*, const compute_t<T>*,        \
                                                 compute_t<T>*, compute_t<T>*, T*);               \
  template void batchnorm_backward_input_cpu<T>(                                                  \
      const T*, const T*, const T*, int64_t, int64_t, const compute_t<T>*, const compute_t<T>*,   \
      const compute_t<T>*, const compute_t<T>*, const compute_t<T>*, const compute_t<T>*, bool,   \
      T*);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
