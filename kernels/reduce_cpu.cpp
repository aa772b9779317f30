#include "kernels/reduce.h"

namespace lumen::kernels {

template <typename T>
void sum_cpu(const T* x, int64_t n, double alpha, T* out) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) total += double(load(x[i]));
  out[0] = store<T>(compute_t<T>(alpha * total));
}

template void sum_cpu<float>(const float*, int64_t, double, float*);
template void sum_cpu<double>(const double*, int64_t, double, double*);
template void sum_cpu<bf16>(const bf16*, int64_t, double, bf16*);
template void sum_cpu<f16>(const f16*, int64_t, double, f16*);

}  // namespace lumen::kernels
