// DCL and DCLW as lightly's CIFAR-10 benchmark wires them: SimCLR's network (backbone ->
// SimCLRProjectionHead(D, D, 128)) trained with the decoupled contrastive loss (temperature 0.1),
// or its weighted form (von Mises-Fisher weights, sigma 0.5). Entries: backbone.*,
// projection_head.*.
#pragma once

#include <memory>

#include "layers/methods/paired.h"
#include "losses/dcl.h"

namespace lumen {

struct DCLMethodOptions {
  int64_t hidden_dim = 0;  // 0: the backbone's feature dimension
  int64_t out_dim = 128;
  double temperature = 0.1;
  double sigma = 0;                 // > 0: DCLW with this sigma (lightly: 0.5); 0: DCL
  bool gather_distributed = false;  // negatives from every rank (lightly's)
};

class DCL : public PairedViewsMethod {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  DCL(const Backbone& backbone, const DCLMethodOptions& options,
      std::shared_ptr<Communicator> comm = nullptr);

 private:
  Tensor pair_loss(const Tensor& z0, const Tensor& z1) override { return (*criterion_)(z0, z1); }
  std::unique_ptr<DCLLoss> criterion_;
};

}  // namespace lumen
