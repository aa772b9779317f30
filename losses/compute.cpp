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

void check_embedding_pair(const Tensor& z_a, const Tensor& z_b, const char* op,
                          const char* why_two) {
  check_defined(z_a, op);
  check_defined(z_b, op);
  LUMEN_CHECK(z_a.ndim() == 2 && z_a.size(1) > 0, op, " expects z_a of shape (batch, dim), got ",
              z_a.str());
  LUMEN_CHECK(z_a.size(0) > 1, op, " needs a batch of at least 2 (", why_two, "), got ", z_a.str());
  check_same_shape(z_a, z_b, op);
  check_same_device(z_a, z_b, op);
  check_same_dtype(z_a, z_b, op);
  LUMEN_CHECK(dtype_is_float(z_a.dtype()), op, ": inputs must be f32, f64, bf16 or f16, got ",
              z_a.str());
}

}  // namespace lumen::losses
