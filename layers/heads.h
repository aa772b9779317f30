// Projection heads with lightly's structure and parameter names.
//
// lightly's ProjectionHead is a list of blocks (in, out, batch norm?, activation?): each block is
// Linear(in, out, bias = no batch norm) -> BatchNorm1d -> activation, all in one nn.Sequential
// named "layers", so parameters are "layers.0.weight", "layers.1.weight" (BN), ...
#pragma once

#include <memory>
#include <vector>

#include "layers/layers.h"

namespace lumen {

struct ProjectionBlock {
  int64_t in_features;
  int64_t out_features;
  bool batch_norm;
  bool relu;
};

class ProjectionHead : public Module {
 public:
  explicit ProjectionHead(const std::vector<ProjectionBlock>& blocks);
  Tensor forward(const Tensor& x) override;  // (N, in) -> (N, out)

 private:
  Sequential* layers_;
};

// lightly's SimCLRProjectionHead: Linear -> BN -> ReLU, (num_layers - 2) more of those, then
// Linear -> BN. SimCLR uses hidden_dim = input_dim and output_dim = 128.
std::unique_ptr<ProjectionHead> simclr_projection_head(int64_t input_dim, int64_t hidden_dim,
                                                       int64_t output_dim = 128, int num_layers = 2,
                                                       bool batch_norm = true);

}  // namespace lumen
