#include "losses/vicreg.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "engine/ops/reduce.h"
#include "kernels/colstats.h"
#include "kernels/redundancy.h"
#include "losses/compute.h"

namespace lumen {

namespace {

// One view's variance and covariance terms over its (gathered) rows x (rows, d).
struct Spread {
  Tensor centered;  // (rows, d) x minus its column means
  Tensor grad;      // (d, d) d (terms) / d Cov
};

Spread spread_terms(const Tensor& x, const kernels::MatrixLossParams& params, Tensor row_loss) {
  const int64_t rows = x.size(0), d = x.size(1);
  Spread s;
  s.centered = Tensor::empty_like(x);
  Tensor mean = Tensor::empty_on({d}, x.dtype(), x);
  Tensor cov = Tensor::empty_on({d, d}, x.dtype(), x);
  s.grad = Tensor::empty_like(cov);
  losses::dispatch_compute(x.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA({
        kernels::column_stats_cuda(x.data<C>(), rows, d, 0, mean.data<C>(), nullptr, stream_of(x));
        kernels::subtract_columns_cuda(x.data<C>(), mean.data<C>(), rows, d, s.centered.data<C>(),
                                       stream_of(x));
      });
    } else {
      kernels::column_stats_cpu(x.data<C>(), rows, d, 0, mean.data<C>(), nullptr);
      kernels::subtract_columns_cpu(x.data<C>(), mean.data<C>(), rows, d, s.centered.data<C>());
    }
  });
  gemm(s.centered, s.centered, cov, true, false, 1.0 / double(rows - 1));
  losses::dispatch_compute(x.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::matrix_loss_rows_cuda(cov.data<C>(), d, params, row_loss.data<C>(),
                                                   s.grad.data<C>(), stream_of(x)));
    } else {
      kernels::matrix_loss_rows_cpu(cov.data<C>(), d, params, row_loss.data<C>(), s.grad.data<C>());
    }
  });
  return s;
}

}  // namespace

VICRegLoss::VICRegLoss(VICRegOptions options, std::shared_ptr<Communicator> comm)
    : options_(options), comm_(comm ? std::move(comm) : single_process_communicator()) {
  for (double v : {options_.lambda_param, options_.mu_param, options_.nu_param}) {
    LUMEN_CHECK(std::isfinite(v), "VICRegLoss: illegal weight ", v,
                ": lambda_param, mu_param and nu_param must be finite (lightly's: 25, 25, 1)");
  }
  LUMEN_CHECK(std::isfinite(options_.eps) && options_.eps >= 0, "VICRegLoss: illegal eps ",
              options_.eps, ": it must be finite and >= 0 (lightly's default is 1e-4)");
}

Tensor VICRegLoss::forward(const Tensor& z_a, const Tensor& z_b) const {
  const char* op = "VICRegLoss";
  losses::check_embedding_pair(
      z_a, z_b, op, "an unbiased variance of one sample is undefined; lightly asserts it too");
  const int64_t n = z_a.size(0), d = z_a.size(1);
  const Tensor a = losses::to_compute(z_a), b = losses::to_compute(z_b);
  const DType c = a.dtype();
  // row losses: [invariance (n) | spread of a (d) | spread of b (d)], summed at the end
  Tensor row_loss = Tensor::empty_on({n + 2 * d}, c, a);
  Tensor da = Tensor::empty_like(a), db = Tensor::empty_like(b);  // the invariance's gradient
  const double inv_scale = options_.lambda_param / double(n * d);
  losses::dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    if (a.is_cuda()) {
      LUMEN_ON_CUDA(kernels::squared_difference_rows_cuda(a.data<C>(), b.data<C>(), n, d, inv_scale,
                                                          row_loss.data<C>(), da.data<C>(),
                                                          db.data<C>(), stream_of(a)));
    } else {
      kernels::squared_difference_rows_cpu(a.data<C>(), b.data<C>(), n, d, inv_scale,
                                           row_loss.data<C>(), da.data<C>(), db.data<C>());
    }
  });
  const bool gather = options_.gather_distributed && comm_->world_size() > 1;
  const int world = gather ? comm_->world_size() : 1, rank = gather ? comm_->rank() : 0;
  kernels::MatrixLossParams params;
  params.kind = kernels::MatrixLoss::vicreg;
  params.var_scale = 0.5 * options_.mu_param / double(d);
  params.cov_scale = options_.nu_param / double(d);
  params.eps = options_.eps;
  const Spread sa = spread_terms(gather ? comm_->all_gather(a) : a, params, row_loss.rows(n, d));
  const Spread sb =
      spread_terms(gather ? comm_->all_gather(b) : b, params, row_loss.rows(n + d, d));
  Tensor loss;
  {
    NoGrad no_grad;
    loss = sum(row_loss);
  }
  const int64_t rows = sa.centered.size(0);
  // d (terms) / d x = centred (G + G^T) / (rows - 1) = 2 centred G / (rows - 1), G symmetric
  // as Cov is; times world for the gathered rows (see the header); this rank's rows only.
  const double spread_scale = 2.0 * world / double(rows - 1);
  record_op("vicreg_loss", loss, {z_a, z_b},
            [sa, sb, da, db, n, rank, spread_scale, ta = z_a.dtype(), tb = z_b.dtype()](
                const Tensor& dy, const std::vector<bool>& needs) {
              std::vector<Tensor> out(2);
              const std::pair<const Spread*, const Tensor*> views[2] = {{&sa, &da}, {&sb, &db}};
              const DType types[2] = {ta, tb};
              for (int v = 0; v < 2; ++v) {
                if (!needs[v]) continue;
                const Spread& s = *views[v].first;
                Tensor g = losses::input_gradient(*views[v].second, dy, s.grad.dtype());
                gemm(s.centered.rows(int64_t(rank) * n, n),
                     losses::input_gradient(s.grad, dy, s.grad.dtype()), g, false, false,
                     spread_scale, 1.0);
                out[v] = g.dtype() == types[v] ? g : g.to(types[v]);
              }
              return out;
            });
  return loss;
}

}  // namespace lumen
