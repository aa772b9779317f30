#include "engine/ops/batchnorm.h"

#include "engine/autograd/tape.h"
#include "kernels/batchnorm.h"

namespace lumen {

namespace {

DType stats_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

void check_channel_tensor(const Tensor& t, const char* what, const Tensor& x) {
  if (!t.defined()) return;
  const DType want = stats_dtype(x.dtype());
  LUMEN_CHECK(t.ndim() == 1 && t.size(0) == x.size(-1), "batch_norm: ", what, " ", t.str(),
              " must have one value per channel (the last dim) of the input ", x.str());
  LUMEN_CHECK(t.dtype() == want, "batch_norm: ", what, " is ", dtype_name(t.dtype()), " but ",
              dtype_name(x.dtype()), " activations need ", dtype_name(want),
              " statistics and parameters");
  check_same_device(t, x, "batch_norm");
}

template <typename P>
P* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<P>() : nullptr;
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps, const BatchNormTail& tail) {
  check_defined(x_in, "batch_norm");
  LUMEN_CHECK(x_in.ndim() >= 2, "batch_norm: expects (N, C) or NHWC (N, H, W, C), got ",
              x_in.str());
  check_channel_tensor(weight, "weight", x_in);
  check_channel_tensor(bias, "bias", x_in);
  check_channel_tensor(running_mean, "running_mean", x_in);
  check_channel_tensor(running_var, "running_var", x_in);
  LUMEN_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: pass both running_mean and running_var, or neither");
  LUMEN_CHECK(eps > 0, "batch_norm: eps must be positive, got ", eps);
  if (tail.residual.defined()) {
    LUMEN_CHECK(tail.residual.shape() == x_in.shape() && tail.residual.dtype() == x_in.dtype(),
                "batch_norm: the residual ", tail.residual.str(), " must match the input ",
                x_in.str());
    check_same_device(tail.residual, x_in, "batch_norm");
  }
  const Tensor x = x_in.detach();
  const Tensor residual = tail.residual.defined() ? tail.residual.detach() : Tensor();
  const bool relu = tail.relu;
  const int64_t c = x.size(-1), m = x.numel() / c;
  const bool batch_stats = training || !running_mean.defined();
  LUMEN_CHECK(!batch_stats || m > 1,
              "batch_norm: training needs more than one value per channel, "
              "got input ",
              x.str(), "; use a larger batch or eval mode");
  const DType pt = stats_dtype(x.dtype());
  Tensor mean = Tensor::empty_on({c}, pt, x), invstd = Tensor::empty_on({c}, pt, x);
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    using P = compute_t<T>;
    P* rm = training ? ptr_or_null<P>(running_mean) : nullptr;
    P* rv = training ? ptr_or_null<P>(running_var) : nullptr;
    if (x.is_cuda()) {
      LUMEN_ON_CUDA({
        cudaStream_t s = stream_of(x);
        if (batch_stats) {
          kernels::batchnorm_stats_cuda(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                        invstd.data<P>(), rm, rv, s);
        } else {
          kernels::batchnorm_running_stats_cuda<T>(running_mean.data<P>(), running_var.data<P>(), c,
                                                   eps, mean.data<P>(), invstd.data<P>(), s);
        }
        kernels::batchnorm_forward_cuda(x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                                        ptr_or_null<P>(weight), ptr_or_null<P>(bias),
                                        ptr_or_null<T>(residual), relu, y.data<T>(), s);
      });
    } else {
      if (batch_stats) {
        kernels::batchnorm_stats_cpu(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                     invstd.data<P>(), rm, rv);
      } else {
        kernels::batchnorm_running_stats_cpu<T>(running_mean.data<P>(), running_var.data<P>(), c,
                                                eps, mean.data<P>(), invstd.data<P>());
      }
      kernels::batchnorm_forward_cpu(x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                                     ptr_or_null<P>(weight), ptr_or_null<P>(bias),
                                     ptr_or_null<T>(residual), relu, y.data<T>());
    }
  });

  // Inputs that exist, in the order (x, weight, bias, residual).
  std::vector<Tensor> inputs{x_in};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  if (residual.defined()) inputs.push_back(tail.residual);
  const Tensor w = weight.defined() ? weight.detach() : Tensor();
  const Tensor y_relu = relu ? y.detach() : Tensor();  // the ReLU's mask source in backward
  const bool has_weight = weight.defined(), has_bias = bias.defined();
  const bool has_residual = residual.defined();
  record_op("batch_norm", y, inputs,
            [x, w, y_relu, mean, invstd, batch_stats, has_weight, has_bias, has_residual, m, c](
                const Tensor& dy, const std::vector<bool>& needs) {
              size_t slot = 1;
              const bool need_x = needs[0];
              const bool need_w = has_weight && needs[slot++];
              const bool need_b = has_bias && needs[slot++];
              const bool need_res = has_residual && needs[slot];
              const DType pt = mean.dtype();
              Tensor sum_dy = Tensor::empty_on({c}, pt, x);
              Tensor sum_dy_xhat = Tensor::empty_on({c}, pt, x);
              Tensor dx = need_x ? Tensor::empty_like(x) : Tensor();
              // The gradient past the tail (dy through the ReLU) is the residual's gradient; the
              // reduction writes it when asked.
              Tensor g = need_res ? Tensor::empty_like(x) : Tensor();
              const bool reduce = need_w || need_b || need_res || (need_x && batch_stats);
              dispatch_float(x.dtype(), "batch_norm backward", [&](auto tag) {
                using T = decltype(tag);
                using P = compute_t<T>;
                const P* wp = ptr_or_null<P>(w);
                const T* mask = ptr_or_null<T>(y_relu);
                // dx reads g when it was written (no mask needed), else dy with the mask
                const T* dx_from = need_res ? g.data<T>() : dy.data<T>();
                const T* dx_mask = need_res ? nullptr : mask;
                if (x.is_cuda()) {
                  LUMEN_ON_CUDA({
                    cudaStream_t s = stream_of(x);
                    if (reduce) {
                      kernels::batchnorm_backward_reduce_cuda(
                          dy.data<T>(), mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                          sum_dy.data<P>(), sum_dy_xhat.data<P>(), ptr_or_null<T>(g), s);
                    }
                    if (need_x) {
                      kernels::batchnorm_backward_input_cuda(
                          dx_from, dx_mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(), wp,
                          sum_dy.data<P>(), sum_dy_xhat.data<P>(), batch_stats, dx.data<T>(), s);
                    }
                  });
                } else {
                  if (reduce) {
                    kernels::batchnorm_backward_reduce_cpu(
                        dy.data<T>(), mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                        sum_dy.data<P>(), sum_dy_xhat.data<P>(), ptr_or_null<T>(g));
                  }
                  if (need_x) {
                    kernels::batchnorm_backward_input_cpu(
                        dx_from, dx_mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(), wp,
                        sum_dy.data<P>(), sum_dy_xhat.data<P>(), batch_stats, dx.data<T>());
                  }
                }
              });
              std::vector<Tensor> grads{dx};
              if (has_weight) grads.push_back(need_w ? sum_dy_xhat : Tensor());
              if (has_bias) grads.push_back(need_b ? sum_dy : Tensor());
              if (has_residual) grads.push_back(g);
              return grads;
            });
  return y;
}

}  // namespace lumen
