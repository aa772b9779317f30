// Per-channel and per-element math of batch normalisation, shared by the CPU loops and the CUDA
// kernels. A is the accumulation type of the caller (the CPU sums in double, the GPU in P =
// compute_t<T>), so each side keeps its own precision and both apply the same formulas.
//   invstd   = 1 / sqrt(var + eps),  var = sum (x - mean)^2 / M (biased)
//   one pass: with K the channel's value in the first row, s1 = sum (x - K), s2 = sum (x - K)^2;
//              mean = K + s1 / M, sum (x - mean)^2 = s2 - s1^2 / M. K is a sample of the channel,
//              so |mean - K| is of the order of the spread and the subtraction keeps its digits
//              (unlike sum x^2 - M mean^2 when |mean| >> std)
//   running  = (1 - momentum) * running + momentum * stat, with the unbiased variance
//              sum (x - mean)^2 / (M - 1) (the biased one when M = 1), as PyTorch
//   xhat     = (x - mean) * invstd
//   affine   = false: weight 1, bias 0 (null pointers)
//   tail     = y = relu?(xhat * weight + bias + residual?), fused into the same pass
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename A>
LUMEN_HD A batchnorm_invstd(A var, A eps) {
  return A(1) / math_sqrt(var + eps);
}

// From the shifted sums of the one-pass statistics (above).
template <typename A>
LUMEN_HD A batchnorm_shifted_mean(A s1, int64_t m, A shift) {
  return shift + s1 / A(m);
}
template <typename A>
LUMEN_HD A batchnorm_shifted_centered_sum(A s1, A s2, int64_t m) {
  const A centered = s2 - s1 * s1 / A(m);
  return centered > A(0) ? centered : A(0);  // rounding must not make a variance negative
}

// centered_sum = sum over the M rows of (x - mean)^2
template <typename A>
LUMEN_HD A batchnorm_unbiased_var(A centered_sum, int64_t m) {
  return m > 1 ? centered_sum / A(m - 1) : centered_sum / A(m);
}

// Channel j of every rank's (mean, biased var, count) combined, in rank order, in double.
//   gathered: (world, 2C + 1), row r = [mean_r (C), var_r (C), n_r]
struct BatchNormCombined {
  double count, mean, centered_sum;  // centered_sum = M2 = sum over all rows of (x - mean)^2
};
LUMEN_HD BatchNormCombined batchnorm_combine(const double* gathered, int world, int64_t c,
                                             int64_t j) {
  const int64_t row = 2 * c + 1;
  double count = 0, weighted = 0;
  for (int r = 0; r < world; ++r) {
    const double n = double(gathered[r * row + 2 * c]);
    count += n;
    weighted += n * double(gathered[r * row + j]);
  }
  const double mean = weighted / count;
  double m2 = 0;
  for (int r = 0; r < world; ++r) {
    const double n = double(gathered[r * row + 2 * c]);
    const double d = double(gathered[r * row + j]) - mean;
    m2 += n * (double(gathered[r * row + c + j]) + d * d);
  }
  return {count, mean, m2};
}

template <typename A>
LUMEN_HD A batchnorm_running_update(A running, A stat, A momentum) {
  return (A(1) - momentum) * running + momentum * stat;
}

// The summed term of the backward: dy * (x - mean) for dweight (times invstd).
template <typename A>
LUMEN_HD A batchnorm_dy_centered(A dy, A x, A mean) {
  return dy * (x - mean);
}

template <typename P>
LUMEN_HD P batchnorm_xhat(P x, P mean, P invstd) {
  return (x - mean) * invstd;
}

// The fused tail of the forward: act(v + residual), the ReLU as relu_forward_elem.
template <typename P>
LUMEN_HD P batchnorm_tail(P v, P residual, bool relu) {
  v += residual;
  return relu ? (v > P(0) ? v : P(0)) : v;
}

// The gradient reaching the normalisation through a fused ReLU whose output was y (d/dx at 0 is
// 0, as PyTorch).
template <typename P>
LUMEN_HD P batchnorm_relu_grad(P dy, P y) {
  return y > P(0) ? dy : P(0);
}

template <typename P>
LUMEN_HD P batchnorm_weight(const P* weight, int64_t j) {
  return weight != nullptr ? weight[j] : P(1);
}
template <typename P>
LUMEN_HD P batchnorm_bias(const P* bias, int64_t j) {
  return bias != nullptr ? bias[j] : P(0);
}

}  // namespace lumen::kernels
