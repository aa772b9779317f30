#include "engine/train/momentum.h"

#include <cmath>

#include "kernels/momentum.h"

namespace lumen {

void momentum_update(Tensor target, const Tensor& online, double m) {
  const char* op = "momentum_update";
  check_defined(target, op);
  check_defined(online, op);
  LUMEN_CHECK(target.ndim() == 1, op, " works on flat buffers, got target ", target.str());
  check_same_shape(target, online, op);
  check_same_device(target, online, op);
  check_same_dtype(target, online, op);
  LUMEN_CHECK(target.dtype() == DType::f32 || target.dtype() == DType::f64, op,
              ": parameters are f32 (or f64), got ", target.str());
  LUMEN_CHECK(std::isfinite(m) && m >= 0 && m <= 1, op, ": momentum ", m,
              " must lie in [0, 1] (lightly's MoCo and BYOL use 0.99 to 1)");
  const int64_t n = target.numel();
  if (target.dtype() == DType::f64) {
    if (target.is_cuda()) {
      LUMEN_ON_CUDA(kernels::momentum_update_cuda(target.data<double>(), online.data<double>(), n,
                                                  m, stream_of(target)));
    } else {
      kernels::momentum_update_cpu(target.data<double>(), online.data<double>(), n, m);
    }
  } else {
    if (target.is_cuda()) {
      LUMEN_ON_CUDA(kernels::momentum_update_cuda(target.data<float>(), online.data<float>(), n, m,
                                                  stream_of(target)));
    } else {
      kernels::momentum_update_cpu(target.data<float>(), online.data<float>(), n, m);
    }
  }
}

}  // namespace lumen
