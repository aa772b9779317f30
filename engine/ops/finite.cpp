#include "engine/ops/finite.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"

namespace lumen {

bool all_finite(const Tensor& x) {
  check_defined(x, "all_finite");
  if (!dtype_is_float(x.dtype()) || x.numel() == 0) return true;
  if (x.is_cuda()) {
    NoGrad no_grad;
    return std::isfinite(sum(scale(x, 0.0)).item());
  }
  return dispatch_float(x.dtype(), "all_finite", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(load(p[i]))) return false;
    }
    return true;
  });
}

std::string first_non_finite(const std::map<std::string, Tensor>& tensors) {
  for (const auto& [name, tensor] : tensors) {
    if (!all_finite(tensor)) return name;
  }
  return {};
}

}  // namespace lumen
