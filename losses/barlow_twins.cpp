#include "losses/barlow_twins.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/gemm.h"
#include "engine/ops/reduce.h"
#include "kernels/batchnorm.h"
#include "kernels/redundancy.h"
#include "losses/compute.h"

namespace lumen {

namespace {

constexpr double kBatchNormEps = 1e-5;  // F.batch_norm's default

// One view batch-normalised over its rows: F.batch_norm(z, training=True), no affine.
struct Normalized {
  Tensor z;       // (n, d) the input in the compute dtype
  Tensor mean;    // (d)
  Tensor invstd;  // (d)
  Tensor y;       // (n, d) normalised
};

Normalized batch_normalize(const Tensor& input) {
  Normalized v;
  v.z = losses::to_compute(input);
  const int64_t n = v.z.size(0), d = v.z.size(1);
  v.mean = Tensor::empty_on({d}, v.z.dtype(), v.z);
  v.invstd = Tensor::empty_like(v.mean);
  v.y = Tensor::empty_like(v.z);
  losses::dispatch_compute(v.z.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (v.z.is_cuda()) {
      LUMEN_ON_CUDA({
        kernels::batchnorm_stats_cuda<C>(v.z.data<C>(), n, d, kBatchNormEps, 0.0, v.mean.data<C>(),
                                         v.invstd.data<C>(), nullptr, nullptr, stream_of(v.z));
        kernels::batchnorm_forward_cuda<C>(v.z.data<C>(), n, d, v.mean.data<C>(),
                                           v.invstd.data<C>(), nullptr, nullptr, nullptr, false,
                                           v.y.data<C>(), stream_of(v.z));
      });
    } else {
      kernels::batchnorm_stats_cpu<C>(v.z.data<C>(), n, d, kBatchNormEps, 0.0, v.mean.data<C>(),
                                      v.invstd.data<C>(), nullptr, nullptr);
      kernels::batchnorm_forward_cpu<C>(v.z.data<C>(), n, d, v.mean.data<C>(), v.invstd.data<C>(),
                                        nullptr, nullptr, nullptr, false, v.y.data<C>());
    }
  });
  return v;
}

// dz from the gradient dy of the normalised view (training-mode batch norm backward, no affine).
Tensor batch_normalize_backward(const Normalized& v, const Tensor& dy) {
  const int64_t n = v.z.size(0), d = v.z.size(1);
  Tensor dz = Tensor::empty_like(v.z);
  Tensor sum_dy = Tensor::empty_like(v.mean), sum_dy_xhat = Tensor::empty_like(v.mean);
  losses::dispatch_compute(v.z.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (v.z.is_cuda()) {
      LUMEN_ON_CUDA({
        kernels::batchnorm_backward_reduce_cuda<C>(
            dy.data<C>(), nullptr, v.z.data<C>(), n, d, v.mean.data<C>(), v.invstd.data<C>(),
            sum_dy.data<C>(), sum_dy_xhat.data<C>(), nullptr, stream_of(v.z));
        kernels::batchnorm_backward_input_cuda<C>(dy.data<C>(), nullptr, v.z.data<C>(), n, d,
                                                  nullptr, v.mean.data<C>(), v.invstd.data<C>(),
                                                  nullptr, sum_dy.data<C>(), sum_dy_xhat.data<C>(),
                                                  true, dz.data<C>(), stream_of(v.z));
      });
    } else {
      kernels::batchnorm_backward_reduce_cpu<C>(dy.data<C>(), nullptr, v.z.data<C>(), n, d,
                                                v.mean.data<C>(), v.invstd.data<C>(),
                                                sum_dy.data<C>(), sum_dy_xhat.data<C>(), nullptr);
      kernels::batchnorm_backward_input_cpu<C>(
          dy.data<C>(), nullptr, v.z.data<C>(), n, d, nullptr, v.mean.data<C>(), v.invstd.data<C>(),
          nullptr, sum_dy.data<C>(), sum_dy_xhat.data<C>(), true, dz.data<C>());
    }
  });
  return dz;
}

}  // namespace

BarlowTwinsLoss::BarlowTwinsLoss(BarlowTwinsOptions options, std::shared_ptr<Communicator> comm)
    : options_(options), comm_(comm ? std::move(comm) : single_process_communicator()) {
  LUMEN_CHECK(std::isfinite(options_.lambda_param), "BarlowTwinsLoss: illegal lambda_param ",
              options_.lambda_param, ": it must be finite (lightly's default is 5e-3)");
}

Tensor BarlowTwinsLoss::forward(const Tensor& z_a, const Tensor& z_b) const {
  const char* op = "BarlowTwinsLoss";
  losses::check_embedding_pair(
      z_a, z_b, op, "batch norm over one sample is undefined; torch's F.batch_norm refuses it too");
  const int64_t n = z_a.size(0), d = z_a.size(1);
  const Normalized a = batch_normalize(z_a), b = batch_normalize(z_b);
  const bool gather = options_.gather_distributed && comm_->world_size() > 1;
  const int world = gather ? comm_->world_size() : 1;
  Tensor c = Tensor::empty_on({d, d}, a.y.dtype(), a.y);
  gemm(a.y, b.y, c, true, false, 1.0 / (double(n) * world));  // c / N, and / world when gathering
  if (gather) comm_->all_reduce(c, ReduceOp::sum);
  Tensor row_loss = Tensor::empty_on({d}, c.dtype(), c), dc = Tensor::empty_like(c);
  kernels::MatrixLossParams params;
  params.kind = kernels::MatrixLoss::barlow_twins;
  params.lambda = options_.lambda_param;
  losses::dispatch_compute(c.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (c.is_cuda()) {
      LUMEN_ON_CUDA(kernels::matrix_loss_rows_cuda(c.data<C>(), d, params, row_loss.data<C>(),
                                                   dc.data<C>(), stream_of(c)));
    } else {
      kernels::matrix_loss_rows_cpu(c.data<C>(), d, params, row_loss.data<C>(), dc.data<C>());
    }
  });
  Tensor loss;
  {
    NoGrad no_grad;
    loss = sum(row_loss);
  }
  record_op("barlow_twins_loss", loss, {z_a, z_b},
            [a, b, dc, n, ta = z_a.dtype(), tb = z_b.dtype()](const Tensor& dy,
                                                              const std::vector<bool>& needs) {
              // d loss / d a.y = b.y dc^T / N, d loss / d b.y = a.y dc / N (whatever the world
              // size: see the header)
              const Tensor g = losses::input_gradient(dc, dy, dc.dtype());
              std::vector<Tensor> out(2);
              if (needs[0]) {
                Tensor dya = Tensor::empty_like(a.y);
                gemm(b.y, g, dya, false, true, 1.0 / double(n));
                out[0] = batch_normalize_backward(a, dya);
                if (out[0].dtype() != ta) out[0] = out[0].to(ta);
              }
              if (needs[1]) {
                Tensor dyb = Tensor::empty_like(b.y);
                gemm(a.y, g, dyb, false, false, 1.0 / double(n));
                out[1] = batch_normalize_backward(b, dyb);
                if (out[1].dtype() != tb) out[1] = out[1].to(tb);
              }
              return out;
            });
  return loss;
}

}  // namespace lumen
