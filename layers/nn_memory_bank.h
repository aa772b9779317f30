// lightly's NNMemoryBankModule, NNCLR's support set: a MemoryBank (losses/memory_bank.h) of raw,
// detached outputs that replaces each output row by its nearest bank row.
//   forward(output, update): for each row of output the bank row of highest cosine similarity
//   (both L2-normalised for the comparison; engine/ops/nearest.h), returned as stored (not
//   normalised), looked up in the bank as it was before this call; then, when update, output is
//   enqueued detached (lightly's FIFO; stored as given, not normalised).
// The bank starts as random unit rows (Philox from the seed, where lightly uses torch.randn) of
// the first output's dim, and lives in f32 (f64 for f64 outputs), as lightly's float bank. The
// neighbours come back in output's dtype (lightly returns its f32 bank rows), so that a bf16
// projection and its neighbour feed the same loss; they carry no gradient (lightly's do not
// either: NNCLR detaches the projections it looks up).
//
//   NNMemoryBank nn(65536);
//   Tensor z0_nn = nn(z0.detach(), false), z1_nn = nn(z1.detach(), true);
//   loss = 0.5 * (ntxent(z0_nn, p1) + ntxent(z1_nn, p0));
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "losses/memory_bank.h"

namespace lumen {

class NNMemoryBank {
 public:
  explicit NNMemoryBank(int64_t size = 65536, uint64_t seed = 0);

  // output: (n, dim) float -> (n, dim) nearest bank rows in output's dtype, on its device
  Tensor forward(const Tensor& output, bool update = false);
  Tensor operator()(const Tensor& output, bool update = false) { return forward(output, update); }

  MemoryBank& memory_bank() { return bank_; }
  const MemoryBank& memory_bank() const { return bank_; }
  // "bank" and "pointer", live (see MemoryBank::state_tensors); empty before the bank exists
  // (the first forward, or memory_bank().ensure(dim, device, dtype)).
  std::map<std::string, Tensor> state_tensors() const { return bank_.state_tensors(); }
  void load_state_tensors(const std::map<std::string, Tensor>& state) {
    bank_.load_state_tensors(state);
  }

 private:
  MemoryBank bank_;
};

}  // namespace lumen
