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

Tensor weight_norm(const Tensor& v, const Tensor& g) {
  const char* op = "weight_norm";
  check_defined(v, op);
  check_defined(g, op);
  LUMEN_CHECK(v.ndim() == 2, op, " expects v of shape (rows, cols), got ", v.str());
  const int64_t rows = v.size(0), cols = v.size(1);
  LUMEN_CHECK(g.numel() == rows && (g.ndim() == 1 || (g.ndim() == 2 && g.size(1) == 1)), op,
              ": g must be (", rows, ", 1) or (", rows, "), one scale per row of v ", v.str(),
              ", got ", g.str());
  check_same_device(v, g, op);
  check_same_dtype(v, g, op);
  Tensor w = Tensor::empty_like(v);
  Tensor norm = Tensor::empty_on({rows}, compute_dtype(v.dtype()), v);
  dispatch_float(v.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    auto* n = static_cast<compute_t<T>*>(norm.raw_data());
    if (v.is_cuda()) {
      LUMEN_ON_CUDA(kernels::weight_norm_forward_cuda(v.data<T>(), g.data<T>(), w.data<T>(), n,
                                                      rows, cols, stream_of(v)));
    } else {
      kernels::weight_norm_forward_cpu(v.data<T>(), g.data<T>(), w.data<T>(), n, rows, cols);
    }
  });
  record_op(op, w, {v, g},
            [v = v.detach(), g = g.detach(), norm, rows, cols](const Tensor& dw,
                                                               const std::vector<bool>& needs) {
              Tensor dv = needs[0] ? Tensor::empty_like(v) : Tensor();
              Tensor dg = needs[1] ? Tensor::empty_like(g) : Tensor();
              dispatch_float(v.dtype(), "weight_norm backward", [&](auto tag) {
                using T = decltype(tag);
                auto* n = static_cast<const compute_t<T>*>(norm.raw_data());
                T* pv = needs[0] ? dv.data<T>() : nullptr;
                T* pg = needs[1] ? dg.data<T>() : nullptr;
                if (v.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::weight_norm_backward_cuda(
                      v.data<T>(), g.data<T>(), dw.data<T>(), n, pv, pg, rows, cols, stream_of(v)));
                } else {
                  kernels::weight_norm_backward_cpu(v.data<T>(), g.data<T>(), dw.data<T>(), n, pv,
                                                    pg, rows, cols);
                }
              });
              return std::vector<Tensor>{dv, dg};
            });
  return w;
}

}  // namespace lumen
