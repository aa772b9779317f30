// Collective communication between the ranks of a training job (one rank per GPU or process).
//
// Every rank must call the same collectives in the same order with tensors of the same shape and
// dtype. Implementations: SingleProcessCommunicator (here: world size 1) and InProcessGroup (ranks
// as threads of one process, for tests and for simulating multi-rank runs on one machine). The
// NCCL (one rank per GPU) and MPI communicators of DESIGN.md are not built yet.
#pragma once

#include <memory>

#include "engine/core/tensor.h"

namespace lumen {

enum class ReduceOp { sum, mean };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // out = the inputs of all ranks concatenated along dim 0 in rank order.
  //   in: (rows, ...) ; out: (world_size * rows, ...), same dtype and device as in
  virtual void all_gather(const Tensor& in, Tensor& out) = 0;
  // t = the sum (or mean) of t over all ranks, in place; every rank receives the same values.
  virtual void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum) = 0;

  // Convenience: allocates the output of all_gather.
  Tensor all_gather(const Tensor& in);
};

// The communicator of a job with one rank: all_gather copies, all_reduce leaves t as it is.
class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_gather(const Tensor& in, Tensor& out) override;
  void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum) override;
  using Communicator::all_gather;
};

// A shared single-process communicator (the default where none is given).
std::shared_ptr<Communicator> single_process_communicator();

// Checks the shapes of an all_gather call; `who` names the caller in messages.
void check_all_gather_shapes(const Tensor& in, const Tensor& out, int world_size, const char* who);

}  // namespace lumen
