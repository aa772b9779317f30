#include "losses/ntxent.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "engine/ops/reduce.h"
#include "kernels/ntxent.h"
#include "losses/contrastive.h"

namespace lumen {

namespace {

using contrastive::compute_dtype;
using contrastive::dispatch_compute;

constexpr double kMinTemperature = 1e-8;

}  // namespace

NTXentLoss::NTXentLoss(NTXentOptions options, std::shared_ptr<Communicator> comm)
    : options_(options), comm_(comm ? std::move(comm) : single_process_communicator()) {
  LUMEN_CHECK(
      std::isfinite(options_.temperature) && std::fabs(options_.temperature) >= kMinTemperature,
      "NTXentLoss: illegal temperature ", options_.temperature,
      ": |temperature| must be at least 1e-8 (lightly's default is 0.5; set "
      "criterion.temperature)");
  LUMEN_CHECK(options_.memory_bank_size >= 0, "NTXentLoss: illegal memory bank size ",
              options_.memory_bank_size, ": use 0 (no bank) or a positive number of vectors");
  if (options_.memory_bank_size > 0) {
    bank_ = std::make_unique<MemoryBank>(options_.memory_bank_size, options_.memory_bank_seed,
                                         options_.gather_distributed, comm_);
  }
}

Tensor NTXentLoss::forward(const Tensor& out0, const Tensor& out1) {
  contrastive::check_outputs(out0, out1, "NTXentLoss");
  return options_.memory_bank_size > 0 ? forward_bank(out0, out1) : forward_plain(out0, out1);
}

Tensor NTXentLoss::forward_plain(const Tensor& out0, const Tensor& out1) {
  const int64_t n = out0.size(0);
  const bool gather = options_.gather_distributed && comm_->world_size() > 1;
  contrastive::PairSimilarities p =
      contrastive::pair_similarities(out0, out1, gather ? comm_ : nullptr);
  const int64_t cols = p.sim.size(1);
  Tensor row_loss = Tensor::empty_on({2 * n}, p.sim.dtype(), p.sim);
  const double inv_t = 1.0 / options_.temperature, grad_scale = 1.0 / double(2 * n);
  dispatch_compute(p.sim.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (p.sim.is_cuda()) {
      LUMEN_ON_CUDA(kernels::ntxent_rows_cuda(p.sim.data<C>(), row_loss.data<C>(), n, cols,
                                              int64_t(p.rank) * 2 * n, inv_t, grad_scale,
                                              stream_of(p.sim)));
    } else {
      kernels::ntxent_rows_cpu(p.sim.data<C>(), row_loss.data<C>(), n, cols,
                               int64_t(p.rank) * 2 * n, inv_t, grad_scale);
    }
  });
  return contrastive::record_pair_loss("ntxent_loss", p, row_loss, out0, out1);
}

Tensor NTXentLoss::forward_bank(const Tensor& out0, const Tensor& out1) {
  const int64_t n = out0.size(0), dim = out0.size(1), size = options_.memory_bank_size;
  contrastive::NormalizedViews v = contrastive::normalize_views(out0, out1);
  const DType c = v.z.dtype();
  ensure_memory_bank(dim, out0.device(), out0.dtype());
  const Tensor& bank = bank_->bank();
  LUMEN_CHECK(bank.size(1) == dim && bank.dtype() == c && bank.device() == out0.device(),
              "NTXentLoss: the memory bank holds ", bank.str(), " but the outputs are ", out0.str(),
              "; keep the embedding dim, dtype and device fixed across steps, or "
              "reset the bank with set_memory_bank");
  Tensor z0 = v.z.rows(0, n), z1 = v.z.rows(n, n);
  Tensor sim_neg = Tensor::empty_on({n, size}, c, v.z);  // becomes d loss / d sim_neg
  gemm(z0, bank, sim_neg, false, true);
  Tensor pos_grad = Tensor::empty_on({n}, c, v.z);
  Tensor row_loss = Tensor::empty_on({n}, c, v.z);
  const double inv_t = 1.0 / options_.temperature, grad_scale = 1.0 / double(n);
  dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    if (v.z.is_cuda()) {
      LUMEN_ON_CUDA(kernels::ntxent_bank_rows_cuda(z0.data<C>(), z1.data<C>(), sim_neg.data<C>(),
                                                   pos_grad.data<C>(), row_loss.data<C>(), n, dim,
                                                   size, inv_t, grad_scale, stream_of(v.z)));
    } else {
      kernels::ntxent_bank_rows_cpu(z0.data<C>(), z1.data<C>(), sim_neg.data<C>(),
                                    pos_grad.data<C>(), row_loss.data<C>(), n, dim, size, inv_t,
                                    grad_scale);
    }
  });
  Tensor loss;
  {
    NoGrad no_grad;
    loss = mean(row_loss);
  }
  if (needs_record({out0, out1})) {
    // The bank changes after this call, so the gradient of the normalised views is formed now
    // (the bank is not differentiated): dz0 = dS_neg @ bank + g_pos * z1, dz1 = g_pos * z0.
    Tensor dz = Tensor::empty_like(v.z);
    Tensor dz0 = dz.rows(0, n), dz1 = dz.rows(n, n);
    gemm(sim_neg, bank, dz0, false, false);
    dispatch_compute(c, [&](auto tag) {
      using C = decltype(tag);
      if (v.z.is_cuda()) {
        LUMEN_ON_CUDA(kernels::ntxent_positive_backward_cuda(
            z0.data<C>(), z1.data<C>(), pos_grad.data<C>(), dz0.data<C>(), dz1.data<C>(), n, dim,
            stream_of(v.z)));
      } else {
        kernels::ntxent_positive_backward_cpu(z0.data<C>(), z1.data<C>(), pos_grad.data<C>(),
                                              dz0.data<C>(), dz1.data<C>(), n, dim);
      }
    });
    record_op("ntxent_loss_memory_bank", loss, {out0, out1},
              [v, dz, out0 = out0.detach(), out1 = out1.detach()](const Tensor& dy,
                                                                  const std::vector<bool>&) {
                return contrastive::view_gradients(v, dz, dy, out0, out1);
              });
  }
  // lightly updates the bank only when the loss will be differentiated (out0 requires grad); with
  // gather_distributed the bank takes every rank's view 1.
  if (grad_mode_enabled() && out0.requires_grad()) bank_->enqueue(z1);
  return loss;
}

MemoryBank& NTXentLoss::bank(const char* caller) {
  LUMEN_CHECK(bank_ != nullptr, "NTXentLoss::", caller,
              ": this loss has no memory bank (memory_bank_size is 0)");
  return *bank_;
}

void NTXentLoss::ensure_memory_bank(int64_t dim, Device device, DType dtype) {
  bank("ensure_memory_bank").ensure(dim, device, dtype);
}

const Tensor& NTXentLoss::memory_bank() const {
  static const Tensor none;
  return bank_ ? bank_->bank() : none;
}

int64_t NTXentLoss::memory_bank_pointer() const { return bank_ ? bank_->pointer() : 0; }

void NTXentLoss::set_memory_bank(const Tensor& bank_rows, int64_t pointer) {
  check_defined(bank_rows, "NTXentLoss::set_memory_bank");
  bank("set_memory_bank").set(bank_rows, pointer);
}

std::map<std::string, Tensor> NTXentLoss::state_tensors() const {
  if (!bank_ || !bank_->defined()) return {};
  const std::map<std::string, Tensor> s = bank_->state_tensors();
  return {{"memory_bank", s.at("bank")}, {"memory_bank_pointer", s.at("pointer")}};
}

void NTXentLoss::load_state_tensors(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;
  auto b = state.find("memory_bank");
  auto pointer = state.find("memory_bank_pointer");
  LUMEN_CHECK(b != state.end() && pointer != state.end() && pointer->second.numel() == 1,
              "NTXentLoss::load_state_tensors: expected \"memory_bank\" and "
              "\"memory_bank_pointer\" (as written by state_tensors())");
  set_memory_bank(b->second, int64_t(pointer->second.item()));
}

}  // namespace lumen
