#include "support/batch_norm_cases.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops/ops.h"
#include "support/testing.h"

namespace lumen::testing {

void check_batch_norm_far_mean(Device device) {
  // x = 1000 + 0.01 * noise: sum x^2 - M mean^2 would lose every digit of the variance.
  const int64_t m = 4096, c = 3;
  Tensor x = Tensor::normal({m, c}, 7, 1000.0, 0.01, DType::f32);
  const std::vector<double> xs = x.to_doubles();  // the f32 values, exactly
  std::vector<double> mean(c, 0.0), var(c, 0.0);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < c; ++j) mean[j] += xs[r * c + j] / double(m);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < c; ++j) var[j] += std::pow(xs[r * c + j] - mean[j], 2) / double(m);
  const std::string where = device.str();
  CAPTURE(where);
  Tensor rv = Tensor::full({c}, 1.0, DType::f32, device);
  Tensor rm = Tensor::zeros({c}, DType::f32, device);
  const Tensor y = batch_norm(x.to(device), Tensor(), Tensor(), rm, rv, true, 0.1, 1e-12);
  const std::vector<double> ys = y.to_doubles(), rvs = rv.to_doubles();
  double worst = 0;
  for (int64_t i = 0; i < m * c; ++i) {
    const double want = (xs[i] - mean[i % c]) / std::sqrt(var[i % c] + 1e-12);
    worst = std::max(worst, std::abs(ys[i] - want));
  }
  // The mean is kept in f32: half a step of f32 at 1000 (3.05e-5) times invstd (100) is 3.05e-3.
  // (Normalising as x * scale + shift instead of (x - mean) * scale measured 6.4e-3.)
  CHECK(worst < 3.5e-3);
  for (int64_t j = 0; j < c; ++j) {
    CHECK(rvs[j] == doctest::Approx(0.9 + 0.1 * var[j] * m / (m - 1)).epsilon(1e-6));
  }
}

}  // namespace lumen::testing
