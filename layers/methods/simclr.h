// SimCLR (lightly's SimCLR model and its CIFAR-10 benchmark wiring): backbone ->
// SimCLRProjectionHead(D, hidden_dim, out_dim) -> NT-Xent over the two views, optionally with a
// memory bank of negatives. Entries: "backbone.*", "projection_head.layers.N.*" and, with a bank,
// "criterion.memory_bank", "criterion.memory_bank_pointer".
#pragma once

#include <memory>

#include "layers/methods/paired.h"
#include "losses/ntxent.h"

namespace lumen {

struct SimCLROptions {
  int64_t hidden_dim = 0;  // 0: the backbone's feature dimension (lightly's SimCLRProjectionHead)
  int64_t out_dim = 128;
  NTXentOptions loss;  // temperature 0.5, no memory bank
};

class SimCLR : public PairedViewsMethod {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  SimCLR(const Backbone& backbone, const SimCLROptions& options,
         std::shared_ptr<Communicator> comm = nullptr);

  void setup(ParameterBuffer& params, Device device, uint64_t seed) override;
  NamedTensors extra_state() override;
  std::string graph_blocker() const override;
  NTXentLoss& criterion() { return criterion_; }

 private:
  Tensor pair_loss(const Tensor& z0, const Tensor& z1) override { return criterion_(z0, z1); }
  SimCLROptions options_;
  NTXentLoss criterion_;
};

}  // namespace lumen
