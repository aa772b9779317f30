#include "engine/dist/host_reduce.h"

#include <algorithm>

namespace lumen {

namespace {
template <typename T>
void reduce_typed(T* into, const T* x, int64_t n, ReduceOp op) {
  if constexpr (std::is_same_v<T, bf16> || std::is_same_v<T, f16>) {
    for (int64_t i = 0; i < n; ++i) {
      const float a = load(into[i]), b = load(x[i]);
      into[i] = store<T>(op == ReduceOp::sum   ? a + b
                         : op == ReduceOp::max ? std::max(a, b)
                                               : std::min(a, b));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      into[i] = op == ReduceOp::sum   ? T(into[i] + x[i])
                : op == ReduceOp::max ? std::max(into[i], x[i])
                                      : std::min(into[i], x[i]);
    }
  }
}
}  // namespace

void reduce_host(void* into, const void* x, int64_t n, DType dtype, ReduceOp op) {
  LUMEN_CHECK(op != ReduceOp::mean, "reduce_host: reduce a mean as a sum, then scale it");
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    reduce_typed(static_cast<T*>(into), static_cast<const T*>(x), n, op);
  });
}

void scale_host(void* x, int64_t n, DType dtype, double factor) {
  dispatch_float(dtype, "scale_host", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    T* p = static_cast<T*>(x);
    for (int64_t i = 0; i < n; ++i) p[i] = store<T>(C(load(p[i]) * C(factor)));
  });
}

}  // namespace lumen
