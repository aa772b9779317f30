// The main of every GPU suite (tests/test_*_cuda.cpp): without a usable CUDA device it runs
// nothing and exits with ctest's skip code, so that ctest reports "skipped" rather than a pass
// with no assertion run; with one, doctest runs the suite as usual.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <string>

#include "support/testing.h"

int main(int argc, char** argv) {
  std::string reason;
  if (lumen::cuda_device_count(&reason) == 0) {
    return lumen::testing::skip_suite("no CUDA device (" + reason + ")");
  }
  doctest::Context context(argc, argv);
  return context.run();
}
