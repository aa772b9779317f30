#include "losses/memory_bank.h"

#include "engine/autograd/tape.h"
#include "losses/contrastive.h"

namespace lumen {

MemoryBank::MemoryBank(int64_t size, uint64_t seed, bool gather_distributed,
                       std::shared_ptr<Communicator> comm)
    : size_(size),
      seed_(seed),
      gather_distributed_(gather_distributed),
      comm_(comm ? std::move(comm) : single_process_communicator()),
      pointer_(Tensor::zeros({1}, DType::i64)) {
  LUMEN_CHECK(size > 0, "MemoryBank: illegal size ", size, ": it must hold at least one entry");
}

int64_t MemoryBank::pointer() const { return pointer_.data<int64_t>()[0]; }
void MemoryBank::set_pointer(int64_t pointer) { pointer_.data<int64_t>()[0] = pointer; }

void MemoryBank::ensure(int64_t dim, Device device, DType dtype) {
  LUMEN_CHECK(dim > 0, "MemoryBank::ensure: dim must be positive, got ", dim);
  if (bank_.defined()) return;
  const DType c = contrastive::compute_dtype(dtype);
  Tensor random = Tensor::normal({size_, dim}, seed_, 0, 1, c, device);
  Tensor norms = Tensor::empty_on({size_}, c, random);
  bank_ = Tensor::empty_like(random);
  contrastive::normalize_rows(random, bank_, norms);
  set_pointer(0);
}

void MemoryBank::enqueue(const Tensor& rows_in) {
  check_defined(rows_in, "MemoryBank::enqueue");
  LUMEN_CHECK(rows_in.ndim() == 2 && dtype_is_float(rows_in.dtype()),
              "MemoryBank::enqueue expects float rows (batch, dim), got ", rows_in.str());
  NoGrad no_grad;
  ensure(rows_in.size(1), rows_in.device(), rows_in.dtype());
  LUMEN_CHECK(rows_in.size(1) == bank_.size(1) && rows_in.device() == bank_.device(),
              "MemoryBank: the bank holds ", bank_.str(), " but the rows to enqueue are ",
              rows_in.str(), "; keep the embedding dim and device fixed across steps");
  const bool gather = gather_distributed_ && comm_->world_size() > 1;
  const Tensor rows = gather ? comm_->all_gather(rows_in.detach()) : rows_in.detach();
  const int64_t m = rows.size(0), p = pointer();
  LUMEN_CHECK(p >= 0 && p < size_, "MemoryBank: pointer ", p, " is outside [0, ", size_,
              "); the restored state is corrupt");
  if (p + m >= size_) {
    // lightly's FIFO: fill up to the end, drop what does not fit, start over at row 0.
    const int64_t fit = size_ - p;
    bank_.rows(p, fit).copy_from(rows.rows(0, fit));
    set_pointer(0);
  } else {
    bank_.rows(p, m).copy_from(rows);
    set_pointer(p + m);
  }
}

void MemoryBank::set(const Tensor& bank, int64_t pointer) {
  check_defined(bank, "MemoryBank::set");
  LUMEN_CHECK(
      bank.ndim() == 2 && bank.size(0) == size_ && bank.size(1) > 0 && dtype_is_float(bank.dtype()),
      "MemoryBank::set: expected a float bank of shape (", size_, ", dim), got ", bank.str());
  LUMEN_CHECK(pointer >= 0 && pointer < size_, "MemoryBank::set: pointer ", pointer,
              " is outside [0, ", size_, ")");
  bank_ = bank.detach().to(contrastive::compute_dtype(bank.dtype())).clone();
  set_pointer(pointer);
}

std::map<std::string, Tensor> MemoryBank::state_tensors() const {
  if (!bank_.defined()) return {};
  return {{"bank", bank_}, {"pointer", pointer_}};
}

void MemoryBank::load_state_tensors(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;
  auto bank = state.find("bank");
  auto pointer = state.find("pointer");
  LUMEN_CHECK(bank != state.end() && pointer != state.end() && pointer->second.numel() == 1,
              "MemoryBank::load_state_tensors: expected \"bank\" and \"pointer\" (as written by "
              "state_tensors())");
  set(bank->second, int64_t(pointer->second.item()));
}

}  // namespace lumen
