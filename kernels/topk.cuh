// The order of a row top-k, shared by the CPU selection and the CUDA kernel: larger values first,
// NaN above every number (torch.topk's rule), and among equal values the lower column first, so a
// top-k is one well-defined list whatever order the candidates are visited in. C is float or
// double.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lumen::kernels {

// True when (a, column ia) comes before (b, column ib).
template <typename C>
LUMEN_HD bool topk_before(C a, int64_t ia, C b, int64_t ib) {
  const bool a_nan = a != a, b_nan = b != b;
  if (a_nan || b_nan) return a_nan && (!b_nan || ia < ib);
  return a > b || (a == b && ia < ib);
}

}  // namespace lumen::kernels
