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
    : options_(options),
      comm_(comm ? std::move(comm) : single_process_communicator()),
      bank_pointer_(Tensor::zeros({1}, DType::i64)) {
  LUMEN_CHECK(
      std::isfinite(options_.temperature) && std::fabs(options_.temperature) >= kMinTemperature,
      "NTXentLoss: illegal temperature ", options_.temperature,
      ": |temperature| must be at least 1e-8 (lightly's default is 0.5; set "
      "criterion.temperature)");
  LUMEN_CHECK(options_.memory_bank_size >= 0, "NTXentLoss: illegal memory bank size ",
              options_.memory_bank_size, ": use 0 (no bank) or a positive number of vectors");
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
  LUMEN_CHECK(bank_.size(1) == dim && bank_.dtype() == c && bank_.device() == out0.device(),
              "NTXentLoss: the memory bank holds ", bank_.str(), " but the outputs are ",
              out0.str(),
              "; keep the embedding dim, dtype and device fixed across steps, or "
              "reset the bank with set_memory_bank");
  Tensor z0 = v.z.rows(0, n), z1 = v.z.rows(n, n);
  Tensor sim_neg = Tensor::empty_on({n, size}, c, v.z);  // becomes d loss / d sim_neg
  gemm(z0, bank_, sim_neg, false, true);
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
    gemm(sim_neg, bank_, dz0, false, false);
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
  // lightly updates the bank only when the loss will be differentiated (out0 requires grad).
  if (grad_mode_enabled() && out0.requires_grad()) {
    NoGrad no_grad;
    const bool gather = options_.gather_distributed && comm_->world_size() > 1;
    enqueue(gather ? comm_->all_gather(z1) : z1);
  }
  return loss;
}

void NTXentLoss::ensure_memory_bank(int64_t dim, Device device, DType dtype) {
  LUMEN_CHECK(
      options_.memory_bank_size > 0,
      "NTXentLoss::ensure_memory_bank: this loss has no memory bank (memory_bank_size is 0)");
  LUMEN_CHECK(dim > 0, "NTXentLoss::ensure_memory_bank: dim must be positive, got ", dim);
  if (bank_.defined()) return;
  const int64_t size = options_.memory_bank_size;
  const DType c = compute_dtype(dtype);
  Tensor random = Tensor::normal({size, dim}, options_.memory_bank_seed, 0, 1, c, device);
  Tensor norms = Tensor::empty_on({size}, c, random);
  bank_ = Tensor::empty_like(random);
  contrastive::normalize_rows(random, bank_, norms);
  set_memory_bank_pointer(0);
}

int64_t NTXentLoss::memory_bank_pointer() const { return bank_pointer_.data<int64_t>()[0]; }
void NTXentLoss::set_memory_bank_pointer(int64_t pointer) {
  bank_pointer_.data<int64_t>()[0] = pointer;
}

void NTXentLoss::enqueue(const Tensor& rows) {
  const int64_t size = bank_.size(0), m = rows.size(0), pointer = memory_bank_pointer();
  LUMEN_CHECK(pointer >= 0 && pointer < size, "NTXentLoss: memory bank pointer ", pointer,
              " is outside [0, ", size, "); the restored state is corrupt");
  if (pointer + m >= size) {
    // lightly's FIFO: fill up to the end, drop what does not fit, start over at row 0.
    const int64_t fit = size - pointer;
    bank_.rows(pointer, fit).copy_from(rows.rows(0, fit));
    set_memory_bank_pointer(0);
  } else {
    bank_.rows(pointer, m).copy_from(rows);
    set_memory_bank_pointer(pointer + m);
  }
}

void NTXentLoss::set_memory_bank(const Tensor& bank, int64_t pointer) {
  check_defined(bank, "NTXentLoss::set_memory_bank");
  LUMEN_CHECK(options_.memory_bank_size > 0,
              "NTXentLoss::set_memory_bank: this loss has no memory bank (memory_bank_size is 0)");
  LUMEN_CHECK(
      bank.ndim() == 2 && bank.size(0) == options_.memory_bank_size && dtype_is_float(bank.dtype()),
      "NTXentLoss::set_memory_bank: expected a float bank of shape (", options_.memory_bank_size,
      ", dim), got ", bank.str());
  LUMEN_CHECK(pointer >= 0 && pointer < options_.memory_bank_size,
              "NTXentLoss::set_memory_bank: pointer ", pointer, " is outside [0, ",
              options_.memory_bank_size, ")");
  const DType c = compute_dtype(bank.dtype());
  bank_ = bank.detach().to(c).clone();
  set_memory_bank_pointer(pointer);
}

std::map<std::string, Tensor> NTXentLoss::state_tensors() const {
  if (!bank_.defined()) return {};
  return {{"memory_bank", bank_}, {"memory_bank_pointer", bank_pointer_}};
}

void NTXentLoss::load_state_tensors(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;
  auto bank = state.find("memory_bank");
  auto pointer = state.find("memory_bank_pointer");
  LUMEN_CHECK(bank != state.end() && pointer != state.end() && pointer->second.numel() == 1,
              "NTXentLoss::load_state_tensors: expected \"memory_bank\" and "
              "\"memory_bank_pointer\" (as written by state_tensors())");
  set_memory_bank(bank->second, int64_t(pointer->second.item()));
}

}  // namespace lumen
