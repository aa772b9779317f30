#include "layers/methods/swav.h"

#include "engine/autograd/tape.h"
#include "engine/ops/normalize.h"

namespace lumen {

SwaV::SwaV(const Backbone& backbone, const SwaVMethodOptions& o, std::shared_ptr<Communicator> comm)
    : Method(backbone), options_(o), criterion_(o.loss, comm) {
  LUMEN_CHECK(o.high_resolution_crops >= 1, "SwaV needs at least one high-resolution crop, got ",
              o.high_resolution_crops);
  head_ =
      add_child("projection_head", swav_projection_head(feature_dim(), o.hidden_dim, o.out_dim));
  prototypes_ = add_child("prototypes", std::make_unique<SwaVPrototypes>(
                                            o.out_dim, std::vector<int64_t>{o.n_prototypes}));
  if (o.queue_length > 0) {
    SwaVQueueOptions q;
    q.n_queues = int(o.high_resolution_crops);
    q.queue_length = o.queue_length;
    q.start_queue_at_epoch = o.start_queue_at_epoch;
    queue_ = std::make_unique<SwaVQueue>(q, o.seed, std::move(comm));
  }
}

void SwaV::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  if (queue_) queue_->ensure(options_.out_dim, device, params.values().dtype());
}

void SwaV::prepare_step(const MethodStep& step) {
  epoch_ = step.epoch;
  prototypes_->normalize();
}

Tensor SwaV::project(const Tensor& x) { return l2_normalize_rows((*head_)(forward(x))); }

Tensor SwaV::training_loss(const std::vector<Tensor>& views) {
  const size_t n_high = size_t(options_.high_resolution_crops);
  LUMEN_CHECK(views.size() >= n_high && views.size() >= 2, "SwaV trains on its ", n_high,
              " high-resolution crops and at least 2 views in all, got ", views.size(),
              " views; raise collate.crop_counts");
  std::vector<Tensor> high_features, high, low;
  for (size_t i = 0; i < views.size(); ++i) {
    Tensor z = project(views[i]);
    if (i < n_high) high_features.push_back(z);
    (i < n_high ? high : low).push_back((*prototypes_)(z));
  }
  std::vector<Tensor> queue_scores;
  if (queue_) {
    for (Tensor& rows : queue_->update(high_features, epoch_)) {
      NoGrad no_grad;  // the codes are computed without gradient (lightly's sinkhorn)
      queue_scores.push_back((*prototypes_)(rows));
    }
  }
  return criterion_(high, low, queue_scores);
}

std::vector<std::string> SwaV::frozen_parameters(const MethodStep& step) {
  if (step.epoch >= options_.frozen_prototype_epochs) return {};
  std::vector<std::string> names;
  for (const auto& [name, p] : prototypes_->named_parameters())
    names.push_back("prototypes." + name);
  return names;
}

NamedTensors SwaV::extra_state() {
  NamedTensors out;
  if (queue_) {
    for (auto& [name, t] : queue_->state_tensors()) out.emplace_back("queues." + name, t);
  }
  return out;
}

std::string SwaV::graph_blocker() const {
  return queue_ ? "the queues' FIFO positions and their start epoch are kept on the host" : "";
}

}  // namespace lumen
