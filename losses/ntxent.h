// NT-Xent, the contrastive loss of SimCLR, with lightly's NTXentLoss semantics:
//   - both views are L2-normalised (as F.normalize, eps 1e-12, computed in f32 or f64 whatever the
//     input dtype, so bf16/f16 outputs are safe);
//   - plain mode: each of the 2n anchors is scored against every other-view sample and every
//     same-view sample except itself; the target is its own pair; the loss is the mean
//     cross-entropy over the 2n rows;
//   - memory-bank mode (memory_bank_size > 0, MoCo style): only view 0 anchors, scored against
//     [its positive, every bank vector]; the bank (losses/memory_bank.h, lightly's
//     MemoryBankModule) is a FIFO of detached, normalised view-1 outputs, initialised with random
//     unit vectors (Philox, memory_bank_seed) and updated after the loss when the loss is
//     differentiable (grad mode on and out0 requires grad), as lightly does;
//   - gather_distributed: this rank's 2n anchors are scored against every rank's rows (gathered
//     through the Communicator), targets offset by rank; gradients flow back to every rank's rows
//     (an all-reduce in backward, so every rank must run backward). With a memory bank the gathered
//     view-1 outputs of all ranks are enqueued instead.
// The loss op records one autograd node; see kernels/ntxent.h for the fused loss/gradient pass.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"
#include "losses/memory_bank.h"

namespace lumen {

struct NTXentOptions {
  double temperature = 0.5;      // |temperature| >= 1e-8
  int64_t memory_bank_size = 0;  // 0: plain SimCLR; > 0: number of bank vectors
  bool gather_distributed = false;
  uint64_t memory_bank_seed = 0;  // seed of the bank's initial random unit vectors
};

class NTXentLoss {
 public:
  // comm: the job's communicator (default: single process); used only when gather_distributed.
  explicit NTXentLoss(NTXentOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);

  // out0, out1: (n, dim) projections of the two views, same dtype (f32, f64, bf16, f16) and
  // device. Returns the loss as a (1,) tensor: f64 for f64 inputs, f32 otherwise.
  Tensor forward(const Tensor& out0, const Tensor& out1);
  Tensor operator()(const Tensor& out0, const Tensor& out1) { return forward(out0, out1); }

  const NTXentOptions& options() const { return options_; }

  // Memory bank: (memory_bank_size, dim) unit rows in the compute dtype, on the device of the
  // outputs; undefined until the first forward (or set_memory_bank), and without a bank. The
  // pointer is the next row the FIFO writes (0 without a bank).
  const Tensor& memory_bank() const;
  int64_t memory_bank_pointer() const;
  // Creates the bank now (random unit rows) if it does not exist yet, instead of at the first
  // forward; then state_tensors() holds it from the start (e.g. before restoring a checkpoint).
  // dtype: of the outputs that will come (the bank is f32, or f64 for f64 outputs).
  void ensure_memory_bank(int64_t dim, Device device, DType dtype = DType::f32);
  // Replaces the bank (e.g. restored from a checkpoint): (memory_bank_size, dim) float rows.
  void set_memory_bank(const Tensor& bank, int64_t pointer = 0);

  // For checkpoints (resuming a memory-bank run exactly): "memory_bank" (size, dim) and
  // "memory_bank_pointer" (1,) i64 (CPU); empty without a bank or before it exists (first
  // forward or ensure_memory_bank). Live tensors: copying saved values into them restores the
  // loss, as load_state_tensors() does.
  std::map<std::string, Tensor> state_tensors() const;
  // Restores what state_tensors() returned; an empty map leaves the loss as it is.
  void load_state_tensors(const std::map<std::string, Tensor>& state);

 private:
  Tensor forward_plain(const Tensor& out0, const Tensor& out1);
  Tensor forward_bank(const Tensor& out0, const Tensor& out1);
  MemoryBank& bank(const char* caller);  // the bank, or an error naming the caller without one

  NTXentOptions options_;
  std::shared_ptr<Communicator> comm_;
  std::unique_ptr<MemoryBank> bank_;  // null when memory_bank_size is 0
};

}  // namespace lumen
