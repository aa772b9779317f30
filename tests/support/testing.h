// Helpers shared by the test suites: device availability, tolerances, comparisons and the
// finite-difference gradient checker.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen::testing {

// The exit code ctest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
constexpr int kSkipExitCode = 77;

// For a suite's main when the suite cannot run here: prints "skipped: <reason>" and returns
// kSkipExitCode, so that ctest reports the suite skipped rather than passed.
int skip_suite(const std::string& reason);

// True when a CUDA device is usable. When false, prints "skipped: no CUDA device (<reason>)" once
// per test case; GPU test cases (in tests/test_*_cuda.cpp, whose shared main,
// support/cuda_main.cpp, skips the whole suite without a device) return early on false.
bool cuda_or_skip();

// Lowers the process's address-space limit (RLIMIT_AS) to what it maps now plus extra_bytes, for
// the object's lifetime: larger allocations then fail as on a machine out of memory. Only for
// single-threaded code (a new thread's stack may not fit).
class AddressSpaceLimit {
 public:
  explicit AddressSpaceLimit(size_t extra_bytes);
  ~AddressSpaceLimit();
  AddressSpaceLimit(const AddressSpaceLimit&) = delete;
  AddressSpaceLimit& operator=(const AddressSpaceLimit&) = delete;

 private:
  unsigned long long saved_soft_;
};

// Relative tolerance of a dtype: fp32 ~1e-5, bf16 ~1e-2, as DESIGN.md states.
double tolerance(DType dtype);

// Largest |a - b| / max(1, |b|) over all elements (a and b may live on any device or dtype).
double max_relative_error(const Tensor& a, const Tensor& b);

// max |a - b| / max |b| over all elements: a relative error that does not go loose on small
// values (gradients). REQUIREs equal shapes; NaN anywhere gives infinity.
double scaled_error(const Tensor& actual, const Tensor& expected);

// CHECKs scaled_error(actual, expected) <= tol, naming `what` on failure.
void check_scaled(const Tensor& actual, const Tensor& expected, double tol,
                  const std::string& what);

// ||actual - expected|| / ||expected|| over the whole tensor (infinity on NaN): for results of
// long bf16 chains, where single elements near zero carry large relative errors.
double relative_norm_error(const Tensor& actual, const Tensor& expected);

// CHECKs shapes equal and max_relative_error <= tol, naming `what` on failure.
void check_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what);

// A tensor of `shape` filled with NaN, so that a kernel that forgets to write an element fails.
Tensor poisoned(const Shape& shape, DType dtype, Device device);

// Central-difference gradient check in double precision on the CPU.
//   f maps the inputs (f64, requires_grad) to a one-element loss.
// For every element of every input: compares autograd's gradient with (f(x+h) - f(x-h)) / 2h.
// Returns the worst relative error; CHECKs it against tol.
double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                 std::vector<Tensor> inputs, double tol = 1e-6, double h = 1e-6);

}  // namespace lumen::testing
