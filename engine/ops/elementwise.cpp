#include "engine/ops/elementwise.h"

#include "engine/autograd/tape.h"
#include "kernels/elementwise.h"

namespace lumen {

namespace {

Tensor binary_raw(kernels::BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name);
  check_defined(b, name);
  check_same_device(a, b, name);
  check_same_dtype(a, b, name);
  check_same_shape(a, b, name);
  Tensor y = Tensor::empty_like(a);
  dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    if (a.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::binary_cuda(op, a.data<T>(), b.data<T>(), y.data<T>(), a.numel(), stream_of(a)));
    } else {
      kernels::binary_cpu(op, a.data<T>(), b.data<T>(), y.data<T>(), a.numel());
    }
  });
  return y;
}

Tensor axpby_raw(double alpha, const Tensor& x, double beta, Tensor y) {
  dispatch_float(x.dtype(), "axpby", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::axpby_cuda(alpha, x.data<T>(), beta, y.data<T>(), x.numel(), stream_of(x)));
    } else {
      kernels::axpby_cpu(alpha, x.data<T>(), beta, y.data<T>(), x.numel());
    }
  });
  return y;
}

Tensor unary(kernels::UnaryOp op, const Tensor& x, const char* name) {
  check_defined(x, name);
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::unary_forward_cuda(op, x.data<T>(), y.data<T>(), x.numel(), stream_of(x)));
    } else {
      kernels::unary_forward_cpu(op, x.data<T>(), y.data<T>(), x.numel());
    }
  });
  const Tensor saved = kernels::unary_backward_reads_input(op) ? x.detach() : y.detach();
  record_op(name, y, {x}, [op, saved, name](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty_like(saved);
    dispatch_float(saved.dtype(), name, [&](auto tag) {
      using T = decltype(tag);
      if (saved.is_cuda()) {
        LUMEN_ON_CUDA(kernels::unary_backward_cuda(op, saved.data<T>(), dy.data<T>(), dx.data<T>(),
                                                   saved.numel(), stream_of(saved)));
      } else {
        kernels::unary_backward_cpu(op, saved.data<T>(), dy.data<T>(), dx.data<T>(), saved.numel());
      }
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(kernels::BinaryOp::add, a, b, "add");
  record_op("add", y, {a, b}, [](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{dy, dy};
  });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(kernels::BinaryOp::sub, a, b, "sub");
  record_op("sub", y, {a, b}, [](const Tensor& dy, const std::vector<bool>& needs) {
    return std::vector<Tensor>{dy, needs[1] ? scale(dy, -1.0) : Tensor()};
  });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(kernels::BinaryOp::mul, a, b, "mul");
  record_op("mul", y, {a, b}, [a, b](const Tensor& dy, const std::vector<bool>& needs) {
    return std::vector<Tensor>{
        needs[0] ? binary_raw(kernels::BinaryOp::mul, dy, b, "mul") : Tensor(),
        needs[1] ? binary_raw(kernels::BinaryOp::mul, dy, a, "mul") : Tensor()};
  });
  return y;
}

Tensor scale(const Tensor& x, double alpha) {
  check_defined(x, "scale");
  Tensor y = axpby_raw(alpha, x, 0.0, Tensor::empty_like(x));
  record_op("scale", y, {x}, [alpha](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{scale(dy, alpha)};
  });
  return y;
}

Tensor relu(const Tensor& x) {
  check_defined(x, "relu");
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::relu_forward_cuda(x.data<T>(), y.data<T>(), x.numel(), stream_of(x)));
    } else {
      kernels::relu_forward_cpu(x.data<T>(), y.data<T>(), x.numel());
    }
  });
  record_op("relu", y, {x}, [x](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty_like(x);
    dispatch_float(x.dtype(), "relu backward", [&](auto tag) {
      using T = decltype(tag);
      if (x.is_cuda()) {
        LUMEN_ON_CUDA(kernels::relu_backward_cuda(x.data<T>(), dy.data<T>(), dx.data<T>(),
                                                  x.numel(), stream_of(x)));
      } else {
        kernels::relu_backward_cpu(x.data<T>(), dy.data<T>(), dx.data<T>(), x.numel());
      }
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor elementwise_sqrt(const Tensor& x) { return unary(kernels::UnaryOp::sqrt, x, "sqrt"); }
Tensor elementwise_exp(const Tensor& x) { return unary(kernels::UnaryOp::exp, x, "exp"); }
Tensor gelu(const Tensor& x) { return unary(kernels::UnaryOp::gelu, x, "gelu"); }

void add_inplace(Tensor& into, const Tensor& x, double alpha) {
  check_defined(into, "add_inplace");
  check_defined(x, "add_inplace");
  check_same_device(into, x, "add_inplace");
  check_same_dtype(into, x, "add_inplace");
  check_same_shape(into, x, "add_inplace");
  axpby_raw(alpha, x, 1.0, into);
}

Tensor scale_by_scalar(const Tensor& x, const Tensor& s, double alpha) {
  check_same_device(x, s, "scale_by_scalar");
  check_same_dtype(x, s, "scale_by_scalar");
  LUMEN_CHECK(s.numel() == 1, "scale_by_scalar: scalar has shape ", s.str());
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "scale_by_scalar", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::scale_by_scalar_cuda(x.data<T>(), s.data<T>(), alpha, y.data<T>(),
                                                  x.numel(), stream_of(x)));
    } else {
      kernels::scale_by_scalar_cpu(x.data<T>(), s.data<T>(), alpha, y.data<T>(), x.numel());
    }
  });
  return y;
}

Tensor broadcast_scalar(const Tensor& s, const Shape& shape, double alpha) {
  LUMEN_CHECK(s.numel() == 1, "broadcast_scalar: scalar has shape ", s.str());
  Tensor y = Tensor::empty_on(shape, s.dtype(), s);
  dispatch_float(s.dtype(), "broadcast_scalar", [&](auto tag) {
    using T = decltype(tag);
    if (s.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::broadcast_scalar_cuda(s.data<T>(), alpha, y.data<T>(), y.numel(), stream_of(s)));
    } else {
      kernels::broadcast_scalar_cpu(s.data<T>(), alpha, y.data<T>(), y.numel());
    }
  });
  return y;
}

}  // namespace lumen
