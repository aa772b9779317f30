// DINO as lightly's CIFAR-10 benchmark wires it (DINOModel): backbone -> DINOProjectionHead(D,
// 2048, 256, 2048, batch_norm=True) with the benchmark's two-layer MLP (dino_cifar10_head_options)
// for the student; the teacher is a momentum copy of backbone and head (no gradient), moved
// towards the student after each step by lightly's update_momentum with the momentum schedule
// (default lightly's DINO example and ImageNet benchmark: cosine_schedule from 0.996 to 1 over the
// run; the CIFAR-10 benchmark keeps 0.99); the teacher sees the first n_global_views views (the
// global crops of DINOTransform), the student every view, each view through the network on its
// own (its own batch norm statistics); DINOLoss (teacher temperature with its warm-up by epoch,
// student temperature 0.1, centre momentum 0.9), whose centre moves after each loss. The last
// layer is left out of the optimizer's step for the epochs below freeze_last_layer (lightly's
// cancel_last_layer_gradients; -1, the head's default: never).
// lightly builds the teacher head anew (its own initialisation) where the paper and this copy it
// from the student.
// Entries: backbone.*, head.*, teacher_backbone.*, teacher_head.*, criterion.center.
#pragma once

#include <memory>

#include "layers/dino_head.h"
#include "layers/methods/method.h"
#include "layers/methods/momentum_schedule.h"
#include "layers/momentum.h"
#include "losses/dino.h"

namespace lumen {

struct DINOMethodOptions {
  int64_t hidden_dim = 2048;
  int64_t bottleneck_dim = 256;
  int64_t out_dim = 2048;
  int64_t freeze_last_layer = -1;
  int64_t n_global_views = 2;
  DINOOptions loss;  // output_dim is out_dim
  MomentumSchedule momentum{0.996, true};
};

class DINO : public Method {
 public:
  // comm: the job's communicator on the training device (the centre's mean over the ranks);
  // null: one process.
  DINO(const Backbone& backbone, const DINOMethodOptions& options,
       std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  void prepare_step(const MethodStep& step) override;
  Tensor training_loss(const std::vector<Tensor>& views) override;
  void after_update() override { teacher_.update(momentum_); }
  std::vector<Module*> frozen_networks() override { return {&teacher_.root()}; }
  std::vector<std::string> frozen_parameters(const MethodStep& step) override;
  NamedTensors extra_state() override;
  std::string graph_blocker() const override;

 private:
  DINOMethodOptions options_;
  DINOProjectionHead* head_;
  MomentumCopy teacher_;
  Module* teacher_backbone_;
  DINOProjectionHead* teacher_head_;
  DINOLoss criterion_;
  double momentum_ = 0;
  int64_t epoch_ = 0;
};

}  // namespace lumen
