// A group of ranks that are threads of one process: the communicator used to test and simulate
// multi-rank training on one machine (each thread runs its rank's step with its own autograd
// tape). Collectives block until every rank of the group has entered them.
//
//   auto group = InProcessGroup::create(4);
//   std::thread t([&] { auto comm = group->communicator(1); ... });
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/dist/communicator.h"

namespace lumen {

class InProcessGroup : public std::enable_shared_from_this<InProcessGroup> {
 public:
  static std::shared_ptr<InProcessGroup> create(int world_size);
  int world_size() const { return world_size_; }
  // The communicator of one rank (use each from one thread only).
  std::shared_ptr<Communicator> communicator(int rank);

  // Internals used by the rank communicators.
  void deposit(int rank, const Tensor& t);
  const Tensor& slot(int rank) const { return slots_[size_t(rank)]; }
  void barrier();

 private:
  explicit InProcessGroup(int world_size);
  int world_size_;
  std::vector<Tensor> slots_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  int waiting_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace lumen
