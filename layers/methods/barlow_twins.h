// Barlow Twins as lightly's CIFAR-10 benchmark wires it: backbone -> a 2-layer projection head
// (Linear -> BN -> ReLU -> Linear with bias, D -> 2048 -> 2048: "a 2-layer projection head for
// cifar10 as described in the paper", where lightly's BarlowTwinsProjectionHead has 3 layers of
// 8192) -> BarlowTwinsLoss (lambda 5e-3) between the two views' projections. Views: lightly's
// BYOLTransform (its benchmarks give Barlow Twins BYOL's views). Entries: backbone.*,
// projection_head.*.
#pragma once

#include <memory>

#include "layers/methods/paired.h"
#include "losses/barlow_twins.h"

namespace lumen {

struct BarlowTwinsMethodOptions {
  int64_t hidden_dim = 2048;
  int64_t out_dim = 2048;
  BarlowTwinsOptions loss;  // lambda 5e-3, no gather
};

class BarlowTwins : public PairedViewsMethod {
 public:
  // comm: the job's communicator on the training device (gather_distributed); null: one process.
  BarlowTwins(const Backbone& backbone, const BarlowTwinsMethodOptions& options,
              std::shared_ptr<Communicator> comm = nullptr);

 private:
  Tensor pair_loss(const Tensor& z0, const Tensor& z1) override { return criterion_(z0, z1); }
  BarlowTwinsLoss criterion_;
};

}  // namespace lumen
