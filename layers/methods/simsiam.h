// SimSiam as lightly's CIFAR-10 benchmark wires it: backbone -> a 2-layer projection
// (Linear -> BN -> ReLU -> Linear -> BN, D -> 2048 -> 2048, "as the paper's CIFAR-10 setup") ->
// SimSiamPredictionHead(2048, 512, 2048); the symmetric negative cosine similarity
// 0.5 * (L(z0, p1) + L(z1, p0)) with stop-gradient on the projections z. Views: lightly's
// SimSiamTransform; the default learning rate 0.06 is not scaled with the batch (the benchmark's
// choice, for stability). Entries: backbone.*, projection_head.*, prediction_head.*.
#pragma once

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "losses/negative_cosine_similarity.h"

namespace lumen {

struct SimSiamOptions {
  int64_t hidden_dim = 2048;
  int64_t out_dim = 2048;
  int64_t prediction_hidden_dim = 512;
};

class SimSiam : public Method {
 public:
  SimSiam(const Backbone& backbone, const SimSiamOptions& options);
  Tensor training_loss(const std::vector<Tensor>& views) override;

 private:
  ProjectionHead* head_;
  ProjectionHead* predictor_;
  NegativeCosineSimilarity criterion_;
};

}  // namespace lumen
