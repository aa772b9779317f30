#include "losses/dcl.h"

#include <cmath>

#include "kernels/dcl.h"
#include "losses/contrastive.h"

namespace lumen {

using contrastive::dispatch_compute;

DCLLoss::DCLLoss(DCLOptions options, std::shared_ptr<Communicator> comm)
    : DCLLoss(options, 0.0, std::move(comm)) {}

DCLLoss::DCLLoss(DCLOptions options, double sigma, std::shared_ptr<Communicator> comm)
    : options_(options),
      sigma_(sigma),
      comm_(comm ? std::move(comm) : single_process_communicator()) {
  LUMEN_CHECK(std::isfinite(options_.temperature) && options_.temperature != 0,
              "DCLLoss: illegal temperature ", options_.temperature,
              ": it must be finite and non-zero (lightly's default is 0.1)");
}

Tensor DCLLoss::forward(const Tensor& out0, const Tensor& out1) {
  contrastive::check_outputs(out0, out1, sigma_ > 0 ? "DCLWLoss" : "DCLLoss");
  const int64_t n = out0.size(0);
  const bool gather = options_.gather_distributed && comm_->world_size() > 1;
  contrastive::PairSimilarities p =
      contrastive::pair_similarities(out0, out1, gather ? comm_ : nullptr);
  const DType c = p.sim.dtype();
  const int64_t cols = p.sim.size(1), col_offset = int64_t(p.rank) * 2 * n;
  Tensor row_loss = Tensor::empty_on({2 * n}, c, p.sim);
  Tensor weights = sigma_ > 0 ? Tensor::empty_on({n}, c, p.sim) : Tensor();
  const double inv_t = 1.0 / options_.temperature, grad_scale = 1.0 / double(2 * n);
  dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    C* w = weights.defined() ? weights.data<C>() : nullptr;
    if (p.sim.is_cuda()) {
      LUMEN_ON_CUDA({
        if (w) {
          kernels::dcl_vmf_weights_cuda(p.sim.data<C>(), w, n, cols, col_offset, 1.0 / sigma_,
                                        stream_of(p.sim));
        }
        kernels::dcl_rows_cuda(p.sim.data<C>(), w, row_loss.data<C>(), n, cols, col_offset, inv_t,
                               grad_scale, stream_of(p.sim));
      });
    } else {
      if (w) kernels::dcl_vmf_weights_cpu(p.sim.data<C>(), w, n, cols, col_offset, 1.0 / sigma_);
      kernels::dcl_rows_cpu(p.sim.data<C>(), w, row_loss.data<C>(), n, cols, col_offset, inv_t,
                            grad_scale);
    }
  });
  return contrastive::record_pair_loss(sigma_ > 0 ? "dclw_loss" : "dcl_loss", p, row_loss, out0,
                                       out1);
}

namespace {
double checked_sigma(double sigma) {
  LUMEN_CHECK(std::isfinite(sigma) && sigma > 0, "DCLWLoss: illegal sigma ", sigma,
              ": it must be finite and positive (lightly's default is 0.5)");
  return sigma;
}
}  // namespace

DCLWLoss::DCLWLoss(DCLWOptions options, std::shared_ptr<Communicator> comm)
    : DCLLoss(DCLOptions{options.temperature, options.gather_distributed},
              checked_sigma(options.sigma), std::move(comm)) {}

}  // namespace lumen
