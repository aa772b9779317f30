#include "losses/negative_cosine_similarity.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "kernels/cosine.h"

namespace lumen {

NegativeCosineSimilarity::NegativeCosineSimilarity(double eps) : eps_(eps) {
  LUMEN_CHECK(std::isfinite(eps) && eps > 0, "NegativeCosineSimilarity: eps must be positive, got ",
              eps, " (lightly's default is 1e-8)");
}

Tensor NegativeCosineSimilarity::forward(const Tensor& x0, const Tensor& x1) const {
  const char* op = "NegativeCosineSimilarity";
  check_defined(x0, op);
  check_defined(x1, op);
  LUMEN_CHECK(x0.ndim() == 2 && x0.size(0) > 0 && x0.size(1) > 0, op,
              " expects x0 of shape (batch, dim) with batch, dim > 0, got ", x0.str());
  check_same_shape(x0, x1, op);
  check_same_device(x0, x1, op);
  check_same_dtype(x0, x1, op);
  const int64_t rows = x0.size(0), dim = x0.size(1);
  const DType c = x0.dtype() == DType::f64 ? DType::f64 : DType::f32;
  Tensor cos = Tensor::empty_on({rows}, c, x0);
  Tensor norm0 = Tensor::empty_on({rows}, c, x0), norm1 = Tensor::empty_on({rows}, c, x0);
  const double eps = eps_;
  dispatch_float(x0.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if (x0.is_cuda()) {
      LUMEN_ON_CUDA(kernels::cosine_rows_forward_cuda(x0.data<T>(), x1.data<T>(), cos.data<C>(),
                                                      norm0.data<C>(), norm1.data<C>(), rows, dim,
                                                      eps, stream_of(x0)));
    } else {
      kernels::cosine_rows_forward_cpu(x0.data<T>(), x1.data<T>(), cos.data<C>(), norm0.data<C>(),
                                       norm1.data<C>(), rows, dim, eps);
    }
  });
  Tensor loss;
  {
    NoGrad no_grad;
    loss = scale(mean(cos), -1.0);
  }
  record_op("negative_cosine_similarity", loss, {x0, x1},
            [x0 = x0.detach(), x1 = x1.detach(), cos, norm0, norm1, eps, rows, dim](
                const Tensor& dy, const std::vector<bool>& needs) {
              Tensor d0 = needs[0] ? Tensor::empty_like(x0) : Tensor();
              Tensor d1 = needs[1] ? Tensor::empty_like(x1) : Tensor();
              Tensor g = dy.dtype() == cos.dtype() ? dy : dy.to(cos.dtype());
              const double coefficient = -1.0 / double(rows);  // d(-mean cos) / d cos_r
              dispatch_float(x0.dtype(), "NegativeCosineSimilarity backward", [&](auto tag) {
                using T = decltype(tag);
                using C = compute_t<T>;
                T* p0 = needs[0] ? d0.data<T>() : nullptr;
                T* p1 = needs[1] ? d1.data<T>() : nullptr;
                if (x0.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::cosine_rows_backward_cuda(
                      x0.data<T>(), x1.data<T>(), cos.data<C>(), norm0.data<C>(), norm1.data<C>(),
                      g.data<C>(), coefficient, p0, p1, rows, dim, eps, stream_of(x0)));
                } else {
                  kernels::cosine_rows_backward_cpu(x0.data<T>(), x1.data<T>(), cos.data<C>(),
                                                    norm0.data<C>(), norm1.data<C>(), g.data<C>(),
                                                    coefficient, p0, p1, rows, dim, eps);
                }
              });
              return std::vector<Tensor>{d0, d1};
            });
  return loss;
}

}  // namespace lumen
