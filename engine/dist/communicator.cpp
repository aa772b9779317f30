#include "engine/dist/communicator.h"

namespace lumen {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

namespace {
// The work of a collective that ran when it was started.
class DoneWork final : public CollectiveWork {
 public:
  void wait() override {}
};
}  // namespace

std::unique_ptr<CollectiveWork> Communicator::all_reduce_async(Tensor& t, ReduceOp op) {
  all_reduce(t, op);
  return std::make_unique<DoneWork>();
}

Tensor Communicator::all_gather(const Tensor& in) {
  check_defined(in, "all_gather");
  LUMEN_CHECK(in.ndim() >= 1, "all_gather needs a tensor with a leading dimension, got ", in.str());
  Shape shape = in.shape();
  shape[0] *= world_size();
  Tensor out = Tensor::empty_on(shape, in.dtype(), in);
  all_gather(in, out);
  return out;
}

void check_all_gather_shapes(const Tensor& in, const Tensor& out, int world_size, const char* who) {
  check_defined(in, who);
  check_defined(out, who);
  check_same_device(in, out, who);
  check_same_dtype(in, out, who);
  Shape expected = in.shape();
  LUMEN_CHECK(!expected.empty(), who, ": all_gather needs a leading dimension, got ", in.str());
  expected[0] *= world_size;
  LUMEN_CHECK(out.shape() == expected, who, ": all_gather of ", in.str(), " over ", world_size,
              " ranks needs an output of shape ", shape_str(expected), ", got ", out.str());
}

void check_all_reduce_args(const Tensor& t, ReduceOp op, const char* who) {
  check_defined(t, who);
  LUMEN_CHECK(op != ReduceOp::mean || dtype_is_float(t.dtype()), who, ": the mean of ", t.str(),
              " is not defined for an integer dtype; reduce with sum and divide");
}

void check_broadcast_args(const Tensor& t, int root, int world_size, const char* who) {
  check_defined(t, who);
  LUMEN_CHECK(root >= 0 && root < world_size, who, ": broadcast from rank ", root,
              ", which is not a rank of a job of ", world_size);
}

void SingleProcessCommunicator::all_gather(const Tensor& in, Tensor& out) {
  check_all_gather_shapes(in, out, 1, "SingleProcessCommunicator::all_gather");
  if (in.raw_data() != out.raw_data()) out.copy_from(in);
}

void SingleProcessCommunicator::all_reduce(Tensor& t, ReduceOp op) {
  check_all_reduce_args(t, op, "SingleProcessCommunicator::all_reduce");
}

void SingleProcessCommunicator::broadcast(Tensor& t, int root) {
  check_broadcast_args(t, root, 1, "SingleProcessCommunicator::broadcast");
}

std::shared_ptr<Communicator> single_process_communicator() {
  static const std::shared_ptr<Communicator> instance =
      std::make_shared<SingleProcessCommunicator>();
  return instance;
}

bool any_rank(Communicator& comm, bool flag) {
  if (comm.world_size() == 1) return flag;
  Tensor t = Tensor::full({1}, flag ? 1.0 : 0.0, DType::i32);
  comm.all_reduce(t, ReduceOp::max);
  return t.data<int32_t>()[0] != 0;
}

void check_same_on_every_rank(Communicator& comm, const Tensor& t, const std::string& what) {
  if (comm.world_size() == 1) return;
  const Tensor host = t.to(Device::cpu());
  const auto* bytes = static_cast<const uint8_t*>(host.raw_data());
  uint64_t hash = 1469598103934665603ull;  // FNV-1a, 64 bits
  for (size_t i = 0; i < host.nbytes(); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  Tensor high = Tensor::full({1}, 0.0, DType::i64);
  high.data<int64_t>()[0] = int64_t(hash >> 1);  // non-negative, so max and min compare it
  Tensor low = high.clone();
  comm.all_reduce(high, ReduceOp::max);
  comm.all_reduce(low, ReduceOp::min);
  LUMEN_CHECK(high.data<int64_t>()[0] == low.data<int64_t>()[0], what,
              " differ between the ranks, which data parallelism keeps equal (an all-reduce that "
              "gave the ranks different results, or a rank that updated them on its own)");
}

void run_agreed(Communicator& comm, const std::string& what, const std::function<void()>& fn,
                bool rank_zero_only) {
  if (comm.world_size() == 1) {
    fn();
    return;
  }
  std::exception_ptr error;
  if (!rank_zero_only || comm.rank() == 0) {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  }
  Tensor first = Tensor::full({1}, error ? comm.rank() : comm.world_size(), DType::i32);
  comm.all_reduce(first, ReduceOp::min);
  if (error) std::rethrow_exception(error);
  const int failed = first.data<int32_t>()[0];
  LUMEN_CHECK(failed == comm.world_size(), "rank ", failed, " failed ", what,
              " (its message says why); rank ", comm.rank(), " stops with it");
}

}  // namespace lumen
