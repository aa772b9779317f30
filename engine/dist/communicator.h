// Collective communication between the ranks of a training job (one rank per GPU or process).
//
// Every rank must call the same collectives in the same order with tensors of the same shape and
// dtype. Implementations:
//   SingleProcessCommunicator   world size 1 (here)
//   InProcessGroup              ranks as threads of one process (tests, simulations)
//   MPI                         CPU tensors, one rank per process (engine/dist/mpi_runtime.h)
//   NCCL                        CUDA tensors, one rank per GPU (engine/dist/nccl_communicator.h)
// Failures throw lumen::Error naming the rank and the collective. A collective that waits longer
// than timeout() for the other ranks fails the same way (communicators whose collectives wait on
// other processes: MPI, NCCL).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/core/tensor.h"

namespace lumen {

// mean: the sum divided by the world size (float dtypes only); max, min: elementwise.
enum class ReduceOp { sum, mean, max, min };
const char* reduce_op_name(ReduceOp op);

// A collective started by an *_async call. wait() returns once its result is in place (on a GPU:
// once the tensor's stream is ordered after it, without blocking the host).
class CollectiveWork {
 public:
  virtual ~CollectiveWork() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // out = the inputs of all ranks concatenated along dim 0 in rank order.
  //   in: (rows, ...) ; out: (world_size * rows, ...), same dtype and device as in
  virtual void all_gather(const Tensor& in, Tensor& out) = 0;
  // t = the reduction of t over all ranks, in place; every rank receives the same values.
  virtual void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum) = 0;
  // t = root's t, in place on every rank.
  virtual void broadcast(Tensor& t, int root = 0) = 0;
  // Returns once every rank has entered it.
  virtual void barrier() = 0;
  // Starts all_reduce(t, op); t must be neither read nor written until wait() has returned. The
  // default runs it at once.
  virtual std::unique_ptr<CollectiveWork> all_reduce_async(Tensor& t, ReduceOp op = ReduceOp::sum);

  // How long (seconds) a collective may wait for the other ranks before it fails naming itself; 0:
  // no limit. Ignored by communicators that never wait on another process.
  virtual void set_timeout(double seconds) {}
  virtual double timeout() const { return 0; }

  // Convenience: allocates the output of all_gather.
  Tensor all_gather(const Tensor& in);
};

// The communicator of a job with one rank: all_gather copies, the others leave t as it is.
class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_gather(const Tensor& in, Tensor& out) override;
  void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& t, int root = 0) override;
  void barrier() override {}
  using Communicator::all_gather;
};

// A shared single-process communicator (the default where none is given).
std::shared_ptr<Communicator> single_process_communicator();

// Checks the shapes of an all_gather call; `who` names the caller in messages.
void check_all_gather_shapes(const Tensor& in, const Tensor& out, int world_size, const char* who);
// Checks the arguments every implementation checks: t defined, mean only for float dtypes, root a
// rank of the job.
void check_all_reduce_args(const Tensor& t, ReduceOp op, const char* who);
void check_broadcast_args(const Tensor& t, int root, int world_size, const char* who);

// Lifts comm's collective time limit for its lifetime, for waits on rank-local work of unbounded
// length (rank 0 building the image cache, kNN monitoring); a rank that dies is still noticed by
// the watchdog (engine/dist/mpi_runtime.h).
class UntimedWaits {
 public:
  explicit UntimedWaits(Communicator& comm) : comm_(comm), limit_(comm.timeout()) {
    comm_.set_timeout(0);
  }
  ~UntimedWaits() { comm_.set_timeout(limit_); }
  UntimedWaits(const UntimedWaits&) = delete;
  UntimedWaits& operator=(const UntimedWaits&) = delete;

 private:
  Communicator& comm_;
  double limit_;
};

// Whether any rank passes true (one all_reduce of a flag; every rank gets the same answer). comm
// must take CPU tensors (the single-process, in-process and MPI communicators do).
bool any_rank(Communicator& comm, bool flag);

// Throws, on every rank, when t does not hold the same bytes on every rank (one hash of t, reduced
// with max and min); the message names `what`. t: any device; comm as for any_rank.
void check_same_on_every_rank(Communicator& comm, const Tensor& t, const std::string& what);

// Runs fn on every rank (or on rank 0 alone, the others waiting, when rank_zero_only), then agrees
// on the outcome: when fn threw on some rank every rank throws, its own exception where fn threw
// and elsewhere an Error naming the first rank that failed and `what`, so that the ranks stop
// together instead of waiting for each other. comm as for any_rank.
void run_agreed(Communicator& comm, const std::string& what, const std::function<void()>& fn,
                bool rank_zero_only = false);

}  // namespace lumen
