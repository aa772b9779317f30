// The queue of lightly's SwaVQueue example and benchmark (SwaVQueueModel): one MemoryBank
// (lightly's MemoryBankModule((queue_length, dim))) per high-resolution crop, holding that crop's
// L2-normalised projections from earlier steps. Each step, as lightly's _get_queue_prototypes:
//   every queue hands out the rows it holds (a detached copy, (queue_length, dim)), then takes
//   this step's projections of its crop (lightly's queue(features, update=True): FIFO, the rows
//   past the end of the bank dropped, the pointer back to 0);
//   before start_queue_at_epoch (when it is > 0) the rows are queued but not used: no rows are
//   handed out, and the loss runs without a queue.
// The method scores the rows with its prototypes (under no-grad) and passes the scores to SwaVLoss
// as queue outputs, one per high-resolution crop. lightly's benchmark: 2 queues of 384 rows
// ("reduced in order to work with a smaller dataset"), start_queue_at_epoch 15; its example 3840.
// Banks start as random unit rows (Philox normals from the seed, queue i from seed + i, where
// lightly draws torch.randn). state_tensors() gives the live banks and pointers for checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"
#include "losses/memory_bank.h"

namespace lumen {

struct SwaVQueueOptions {
  int n_queues = 2;                   // one per high-resolution crop
  int64_t queue_length = 384;         // rows per queue
  int64_t start_queue_at_epoch = 15;  // 0: from the first epoch
  bool gather_distributed = false;    // every rank's projections enqueued (MemoryBank's)
};

class SwaVQueue {
 public:
  // comm: the job's communicator (default: single process), used only when gather_distributed.
  explicit SwaVQueue(SwaVQueueOptions options = {}, uint64_t seed = 0,
                     std::shared_ptr<Communicator> comm = nullptr);

  // Whether the queued rows take part in the loss at this epoch.
  bool active(int64_t epoch) const {
    return !(options_.start_queue_at_epoch > 0 && epoch < options_.start_queue_at_epoch);
  }
  // features: one (batch, dim) per queue (the high-resolution crops' normalised projections, in
  // crop order). Returns every queue's rows as they were before this call, detached, when
  // active(epoch), else nothing; enqueues the features either way.
  std::vector<Tensor> update(const std::vector<Tensor>& features, int64_t epoch);

  // Creates the banks (random unit rows) if they do not exist yet; update() does on first use.
  void ensure(int64_t dim, Device device, DType dtype = DType::f32);
  MemoryBank& queue(int i) { return queues_.at(size_t(i)); }
  const SwaVQueueOptions& options() const { return options_; }

  // "<i>.bank" (queue_length, dim) and "<i>.pointer" (1,) i64 for every queue i, live; empty
  // before the banks exist.
  std::map<std::string, Tensor> state_tensors() const;
  // Restores what state_tensors() returned; an empty map leaves the queues as they are.
  void load_state_tensors(const std::map<std::string, Tensor>& state);

 private:
  SwaVQueueOptions options_;
  std::vector<MemoryBank> queues_;
};

}  // namespace lumen
