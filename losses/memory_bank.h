// lightly's MemoryBankModule: a FIFO of detached outputs, the negatives of MoCo-style NT-Xent and
// NNCLR's support set (layers/nn_memory_bank.h).
//   - size entries of dim features, (size, dim) in the compute dtype (f32; f64 for f64 outputs),
//     on the outputs' device; dim is taken from the first batch unless ensure() says it first;
//   - starts as random unit rows: normal draws (Philox, keyed by the seed, where lightly uses
//     torch.randn) normalised as F.normalize;
//   - enqueue(rows) writes rows detached at the pointer; when pointer + rows >= size only the rows
//     that fit are written and the pointer wraps to 0 (lightly's rule: the rest of that batch is
//     dropped);
//   - gather_distributed: every rank's rows are gathered (in rank order) and enqueued on every
//     rank, so the banks stay equal.
// The pointer is a host counter (a (1,) i64 CPU tensor), so the FIFO position never waits for
// the GPU. state_tensors() gives the live bank and pointer for checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

class MemoryBank {
 public:
  // size > 0 entries; comm: the job's communicator (default: single process), used only when
  // gather_distributed.
  explicit MemoryBank(int64_t size, uint64_t seed = 0, bool gather_distributed = false,
                      std::shared_ptr<Communicator> comm = nullptr);

  int64_t size() const { return size_; }
  bool defined() const { return bank_.defined(); }
  // (size, dim) in the compute dtype; undefined until ensure(), set() or the first enqueue().
  const Tensor& bank() const { return bank_; }
  int64_t pointer() const;  // the next row the FIFO writes

  // Creates the bank (random unit rows, pointer 0) if it does not exist yet. dtype: of the
  // outputs that will come (the bank is f32, or f64 for f64 outputs).
  void ensure(int64_t dim, Device device, DType dtype = DType::f32);
  // rows: (m, dim) float on the bank's device (created from them if it does not exist); written
  // detached, converted to the bank's dtype, under NoGrad.
  void enqueue(const Tensor& rows);
  // Replaces the bank (e.g. restored from a checkpoint): (size, dim) float rows, pointer in
  // [0, size).
  void set(const Tensor& bank, int64_t pointer = 0);

  // "bank" (size, dim) and "pointer" (1,) i64 (CPU), live: copying saved values into them restores
  // the bank. Empty before the bank exists.
  std::map<std::string, Tensor> state_tensors() const;
  // Restores what state_tensors() returned; an empty map leaves the bank as it is.
  void load_state_tensors(const std::map<std::string, Tensor>& state);

 private:
  void set_pointer(int64_t pointer);

  int64_t size_;
  uint64_t seed_;
  bool gather_distributed_;
  std::shared_ptr<Communicator> comm_;
  Tensor bank_;
  Tensor pointer_;  // (1,) i64 on the CPU
};

}  // namespace lumen
