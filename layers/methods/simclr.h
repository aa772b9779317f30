// SimCLR (lightly's SimCLR model and its CIFAR-10 benchmark wiring): backbone ->
// SimCLRProjectionHead(D, hidden_dim, out_dim) -> NT-Xent over the two views, optionally with a
// memory bank of negatives. Entries: "backbone.*", "projection_head.layers.N.*" and, with a bank,
// "criterion.memory_bank", "criterion.memory_bank_pointer".
#pragma once

#include <memory>

#include "layers/heads.h"
#include "layers/methods/method.h"
#include "losses/ntxent.h"

namespace lumen {

struct SimCLROptions {
  int64_t hidden_dim = 0;  // 0: the backbone's feature dimension (lightly's SimCLRProjectionHead)
  int64_t out_dim = 128;
  NTXentOptions loss;  // temperature 0.5, no memory bank
};

class SimCLR : public Method {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  SimCLR(const Backbone& backbone, const SimCLROptions& options,
         std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  Tensor training_loss(const std::vector<Tensor>& views) override;
  NamedTensors extra_state() override;
  std::string graph_blocker() const override;

  // (N, H, W, 3) -> projections (N, out_dim)
  Tensor project(const Tensor& x) { return (*head_)(forward(x)); }
  ProjectionHead& projection_head() { return *head_; }
  NTXentLoss& criterion() { return criterion_; }

 private:
  SimCLROptions options_;
  ProjectionHead* head_;
  NTXentLoss criterion_;
};

}  // namespace lumen
