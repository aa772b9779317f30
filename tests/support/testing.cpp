#include "support/testing.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "engine/autograd/tape.h"

namespace lumen::testing {

int skip_suite(const std::string& reason) {
  std::printf("skipped: %s\n", reason.c_str());
  return kSkipExitCode;
}

bool cuda_or_skip() {
  std::string reason;
  if (cuda_device_count(&reason) > 0) return true;
  MESSAGE("skipped: no CUDA device (" << reason << ")");
  return false;
}

AddressSpaceLimit::AddressSpaceLimit(size_t extra_bytes) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_AS, &limit) == 0);
  saved_soft_ = limit.rlim_cur;
  std::ifstream statm("/proc/self/statm");
  unsigned long long pages = 0;
  statm >> pages;
  REQUIRE(pages > 0);
  limit.rlim_cur = pages * (unsigned long long)sysconf(_SC_PAGESIZE) + extra_bytes;
  REQUIRE(setrlimit(RLIMIT_AS, &limit) == 0);
}

AddressSpaceLimit::~AddressSpaceLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_AS, &limit);
  limit.rlim_cur = saved_soft_;
  setrlimit(RLIMIT_AS, &limit);
}

double tolerance(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return 1e-10;
    case DType::f32:
      return 1e-5;
    case DType::bf16:
      return 1e-2;
    case DType::f16:
      return 2e-3;
    default:
      return 0;
  }
}

double max_relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_doubles(), y = b.to_doubles();
  if (x.size() != y.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double err = std::fabs(x[i] - y[i]) / std::max(1.0, std::fabs(y[i]));
    if (std::isnan(err)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, err);
  }
  return worst;
}

double scaled_error(const Tensor& actual, const Tensor& expected) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_doubles(), b = expected.to_doubles();
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return std::isnan(diff) ? INFINITY : diff / scale;
}

void check_scaled(const Tensor& actual, const Tensor& expected, double tol,
                  const std::string& what) {
  const double err = scaled_error(actual, expected);
  CHECK_MESSAGE(err <= tol, what << ": scaled error " << err << " > " << tol);
}

double relative_norm_error(const Tensor& actual, const Tensor& expected) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_doubles(), b = expected.to_doubles();
  double diff = 0, norm = 1e-300;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::isnan(diff) ? INFINITY : std::sqrt(diff / norm);
}

void check_close(const Tensor& actual, const Tensor& expected, double tol,
                 const std::string& what) {
  INFO(what << ": actual " << actual.str() << ", expected " << expected.str());
  REQUIRE(actual.shape() == expected.shape());
  const double err = max_relative_error(actual, expected);
  CHECK_MESSAGE(err <= tol, what << ": max relative error " << err << " > tolerance " << tol);
}

Tensor poisoned(const Shape& shape, DType dtype, Device device) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype, device);
}

double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                 std::vector<Tensor> inputs, double tol, double h) {
  for (Tensor& x : inputs) {
    REQUIRE(x.dtype() == DType::f64);
    REQUIRE(x.device().is_cpu());
    x.set_requires_grad(true);
    x.set_grad(Tensor());
  }
  Tensor loss = f(inputs);
  REQUIRE(loss.numel() == 1);
  loss.backward();

  double worst = 0;
  NoGrad no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    const Tensor analytic = x.grad();
    REQUIRE_MESSAGE(analytic.defined(), "input " << k << " received no gradient");
    const std::vector<double> g = analytic.to_doubles();
    double* p = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double saved = p[i];
      p[i] = saved + h;
      const double up = f(inputs).item();
      p[i] = saved - h;
      const double down = f(inputs).item();
      p[i] = saved;
      const double numeric = (up - down) / (2 * h);
      const double err = std::fabs(numeric - g[i]) / std::max(1.0, std::fabs(numeric));
      if (!(err <= tol)) {
        FAIL_CHECK("input " << k << " element " << i << ": autograd " << g[i] << ", numeric "
                            << numeric);
      }
      worst = std::max(worst, err);
    }
  }
  CHECK(worst <= tol);
  return worst;
}

}  // namespace lumen::testing
