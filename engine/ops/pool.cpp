#include "engine/ops/pool.h"

#include "engine/autograd/tape.h"
#include "kernels/pool.h"

namespace lumen {

Tensor max_pool2d(const Tensor& x_in, int64_t kernel, int64_t stride, int64_t padding) {
  check_defined(x_in, "max_pool2d");
  LUMEN_CHECK(x_in.ndim() == 4, "max_pool2d: input must be NHWC (N, H, W, C), got ", x_in.str());
  LUMEN_CHECK(kernel >= 1 && stride >= 1 && padding >= 0 && 2 * padding <= kernel,
              "max_pool2d: needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel / 2, got "
              "kernel ",
              kernel, ", stride ", stride, ", padding ", padding);
  LUMEN_CHECK(x_in.size(1) + 2 * padding >= kernel && x_in.size(2) + 2 * padding >= kernel,
              "max_pool2d: the ", kernel, "x", kernel, " window is larger than the padded input ",
              x_in.str());
  const Tensor x = x_in.detach();
  const kernels::ConvGeometry g{x.size(0), x.size(1), x.size(2), x.size(3),
                                kernel,    kernel,    stride,    padding};
  Tensor y = Tensor::empty_on({g.n, g.out_h(), g.out_w(), g.c}, x.dtype(), x);
  Tensor argmax = Tensor::empty_on(y.shape(), DType::i32, x);
  dispatch_float(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::max_pool2d_forward_cuda(x.data<T>(), y.data<T>(),
                                                     argmax.data<int32_t>(), g, stream_of(x)));
    } else {
      kernels::max_pool2d_forward_cpu(x.data<T>(), y.data<T>(), argmax.data<int32_t>(), g);
    }
  });
  record_op("max_pool2d", y, {x_in}, [x, argmax, g](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty_like(x);
    dispatch_float(dy.dtype(), "max_pool2d backward", [&](auto tag) {
      using T = decltype(tag);
      if (dy.is_cuda()) {
        LUMEN_ON_CUDA(kernels::max_pool2d_backward_cuda(dy.data<T>(), argmax.data<int32_t>(),
                                                        dx.data<T>(), g, stream_of(dy)));
      } else {
        kernels::max_pool2d_backward_cpu(dy.data<T>(), argmax.data<int32_t>(), dx.data<T>(), g);
      }
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor global_avg_pool(const Tensor& x) {
  check_defined(x, "global_avg_pool");
  LUMEN_CHECK(x.ndim() == 4, "global_avg_pool: input must be NHWC (N, H, W, C), got ", x.str());
  const int64_t n = x.size(0), hw = x.size(1) * x.size(2), c = x.size(3);
  LUMEN_CHECK(hw > 0, "global_avg_pool: input ", x.str(), " has no pixels");
  Tensor y = Tensor::empty_on({n, c}, x.dtype(), x);
  dispatch_float(x.dtype(), "global_avg_pool", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::global_avg_pool_forward_cuda(x.data<T>(), y.data<T>(), n, hw, c, stream_of(x)));
    } else {
      kernels::global_avg_pool_forward_cpu(x.data<T>(), y.data<T>(), n, hw, c);
    }
  });
  const Shape in_shape = x.shape();
  record_op("global_avg_pool", y, {x},
            [in_shape, n, hw, c](const Tensor& dy, const std::vector<bool>&) {
              Tensor dx = Tensor::empty_on(in_shape, dy.dtype(), dy);
              dispatch_float(dy.dtype(), "global_avg_pool backward", [&](auto tag) {
                using T = decltype(tag);
                if (dy.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::global_avg_pool_backward_cuda(dy.data<T>(), dx.data<T>(),
                                                                       n, hw, c, stream_of(dy)));
                } else {
                  kernels::global_avg_pool_backward_cpu(dy.data<T>(), dx.data<T>(), n, hw, c);
                }
              });
              return std::vector<Tensor>{dx};
            });
  return y;
}

}  // namespace lumen
