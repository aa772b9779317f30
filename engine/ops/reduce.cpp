#include "engine/ops/reduce.h"

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "kernels/reduce.h"

namespace lumen {

namespace {
Tensor scaled_sum(const Tensor& x, double alpha, const char* name) {
  check_defined(x, name);
  Tensor y = Tensor::empty_on({1}, x.dtype(), x);
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      const DType work_dtype = std::is_same_v<T, double> ? DType::f64 : DType::f32;
      Tensor work = Tensor::empty_on({kernels::kSumWorkspace}, work_dtype, x);
      LUMEN_ON_CUDA(kernels::sum_cuda(x.data<T>(), x.numel(), alpha, y.data<T>(),
                                      static_cast<compute_t<T>*>(work.raw_data()), stream_of(x)));
    } else {
      kernels::sum_cpu(x.data<T>(), x.numel(), alpha, y.data<T>());
    }
  });
  const Shape shape = x.shape();
  record_op(name, y, {x}, [shape, alpha](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{broadcast_scalar(dy, shape, alpha)};
  });
  return y;
}
}  // namespace

Tensor sum(const Tensor& x) { return scaled_sum(x, 1.0, "sum"); }

Tensor mean(const Tensor& x) {
  LUMEN_CHECK(x.numel() > 0, "mean of an empty tensor ", x.str());
  return scaled_sum(x, 1.0 / double(x.numel()), "mean");
}

}  // namespace lumen
