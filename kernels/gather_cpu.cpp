#include <cstring>

#include "kernels/gather.h"

namespace lumen::kernels {

void gather_rows_cpu(const uint8_t* src, int64_t row_bytes, const int64_t* indices, int64_t count,
                     uint8_t* dst) {
#pragma omp parallel for schedule(static) if (count * row_bytes > (int64_t(1) << 20))
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * row_bytes, src + indices[i] * row_bytes, size_t(row_bytes));
  }
}

}  // namespace lumen::kernels
