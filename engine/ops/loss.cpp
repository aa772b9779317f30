#include "engine/ops/loss.h"

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "kernels/softmax.h"

namespace lumen {

Tensor softmax_rows(const Tensor& x) {
  check_defined(x, "softmax_rows");
  LUMEN_CHECK(x.ndim() == 2, "softmax_rows expects (rows, cols), got ", x.str());
  const int64_t rows = x.size(0), cols = x.size(1);
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "softmax_rows", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::softmax_forward_cuda(x.data<T>(), y.data<T>(), rows, cols, stream_of(x)));
    } else {
      kernels::softmax_forward_cpu(x.data<T>(), y.data<T>(), rows, cols);
    }
  });
  record_op("softmax_rows", y, {x},
            [y_saved = y.detach(), rows, cols](const Tensor& dy, const std::vector<bool>&) {
              Tensor dx = Tensor::empty_like(dy);
              dispatch_float(dy.dtype(), "softmax_rows backward", [&](auto tag) {
                using T = decltype(tag);
                if (dy.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::softmax_backward_cuda(
                      y_saved.data<T>(), dy.data<T>(), dx.data<T>(), rows, cols, stream_of(dy)));
                } else {
                  kernels::softmax_backward_cpu(y_saved.data<T>(), dy.data<T>(), dx.data<T>(), rows,
                                                cols);
                }
              });
              return std::vector<Tensor>{dx};
            });
  return y;
}

Tensor log_softmax_rows(const Tensor& x) {
  check_defined(x, "log_softmax_rows");
  LUMEN_CHECK(x.ndim() == 2, "log_softmax_rows expects (rows, cols), got ", x.str());
  const int64_t rows = x.size(0), cols = x.size(1);
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "log_softmax_rows", [&](auto tag) {
    using T = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::log_softmax_forward_cuda(x.data<T>(), y.data<T>(), rows, cols, stream_of(x)));
    } else {
      kernels::log_softmax_forward_cpu(x.data<T>(), y.data<T>(), rows, cols);
    }
  });
  record_op("log_softmax_rows", y, {x},
            [y_saved = y.detach(), rows, cols](const Tensor& dy, const std::vector<bool>&) {
              Tensor dx = Tensor::empty_like(dy);
              dispatch_float(dy.dtype(), "log_softmax_rows backward", [&](auto tag) {
                using T = decltype(tag);
                if (dy.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::log_softmax_backward_cuda(
                      y_saved.data<T>(), dy.data<T>(), dx.data<T>(), rows, cols, stream_of(dy)));
                } else {
                  kernels::log_softmax_backward_cpu(y_saved.data<T>(), dy.data<T>(), dx.data<T>(),
                                                    rows, cols);
                }
              });
              return std::vector<Tensor>{dx};
            });
  return y;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  check_defined(logits, "cross_entropy");
  check_defined(targets, "cross_entropy");
  LUMEN_CHECK(logits.ndim() == 2 && logits.size(0) > 0,
              "cross_entropy expects logits (rows, classes) with rows > 0, got ", logits.str());
  LUMEN_CHECK(
      targets.dtype() == DType::i64 && targets.ndim() == 1 && targets.size(0) == logits.size(0),
      "cross_entropy expects targets (", logits.size(0), ",) i64, got ", targets.str());
  const int64_t rows = logits.size(0), cols = logits.size(1);
  Tensor target_here = targets.to(logits.device());
  const DType loss_dtype = logits.dtype() == DType::f64 ? DType::f64 : DType::f32;
  Tensor row_loss = Tensor::empty_on({rows}, loss_dtype, logits);
  Tensor dlogits = Tensor::empty_like(logits);  // gradient of the mean loss
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    auto* loss = static_cast<compute_t<T>*>(row_loss.raw_data());
    if (logits.is_cuda()) {
      LUMEN_ON_CUDA(kernels::cross_entropy_cuda(logits.data<T>(), target_here.data<int64_t>(), loss,
                                                dlogits.data<T>(), 1.0 / double(rows), rows, cols,
                                                stream_of(logits)));
    } else {
      kernels::cross_entropy_cpu(logits.data<T>(), target_here.data<int64_t>(), loss,
                                 dlogits.data<T>(), 1.0 / double(rows), rows, cols);
    }
  });
  Tensor loss;
  {
    NoGrad no_grad;
    loss = mean(row_loss);
  }
  record_op("cross_entropy", loss, {logits},
            [dlogits, loss_dtype](const Tensor& dy, const std::vector<bool>&) {
              // dy is (1,) in the loss dtype; bring it to the logits dtype before scaling.
              Tensor s = dy.dtype() == dlogits.dtype() ? dy : dy.to(dlogits.dtype());
              return std::vector<Tensor>{scale_by_scalar(dlogits, s)};
            });
  return loss;
}

}  // namespace lumen
