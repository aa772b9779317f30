#include "engine/ops/matmul.h"

#include "engine/autograd/tape.h"
#include "engine/ops/gemm.h"

namespace lumen {

namespace {
// op(a) @ op(b) into a new tensor.
Tensor product(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  const GemmDims d = gemm_dims(a, b, trans_a, trans_b, "matmul");
  const Shape shape = a.ndim() == 3 ? Shape{d.batch, d.m, d.n} : Shape{d.m, d.n};
  Tensor c = Tensor::empty_on(shape, a.dtype(), a);
  gemm(a, b, c, trans_a, trans_b);
  return c;
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  Tensor c = product(a, b, trans_a, trans_b);
  // With C = op(A) op(B):
  //   A:   dA = dC op(B)^T        A^T: dA = op(B) dC^T
  //   B:   dB = op(A)^T dC        B^T: dB = dC^T op(A)
  record_op("matmul", c, {a, b},
            [a, b, trans_a, trans_b](const Tensor& dc, const std::vector<bool>& needs) {
              Tensor da, db;
              if (needs[0]) {
                da = trans_a ? product(b, dc, trans_b, true) : product(dc, b, false, !trans_b);
              }
              if (needs[1]) {
                db = trans_b ? product(dc, a, true, trans_a) : product(a, dc, !trans_a, false);
              }
              return std::vector<Tensor>{da, db};
            });
  return c;
}

}  // namespace lumen
