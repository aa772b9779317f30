#include "engine/dist/in_process_group.h"

#include "engine/autograd/tape.h"
#include "engine/dist/host_reduce.h"

namespace lumen {

namespace {

class InProcessCommunicator final : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<InProcessGroup> group, int rank)
      : group_(std::move(group)), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return group_->world_size(); }

  void all_gather(const Tensor& in, Tensor& out) override {
    check_all_gather_shapes(in, out, world_size(), "InProcessGroup::all_gather");
    NoGrad no_grad;
    group_->deposit(rank_, in.detach());
    group_->barrier();
    const int64_t rows = in.size(0);
    for (int r = 0; r < world_size(); ++r) {
      const Tensor& part = group_->slot(r);
      LUMEN_CHECK(part.shape() == in.shape() && part.dtype() == in.dtype(),
                  "InProcessGroup::all_gather: rank ", r, " gave ", part.str(), " but rank ", rank_,
                  " gave ", in.str(), "; every rank must pass the same shape and dtype");
      Tensor dst = out.rows(r * rows, rows);
      dst.copy_from(part);
    }
    group_->barrier();  // nobody overwrites a slot before every rank has read it
  }

  void all_reduce(Tensor& t, ReduceOp op) override {
    check_all_reduce_args(t, op, "InProcessGroup::all_reduce");
    NoGrad no_grad;
    group_->deposit(rank_, t.detach());
    group_->barrier();
    // Every rank reduces in rank order, on the host, so all ranks get bit-identical results.
    Tensor total = group_->slot(0).to(Device::cpu()).clone();
    for (int r = 1; r < world_size(); ++r) {
      const Tensor& part = group_->slot(r);
      LUMEN_CHECK(part.shape() == t.shape() && part.dtype() == t.dtype(),
                  "InProcessGroup::all_reduce: rank ", r, " gave ", part.str(), " but rank ", rank_,
                  " gave ", t.str(), "; every rank must pass the same shape and dtype");
      const Tensor host = part.to(Device::cpu());
      reduce_host(total.raw_data(), host.raw_data(), total.numel(), total.dtype(),
                  op == ReduceOp::mean ? ReduceOp::sum : op);
    }
    if (op == ReduceOp::mean) {
      scale_host(total.raw_data(), total.numel(), total.dtype(), 1.0 / world_size());
    }
    group_->barrier();
    t.copy_from(total);
  }

  void broadcast(Tensor& t, int root) override {
    check_broadcast_args(t, root, world_size(), "InProcessGroup::broadcast");
    NoGrad no_grad;
    group_->deposit(rank_, t.detach());
    group_->barrier();
    const Tensor& from = group_->slot(root);
    LUMEN_CHECK(from.shape() == t.shape() && from.dtype() == t.dtype(),
                "InProcessGroup::broadcast: rank ", root, " sends ", from.str(), " but rank ",
                rank_, " receives into ", t.str(),
                "; every rank must pass the same shape and dtype");
    Tensor copy = from.to(Device::cpu()).clone();
    group_->barrier();  // the root overwrites nothing before every rank has read
    if (rank_ != root) t.copy_from(copy);
  }

  void barrier() override { group_->barrier(); }
  using Communicator::all_gather;

 private:
  std::shared_ptr<InProcessGroup> group_;
  int rank_;
};

}  // namespace

InProcessGroup::InProcessGroup(int world_size) : world_size_(world_size), slots_(world_size) {}

std::shared_ptr<InProcessGroup> InProcessGroup::create(int world_size) {
  LUMEN_CHECK(world_size >= 1, "InProcessGroup: world size must be at least 1, got ", world_size);
  return std::shared_ptr<InProcessGroup>(new InProcessGroup(world_size));
}

std::shared_ptr<Communicator> InProcessGroup::communicator(int rank) {
  LUMEN_CHECK(rank >= 0 && rank < world_size_, "InProcessGroup: rank ", rank, " is outside [0, ",
              world_size_, ")");
  return std::make_shared<InProcessCommunicator>(shared_from_this(), rank);
}

void InProcessGroup::deposit(int rank, const Tensor& t) {
  std::lock_guard<std::mutex> lock(mutex_);
  slots_[size_t(rank)] = t;
}

void InProcessGroup::barrier() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t generation = generation_;
  if (++waiting_ == world_size_) {
    waiting_ = 0;
    ++generation_;
    arrived_.notify_all();
    return;
  }
  arrived_.wait(lock, [&] { return generation_ != generation; });
}

}  // namespace lumen
