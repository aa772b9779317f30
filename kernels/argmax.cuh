// Per-element rule of a row argmax as torch.argmax's: the largest value wins, NaN above every
// number, the lowest index among equals (so the first maximum). C is float or double.
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename C>
struct ArgmaxState {
  C value;
  int64_t index;  // INT64_MAX while empty
};

template <typename C>
LUMEN_HD ArgmaxState<C> argmax_empty() {
  return ArgmaxState<C>{C(-INFINITY), INT64_MAX};
}

// The better of two candidates; associative and commutative, so any reduction order gives the
// same winner.
template <typename C>
LUMEN_HD ArgmaxState<C> argmax_merge(ArgmaxState<C> a, ArgmaxState<C> b) {
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  bool take_b;
  if (a_nan || b_nan) {
    take_b = b_nan && (!a_nan || b.index < a.index);
  } else {
    take_b = b.value > a.value || (b.value == a.value && b.index < a.index);
  }
  return take_b ? b : a;
}

}  // namespace lumen::kernels
