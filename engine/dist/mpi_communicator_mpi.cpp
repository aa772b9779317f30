// The MPI communicator: CPU tensors, every collective started non-blocking and waited for with a
// deadline, every call checked (see engine/dist/mpi_runtime.h).
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>

#include "engine/dist/host_reduce.h"
#include "engine/dist/mpi_internal.h"
#include "engine/dist/mpi_runtime.h"

namespace lumen::mpi {

std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}

namespace {

using Clock = std::chrono::steady_clock;

// MPI has no bf16 or f16: they travel as 2-byte elements and are reduced by these user ops.
template <DType D, ReduceOp O>
void half_op(void* in, void* inout, int* length, MPI_Datatype*) {
  reduce_host(inout, in, *length, D, O);
}

class MpiCommunicator;

// A collective in flight: the request, what it is (for messages), and the tensor it writes.
struct Pending {
  MPI_Request request = MPI_REQUEST_NULL;
  std::string what;  // "all_reduce sum of (1024) f32 (4.0 KB)"
  uint64_t number = 0;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm parent) {
    check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup", "creating the communicator");
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler",
          "creating the communicator");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank", "creating the communicator");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size", "creating the communicator");
    check(MPI_Type_contiguous(2, MPI_BYTE, &half_), "MPI_Type_contiguous", "a 16-bit type");
    check(MPI_Type_commit(&half_), "MPI_Type_commit", "a 16-bit type");
    MPI_Op_create(&half_op<DType::bf16, ReduceOp::sum>, 1, &bf16_ops_[0]);
    MPI_Op_create(&half_op<DType::bf16, ReduceOp::max>, 1, &bf16_ops_[1]);
    MPI_Op_create(&half_op<DType::bf16, ReduceOp::min>, 1, &bf16_ops_[2]);
    MPI_Op_create(&half_op<DType::f16, ReduceOp::sum>, 1, &f16_ops_[0]);
    MPI_Op_create(&half_op<DType::f16, ReduceOp::max>, 1, &f16_ops_[1]);
    MPI_Op_create(&half_op<DType::f16, ReduceOp::min>, 1, &f16_ops_[2]);
  }
  ~MpiCommunicator() override {
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (finalized) return;  // MPI_Finalize freed everything
    for (MPI_Op& op : bf16_ops_) MPI_Op_free(&op);
    for (MPI_Op& op : f16_ops_) MPI_Op_free(&op);
    MPI_Type_free(&half_);
    MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  void set_timeout(double seconds) override { timeout_ = seconds; }
  double timeout() const override { return timeout_; }

  void all_gather(const Tensor& in, Tensor& out) override {
    check_all_gather_shapes(in, out, size_, "MPI all_gather");
    require_cpu(in, "all_gather");
    Pending p = describe("all_gather", in);
    const int count = element_count(in, p);
    check(MPI_Iallgather(in.raw_data(), count, type_of(in.dtype()), out.raw_data(), count,
                         type_of(in.dtype()), comm_, &p.request),
          "MPI_Iallgather", p);
    wait(p);
  }

  void all_reduce(Tensor& t, ReduceOp op) override { all_reduce_async(t, op)->wait(); }

  std::unique_ptr<CollectiveWork> all_reduce_async(Tensor& t, ReduceOp op) override;

  void broadcast(Tensor& t, int root) override {
    check_broadcast_args(t, root, size_, "MPI broadcast");
    require_cpu(t, "broadcast");
    Pending p = describe("broadcast from rank " + std::to_string(root), t);
    check(
        MPI_Ibcast(t.raw_data(), element_count(t, p), type_of(t.dtype()), root, comm_, &p.request),
        "MPI_Ibcast", p);
    wait(p);
  }

  void barrier() override {
    Pending p;
    p.what = "barrier";
    p.number = ++collectives_;
    check(MPI_Ibarrier(comm_, &p.request), "MPI_Ibarrier", p);
    wait(p);
  }

  // Waits for p's request: polls (yielding the core after a short spin, so oversubscribed ranks
  // make progress), and fails naming it once the timeout is past.
  void wait(Pending& p) {
    const Clock::time_point start = Clock::now();
    for (int polls = 0;; ++polls) {
      int done = 0;
      check(MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), "MPI_Test", p);
      if (done) return;
      if (polls > 64) {
        if (polls < 4096) {
          sched_yield();
        } else {
          usleep(50);
        }
      }
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (timeout_ > 0 && waited > timeout_) {
        const std::string silent = silent_ranks(1.5);  // three heartbeats missed
        LUMEN_FAIL(who(), ": ", p.what, " (collective ", p.number, ") has waited ", int64_t(waited),
                   " s for the other ranks, past the timeout of ", timeout_,
                   " s (trainer.dist_timeout): ",
                   silent.empty() ? "every rank is alive; the ranks called different collectives, "
                                    "or one is stuck in long work"
                                  : silent);
      }
    }
  }

  void check(int code, const char* function, const Pending& p) const {
    if (code == MPI_SUCCESS) return;
    LUMEN_FAIL(who(), ": ", p.what, " (collective ", p.number, ") failed in ", function, ": ",
               error_text(code));
  }
  void check(int code, const char* function, const char* what) const {
    if (code == MPI_SUCCESS) return;
    LUMEN_FAIL(who(), ": ", what, " failed in ", function, ": ", error_text(code));
  }

  Pending describe(const std::string& name, const Tensor& t) {
    Pending p;
    char size[32];
    const double bytes = double(t.nbytes());
    if (bytes >= 1 << 20) {
      std::snprintf(size, sizeof(size), "%.1f MB", bytes / (1 << 20));
    } else {
      std::snprintf(size, sizeof(size), "%.1f KB", bytes / 1024);
    }
    p.what = "MPI " + name + " of " + t.str() + " (" + size + ")";
    p.number = ++collectives_;
    return p;
  }

 private:
  // A mean is reduced as a sum (then scaled).
  static ReduceOp reduced_as(ReduceOp op) { return op == ReduceOp::mean ? ReduceOp::sum : op; }

  MPI_Op op_of(ReduceOp op, DType dtype) {
    const int i = op == ReduceOp::max ? 1 : op == ReduceOp::min ? 2 : 0;
    if (dtype == DType::bf16) return bf16_ops_[i];
    if (dtype == DType::f16) return f16_ops_[i];
    return i == 1 ? MPI_MAX : i == 2 ? MPI_MIN : MPI_SUM;
  }

  std::string who() const {
    return "rank " + std::to_string(rank_) + " of " + std::to_string(size_);
  }

  void require_cpu(const Tensor& t, const char* collective) const {
    LUMEN_CHECK(!t.is_cuda(), who(), ": MPI ", collective, " of ", t.str(),
                ": the MPI communicator moves CPU tensors; CUDA tensors go through NCCL");
  }

  int element_count(const Tensor& t, const Pending& p) const {
    LUMEN_CHECK(t.numel() <= INT_MAX, who(), ": ", p.what, " has more than 2^31 - 1 elements, ",
                "more than one MPI call takes; reduce it in parts");
    return int(t.numel());
  }

  MPI_Datatype type_of(DType t) const {
    switch (t) {
      case DType::f32:
        return MPI_FLOAT;
      case DType::f64:
        return MPI_DOUBLE;
      case DType::bf16:
      case DType::f16:
        return half_;
      case DType::u8:
        return MPI_UINT8_T;
      case DType::i32:
        return MPI_INT32_T;
      case DType::i64:
        return MPI_INT64_T;
    }
    LUMEN_FAIL("no MPI type for dtype ", int(t));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_ = 600;
  uint64_t collectives_ = 0;
  MPI_Datatype half_ = MPI_DATATYPE_NULL;
  MPI_Op bf16_ops_[3] = {MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL};
  MPI_Op f16_ops_[3] = {MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL};
};

// An all_reduce in flight; wait() finishes it (a mean is a sum scaled by 1 / world size).
class MpiWork final : public CollectiveWork {
 public:
  MpiWork(MpiCommunicator& comm, Tensor t, ReduceOp op, Pending p)
      : comm_(comm), t_(std::move(t)), op_(op), pending_(std::move(p)) {}
  void wait() override {
    comm_.wait(pending_);
    if (op_ == ReduceOp::mean) {
      scale_host(t_.raw_data(), t_.numel(), t_.dtype(), 1.0 / comm_.world_size());
    }
  }

 private:
  MpiCommunicator& comm_;
  Tensor t_;
  ReduceOp op_;
  Pending pending_;
};

std::unique_ptr<CollectiveWork> MpiCommunicator::all_reduce_async(Tensor& t, ReduceOp op) {
  check_all_reduce_args(t, op, "MPI all_reduce");
  require_cpu(t, "all_reduce");
  Pending p = describe(std::string("all_reduce ") + reduce_op_name(op), t);
  check(MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), element_count(t, p), type_of(t.dtype()),
                       op_of(reduced_as(op), t.dtype()), comm_, &p.request),
        "MPI_Iallreduce", p);
  return std::make_unique<MpiWork>(*this, t, op, std::move(p));
}

}  // namespace

std::shared_ptr<Communicator> make_communicator(MPI_Comm parent) {
  return std::make_shared<MpiCommunicator>(parent);
}

}  // namespace lumen::mpi
