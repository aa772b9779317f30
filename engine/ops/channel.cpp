#include "engine/ops/channel.h"

#include "engine/autograd/tape.h"
#include "engine/ops/matmul.h"
#include "kernels/channel.h"

namespace lumen {

namespace {

// out[c] = sum of x over every dim but the last       x: (..., C);  out: (C)
Tensor channel_sum(const Tensor& x) {
  const int64_t c = x.size(-1), m = x.numel() / c;
  Tensor out = Tensor::empty_on({c}, x.dtype(), x);
  dispatch_float(x.dtype(), "channel_sum", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::channel_sum_cuda(x.data<T>(), out.data<T>(), m, c, stream_of(x)));
    } else {
      kernels::channel_sum_cpu(x.data<T>(), out.data<T>(), m, c);
    }
  });
  return out;
}

}  // namespace

Tensor add_channel_bias(const Tensor& x, const Tensor& bias) {
  check_defined(x, "add_channel_bias");
  check_defined(bias, "add_channel_bias");
  check_same_device(x, bias, "add_channel_bias");
  check_same_dtype(x, bias, "add_channel_bias");
  LUMEN_CHECK(x.ndim() >= 1 && bias.ndim() == 1 && bias.size(0) == x.size(-1),
              "add_channel_bias: bias ", bias.str(),
              " must have one value per channel (the last dim) of ", x.str());
  const int64_t c = x.size(-1), m = x.numel() / c;
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "add_channel_bias", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::bias_add_cuda(x.data<T>(), bias.data<T>(), y.data<T>(), m, c, stream_of(x)));
    } else {
      kernels::bias_add_cpu(x.data<T>(), bias.data<T>(), y.data<T>(), m, c);
    }
  });
  record_op("add_channel_bias", y, {x, bias}, [](const Tensor& dy, const std::vector<bool>& needs) {
    return std::vector<Tensor>{dy, needs[1] ? channel_sum(dy) : Tensor()};
  });
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_defined(x, "linear");
  check_defined(w, "linear");
  LUMEN_CHECK(x.ndim() == 2 && w.ndim() == 2 && x.size(1) == w.size(1),
              "linear: expects x (N, in) and weight (out, in), got ", x.str(), " and ", w.str());
  Tensor y = matmul(x, w, false, true);
  return bias.defined() ? add_channel_bias(y, bias) : y;
}

}  // namespace lumen
