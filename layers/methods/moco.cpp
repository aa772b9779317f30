#include "layers/methods/moco.h"

#include "engine/autograd/tape.h"
#include "engine/ops/batch_shuffle.h"
#include "engine/ops/elementwise.h"

namespace lumen {

MoCo::MoCo(const Backbone& backbone, const MoCoOptions& options, std::shared_ptr<Communicator> comm)
    : Method(backbone),
      options_(options),
      comm_(comm ? std::move(comm) : single_process_communicator()),
      criterion_(options.loss, comm_) {
  LUMEN_CHECK(options.loss.memory_bank_size > 0,
              "MoCo needs a memory bank of keys: criterion.memory_bank_size must be positive");
  const int64_t d = feature_dim();
  const int64_t hidden = options.hidden_dim > 0 ? options.hidden_dim : d;
  head_ = add_child("projection_head", moco_projection_head(d, hidden, options.out_dim));
  key_backbone_ = target_.add("backbone_momentum", backbone.make(), this->backbone());
  key_head_ = target_.add("projection_head_momentum",
                          moco_projection_head(d, hidden, options.out_dim), *head_);
}

void MoCo::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  target_.finalize();
  criterion_.ensure_memory_bank(options_.out_dim, device, params.values().dtype());
}

void MoCo::prepare_step(const MethodStep& step) {
  momentum_ = options_.momentum.at(step);
  step_ = step.global_step;
}

Tensor MoCo::keys(const Tensor& x, int64_t shuffle_step) {
  NoGrad no_grad;
  // lightly's batch_shuffle / batch_unshuffle: the key encoder's batch norm sees the batch in
  // another order (on one rank its statistics are those of the same images); with several ranks
  // each rank's key encoder sees rows of every rank's batch (batch_shuffle_distributed).
  const BatchShuffle s = batch_shuffle(x, options_.seed, shuffle_step, comm_.get());
  return batch_unshuffle((*key_head_)((*key_backbone_)(s.batch)), s, comm_.get());
}

Tensor MoCo::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "MoCo trains on 2 views, got ", views.size());
  const int64_t shuffle = 2 * step_;  // one shuffle per half of the symmetric loss
  Tensor q0 = (*head_)(forward(views[0]));
  Tensor loss_1 = criterion_(q0, keys(views[1], shuffle));
  Tensor q1 = (*head_)(forward(views[1]));
  Tensor loss_2 = criterion_(q1, keys(views[0], shuffle + 1));
  return scale(add(loss_1, loss_2), 0.5);
}

void MoCo::after_update() { target_.update(momentum_); }

NamedTensors MoCo::extra_state() {
  NamedTensors out;
  for (auto& [name, t] : criterion_.state_tensors()) out.emplace_back("criterion." + name, t);
  return out;
}

std::string MoCo::graph_blocker() const {
  return "the memory bank's FIFO position and the key batch's shuffle are chosen on the host";
}

}  // namespace lumen
