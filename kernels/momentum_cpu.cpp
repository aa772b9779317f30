#include "kernels/momentum.h"

namespace lumen::kernels {

template <typename C>
void momentum_update_cpu(C* target, const C* online, int64_t n, double m) {
  const C mc = C(m), rest = C(1.0 - m);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) target[i] = momentum_blend(target[i], online[i], mc, rest);
}

template void momentum_update_cpu<float>(float*, const float*, int64_t, double);
template void momentum_update_cpu<double>(double*, const double*, int64_t, double);

}  // namespace lumen::kernels
