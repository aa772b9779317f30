#include "losses/compute.h"

#include "engine/ops/elementwise.h"

namespace lumen::losses {

DType compute_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

Tensor to_compute(const Tensor& x) {
  const DType c = compute_dtype(x.dtype());
  return x.dtype() == c ? x.detach() : x.to(c);
}

Tensor input_gradient(const Tensor& g, const Tensor& dy, DType dtype) {
  Tensor scaled = scale_by_scalar(g, dy.dtype() == g.dtype() ? dy : dy.to(g.dtype()));
  return scaled.dtype() == dtype ? scaled : scaled.to(dtype);
}

}  // namespace lumen::losses
