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

// Synchronised statistics (see batchnorm.h): this rank's (mean, biased var, count) gathered from
// every rank and combined into mean, invstd, the total count (1) and, when defined, the running
// buffers.
void synced_statistics(const Tensor& x, int64_t m, int64_t c, double eps, double momentum,
                       Tensor& mean, Tensor& invstd, Tensor& count, const Tensor& running_mean,
                       const Tensor& running_var, Communicator& comm) {
  // [mean, var, count] in double (the CPU's own accumulation precision, so that the combined f32
  // statistics are those of the whole batch)
  Tensor local = Tensor::empty_on({1, 2 * c + 1}, DType::f64, x);
  local.reshape({2 * c + 1}).rows(2 * c, 1).fill(double(m));
  dispatch_float(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    using P = compute_t<T>;
    // mean and invstd receive this rank's statistics here, replaced by the combined ones below
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::batchnorm_stats_cuda(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                                  invstd.data<P>(), nullptr, nullptr, stream_of(x),
                                                  local.data<double>()));
    } else {
      kernels::batchnorm_stats_cpu(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                   invstd.data<P>(), nullptr, nullptr, local.data<double>());
    }
  });
  const Tensor gathered = comm.all_gather(local);  // (world, 2C + 1)
  dispatch_float(x.dtype(), "batch_norm", [&](auto tag) {
    using P = compute_t<decltype(tag)>;
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::batchnorm_combine_stats_cuda(
          gathered.data<double>(), comm.world_size(), c, eps, momentum, mean.data<P>(),
          invstd.data<P>(), count.data<P>(), ptr_or_null<P>(running_mean),
          ptr_or_null<P>(running_var), stream_of(x)));
    } else {
      kernels::batchnorm_combine_stats_cpu(gathered.data<double>(), comm.world_size(), c, eps,
                                           momentum, mean.data<P>(), invstd.data<P>(),
                                           count.data<P>(), ptr_or_null<P>(running_mean),
                                           ptr_or_null<P>(running_var));
    }
  });
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps, const BatchNormTail& tail, Communicator* sync) {
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
  const bool synced = training && sync != nullptr && sync->world_size() > 1;
  LUMEN_CHECK(!batch_stats || m > 1 || synced,
              "batch_norm: training needs more than one value per channel, "
              "got input ",
              x.str(), "; use a larger batch or eval mode");
  const DType pt = stats_dtype(x.dtype());
  Tensor mean = Tensor::empty_on({c}, pt, x), invstd = Tensor::empty_on({c}, pt, x);
  Tensor count;  // synced: the values per channel of every rank, (1) on x's device
  if (synced) {
    count = Tensor::empty_on({1}, pt, x);
    synced_statistics(x, m, c, eps, momentum, mean, invstd, count, running_mean, running_var,
                      *sync);
  }
  Tensor y = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    using P = compute_t<T>;
    P* rm = training ? ptr_or_null<P>(running_mean) : nullptr;
    P* rv = training ? ptr_or_null<P>(running_var) : nullptr;
    if (x.is_cuda()) {
      LUMEN_ON_CUDA({
        cudaStream_t s = stream_of(x);
        if (batch_stats && !synced) {  // (synced: computed above)
          kernels::batchnorm_stats_cuda(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                        invstd.data<P>(), rm, rv, s);
        } else if (!batch_stats) {
          kernels::batchnorm_running_stats_cuda<T>(running_mean.data<P>(), running_var.data<P>(), c,
                                                   eps, mean.data<P>(), invstd.data<P>(), s);
        }
        kernels::batchnorm_forward_cuda(x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                                        ptr_or_null<P>(weight), ptr_or_null<P>(bias),
                                        ptr_or_null<T>(residual), relu, y.data<T>(), s);
      });
    } else {
      if (batch_stats && !synced) {
        kernels::batchnorm_stats_cpu(x.data<T>(), m, c, eps, momentum, mean.data<P>(),
                                     invstd.data<P>(), rm, rv);
      } else if (!batch_stats) {
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
            [x, w, y_relu, mean, invstd, count, batch_stats, has_weight, has_bias, has_residual, m,
             c, sync = synced ? sync : nullptr](const Tensor& dy, const std::vector<bool>& needs) {
              size_t slot = 1;
              const bool need_x = needs[0];
              const bool need_w = has_weight && needs[slot++];
              const bool need_b = has_bias && needs[slot++];
              const bool need_res = has_residual && needs[slot];
              const DType pt = mean.dtype();
              Tensor sum_dy = Tensor::empty_on({c}, pt, x);
              Tensor sum_dy_xhat = Tensor::empty_on({c}, pt, x);
              // The gradient past the tail (dy through the ReLU) is the residual's gradient; the
              // reduction writes it when asked.
              Tensor g = need_res ? Tensor::empty_like(x) : Tensor();
              auto finish = [&](const Tensor& dx) {
                std::vector<Tensor> grads{dx};
                if (has_weight) grads.push_back(need_w ? sum_dy_xhat : Tensor());
                if (has_bias) grads.push_back(need_b ? sum_dy : Tensor());
                if (has_residual) grads.push_back(g);
                return grads;
              };
              const bool reduce = need_w || need_b || need_res || (need_x && batch_stats);
              dispatch_float(x.dtype(), "batch_norm backward", [&](auto tag) {
                using T = decltype(tag);
                using P = compute_t<T>;
                if (!reduce) return;
                const T* mask = ptr_or_null<T>(y_relu);
                if (x.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::batchnorm_backward_reduce_cuda(
                      dy.data<T>(), mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                      sum_dy.data<P>(), sum_dy_xhat.data<P>(), ptr_or_null<T>(g), stream_of(x)));
                } else {
                  kernels::batchnorm_backward_reduce_cpu(
                      dy.data<T>(), mask, x.data<T>(), m, c, mean.data<P>(), invstd.data<P>(),
                      sum_dy.data<P>(), sum_dy_xhat.data<P>(), ptr_or_null<T>(g));
                }
              });
              if (!need_x) return finish(Tensor());
              // Synchronised: dx needs the sums of every rank's batch; dweight and dbias keep this
              // rank's (the all-reduce of the gradients averages them, as torch's SyncBatchNorm).
              Tensor total_dy = sum_dy, total_dy_xhat = sum_dy_xhat;
              if (sync != nullptr) {
                Tensor both = Tensor::empty_on({2 * c}, pt, x);
                both.rows(0, c).copy_from(sum_dy);
                both.rows(c, c).copy_from(sum_dy_xhat);
                sync->all_reduce(both, ReduceOp::sum);
                total_dy = both.rows(0, c);
                total_dy_xhat = both.rows(c, c);
              }
              Tensor dx = Tensor::empty_like(x);
              dispatch_float(x.dtype(), "batch_norm backward", [&](auto tag) {
                using T = decltype(tag);
                using P = compute_t<T>;
                const P* wp = ptr_or_null<P>(w);
                const P* n = ptr_or_null<P>(count);
                // dx reads g when it was written (no mask needed), else dy with the mask
                const T* dx_from = need_res ? g.data<T>() : dy.data<T>();
                const T* dx_mask = need_res ? nullptr : ptr_or_null<T>(y_relu);
                if (x.is_cuda()) {
                  LUMEN_ON_CUDA(kernels::batchnorm_backward_input_cuda(
                      dx_from, dx_mask, x.data<T>(), m, c, n, mean.data<P>(), invstd.data<P>(), wp,
                      total_dy.data<P>(), total_dy_xhat.data<P>(), batch_stats, dx.data<T>(),
                      stream_of(x)));
                } else {
                  kernels::batchnorm_backward_input_cpu(
                      dx_from, dx_mask, x.data<T>(), m, c, n, mean.data<P>(), invstd.data<P>(), wp,
                      total_dy.data<P>(), total_dy_xhat.data<P>(), batch_stats, dx.data<T>());
                }
              });
              return finish(dx);
            });
  return y;
}

}  // namespace lumen
