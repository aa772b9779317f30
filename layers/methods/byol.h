// BYOL as lightly's CIFAR-10 benchmark wires it: backbone -> BYOLProjectionHead(D, 1024, 256) ->
// BYOLPredictionHead(256, 1024, 256) online; a momentum copy of backbone and projection head as
// the target (m = 0.99, lightly's update_momentum on parameters only); the symmetric negative
// cosine similarity 0.5 * (L(p0, z1) + L(p1, z0)), targets without gradient. Views: lightly's
// BYOLTransform (asymmetric blur and solarization). Entries: backbone.*, projection_head.*,
// prediction_head.*, backbone_momentum.*, projection_head_momentum.*.
#pragma once

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "layers/methods/momentum_schedule.h"
#include "layers/momentum.h"
#include "losses/negative_cosine_similarity.h"

namespace lumen {

struct BYOLOptions {
  int64_t hidden_dim = 1024;
  int64_t out_dim = 256;
  int64_t prediction_hidden_dim = 1024;
  MomentumSchedule momentum;
};

class BYOL : public Method {
 public:
  BYOL(const Backbone& backbone, const BYOLOptions& options);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  void prepare_step(const MethodStep& step) override { momentum_ = options_.momentum.at(step); }
  Tensor training_loss(const std::vector<Tensor>& views) override;
  void after_update() override { target_.update(momentum_); }
  std::vector<Module*> frozen_networks() override { return {&target_.root()}; }
  std::string graph_blocker() const override;

 private:
  Tensor online(const Tensor& x);  // (N, H, W, 3) -> predictions (N, out_dim)
  Tensor target(const Tensor& x);  // (N, H, W, 3) -> target projections (N, out_dim), no grad

  BYOLOptions options_;
  ProjectionHead* head_;
  ProjectionHead* predictor_;
  MomentumCopy target_;
  Module* target_backbone_;
  ProjectionHead* target_head_;
  NegativeCosineSimilarity criterion_;
  double momentum_ = 0;
};

}  // namespace lumen
