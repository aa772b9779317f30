// VICReg as lightly's example (examples/pytorch/vicreg.py) builds it: backbone ->
// VICRegProjectionHead(D, 2048, 2048, num_layers = 2) (Linear -> BN -> ReLU -> Linear with bias)
// -> VICRegLoss (invariance 25, variance 25, covariance 1, eps 1e-4) between the two views'
// projections. Views: lightly's VICRegTransform (solarize before the blur). VICReg is not in
// lightly's CIFAR-10 benchmark; the optimizer is its ImageNet benchmark's (api/methods.cpp).
// Entries: backbone.*, projection_head.*.
#pragma once

#include <memory>

#include "layers/methods/paired.h"
#include "losses/vicreg.h"

namespace lumen {

struct VICRegMethodOptions {
  int64_t hidden_dim = 2048;
  int64_t out_dim = 2048;
  int num_layers = 2;  // of the projection head, at least 2
  VICRegOptions loss;  // 25, 25, 1, eps 1e-4, no gather
};

class VICReg : public PairedViewsMethod {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  VICReg(const Backbone& backbone, const VICRegMethodOptions& options,
         std::shared_ptr<Communicator> comm = nullptr);

 private:
  Tensor pair_loss(const Tensor& z0, const Tensor& z1) override { return criterion_(z0, z1); }
  VICRegLoss criterion_;
};

}  // namespace lumen
