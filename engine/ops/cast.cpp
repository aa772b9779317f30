#include "engine/ops/cast.h"

#include "engine/autograd/tape.h"

namespace lumen {

Tensor to_dtype(const Tensor& x, DType dtype) {
  check_defined(x, "to_dtype");
  if (x.dtype() == dtype) return x;
  Tensor y = x.detach().to(dtype);
  const DType from = x.dtype();
  record_op("to_dtype", y, {x}, [from](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{dy.to(from)};
  });
  return y;
}

}  // namespace lumen
