// MoCo v2 as lightly's CIFAR-10 benchmark wires it: backbone -> MoCoProjectionHead(D, hidden, 128)
// for the queries; a momentum copy of both (backbone_momentum, projection_head_momentum) for the
// keys, each step moved towards the online weights (lightly's update_momentum, m = 0.99); NT-Xent
// at temperature 0.1 against a memory bank of 4096 keys; lightly's batch shuffle of the key batch
// (across ranks in a data-parallel run);
// the symmetric loss 0.5 * (L(q0, k1) + L(q1, k0)), the bank taking the keys of each half in turn.
// Entries: backbone.*, projection_head.*, backbone_momentum.*, projection_head_momentum.*,
// criterion.memory_bank, criterion.memory_bank_pointer.
#pragma once

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "layers/methods/momentum_schedule.h"
#include "layers/momentum.h"
#include "losses/ntxent.h"

namespace lumen {

struct MoCoOptions {
  int64_t hidden_dim = 0;  // 0: the backbone's feature dimension
  int64_t out_dim = 128;
  NTXentOptions loss{0.1, 4096};
  MomentumSchedule momentum;
  uint64_t seed = 0;  // of the key batch's shuffle
};

class MoCo : public Method {
 public:
  // comm: the job's communicator on the training device: with more than one rank the key batch
  // is shuffled across ranks (lightly's batch_shuffle_distributed) and, with
  // loss.gather_distributed, the bank takes every rank's keys. Null: one process.
  MoCo(const Backbone& backbone, const MoCoOptions& options,
       std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  void prepare_step(const MethodStep& step) override;
  Tensor training_loss(const std::vector<Tensor>& views) override;
  void after_update() override;
  std::vector<Module*> frozen_networks() override { return {&target_.root()}; }
  NamedTensors extra_state() override;
  std::string graph_blocker() const override;

 private:
  // (N, H, W, 3) -> (N, out_dim) keys, without gradient; the shuffle drawn for shuffle_step
  Tensor keys(const Tensor& x, int64_t shuffle_step);

  MoCoOptions options_;
  ProjectionHead* head_;
  MomentumCopy target_;
  Module* key_backbone_;
  ProjectionHead* key_head_;
  std::shared_ptr<Communicator> comm_;
  NTXentLoss criterion_;
  double momentum_ = 0;
  int64_t step_ = 0;
};

}  // namespace lumen
