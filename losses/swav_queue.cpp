#include "losses/swav_queue.h"

#include "engine/autograd/tape.h"

namespace lumen {

SwaVQueue::SwaVQueue(SwaVQueueOptions options, uint64_t seed, std::shared_ptr<Communicator> comm)
    : options_(options) {
  LUMEN_CHECK(options_.n_queues > 0, "SwaVQueue: n_queues must be positive (one per ",
              "high-resolution crop), got ", options_.n_queues);
  LUMEN_CHECK(options_.start_queue_at_epoch >= 0, "SwaVQueue: start_queue_at_epoch must be >= 0, ",
              "got ", options_.start_queue_at_epoch);
  for (int i = 0; i < options_.n_queues; ++i) {
    queues_.emplace_back(options_.queue_length, seed + uint64_t(i), options_.gather_distributed,
                         comm);
  }
}

void SwaVQueue::ensure(int64_t dim, Device device, DType dtype) {
  for (MemoryBank& q : queues_) q.ensure(dim, device, dtype);
}

std::vector<Tensor> SwaVQueue::update(const std::vector<Tensor>& features, int64_t epoch) {
  LUMEN_CHECK(features.size() == queues_.size(), "SwaVQueue: ", features.size(),
              " high-resolution projections for ", queues_.size(),
              " queues; give one per queue (n_queues = the number of high-resolution crops)");
  NoGrad no_grad;
  const bool used = active(epoch);
  std::vector<Tensor> rows;
  for (size_t i = 0; i < queues_.size(); ++i) {
    check_defined(features[i], "SwaVQueue::update");
    LUMEN_CHECK(features[i].ndim() == 2, "SwaVQueue::update expects (batch, dim) projections, got ",
                features[i].str());
    queues_[i].ensure(features[i].size(1), features[i].device(), features[i].dtype());
    if (used) rows.push_back(queues_[i].bank().clone());  // before the update, as lightly's
    queues_[i].enqueue(features[i]);
  }
  return rows;
}

std::map<std::string, Tensor> SwaVQueue::state_tensors() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < queues_.size(); ++i) {
    for (const auto& [name, t] : queues_[i].state_tensors()) {
      out[std::to_string(i) + "." + name] = t;
    }
  }
  return out;
}

void SwaVQueue::load_state_tensors(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;
  for (size_t i = 0; i < queues_.size(); ++i) {
    const std::string prefix = std::to_string(i) + ".";
    std::map<std::string, Tensor> mine;
    for (const auto& [name, t] : state) {
      if (name.rfind(prefix, 0) == 0) mine[name.substr(prefix.size())] = t;
    }
    LUMEN_CHECK(!mine.empty(), "SwaVQueue::load_state_tensors: no state for queue ", i, " of ",
                queues_.size(), " (expected \"", prefix, "bank\" and \"", prefix, "pointer\")");
    queues_[i].load_state_tensors(mine);
  }
}

}  // namespace lumen
