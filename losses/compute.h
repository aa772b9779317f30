// What every loss shares: the compute dtype (f32 for f32, bf16 and f16 outputs, f64 for f64) and
// the moves between it and the inputs' dtypes.
#pragma once

#include "engine/core/tensor.h"

namespace lumen::losses {

DType compute_dtype(DType t);

// Calls fn(C{}) with C the compute type (float or double) of a compute dtype.
template <typename Fn>
void dispatch_compute(DType t, Fn&& fn) {
  if (t == DType::f64) {
    fn(double{});
  } else {
    fn(float{});
  }
}

// x detached, in its compute dtype (x's own storage when it already is: read, never written).
Tensor to_compute(const Tensor& x);

// The gradient of an input of dtype `dtype` from g (the gradient in the compute dtype of what the
// loss's node returns, before the upstream gradient) and the node's upstream gradient dy, a (1,)
// tensor on g's device (no host sync).
Tensor input_gradient(const Tensor& g, const Tensor& dy, DType dtype);

// The checks of a loss of two (batch, dim) float embeddings of one shape, device and dtype with a
// batch of at least 2; `why_two` says why one sample is not enough. Errors name `op`.
void check_embedding_pair(const Tensor& z_a, const Tensor& z_b, const char* op,
                          const char* why_two);

}  // namespace lumen::losses
