#include "kernels/argmax.h"

namespace lumen::kernels {

template <typename C>
void row_argmax_cpu(const C* x, int64_t rows, int64_t cols, int64_t* index) {
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    ArgmaxState<C> best = argmax_empty<C>();
    for (int64_t j = 0; j < cols; ++j) {
      best = argmax_merge(best, ArgmaxState<C>{x[r * cols + j], j});
    }
    index[r] = best.index;
  }
}

template void row_argmax_cpu<float>(const float*, int64_t, int64_t, int64_t*);
template void row_argmax_cpu<double>(const double*, int64_t, int64_t, int64_t*);

}  // namespace lumen::kernels
