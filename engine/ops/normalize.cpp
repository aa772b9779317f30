#include "engine/ops/normalize.h"

#include "engine/autograd/tape.h"
#include "kernels/norm.h"

namespace lumen {

namespace {
DType compute_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }
}  // namespace

Tensor l2_normalize_rows(const Tensor& x, double eps) {
  check_defined(x, "l2_normalize_rows");
  LUMEN_CHECK(x.ndim() == 2, "l2_normalize_rows expects (rows, cols), got ", x.str());
  LUMEN_CHECK(eps > 0, "l2_normalize_rows: eps must be positive, got ", eps);
  const int64_t rows = x.size(0), cols = x.size(1);
  Tensor y = Tensor::empty_like(x);
  Tensor norm = Tensor::empty_on({rows}, compute_dtype(x.dtype()), x);
  dispatch_float(x.dtype(), "l2_normalize_rows", [&](auto tag) {
    using T = decltype(tag);
    auto* n = static_cast<compute_t<T>*>(norm.raw_data());
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::l2_normalize_forward_cuda(x.data<T>(), y.data<T>(), n, eps, rows, cols,
                                                       stream_of(x)));
    } else {
      kernels::l2_normalize_forward_cpu(x.data<T>(), y.data<T>(), n, eps, rows, cols);
    }
  });
  record_op(
      "l2_normalize_rows", y, {x},
      [y_saved = y.detach(), norm, eps, rows, cols](const Tensor& dy, const std::vector<bool>&) {
        Tensor dx = Tensor::empty_like(dy);
        dispatch_float(dy.dtype(), "l2_normalize_rows backward", [&](auto tag) {
          using T = decltype(tag);
          auto* n = static_cast<const compute_t<T>*>(norm.raw_data());
          if (dy.is_cuda()) {
            LUMEN_ON_CUDA(kernels::l2_normalize_backward_cuda(
                y_saved.data<T>(), dy.data<T>(), n, dx.data<T>(), eps, rows, cols, stream_of(dy)));
          } else {
            kernels::l2_normalize_backward_cpu(y_saved.data<T>(), dy.data<T>(), n, dx.data<T>(),
                                               eps, rows, cols);
          }
        });
        return std::vector<Tensor>{dx};
      });
  return y;
}

}  // namespace lumen
